"""ember.utils.data against torch.utils.data on the same datasets."""
from __future__ import annotations

import collections

import numpy as np
import pytest

import ember
import ember.utils.data as ed
from ember.nn.utils.rnn import pad_sequence

torch = pytest.importorskip("torch")
td = torch.utils.data

Point = collections.namedtuple("Point", ["x", "y"])


def as_plain(x):
    """Nested structure with tensors (either library) turned into (dtype name, list)."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return (str(x.dtype).split(".")[-1], x.tolist())
    if isinstance(x, dict):
        return {k: as_plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, *[as_plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(as_plain(v) for v in x)
    return x


class Items:
    """Map-style dataset over a list of samples, usable by both libraries."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class EmberItems(Items, ed.Dataset):
    pass


class TorchItems(Items, td.Dataset):
    pass


def loaders(items, **kw):
    return ed.DataLoader(EmberItems(items), **kw), td.DataLoader(TorchItems(items), **kw)


SAMPLES = {
    "ints": [0, 1, 2, 3, 4, 5, 6],
    "floats": [0.5, 1.5, 2.5, 3.5, 4.5],
    "bools": [True, False, True],
    "strings": ["a", "bb", "ccc", "d"],
    "arrays": [np.arange(3, dtype=np.float32) + i for i in range(5)],
    "int32 arrays": [np.arange(4, dtype=np.int32) * i for i in range(5)],
    "numpy scalars": [np.float32(i) for i in range(5)],
    "tuples": [(i, float(i), str(i), np.full(2, i, dtype=np.int64)) for i in range(5)],
    "lists": [[i, i + 1] for i in range(5)],
    "dicts": [{"id": i, "x": np.full((2, 2), i, dtype=np.float64), "name": f"s{i}"}
              for i in range(5)],
    "namedtuples": [Point(i, np.ones(2, dtype=np.float32) * i) for i in range(5)],
    "nested": [{"a": (i, [i, 2 * i]), "b": {"c": float(i)}} for i in range(4)],
}


@pytest.mark.parametrize("kind", list(SAMPLES))
@pytest.mark.parametrize("batch_size, drop_last", [(2, False), (2, True), (3, False)])
def test_batches_match_torch(kind, batch_size, drop_last):
    e, t = loaders(SAMPLES[kind], batch_size=batch_size, drop_last=drop_last)
    eb, tb = list(e), list(t)
    assert len(e) == len(t) == len(eb) == len(tb)
    assert [as_plain(b) for b in eb] == [as_plain(b) for b in tb]


@pytest.mark.parametrize("kind", ["ints", "arrays", "tuples", "dicts", "strings"])
def test_no_batching_matches_torch(kind):
    e, t = loaders(SAMPLES[kind], batch_size=None)
    assert [as_plain(b) for b in e] == [as_plain(b) for b in t]


