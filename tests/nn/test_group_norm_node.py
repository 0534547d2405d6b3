"""group_norm is one node, torch's NativeGroupNormBackward0, with edges to input, weight and
bias; its gradients and second derivatives pass finite-difference checks."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.nn import functional as F


def _inputs(affine):
    rs = np.random.default_rng(3)
    x = ember.tensor(rs.standard_normal((2, 6, 3)), requires_grad=True)
    if not affine:
        return x, None, None
    w = ember.tensor(rs.standard_normal(6), requires_grad=True)
    b = ember.tensor(rs.standard_normal(6), requires_grad=True)
    return x, w, b


def test_one_node_with_three_edges():
    x, w, b = _inputs(True)
    y = F.group_norm(x, 3, w, b)
    assert type(y.grad_fn).__name__ == "NativeGroupNormBackward0"
    assert [type(fn).__name__ for fn, _ in y.grad_fn.next_functions] == ["AccumulateGrad"] * 3
    y = F.group_norm(x, 2)
    assert [fn is None for fn, _ in y.grad_fn.next_functions] == [False, True, True]


@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_and_gradgradcheck(affine):
    x, w, b = _inputs(affine)
    if affine:
        fn, args = (lambda x, w, b: F.group_norm(x, 3, w, b, eps=1e-3)), (x, w, b)
    else:
        fn, args = (lambda x: F.group_norm(x, 2, eps=1e-3)), (x,)
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_groups_are_normalised():
    x, _, _ = _inputs(False)
    y = F.group_norm(x, 3, eps=0.0).detach().numpy().reshape(2, 3, -1)
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1.0, rtol=1e-10)
