"""ember.nn.utils.rnn.pad_sequence (lives with the data tests: it is the padding the
collate functions are built on)."""
from __future__ import annotations

import pytest

import ember
from ember.nn.utils.rnn import pad_sequence


def test_time_first_by_default():
    out = pad_sequence([ember.tensor([1, 2, 3]), ember.tensor([4])])
    assert tuple(out.shape) == (3, 2)
    assert out.tolist() == [[1, 4], [2, 0], [3, 0]]


def test_batch_first_left_padding_and_value():
    out = pad_sequence([ember.tensor([1.0]), ember.tensor([2.0, 3.0])], batch_first=True,
                       padding_value=-1.0, padding_side="left")
    assert out.tolist() == [[-1.0, 1.0], [2.0, 3.0]]


def test_trailing_dims_and_first_dtype_wins():
    out = pad_sequence([ember.ones(2, 3, dtype=ember.int64), ember.ones(1, 3)],
                       batch_first=True)
    assert tuple(out.shape) == (2, 2, 3) and out.dtype == ember.int64


def test_tensor_input_is_split_along_dim0():
    assert tuple(pad_sequence(ember.ones(2, 3)).shape) == (3, 2)


def test_gradient_reaches_real_positions_only():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(3, requires_grad=True)
    out = pad_sequence([a, b], batch_first=True)
    (out * ember.arange(3.0)).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0] and b.grad.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("seqs, kwargs, match", [
    ([], {}, "received an empty list of sequences"),
    ([ember.ones(2)], {"padding_side": "middle"}, "Expected padding_side to be one of left"),
    ([ember.ones(2, 3), ember.ones(3, 2)], {}, "must match the size of tensor b"),
])
def test_errors(seqs, kwargs, match):
    with pytest.raises(RuntimeError, match=match):
        pad_sequence(seqs, **kwargs)