@pytest.mark.parametrize("n, bs", [(10, 3), (9, 3), (1, 4), (64, 8)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_order_count_and_sizes_without_shuffle(n, bs, drop_last):
    e, t = loaders(list(range(n)), batch_size=bs, drop_last=drop_last)
    assert len(e) == len(t)
    assert [b.tolist() for b in e] == [b.tolist() for b in t]


def test_workers_give_torchs_batches():
    items = [np.full(3, i, dtype=np.int64) for i in range(23)]
    e, t = loaders(items, batch_size=4, num_workers=2)
    assert [b.tolist() for b in e] == [b.tolist() for b in t]


def test_default_collate_and_convert_match_torch():
    for batch in ([1, 2], [1.5, 2], [1, 2.5], [True, 1], [np.int32(1), np.int32(2)],
                  [np.bool_(True), np.bool_(False)]):
        assert as_plain(ed.default_collate(batch)) == as_plain(td.default_collate(batch))
    for sample in ((np.zeros(2), 1, "a"), {"a": np.ones(2, dtype=np.int32)}, np.float64(2),
                   Point(np.array(0), 1), [np.ones(1), "x"], 3, "s"):
        assert as_plain(ed.default_convert(sample)) == as_plain(td.default_convert(sample))


def test_collate_errors_share_torchs_first_line():
    for batch in ([np.zeros(3), np.zeros(4)], [np.zeros((3, 2)), np.zeros((3, 2)),
                                              np.zeros((4, 2))], [[1, 2], [1]]):
        with pytest.raises(RuntimeError) as want:
            td.default_collate(batch)
        with pytest.raises(RuntimeError) as got:
            ed.default_collate(batch)
        assert str(got.value).splitlines()[0] == str(want.value)
    for batch in ([object()], [np.array(["a"])]):
        with pytest.raises(TypeError) as want:
            td.default_collate(batch)
        with pytest.raises(TypeError) as got:
            ed.default_collate(batch)
        assert str(got.value) == str(want.value)


def test_iterable_dataset_with_workers_matches_torch_order():
    class Shard:
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = self.info()
            if info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

    class E(Shard, ed.IterableDataset):
        info = staticmethod(ed.get_worker_info)

    class T(Shard, td.IterableDataset):
        info = staticmethod(td.get_worker_info)

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        e = [as_plain(b) for b in ed.DataLoader(E(17), num_workers=2, **kw)]
        t = [as_plain(b) for b in td.DataLoader(T(17), num_workers=2, **kw)]
        assert e == t


def test_samplers_and_datasets_match_torch():
    assert list(ed.BatchSampler(range(10), 4, False)) == list(td.BatchSampler(range(10), 4,
                                                                               False))
    assert list(ed.BatchSampler(range(10), 4, True)) == list(td.BatchSampler(range(10), 4, True))
    assert list(ed.SequentialSampler(range(5))) == list(td.SequentialSampler(range(5)))
    ec = ed.ConcatDataset([EmberItems([1, 2]), EmberItems([3])])
    tc = td.ConcatDataset([TorchItems([1, 2]), TorchItems([3])])
    assert [ec[i] for i in range(-3, 3)] == [tc[i] for i in range(-3, 3)]
    assert ec.cumulative_sizes == tc.cumulative_sizes
    for lengths in ([0.5, 0.3, 0.2], [0.34, 0.33, 0.33], [3, 8]):
        e = ed.random_split(EmberItems(list(range(11))), lengths)
        t = td.random_split(TorchItems(list(range(11))), lengths)
        assert [len(s) for s in e] == [len(s) for s in t]


def test_len_of_iterable_loader_matches_torch():
    class Sized:
        def __len__(self):
            return 10

        def __iter__(self):
            return iter(range(10))

    class E(Sized, ed.IterableDataset):
        pass

    class T(Sized, td.IterableDataset):
        pass

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        assert len(ed.DataLoader(E(), **kw)) == len(td.DataLoader(T(), **kw))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 1, 4)]
    got = pad_sequence([ember.from_numpy(a) for a in arrays], batch_first=batch_first,
                       padding_value=-2.0, padding_side=side)
    want = torch_pad([torch.from_numpy(a) for a in arrays], batch_first=batch_first,
                     padding_value=-2.0, padding_side=side)
    assert np.array_equal(got.numpy(), want.numpy())
    ints = [ember.tensor([1, 2]), ember.tensor([3])]
    assert pad_sequence(ints, padding_value=0.5).tolist() == torch_pad(
        [torch.tensor([1, 2]), torch.tensor([3])], padding_value=0.5).tolist()


def test_pad_sequence_gradient_matches_torch():
    from torch.nn.utils.rnn import pad_sequence as torch_pad

    w = np.arange(8.0).reshape(2, 4)
    ea, eb = ember.ones(2, requires_grad=True), ember.ones(4, requires_grad=True)
    (pad_sequence([ea, eb], batch_first=True) * ember.from_numpy(w)).sum().backward()
    ta, tb = torch.ones(2, requires_grad=True, dtype=torch.float64), torch.ones(
        4, requires_grad=True, dtype=torch.float64)
    (torch_pad([ta, tb], batch_first=True) * torch.from_numpy(w)).sum().backward()
    assert ea.grad.tolist() == ta.grad.tolist() and eb.grad.tolist() == tb.grad.tolist()
