"""Seeded random cases for ``test_fuzz_data_oracle.py``: each case is a plain spec (dicts,
lists, NumPy arrays) that ``build_*`` turns into the same objects in ember and in torch.

Samples are drawn as NumPy-only trees; a :class:`T` leaf becomes ``lib.tensor(array)`` in
whichever library the case is built for, so both libraries see equal but separate data.
"""
from __future__ import annotations

import collections
import collections.abc
import itertools
import random
import re
import warnings

import numpy as np

Point = collections.namedtuple("Point", ["x", "y"])

DTYPES = ["float32", "float64", "int64", "int32", "int16", "uint8", "bool", "float16", "int8",
          "complex64"]


class Frozen(collections.abc.Mapping):
    """A read-only mapping built from a dict (collate rebuilds it with ``Frozen(fields)``)."""

    def __init__(self, fields):
        self._fields = dict(fields)

    def __getitem__(self, key):
        return self._fields[key]

    def __iter__(self):
        return iter(self._fields)

    def __len__(self):
        return len(self._fields)


class T:
    """A tensor leaf: becomes ``lib.tensor(array)`` when the sample is realised."""

    def __init__(self, array, requires_grad=False):
        self.array, self.requires_grad = array, requires_grad


# --- samples ---------------------------------------------------------------------------


def random_schema(r: random.Random, depth: int = 0):
    """A random sample layout: nested containers over leaves of one kind each."""
    kinds = ["tensor", "array", "npscalar", "int", "float", "bool", "str", "bytes", "npstr",
             "grad"]
    if depth < 2 and r.random() < 0.45:
        container = r.choice(["dict", "odict", "list", "tuple", "namedtuple", "frozen"])
        if container == "namedtuple":
            return ("namedtuple", [random_schema(r, depth + 1) for _ in range(2)])
        n = r.randint(1, 3)
        fields = [random_schema(r, depth + 1) for _ in range(n)]
        if container in ("dict", "odict", "frozen"):
            return (container, {f"k{i}": f for i, f in enumerate(fields)})
        return (container, fields)
    kind = r.choice(kinds)
    if kind in ("tensor", "array"):
        shape = tuple(r.randint(0, 3) for _ in range(r.randint(0, 2)))
        return (kind, r.choice(DTYPES), shape)
    if kind == "npscalar":
        return (kind, r.choice(DTYPES))
    if kind == "grad":  # a float tensor that requires grad
        return (kind, r.choice(["float32", "float64"]), (r.randint(1, 2),))
    return (kind,)


def _array(rng: np.random.Generator, dtype: str, shape):
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(0, 100, shape).astype(dtype)
    return (rng.standard_normal(shape) * 10).astype(dtype)


def draw_sample(rng: np.random.Generator, schema, tag: int):
    """One sample of ``schema``; ``tag`` makes strings (and so the sample) recognisable."""
    kind = schema[0]
    if kind == "dict":
        return {k: draw_sample(rng, s, tag) for k, s in schema[1].items()}
    if kind == "odict":
        return collections.OrderedDict((k, draw_sample(rng, s, tag))
                                       for k, s in schema[1].items())
    if kind == "frozen":
        return Frozen({k: draw_sample(rng, s, tag) for k, s in schema[1].items()})
    if kind == "list":
        return [draw_sample(rng, s, tag) for s in schema[1]]
    if kind == "tuple":
        return tuple(draw_sample(rng, s, tag) for s in schema[1])
    if kind == "namedtuple":
        return Point(*(draw_sample(rng, s, tag) for s in schema[1]))
    if kind == "tensor":
        return T(_array(rng, schema[1], schema[2]))
    if kind == "grad":
        return T(_array(rng, schema[1], schema[2]), requires_grad=True)
    if kind == "npstr":
        return np.str_(f"n{tag}")
    if kind == "array":
        return _array(rng, schema[1], schema[2])
    if kind == "npscalar":
        return _array(rng, schema[1], ())[()]
    if kind == "int":
        return int(rng.integers(-50, 50))
    if kind == "float":
        return float(np.round(rng.standard_normal() * 10, 3))
    if kind == "bool":
        return bool(rng.random() < 0.5)
    if kind == "str":
        return f"s{tag}"
    return f"b{tag}".encode()


