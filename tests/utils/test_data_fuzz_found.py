"""Regressions found by ``tests/oracle/test_fuzz_data_oracle.py`` (torch's behaviour, checked
without torch): when the DataLoader draws its random numbers, how ``default_collate`` treats
mixed samples, and the errors of ``ember.tensor`` on the batches it builds from them."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, RandomSampler, Sampler, default_collate


def _seed_drawn(generator):
    """``generator`` after the one 64-bit draw that a new DataLoader iterator makes."""
    ember.empty((), dtype=ember.int64).random_(generator=generator)
    return generator


class _Recording(Sampler):
    """Shuffles eagerly in ``__iter__`` and records the generator's state at each call."""

    def __init__(self, n, generator):
        self.n, self.generator, self.states = n, generator, []

    def __iter__(self):
        self.states.append(self.generator.get_state().tolist())
        return iter(ember.randperm(self.n, generator=self.generator).tolist())

    def __len__(self):
        return self.n


def test_iter_calls_the_sampler_before_drawing_the_base_seed():
    g = ember.Generator().manual_seed(0)
    sampler = _Recording(5, g)
    before = g.get_state().tolist()
    iter(DataLoader(list(range(5)), sampler=sampler, batch_size=None, generator=g))
    assert sampler.states == [before]  # no seed drawn yet when __iter__ ran
    ref = ember.Generator().manual_seed(0)
    ember.randperm(5, generator=ref)
    assert g.get_state().tolist() == _seed_drawn(ref).get_state().tolist()


def test_an_unused_iterator_draws_only_the_base_seed():
    g = ember.Generator().manual_seed(1)
    loader = DataLoader(list(range(6)), batch_size=4, shuffle=True, generator=g)
    iter(loader)  # never advanced: the shuffle is drawn lazily, as in torch
    ref = _seed_drawn(ember.Generator().manual_seed(1))
    assert g.get_state().tolist() == ref.get_state().tolist()
    order = ember.randperm(6, generator=_seed_drawn(ref)).tolist()
    assert [b.tolist() for b in loader] == [order[:4], order[4:]]


def test_a_failing_sampler_fails_at_the_first_batch_not_at_iter():
    loader = DataLoader([], sampler=RandomSampler([], num_samples=3))
    it = iter(loader)
    with pytest.raises(ZeroDivisionError):
        next(it)


def test_workers_call_the_sampler_again_after_the_base_seed():
    g = ember.Generator().manual_seed(2)
    sampler = _Recording(4, g)
    loader = DataLoader(list(range(4)), sampler=sampler, batch_size=None, num_workers=2,
                        generator=g)
    got = [int(x) for x in loader]
    assert len(sampler.states) == 2  # torch's first epoch with workers calls iter() twice
    ref = ember.Generator().manual_seed(2)
    ember.randperm(4, generator=ref)
    assert sampler.states[1] == _seed_drawn(ref).get_state().tolist()
    assert got == ember.randperm(4, generator=ref).tolist()


# --- default_collate on mixed samples ----------------------------------------------------


def test_numpy_scalars_mixed_with_python_numbers_promote_as_torch():
    out = default_collate([np.float32(1.5), 1])
    assert out.dtype == ember.float32 and out.tolist() == [1.5, 1.0]
    out = default_collate([np.uint8(7), 2.5])
    assert out.dtype == ember.float32 and out.tolist() == [7.0, 2.5]
    with pytest.raises(TypeError, match="^'numpy.bool' object cannot be interpreted as an "
                                        "integer$"):
        default_collate([np.bool_(True), 1])


def test_python_floats_with_numpy_scalars_are_not_rounded_through_float32():
    out = default_collate([-1.681, np.float32(1.5)])
    assert out.dtype == ember.float64 and out.tolist() == [-1.681, 1.5]
    assert ember.tensor([np.float32(1.5), 0.1], dtype=ember.float64).tolist() == [1.5, 0.1]


