"""The arrange family (``ember/ops/arrange.py``) against torch: integer and bool dtypes,
non-differentiable outputs, views, node names and errors (the differentiable float cases are
rows of ``tests/ops/op_table_arrange.py``)."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

I = np.array([[1, -2, 3, 0], [4, 5, -6, 7], [8, 0, 9, -1]])  # noqa: E741
B = np.array([[True, False, True], [False, False, True]])


def _i(m, dtype="int64"):
    return m.tensor(I, dtype=getattr(m, dtype))


def _outs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _same(f, torch):
    """``f(torch)`` and ``f(ember)`` give the same number of outputs, dtypes, shapes, values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = _outs(f(torch)), _outs(f(ember))
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert str(g.dtype).rsplit(".")[-1] == str(w.dtype).rsplit(".")[-1], f"output {k} dtype"
        assert tuple(g.shape) == tuple(w.shape), f"output {k} shape"
        assert_close(g, w, rtol=1e-6, atol=1e-6, msg=f"output {k}")


VALUES = {
    "repeat_interleave_index": lambda m: m.repeat_interleave(m.tensor([2, 0, 3])),
    "repeat_interleave_index_int32": lambda m: m.repeat_interleave(
        m.tensor([1, 2], dtype=m.int32)),
    "repeat_interleave_int": lambda m: _i(m).repeat_interleave(2, dim=1),
    "repeat_interleave_int32_flat": lambda m: _i(m, "int32").repeat_interleave(2),
    "repeat_interleave_bool": lambda m: m.tensor(B).repeat_interleave(m.tensor([1, 3]), 0),
    "repeat_interleave_zero": lambda m: _i(m).repeat_interleave(0, dim=0),
    "repeat_interleave_0d_repeats": lambda m: _i(m).repeat_interleave(m.tensor(2), dim=1),
    "take_int": lambda m: _i(m).take(m.tensor([[0, -1], [5, 5]])),
    "take_bool": lambda m: m.take(m.tensor(B), m.tensor([1, 2])),
    "take_empty_index": lambda m: _i(m).take(m.tensor([], dtype=m.int64)),
    "diag_int": lambda m: m.diag(m.tensor([1, 2, 3]), -2),
    "diag_matrix_int": lambda m: m.diag(_i(m), 1),
    "diag_bool": lambda m: m.diag(m.tensor([True, False])),
    "diag_offset_past_end": lambda m: m.diag(_i(m), 5),
    "diagonal_int": lambda m: _i(m).diagonal(-1),
    "diagonal_offset_past_end": lambda m: _i(m).diagonal(4),
    "diagonal_4d": lambda m: m.arange(48).reshape(2, 3, 2, 4).diagonal(1, 3, 1),
    "diag_embed_int": lambda m: m.diag_embed(_i(m, "int32"), 1, 2, 0),
    "trace_int": lambda m: m.trace(_i(m)),
    "trace_int32": lambda m: _i(m, "int32").trace(),
    "trace_uint8": lambda m: m.tensor([[200, 1], [2, 100]], dtype=m.uint8).trace(),
    "trace_float64": lambda m: m.trace(_i(m).double()),
    "block_diag_mixed": lambda m: m.block_diag(m.tensor([1, 2]), m.tensor([[1.5]]),
                                               m.tensor(3, dtype=m.int32)),
    "block_diag_empty": lambda m: m.block_diag(),
    "block_diag_bool": lambda m: m.block_diag(m.tensor(B), m.tensor([True])),
    "block_diag_int_empty_rows": lambda m: m.block_diag(m.zeros(0, 2, dtype=m.int64), _i(m)),
    "rot90_int": lambda m: _i(m).rot90(1, [1, 0]),
    "rot90_zero": lambda m: m.rot90(_i(m), 0),
    "rot90_3d": lambda m: m.arange(24).reshape(2, 3, 4).rot90(-3, [2, 0]),
    "flipud_bool": lambda m: m.flipud(m.tensor(B)),
    "fliplr_int": lambda m: _i(m).fliplr(),
    "tile_int": lambda m: _i(m).tile((2, 1, 2)),
    "tile_empty_dims": lambda m: _i(m).tile(()),
    "tile_zero": lambda m: m.tile(_i(m), (0, 2)),
    "broadcast_tensors_int": lambda m: m.broadcast_tensors(_i(m), m.tensor([1, 2, 3, 4]),
                                                           m.tensor(True)),
    "broadcast_tensors_none": lambda m: m.broadcast_tensors(),
    "atleast_2d_list": lambda m: m.atleast_2d([m.tensor(1), _i(m)]),
    "atleast_2d_none": lambda m: m.atleast_2d(),
    "atleast_3d_int": lambda m: m.atleast_3d(m.tensor([1, 2])),
    "column_stack_int": lambda m: m.column_stack([m.tensor([1, 2, 3]), _i(m)]),
    "column_stack_mixed": lambda m: m.column_stack([m.tensor([1, 2]), m.tensor([0.5, 1.5])]),
    "dstack_int": lambda m: m.dstack([m.tensor(1), m.tensor(2, dtype=m.int32)]),
    "row_stack_bool": lambda m: m.row_stack([m.tensor([True, False, True]), m.tensor(B)]),
    "meshgrid_int": lambda m: m.meshgrid(m.tensor([1, 2, 3]), m.tensor([4, 5]),
                                         indexing="xy"),
    "meshgrid_one": lambda m: m.meshgrid(m.tensor([1, 2]), indexing="xy"),
    "meshgrid_0d": lambda m: m.meshgrid(m.tensor(2), m.tensor([1, 2, 3]), indexing="xy"),
    "meshgrid_default_ij": lambda m: m.meshgrid(m.tensor([1, 2, 3]), m.tensor([4, 5])),
    "cartesian_prod_int": lambda m: m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4, 5])),
    "cartesian_prod_one": lambda m: m.cartesian_prod(m.tensor([1, 2])),
    "combinations_int": lambda m: m.combinations(m.tensor([1, 2, 3, 4]), 3),
    "combinations_replacement": lambda m: m.combinations(m.tensor([1, 2, 3]), 3, True),
    "combinations_r0": lambda m: m.combinations(m.tensor([1, 2, 3])),
    "combinations_r_too_big": lambda m: m.combinations(m.tensor([1.0, 2.0]), r=3),
    "combinations_empty": lambda m: m.combinations(m.tensor([], dtype=m.int64)),
    "vander_int": lambda m: m.vander(m.tensor([1, 2, 3], dtype=m.int32)),
    "vander_bool": lambda m: m.vander(m.tensor([True, False]), 3),
    "vander_float64_increasing": lambda m: m.vander(m.tensor([0.5, -2.0], dtype=m.float64),
                                                    4, increasing=True),
    "vander_n0": lambda m: m.vander(m.tensor([1.0, 2.0]), 0),
    "vander_n1": lambda m: m.vander(m.tensor([1.0, 2.0]), 1),
    "kron_int": lambda m: m.kron(_i(m), m.tensor([[1, -1]])),
    "kron_int_float": lambda m: m.kron(m.tensor([1, 2]), m.tensor([1.5, 2.5])),
    "kron_bool": lambda m: m.kron(m.tensor(B), m.tensor([True, False])),
    "tensordot_int": lambda m: m.tensordot(_i(m), _i(m), ([0], [0])),
    "tensordot_tensor_dims": lambda m: m.tensordot(_i(m), _i(m).t(), m.tensor(1)),
    "tensordot_dims_tensor_pair": lambda m: m.tensordot(_i(m), _i(m), m.tensor([[1], [1]])),
    "tensordot_full": lambda m: m.tensordot(_i(m).double(), _i(m).double()),
    "diff_int": lambda m: m.diff(_i(m)),
    "diff_uint8_wraps": lambda m: m.diff(m.tensor([3, 1, 200], dtype=m.uint8)),
    "diff_bool": lambda m: m.diff(m.tensor(B), 2),
    "diff_n0": lambda m: m.diff(_i(m), 0),
    "diff_n_past_end": lambda m: m.diff(m.tensor([1, 4, 9]), 5),
    "diff_promotes": lambda m: m.diff(_i(m), prepend=m.ones(3, 1, dtype=m.float64)),
    "diff_int32_append": lambda m: _i(m, "int32").diff(dim=0, append=_i(m, "int32")[:1]),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_and_dtypes_match_torch(name, torch):
    _same(VALUES[name], torch)