def corrupt(r: random.Random, rng: np.random.Generator, sample):
    """``sample`` with one leaf changed: another shape, another type, or a short sequence."""
    if isinstance(sample, collections.abc.Mapping):
        if not sample:
            return sample
        key = r.choice(list(sample))
        out = dict(sample)
        if r.random() < 0.15:  # a missing key
            del out[key]
            return type(sample)(out)
        out[key] = corrupt(r, rng, sample[key])
        return type(sample)(out)
    if isinstance(sample, (list, tuple)):
        if not sample:
            return sample
        if not hasattr(sample, "_fields") and r.random() < 0.25:
            return type(sample)(list(sample)[:-1])  # unequal lengths
        i = r.randrange(len(sample))
        items = list(sample)
        items[i] = corrupt(r, rng, items[i])
        return Point(*items) if hasattr(sample, "_fields") else type(sample)(items)
    choice = r.choice(["shape", "type", "none"])
    if choice == "shape" and isinstance(sample, (T, np.ndarray)):
        a = sample.array if isinstance(sample, T) else sample
        b = _array(rng, str(a.dtype), (*a.shape, 2) if r.random() < 0.5 else (a.size + 1,))
        return T(b) if isinstance(sample, T) else b
    if choice == "none":
        return None
    return r.choice([1, 2.5, True, "x", np.float32(1.5), np.arange(2), T(np.arange(2.0)),
                     [1, 2], np.array(["a", "b"]), {"k0": 1}, b"y", np.bool_(True)])


