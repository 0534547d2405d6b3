"""Seeded random module trees and operations, run the same way on ember and on torch.

``run_case(lib, seed)`` builds a random tree of ``Sequential`` / ``ModuleList`` /
``ModuleDict``, custom modules (parameters, ``None`` parameters, persistent, non-persistent
and ``None`` buffers, a child that may become ``None``) and standard layers, with shared
submodules and shared parameters, edits it (container editing, attribute deletion and
reassignment), then applies random operations. Every decision comes from one
``numpy.random.Generator`` seeded with ``seed``, so both libraries see the same program as
long as they agree; every outcome (a value, or an exception's type and message) goes into a
log of plain Python data, and the two logs must match entry by entry.
"""
from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

_CLASSES: dict = {}


def _classes(lib):
    """The custom module classes, defined once per library (``Leaf`` and ``Branch``)."""
    if lib.__name__ in _CLASSES:
        return _CLASSES[lib.__name__]
    nn = lib.nn

    class Leaf(nn.Module):
        """Adds the sum of each floating parameter and of ``rm`` to its input."""

        def __init__(self, tag, extra):
            super().__init__()
            self.tag = tag
            self.extra = extra
            self.boom = False

        def forward(self, x, scale=None):
            if self.boom:
                raise ValueError(f"boom in {self.tag}")
            for p in self.parameters(recurse=False):
                x = x + p.sum()
            rm = self._buffers.get("rm")
            if rm is not None and rm.is_floating_point():
                x = x + rm.sum()
            if "sub" in self._modules and self.sub is not None:
                x = self.sub(x)
            return x if scale is None else x * scale

        def extra_repr(self):
            return self.extra

    class Branch(nn.Module):
        """Runs its ModuleList, then its ModuleDict's values, one after another."""

        def __init__(self, ml, md):
            super().__init__()
            self.ml = ml
            self.md = md

        def forward(self, x):
            if self.ml is not None:
                for m in self.ml:
                    x = m(x)
            if self.md is not None:
                for m in self.md.values():
                    x = m(x)
            return x

    class Extra(Leaf):
        """A Leaf with extra state (its tag) in the state dict."""

        def get_extra_state(self):
            return {"tag": getattr(self, "tag", None)}

        def set_extra_state(self, state):
            self.tag = state["tag"] if isinstance(state, dict) else repr(state)

    _CLASSES[lib.__name__] = Leaf, Branch, Extra
    return Leaf, Branch, Extra


