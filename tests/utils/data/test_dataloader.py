"""DataLoader behaviour: batching, options and their validation, workers, seeding, resume."""
from __future__ import annotations

import multiprocessing
import warnings

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    TensorDataset,
    get_worker_info,
)

from .datasets import (
    ArrayDataset,
    Counting,
    RangeDataset,
    SeedProbe,
    ShardedRange,
    Slow,
    UnshardedRange,
    children,
)


def flat(batches):
    return [v for b in batches for v in b.tolist()]


# --- batching --------------------------------------------------------------------------


@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                              (9, 3, True), (2, 5, False), (2, 5, True)])
def test_number_and_sizes_of_batches(n, bs, drop_last):
    loader = DataLoader(RangeDataset(n), batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    expected = n // bs if drop_last else -(-n // bs)
    assert len(loader) == len(batches) == expected
    sizes = [len(b) for b in batches]
    assert all(s == bs for s in sizes[:-1])
    if drop_last and batches:
        assert sizes[-1] == bs


def test_default_batch_size_is_one():
    batches = list(DataLoader(RangeDataset(3)))
    assert [b.tolist() for b in batches] == [[0], [1], [2]]


def test_batch_size_none_disables_batching_and_converts():
    out = list(DataLoader(ArrayDataset(3), batch_size=None))
    assert len(out) == 3
    x, y = out[1]
    assert isinstance(x, ember.Tensor) and tuple(x.shape) == (3,) and y == 1


def test_tuples_of_arrays_and_ints():
    x, y = next(iter(DataLoader(ArrayDataset(10), batch_size=4)))
    assert tuple(x.shape) == (4, 3) and x.dtype == ember.float32
    assert y.tolist() == [0, 1, 2, 3] and y.dtype == ember.int64


def test_tensor_dataset_batches():
    ds = TensorDataset(ember.arange(20).reshape(10, 2), ember.arange(10))
    xs, ys = zip(*DataLoader(ds, batch_size=4))
    assert [tuple(x.shape) for x in xs] == [(4, 2), (4, 2), (2, 2)]
    assert flat(ys) == list(range(10))


def test_batch_sampler_option():
    loader = DataLoader(RangeDataset(7), batch_sampler=BatchSampler(range(7), 2, False))
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5], [6]]
    assert loader.batch_size is None and len(loader) == 4


def test_sampler_option_and_getitems():
    class WithGetitems(RangeDataset):
        calls = 0

        def __getitems__(self, idx):
            WithGetitems.calls += 1
            return [10 * i for i in idx]

    loader = DataLoader(WithGetitems(6), batch_size=3, sampler=[5, 4, 3, 2, 1, 0])
    assert flat(loader) == [50, 40, 30, 20, 10, 0] and WithGetitems.calls == 2


def test_shuffle_covers_every_index_once_per_epoch():
    loader = DataLoader(RangeDataset(103), batch_size=10, shuffle=True)
    a, b = flat(loader), flat(loader)
    assert sorted(a) == sorted(b) == list(range(103))
    assert a != b


def test_shuffle_follows_manual_seed_and_generator():
    ember.manual_seed(1)
    a = flat(DataLoader(RangeDataset(50), batch_size=8, shuffle=True))
    ember.manual_seed(1)
    assert flat(DataLoader(RangeDataset(50), batch_size=8, shuffle=True)) == a
    g = ember.Generator().manual_seed(4)
    b = flat(DataLoader(RangeDataset(50), batch_size=8, shuffle=True, generator=g))
    g.manual_seed(4)
    assert flat(DataLoader(RangeDataset(50), batch_size=8, shuffle=True, generator=g)) == b


