"""The op test table: one row per op and variant.

``tests/ops/test_gradcheck.py`` checks every row's backward against finite differences and
``tests/oracle/test_ops_oracle.py`` checks values, dtypes and gradients against torch. Most
rows are written once as ``f(m, *inputs)`` and run with ``m`` = ember or torch; integer and
mask arguments are NumPy constants below, turned into tensors with ``m.tensor``. Domains keep
away from kinks and poles (positive bases for log/sqrt/pow, well-separated clamp bounds).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

import ember


@dataclass(frozen=True)
class OpCase:
    name: str
    fn: Callable  # takes ember Tensors
    torch_fn: Callable | None  # the same call in torch; None if it has no twin
    shapes: tuple  # one shape per input
    low: float = -2.0  # sampling domain
    high: float = 2.0
    rtol: float = 1e-5  # float32 tolerances for the oracle
    atol: float = 1e-5
    torch_grad: bool = True  # False where torch's own backward fails


def _on_torch(f, *xs):
    import torch

    return f(torch, *xs)


def case(name, f, shapes, low=-2.0, high=2.0, *, torch_f=None, **tol):
    """A row whose ember and torch calls are both ``f(module, *inputs)``."""
    return OpCase(name, partial(f, ember), partial(_on_torch, torch_f or f), shapes, low, high,
                  **tol)


def F(m):  # noqa: N802  (torch.nn.functional's usual alias)
    """torch.nn.functional, or ember.ops (where ember keeps those functions' kernels)."""
    return ember.ops if m is ember else m.nn.functional


def _setitem(x, index, value):
    x[index] = value
    return x


A, B = (3, 4), (4,)
IDX_DUP = np.array([0, 2, 0])  # repeated row: backward must accumulate
IDX_2D = np.array([[1, 0], [2, 2]])
IDX_COL = np.array([3, 1, 3, 0])
GATHER_IDX = np.array([[0, 3], [1, 1], [2, 0]])  # (3, 2) along dim 1, with a duplicate
GATHER_IDX0 = np.array([[2, 0, 1, 2], [2, 2, 0, 1]])  # (2, 4) along dim 0
ZEROS_MASK = np.array([[1., 0., 1., 1.], [0., 1., 0., 1.], [1., 1., 1., 0.]])
SMALL_IDX = np.array([[0, 3], [1, 1]])  # smaller than the input in the other dim too
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False,
                                                                           False]])
ROW_MASK = np.array([True, False, True])
PUT_IDX = np.array([2, 0, 2])  # index_put with accumulate=True sums the duplicate row
COL_MASK = np.array([False, True, True, False])


