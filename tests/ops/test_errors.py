"""Bad input raises torch's exception type with a message naming the shapes or dtypes.

Each row is ``f(m)`` for ``m`` = ember (here) or torch (``tests/oracle/test_ops_oracle.py``
checks that torch raises the same type and that ``match`` finds torch's wording too).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import ember
from tests.ops.op_table import F


@dataclass(frozen=True)
class ErrCase:
    name: str
    f: Callable  # f(m) -> should raise
    exc: type
    match: str  # regex searched in the message (ember's and torch's)


def _r(m, *shape):
    return m.ones(*shape)


def _A(m):  # noqa: N802
    return m.arange(12.0).reshape(3, 4)


def _setitem(x, index, value):
    x[index] = value


ERRORS = [
    ErrCase("addcdiv_integer_operands",
            lambda m: m.addcdiv(m.zeros(3), m.ones(3, dtype=m.long), m.ones(3, dtype=m.long)),
            RuntimeError, r"Integer division with addcdiv is no longer supported"),
    ErrCase("tril_indices_float_dtype", lambda m: m.tril_indices(2, 2, dtype=m.float32),
            NotImplementedError, "\"tril_indices\" not implemented for 'Float'"),
    ErrCase("triu_indices_uint8_dtype", lambda m: m.triu_indices(2, 2, dtype=m.uint8),
            NotImplementedError, "\"triu_indices\" not implemented for 'Byte'"),
    # matrix products
    ErrCase("matmul_2d", lambda m: _r(m, 4, 3) @ _r(m, 5, 2), RuntimeError,
            re.escape("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)")),
    ErrCase("mm", lambda m: m.mm(_r(m, 4, 3), _r(m, 5, 2)), RuntimeError,
            re.escape("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)")),
    ErrCase("matmul_1d_2d", lambda m: _r(m, 3) @ _r(m, 4, 5), RuntimeError,
            re.escape("mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)")),
    ErrCase("matmul_1d_1d", lambda m: _r(m, 3) @ _r(m, 4), RuntimeError,
            r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
    ErrCase("matmul_2d_1d", lambda m: _r(m, 3, 4) @ _r(m, 5), RuntimeError,
            re.escape("size mismatch, got input (3), mat (3x4), vec (5)")),
    ErrCase("matmul_batched", lambda m: _r(m, 2, 3, 4) @ _r(m, 2, 5, 6), RuntimeError,
            re.escape("Expected size for first two dimensions of batch2 tensor to be: [2, 4] "
                      "but got: [2, 5].")),
    ErrCase("matmul_batch_broadcast", lambda m: _r(m, 2, 3, 4) @ _r(m, 3, 4, 5), RuntimeError,
            re.escape("The size of tensor a (2) must match the size of tensor b (3) at "
                      "non-singleton dimension 0")),
    ErrCase("matmul_0d", lambda m: m.tensor(1.0) @ _r(m, 3), RuntimeError,
            "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ErrCase("bmm_batch", lambda m: m.bmm(_r(m, 2, 3, 4), _r(m, 3, 4, 5)), RuntimeError,
            re.escape("Expected size for first two dimensions of batch2 tensor to be: [2, 4] "
                      "but got: [3, 4].")),
    ErrCase("bmm_inner", lambda m: m.bmm(_r(m, 2, 3, 4), _r(m, 2, 5, 5)), RuntimeError,
            re.escape("[2, 4] but got: [2, 5].")),
    ErrCase("bmm_2d", lambda m: m.bmm(_r(m, 3, 4), _r(m, 4, 5)), RuntimeError,
            "batch1 must be a 3D tensor"),
    ErrCase("mm_3d", lambda m: m.mm(_r(m, 2, 3, 4), _r(m, 4, 5)), RuntimeError,
            "self must be a matrix"),
    ErrCase("mm_vector_mat2", lambda m: m.mm(_r(m, 3, 4), _r(m, 4)), RuntimeError,
            "^mat2 must be a matrix$"),
    ErrCase("bmm_2d_batch2", lambda m: m.bmm(_r(m, 2, 3, 4), _r(m, 4, 5)), RuntimeError,
            "^batch2 must be a 3D tensor$"),
    ErrCase("addmm", lambda m: m.addmm(_r(m, 4, 2), _r(m, 4, 3), _r(m, 5, 2)), RuntimeError,
            re.escape("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)")),
    ErrCase("addmm_bias", lambda m: m.addmm(_r(m, 3, 3), _r(m, 4, 3), _r(m, 3, 2)),
            RuntimeError, re.escape("The expanded size of the tensor (2) must match the existing "
                                    "size (3) at non-singleton dimension 1")),
    ErrCase("linear", lambda m: F(m).linear(_r(m, 4, 3), _r(m, 2, 5)), RuntimeError,
            re.escape("mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)")),
    # broadcasting
    ErrCase("add_broadcast", lambda m: _r(m, 3) + _r(m, 4), RuntimeError,
            re.escape("The size of tensor a (3) must match the size of tensor b (4) at "
                      "non-singleton dimension 0")),
    ErrCase("add_broadcast_2d", lambda m: _r(m, 2, 3) + _r(m, 4, 3), RuntimeError,
            re.escape("The size of tensor a (2) must match the size of tensor b (4) at "
                      "non-singleton dimension 0")),
    ErrCase("mul_broadcast_3d", lambda m: _r(m, 2, 3, 4) * _r(m, 5, 1), RuntimeError,
            re.escape("The size of tensor a (3) must match the size of tensor b (5) at "
                      "non-singleton dimension 1")),
    ErrCase("where_broadcast", lambda m: m.where(_r(m, 3) > 0, _r(m, 3), _r(m, 2)),
            RuntimeError, r"must match the size of tensor"),
    ErrCase("maximum_broadcast", lambda m: m.maximum(_r(m, 2, 3), _r(m, 2)), RuntimeError,
            re.escape("The size of tensor a (3) must match the size of tensor b (2) at "
                      "non-singleton dimension 1")),
    ErrCase("expand", lambda m: _r(m, 3, 2).expand(3, 4), RuntimeError,
            re.escape("The expanded size of the tensor (4) must match the existing size (2) at "
                      "non-singleton dimension 1.  Target sizes: [3, 4].  Tensor sizes: [3, 2]")),
    ErrCase("expand_fewer_sizes", lambda m: _r(m, 3, 4).expand(4), RuntimeError,
            r"the number of sizes provided \(1\) must be greater or equal to the number of "
            r"dimensions in the tensor \(2\)"),
    # indexing
    ErrCase("index_out_of_range", lambda m: _A(m)[5], IndexError,
            "index 5 is out of bounds for dimension 0 with size 3"),
    ErrCase("index_negative_out_of_range", lambda m: _A(m)[-4], IndexError,
            "index -4 is out of bounds for dimension 0 with size 3"),
    ErrCase("index_dim1_out_of_range", lambda m: _A(m)[:, 7], IndexError,
            "index 7 is out of bounds for dimension 1 with size 4"),
    ErrCase("index_tensor_out_of_range", lambda m: _A(m)[m.tensor([0, 5])], IndexError,
            "index 5 is out of bounds for dimension 0 with size 3"),
    ErrCase("index_float", lambda m: _A(m)[1.5], IndexError,
            re.escape("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                      "Variables are valid indices (got float)")),
    ErrCase("index_float_tensor", lambda m: _A(m)[m.tensor([0.0, 1.0])], IndexError,
            "tensors used as indices must be long, int, byte or bool tensors"),
    ErrCase("index_mask_shape", lambda m: _A(m)[m.tensor([True, False])], IndexError,
            re.escape("The shape of the mask [2] at index 0 does not match the shape of the "
                      "indexed tensor [3, 4] at index 0")),
    ErrCase("index_too_many", lambda m: _A(m)[0, 0, 0], IndexError,
            "too many indices for tensor of dimension 2"),
    # a bare int or slice into a 0-d tensor (old tutorials' ``loss.data[0]``)
    ErrCase("index_zero_dim_int", lambda m: m.tensor(2.5).data[0], IndexError,
            re.escape("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                      "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")),
    ErrCase("index_zero_dim_nonzero", lambda m: m.tensor(2.5)[-1], IndexError,
            "index -1 is out of bounds for dimension 0 with size 0"),
    ErrCase("index_zero_dim_slice", lambda m: m.tensor(2.5)[1:], IndexError,
            re.escape("slice() cannot be applied to a 0-dim tensor.")),
    ErrCase("index_zero_dim_tuple", lambda m: m.tensor(2.5)[0,], IndexError,
            "too many indices for tensor of dimension 0"),
    ErrCase("setitem_zero_dim_int", lambda m: _setitem(m.tensor(2.5), 0, 1.0), IndexError,
            "invalid index of a 0-dim tensor"),
    ErrCase("format_spec_parameter", lambda m: f"{m.nn.Parameter(m.ones(2)):.2f}",
            TypeError, "unsupported format string passed to Parameter.__format__"),
    ErrCase("deprecated_add_with_alpha_keyword",
            lambda m: m.ones(3).add_(2, m.ones(3), alpha=3), TypeError,
            re.escape("add_() received an invalid combination of arguments - got "
                      "unrecognized keyword arguments: alpha")),
    ErrCase("mul_alpha_first", lambda m: m.ones(3).mul_(2, m.ones(3)), TypeError,
            re.escape("mul_() takes 1 positional argument but 2 were given")),
    ErrCase("randint_int_size", lambda m: m.randint(10, size=1), TypeError,
            re.escape("randint(): argument 'size' must be tuple of ints, not int")),
    ErrCase("randint_three_ints", lambda m: m.randint(0, 10, 5), TypeError,
            re.escape("randint() received an invalid combination of arguments - got (int, "
                      "int, int)")),
    ErrCase("requires_grad_factory_int", lambda m: m.ones(2, dtype=m.long, requires_grad=True),
            RuntimeError, "^Only Tensors of floating point and complex dtype can require"),
    ErrCase("setitem_out_of_range", lambda m: _setitem(_A(m), 5, 1.0), IndexError,
            "index 5 is out of bounds for dimension 0 with size 3"),
    ErrCase("gather_out_of_range", lambda m: m.gather(_A(m), 1, m.tensor([[5]])), RuntimeError,
            "index 5 is out of bounds for dimension 1 with size 4"),
    ErrCase("gather_negative_out_of_range", lambda m: m.gather(_A(m), 1, m.tensor([[-5]])),
            RuntimeError, "index -5 is out of bounds for dimension 1 with size 4"),
    ErrCase("gather_float_index", lambda m: m.gather(_A(m), 1, m.tensor([[0.0]])), RuntimeError,
            r"gather\(\): Expected dtype int(32/int)?64 for index"),
    ErrCase("scatter_add_out_of_range",
            lambda m: _A(m).scatter_add(1, m.tensor([[4]]), m.ones(1, 1)), RuntimeError,
            "index 4 is out of bounds for dimension 1 with size 4"),
    ErrCase("index_select_out_of_range", lambda m: m.index_select(_A(m), 0, m.tensor([3])),
            IndexError, "index out of range in self"),
    ErrCase("masked_fill_float_mask", lambda m: _A(m).masked_fill(m.zeros(3, 4), 1.0),
            RuntimeError, "masked_fill_ only supports boolean masks, but got mask with dtype "
                          "float"),
    ErrCase("one_hot_float", lambda m: F(m).one_hot(m.tensor([1.0])), RuntimeError,
            "one_hot is only applicable to index tensor of type LongTensor"),
    ErrCase("where_int_condition", lambda m: m.where(m.tensor([1, 0]), _r(m, 2), _r(m, 2)),
            RuntimeError, "where expected condition to be a boolean tensor, but got a tensor "
                          "with dtype Long"),
    ErrCase("topk_k_too_large", lambda m: _A(m).topk(5), RuntimeError,
            "selected index k out of range"),
    # joining and reshaping
    ErrCase("cat_sizes", lambda m: m.cat([_r(m, 3, 4), _r(m, 2, 5)], 1), RuntimeError,
            re.escape("Sizes of tensors must match except in dimension 1. Expected size 3 but "
                      "got size 2 for tensor number 1 in the list.")),
    ErrCase("cat_ndims", lambda m: m.cat([_r(m, 3, 4), _r(m, 4)]), RuntimeError,
            "Tensors must have same number of dimensions: got 2 and 1"),
    ErrCase("cat_empty", lambda m: m.cat([]), ValueError,
            "expected a non-empty list of Tensors"),
    ErrCase("cat_dim_out_of_range", lambda m: m.cat([_A(m), _A(m)], 2), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)")),
    ErrCase("stack_sizes", lambda m: m.stack([_r(m, 3, 4), _r(m, 3, 5)]), RuntimeError,
            re.escape("stack expects each tensor to be equal size, but got [3, 4] at entry 0 "
                      "and [3, 5] at entry 1")),
    ErrCase("stack_empty", lambda m: m.stack([]), RuntimeError,
            "stack expects a non-empty TensorList"),
    ErrCase("reshape_invalid", lambda m: _A(m).reshape(5, -1), RuntimeError,
            re.escape("shape '[5, -1]' is invalid for input of size 12")),
    ErrCase("reshape_wrong_numel", lambda m: _A(m).reshape(5, 3), RuntimeError,
            re.escape("shape '[5, 3]' is invalid for input of size 12")),
    ErrCase("reshape_two_inferred", lambda m: _A(m).reshape(-1, -1), RuntimeError,
            "only one dimension can be inferred"),
    ErrCase("view_wrong_numel", lambda m: _A(m).view(5, 2), RuntimeError,
            re.escape("shape '[5, 2]' is invalid for input of size 12")),
    ErrCase("view_non_contiguous", lambda m: _A(m).t().view(12), RuntimeError,
            "view size is not compatible with input tensor's size and stride"),
    ErrCase("unflatten_sizes", lambda m: _A(m).unflatten(1, (3, 2)), RuntimeError,
            re.escape("unflatten: Provided sizes [3, 2] don't multiply up to the size of dim 1 "
                      "(4) in the input tensor")),
    ErrCase("flatten_dims_reversed", lambda m: _A(m).flatten(1, 0), RuntimeError,
            "start_dim cannot come after end_dim"),
    ErrCase("split_sizes", lambda m: _A(m).split([1, 1], 0), RuntimeError,
            "split_with_sizes expects split_sizes to sum exactly to 3"),
    ErrCase("chunk_zero", lambda m: _A(m).chunk(0), RuntimeError,
            "chunk expects `chunks` to be greater than 0, got: 0"),
    ErrCase("repeat_too_few", lambda m: _A(m).repeat(2), RuntimeError,
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"),
    ErrCase("permute_length", lambda m: _A(m).permute(0), RuntimeError,
            r"input.dim\(\) = 2 is not equal to len\(dims\) = 1"),
    ErrCase("tril_1d", lambda m: m.tril(_r(m, 3)), RuntimeError,
            "tril: input tensor must have at least 2 dimensions"),
    # dims
    ErrCase("sum_dim_out_of_range", lambda m: _A(m).sum(2), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)")),
    ErrCase("squeeze_dim_out_of_range", lambda m: _A(m).squeeze(3), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 3)")),
    ErrCase("unsqueeze_dim_out_of_range", lambda m: _A(m).unsqueeze(3), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-3, 2], but got 3)")),
    ErrCase("transpose_dim_out_of_range", lambda m: _A(m).transpose(0, 2), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)")),
    ErrCase("log_softmax_dim_out_of_range", lambda m: _A(m).log_softmax(2), IndexError,
            re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)")),
    ErrCase("amax_repeated_dim", lambda m: _A(m).amax(dim=(0, 0)), RuntimeError,
            "dim 0 appears multiple times in the list of dims"),
    # dtypes
    ErrCase("mean_int", lambda m: m.tensor([1, 2]).mean(), RuntimeError,
            "mean\\(\\): could not infer output dtype. Input dtype must be either a floating "
            "point or complex dtype. Got: Long"),
    ErrCase("var_int", lambda m: m.tensor([1, 2]).var(), RuntimeError,
            "std and var only support floating point and complex dtypes"),
    ErrCase("int_negative_power", lambda m: m.tensor([1, 2]) ** -1, RuntimeError,
            "Integers to negative integer powers are not allowed."),
    ErrCase("bool_sub", lambda m: m.tensor([True]) - m.tensor([False]), RuntimeError,
            "Subtraction, the `-` operator, with two bool tensors is not supported"),
    ErrCase("bitwise_float", lambda m: _A(m) & _A(m), NotImplementedError,
            "\"bitwise_and_cpu\" not implemented for 'Float'"),
    ErrCase("softmax_int", lambda m: m.softmax(m.tensor([1, 2]), 0), NotImplementedError,
            "not implemented for 'Long'"),
    ErrCase("requires_grad_int", lambda m: m.tensor([1]).requires_grad_(), RuntimeError,
            "only Tensors of floating point (and complex )?dtype can require gradients"),
    ErrCase("clamp_no_bounds", lambda m: _A(m).clamp(), RuntimeError,
            "torch.clamp: At least one of 'min' or 'max' must not be None"),
    ErrCase("max_empty", lambda m: m.ones(0).max(), RuntimeError,
            "max\\(\\): Expected reduction dim to be specified for input.numel\\(\\) == 0"),
    ErrCase("item_many", lambda m: _A(m).item(), RuntimeError,
            "a Tensor with 12 elements cannot be converted to Scalar"),
]


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.name)
def test_bad_input_raises_torch_error(case):
    with pytest.raises(case.exc, match=case.match):
        case.f(ember)


def test_matmul_error_names_both_shapes():
    a, b = ember.ones(4, 3), ember.ones(5, 2)
    with pytest.raises(RuntimeError) as info:
        a @ b
    assert "4x3" in str(info.value) and "5x2" in str(info.value)


def test_errors_on_tensors_that_require_grad_match_the_plain_path():
    # the recording path (Op.apply -> _record) must raise the same errors as the plain one
    a = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        a + ember.ones(4)
    with pytest.raises(IndexError, match="index 5 is out of bounds"):
        a[5]
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes"):
        ember.ones(4, 3, requires_grad=True) @ ember.ones(5, 2)


def test_index_with_numpy_float_array_raises_index_error():
    with pytest.raises(IndexError, match="tensors used as indices"):
        ember.ones(3)[np.array([0.0])]
