"""Samplers: order, coverage, reproducibility, validation."""
from __future__ import annotations

import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def test_sequential_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    assert len(SequentialSampler(range(5))) == 5


def test_random_sampler_is_a_permutation_each_epoch():
    s = RandomSampler(range(50))
    a, b = list(s), list(s)
    assert sorted(a) == list(range(50)) and sorted(b) == list(range(50))
    assert a != b  # reshuffled


def test_random_sampler_follows_manual_seed_and_generator():
    ember.manual_seed(5)
    a = list(RandomSampler(range(30)))
    ember.manual_seed(5)
    assert list(RandomSampler(range(30))) == a
    g1, g2 = ember.Generator().manual_seed(9), ember.Generator().manual_seed(9)
    assert list(RandomSampler(range(30), generator=g1)) == list(
        RandomSampler(range(30), generator=g2))


def test_random_sampler_num_samples_without_replacement_chains_permutations():
    out = list(RandomSampler(range(4), num_samples=10))
    assert len(out) == 10
    assert sorted(out[:4]) == [0, 1, 2, 3] and sorted(out[4:8]) == [0, 1, 2, 3]


def test_random_sampler_with_replacement():
    out = list(RandomSampler(range(3), replacement=True, num_samples=100))
    assert len(out) == 100 and set(out) <= {0, 1, 2} and len(set(out)) == 3


def test_random_sampler_validation():
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([])


def test_subset_random_sampler_permutes_given_indices():
    out = list(SubsetRandomSampler([10, 20, 30]))
    assert sorted(out) == [10, 20, 30] and len(SubsetRandomSampler([1, 2])) == 2


def test_weighted_random_sampler_never_draws_zero_weight():
    out = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200))
    assert set(out) == {1, 3}
    assert out.count(3) > out.count(1)


def test_weighted_random_sampler_without_replacement_is_unique():
    out = list(WeightedRandomSampler([1, 2, 3, 4, 5], 5, replacement=False))
    assert sorted(out) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"weights": [1.0], "num_samples": 0}, ValueError, "num_samples"),
    ({"weights": [1.0], "num_samples": True}, ValueError, "num_samples"),
    ({"weights": [1.0], "num_samples": 1, "replacement": 0}, ValueError, "replacement"),
    ({"weights": [[1.0]], "num_samples": 1}, ValueError, "weights should be a 1d sequence"),
])
def test_weighted_random_sampler_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        WeightedRandomSampler(**kwargs)


def test_batch_sampler_batches_and_len():
    assert list(BatchSampler(range(10), 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(range(10), 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4
    assert len(BatchSampler(range(10), 3, True)) == 3


@pytest.mark.parametrize("bs, dl, match", [
    (0, False, "batch_size should be a positive integer"),
    (True, False, "batch_size should be a positive integer"),
    (2.0, False, "batch_size should be a positive integer"),
    (2, 1, "drop_last should be a boolean"),
])
def test_batch_sampler_validation(bs, dl, match):
    with pytest.raises(ValueError, match=match):
        BatchSampler(range(3), bs, dl)
