"""``out=`` writes into the given tensor's memory, and writes into shared memory follow torch's
rules (the same cases run against torch in ``tests/oracle/test_overlap_and_out_oracle.py``)."""
from __future__ import annotations

import numpy as np
import pytest

import ember

PARTIAL = "some elements of the input tensor and the written-to tensor refer to a single memory"
INTERNAL = "more than one element of the written-to tensor refers to a single memory location"


@pytest.mark.parametrize("op, expected", [
    (lambda x, out: ember.add(x[3:], x[:3], out=out), [3., 5., 7.]),
    (lambda x, out: ember.sub(x[3:], 1, out=out), [2., 3., 4.]),
    (lambda x, out: ember.mul(x[3:], 2, out=out), [6., 8., 10.]),
    (lambda x, out: ember.div(x[3:], 2, out=out), [1.5, 2., 2.5]),
    (lambda x, out: ember.exp(ember.zeros(3), out=out), [1., 1., 1.]),
    (lambda x, out: ember.cat([ember.ones(1), ember.zeros(2)], out=out), [1., 0., 0.]),
    (lambda x, out: ember.matmul(ember.ones(3, 2), ember.ones(2), out=out), [2., 2., 2.]),
])
def test_out_writes_through_a_view_into_its_base(op, expected):
    x = ember.arange(6.)
    out = x[:3]
    result = op(x, out)
    assert result is out
    np.testing.assert_array_equal(x.numpy(), expected + [3., 4., 5.])
    assert x._version == out._version == 1


def test_out_keeps_its_dtype_and_refuses_a_lossy_cast():
    out = ember.zeros(3, dtype=ember.float64)
    ember.add(ember.ones(3), 1, out=out)
    assert out.dtype == ember.float64 and out.tolist() == [2., 2., 2.]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        ember.add(ember.ones(3), 1, out=ember.zeros(3, dtype=ember.int64))


def test_out_refuses_autograd_and_overlap():
    with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=\.\.\. arguments"):
        ember.mul(ember.ones(3, requires_grad=True), 2, out=ember.zeros(3))
    x = ember.arange(6.)
    with pytest.raises(RuntimeError, match=PARTIAL):
        ember.exp(x[1:], out=x[:-1])
    with pytest.raises(RuntimeError, match=INTERNAL):
        ember.add(ember.ones(2, 3), 1, out=ember.zeros(1, 3).expand(2, 3))


def test_out_of_another_shape_is_resized_with_a_warning():
    out = ember.zeros(2)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[2\]"):
        ember.add(ember.ones(3), 1, out=out)
    assert out.tolist() == [2., 2., 2.]


def test_creation_functions_fill_out():
    out = ember.full((3,), 7, dtype=ember.int64)
    ember.ones(2, out=out)
    assert out.dtype == ember.int64 and out.tolist() == [1, 1]
    y = ember.ones(4)
    ember.zeros(2, 2, out=y)
    assert y.shape == (2, 2) and y.sum().item() == 0
    with pytest.raises(RuntimeError, match=r"dtype Double does not match dtype of out parameter"):
        ember.ones(3, dtype=ember.float64, out=ember.zeros(3))


def test_in_place_arguments_overlapping_the_target():
    x = ember.ones(3, 4)
    with pytest.raises(RuntimeError, match=PARTIAL):
        x.add_(x[0])
    with pytest.raises(RuntimeError, match=PARTIAL):
        x[1:].copy_(x[:-1])
    with pytest.raises(RuntimeError, match=PARTIAL):
        x[1:] = x[:-1]
    x.add_(x)  # the same memory in the same layout is fine
    x[:, 0].add_(x[:, 1])  # interleaved columns: not dense, so not checked (as torch)
    x[1:].mul_(x[0, 0])  # a 0-d argument is read first
    assert x[:, 0].tolist() == [4., 16., 16.]


def test_expanded_views_take_fill_and_row_writes():
    a = ember.ones(1, 4)
    e = a.expand(3, 4)
    e.fill_(2.)
    assert a.tolist() == [[2.] * 4]
    e[0, 1] = 5.
    e[1] += 1
    assert a.tolist() == [[3., 6., 3., 3.]]
    for write in (lambda: e.add_(1), lambda: e.exp_(), lambda: e.copy_(ember.ones(3, 4)),
                  lambda: e.__setitem__((slice(None), 1), 5.)):
        with pytest.raises(RuntimeError, match=INTERNAL):
            write()


def test_recorded_write_through_a_row_of_an_expanded_view():
    w = ember.ones(4, requires_grad=True)
    a = (w * 1).reshape(1, 4)
    a.expand(3, 4)[1] = w * 3
    (a * 2).sum().backward()
    assert a.tolist() == [[3.] * 4]
    assert w.grad.tolist() == [6.] * 4
