"""Datasets: TensorDataset, StackDataset, ConcatDataset, ChainDataset, Subset, random_split."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)

from .datasets import RangeDataset, UnshardedRange


def test_dataset_base_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_tensor_dataset_rows_and_len():
    x, y = ember.arange(12).reshape(4, 3), ember.arange(4)
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    assert a.tolist() == [6, 7, 8] and b.item() == 2


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(ember.zeros(3), ember.zeros(4))


def test_stack_dataset_tuple_and_dict():
    a, b = RangeDataset(3), RangeDataset(3)
    assert StackDataset(a, b)[1] == (1, 1)
    assert StackDataset(x=a, y=b)[2] == {"x": 2, "y": 2}
    assert StackDataset(x=a, y=b).__getitems__([0, 2]) == [{"x": 0, "y": 0}, {"x": 2, "y": 2}]
    assert len(StackDataset(a, b)) == 3


@pytest.mark.parametrize("args, kwargs, match", [
    ((), {}, "At least one"),
    ((RangeDataset(2),), {"y": RangeDataset(2)}, "both types"),
    ((RangeDataset(2), RangeDataset(3)), {}, "Size mismatch"),
])
def test_stack_dataset_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackDataset(*args, **kwargs)


def test_concat_dataset_indexing_and_add():
    ds = RangeDataset(3) + RangeDataset(2)
    assert isinstance(ds, ConcatDataset)
    assert len(ds) == 5 and ds.cumulative_sizes == [3, 5]
    assert [ds[i] for i in range(5)] == [0, 1, 2, 0, 1]
    assert ds[-1] == 1
    with pytest.raises(ValueError, match="absolute value"):
        ds[-6]


def test_concat_dataset_rejects_iterable_and_empty():
    with pytest.raises(AssertionError):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([UnshardedRange(3)])


def test_chain_dataset_chains_and_sums_len():
    class Sized(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    ds = Sized(2) + Sized(3)
    assert isinstance(ds, ChainDataset)
    assert list(ds) == [0, 1, 0, 1, 2] and len(ds) == 5
    with pytest.raises(AssertionError):
        list(ChainDataset([RangeDataset(2)]))


def test_subset_maps_indices_and_getitems():
    sub = Subset(RangeDataset(10), [7, 3, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 3, 5]
    assert sub.__getitems__([2, 0]) == [5, 7]


def test_subset_subclass_overriding_getitem_is_respected():
    class Doubled(Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    assert Doubled(RangeDataset(10), [1, 2]).__getitems__([0, 1]) == [2, 4]


def test_random_split_lengths_disjoint_and_complete():
    parts = random_split(RangeDataset(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    seen = sorted(p[i] for p in parts for i in range(len(p)))
    assert seen == list(range(10))


def test_random_split_fractions_deal_remainder_round_robin():
    parts = random_split(RangeDataset(11), [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [6, 3, 2]  # floor 5, 3, 2 + remainder 1 to the first


def test_random_split_reproducible_with_generator():
    a = random_split(RangeDataset(20), [10, 10], generator=ember.Generator().manual_seed(3))
    b = random_split(RangeDataset(20), [10, 10], generator=ember.Generator().manual_seed(3))
    assert list(a[0].indices) == list(b[0].indices)


def test_random_split_errors_and_zero_length_warning():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(RangeDataset(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(RangeDataset(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(RangeDataset(2), [1.0, 0.0])


def test_numpy_dataset_items_are_views():
    arr = np.arange(6)
    ds = TensorDataset(ember.from_numpy(arr))
    assert ds[3][0].item() == 3


def test_serialized_list_reads_like_a_list():
    from ember.utils.data import SerializedList

    items = [(i, str(i), {"k": [i]}) for i in range(50)]
    s = SerializedList(items)
    assert len(s) == 50 and s[7] == items[7] and s[-1] == items[-1]
    assert s[2:5] == items[2:5] and list(s) == items
    s[3][2]["k"].append(0)  # a fresh copy each time
    assert s[3] == items[3]
    with pytest.raises(IndexError, match="out of range"):
        s[50]
    import pickle

    assert pickle.loads(pickle.dumps(s))[9] == items[9]