def test_pin_memory_is_accepted_and_changes_nothing():
    """On a machine without an accelerator torch warns and loads as usual; so does ember."""
    loader = DataLoader(RangeDataset(5), batch_size=2, pin_memory=True, pin_memory_device="x")
    with pytest.warns(UserWarning) as caught:
        assert flat(loader) == list(range(5))
    messages = " ".join(str(w.message) for w in caught)
    assert "no accelerator is found" in messages and "pin_memory_device is deprecated" in messages


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
    ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
    ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "prefetch_factor option should be"),
    ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers"),
    ({"sampler": [0, 1], "shuffle": True}, ValueError, "sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually"),
    ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutually"),
    ({"batch_sampler": [[0]], "shuffle": True}, ValueError, "batch_sampler option is mutually"),
    ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables"),
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer"),
    ({"multiprocessing_context": "fork"}, ValueError, "can only be used with multi-process"),
    ({"num_workers": 1, "multiprocessing_context": "nope"}, ValueError, "valid start method"),
    ({"num_workers": 1, "multiprocessing_context": 3}, TypeError, "valid context object"),
])
def test_constructor_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        DataLoader(RangeDataset(4), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"shuffle": True}, "expected unspecified shuffle"),
    ({"sampler": [0]}, "expected unspecified sampler"),
    ({"batch_sampler": [[0]]}, "expected unspecified batch_sampler"),
])
def test_iterable_dataset_rejects_order_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(UnshardedRange(3), **kwargs)


def test_attributes_are_frozen_after_init():
    loader = DataLoader(RangeDataset(4))
    for name in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set"):
            setattr(loader, name, None)
    loader.num_workers = 0  # others may change


def test_context_object_and_too_many_workers_warning():
    ctx = multiprocessing.get_context("fork")
    loader = DataLoader(RangeDataset(4), num_workers=1, multiprocessing_context=ctx)
    assert loader.multiprocessing_context is ctx
    with pytest.warns(UserWarning, match="worker processes in total"):
        DataLoader(RangeDataset(4), num_workers=1000)


# --- iterable datasets -------------------------------------------------------------------


def test_iterable_dataset_without_workers_and_len():
    loader = DataLoader(ShardedRange(0, 10), batch_size=4)
    assert flat(loader) == list(range(10)) and len(loader) == 3
    loader = DataLoader(ShardedRange(0, 10), batch_size=4, drop_last=True)
    assert flat(loader) == list(range(8)) and len(loader) == 2


def test_iterable_dataset_with_workers_covers_each_shard():
    loader = DataLoader(ShardedRange(0, 23), batch_size=4, num_workers=2)
    assert sorted(flat(loader)) == list(range(23))


def test_iterable_dataset_batch_size_none_with_workers():
    out = [int(v) for v in DataLoader(ShardedRange(0, 6), batch_size=None, num_workers=2)]
    assert sorted(out) == list(range(6))


def test_iterable_dataset_len_warning():
    loader = DataLoader(ShardedRange(0, 4), batch_size=2)
    assert len(loader) == 2
    loader.dataset.end = 20  # more batches than the length torch compares with (4)
    with pytest.warns(UserWarning, match="was reported to be 4"):
        list(loader)


# --- workers -----------------------------------------------------------------------------


def test_two_workers_give_the_same_batches_as_zero():
    ds = ArrayDataset(37)
    a = list(DataLoader(ds, batch_size=5))
    b = list(DataLoader(ds, batch_size=5, num_workers=2))
    assert len(a) == len(b) == 8
    for (xa, ya), (xb, yb) in zip(a, b):
        assert np.array_equal(xa.numpy(), xb.numpy()) and ya.tolist() == yb.tolist()


def test_workers_with_shuffle_and_generator_match_single_process():
    g = ember.Generator()
    a = flat(DataLoader(RangeDataset(40), batch_size=3, shuffle=True,
                        generator=g.manual_seed(7)))
    b = flat(DataLoader(RangeDataset(40), batch_size=3, shuffle=True, num_workers=2,
                        generator=g.manual_seed(7)))
    assert a == b and sorted(a) == list(range(40))


def test_worker_batches_are_writable_arrays():
    x, _ = next(iter(DataLoader(ArrayDataset(8), batch_size=4, num_workers=1)))
    x += 1  # in place: the main process owns the memory
    assert x.numpy().flags.writeable


def test_out_of_order_delivery_returns_everything():
    ds = Slow(12, 0.05, start=0)
    loader = DataLoader(ds, batch_size=1, num_workers=2, in_order=False)
    assert sorted(flat(loader)) == list(range(12))


def test_prefetch_is_bounded():
    counter = multiprocessing.get_context("fork").Value("i", 0)
    loader = DataLoader(Counting(400, counter), batch_size=2, num_workers=2, prefetch_factor=3,
                        multiprocessing_context="fork")
    it = iter(loader)
    next(it)
    import time

    time.sleep(0.5)
    # one batch delivered + at most prefetch_factor * num_workers in flight, 2 items each
    assert counter.value <= 2 * (1 + 3 * 2)
    del it