OPS = [
    # --- arithmetic -------------------------------------------------------------------
    case("add", lambda m, a, b: a + b, (A, A)),
    case("add_broadcast", lambda m, a, b: a + b, (A, B)),
    case("add_size1_dims", lambda m, a, b: a + b, ((3, 1), (1, 4))),
    case("add_scalar_shape", lambda m, a, b: a + b, ((), ())),
    case("add_0d_and_1d", lambda m, a, b: m.add(a, b), ((), B)),
    case("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), ((2, 3), (3,))),
    case("add_python_scalar", lambda m, a: a + 1.5, (A,)),
    case("radd_python_scalar", lambda m, a: 1.5 + a, (A,)),
    case("sub_broadcast", lambda m, a, b: a - b, (B, A)),
    case("sub_alpha", lambda m, a, b: m.sub(a, b, alpha=-0.5), (A, (3, 1))),
    case("sub_python_scalar", lambda m, a: a - 2, (A,)),
    case("rsub_python_scalar", lambda m, a: 2 - a, (A,)),
    case("mul", lambda m, a, b: a * b, (A, A)),
    case("mul_broadcast", lambda m, a, b: a * b, ((2, 3, 4), (3, 1))),
    case("mul_scalar_shape", lambda m, a, b: a * b, ((), ())),
    case("mul_python_scalar", lambda m, a: a * 3, (A,)),
    case("rmul_python_scalar", lambda m, a: 0.5 * a, (A,)),
    case("mul_self", lambda m, a: a * a, (A,)),
    case("div", lambda m, a, b: a / b, (A, A), 0.5, 2.0),
    case("div_broadcast", lambda m, a, b: a / b, (A, B), 0.5, 2.0),
    case("div_by_self", lambda m, a: a / a, (A,), 0.5, 2.0),
    case("div_python_scalar", lambda m, a: a / 4, (A,)),
    case("rdiv_python_scalar", lambda m, a: 2 / a, (A,), 0.5, 2.0),
    case("neg", lambda m, a: -a, (A,)),
    case("neg_scalar_shape", lambda m, a: m.neg(a), ((),)),
    case("pow_tensor", lambda m, a, b: a ** b, (A, A), 0.5, 2.0),
    case("pow_tensor_broadcast", lambda m, a, b: m.pow(a, b), (A, (3, 1)), 0.5, 2.0),
    case("pow_scalar_shape", lambda m, a, b: a ** b, ((), ()), 0.5, 2.0),
    case("pow_int_exponent", lambda m, a: a ** 2, (A,)),
    case("pow_cube", lambda m, a: m.pow(a, 3), (A,)),
    case("pow_float_exponent", lambda m, a: a ** 0.5, (A,), 0.5, 2.0),
    case("pow_negative_exponent", lambda m, a: a ** -1.5, (A,), 0.5, 2.0),
    case("pow_scalar_base", lambda m, a: 2.0 ** a, (A,)),
    case("pow_scalar_base_fn", lambda m, a: m.pow(3, a), (A,)),
    # --- unary math and activations -----------------------------------------------------
    case("abs", lambda m, a: a.abs(), (A,)),
    case("exp", lambda m, a: m.exp(a), (A,)),
    case("exp_scalar_shape", lambda m, a: a.exp(), ((),)),
    case("log", lambda m, a: m.log(a), (A,), 0.5, 2.0),
    case("log1p", lambda m, a: m.log1p(a), (A,), -0.5, 2.0),
    case("sqrt", lambda m, a: m.sqrt(a), (A,), 0.5, 2.0),
    case("rsqrt", lambda m, a: m.rsqrt(a), (A,), 0.5, 2.0),
    case("sin", lambda m, a: m.sin(a), (A,)),
    case("cos", lambda m, a: m.cos(a), (A,)),
    case("tanh", lambda m, a: m.tanh(a), (A,)),
    case("sigmoid", lambda m, a: m.sigmoid(a), (A,), -4.0, 4.0),
    case("sigmoid_large_values", lambda m, a: a.sigmoid(), (A,), -40.0, 40.0),
    case("tanh_large_values", lambda m, a: a.tanh(), (A,), -30.0, 30.0),
    case("relu", lambda m, a: m.relu(a), (A,)),
    case("gelu", lambda m, a: F(m).gelu(a), (A,), -3.0, 3.0),
    case("gelu_tanh", lambda m, a: F(m).gelu(a, approximate="tanh"), (A,), -3.0, 3.0),
    case("silu", lambda m, a: F(m).silu(a), (A,), -3.0, 3.0),
    case("softplus", lambda m, a: F(m).softplus(a), (A,), -3.0, 3.0),
    case("softplus_large_values", lambda m, a: F(m).softplus(a), (A,), -60.0, 60.0),
    case("softplus_beta_threshold", lambda m, a: F(m).softplus(a, beta=2.0, threshold=1.5),
         ((4, 5),), -2.0, 2.0),
    case("clamp", lambda m, a: a.clamp(-0.5, 0.7), (A,)),
    case("clamp_min", lambda m, a: m.clamp(a, min=0.25), (A,)),
    case("clamp_max", lambda m, a: a.clamp(max=-0.25), (A,)),
    case("clamp_tensor_bounds",
         lambda m, a, lo, hi: m.clamp(2 * a, min=lo * 0.5 - 1, max=hi * 0.5 + 1),
         (A, B, (3, 1))),
    case("clamp_tensor_bounds_crossed",  # min > max: torch returns max everywhere
         lambda m, a, lo, hi: m.clamp(a, min=lo * 0.5 + 1, max=hi * 0.5 - 1), (A, A, A)),
    case("clamp_tensor_min_only", lambda m, a, lo: m.clamp(a, min=lo), (A, B)),
    case("maximum", lambda m, a, b: m.maximum(a, b), (A, B)),
    case("minimum", lambda m, a, b: m.minimum(a, b), ((3, 1), A)),
    case("where", lambda m, a, b: m.where(m.tensor(MASK), a, b), (A, B)),
    case("where_scalar_other", lambda m, a: m.where(m.tensor(ROW_MASK)[:, None], a, 0.0), (A,)),
    case("where_condition_from_input", lambda m, a, b: m.where(a > 0, a, b), (A, A)),
    # --- matrix products ----------------------------------------------------------------
    case("matmul_1d_1d", lambda m, a, b: a @ b, ((4,), (4,))),
    case("matmul_1d_2d", lambda m, a, b: a @ b, ((4,), (4, 3))),
    case("matmul_2d_1d", lambda m, a, b: m.matmul(a, b), ((3, 4), (4,))),
    case("matmul_2d_2d", lambda m, a, b: a @ b, ((3, 4), (4, 5))),
    case("matmul_batched", lambda m, a, b: a @ b, ((2, 3, 4), (2, 4, 5))),
    case("matmul_batched_2d", lambda m, a, b: a @ b, ((2, 3, 4), (4, 5))),
    case("matmul_2d_batched", lambda m, a, b: a @ b, ((3, 4), (2, 4, 5))),
    case("matmul_broadcast_batch", lambda m, a, b: a @ b, ((2, 1, 3, 4), (3, 4, 2))),
    case("matmul_transposed_operands", lambda m, a, b: a.t() @ b.t(), ((4, 3), (5, 4))),
    case("matmul_1d_batched", lambda m, a, b: a @ b, ((4,), (2, 4, 3))),
    case("matmul_batched_1d", lambda m, a, b: a @ b, ((2, 3, 4), (4,))),
    case("mm", lambda m, a, b: m.mm(a, b), ((3, 4), (4, 2))),
    case("bmm", lambda m, a, b: m.bmm(a, b), ((2, 3, 4), (2, 4, 2))),
    case("addmm", lambda m, c, a, b: m.addmm(c, a, b), ((3, 2), (3, 4), (4, 2))),
    case("addmm_broadcast_bias_alpha_beta",
         lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0), ((2,), (3, 4), (4, 2))),
    case("linear", lambda m, x, w, b: F(m).linear(x, w, b), ((3, 4), (5, 4), (5,))),
    case("linear_batched", lambda m, x, w, b: F(m).linear(x, w, b), ((2, 3, 4), (5, 4), (5,))),
    case("linear_no_bias", lambda m, x, w: F(m).linear(x, w), ((3, 4), (2, 4))),
    case("linear_1d_input", lambda m, x, w, b: F(m).linear(x, w, b), ((4,), (3, 4), (3,))),
    # --- reductions --------------------------------------------------------------------
    case("sum", lambda m, a: a.sum(), (A,)),
    case("sum_scalar_shape", lambda m, a: a.sum(), ((),)),
    case("sum_dim", lambda m, a: a.sum(dim=1), ((2, 3, 4),)),
    case("sum_dims_keepdim", lambda m, a: m.sum(a, dim=(0, 2), keepdim=True), ((2, 3, 4),)),
    case("sum_negative_dim", lambda m, a: a.sum(-1), (A,)),
    case("sum_size1_dim", lambda m, a: a.sum(1), ((3, 1, 2),)),
    case("sum_empty", lambda m, a: a.sum(0), ((0, 3),)),
    case("sum_dim_scalar_shape", lambda m, a: a.sum(dim=0, keepdim=True), ((),)),
    case("mean", lambda m, a: a.mean(), (A,)),
    case("mean_dim", lambda m, a: m.mean(a, dim=-1), ((2, 3, 4),)),
    case("mean_scalar_shape", lambda m, a: a.mean(), ((),)),
    case("mean_dims_keepdim", lambda m, a: a.mean(dim=(0, 2), keepdim=True), ((2, 3, 4),)),
    case("var", lambda m, a: a.var(), (A,)),
    case("var_dim", lambda m, a: m.var(a, dim=1), ((2, 3, 4),)),
    case("var_correction0_keepdim", lambda m, a: a.var(dim=0, correction=0, keepdim=True), (A,)),
    case("var_unbiased_false", lambda m, a: m.var(a, 1, unbiased=False), (A,)),
    case("var_dims", lambda m, a: a.var(dim=(0, 2), correction=2), ((2, 3, 4),)),
    case("std", lambda m, a: a.std(), (A,)),
    case("std_dim_keepdim", lambda m, a: m.std(a, dim=1, keepdim=True), (A,)),
    case("std_correction0", lambda m, a: a.std(dim=0, correction=0), (A,)),
    case("prod", lambda m, a: a.prod(), (A,), 0.5, 1.5),
    case("prod_dim", lambda m, a: m.prod(a, 1), ((2, 3, 4),), 0.5, 1.5),
    case("prod_dim_keepdim", lambda m, a: a.prod(dim=0, keepdim=True), (A,), 0.5, 1.5),
    case("prod_scalar_shape", lambda m, a: a.prod(), ((),)),
    case("max", lambda m, a: a.max(), (A,)),
    case("min", lambda m, a: m.min(a), (A,)),
    case("max_scalar_shape", lambda m, a: a.max(), ((),)),
    case("max_dim", lambda m, a: a.max(dim=1), ((2, 3, 4),)),
    case("max_dim_size1", lambda m, a: a.max(dim=1), ((3, 1),)),
    case("max_dim_scalar_shape", lambda m, a: a.max(dim=0), ((),)),
    case("max_dim_keepdim", lambda m, a: m.max(a, 0, keepdim=True), (A,)),
    case("min_dim", lambda m, a: a.min(dim=-1), (A,)),
    case("max_binary", lambda m, a, b: m.max(a, b), (A, B)),
    case("amax", lambda m, a: m.amax(a, dim=(0, 2)), ((2, 3, 4),)),
    case("amax_keepdim", lambda m, a: a.amax(dim=1, keepdim=True), (A,)),
    case("amin", lambda m, a: m.amin(a, dim=0), (A,)),
    case("amax_scalar_shape", lambda m, a: a.amax(dim=0), ((),)),
    case("softmax", lambda m, a: m.softmax(a, dim=1), (A,), -3.0, 3.0),
    case("softmax_dim0_3d", lambda m, a: a.softmax(0), ((2, 3, 4),), -3.0, 3.0),
    case("softmax_large_values", lambda m, a: m.softmax(a, dim=1), (A,), -80.0, 80.0),
    case("softmax_size1_dim", lambda m, a: m.softmax(a, dim=1), ((3, 1),)),
    case("softmax_scalar_shape", lambda m, a: m.softmax(a, dim=0), ((),)),
    case("log_softmax", lambda m, a: m.log_softmax(a, dim=-1), (A,), -3.0, 3.0),
    case("log_softmax_large_values", lambda m, a: a.log_softmax(0), (A,), -80.0, 80.0),
    case("log_softmax_3d", lambda m, a: a.log_softmax(dim=1), ((2, 3, 4),), -3.0, 3.0),
    case("logsumexp", lambda m, a: m.logsumexp(a, dim=1), (A,), -3.0, 3.0),
    case("logsumexp_large_values", lambda m, a: m.logsumexp(a, dim=0), (A,), -90.0, 90.0),
    case("logsumexp_scalar_shape", lambda m, a: m.logsumexp(a, 0), ((),)),
    case("logsumexp_dims_keepdim", lambda m, a: a.logsumexp(dim=(0, 2), keepdim=True),
         ((2, 3, 4),), -3.0, 3.0),
    case("cumsum", lambda m, a: a.cumsum(dim=1), (A,)),
    case("cumsum_dim0", lambda m, a: m.cumsum(a, 0), ((2, 3, 4),)),
    case("cumsum_scalar_shape", lambda m, a: a.cumsum(0), ((),)),
    case("cumprod", lambda m, a: a.cumprod(dim=1), (A,), 0.5, 1.5),
    case("cumprod_signs_dim0", lambda m, a: m.cumprod(a, 0), ((2, 3, 4),)),
    case("cumprod_scalar_shape", lambda m, a: a.cumprod(0), ((),)),
    # zeros inside the product: one, two, none and a leading zero per row (no division by 0)
    case("cumprod_with_zeros", lambda m, a: (a * m.tensor(ZEROS_MASK)).cumprod(1), (A,)),
    case("cumprod_with_zeros_dim0", lambda m, a: (a * m.tensor(ZEROS_MASK.T)).cumprod(0),
         ((4, 3),)),
    # --- shapes ------------------------------------------------------------------------
    case("reshape", lambda m, a: a.reshape(4, -1), (A,)),
    case("reshape_tuple", lambda m, a: m.reshape(a, (2, 2, 3)), (A,)),
    case("reshape_scalar_shape", lambda m, a: a.reshape(1, 1), ((),)),
    case("reshape_non_contiguous", lambda m, a: a.t().reshape(-1), (A,)),
    case("view", lambda m, a: a.view(2, 6), (A,)),
    case("view_then_mul", lambda m, a: a.view(-1) * a.view(-1), (A,)),
    case("flatten", lambda m, a: a.flatten(), ((2, 3, 4),)),
    case("flatten_start_dim", lambda m, a: m.flatten(a, 1), ((2, 3, 4),)),
    case("unflatten", lambda m, a: a.unflatten(1, (2, 2)), (A,)),
    case("squeeze", lambda m, a: a.squeeze(), ((3, 1, 4),)),
    case("squeeze_dim", lambda m, a: m.squeeze(a, 1), ((3, 1, 1),)),
    case("unsqueeze", lambda m, a: a.unsqueeze(0), (A,)),
    case("unsqueeze_scalar_shape", lambda m, a: a.unsqueeze(0), ((),)),
    case("unsqueeze_negative", lambda m, a: m.unsqueeze(a, -1), (A,)),
    case("expand", lambda m, a: a.expand(2, 3, 4), ((3, 1),)),
    case("expand_scalar_shape", lambda m, a: a.expand(3, 2), ((),)),
    case("expand_keep_dim", lambda m, a: a.expand(-1, 4), ((3, 1),)),
    case("expand_then_mul", lambda m, a, b: a.expand(3, 4) * b, ((1, 4), A)),
    case("repeat", lambda m, a: a.repeat(2, 1, 3), (A,)),
    case("repeat_same_rank", lambda m, a: a.repeat(2, 2), ((2, 1),)),
    case("permute", lambda m, a: a.permute(2, 0, 1), ((2, 3, 4),)),
    case("transpose", lambda m, a: m.transpose(a, 0, 2), ((2, 3, 4),)),
    case("t", lambda m, a: a.t(), (A,)),
    case("T_property", lambda m, a: a.T, (A,)),
    case("mT_property", lambda m, a: a.mT, ((2, 3, 4),)),
    case("cat", lambda m, a, b: m.cat([a, b], dim=1), ((3, 2), A)),
    case("cat_dim0_three", lambda m, a, b, c: m.cat((a, b, c)), ((1, 4), A, (2, 4))),
    case("cat_with_empty", lambda m, a, b: m.cat([a, b]), ((0, 4), A)),
    case("cat_same_input_twice", lambda m, a: m.cat([a, a], -1), (A,)),
    case("stack", lambda m, a, b: m.stack([a, b], dim=1), (A, A)),
    case("stack_last", lambda m, a, b: m.stack((a, b), -1), ((2, 3), (2, 3))),
    case("split", lambda m, a: a.split(2, dim=1), ((3, 5),)),
    case("split_sections", lambda m, a: m.split(a, [1, 4], 1), ((3, 5),)),
    case("chunk", lambda m, a: a.chunk(3, dim=0), ((5, 2),)),
    case("chunk_uneven", lambda m, a: m.chunk(a, 2, -1), ((2, 3),)),
    case("tril", lambda m, a: a.tril(), ((4, 4),)),
    case("tril_diagonal_batched", lambda m, a: m.tril(a, -1), ((2, 3, 3),)),
    case("triu", lambda m, a: m.triu(a, 1), (A,)),
    # --- indexing ----------------------------------------------------------------------
    case("index_int", lambda m, a: a[1], (A,)),
    case("index_negative_int", lambda m, a: a[-1, 2], (A,)),
    case("index_slices", lambda m, a: a[:, 1:3], (A,)),
    case("index_step", lambda m, a: a[..., ::2], ((2, 3, 4),)),
    case("index_none_ellipsis", lambda m, a: a[None, ..., 1], ((2, 3, 4),)),
    case("index_int_tensor_duplicates", lambda m, a: a[m.tensor(IDX_DUP)], (A,)),
    case("index_int_tensor_2d", lambda m, a: a[m.tensor(IDX_2D)], (A,)),
    case("index_int_tensor_and_slice", lambda m, a: a[m.tensor(IDX_DUP), 1:], (A,)),
    case("index_slice_and_int_tensor", lambda m, a: a[:, m.tensor(IDX_COL)], (A,)),
    case("index_two_int_tensors", lambda m, a: a[m.tensor(IDX_DUP), m.tensor([1, 1, 1])], (A,)),
    case("index_list", lambda m, a: a[[2, 0, 2]], (A,)),
    # torch selects the int first; NumPy alone would move the tensor's dim to the front
    case("index_int_slice_int_tensor", lambda m, a: a[0, :, m.tensor([3, 1, 3])], ((2, 3, 4),)),
    case("index_tensor_int_tensor", lambda m, a: a[m.tensor([1, 0]), 1:, m.tensor([2, 2])],
         ((2, 3, 4),)),
    case("index_bool_mask", lambda m, a: a[m.tensor(MASK)], (A,)),
    case("index_bool_row_mask", lambda m, a: a[m.tensor(ROW_MASK)], (A,)),
    case("index_bool_col_mask", lambda m, a: a[:, m.tensor(COL_MASK)], (A,)),
    case("gather", lambda m, a: a.gather(1, m.tensor(GATHER_IDX)), (A,)),
    case("gather_dim0", lambda m, a: m.gather(a, 0, m.tensor(GATHER_IDX0)), (A,)),
    case("gather_index_smaller", lambda m, a: a.gather(1, m.tensor(SMALL_IDX)), (A,)),
    case("scatter_add", lambda m, a, s: a.scatter_add(1, m.tensor(GATHER_IDX), s),
         (A, (3, 2))),
    case("scatter_add_larger_src", lambda m, a, s: m.scatter_add(a, 1, m.tensor(GATHER_IDX), s),
         (A, (3, 3)), torch_grad=False),  # torch 2.13's backward returns src's grad as (3, 2)
    case("scatter_add_index_smaller",
         lambda m, a, s: a.scatter_add(1, m.tensor(SMALL_IDX), s), (A, (2, 3)),
         torch_grad=False),  # torch 2.13's backward returns src's grad shaped like index
    case("index_select_duplicates", lambda m, a: a.index_select(0, m.tensor(IDX_DUP)), (A,)),
    case("index_select_dim1", lambda m, a: m.index_select(a, 1, m.tensor(IDX_COL)), (A,)),
    case("masked_fill", lambda m, a: a.masked_fill(m.tensor(MASK), 0.5), (A,)),
    case("masked_fill_broadcast_mask", lambda m, a: m.masked_fill(a, m.tensor(COL_MASK), -1.0),
         (A,)),
    case("masked_fill_tensor_value", lambda m, a, v: a.masked_fill(m.tensor(MASK), v), (A, ())),
    case("index_put_accumulate", lambda m, a, v: m.index_put(a, (m.tensor(PUT_IDX),), v,
                                                               accumulate=True), (A, (3, 4))),
    case("setitem_slice", lambda m, a, b: _setitem(a * 1, (slice(1, None), slice(None, 2)), b),
         (A, (2, 2))),
    case("setitem_int_tensor", lambda m, a, b: _setitem(a * 1, m.tensor([2, 0]), b), (A, B)),
    case("setitem_int_slice_int_tensor",
         lambda m, a, b: _setitem(a * 1, (1, slice(None), m.tensor([0, 2])), b),
         ((2, 3, 4), (3, 2))),
    case("setitem_mask", lambda m, a: _setitem(a * 1, m.tensor(MASK), 0.0), (A,)),
    # a 0-d integer tensor selects (as an int); True is the index tensor [0] on a new dim
    case("getitem_0d_tensor_and_bool",
         lambda m, a: a[-1:3:3, m.tensor(0), 1, True, None, m.tensor(-1)], ((2, 2, 3, 1),)),
    case("setitem_int_mask_bool",
         lambda m, a, b: _setitem(a * 1, (1, m.tensor(COL_MASK), True), b), (A, (2,))),
    # values broadcast over the index dims (NumPy 2.4's np.add.at misreads them)
    case("index_put_accumulate_broadcast_values",
         lambda m, a, v: m.index_put(a, (m.tensor(IDX_2D),), v, accumulate=True), ((3,), (2,))),
    case("inplace_arithmetic", lambda m, a, b: (a * 1).add_(b).mul_(b).sub_(a, alpha=2).div_(2),
         (A, B)),
    case("sort", lambda m, a: a.sort(), (A,)),
    case("sort_descending_dim0", lambda m, a: m.sort(a, dim=0, descending=True), (A,)),
    case("topk", lambda m, a: a.topk(2), (A,)),
    case("topk_smallest_dim0", lambda m, a: m.topk(a, 2, dim=0, largest=False), (A,)),
    case("sort_scalar_shape", lambda m, a: a.sort(), ((),)),
    case("topk_large_row", lambda m, a: a.topk(3, dim=1), ((2, 20),)),
    # --- the other differentiable ops ember exports ----------------------------------------
    case("clone", lambda m, a: a.clone(), (A,)),
    case("to_float64", lambda m, a: a.double() * 2, (A,)),
    case("float_power", lambda m, a: m.float_power(a, 2), (A,)),
    case("square", lambda m, a: a.square(), (A,)),
    case("reciprocal", lambda m, a: a.reciprocal(), (A,), 0.5, 2.0),
    case("expm1", lambda m, a: a.expm1(), (A,)),
    case("log2_log10", lambda m, a: m.log2(a) + a.log10(), (A,), 0.5, 2.0),
    case("tan", lambda m, a: m.tan(a), (A,), -1.0, 1.0),
    case("remainder", lambda m, a: a % 0.7, (A,)),
    case("fmod", lambda m, a: m.fmod(a, 0.7), (A,)),
    case("rsub", lambda m, a, b: m.rsub(a, b, alpha=2), (A, B)),
    case("lerp", lambda m, a, b: m.lerp(a, b, 0.3), (A, B)),
    case("addcmul_addcdiv", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5) + m.addcdiv(
        a, b, c * c + 1, value=2), (A, B, (3, 1))),
    case("norm", lambda m, a: a.norm(), (A,)),
    case("norm_dim", lambda m, a: m.norm(a, dim=1), (A,)),
    case("norm_p1_keepdim", lambda m, a: a.norm(p=1, dim=0, keepdim=True), (A,), 0.1, 2.0),
    case("norm_p3_dims", lambda m, a: a.norm(p=3, dim=(0, 2)), ((2, 3, 4),), 0.1, 2.0),
    case("norm_inf", lambda m, a: a.norm(p=float("inf"), dim=1), (A,)),
    case("lerp_high_weight", lambda m, a, b: m.lerp(a, b, 0.8), (A, A)),
    case("lerp_tensor_weight", lambda m, a, b, w: m.lerp(a, b, w), (A, B, (3, 1))),
    case("addcdiv_broadcast", lambda m, a, b, c: m.addcdiv(a, b, c * c + 1, value=-1.5),
         ((3, 1), B, A)),
    case("rsub_scalar_minus_tensor", lambda m, a: 1.5 - a, (A,)),
    case("flip", lambda m, a: a.flip(0, 2), ((2, 3, 4),)),
    case("roll", lambda m, a: m.roll(a, 1, 1), (A,)),
    case("roll_flat", lambda m, a: a.roll(5), (A,)),
    case("narrow", lambda m, a: a.narrow(1, 1, 2), (A,)),
    case("select", lambda m, a: m.select(a, 1, -1), (A,)),
    case("unbind", lambda m, a: a.unbind(1), (A,)),
    case("movedim", lambda m, a: a.movedim(0, 2), ((2, 3, 4),)),
    case("movedim_pairs", lambda m, a: m.movedim(a, (0, 1), (2, 0)), ((2, 3, 4),)),
    case("swapaxes", lambda m, a: a.swapaxes(0, 1), (A,)),
    case("tensor_split", lambda m, a: m.tensor_split(a, 3, dim=1), (A,)),
    case("hstack_vstack", lambda m, a, b: m.vstack([m.hstack([a, a]), m.hstack([b, b])]),
         (A, (1, 4))),
    case("masked_select", lambda m, a: a.masked_select(m.tensor(MASK)), (A,)),
    case("take_along_dim", lambda m, a: m.take_along_dim(a, m.tensor(GATHER_IDX), dim=1), (A,)),
    case("index_add", lambda m, a, s: a.index_add(0, m.tensor(IDX_DUP), s, alpha=2),
         (A, (3, 4))),
    case("scatter", lambda m, a, s: a.scatter(1, m.tensor([[0], [3], [1]]), s), (A, (3, 1))),
    case("scatter_value", lambda m, a: a.scatter(0, m.tensor([[2, 0, 1, 1]]), 5.0), (A,)),
    case("kthvalue", lambda m, a: m.kthvalue(a, 2, 1), (A,)),
    case("kthvalue_keepdim", lambda m, a: a.kthvalue(3, 0, keepdim=True), (A,)),
    case("dot", lambda m, a, b: m.dot(a, b), ((4,), (4,))),
    case("outer", lambda m, a, b: m.outer(a, b), ((3,), (4,))),
    case("einsum_matmul", lambda m, a, b: m.einsum("ij,kj->ik", a, b), (A, (2, 4))),
    case("index_fill_tensor_value",
         lambda m, a, v: a.index_fill(1, m.tensor(IDX_COL), v), (A, ())),
    case("index_fill_number", lambda m, a: a.index_fill(0, m.tensor([-1, 0]), 2.5), (A,)),
    case("index_copy_rows", lambda m, a, b: a.index_copy(0, m.tensor([2, 0]), b), (A, (2, 4))),
    case("index_copy_columns", lambda m, a, b: m.index_copy(a, 1, m.tensor([3, 1]), b),
         (A, (3, 2))),
    case("masked_scatter", lambda m, a, b: a.masked_scatter(m.tensor(ZEROS_MASK > 0), b),
         (A, (10,))),
    case("masked_scatter_broadcast_mask",
         lambda m, a, b: a.masked_scatter(m.tensor([True, False, True, True]), b), (A, (3, 4))),
    case("put", lambda m, a, b: a.put(m.tensor([1, 7, -1]), b), (A, (3,))),
    case("put_accumulate_duplicates",
         lambda m, a, b: a.put(m.tensor([1, 1, 5]), b, accumulate=True), (A, (3,))),
    case("unfold_overlapping_windows", lambda m, a: a.unfold(1, 2, 1), (A,)),
    case("unfold_step_past_the_end", lambda m, a: a.unfold(0, 2, 2), ((5, 3),)),
    case("unfold_of_transposed", lambda m, a: a.t().unfold(1, 3, 1) * 1, (A,)),
    case("as_strided_overlapping", lambda m, a: a.as_strided((3, 2), (1, 1)), ((6,),)),
    case("as_strided_transposing", lambda m, a: m.as_strided(a, (2, 3), (1, 2), 1), ((7,),)),
    case("einsum_implicit_output", lambda m, a, b: m.einsum("ij,kj", a, b), (A, (2, 4))),
    case("einsum_ellipsis_broadcast", lambda m, a, b: m.einsum("...ij,...j->...i", a, b),
         ((2, 3, 4), (1, 4))),
    case("einsum_implicit_ellipsis", lambda m, a, b: m.einsum("...ij,...j", a, b),
         ((2, 3, 4), (2, 4))),
    case("einsum_batched", lambda m, a, b: m.einsum("bij,bjk->bik", a, b), ((2, 3, 4),
                                                                              (2, 4, 2))),
    case("var_mean", lambda m, a: m.var_mean(a, dim=1), (A,)),
    case("std_mean", lambda m, a: m.std_mean(a, dim=0, correction=0), (A,)),
    case("amin_dims", lambda m, a: a.amin(dim=(-1, 0), keepdim=True), ((2, 3, 4),)),
]


def _extra_rows():
    """The rows of the newer op families, each in its own table file."""
    from tests.ops import (
        op_table_arrange,
        op_table_linalg,
        op_table_pointwise_math,
        op_table_statistics,
    )

    return [*op_table_arrange.ROWS, *op_table_statistics.ROWS, *op_table_pointwise_math.ROWS,
            *op_table_linalg.ROWS]


OPS += _extra_rows()
assert len({c.name for c in OPS}) == len(OPS), "duplicate OpCase names"
