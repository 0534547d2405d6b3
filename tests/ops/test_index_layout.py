"""Index tensors give results laid out as torch's (contiguous for a contiguous source, so
``view`` works), and a subscript's node is named after the view op torch applies last."""
import numpy as np

import ember


def test_leading_slice_then_index_list_is_contiguous():
    x = ember.arange(24.).reshape(2, 3, 4)
    picked = x[:, [0, 2]]
    assert picked.is_contiguous() and picked.stride() == (8, 4, 1)
    np.testing.assert_array_equal(picked.view(-1).numpy(),
                                  x.numpy()[:, [0, 2]].reshape(-1))


def test_index_after_a_transpose_follows_the_source_order():
    z = ember.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)  # strides (1, 12, 4)
    picked = z[:, [0, 1]]  # torch's iterator keeps the source's fastest dim fastest
    assert picked.stride() == (1, 4, 8)
    np.testing.assert_array_equal(picked.numpy(), z.numpy()[:, [0, 1]])


def test_apart_index_lists_move_to_the_front_contiguous():
    x = ember.arange(24.).reshape(2, 3, 4)
    picked = x[[0, 1], :, [0, 1]]
    assert picked.shape == (2, 3) and picked.is_contiguous()


def test_tracked_index_result_keeps_the_layout_and_gradient():
    x = ember.arange(24.).reshape(2, 3, 4).requires_grad_()
    picked = x[:, [0, 0]]
    assert picked.is_contiguous()
    picked.view(-1).sum().backward()
    want = np.zeros((2, 3, 4))
    want[:, 0] = 2
    np.testing.assert_array_equal(x.grad.numpy(), want)


def _name(t):
    return type(t.grad_fn).__name__


def test_whole_dim_slices_in_a_tuple_are_skipped():
    x = ember.ones(3, 4, requires_grad=True)
    assert _name(x[0:3, :]) == "AliasBackward0"
    assert _name(x[:100, :]) == "AliasBackward0"
    assert _name(x[1, 0:4]) == "SelectBackward0"
    assert _name(x[-3:, :]) == "SliceBackward0"  # a negative start is never skipped
    assert _name(x[0:3]) == "SliceBackward0"  # a lone slice always slices


def test_ops_built_on_slices_keep_their_slice_node():
    x = ember.ones(3, 4, requires_grad=True)
    assert _name(x.narrow(1, 0, 4)) == "SliceBackward0"
    assert _name(x.tensor_split(1, dim=1)[0]) == "SliceBackward0"
    assert _name(x.hsplit(1)[0]) == "SliceBackward0"
    empty = ember.ones(3, 0, requires_grad=True)
    assert _name(empty.chunk(2, dim=1)[0]) == "SplitWithSizesBackward0"


def test_setitem_with_view_ops_and_index_lists_writes_through_the_view():
    x = ember.ones(3, 4, dtype=ember.float64, requires_grad=True)
    v = ember.tensor([7.0, 8.0], dtype=ember.float64, requires_grad=True)
    y = x * 1
    y[1:, [0, 2]] = v  # torch: index_put_ into the view y[1:] (CopySlices on y)
    assert _name(y) == "CopySlices"
    (y * ember.arange(12.).reshape(3, 4)).sum().backward()
    want = np.arange(12.).reshape(3, 4)
    want[1:, [0, 2]] = 0
    np.testing.assert_array_equal(x.grad.numpy(), want)
    np.testing.assert_array_equal(v.grad.numpy(), [4.0 + 8.0, 6.0 + 10.0])


def test_setitem_slice_with_negative_start_is_a_view_write():
    y = ember.ones(3, 4, requires_grad=True) * 1
    y[-5:] = 2.0  # covers every row, but torch only skips a slice that starts at 0
    assert _name(y) == "CopySlices"
    z = ember.ones(3, 4, requires_grad=True) * 1
    z[:] = 2.0
    assert _name(z) == "FillBackward3"
