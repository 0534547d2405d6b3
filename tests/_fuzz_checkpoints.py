"""Seeded random checkpoints for the ``ember.save`` / ``ember.load`` fuzzers.

``random_checkpoint(rng)`` builds a nested object as training code saves it: a model's
``state_dict``, an optimizer's (SGD with momentum or AdamW, after a few steps), a learning
rate scheduler's, and a random tree of dicts (str, int, float, bool, None and tuple keys;
key strings with dots, slashes, ``#`` and unicode), OrderedDicts, Counters, lists, tuples,
ints (huge ones too), floats (inf, nan, -0.0, subnormals), bools, None, strings, NumPy
arrays and scalars, and tensors of every ember dtype with random bit patterns: 0-d, empty,
transposed, sliced, expanded, diagonal and ``.real`` views, the same tensor twice, two views
of one storage, tensors that require grad (leaves and not), and ``nn.Parameter``s.

``expected(obj)`` is what ``ember.load`` must give back for ``obj`` (the rules are in the
serialization module's docstring); ``assert_same`` compares bitwise, container types and
key order included. ``mutable_spots`` lists the dicts and lists of a checkpoint with the
path ``ember.save`` names in its errors, for planting an object it cannot store.
"""
from __future__ import annotations

import json
import math
import types
from collections import Counter, OrderedDict, namedtuple

import numpy as np

import ember
from ember import nn, optim

DTYPES = [d.name for d in ember._dtype.ALL]
FLOATING = {"float16", "float32", "float64", "complex64", "complex128"}
KEY_STRINGS = ["w", "layer.0.weight", "a.b", "a/b", "../x", "a#1", "x.y#1", "ü.ß", "名前",
               "\U0001f642", "", " ", "__metadata__", "tensor", "dict", "tuple", "x\x00y",
               "\ud800", "obj", "0", "1.5"]
STRINGS = KEY_STRINGS + ["line\nbreak", "quote\"'\\", "\t", "a" * 300]
INTS = [0, 1, -1, 7, 2**31, 2**63 - 1, -(2**63), 2**64, -(2**100), 3**700, 10**5000,
        -(7**6000)]
FLOATS = [0.0, -0.0, 0.1, -2.5, 1e-310, 5e-324, 1.7976931348623157e308, math.inf, -math.inf,
          math.nan, 1 / 3]
NUMPY_SCALARS = [np.float32(0.1), np.float16(-0.0), np.float64(math.nan), np.int8(-128),
                 np.uint64(2**64 - 1), np.uint16(7), np.int64(-5), np.bool_(False),
                 np.complex64(1 - 2j), np.complex128(complex(math.inf, -0.0))]
Pair = namedtuple("Pair", "a b")


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


# --- tensors ----------------------------------------------------------------------------------

def random_array(rng, dtype, shape):
    """Random bit patterns of ``dtype`` (floats include nan payloads, inf, -0.0, subnormals)."""
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    itemsize = np.dtype(dtype).itemsize
    raw = rng.integers(0, 256, n * itemsize, dtype=np.uint8)
    return raw.view(dtype).reshape(shape).copy()


def random_tensor(rng, dtype=None, variant=None):
    """A tensor of ``dtype`` (random if None) made as a random ``variant`` (see VARIANTS)."""
    dtype = dtype or _pick(rng, DTYPES)
    variant = variant or _pick(rng, VARIANTS)
    return _VARIANT_FNS[variant](rng, dtype)


def _base(rng, dtype, shape):
    return ember.from_numpy(random_array(rng, dtype, shape))


def _shape(rng, ndim):
    return tuple(int(rng.integers(1, 5)) for _ in range(ndim))


def _requires_grad(rng, dtype, leaf=True):
    t = _base(rng, dtype, _shape(rng, int(rng.integers(0, 3))))
    if dtype not in FLOATING:
        return t
    t.requires_grad_()
    return t if leaf else t.clone()  # a non-leaf: loads as a leaf that requires grad, as in torch


