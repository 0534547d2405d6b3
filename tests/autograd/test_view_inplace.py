"""In-place ops on views of tensors in a graph (torch's CopySlices), checked by finite
differences: each scenario is a function of float64 leaves that gradcheck differentiates."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck


def _leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=True)


def view_row_mul(a):
    x = a * 2
    x[0].mul_(3)
    return (x * x).sum()


def view_setitem_with_grad_value(a, w):
    x = a * 1
    x[1][1:] = w
    return (x * x * x).sum()


def base_changed_then_old_view_used(a):
    x = a * 2
    v = x[:, 1]  # made before the base changes
    x.mul_(3)
    return (v * v).sum()


def transposed_view(a):
    x = a * 2
    v = x.t()
    v[0].add_(10)
    v.mul_(v[:, :1] * 0 + 2)  # a recorded operand read from the view before the change
    return (x ** 2).sum()


def column_of_non_grad_base(w):
    b = ember.zeros(3, 4, dtype=ember.float64)
    b[:, 2].add_(w)
    return (b.exp() * b).sum()


def two_views_of_one_base(a):
    x = a.exp()
    y = x * 1
    r0, r1 = y[0], y[1]
    r0.mul_(2)
    r1.add_(r0)
    return (y * y).sum() + (r0 * 3).sum()


def expanded_view_refreshed(a):
    x = a * 1
    e = x[0:1].expand(3, 3)  # every row of ``e`` is row 0 of ``x``
    x[0].mul_(2)
    return (e * e).sum()


def flipped_strided_view(a):
    x = a * 1
    v = x[::-2, 1:]
    v.pow_(2)
    return (x * (x + 1)).sum()


SCENARIOS = [
    (view_row_mul, [(2, 3)]),
    (view_setitem_with_grad_value, [(2, 3), (2,)]),
    (base_changed_then_old_view_used, [(2, 3)]),
    (transposed_view, [(2, 3)]),
    (column_of_non_grad_base, [(3,)]),
    (two_views_of_one_base, [(2, 3)]),
    (expanded_view_refreshed, [(3, 3)]),
    (flipped_strided_view, [(5, 4)]),
]


@pytest.mark.parametrize("fn,shapes", SCENARIOS, ids=[f.__name__ for f, _ in SCENARIOS])
def test_gradients_through_in_place_view_changes(fn, shapes):
    leaves = [_leaf(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(fn, leaves)


def test_base_and_view_get_torch_node_names():
    a = _leaf(2, 3)
    x = a * 2
    v = x[0]
    v.mul_(3)
    assert x.grad_fn.name() == "CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert x._vc is v._vc and x._version == v._version == 1


def test_values_are_written_through_the_view():
    a = ember.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = a * 1
    x[:, 0].mul_(10)
    assert x.tolist() == [[10.0, 2.0], [30.0, 4.0]]


def test_view_of_a_leaf_that_requires_grad_is_refused():
    a = _leaf(2, 3)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0].mul_(2)
    with ember.no_grad():
        a[0].mul_(2)  # allowed: nothing is recorded


def test_base_saved_for_backward_then_changed_through_a_view_raises():
    a = _leaf(2, 3)
    x = a.exp()  # ExpBackward0 saves its output x
    x[0].add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        x.sum().backward()


def test_int_view_refuses_a_float_result():
    w = ember.tensor([1.5, 2.5], requires_grad=True)
    b = ember.zeros(2, 2, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        b[0].add_(w)


def test_mul_saves_only_the_operand_its_gradient_needs():
    # like torch: x * w with only x requiring grad saves w, so changing x afterwards is fine
    a = _leaf(2, 3)
    w = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)
    x = a * 2
    y = x * w
    x.add_(1)
    y.sum().backward()
    assert a.grad.tolist() == [[2.0, 4.0, 6.0]] * 2
    x = a * 2
    y = x * w
    w.add_(1)  # but w itself was saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("grad_mode", [True, False])
def test_writing_into_an_expanded_view_gives_torchs_error(grad_mode):
    x = ember.ones(1, 3, requires_grad=grad_mode) * 1
    e = x.expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.mul_(2)
    with ember.no_grad(), pytest.raises(RuntimeError, match="refers to a single memory location"):
        e.add_(1)


def test_a_0d_saved_output_changed_in_place_is_caught():
    # exp of a 0-d tensor: NumPy returns a scalar; the node must save the output's own array
    a = _leaf(3)
    z = a.sum().exp()
    with ember.no_grad():
        z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_division_by_a_number_does_not_keep_the_numerator():
    a = _leaf(3)
    y = a.abs()
    z = y / 5.0
    with ember.no_grad():
        y.add_(1)
    z.sum().backward()  # torch saves nothing of y here either
    assert np.allclose(a.grad.numpy(), np.sign(a.detach().numpy()) / 5.0)


def test_reductions_of_permuted_tensors_are_contiguous():
    x = ember.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)
    for reduced in (x.sum(1), x.mean(1), x.amax(1), x.softmax(1), x.std(1)):
        assert reduced.is_contiguous()
        assert reduced.view(-1).shape == (reduced.numel(),)


def test_index_put_mask_changed_after_recording_keeps_the_recorded_mask():
    x = ember.zeros(3, requires_grad=True)
    v = ember.ones(2, requires_grad=True)
    y = x * 1
    mask = ember.tensor([True, False, True])
    y[mask] = v * 2
    mask[0] = False  # the graph keeps the mask it was built with
    (y * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 6.0])