# --- views -----------------------------------------------------------------------------------
def test_diagonal_is_a_view_that_writes_through(torch):
    results = []
    for m in (torch, ember):
        x = m.arange(12.0).reshape(3, 4).clone()
        d = x.diagonal(1)
        d.mul_(10)
        x[1, 2] = -1.0  # on the diagonal: the view sees it
        assert d._base is x
        results.append((to_numpy(x), to_numpy(d)))
    for got, want in zip(results[1], results[0]):
        assert_close(got, want)


def test_in_place_change_of_diagonal_gets_torch_gradient(torch):
    grads = []
    for m in (torch, ember):
        a = m.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
        y = a * 1
        y.diagonal(-1).mul_(y.diagonal(-1).clone())
        (y * m.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        grads.append(to_numpy(a.grad))
        assert y.grad_fn.name().endswith("CopySlices")
    assert_close(grads[1], grads[0])


@pytest.mark.parametrize("name, make", [
    ("diagonal", lambda m, x: x.diagonal(0, 1, 0)),
    ("broadcast_tensors", lambda m, x: m.broadcast_tensors(x, m.ones(2, 3, 4))[0]),
    ("atleast_2d", lambda m, x: m.atleast_2d(x[0, 0])),
    ("atleast_3d", lambda m, x: m.atleast_3d(x)),
    ("meshgrid", lambda m, x: m.meshgrid(x[0], x[1], indexing="ij")[1]),
    ("tensordot", lambda m, x: m.tensordot(x, x, ([0], [0]))),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2, 1)),
])
def test_views_where_torch_returns_views(name, make, torch):
    x, tx = ember.ones(3, 4, requires_grad=True), torch.ones(3, 4, requires_grad=True)
    assert make(ember, x)._base is not None and make(torch, tx)._base is not None


