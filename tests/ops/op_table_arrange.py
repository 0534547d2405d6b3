"""Op-table rows for ``ember/ops/arrange.py`` (see ``tests/ops/op_table.py`` for the format:
each row is checked by finite differences and against torch)."""
from __future__ import annotations

import numpy as np

from tests.ops.op_table import case

REPS = np.array([2, 0, 3])  # one row dropped, one tripled
REPS_FLAT = np.array([1, 2, 0, 1, 3, 1])
TAKE_IDX = np.array([[0, 5, -1], [5, 11, 0]])  # duplicates and a negative index
TD = ([2, 0], [0, -1])  # tensordot dims, out of order and negative

ROWS: list = [
    # --- repeat_interleave, take, tile ---------------------------------------------------
    case("repeat_interleave_int_dim0", lambda m, a: a.repeat_interleave(2, dim=0), ((3, 4),)),
    case("repeat_interleave_int_neg_dim", lambda m, a: m.repeat_interleave(a, 3, dim=-1),
         ((2, 3, 2),)),
    case("repeat_interleave_int_flat", lambda m, a: m.repeat_interleave(a, 2), ((2, 3),)),
    case("repeat_interleave_scalar_input", lambda m, a: a.repeat_interleave(3), ((),)),
    case("repeat_interleave_tensor", lambda m, a: a.repeat_interleave(m.tensor(REPS), dim=0),
         ((3, 4),)),
    case("repeat_interleave_tensor_dim1", lambda m, a: a.repeat_interleave(
        m.tensor(REPS), dim=1, output_size=5), ((2, 3),)),
    case("repeat_interleave_tensor_flat", lambda m, a: m.repeat_interleave(
        a, m.tensor(REPS_FLAT)), ((2, 3),)),
    case("repeat_interleave_one_count", lambda m, a: a.repeat_interleave(m.tensor([2]), dim=-2),
         ((3, 2),)),
    case("take", lambda m, a: a.take(m.tensor(TAKE_IDX)), ((3, 4),)),
    case("take_from_3d", lambda m, a: m.take(a, m.tensor([3, 3, -24])), ((2, 3, 4),)),
    case("tile", lambda m, a: a.tile(2), ((3, 4),)),
    case("tile_more_dims", lambda m, a: m.tile(a, (2, 1, 3)), ((2, 3),)),
    case("tile_scalar", lambda m, a: m.tile(a, (3,)), ((),)),
    case("tile_varargs", lambda m, a: a.tile(2, 1), ((2, 3),)),
    # --- diagonals -----------------------------------------------------------------------
    case("diag_vector", lambda m, a: m.diag(a), ((4,),)),
    case("diag_vector_above", lambda m, a: a.diag(2), ((3,),)),
    case("diag_vector_below", lambda m, a: m.diag(a, -1), ((3,),)),
    case("diag_matrix", lambda m, a: m.diag(a), ((3, 5),)),
    case("diag_matrix_above", lambda m, a: a.diag(2), ((3, 5),)),
    case("diag_matrix_below", lambda m, a: m.diag(a, diagonal=-1), ((4, 3),)),
    case("diagonal", lambda m, a: a.diagonal(), ((3, 5),)),
    case("diagonal_below", lambda m, a: m.diagonal(a, -2), ((4, 3),)),
    case("diagonal_3d_neg_dims", lambda m, a: a.diagonal(1, -1, 0), ((3, 2, 4),)),
    case("diagonal_then_mul", lambda m, a: a.diagonal(0, 1, 2) * 2, ((2, 3, 3),)),
    case("diag_embed", lambda m, a: m.diag_embed(a), ((2, 3),)),
    case("diag_embed_offset_dims", lambda m, a: m.diag_embed(a, -1, 0, 2), ((2, 3),)),
    case("diag_embed_reversed_dims", lambda m, a: a.diag_embed(1, -1, 0), ((2, 3),)),
    case("diag_embed_vector", lambda m, a: m.diag_embed(a, 2), ((3,),)),
    case("trace", lambda m, a: a.trace(), ((3, 5),)),
    case("trace_tall", lambda m, a: m.trace(a), ((4, 2),)),
    case("block_diag", lambda m, a, b, c, d: m.block_diag(a, b, c, d),
         ((2, 3), (3,), (), (1, 2))),
    case("block_diag_one", lambda m, a: m.block_diag(a), ((2, 3),)),
    # --- rotations and flips -------------------------------------------------------------
    case("rot90", lambda m, a: a.rot90(), ((3, 4),)),
    case("rot90_twice", lambda m, a: m.rot90(a, 2), ((3, 4),)),
    case("rot90_negative_k", lambda m, a: m.rot90(a, -1, [1, 2]), ((2, 3, 4),)),
    case("rot90_reversed_dims", lambda m, a: a.rot90(3, (-1, 0)), ((2, 3, 4),)),
    case("rot90_k5", lambda m, a: a.rot90(5, [0, 1]), ((2, 5),)),
    case("flipud", lambda m, a: a.flipud(), ((3, 4),)),
    case("flipud_vector", lambda m, a: m.flipud(a), ((5,),)),
    case("fliplr", lambda m, a: m.fliplr(a), ((2, 3, 4),)),
    # --- broadcasting, atleast, stacking -------------------------------------------------
    case("broadcast_tensors", lambda m, a, b, c: m.broadcast_tensors(a, b, c),
         ((3, 1), (4,), (2, 1, 1))),
    case("broadcast_tensors_scalar", lambda m, a, b, c: m.broadcast_tensors(a, b, c),
         ((), (3, 1), (4,))),
    case("atleast_2d_vector", lambda m, a: m.atleast_2d(a) * 1, ((4,),)),
    case("atleast_2d_scalar", lambda m, a: m.atleast_2d(a) * 1, ((),)),
    case("atleast_2d_many", lambda m, a, b: m.atleast_2d(a, b), ((), (3,))),
    case("atleast_3d_vector", lambda m, a: m.atleast_3d(a) * 1, ((4,),)),
    case("atleast_3d_matrix", lambda m, a: m.atleast_3d(a) * 1, ((3, 4),)),
    case("atleast_3d_list", lambda m, a, b: m.atleast_3d([a, b]), ((), (2, 3))),
    case("atleast_3d_of_3d", lambda m, a: m.atleast_3d(a) * 1, ((2, 1, 3),)),
    case("column_stack", lambda m, a, b, c: m.column_stack([a, b, c]), ((3,), (3, 2), (3,))),
    case("column_stack_scalars", lambda m, a, b: m.column_stack((a, b)), ((), ())),
    case("dstack", lambda m, a, b: m.dstack([a, b]), ((3, 4), (3, 4, 2))),
    case("dstack_vectors", lambda m, a, b: m.dstack((a, b)), ((4,), (4,))),
    case("row_stack", lambda m, a, b: m.row_stack([a, b]), ((4,), (3, 4))),
    case("row_stack_scalars", lambda m, a, b: m.row_stack([a, b]), ((), ())),
    # --- grids and combinations ----------------------------------------------------------
    case("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), ((3,), (2,))),
    case("meshgrid_xy_three", lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"),
         ((3,), (2,), ())),
    case("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), ((3,), (2,))),
    case("cartesian_prod_three", lambda m, a, b, c: m.cartesian_prod(a, b, c),
         ((2,), (3,), (2,))),
    case("combinations", lambda m, a: m.combinations(a), ((4,),)),
    case("combinations_r3", lambda m, a: m.combinations(a, r=3), ((5,),)),
    case("combinations_with_replacement", lambda m, a: m.combinations(
        a, 2, with_replacement=True), ((3,),)),
    case("combinations_r1", lambda m, a: m.combinations(a, 1), ((3,),)),
    # torch's own vander backward fails (its in-place cumprod on a slice trips the version
    # check): gradients are checked by finite differences only
    case("vander", lambda m, a: m.vander(a), ((4,),), torch_grad=False),
    case("vander_increasing_n3", lambda m, a: m.vander(a, N=3, increasing=True), ((4,),),
         torch_grad=False),
    case("vander_wide", lambda m, a: m.vander(a, 5), ((3,),), torch_grad=False),
    # --- products ------------------------------------------------------------------------
    case("kron", lambda m, a, b: m.kron(a, b), ((2, 3), (3, 2))),
    case("kron_vector_matrix", lambda m, a, b: a.kron(b), ((2,), (2, 3))),
    case("kron_3d", lambda m, a, b: m.kron(a, b), ((2, 1, 2), (2, 3))),
    case("kron_scalar", lambda m, a, b: m.kron(a, b), ((), (2, 2))),
    case("tensordot", lambda m, a, b: m.tensordot(a, b), ((2, 3, 4), (3, 4, 2))),
    case("tensordot_dims1", lambda m, a, b: m.tensordot(a, b, 1), ((3, 4), (4, 2))),
    case("tensordot_dims0", lambda m, a, b: m.tensordot(a, b, dims=0), ((3,), (2,))),
    case("tensordot_dim_lists", lambda m, a, b: m.tensordot(a, b, dims=TD),
         ((2, 3, 4), (4, 3, 2))),
    case("tensordot_all_dims", lambda m, a, b: m.tensordot(a, b, ([0, 1], [1, 0])),
         ((3, 4), (4, 3))),
    # --- differences ---------------------------------------------------------------------
    case("diff", lambda m, a: m.diff(a), ((3, 5),)),
    case("diff_n2_dim0", lambda m, a: a.diff(n=2, dim=0), ((4, 3),)),
    case("diff_prepend_append", lambda m, a, b, c: m.diff(a, prepend=b, append=c),
         ((3, 4), (3, 1), (3, 2))),
    case("diff_prepend_dim0", lambda m, a, b: m.diff(a, 3, 0, prepend=b), ((3, 2), (2, 2))),
    case("diff_to_empty", lambda m, a: m.diff(a, 4, dim=-2), ((3, 2),)),
]