def realize(lib, x):
    """Turn :class:`T` leaves into ``lib`` tensors (containers keep their types)."""
    if isinstance(x, T):
        return lib.tensor(x.array, requires_grad=x.requires_grad)
    if isinstance(x, collections.abc.Mapping):
        return type(x)({k: realize(lib, v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(realize(lib, v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(realize(lib, v) for v in x)
    return x


# --- comparing -------------------------------------------------------------------------


def plain(x):
    """Nested structure (either library) as comparable values: tensors become
    ``("tensor", dtype, shape, values)``, NumPy values keep their type name."""
    mod = type(x).__module__
    if hasattr(x, "tolist") and (mod.startswith("torch") or mod.startswith("ember")):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist(),
                x.requires_grad, x.grad_fn is None)
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.shape, x.tolist())
    if isinstance(x, np.generic):
        return ("np." + type(x).__name__, x.item())
    if isinstance(x, collections.abc.Mapping):
        return (type(x).__name__, [(k, plain(v)) for k, v in x.items()])
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *map(plain, x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    if isinstance(x, float) and x != x:
        return "nan"
    return (type(x).__name__, x)


def error(e: BaseException):
    """(type name, message) of an exception; ember's CollateError is a RuntimeError whose
    first line is torch's whole message (the lines after it are ember's additions)."""
    name = type(e).__name__
    msg = _normal(str(e))
    if name == "CollateError":
        name, msg = "RuntimeError", msg.splitlines()[0]
    return ("raised", name, msg)


def outcome(fn):
    """``plain(fn())`` or the exception, and the warnings' messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = plain(fn())
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            out = error(e)
    # torch warns about these once per process (TORCH_WARN_ONCE), so whether they show
    # depends on what ran before: they are left out
    return out, [_normal(str(w.message)) for w in caught
                 if not str(w.message).startswith(_WARN_ONCE)]


_WARN_ONCE = ("Creating a tensor from a list of numpy",
              "Converting a tensor with requires_grad=True to a scalar")


def _normal(msg: str) -> str:
    """``msg`` without object addresses, and with ``<torch.x`` reprs spelled ``<ember.x``."""
    return re.sub(r" at 0x[0-9a-f]+", "", msg).replace("<torch.", "<ember.")


# --- datasets --------------------------------------------------------------------------

_CLASSES: dict = {}


def classes(lib):
    """Dataset and sampler classes built on ``lib.utils.data`` (one set per library)."""
    if lib.__name__ in _CLASSES:
        return _CLASSES[lib.__name__]
    data = lib.utils.data

    class Items(data.Dataset):
        """Map-style dataset that logs every index it is asked for."""

        def __init__(self, items, log):
            self.items, self.log = items, log

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            self.log.append(i)
            return self.items[i]

    class ManyItems(Items):
        """Items read a batch at a time through ``__getitems__``."""

        def __getitems__(self, indices):
            self.log.append(("many", list(indices)))
            return [self.items[i] for i in indices]

    class Stream(data.IterableDataset):
        """Iterable dataset over a list; ``length`` (if not None) is what ``len`` says."""

        def __init__(self, items, log, length=None):
            self.items, self.log, self.length = items, log, length

        def __iter__(self):
            for i, item in enumerate(self.items):
                self.log.append(i)
                yield item

    class SizedStream(Stream):
        def __len__(self):
            return self.length

    class EagerSampler(data.Sampler):
        """A user sampler that shuffles when ``iter()`` is called (not lazily)."""

        def __init__(self, n, generator):
            self.n, self.generator = n, generator

        def __iter__(self):
            return iter(lib.randperm(self.n, generator=self.generator).tolist())

        def __len__(self):
            return self.n

    out = dict(Items=Items, ManyItems=ManyItems, Stream=Stream, SizedStream=SizedStream,
               EagerSampler=EagerSampler)
    _CLASSES[lib.__name__] = out
    return out


def random_loader_case(seed: int) -> dict:
    """A random DataLoader configuration and iteration plan (plain data only)."""
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    n = r.choice([0, 1, 2, 3, 5, 7, 8, 11, 16])
    kind = r.choice(["list", "items", "many", "tensor", "subset", "concat", "stack",
                     "iterable", "iterable"])
    schema = random_schema(r)
    samples = [draw_sample(rng, schema, i) for i in range(n)]
    if n > 1 and r.random() < 0.15:
        j = r.randrange(1, n)
        samples[j] = corrupt(r, rng, samples[j])
    case = {"seed": seed, "n": n, "kind": kind, "samples": samples, "kw": {},
            "base": r.choice(["Items", "ManyItems"])}  # what Subset / ConcatDataset wrap
    if kind == "tensor":
        case["tensors"] = [_array(rng, r.choice(DTYPES), (n, *[r.randint(1, 3)] * r.randint(0, 2)))
                           for _ in range(r.randint(1, 3))]
    elif kind == "subset":
        case["indices"] = [int(i) for i in rng.integers(0, n, r.randint(0, n))] if n else []
    elif kind == "concat" and n:
        case["cuts"] = sorted(r.randint(0, n) for _ in range(r.randint(1, 2)))
    elif kind == "stack":
        case["stack_dict"] = r.random() < 0.5
    elif kind == "iterable":
        case["length"] = r.choice([None, n, n + 2, max(n - 2, 0)])
    size = data_len(case)
    kw = case["kw"]
    kw["batch_size"] = r.choice([None, 1, 2, 3, 4, 6])
    if r.random() < 0.5:
        kw["drop_last"] = r.random() < 0.5 if kw["batch_size"] else r.random() < 0.1
    case["generator"] = r.choice([None, r.randint(0, 1000)])
    if kind != "iterable" or r.random() < 0.1:
        mode = r.choice(["plain", "plain", "sampler", "batch_sampler"])
        if mode == "plain" and r.random() < 0.8:
            kw["shuffle"] = r.choice([None, False, True, True])
        elif mode == "sampler":
            case["sampler"] = random_sampler_spec(r, rng, size)
        elif mode == "batch_sampler":
            for key in ("batch_size", "drop_last"):
                if r.random() < 0.9:
                    kw.pop(key, None)
            if r.random() < 0.3 or not size:
                lists = [[int(i) for i in rng.integers(0, max(size, 1), r.randint(1, 3))]
                         for _ in range(r.randint(0, 4))]
                case["batch_sampler"] = ("lists", lists)
            else:
                case["batch_sampler"] = ("batch", random_sampler_spec(r, rng, size),
                                         r.randint(1, 4), r.random() < 0.5)
    case["collate"] = r.choice(["default", "default", "default", "none", "custom"])
    case["epochs"] = r.choice([[None], [None, None], [1, None], [0, None], [2, 1, None],
                               [0, 0, None]])
    return case


def random_sampler_spec(r: random.Random, rng: np.random.Generator, size: int):
    """A sampler over ``range(size)``: its kind, arguments and which generator it uses."""
    gen = r.choice([None, "loader", r.randint(0, 1000)])
    kind = r.choice(["seq", "random", "random", "subset", "weighted", "list", "eager"])
    if kind == "random":
        return (kind, r.random() < 0.4, r.choice([None, None, 1, 5, 33, 2 * size + 1]), gen)
    if kind == "subset":
        return (kind, [int(i) for i in rng.integers(0, max(size, 1), r.randint(0, 6))], gen)
    if kind == "weighted":
        weights = [float(w) for w in np.round(rng.random(max(size, 1)), 2)]
        return (kind, weights, r.randint(1, max(size, 1) + 1), r.random() < 0.6, gen)
    if kind == "list":
        return (kind, [int(i) for i in rng.integers(0, max(size, 1), r.randint(0, 7))])
    return (kind, gen)


def data_len(case) -> int:
    """Length of the case's map-style dataset."""
    return len(case["indices"]) if case["kind"] == "subset" else case["n"]


def build_dataset(lib, case, log):
    """The case's dataset in ``lib``."""
    data, cls = lib.utils.data, classes(lib)
    items = [realize(lib, s) for s in case["samples"]]
    kind = case["kind"]
    if kind == "list":
        return items
    if kind == "items":
        return cls["Items"](items, log)
    if kind == "many":
        return cls["ManyItems"](items, log)
    if kind == "tensor":
        return data.TensorDataset(*(lib.tensor(a) for a in case["tensors"]))
    if kind == "subset":
        return data.Subset(cls[case["base"]](items, log), case["indices"])
    if kind == "concat":
        cuts = [0, *case.get("cuts", []), len(items)]
        return data.ConcatDataset([cls[case["base"]](items[a:b], log)
                                   for a, b in zip(cuts, cuts[1:])])
    if kind == "stack":
        twice = list(reversed(items))
        if case["stack_dict"]:
            return data.StackDataset(a=cls["Items"](items, log), b=cls["ManyItems"](twice, log))
        return data.StackDataset(cls["Items"](items, log), twice)
    if case["length"] is None:
        return cls["Stream"](items, log)
    return cls["SizedStream"](items, log, case["length"])


def build_sampler(lib, spec, size, loader_gen):
    """The sampler of ``spec`` in ``lib`` (``"loader"``: share the loader's generator)."""
    data = lib.utils.data
    gen = spec[-1]
    if gen == "loader":
        gen = loader_gen
    elif isinstance(gen, int):
        gen = lib.Generator().manual_seed(gen)
    kind = spec[0]
    if kind == "seq":
        return data.SequentialSampler(range(size))
    if kind == "random":
        return data.RandomSampler(range(size), replacement=spec[1], num_samples=spec[2],
                                  generator=gen)
    if kind == "subset":
        return data.SubsetRandomSampler(spec[1], generator=gen)
    if kind == "weighted":
        return data.WeightedRandomSampler(spec[1], spec[2], replacement=spec[3], generator=gen)
    if kind == "list":
        return list(spec[1])
    return classes(lib)["EagerSampler"](size, gen)


def build_loader(lib, case, log):
    """The case's DataLoader in ``lib`` and the generator it was given (or None)."""
    data = lib.utils.data
    gen = None if case["generator"] is None else lib.Generator().manual_seed(case["generator"])
    kw = dict(case["kw"])
    size = data_len(case)
    if gen is not None:
        kw["generator"] = gen
    if "sampler" in case:
        kw["sampler"] = build_sampler(lib, case["sampler"], size, gen)
    if "batch_sampler" in case:
        spec = case["batch_sampler"]
        if spec[0] == "lists":
            kw["batch_sampler"] = [list(b) for b in spec[1]]
        else:
            kw["batch_sampler"] = data.BatchSampler(build_sampler(lib, spec[1], size, gen),
                                                    spec[2], spec[3])
    if case["collate"] == "none":
        kw["collate_fn"] = None
    elif case["collate"] == "custom":
        kw["collate_fn"] = lambda b: ["custom", data.default_convert(b)]
    return data.DataLoader(build_dataset(lib, case, log), **kw), gen


def _run_epochs(loader, plan):
    it = None
    out = []
    for k in plan:
        if k is None:
            out.append(outcome(lambda: list(loader)))
        else:
            it = iter(loader)
            out.append(outcome(lambda it=it, k=k: list(itertools.islice(it, k))))
    return out


def run_loader(lib, case) -> dict:
    """Everything observable about the case in ``lib``: lengths, each epoch's batches (or
    error) and warnings, the indices the dataset was asked for, and the random streams'
    positions afterwards."""
    lib.manual_seed(case["seed"])
    log: list = []
    built = outcome(lambda: build_loader(lib, case, log))
    if built[0][0] == "raised":
        return {"build": built}
    loader, gen = build_loader(lib, case, log)
    out = {
        "len": outcome(lambda: len(loader)),
        "sampler len": outcome(lambda: len(loader.sampler)),
        "batch_sampler len": outcome(
            lambda: None if loader.batch_sampler is None else len(loader.batch_sampler)),
        "epochs": _run_epochs(loader, case["epochs"]),
        "log": log,
        "global stream": lib.randint(0, 10**6, (2,)).tolist(),
    }
    if gen is not None:
        out["generator stream"] = lib.randint(0, 10**6, (2,), generator=gen).tolist()
    return out


# --- samplers, random_split and datasets on their own ------------------------------------


def random_split_case(seed: int) -> dict:
    """``random_split`` arguments: lengths (some not adding up) or fractions (some that do
    not sum to 1, some negative), with or without a seeded generator."""
    r = random.Random(seed)
    n = r.choice([0, 1, 2, 5, 7, 10, 11, 13])
    k = r.randint(1, 5)
    how = r.choice(["ints", "ints", "fractions", "fractions", "bad"])
    if how == "ints":
        cuts = sorted(r.randint(0, n) for _ in range(k - 1))
        lengths = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    elif how == "fractions":
        w = [r.random() for _ in range(k)]
        lengths = [x / sum(w) for x in w]
    else:
        lengths = r.choice([[0.5, 0.6], [-0.2, 1.2], [n + 1], [n, 1], [0.3, 0.3],
                            [1 / 3] * 3, [0.0, 1.0], [0.1] * 10])
    return {"n": n, "lengths": lengths,
            "generator": r.choice([None, r.randint(0, 100)]), "seed": seed}


def run_random_split(lib, case):
    """Each subset's indices (or the error) and warnings, then the streams' positions."""
    lib.manual_seed(case["seed"])
    data = lib.utils.data
    g = None if case["generator"] is None else lib.Generator().manual_seed(case["generator"])
    got = outcome(lambda: [list(s.indices) for s in data.random_split(
        range(case["n"]), case["lengths"], generator=g)])
    return got, lib.randint(0, 1000, (2,)).tolist(), g and lib.randint(0, 1000, (2,),
                                                                      generator=g).tolist()


def random_sampler_case(seed: int) -> dict:
    """A sampler with random (sometimes invalid) arguments."""
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    n = r.choice([0, 1, 3, 8, 40])
    spec = random_sampler_spec(r, rng, n)
    if r.random() < 0.2:  # an invalid argument
        bad = r.choice([0, -1, 2.0, True, "3"])
        if spec[0] == "random":
            spec = ("random", r.choice([spec[1], 1, None]), bad, spec[-1])
        elif spec[0] == "weighted":
            spec = ("weighted", r.choice([spec[1], [[1.0, 2.0]], [-1.0, 1.0]]), bad,
                    r.choice([spec[3], 0]), spec[-1])
    return {"n": n, "spec": spec, "batch": (r.randint(1, 5), r.random() < 0.5),
            "seed": seed}


def run_sampler(lib, case):
    """len and two epochs of the sampler and of a BatchSampler around it."""
    lib.manual_seed(case["seed"])
    built = outcome(lambda: build_sampler(lib, case["spec"], case["n"], None))
    if built[0][0] == "raised":
        return built
    sampler = build_sampler(lib, case["spec"], case["n"], None)
    batches = lib.utils.data.BatchSampler(sampler, *case["batch"])
    return [outcome(lambda: len(sampler)), outcome(lambda: list(sampler)),
            outcome(lambda: list(sampler)), outcome(lambda: len(batches)),
            outcome(lambda: list(batches)), lib.randint(0, 1000, (2,)).tolist()]


def random_batch(seed: int) -> list:
    """A list of 1-4 samples of one random layout, one of them sometimes corrupted."""
    r = random.Random(seed)
    rng = np.random.default_rng(seed)
    schema = random_schema(r)
    batch = [draw_sample(rng, schema, i) for i in range(r.randint(1, 4))]
    if len(batch) > 1 and r.random() < 0.5:
        j = r.randrange(1, len(batch))
        batch[j] = corrupt(r, rng, batch[j])
    return batch