def test_unchanged_inputs_are_returned_as_they_are(torch):
    for m in (ember, torch):
        x = m.ones(2, 3)
        assert m.broadcast_tensors(x, m.ones(3))[0] is x
        assert m.atleast_2d(x) is x and m.atleast_3d(m.ones(1, 1, 1)) is not x
        assert m.cartesian_prod(x[0]) is not None


NODES = {
    "repeat_interleave_int": lambda m, a, v: a.repeat_interleave(2, dim=0),
    "repeat_interleave_tensor": lambda m, a, v: a.repeat_interleave(m.tensor([1, 0, 2]), dim=0),
    "take": lambda m, a, v: a.take(m.tensor([0, 5])),
    "diag_vector": lambda m, a, v: m.diag(v),
    "diag_matrix": lambda m, a, v: m.diag(a, 1),
    "diagonal": lambda m, a, v: a.diagonal(),
    "diag_embed": lambda m, a, v: m.diag_embed(a),
    "trace": lambda m, a, v: a.trace(),
    "block_diag": lambda m, a, v: m.block_diag(a, v),
    "rot90": lambda m, a, v: a.rot90(),
    "broadcast_tensors": lambda m, a, v: m.broadcast_tensors(a, v)[1],
    "atleast_2d": lambda m, a, v: m.atleast_2d(v),
    "atleast_3d_scalar": lambda m, a, v: m.atleast_3d(v[0]),
    "column_stack": lambda m, a, v: m.column_stack([v, a.t()]),
    "dstack": lambda m, a, v: m.dstack([a, a]),
    "row_stack": lambda m, a, v: m.row_stack([a, v]),
    "cartesian_prod": lambda m, a, v: m.cartesian_prod(v, v),
    "combinations": lambda m, a, v: m.combinations(v),
    "meshgrid": lambda m, a, v: m.meshgrid(v, v, indexing="xy")[0],
    "vander": lambda m, a, v: m.vander(v),
    "vander_increasing": lambda m, a, v: m.vander(v, increasing=True),
    "kron": lambda m, a, v: m.kron(a, a),
    "tensordot": lambda m, a, v: m.tensordot(a, a.t(), dims=1),
    "diff": lambda m, a, v: m.diff(a),
    "flipud": lambda m, a, v: a.flipud(),
    "fliplr": lambda m, a, v: a.fliplr(),
    "tile": lambda m, a, v: a.tile(2),
}


@pytest.mark.parametrize("name", sorted(NODES))
def test_node_names_match_torch(name, torch):
    names = []
    for m in (torch, ember):
        a = m.ones(3, 4, requires_grad=True)
        v = m.ones(4, requires_grad=True)
        names.append(NODES[name](m, a, v).grad_fn.name().rsplit("::", 1)[-1])
    assert names[1] == names[0]


def test_meshgrid_without_indexing_warns():
    # torch's words (it warns once per process, so it is not asked here)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        ember.meshgrid(ember.ones(2), ember.ones(3))


# --- errors ----------------------------------------------------------------------------------
def _r(m, *shape):
    return m.ones(*shape)