def _parameter(rng, dtype):
    t = _base(rng, dtype, _shape(rng, int(rng.integers(0, 3))))
    return nn.Parameter(t, requires_grad=dtype in FLOATING and bool(rng.random() < 0.8))


_VARIANT_FNS = {
    "plain": lambda rng, dt: _base(rng, dt, _shape(rng, int(rng.integers(1, 4)))),
    "0-d": lambda rng, dt: _base(rng, dt, ()),
    "empty": lambda rng, dt: _base(rng, dt, _pick(rng, [(0,), (2, 0), (0, 3, 1)])),
    "transposed": lambda rng, dt: _base(rng, dt, _shape(rng, 2)).t(),
    "permuted": lambda rng, dt: _base(rng, dt, _shape(rng, 3)).permute(2, 0, 1),
    "sliced": lambda rng, dt: _base(rng, dt, (5, 6))[1:4, ::2],
    "row": lambda rng, dt: _base(rng, dt, (4, 3))[int(rng.integers(4))],
    "expanded": lambda rng, dt: _base(rng, dt, (3, 1)).expand(3, 4),
    "diagonal": lambda rng, dt: _base(rng, dt, (4, 4)).diagonal(),
    "real": lambda rng, dt: (_base(rng, dt, (2, 3)).real if dt.startswith("complex")
                             else _base(rng, dt, (2, 3))),
    "requires_grad": lambda rng, dt: _requires_grad(rng, dt),
    "non_leaf": lambda rng, dt: _requires_grad(rng, dt, leaf=False),
    "parameter": _parameter,
}
VARIANTS = list(_VARIANT_FNS)


def tensor_zoo(rng):
    """Every dtype once (a random variant each), plus a tensor saved twice and shared views."""
    zoo = {f"{dt}.{i}": random_tensor(rng, dt) for i, dt in enumerate(DTYPES)}
    base = _base(rng, _pick(rng, DTYPES), (4, 5))
    zoo["twice"] = [base, base]
    zoo["views"] = (base[1:3], base.t(), base.view(20), base)
    return zoo


# --- a trained model, optimizer and scheduler -------------------------------------------------

def make_model(seed):
    """A small model with parameters, buffers (BatchNorm) and an Embedding; seeded init."""
    ember.manual_seed(seed)
    return nn.Sequential(nn.Embedding(7, 4), nn.Flatten(), nn.Linear(8, 6), nn.BatchNorm1d(6),
                         nn.ReLU(), nn.Dropout(0.25), nn.Linear(6, 3))


def make_training(seed, kind):
    """(model, optimizer, scheduler) of ``kind`` "sgd" (momentum) or "adamw"."""
    model = make_model(seed)
    params = list(model.parameters())
    groups = [{"params": params[:3]}, {"params": params[3:], "lr": 0.02}]
    if kind == "sgd":
        opt = optim.SGD(groups, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        sched = optim.lr_scheduler.MultiStepLR(opt, [1, 3, 3], gamma=0.5)
    else:
        opt = optim.AdamW(groups, lr=0.01, betas=(0.8, 0.99), amsgrad=True)
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.05, 0.02], total_steps=20)
    return model, opt, sched


def batch(step):
    """Input ids (N, 2) and targets (N, 3) for training step ``step``."""
    rng = np.random.default_rng(1000 + step)
    return (ember.from_numpy(rng.integers(0, 7, (5, 2))),
            ember.from_numpy(rng.standard_normal((5, 3)).astype(np.float32)))


def train_step(model, opt, sched, step):
    """One step: forward (dropout draws from ember's RNG), backward, optimizer and scheduler."""
    x, y = batch(step)
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    sched.step()
    return loss


def trained_state(seed, kind, steps=3):
    """The state dicts after ``steps`` training steps, and ember's RNG state."""
    model, opt, sched = make_training(seed, kind)
    for step in range(steps):
        train_step(model, opt, sched, step)
    return {"model": model.state_dict(), "optim": opt.state_dict(),
            "sched": sched.state_dict(), "rng": ember.get_rng_state(), "step": steps}


# --- random trees -----------------------------------------------------------------------------