def test_get_worker_info_in_main_and_in_workers():
    assert get_worker_info() is None
    rows = [tuple(r) for b in DataLoader(SeedProbe(8), batch_size=2, num_workers=2)
            for r in zip(*[v.tolist() if hasattr(v, "tolist") else v for v in b])]
    assert {int(r[1]) for r in rows} == {0, 1}


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        info.dataset.offset = 100 * (worker_id + 1)

    class Offset(RangeDataset):
        offset = 0

        def __getitem__(self, i):
            return i + self.offset

    out = flat(DataLoader(Offset(4), batch_size=1, num_workers=2, worker_init_fn=init))
    assert out == [100, 201, 102, 203]  # batches alternate between workers 0 and 1


# --- seeding -----------------------------------------------------------------------------


def _probe(num_workers, generator=None, loader=None):
    loader = loader or DataLoader(SeedProbe(8), batch_size=2, num_workers=num_workers,
                                  generator=generator)
    rows = []
    for idx, wid, pr, nr, er in loader:
        rows += list(zip(idx.tolist(), wid.tolist(), pr.tolist(), nr.tolist(), er.tolist()))
    return rows


def test_workers_draw_different_random_numbers():
    rows = _probe(2)
    by_worker = {w: [r for r in rows if r[1] == w] for w in (0, 1)}
    first = {w: by_worker[w][0] for w in (0, 1)}
    for k in (2, 3, 4):  # Python random, NumPy global, ember
        assert first[0][k] != first[1][k]
    assert len({r[3] for r in rows}) == len(rows)  # NumPy never repeats across workers


def test_worker_randomness_reproducible_with_generator_and_new_each_epoch():
    g = ember.Generator()
    a = _probe(2, g.manual_seed(3))
    b = _probe(2, g.manual_seed(3))
    assert a == b
    loader = DataLoader(SeedProbe(8), batch_size=2, num_workers=2, generator=g.manual_seed(3))
    assert _probe(0, loader=loader) == a
    assert _probe(0, loader=loader) != a  # the next epoch has a new base seed


def test_worker_seed_is_base_seed_plus_id():
    seeds = []

    class Seeds(RangeDataset):
        def __getitem__(self, i):
            info = get_worker_info()
            return (info.id, info.seed, ember.initial_seed())

    for wid, seed, initial in DataLoader(Seeds(4), batch_size=None, num_workers=2):
        seeds.append((wid, seed, initial))
    by = {w: s for w, s, _ in seeds}
    assert by[1] == by[0] + 1
    assert all(s == i for _, s, i in seeds)


# --- persistent workers --------------------------------------------------------------------


def test_persistent_workers_survive_epochs():
    loader = DataLoader(SeedProbe(6), batch_size=2, num_workers=2, persistent_workers=True)
    first = _probe(0, loader=loader)
    pids = [w.pid for w in loader._iterator._workers]
    second = _probe(0, loader=loader)
    assert [w.pid for w in loader._iterator._workers] == pids
    assert sorted(r[0] for r in first) == sorted(r[0] for r in second) == list(range(6))
    assert [r[3] for r in first] != [r[3] for r in second]  # the workers' random streams carry on
    # an epoch abandoned half-way is drained before the next one starts
    it = iter(loader)
    next(it)
    assert sorted(r[0] for r in _probe(0, loader=loader)) == list(range(6))
    loader._iterator._shutdown_workers()


def test_persistent_iterable_workers():
    loader = DataLoader(ShardedRange(0, 9), batch_size=2, num_workers=2,
                        persistent_workers=True)
    assert sorted(flat(loader)) == list(range(9))
    assert sorted(flat(loader)) == list(range(9))
    loader._iterator._shutdown_workers()