ERRORS = {
    "repeat_interleave_negative": (lambda m: _r(m, 3, 4).repeat_interleave(-1),
                                   "Repeats must be non-negative"),
    "repeat_interleave_wrong_size": (
        lambda m: _r(m, 3, 4).repeat_interleave(m.tensor([1, 2]), dim=0),
        "repeats must have the same size as input along dim, but got repeats.size(0) = 2 and "
        "input.size(0) = 3"),
    "repeat_interleave_negative_tensor": (
        lambda m: _r(m, 3, 4).repeat_interleave(m.tensor([1, -2, 1]), dim=0),
        "repeats can not be negative"),
    "repeat_interleave_2d_repeats": (
        lambda m: _r(m, 3, 4).repeat_interleave(m.tensor([[1, 2]]), dim=0),
        "repeats must be 0-dim or 1-dim tensor"),
    "repeat_interleave_float_repeats": (
        lambda m: _r(m, 3).repeat_interleave(m.tensor([1.0, 2.0, 1.0])),
        "\"repeat_interleave_cpu\" not implemented for 'Float'"),
    "repeat_interleave_index_2d": (lambda m: m.repeat_interleave(m.tensor([[1, 2]])),
                                   "repeat_interleave only accept 1D vector as repeat"),
    "repeat_interleave_dim": (lambda m: _r(m, 3, 4).repeat_interleave(2, dim=2),
                              "Dimension out of range (expected to be in range of [-2, 1], but "
                              "got 2)"),
    "repeat_interleave_output_size": (
        lambda m: _r(m, 3, 4).repeat_interleave(2, dim=0, output_size=5),
        "repeat_interleave: Invalid output_size, expected 6 but got 5"),
    "repeat_interleave_list": (lambda m: _r(m, 3).repeat_interleave([1, 2, 3]),
                               "repeat_interleave() received an invalid combination"),
    "take_out_of_range": (lambda m: _r(m, 3, 4).take(m.tensor([12])),
                          "out of range: tried to access index 12 on a tensor of 12 elements."),
    "take_negative_out_of_range": (lambda m: _r(m, 3, 4).take(m.tensor([0, -13])),
                                   "out of range: tried to access index -13 on a tensor of 12 "
                                   "elements."),
    "take_int32_index": (lambda m: _r(m, 3).take(m.tensor([1], dtype=m.int32)),
                         "take(): Expected a long tensor for index, but got Int"),
    "diag_3d": (lambda m: m.diag(_r(m, 2, 3, 4)), "diag(): Supports 1D or 2D tensors. Got 3D"),
    "diag_0d": (lambda m: m.diag(m.tensor(1.0)), "diag(): Supports 1D or 2D tensors. Got 0D"),
    "diagonal_same_dims": (lambda m: _r(m, 3, 4).diagonal(0, 1, -1),
                           "diagonal dimensions cannot be identical 1, -1"),
    "diagonal_1d": (lambda m: _r(m, 4).diagonal(),
                    "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    "diag_embed_same_dims": (lambda m: m.diag_embed(_r(m, 3, 4), 0, 1, 1),
                             "diagonal dimensions cannot be identical 1, 1"),
    "diag_embed_dim_range": (lambda m: m.diag_embed(_r(m, 3, 4), 0, 0, 3),
                             "Dimension out of range (expected to be in range of [-3, 2], but "
                             "got 3)"),
    "diag_embed_0d": (lambda m: m.diag_embed(m.tensor(1.0)),
                      "Dimension out of range (expected to be in range of [-1, 0], but got -2)"),
    "trace_1d": (lambda m: _r(m, 4).trace(), "trace: expected a matrix, but got tensor with dim 1"),
    "trace_bool": (lambda m: m.tensor(B).trace(), "\"trace\" not implemented for 'Bool'"),
    "block_diag_3d": (lambda m: m.block_diag(_r(m, 2), _r(m, 1, 2, 3)),
                      "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input 1 "
                      "has 3 dimensions"),
    "rot90_1d": (lambda m: _r(m, 4).rot90(), "expected total dims >= 2, but got total dims = 1"),
    "rot90_three_dims": (lambda m: _r(m, 3, 4).rot90(1, [0, 1, 1]),
                         "expected total rotation dims == 2, but got dims = 3"),
    "rot90_same_dims": (lambda m: _r(m, 3, 4).rot90(1, [1, -1]),
                        "expected rotation dims to be different, but got dim0 = 1 and dim1 = -1"),
    "rot90_dim_range": (lambda m: _r(m, 3, 4).rot90(1, [0, 2]),
                        "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    "flipud_0d": (lambda m: m.flipud(m.tensor(1.0)), "Input must be >= 1-d."),
    "fliplr_1d": (lambda m: m.fliplr(_r(m, 3)), "Input must be >= 2-d."),
    "tile_negative": (lambda m: _r(m, 3, 4).tile(-1),
                      "Trying to create tensor with negative dimension -4: [3, -4]"),
    "broadcast_tensors": (lambda m: m.broadcast_tensors(_r(m, 3, 4), _r(m, 4), _r(m, 2, 1, 3)),
                          "The size of tensor a (4) must match the size of tensor b (3) at "
                          "non-singleton dimension 2"),
    "column_stack_empty": (lambda m: m.column_stack([]), "column_stack expects a non-empty "
                                                         "TensorList"),
    "column_stack_rows": (lambda m: m.column_stack([_r(m, 4), _r(m, 3, 4)]),
                          "Sizes of tensors must match except in dimension 1. Expected size 4 "
                          "but got size 3 for tensor number 1 in the list."),
    "dstack_empty": (lambda m: m.dstack([]), "dstack expects a non-empty TensorList"),
    "row_stack_empty": (lambda m: m.row_stack([]), "vstack expects a non-empty TensorList"),
    "cartesian_prod_2d": (lambda m: m.cartesian_prod(_r(m, 4), _r(m, 3, 4)),
                          "Expect a 1D vector, but got shape [3, 4]"),
    "cartesian_prod_none": (lambda m: m.cartesian_prod(), "meshgrid expects a non-empty "
                                                          "TensorList"),
    "cartesian_prod_dtypes": (lambda m: m.cartesian_prod(_r(m, 2), m.tensor([1, 2])),
                              "meshgrid expects all tensors to have the same dtype"),
    "combinations_2d": (lambda m: m.combinations(_r(m, 3, 4)),
                        "Expect a 1D vector, but got shape [3, 4]"),
    "combinations_negative_r": (lambda m: m.combinations(_r(m, 4), -1),
                                "Expect a non-negative number, but got -1"),
    "meshgrid_2d": (lambda m: m.meshgrid(_r(m, 4), _r(m, 3, 4), indexing="ij"),
                    "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "),
    "meshgrid_dtypes": (lambda m: m.meshgrid(_r(m, 4), _r(m, 4).double(), indexing="ij"),
                        "meshgrid expects all tensors to have the same dtype"),
    "meshgrid_indexing": (lambda m: m.meshgrid(_r(m, 4), _r(m, 4), indexing="foo"),
                          "torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                          "received: foo"),
    "meshgrid_empty": (lambda m: m.meshgrid([], indexing="ij"),
                       "meshgrid expects a non-empty TensorList"),
    "vander_2d": (lambda m: m.vander(_r(m, 3, 4)), "x must be a one-dimensional tensor."),
    "vander_negative_n": (lambda m: m.vander(_r(m, 4), -1), "N must be non-negative."),
    "tensordot_negative_dims": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4), -1),
                                "tensordot expects dims >= 0, but got dims=-1"),
    "tensordot_sizes": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4), 1),
                        "contracted dimensions need to match, but first has size 4 in dim -1 "
                        "and second has size 3 in dim 0"),
    "tensordot_list_lengths": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4), ([0], [0, 1])),
                               "both dimension lists should have same length"),
    "tensordot_too_many_dims": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4), 3),
                                "tensordot expects dims < ndim_a or ndim_b, but got dims=3"),
    "tensordot_dtypes": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4).double()),
                         "both inputs should have same dtype"),
    "tensordot_repeated_dim": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 2, 3, 4),
                                                     ([0, 0], [1, 1])),
                               "dim 0 appears multiple times in the list of dims"),
    "tensordot_int_pair": (lambda m: m.tensordot(_r(m, 3, 4), _r(m, 3, 4), (1, 1)),
                           "tensordot(): argument 'dims_self' (position 3) must be tuple of ints, "
                           "not int"),
    "diff_0d": (lambda m: m.diff(m.tensor(1.0)), "diff expects input to be at least "
                                                 "one-dimensional"),
    "diff_negative_n": (lambda m: m.diff(_r(m, 4), -1), "order must be non-negative but got -1"),
    "diff_prepend_ndim": (lambda m: m.diff(_r(m, 3, 4), prepend=_r(m, 4)),
                          "diff expects prepend or append to be the same dimension as input"),
    "diff_append_shape": (lambda m: m.diff(_r(m, 3, 4), dim=0, append=_r(m, 1, 3)),
                          "diff expects the shape of tensor to prepend or append to match that "
                          "of input except along the differencing dimension; input.size(1) = "
                          "4, but got tensor.size(1) = 3"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name, torch):
    f, message = ERRORS[name]
    with pytest.raises(Exception) as t_info:
        f(torch)
    with pytest.raises(Exception) as e_info:
        f(ember)
    assert type(e_info.value).__name__ == type(t_info.value).__name__, (
        f"torch: {t_info.value!r}\nember: {e_info.value!r}")
    for exc in (t_info.value, e_info.value):
        assert re.search(re.escape(message), str(exc)), f"{type(exc).__module__}: {exc}"