def random_key(rng):
    """A dict key: str (dots, slashes, unicode...), int, float, bool, None or a tuple."""
    r = rng.random()
    if r < 0.55:
        return _pick(rng, KEY_STRINGS)
    if r < 0.8:
        return _pick(rng, [0, 1, 2, -3, 2**70])
    return _pick(rng, [2.5, -0.0, math.inf, None, True, ("a", 1), ("x.y", (None, 2.0)),
                       np.int64(3), np.float32(0.5), np.bool_(True), (np.uint8(2), "k")])


def random_leaf(rng):
    """A scalar, string, NumPy value or tensor."""
    r = rng.random()
    if r < 0.15:
        return _pick(rng, INTS)
    if r < 0.3:
        return _pick(rng, FLOATS)
    if r < 0.4:
        return _pick(rng, [True, False, None])
    if r < 0.55:
        return _pick(rng, STRINGS)
    if r < 0.65:
        return _pick(rng, NUMPY_SCALARS)
    if r < 0.7:
        dt = _pick(rng, ["float32", "int16", "uint32", "complex128", "bool", "uint64"])
        return random_array(rng, dt, _shape(rng, int(rng.integers(0, 3))))
    return random_tensor(rng)


def random_tree(rng, depth=3):
    """A random nesting of dicts, OrderedDicts, Counters, lists and tuples over leaves."""
    if depth == 0 or rng.random() < 0.3:
        return random_leaf(rng)
    n = int(rng.integers(0, 5))
    kind = _pick(rng, ["dict", "dict", "odict", "list", "tuple", "counter", "size", "pair"])
    if kind in ("dict", "odict"):
        items = [(random_key(rng), random_tree(rng, depth - 1)) for _ in range(n)]
        return dict(items) if kind == "dict" else OrderedDict(items)
    if kind == "counter":
        return Counter({random_key(rng): int(rng.integers(-3, 5)) for _ in range(n)})
    if kind == "size":
        return ember.Size(int(v) for v in rng.integers(0, 9, n))
    if kind == "pair":
        return Pair(random_tree(rng, depth - 1), random_tree(rng, depth - 1))
    values = [random_tree(rng, depth - 1) for _ in range(n)]
    return values if kind == "list" else tuple(values)


def random_checkpoint(rng):
    """A nested checkpoint: trained state, a tensor zoo and a random config tree."""
    kind = _pick(rng, ["sgd", "adamw"])
    ckpt = trained_state(int(rng.integers(1000)), kind, steps=int(rng.integers(1, 4)))
    ckpt["tensors"] = tensor_zoo(rng)
    ckpt["config"] = {random_key(rng): random_tree(rng) for _ in range(4)}
    ckpt[_pick(rng, KEY_STRINGS)] = random_tree(rng, 2)
    keys = list(ckpt)
    order = rng.permutation(len(keys))
    return {keys[i]: ckpt[keys[i]] for i in order}


# --- what load must give back -----------------------------------------------------------------

