"""ember.utils.data against torch.utils.data: options, errors, samplers and datasets.

Where ember cannot draw torch's random stream (its generators differ), the tests compare
properties instead: a permutation, each index once, the same batch structure.
"""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ember
import ember.utils.data as ed

Point = collections.namedtuple("Point", ["x", "y"])


@pytest.fixture
def td(torch):
    return torch.utils.data


def plain(x):
    """Nested structure with tensors (either library) turned into comparable values."""
    if isinstance(x, ember.Tensor) or type(x).__module__ == "torch":
        return ("tensor", str(x.dtype).split(".")[-1], x.tolist())
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *map(plain, x))
    if isinstance(x, (list, tuple)):
        return type(x)(map(plain, x))
    return x


def outcome(fn):
    """(result or (exception type, first message line), warning messages) of ``fn()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = plain(fn())
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            # CollateError is ember's RuntimeError with torch's first line and more lines
            kind = "RuntimeError" if isinstance(e, ed.CollateError) else type(e).__name__
            out = (kind, str(e).splitlines()[0] if str(e) else "")
    return out, [str(w.message) for w in caught]


def same(fn_ember, fn_torch):
    got, want = outcome(fn_ember), outcome(fn_torch)
    assert got == want


def gen(lib, seed=0):
    return lib.Generator().manual_seed(seed)


def iterable(data_mod, n):
    class Stream(data_mod.IterableDataset):
        def __iter__(self):
            return iter(range(n))

    return Stream()


# --- DataLoader options ----------------------------------------------------------------

L10 = list(range(10))

LOADER_CASES = {
    "batch_size=0": dict(batch_size=0),
    "batch_size=-1": dict(batch_size=-1),
    "batch_size=1.5": dict(batch_size=1.5),
    "batch_size=True": dict(batch_size=True),
    "drop_last=1": dict(drop_last=1),
    "sampler+shuffle": dict(sampler=[0, 1], shuffle=True),
    "batch_sampler+batch_size": dict(batch_sampler=[[0, 1]], batch_size=2),
    "batch_sampler+shuffle": dict(batch_sampler=[[0, 1]], shuffle=True),
    "batch_sampler+sampler": dict(batch_sampler=[[0, 1]], sampler=[0]),
    "batch_sampler+drop_last": dict(batch_sampler=[[0, 1]], drop_last=True),
    "batch_size=None+drop_last": dict(batch_size=None, drop_last=True),
    "prefetch_factor nw=0": dict(prefetch_factor=2),
    "prefetch_factor<0": dict(prefetch_factor=-1, num_workers=1),
    "persistent nw=0": dict(persistent_workers=True),
    "num_workers<0": dict(num_workers=-1),
    "timeout<0": dict(timeout=-1),
    "mp context nw=0": dict(multiprocessing_context="spawn"),
    "mp context bad name": dict(num_workers=1, multiprocessing_context="bogus"),
    "mp context bad type": dict(num_workers=1, multiprocessing_context=3),
}


@pytest.mark.parametrize("kw", LOADER_CASES.values(), ids=LOADER_CASES.keys())
def test_constructor_errors_match_torch(td, kw):
    same(lambda: ed.DataLoader(L10, **kw), lambda: td.DataLoader(L10, **kw))


@pytest.mark.parametrize("kw", [dict(shuffle=True), dict(sampler=[0]),
                                dict(batch_sampler=[[0]])])
def test_iterable_dataset_rejects_sampling_options(td, kw):
    same(lambda: ed.DataLoader(iterable(ed, 3), **kw),
         lambda: td.DataLoader(iterable(td, 3), **kw))


ITER_CASES = {
    "unbatched": dict(batch_size=None),
    "batch_sampler": dict(batch_sampler=[[0, 1], [5], [9, 2, 3]]),
    "sampler list": dict(sampler=[3, 1, 2], batch_size=2),
    "drop_last": dict(batch_size=3, drop_last=True),
    "shuffle=False explicit": dict(shuffle=False, batch_size=4),
    "timeout nw=0": dict(timeout=5),
    "pin_memory": dict(batch_size=4, pin_memory=True),
    "pin_memory_device": dict(batch_size=4, pin_memory=True, pin_memory_device="cuda"),
    "pin_memory_device alone": dict(batch_size=4, pin_memory_device="cuda"),
    "worker_init_fn nw=0": dict(batch_size=4, worker_init_fn=lambda i: 1 / 0),
    "in_order nw=0": dict(batch_size=4, in_order=False),
    "collate_fn": dict(batch_size=3, collate_fn=lambda b: sum(b)),
    "collate_fn unbatched": dict(batch_size=None, collate_fn=lambda x: -x),
    "bad generator": dict(shuffle=True, generator=5),
}


@pytest.mark.parametrize("kw", ITER_CASES.values(), ids=ITER_CASES.keys())
def test_iteration_len_and_warnings_match_torch(td, kw):
    same(lambda: list(ed.DataLoader(L10, **kw)), lambda: list(td.DataLoader(L10, **kw)))
    same(lambda: len(ed.DataLoader(L10, **kw)), lambda: len(td.DataLoader(L10, **kw)))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # torch's __del__
def test_prefetch_factor_zero_fails_at_iter(td):
    same(lambda: iter(ed.DataLoader(L10, num_workers=1, prefetch_factor=0)),
         lambda: iter(td.DataLoader(L10, num_workers=1, prefetch_factor=0)))


def test_loader_attributes_match_torch(td):
    for kw in ({}, {"batch_size": None}, {"shuffle": True}, {"num_workers": 2},
               {"batch_sampler": [[1]]}):
        e, t = ed.DataLoader(L10, **kw), td.DataLoader(L10, **kw)
        for name in ("batch_size", "drop_last", "prefetch_factor", "timeout", "pin_memory"):
            assert getattr(e, name) == getattr(t, name), (kw, name)
        for name in ("sampler", "batch_sampler", "collate_fn"):
            a, b = getattr(e, name), getattr(t, name)
            assert type(a).__name__ == type(b).__name__ and \
                getattr(a, "__name__", None) == getattr(b, "__name__", None), (kw, name)
    same(lambda: setattr(ed.DataLoader(L10), "batch_size", 3),
         lambda: setattr(td.DataLoader(L10), "batch_size", 3))


@pytest.mark.parametrize("kw", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True},
                                {"batch_size": None}])
def test_len_over_iterable_datasets(td, kw):
    class Sized:
        def __len__(self):
            return 10

        def __iter__(self):
            return iter(range(10))

    same(lambda: len(ed.DataLoader(type("E", (Sized, ed.IterableDataset), {})(), **kw)),
         lambda: len(td.DataLoader(type("E", (Sized, td.IterableDataset), {})(), **kw)))
    same(lambda: list(ed.DataLoader(iterable(ed, 7), **kw)),
         lambda: list(td.DataLoader(iterable(td, 7), **kw)))
    same(lambda: len(ed.DataLoader(iterable(ed, 3), **kw)),
         lambda: len(td.DataLoader(iterable(td, 3), **kw)))


def test_shuffle_with_generator_is_a_reproducible_permutation(torch, td):
    def run(mod, lib, seed):
        return [b.tolist() for b in mod.DataLoader(list(range(23)), batch_size=5,
                                                   shuffle=True, generator=gen(lib, seed))]

    e, t = run(ed, ember, 3), run(td, torch, 3)
    assert [len(b) for b in e] == [len(b) for b in t] == [5, 5, 5, 5, 3]
    assert sorted(sum(e, [])) == sorted(sum(t, [])) == list(range(23))
    assert run(ed, ember, 3) == e and run(ed, ember, 4) != e
    loader = ed.DataLoader(list(range(23)), batch_size=5, shuffle=True, generator=gen(ember))
    assert list(map(ember.Tensor.tolist, loader)) != list(map(ember.Tensor.tolist, loader))


# --- collate and convert ---------------------------------------------------------------

BATCHES = {
    "nested dicts": [{"a": {"b": (1, 2.5)}, "s": "x"}, {"a": {"b": (3, 4.5)}, "s": "y"}],
    "tuples": [(1, "a", b"x", None), (2, "b", b"y", None)],
    "namedtuples": [Point(np.ones(2, np.float32), 1), Point(np.zeros(2, np.float32), 2)],
    "arrays": [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
    "numbers": [1, 2.5],
    "numpy scalars": [np.float16(1), np.float16(2)],
    "strings": ["a", "b"],
    "bytes": [b"a", b"b"],
    "Nones": [None, None],
    "unequal lists": [[1, 2], [1]],
    "string arrays": [np.array(["a"]), np.array(["b"])],
    "lists in dicts": [{"x": [1, np.int32(2)]}, {"x": [3, np.int32(4)]}],
}


@pytest.mark.parametrize("batch", BATCHES.values(), ids=BATCHES.keys())
def test_default_collate_and_convert_on_nested_samples(td, batch):
    same(lambda: ed.default_collate(batch), lambda: td.default_collate(batch))
    same(lambda: ed.default_convert(batch), lambda: td.default_convert(batch))
    same(lambda: ed.default_convert(batch[0]), lambda: td.default_convert(batch[0]))
    same(lambda: list(ed.DataLoader(batch, batch_size=None)),
         lambda: list(td.DataLoader(batch, batch_size=None)))


# --- samplers --------------------------------------------------------------------------


def test_sampler_argument_errors_match_torch(td):
    cases = [
        lambda d: d.RandomSampler(L10, replacement="yes"),
        lambda d: d.RandomSampler(L10, num_samples=0),
        lambda d: d.RandomSampler(L10, num_samples=2.0),
        lambda d: d.RandomSampler([]),
        lambda d: d.WeightedRandomSampler([1, 2], 0),
        lambda d: d.WeightedRandomSampler([1, 2], 1, replacement=1),
        lambda d: d.WeightedRandomSampler([[1, 2]], 1),
        lambda d: d.BatchSampler(L10, 0, False),
        lambda d: d.BatchSampler(L10, 3, None),
        lambda d: d.Sampler(L10),
        lambda d: list(d.Sampler()),
    ]
    for case in cases:
        same(lambda c=case: c(ed), lambda c=case: c(td))


def test_samplers_are_generic_like_torchs(td):
    for name in ("Sampler", "Dataset", "IterableDataset", "Subset", "ConcatDataset",
                 "DataLoader"):
        getattr(ed, name)[int]  # noqa: B018 - subscripting must not raise
        getattr(td, name)[int]  # noqa: B018

    class Odd(ed.Sampler[int]):
        def __iter__(self):
            return iter([1, 3])

    assert [b.tolist() for b in ed.DataLoader(L10, sampler=Odd(), batch_size=2)] == [[1, 3]]


def test_random_sampler_properties(torch, td):
    for mod, lib in ((ed, ember), (td, torch)):
        perm = list(mod.RandomSampler(L10, generator=gen(lib)))
        assert sorted(perm) == L10
        assert perm == list(mod.RandomSampler(L10, generator=gen(lib)))
        chained = list(mod.RandomSampler(L10, num_samples=25, generator=gen(lib)))
        assert len(chained) == 25 and sorted(collections.Counter(chained).values()) == \
            [2] * 5 + [3] * 5
        drawn = list(mod.RandomSampler(L10, replacement=True, num_samples=70,
                                       generator=gen(lib)))
        assert len(drawn) == 70 and set(drawn) <= set(L10)
        assert len(mod.RandomSampler(L10, replacement=True, num_samples=7)) == 7
        assert sorted(mod.SubsetRandomSampler([5, 7, 9], generator=gen(lib))) == [5, 7, 9]


def test_weighted_random_sampler_properties(torch, td):
    for mod, lib in ((ed, ember), (td, torch)):
        w = mod.WeightedRandomSampler([1, 2, 3, 4], 4, replacement=False, generator=gen(lib))
        assert sorted(w) == [0, 1, 2, 3] and len(w) == 4
        assert sorted(mod.WeightedRandomSampler([0, 1, 0, 1], 2, replacement=False,
                                                generator=gen(lib))) == [1, 3]
        assert list(mod.WeightedRandomSampler([0, 0, 1], 5)) == [2] * 5
        assert mod.WeightedRandomSampler([1, 2], 3).weights.dtype == lib.float64
    same(lambda: list(ed.WeightedRandomSampler([1, 2, 3], 4, replacement=False)),
         lambda: list(td.WeightedRandomSampler([1, 2, 3], 4, replacement=False)))


@pytest.mark.parametrize("n", [0, 1, 7, 10])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch(td, n, replicas, drop_last):
    def shards(mod, shuffle, epoch=0):
        out = []
        for rank in range(replicas):
            s = mod.DistributedSampler(range(n), num_replicas=replicas, rank=rank,
                                       shuffle=shuffle, seed=7, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append((len(s), s.total_size, list(s)))
        return out

    assert shards(ed, False) == shards(td, False)
    e, t = shards(ed, True), shards(td, True)
    assert [s[:2] for s in e] == [s[:2] for s in t]
    counts = [collections.Counter(sum((s[2] for s in x), [])) for x in (e, t)]
    assert sorted(counts[0].values()) == sorted(counts[1].values())  # padding / dropping
    assert set(counts[0]) <= set(range(n)) and (drop_last or set(counts[0]) == set(range(n)))
    assert shards(ed, True) == e
    if n >= 7:
        assert shards(ed, True, epoch=1) != e


def test_distributed_sampler_errors_and_loader(td):
    for kw in ({"num_replicas": 2, "rank": 2}, {"num_replicas": 2, "rank": -1}, {},
               {"num_replicas": 2}):
        same(lambda kw=kw: ed.DistributedSampler(range(3), **kw),
             lambda kw=kw: td.DistributedSampler(range(3), **kw))
    sampler = ed.DistributedSampler(range(9), num_replicas=2, rank=1, shuffle=False)
    got = [b.tolist() for b in ed.DataLoader(list(range(9)), sampler=sampler, batch_size=2)]
    assert got == [[1, 3], [5, 7], [0]]
    assert ed.distributed.DistributedSampler is ed.DistributedSampler


# --- datasets --------------------------------------------------------------------------


def test_dataset_errors_match_torch(torch, td):
    def items(d):
        return [d.ConcatDataset([[1, 2], [3], [], [4, 5]])[i] for i in range(-5, 5)]

    cases = [
        (lambda d, t: d.TensorDataset(t.ones(2), t.ones(3))),
        (lambda d, t: d.TensorDataset(t.arange(3), t.ones(3, 2))[-1]),
        (lambda d, t: list(d.DataLoader(d.TensorDataset(t.arange(5), t.arange(5.0)),
                                        batch_size=2))),
        (lambda d, t: d.ConcatDataset([])),
        (lambda d, t: d.ConcatDataset([iterable(d, 3)])),
        (lambda d, t: items(d)),
        (lambda d, t: d.ConcatDataset([[1, 2], [3]])[-4]),
        (lambda d, t: d.ConcatDataset([[1, 2], [3]])[3]),
        (lambda d, t: d.ConcatDataset([[1, 2], [], [3]]).cumulative_sizes),
        (lambda d, t: d.ConcatDataset([[1, 2], [3]]).cummulative_sizes),
        (lambda d, t: list(iterable(d, 3) + iterable(d, 2))),
        (lambda d, t: list(d.ChainDataset([iterable(d, 3), [1]]))),
        (lambda d, t: d.Subset(np.arange(10), [3, 1])[[0, 1]].tolist()),
        (lambda d, t: d.StackDataset([1, 2], [3])),
        (lambda d, t: d.StackDataset()),
        (lambda d, t: d.StackDataset([1], b=[2])),
        (lambda d, t: list(d.DataLoader(d.StackDataset(a=[1, 2, 3], b=[3.0, 4, 5]),
                                        batch_size=2))),
        (lambda d, t: d.IterableDataset()),
        (lambda d, t: type("NoIter", (d.IterableDataset,), {})()),
        (lambda d, t: d.Dataset()[0]),
    ]
    for case in cases:
        same(lambda c=case: c(ed, ember), lambda c=case: c(td, torch))


def test_stack_dataset_uses_nested_getitems(td):
    def make(d, n_out):
        class Batched(d.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return i

            def __getitems__(self, idx):
                return [100 + i for i in idx][:n_out]

        return Batched()

    for n in (2, 1):
        same(lambda n=n: ed.StackDataset(make(ed, n), [5, 6, 7, 8]).__getitems__([0, 3]),
             lambda n=n: td.StackDataset(make(td, n), [5, 6, 7, 8]).__getitems__([0, 3]))
        same(lambda n=n: ed.StackDataset(x=make(ed, n), y=[5, 6, 7, 8]).__getitems__([1, 2]),
             lambda n=n: td.StackDataset(x=make(td, n), y=[5, 6, 7, 8]).__getitems__([1, 2]))


@pytest.mark.parametrize("n, lengths", [
    (10, [0.25, 0.25, 0.5]), (7, [0.1, 0.1, 0.8]), (3, [0.5, 0.5, 0.0]), (11, [1 / 3] * 3),
    (5, [0.2] * 5), (10, [3, 7]), (10, [3, 3]), (10, [1.5, -0.5]), (10, [0.6, 0.6]),
])
def test_random_split_lengths_and_errors(torch, td, n, lengths):
    def split(d, lib):
        parts = d.random_split(range(n), lengths, generator=gen(lib))
        return [len(p) for p in parts], sorted(i for p in parts for i in p)

    same(lambda: split(ed, ember), lambda: split(td, torch))


# --- workers (two short runs) ----------------------------------------------------------


def _sharded(mod):
    class Sharded(mod.IterableDataset):
        def __iter__(self):
            info = mod.get_worker_info()
            fields = (info.id, info.num_workers, info.dataset is self, info.rng,
                      info.worker_method)
            return ((fields, i) for i in range(info.id, 9, info.num_workers))

    return Sharded()


def test_worker_info_and_init_fn_match_torch(td):
    def run(mod):
        loader = mod.DataLoader(_sharded(mod), batch_size=None, num_workers=2,
                                worker_init_fn=_check_worker_id)
        return [(fields, int(i)) for fields, i in loader]

    assert run(ed) == run(td)
    assert ed.get_worker_info() is None


def _check_worker_id(worker_id):
    import torch.utils.data

    info = ed.get_worker_info() or torch.utils.data.get_worker_info()
    assert info.id == worker_id


def test_out_of_order_persistent_workers_deliver_every_batch(td):
    def run(mod):
        loader = mod.DataLoader(list(range(20)), batch_size=3, num_workers=2,
                                in_order=False, persistent_workers=True, prefetch_factor=1)
        return [sorted(sum((b.tolist() for b in loader), [])) for _ in range(2)]

    assert run(ed) == run(td) == [list(range(20))] * 2