# --- resuming --------------------------------------------------------------------------------


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("use_generator", [False, True])
def test_state_dict_resumes_mid_epoch(num_workers, use_generator):
    def make():
        g = ember.Generator().manual_seed(11) if use_generator else None
        return DataLoader(RangeDataset(50), batch_size=4, shuffle=True,
                          num_workers=num_workers, generator=g)

    ember.manual_seed(123)
    loader = make()
    full = [b.tolist() for b in loader]  # epoch 1, uninterrupted
    ember.manual_seed(123)
    loader = make()
    it = iter(loader)
    seen = [next(it).tolist() for _ in range(5)]
    state = loader.state_dict()
    del it
    assert state["in_progress"] and state["num_yielded"] == 5

    ember.manual_seed(999)  # a new run: different global state until the load
    resumed = make()
    resumed.load_state_dict(state)
    rest = [b.tolist() for b in resumed]
    assert seen + rest == full


def test_state_dict_between_epochs_keeps_the_generator_stream():
    g = ember.Generator().manual_seed(5)
    loader = DataLoader(RangeDataset(20), batch_size=5, shuffle=True, generator=g)
    list(loader)
    state = loader.state_dict()
    assert not state["in_progress"]
    nxt = flat(loader)
    other = DataLoader(RangeDataset(20), batch_size=5, shuffle=True,
                       generator=ember.Generator().manual_seed(77))
    other.load_state_dict(state)
    assert flat(other) == nxt


def test_state_dict_iterable_dataset_fast_forwards():
    loader = DataLoader(ShardedRange(0, 20), batch_size=3)
    it = iter(loader)
    [next(it) for _ in range(2)]
    state = loader.state_dict()
    fresh = DataLoader(ShardedRange(0, 20), batch_size=3)
    fresh.load_state_dict(state)
    assert flat(fresh) == list(range(6, 20))


def test_load_state_dict_rejects_foreign_dicts():
    with pytest.raises(ValueError, match="not a DataLoader state"):
        DataLoader(RangeDataset(3)).load_state_dict({"foo": 1})


def test_resume_with_persistent_workers():
    ember.manual_seed(2)
    loader = DataLoader(RangeDataset(30), batch_size=4, shuffle=True, num_workers=2,
                        persistent_workers=True)
    full = flat(loader)
    it = iter(loader)  # second epoch
    second = [next(it).tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = flat(it)
    loader.load_state_dict(state)
    assert flat(loader) == rest
    assert sorted(full) == list(range(30)) and len(second) == 3
    loader._iterator._shutdown_workers()


def test_no_worker_left_after_normal_epochs():
    before = set(children())
    list(DataLoader(RangeDataset(20), batch_size=3, num_workers=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        it = iter(DataLoader(RangeDataset(20), batch_size=3, num_workers=2))
        next(it)
        del it
    assert set(children()) <= before


def test_state_dict_iterable_dataset_with_workers():
    loader = DataLoader(ShardedRange(0, 40), batch_size=3, num_workers=2)
    full = [b.tolist() for b in loader]
    it = iter(loader)
    seen = [next(it).tolist() for _ in range(4)]
    state = loader.state_dict()
    del it
    fresh = DataLoader(ShardedRange(0, 40), batch_size=3, num_workers=2)
    fresh.load_state_dict(state)
    assert seen + [b.tolist() for b in fresh] == full


def test_reachable_as_in_torch():
    import ember as torch_like

    assert torch_like.utils.data.DataLoader is DataLoader


class _ListDataset(Dataset):
    """Holds its samples in a big Python list (the copy-on-read case)."""

    def __init__(self, n):
        self.items = [(i, float(i) / 2) for i in range(n)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_forked_workers_read_big_lists_through_a_serialized_copy():
    from ember.utils.data.dataset import SerializedList

    ds = _ListDataset(12_000)
    loader = DataLoader(ds, batch_size=1000, num_workers=2, multiprocessing_context="fork")
    batches = list(loader)
    reference = list(DataLoader(ds, batch_size=1000))
    assert len(batches) == len(reference) == 12
    for (a, b), (c, d) in zip(batches, reference):
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()
    assert type(ds.items) is list  # the user's dataset is untouched
    assert isinstance(loader._worker_dataset.items, SerializedList)


def test_serialize_large_lists_can_be_switched_off():
    ds = _ListDataset(12_000)
    loader = DataLoader(ds, batch_size=4000, num_workers=2, multiprocessing_context="fork")
    loader.serialize_large_lists = False
    assert len(list(loader)) == 3
    assert "_worker_dataset" not in loader.__dict__
