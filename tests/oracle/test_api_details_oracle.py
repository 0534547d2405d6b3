"""Details of the op API against torch: ``alpha`` in add/sub, dtypes matrix products refuse
to mix, einsum's implicit output, ``view(dtype)``, ``sign`` of bools, and the layouts that
``clone``/``contiguous`` give for each memory format. Each case ``fn(T)`` runs with ember
and with torch; values, dtypes, strides and errors (type and message) must agree."""
from __future__ import annotations

import pytest

import ember


def _a(T):
    return T.arange(12.).reshape(3, 4) - 5


CASES = {
    # alpha
    "sub_scalar_alpha_keeps_float32": lambda T: T.sub(_a(T), 1, alpha=3),
    "add_float_alpha": lambda T: T.add(T.ones(2), T.tensor([1, 2]), alpha=2.5),
    "add_int_alpha_ints": lambda T: T.add(T.tensor([1, 2]), T.tensor([3, 4]), alpha=3),
    "add_float_alpha_ints": lambda T: T.add(T.tensor([1, 2]), T.tensor([3, 4]), alpha=2.0),
    "sub_float_alpha_ints": lambda T: T.sub(T.tensor([1, 2]), 1, alpha=0.5),
    "add_bool_alpha_ints": lambda T: T.add(T.tensor([1, 2]), T.tensor([3, 4]), alpha=True),
    "add_bools_int_alpha": lambda T: T.add(T.tensor([True, False]), T.tensor([False, False]),
                                           alpha=2),
    "add_in_place_float_alpha_int": lambda T: T.tensor([1, 2]).add_(T.tensor([1, 1]), alpha=2.0),
    "add_in_place_alpha": lambda T: T.ones(2).add_(T.tensor([1., 2.]), alpha=-2),
    "add_float64_scalar_alpha": lambda T: T.add(T.ones(2, dtype=T.float64), 1, alpha=2),
    "add_float16_scalar_alpha": lambda T: T.add(T.ones(2, dtype=T.float16), 1, alpha=2),
    # matrix products never promote
    "mm_float_double": lambda T: T.ones(2, 3) @ T.ones(3, 2, dtype=T.float64),
    "mv_float_double": lambda T: T.ones(2, 3) @ T.ones(3, dtype=T.float64),
    "dot_float_double": lambda T: T.ones(3) @ T.ones(3, dtype=T.float64),
    "vm_float_double": lambda T: T.ones(3) @ T.ones(3, 2, dtype=T.float64),
    "bmm_float_double": lambda T: T.ones(2, 2, 3) @ T.ones(2, 3, 2, dtype=T.float64),
    "batched_by_2d_float_double": lambda T: T.ones(2, 2, 3) @ T.ones(3, 2, dtype=T.float64),
    "mm_long_float": lambda T: T.ones(2, 2, dtype=T.int64) @ T.ones(2, 2),
    "mm_longs": lambda T: T.ones(2, 2, dtype=T.int64) @ T.ones(2, 2, dtype=T.int64),
    "addmm_bias_dtype": lambda T: T.addmm(T.ones(2, 2, dtype=T.float64), T.ones(2, 2),
                                          T.ones(2, 2)),
    "addmm_mat1_dtype": lambda T: T.addmm(T.ones(2, 2), T.ones(2, 2, dtype=T.float64),
                                          T.ones(2, 2)),
    "linear_weight_dtype": lambda T: T.nn.functional.linear(T.ones(2, 2),
                                                            T.ones(2, 2, dtype=T.float64)),
    "linear_bias_dtype": lambda T: T.nn.functional.linear(T.ones(2, 2), T.ones(2, 2),
                                                          T.ones(2, dtype=T.float64)),
    "linear_input_dtype_with_bias": lambda T: T.nn.functional.linear(
        T.ones(3, 2, dtype=T.float64), T.ones(2, 2), T.ones(2)),
    # einsum without '->'
    "einsum_implicit_matmul": lambda T: T.einsum("ij,jk", _a(T), _a(T).t()),
    "einsum_implicit_list": lambda T: T.einsum("ij,jk", [_a(T), _a(T).t()]),
    "einsum_implicit_transpose": lambda T: T.einsum("ji", _a(T)),
    "einsum_implicit_trace": lambda T: T.einsum("ii", T.arange(9.).reshape(3, 3)),
    "einsum_implicit_ellipsis": lambda T: T.einsum("...ij,...j", T.ones(3, 2, 2),
                                                   T.arange(6.).reshape(3, 2)),
    # view(dtype): the same bytes, read as another dtype
    "view_float_as_int32": lambda T: T.arange(6.).reshape(2, 3).view(T.int32),
    "view_float_as_int16": lambda T: T.ones(2, 2).view(T.int16),
    "view_float_as_double": lambda T: T.ones(2, 4).view(T.float64),
    "view_half_as_int16": lambda T: T.ones(2, dtype=T.float16).view(T.int16),
    "view_0d_same_size": lambda T: T.tensor(1.).view(T.int32),
    "view_odd_last_dim_as_double": lambda T: T.ones(3).view(T.float64),
    "view_strided_as_double": lambda T: T.ones(4, 2).t().view(T.float64),
    "view_0d_as_double": lambda T: T.tensor(1.).view(T.float64),
    "view_writes_through": lambda T: _write_through_dtype_view(T),
    "view_dtype_has_no_grad": lambda T: (T.ones(2, requires_grad=True) * 1).view(T.float32)
    .requires_grad,
    # sign of bools
    "sign_bool": lambda T: T.sign(T.tensor([True, False])),
    # layouts of copies
    "clone_keeps_permuted_layout": lambda T: T.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)
    .clone().stride(),
    "clone_contiguous_format": lambda T: T.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)
    .clone(memory_format=T.contiguous_format).stride(),
    "contiguous_of_transposed": lambda T: T.ones(3, 2).t().contiguous().stride(),
    "clone_channels_last": lambda T: T.ones(2, 3, 4, 5).clone(memory_format=T.channels_last)
    .stride(),
    "contiguous_channels_last": lambda T: _channels_last_round_trip(T),
    "clone_channels_last_needs_4d": lambda T: T.ones(2, 3).clone(memory_format=T.channels_last),
    # writes at indices, out of place and in place, and their errors
    "index_fill_in_place": lambda T: T.zeros(3, 4).index_fill_(0, T.tensor([1]), 2.),
    "index_copy_in_place": lambda T: T.zeros(3, 4).index_copy_(1, T.tensor([0]), T.ones(3, 1)),
    "masked_scatter_in_place": lambda T: (lambda y: y.masked_scatter_(y == 0, T.arange(12.)))(
        T.eye(3, 4)),
    "put_in_place": lambda T: T.zeros(3, 4).put_(T.tensor([0, -1]), T.tensor([9., 8.])),
    "index_fill_int_tensor": lambda T: T.ones(3, dtype=T.int64).index_fill(0, T.tensor([1]), 7),
    "index_fill_out_of_range": lambda T: _a(T).index_fill(1, T.tensor([4]), 0.),
    "index_fill_2d_index": lambda T: _a(T).index_fill(1, T.tensor([[0]]), 0.),
    "index_fill_float_index": lambda T: _a(T).index_fill(1, T.tensor([0.]), 0.),
    "index_fill_vector_value": lambda T: _a(T).index_fill(1, T.tensor([0]), T.ones(2)),
    "index_copy_count": lambda T: _a(T).index_copy(0, T.tensor([0]), T.ones(2, 4)),
    "index_copy_negative": lambda T: _a(T).index_copy(0, T.tensor([-1]), T.ones(1, 4)),
    "masked_scatter_short_source": lambda T: _a(T).masked_scatter(_a(T) > 0, T.zeros(3)),
    "put_out_of_range": lambda T: _a(T).put(T.tensor([12]), T.tensor([1.])),
    "put_count": lambda T: _a(T).put(T.tensor([1]), T.tensor([1., 2.])),
    # windows and strided views
    "unfold_windows": lambda T: T.arange(7.).unfold(0, 3, 2),
    "unfold_too_big": lambda T: _a(T).unfold(1, 5, 1),
    "unfold_zero_step": lambda T: _a(T).unfold(1, 2, 0),
    "as_strided_from_storage_start": lambda T: T.arange(6.)[2:].as_strided((2,), (1,), 0),
    "as_strided_out_of_bounds": lambda T: T.arange(6.).as_strided((10,), (1,)),
    "storage_offset": lambda T: _a(T)[1:, 2:].storage_offset(),
    # Python floats are doubles until the requested dtype rounds them, once
    "tensor_float64_from_floats": lambda T: T.tensor([1e-30, 0.1], dtype=T.float64),
    "tensor_int64_from_big_float": lambda T: T.tensor([16777217.0], dtype=T.int64),
    "as_tensor_float64_from_floats": lambda T: T.as_tensor([[0.1, 1e-40]], dtype=T.float64),
    # small methods
    "H_of_3d": lambda T: T.ones(2, 3, 4).H,
    "mH": lambda T: T.ones(2, 3, 4).mH.shape,
    "eq_none": lambda T: T.ones(2) == None,  # noqa: E711
    "ne_none": lambda T: T.ones(2) != None,  # noqa: E711
    "imul_bool_by_int": lambda T: T.tensor([True]).mul_(2),
    "iadd_int_by_float": lambda T: T.tensor([1]).add_(1.5),
    "invert_float": lambda T: ~T.ones(1),
    "permute_duplicate_dims": lambda T: _a(T).permute(0, 0),
    "chunk_empty": lambda T: tuple(t.shape for t in T.ones(0, 2).chunk(2)),
    "fill_with_vector": lambda T: T.zeros(2).fill_(T.tensor([3.])),
    "copy_wrong_shape": lambda T: T.zeros(2, 2).copy_(T.ones(3)),
    "copy_no_broadcast_back": lambda T: T.zeros(2).copy_(T.ones(2, 2)),
    "normal_of_ints": lambda T: T.zeros(2, dtype=T.int64).normal_(),
    "uniform_of_ints": lambda T: T.zeros(2, dtype=T.int64).uniform_(),
    "exponential_of_ints": lambda T: T.zeros(2, dtype=T.int64).exponential_(),
    "requires_grad_of_ints": lambda T: T.tensor([1]).requires_grad_(),
    "apply_": lambda T: T.ones(2).apply_(lambda v: v * 3),
    "apply_with_grad": lambda T: T.ones(2, requires_grad=True).apply_(lambda v: v),
    "map_": lambda T: T.ones(2, 2).map_(T.tensor([1., 2.]), lambda a, b: a + b),
    "is_nonzero": lambda T: (T.tensor([2.]).is_nonzero(), T.tensor([0]).is_nonzero()),
    "is_nonzero_many": lambda T: T.ones(2).is_nonzero(),
    "dim_order": lambda T: T.ones(2, 3, 4).permute(2, 0, 1).dim_order(),
}


def _write_through_dtype_view(T):
    w = T.ones(2)
    w.view(T.int32)[0] = 0
    return w, w._version


def _channels_last_round_trip(T):
    y = T.ones(2, 3, 4, 5).contiguous(memory_format=T.channels_last)
    return (y.is_contiguous(), y.is_contiguous(memory_format=T.channels_last),
            y.contiguous(memory_format=T.channels_last) is y)


def _outcome(T, fn):
    try:
        return _plain(fn(T))
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).splitlines()[0]


def _plain(v):
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if hasattr(v, "tolist") and hasattr(v, "dtype"):
        return str(v.dtype).split(".")[-1], tuple(v.shape), v.tolist()
    return v


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_torch(name, torch):
    assert _outcome(ember, CASES[name]) == _outcome(torch, CASES[name])