def expected(obj):
    """``obj`` as ``ember.load`` returns it: containers mapped to the types the format keeps."""
    if isinstance(obj, ember.Tensor):
        return obj
    if isinstance(obj, dict):  # other dict subclasses (defaultdict...) load as dict
        out = type(obj)() if type(obj) in (OrderedDict, Counter) else {}
        for k, v in obj.items():
            out[k] = expected(v)
        return out
    if isinstance(obj, list):
        return [expected(v) for v in obj]
    if isinstance(obj, tuple):  # ember.Size and namedtuples load as plain tuples
        return tuple(expected(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj
    if isinstance(obj, bool) or obj is None:
        return obj
    for cls in (int, float, str):
        if isinstance(obj, cls):
            return cls(obj)
    return obj


def _bits(arr):
    arr = np.ascontiguousarray(arr)
    return arr.view(np.uint8).tobytes() if arr.dtype != bool else arr.tobytes()


def _short(value):
    if isinstance(value, int) and value.bit_length() > 2000:  # repr would raise ValueError
        return f"<int of {value.bit_length()} bits>"
    return repr(value)


def assert_same(got, want, where="obj"):
    """Same container types, key order and key types; tensors and floats bitwise."""
    if isinstance(want, ember.Tensor):
        want_cls = nn.Parameter if isinstance(want, nn.Parameter) else ember.Tensor
        assert type(got) is want_cls, f"{where}: {type(got)} is not {want_cls}"
        assert got.dtype == want.dtype, f"{where}: {got.dtype} vs {want.dtype}"
        assert tuple(got.shape) == tuple(want.shape), f"{where}: {got.shape} vs {want.shape}"
        assert got.requires_grad == want.requires_grad, f"{where}: requires_grad"
        assert got.is_leaf and got.grad is None and got.grad_fn is None, where
        assert _bits(got.detach().numpy()) == _bits(want.detach().numpy()), f"{where}: bits"
        return
    assert type(got) is type(want), f"{where}: {type(got)} vs {type(want)}"
    if isinstance(want, dict):
        assert len(got) == len(want), f"{where}: keys {list(got)} vs {list(want)}"
        for (kg, vg), (kw, vw) in zip(got.items(), want.items()):
            assert_same(kg, kw, f"{where} key {_short(kw)}")
            assert_same(vg, vw, f"{where}[{_short(kw)}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), f"{where}: length {len(got)} vs {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, where
        assert _bits(got) == _bits(want), f"{where}: bits"
    elif isinstance(want, (float, np.generic)):
        assert _bits(np.asarray(got)) == _bits(np.asarray(want)), f"{where}: {got!r} {want!r}"
    else:
        assert got == want, f"{where}: {_short(got)} vs {_short(want)}"


# --- planting what cannot be saved ------------------------------------------------------------

def format_path(path):
    """The path of a value as ember.save's errors spell it: ``obj["optim"]["state"][0]``."""
    return "obj" + "".join(
        "[" + (json.dumps(k, ensure_ascii=False) if isinstance(k, str) else repr(k)) + "]"
        for k in path)


def mutable_spots(obj, path=()):
    """Every dict and list inside ``obj`` with its path: (container, path) pairs."""
    spots = [(obj, path)] if isinstance(obj, (dict, list)) else []
    if isinstance(obj, dict):
        children = obj.items()
    elif isinstance(obj, (list, tuple)):
        children = enumerate(obj)
    else:
        return spots
    for k, v in children:
        spots += mutable_spots(v, path + (k,))
    return spots


def unsavable(rng):
    """(object, words its TypeError must contain): things ember.save refuses to store."""
    return _pick(rng, [
        (lambda x: x, "cannot save object of type function"),
        ({1, 2}, "cannot save object of type set"),
        (frozenset(), "cannot save object of type frozenset"),
        (b"raw", "cannot save object of type bytes"),
        (object(), "cannot save object of type object"),
        (types.SimpleNamespace(a=1), "cannot save object of type types.SimpleNamespace"),
        ((i for i in range(2)), "cannot save object of type generator"),
        (1j, "cannot save object of type complex"),
        (np.array(["s"]), "cannot save NumPy data of dtype <U1"),
        (ember.ones(2, 2).to_sparse(), "cannot save a sparse tensor"),
        (ember.float32, "cannot save object of type ember._dtype.dtype"),
    ])


def plant(rng, obj):
    """Put an unsavable value (or dict key) somewhere inside ``obj``.

    Returns the message prefix ``ember.save`` must raise: the path, then the reason."""
    container, path = _pick(rng, mutable_spots(obj))
    bad, reason = unsavable(rng)
    if isinstance(container, list):
        container.insert(int(rng.integers(len(container) + 1)), bad)
        index = next(i for i, v in enumerate(container) if v is bad)
        return f"{format_path(path + (index,))}: {reason}"
    if rng.random() < 0.2:  # an unsavable key names the dict that holds it
        container[b"key"] = 1
        return f"{format_path(path)}: cannot save a dict key of type bytes"
    key = random_key(rng)
    while key in container:
        key = (key, 0)
    container[key] = bad
    return f"{format_path(path + (key,))}: {reason}"