def _dt(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _norm(msg: str) -> str:
    """An error message with ember's module paths spelled as torch's."""
    msg = msg.split("\n\nWhy: ")[0]  # ember's own explanation after torch's message
    msg = msg.replace("ember.", "torch.").replace("'ember'", "'torch'")
    return re.sub(r" at 0x[0-9a-f]+", " at 0x?", msg)


class Case:
    """One fuzz case on one library: the tree, the random stream and the log."""

    def __init__(self, lib, seed):
        self.lib = lib
        self.nn = lib.nn
        self.rng = np.random.default_rng(seed)
        self.log: list = []
        self._ids: dict = {}
        self._alive: list = []
        self.params: list = []      # every Parameter made, for sharing
        self.shareable: list = []   # childless modules, safe to put anywhere
        self.dtype = "float32"
        self.Leaf, self.Branch, self.Extra = _classes(lib)

    # --- helpers ------------------------------------------------------------------------
    def pick(self, seq):
        """One element of ``seq`` (None when empty)."""
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))] if seq else None

    def coin(self, p=0.5) -> bool:
        """True with probability ``p``."""
        return bool(self.rng.random() < p)

    def ref(self, obj):
        """A small int naming ``obj`` (numbered in order of first sight), or None."""
        if obj is None:
            return None
        key = id(obj)
        if key not in self._ids:
            self._ids[key] = len(self._ids)
            self._alive.append(obj)
        return self._ids[key]

    def known(self, obj):
        """``ref(obj)`` when ``obj`` was seen before, else ``"new"``."""
        return self._ids.get(id(obj), "new")

    def tensor(self, shape, dtype=None):
        """A fresh random tensor of ``shape``."""
        arr = self.rng.standard_normal(shape).astype(dtype or self.dtype)
        return self.lib.tensor(arr)

    def flag(self, m):
        """``m.training`` (a ParameterDict entry named "training" replaces the flag)."""
        flag = getattr(m, "training", "missing")
        return flag if isinstance(flag, (bool, str)) else self.val(flag)

    def val(self, t):
        """A tensor as plain data: ``("T", dtype, shape, values)``."""
        if t is None:
            return None
        if not isinstance(t, self.lib.Tensor):
            plain = isinstance(t, (int, float, str, dict))
            return ("obj", type(t).__name__, _norm(repr(t)) if plain else "")
        arr = t.detach().numpy()
        return ("T", _dt(t.dtype), tuple(t.shape), np.array(arr, dtype=np.float64))

    def record(self, label, fn):
        """Run ``fn`` and log its result (or its exception); return the result or None."""
        try:
            out = fn()
        except Exception as e:  # noqa: BLE001 - every outcome is compared
            self.log.append((label, ("ERR", type(e).__name__, _norm(str(e)))))
            return None
        return out

    def note(self, label, value):
        """Log ``value`` under ``label``."""
        self.log.append((label, value))

    # --- building -----------------------------------------------------------------------
    def param(self):
        """A new Parameter (sometimes frozen), remembered for sharing."""
        shape = self.pick([(2,), (), (1,), (2, 3), (3,)])
        p = self.nn.Parameter(self.tensor(shape), requires_grad=self.coin(0.85))
        self.params.append(p)
        return p

    def leaf(self, with_sub=True):
        """A custom module with a random mix of members."""
        extra = self.pick(["", "", "k=1", "a=1\nb=2"])
        m = (self.Extra if self.coin(0.2) else self.Leaf)(f"L{len(self.params)}", extra)
        m.w = self.param()
        if self.coin(0.5):
            m.register_parameter("b", None if self.coin(0.5) else self.param())
        if self.coin(0.3) and self.params:
            m.shared = self.pick(self.params)  # a Parameter reached under two names
        if self.coin(0.6):
            m.register_buffer("rm", self.tensor((2,)))
        if self.coin(0.4):
            m.register_buffer("tmp", self.tensor((2,)), persistent=False)
        if self.coin(0.3):
            m.register_buffer("nb", None, persistent=self.coin())
        if self.coin(0.3):
            m.register_buffer("count", self.lib.tensor(np.array(3, dtype=np.int64)))
        if with_sub and self.coin(0.3):
            m.sub = self.std()
        if with_sub and self.coin(0.25):
            m.aux = self.zoo()  # held, never called
        if self.coin(0.2):
            m.pl = self.nn.ParameterList(self.pvalues(int(self.rng.integers(0, 4))))
        if self.coin(0.2):
            pairs = list(zip(("k", "c", "a"), self.pvalues(3)))[: self.rng.integers(0, 4)]
            m.pd = self.nn.ParameterDict(self.pick([dict, OrderedDict, list])(pairs))
        return m

    def pvalues(self, n):
        """Entries for a ParameterList / ParameterDict: parameters, tensors, objects."""
        return [self.pick([self.param, lambda: self.tensor((2,)), lambda: 7,
                           lambda: self.pick(self.params)])() for _ in range(n)]

    def std(self):
        """A standard layer with random (seeded) weights."""
        nn = self.nn
        kind = self.pick(["linear", "bn", "relu", "identity", "tanh", "linear", "other"])
        if kind == "linear":
            m = nn.Linear(2, 2, bias=self.coin(0.7))
        elif kind == "bn":
            m = nn.BatchNorm1d(2, affine=self.coin(0.7), track_running_stats=self.coin(0.8),
                               momentum=self.pick([0.1, None, 0.5]))
        elif kind == "other":  # more layers that map (3, 2) to (3, 2)
            # (no LayerNorm / GroupNorm over 2 features: their +-1 outputs make a following
            # BatchNorm divide rounding noise by a near-zero variance)
            m = self.pick([
                lambda: nn.PReLU(), lambda: nn.Dropout(0.0), lambda: nn.LeakyReLU(0.2),
                lambda: nn.RMSNorm(2), lambda: nn.Softmax(dim=1), lambda: nn.ELU(alpha=0.5),
                lambda: nn.Hardtanh(-0.5, 0.5)])()
        else:
            m = {"relu": nn.ReLU, "identity": nn.Identity, "tanh": nn.Tanh}[kind]()
        with self.lib.no_grad():
            for p in m.parameters():
                p.copy_(self.tensor(tuple(p.shape), "float32"))
        return m.to(getattr(self.lib, self.dtype))

    def zoo(self):
        """A layer of another kind, only held (its state, names and repr are compared)."""
        nn = self.nn
        m = self.pick([
            lambda: nn.Conv1d(2, 3, 3, bias=self.coin(), padding=self.pick([0, 1, "same"])),
            lambda: nn.Embedding(5, 2, padding_idx=self.pick([None, 0, -1])),
            lambda: nn.LSTM(2, 3, num_layers=self.pick([1, 2]), bidirectional=self.coin(),
                            bias=self.coin(0.7), batch_first=self.coin()),
            lambda: nn.GRU(2, 3) if self.coin() else nn.RNN(2, 3, bias=False),
            lambda: nn.LSTM(2, 4, proj_size=2),
            lambda: nn.MultiheadAttention(4, 2, bias=self.coin(), add_bias_kv=self.coin(),
                                          kdim=self.pick([None, 3]), vdim=self.pick([None, 3])),
            lambda: nn.InstanceNorm1d(2, affine=self.coin(), track_running_stats=self.coin()),
            lambda: nn.BatchNorm2d(3), lambda: nn.ConvTranspose1d(2, 2, 2, groups=2),
            lambda: nn.Bilinear(2, 2, 3), lambda: nn.EmbeddingBag(4, 2, mode="max"),
            lambda: nn.LSTMCell(2, 3), lambda: nn.Conv2d(1, 2, (2, 1), stride=2, bias=False),
            lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, norm_first=self.coin()),
            lambda: nn.LayerNorm(2, elementwise_affine=self.coin(0.7), bias=self.coin()),
            lambda: nn.GroupNorm(1, 2, affine=self.coin()),
        ])()
        with self.lib.no_grad():
            for p in m.parameters():
                p.copy_(self.tensor(tuple(p.shape), "float32"))
        return m.to(getattr(self.lib, self.dtype))

    def fresh(self, depth=0):
        """A new module: childless (shareable) or, while ``depth`` allows, a container."""
        roll = self.rng.random()
        if depth >= 3 or roll < 0.45:
            m = self.std() if self.coin(0.5) else self.leaf(with_sub=False)
            m = m.to(getattr(self.lib, self.dtype))
            self.shareable.append(m)
            return m
        if self.coin(0.15) and self.shareable:
            return self.pick(self.shareable)
        if roll < 0.7:
            return self.sequential(depth + 1)
        if roll < 0.8:
            return self.leaf(with_sub=True)
        ml = self.nn.ModuleList([self.fresh(depth + 1) for _ in range(self.rng.integers(0, 3))])
        keys = self.rng.permutation(["a", "b", "head", "z1"])[: self.rng.integers(0, 3)]
        md = self.nn.ModuleDict(OrderedDict((str(k), self.fresh(depth + 1)) for k in keys))
        return self.Branch(ml, md)

    def sequential(self, depth):
        """A Sequential of positional children or of named ones (an OrderedDict)."""
        n = int(self.rng.integers(0, 4))
        kids = [self.fresh(depth) for _ in range(n)]
        if self.coin(0.3):
            names = self.rng.permutation(["enc", "dec", "mid", "x7"])[:n]
            return self.nn.Sequential(OrderedDict(zip((str(s) for s in names), kids)))
        return self.nn.Sequential(*kids)

    def build(self):
        """The root: always a Sequential, so that it can be called."""
        self.root = self.nn.Sequential(*[self.fresh(1) for _ in range(self.rng.integers(1, 4))])
        return self.root

    # --- views of the tree --------------------------------------------------------------
    def modules_of(self, kind=None):
        """The tree's distinct modules (of class ``kind``)."""
        mods = [m for _, m in self.root.named_modules()]
        return [m for m in mods
                if kind is None or kind in [k.__name__ for k in type(m).__mro__]]

    def snap(self, label, module=None):
        """Log the whole observable state of ``module`` (the root by default)."""
        m = self.root if module is None else module
        mods = [(n, self.ref(x), type(x).__name__, self.flag(x)) for n, x in m.named_modules()]
        dup = [(n, self.ref(x)) for n, x in m.named_modules(prefix="r", remove_duplicate=False)]
        params = [(n, self.ref(p), type(p).__name__, p.requires_grad, self.val(p),
                   self.val(p.grad)) for n, p in m.named_parameters()]
        pdup = [(n, self.ref(p)) for n, p in m.named_parameters(remove_duplicate=False)]
        bufs = [(n, self.ref(b), self.val(b)) for n, b in m.named_buffers()]
        bdup = [(n, self.ref(b)) for n, b in m.named_buffers(remove_duplicate=False)]
        sd = m.state_dict()
        sdv = [(k, self.val(v), self.known(v)) for k, v in sd.items()]
        meta = [(k, dict(v)) for k, v in getattr(sd, "_metadata", {}).items()]
        self.note(label, dict(mods=mods, dup=dup, params=params, pdup=pdup, bufs=bufs,
                              bdup=bdup, sd=sdv, meta=meta))

    # --- edits --------------------------------------------------------------------------
    def insertable(self, bad=True):
        """A module to insert: fresh, shared (childless) or, rarely, None or not a module."""
        roll = self.rng.random()
        if roll < 0.5:
            return self.fresh(2)
        if roll < 0.9 and self.shareable:
            return self.pick(self.shareable)
        # NOTE: ModuleList.insert files anything, even an int, and breaks the tree (torch too)
        return self.pick([None, 3 if bad else None, self.nn.ReLU()])

    def edit_sequential(self, seq):
        """One random Sequential edit, its outcome logged."""
        n = len(seq)
        op = self.pick(["get", "slice", "append", "insert", "extend", "pop", "del", "delslice",
                        "set", "add", "iadd", "mul", "rmul", "imul", "popslice"])
        idx = int(self.rng.integers(-n - 1, n + 1))
        if self.coin(0.05):
            idx = self.pick(["0", 1.0, slice(0, 1), np.int64(0)])
        s = slice(*[self.pick([None, -2, -1, 0, 1, 2]) for _ in range(2)],
                  self.pick([None, 1, 2, -1]))
        names = lambda m: [(k, self.ref(v)) for k, v in m._modules.items()]  # noqa: E731
        if op == "get":
            out = self.record("seq.get", lambda: self.ref(seq[idx]))
        elif op == "slice":
            out = self.record("seq.slice", lambda: (type(seq[s]).__name__, names(seq[s])))
        elif op == "append":
            out = self.record("seq.append", lambda: self.ref(seq.append(self.insertable())))
        elif op == "insert":
            out = self.record("seq.insert", lambda: self.ref(seq.insert(idx, self.insertable())))
        elif op == "extend":
            out = self.record("seq.extend", lambda: self.ref(
                seq.extend([self.insertable() for _ in range(self.rng.integers(0, 3))])))
        elif op == "pop":
            out = self.record("seq.pop", lambda: self.ref(seq.pop(idx)))
        elif op == "del":
            def act():
                del seq[idx]
            out = self.record("seq.del", act)
        elif op == "delslice":
            def act():
                del seq[s]
            out = self.record("seq.delslice", act)
        elif op == "set":
            def act():
                seq[idx] = self.insertable()
            out = self.record("seq.set", act)
        elif op == "add":
            other = self.nn.Sequential(self.fresh(2)) if self.coin(0.8) else self.nn.ModuleList()
            out = self.record("seq.add", lambda: names(seq + other))
        elif op == "iadd":
            def act():
                nonlocal seq
                seq += self.nn.Sequential(self.insertable())
            out = self.record("seq.iadd", act)
        elif op == "mul":
            out = self.record("seq.mul", lambda: names(seq * int(self.rng.integers(-1, 3))))
        elif op == "rmul":
            out = self.record("seq.rmul", lambda: names(self.pick([2, 0, 1.5]) * seq))
        elif op == "popslice":
            out = self.record("seq.popslice", lambda: names(seq.pop(s)))
        else:
            def act():
                nonlocal seq
                seq *= self.pick([2, 1, 0])
            out = self.record("seq.imul", act)
        self.note(f"seq.{op}.out", (out, names(seq), len(seq)))

    def edit_modulelist(self, ml):
        """One random ModuleList edit."""
        n = len(ml)
        op = self.pick(["get", "slice", "append", "insert", "extend", "pop", "del", "set",
                        "add", "iadd", "delslice"])
        idx = int(self.rng.integers(-n - 1, n + 1))
        if self.coin(0.05) and op != "insert":
            idx = self.pick(["0", 1.0, np.int64(0)])
        s = slice(self.pick([None, -1, 0, 1]), self.pick([None, -1, 2]), self.pick([None, 2]))
        names = lambda m: [(k, self.ref(v)) for k, v in m._modules.items()]  # noqa: E731
        if op == "get":
            out = self.record("ml.get", lambda: self.ref(ml[idx]))
        elif op == "slice":
            out = self.record("ml.slice", lambda: (type(ml[s]).__name__, names(ml[s])))
        elif op == "append":
            out = self.record("ml.append", lambda: self.ref(ml.append(self.insertable())))
        elif op == "insert":
            out = self.record("ml.insert", lambda: ml.insert(idx, self.insertable(bad=False)))
        elif op == "extend":
            arg = [self.insertable() for _ in range(self.rng.integers(0, 3))]
            arg = arg if self.coin(0.9) else self.nn.ReLU()
            out = self.record("ml.extend", lambda: self.ref(ml.extend(arg)))
        elif op == "pop":
            out = self.record("ml.pop", lambda: self.ref(ml.pop(idx)))
        elif op in ("del", "delslice"):
            def act():
                del ml[idx if op == "del" else s]
            out = self.record("ml.del", act)
        elif op == "set":
            def act():
                ml[idx] = self.insertable()
            out = self.record("ml.set", act)
        elif op == "add":
            other = self.pick([[self.fresh(2)], self.nn.ModuleList([self.fresh(2)]),
                               self.nn.Sequential(self.fresh(2)), 3])
            out = self.record("ml.add", lambda: (type(ml + other).__name__, names(ml + other)))
        else:
            def act():
                nonlocal ml
                ml += [self.insertable()]
            out = self.record("ml.iadd", act)
        self.note(f"ml.{op}.out", (out, names(ml), len(ml)))

    def edit_moduledict(self, md):
        """One random ModuleDict edit."""
        op = self.pick(["update", "pop", "del", "set", "keys", "contains", "clear", "get"])
        key = self.pick(list(md.keys()) + ["a", "q", "training", "update", "x.y", ""])
        names = lambda m: [(k, self.ref(v)) for k, v in m._modules.items()]  # noqa: E731
        if op == "update":
            kind = self.pick(["dict", "pairs", "md", "bad", "badpair"])
            keys = [str(k) for k in self.rng.permutation(["b", "q", "a", "r"])[:2]]
            pairs = [(k, self.fresh(2)) for k in keys]
            arg = {"dict": OrderedDict(pairs), "pairs": pairs, "md": self.nn.ModuleDict(pairs),
                   "bad": self.fresh(2), "badpair": [("k",), ("j", self.fresh(2))]}[kind]
            out = self.record("md.update", lambda: md.update(arg))
        elif op == "pop":
            out = self.record("md.pop", lambda: self.ref(md.pop(key)))
        elif op == "del":
            def act():
                del md[key]
            out = self.record("md.del", act)
        elif op == "set":
            def act():
                md[key] = self.insertable()
            out = self.record("md.set", act)
        elif op == "keys":
            out = (list(md.keys()), [self.ref(v) for v in md.values()],
                   [(k, self.ref(v)) for k, v in md.items()], list(md))
        elif op == "contains":
            out = key in md
        elif op == "clear":
            out = self.record("md.clear", md.clear) if self.coin(0.3) else None
        else:
            out = self.record("md.get", lambda: self.ref(md[key]))
        self.note(f"md.{op}.out", (out, names(md), len(md)))

    def edit_leaf(self, leaf):
        """Delete, reassign or re-register one of a custom module's members."""
        nn = self.nn
        name = self.pick(["w", "b", "shared", "rm", "tmp", "nb", "count", "sub", "tag", "zz"])
        op = self.pick(["del", "param", "tensor", "none", "module", "buffer", "regbuf",
                        "regparam", "regbuf_np"])
        values = {"param": lambda: self.param(), "tensor": lambda: self.tensor((2,)),
                  "none": lambda: None,
                  # NOTE: a Leaf, not any layer: the "cannot assign 'X' as parameter" message
                  # names the class by its module path, and some of ember's layers live in
                  # files of other names (nn.modules.activation_more.PReLU); reported
                  "module": lambda: self.leaf(with_sub=False),
                  "buffer": lambda: nn.Buffer(self.tensor((2,)), persistent=self.coin())}

        def act():
            if op == "del":
                delattr(leaf, name)
            elif op == "regbuf":
                leaf.register_buffer(name, self.tensor((2,)))
            elif op == "regbuf_np":
                leaf.register_buffer(name, self.tensor((2,)), persistent=False)
            elif op == "regparam":
                leaf.register_parameter(name, self.param())
            else:
                setattr(leaf, name, values[op]())
        self.record(f"leaf.{op}.{name}", act)
        self.note("leaf.members", (list(leaf._parameters), list(leaf._buffers),
                                   sorted(leaf._non_persistent_buffers_set),
                                   list(leaf._modules), self.val(getattr(leaf, name, "-"))))

    def edit(self):
        """One random edit somewhere in the tree."""
        kinds = ["Sequential", "ModuleList", "ModuleDict", "Leaf", "Branch", "ParameterList",
                 "ParameterDict"]
        kind = self.pick(kinds)
        target = self.pick(self.modules_of(kind))
        if target is None:
            return
        if kind == "Sequential":
            self.edit_sequential(target)
        elif kind == "ModuleList":
            self.edit_modulelist(target)
        elif kind == "ModuleDict":
            self.edit_moduledict(target)
        elif kind == "Leaf":
            self.edit_leaf(target)
        elif kind == "ParameterList":
            self.edit_paramlist(target)
        elif kind == "ParameterDict":
            self.edit_paramdict(target)
        else:
            attr = self.pick(["ml", "md"])
            value = self.pick([None, self.nn.ModuleList(), self.tensor((1,)), 4])
            self.record("branch.set", lambda: setattr(target, attr, value))
            self.note("branch.members", list(target._modules))

    def pentries(self, m):
        """A ParameterList's / ParameterDict's registrations, and how it lists itself."""
        listed = (list(m.keys()) if hasattr(m, "keys") else list(range(len(m))))
        return (list(m._parameters), sorted(k for k in m.__dict__ if k.isdigit() or k in "kcaz"),
                listed, [self.val(v) if not isinstance(v, int) else v for v in
                         (m.values() if hasattr(m, "keys") else m)], len(m))

    def edit_paramlist(self, pl):
        """One random ParameterList edit."""
        n = len(pl)
        op = self.pick(["get", "slice", "append", "extend", "set", "iadd", "call", "dir"])
        idx = int(self.rng.integers(-n - 1, n + 1))
        value = self.pvalues(1)[0]
        if op == "get":
            out = self.record("pl.get", lambda: self.val(pl[idx]))
        elif op == "slice":
            s = slice(self.pick([None, -1, 1]), self.pick([None, 2]), self.pick([None, 2, -1]))
            out = self.record("pl.slice", lambda: self.pentries(pl[s]))
        elif op == "append":
            out = self.record("pl.append", lambda: self.ref(pl.append(value)))
        elif op == "extend":
            arg = self.pick([[value], self.tensor((2,)), 3, (value, value)])
            out = self.record("pl.extend", lambda: self.ref(pl.extend(arg)))
        elif op == "set":
            def act():
                pl[idx] = value
            out = self.record("pl.set", act)
        elif op == "iadd":
            def act():
                nonlocal pl
                pl += [value]
            out = self.record("pl.iadd", act)
        elif op == "call":
            out = self.record("pl.call", lambda: pl(self.tensor((2,))))
        else:
            out = [k for k in dir(pl) if k.isdigit()]
        self.note(f"pl.{op}.out", (out, self.pentries(pl), _norm(repr(pl))))

    def edit_paramdict(self, pd):
        """One random ParameterDict edit."""
        nn = self.nn
        op = self.pick(["update", "pop", "del", "set", "setdefault", "get", "popitem", "copy",
                        "fromkeys", "or", "ior", "clear", "reversed", "call", "getbad"])
        key = self.pick(list(pd.keys()) + ["a", "z", "training"])
        value = self.pvalues(1)[0]
        if op == "update":
            pairs = [(k, v) for k, v in zip(["z", "b", "a"], self.pvalues(3))]
            arg = self.pick([dict(pairs), OrderedDict(pairs), pairs, nn.ParameterDict(pairs),
                             3, [("z",)], [4]])
            out = self.record("pd.update", lambda: pd.update(arg))
        elif op == "pop":
            out = self.record("pd.pop", lambda: self.val(pd.pop(key)))
        elif op == "del":
            def act():
                del pd[key]
            out = self.record("pd.del", act)
        elif op == "set":
            def act():
                pd[key] = value
            out = self.record("pd.set", act)
        elif op == "setdefault":
            out = self.record("pd.setdefault", lambda: self.val(pd.setdefault(key, value)))
        elif op == "get":
            out = self.record("pd.get", lambda: self.val(pd.get(key, 5)))
        elif op == "popitem":
            out = self.record("pd.popitem", lambda: str(pd.popitem()[0]))
        elif op == "copy":
            out = self.record("pd.copy", lambda: self.pentries(pd.copy()))
        elif op == "fromkeys":
            out = self.record("pd.fromkeys", lambda: self.pentries(pd.fromkeys(["x", "y"], value)))
        elif op == "or":
            other = nn.ParameterDict(OrderedDict(a=self.param()))
            out = self.record("pd.or", lambda: (self.pentries(pd | other),
                                                self.pentries(other | pd)))
        elif op == "ior":
            def act():
                nonlocal pd
                pd |= nn.ParameterDict(OrderedDict(z=self.param()))
            out = self.record("pd.ior", act)
        elif op == "clear":
            out = self.record("pd.clear", pd.clear)
        elif op == "reversed":
            out = self.record("pd.reversed", lambda: list(reversed(pd)))
        elif op == "call":
            out = self.record("pd.call", lambda: pd(self.tensor((2,))))
        else:
            out = self.record("pd.getbad", lambda: pd[self.pick([0, None, ("a",)])])
        self.note(f"pd.{op}.out", (out, self.pentries(pd), _norm(repr(pd))))
