"""Torch-free checks of the ops the autograd fuzzer led to change (what they save for
backward, views, node names): finite-difference gradients in float64, first and second
order, and the view and in-place behaviour fixed with them."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def _x(*shape, seed=0, low=0.5, high=2.0):
    rng = np.random.default_rng(seed)
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return ember.tensor(sign * rng.uniform(low, high, shape), dtype=ember.float64,
                        requires_grad=True)


FUNCS = {
    "var_dim": lambda x: x.var(0),
    "std_dim": lambda x: x.std(1, keepdim=True),
    "prod_dim": lambda x: x.prod(1),
    "prod_all": lambda x: x.prod(),
    "norm_all": lambda x: x.norm(),
    "norm_dim": lambda x: x.norm(dim=0),
    "amax_dim": lambda x: x.amax(-1),
    "amin_keepdim": lambda x: x.amin(0, keepdim=True),
    "logsumexp_dim": lambda x: x.logsumexp(1),
    "logsumexp_keepdim": lambda x: x.logsumexp(0, keepdim=True),
    "pow_number": lambda x: x ** 2.0,
    "lerp_number": lambda x: x.lerp(x * x, 0.3),
    "lerp_tensor": lambda x: x.lerp(x.exp(), x.sigmoid()),
    "unbind_rows": lambda x: ember.stack(x[0].unbind(0)),
    "unflatten_strided": lambda x: x[:, 1:].unflatten(0, (1, 2)),
    "split_sizes": lambda x: ember.cat(x.split([1, 2], 1), 1),
    "relu": lambda x: ember.relu(x) * x,
    "abs": lambda x: x.abs() * x,
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradients_match_finite_differences(name):
    x = _x(2, 3)
    assert gradcheck(FUNCS[name], (x,))
    assert gradgradcheck(FUNCS[name], (x,))


def test_results_saved_for_backward_are_checked_for_inplace_changes():
    x = _x(2, 3)
    for f in (lambda x: x.prod(1), lambda x: x.norm(), lambda x: x.amax(0),
              lambda x: x.logsumexp(1), lambda x: x.std(0)):
        out = f(x * 1)
        out.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    for f in (lambda x: x.var(0), lambda x: x ** 2.0, lambda x: x.lerp(x * 2, 0.5)):
        out = f(x * 1)
        out.add_(1)
        out.sum().backward()  # not saved: changing it is fine


def test_detached_view_is_no_view_and_views_refuse_detach_():
    y = _x(2, 3) * 1
    d = y[1:].detach()
    assert not d._is_view() and d._base is None
    d.add_(1)
    assert y._version == 1  # one version counter still
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        y[1:].detach_()


def test_split_pieces_and_their_views_refuse_inplace():
    y = _x(2, 3) * 1
    a, b = y.split([1, 1])
    assert type(a.grad_fn).__name__ == "SplitWithSizesBackward0"
    with pytest.raises(RuntimeError, match="^Output 0 of Slice is a view and is being"):
        a[:, 1:].mul_(2)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="^Output 1 of SplitWithSizes is a view and its base"):
        _ = b.grad_fn


def test_view_made_under_no_grad_requires_grad_but_gets_no_gradient():
    x = _x(2, 3)
    with ember.no_grad():
        v = x[1:]
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    (v * 3).sum().backward()
    assert v.grad is None and x.grad is None
    with pytest.raises(RuntimeError, match="^Output 0 of Select is a view of a view which was "
                                           "created in no_grad mode"):
        v[0].mul_(2)


def test_setitem_of_whole_tensor_is_a_copy():
    y = _x(2, 3) * 1
    y[:] = 2.0
    assert type(y.grad_fn).__name__ == "FillBackward3"
    z = _x(2, 3) * 1
    z[...] = _x(3, seed=1)
    assert type(z.grad_fn).__name__ == "CopyBackwards"


def test_overlapping_zero_dim_arguments_are_refused():
    a = ember.ones(4)
    with pytest.raises(RuntimeError, match="some elements of the input tensor"):
        a.add_(a[0])
    a.fill_(a[1])  # read as a number
    a[a > 0] = a[2]
    assert a.tolist() == [1.0] * 4


def test_clone_of_expanded_tensor_is_contiguous():
    c = ember.ones(3, 1).expand(3, 3, 1).clone()
    assert c.is_contiguous() and c.flatten()._is_view()
