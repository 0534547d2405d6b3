"""Every row of the op table: backward against float64 central differences."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from tests.helpers import make_inputs
from tests.ops.op_table import OPS


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
def test_backward_matches_finite_differences(case):
    inputs = make_inputs(case, dtype=np.float64, seed=0)
    assert gradcheck(case.fn, inputs)


def test_clamp_backward_selects_so_a_nan_gradient_outside_the_range_gives_zero():
    # torch's clamp backward is where(lo <= x <= hi, grad, 0), not grad * mask
    x = ember.tensor([0.5, 2.0, -1.0], requires_grad=True)
    lo = ember.tensor([0.0, 0.0, 0.0], requires_grad=True)
    out = ember.clamp(x, min=lo, max=ember.ones(3))
    out.backward(ember.tensor([1.0, float("nan"), 2.0]))
    assert x.grad.tolist() == [1.0, 0.0, 0.0]
    assert lo.grad.tolist() == [0.0, 0.0, 2.0]