def test_tensors_mixed_with_other_types_raise_torchs_type_error():
    with pytest.raises(TypeError, match=r"^expected Tensor as element 1 in argument 0, but "
                                        r"got numpy\.float32$"):
        default_collate([ember.ones(2), np.float32(1)])
    with pytest.raises(TypeError, match="but got NoneType$"):
        default_collate([ember.ones(2, requires_grad=True), None])
    with pytest.raises(TypeError, match="but got list$"):
        default_collate([ember.ones(2), [1.0, 2.0]])


def test_arrays_mixed_with_other_types_collate_as_tensors():
    with pytest.raises(RuntimeError, match=r"^stack expects each tensor to be equal size, but "
                                           r"got \[1\] at entry 0 and \[\] at entry 1"):
        default_collate([np.ones(1), True])
    out = default_collate([np.array([1, 2], np.int32), [3, 4]])
    assert out.dtype == ember.int64 and out.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(TypeError, match=r"^can't convert np\.ndarray of type numpy\.str_\. "
                                        r"The only supported types are: .*uint16, uint8, and "
                                        r"bool\.$"):
        default_collate([np.ones(1, np.float32), np.array(["a"])])


# --- ember.tensor's errors on such batches (torch's types and messages) -------------------

TENSOR_ERRORS = [
    ([1, None], {}, RuntimeError, "Could not infer dtype of NoneType"),
    ([1.5, None], {"dtype": ember.float64}, TypeError, "must be real number, not NoneType"),
    ([1, None], {"dtype": ember.int64}, TypeError,
     "'NoneType' object cannot be interpreted as an integer"),
    (["x", 1], {}, ValueError, "too many dimensions 'str'"),
    ([1, "x"], {}, TypeError, "new(): invalid data type 'str'"),
    ([1, b"x"], {}, TypeError, "new(): invalid data type 'bytes'"),
    ([1.5, "x"], {"dtype": ember.float64}, TypeError, "must be real number, not str"),
    ([1.5, [1, 2]], {}, TypeError, "must be real number, not list"),
    ([1, [1, 2]], {}, TypeError, "'list' object cannot be interpreted as an integer"),
    ([[1, 2], 1], {}, TypeError, "not a sequence"),
    ([[1, 2], [1]], {}, ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ([1, ember.ones(2)], {}, ValueError,
     "only one element tensors can be converted to Python scalars"),
    ([1, np.arange(2)], {}, TypeError,
     "only integer scalar arrays can be converted to a scalar index"),
    ([1.5, None, [1]], {}, RuntimeError, "Could not infer dtype of NoneType"),
    ([np.bool_(True), [1]], {}, TypeError,
     "'numpy.bool' object cannot be interpreted as an integer"),
    ([np.float32(1), np.str_("a")], {}, TypeError,
     "can't convert np.ndarray of type numpy.str_."),
    ([1.5, "x"], {"dtype": ember.float64}, TypeError, "must be real number, not str"),
    ([1.5, np.str_("x")], {"dtype": ember.float64}, TypeError,
     "must be real number, not numpy.str_"),
    ([[1, 2], ember.ones(3)], {}, ValueError, "expected sequence of length 2 at dim 1 (got 3)"),
    ([[[1, 2]], ember.ones(1, 3)], {}, ValueError,
     "expected sequence of length 2 at dim 2 (got 3)"),
    ([[1, 2], ember.ones(2, 2)], {}, ValueError,
     "only one element tensors can be converted to Python scalars"),
]


@pytest.mark.parametrize("data, kwargs, exc, message", TENSOR_ERRORS,
                         ids=[str(i) for i in range(len(TENSOR_ERRORS))])
def test_tensor_from_mixed_data_raises_torchs_error(data, kwargs, exc, message):
    with pytest.raises(exc) as info:
        ember.tensor(data, **kwargs)
    assert type(info.value) is exc and str(info.value).startswith(message)


def test_one_element_tensors_count_as_scalars_in_a_list():
    out = ember.tensor([1.5, ember.ones(1)])
    assert out.dtype == ember.float32 and out.tolist() == [1.5, 1.0]
    out = ember.tensor([1, ember.ones(1, dtype=ember.float64)])
    assert out.dtype == ember.float64 and out.tolist() == [1.0, 1.0]
    assert ember.tensor([[1.5, 2], [ember.ones(1), 3]]).tolist() == [[1.5, 2.0], [1.0, 3.0]]
