"""torch's argument-parser TypeErrors against ember's: a non-Tensor where a Tensor is needed,
missing required arguments, an int for a bool, a bare int for a size sequence. Each case runs
in both libraries; both must raise the same exception type with the same first line of
message. The valid calls next to those errors must keep working and agree with torch."""
import warnings

import numpy as np
import pytest

import ember

# ``x`` 3x3, ``b3`` 2x3x3, ``v`` a vector, ``i`` int64, ``s`` a 0-d tensor
NOT_A_TENSOR = [
    "x.mm(0)", "lib.mm(x, 0)", "lib.mm(0, x)", "x.mm(None)", "x.mm([1])", "x.mm(1.5)",
    "x.bmm(0)", "lib.bmm(b3, 1.5)", "v.dot(0)", "lib.dot(v, None)",
    "x.kron(0)", "lib.kron(x, 0)", "lib.kron(0, x)", "x.view_as(0)", "x.expand_as(None)",
    "x.reshape_as([1])", "x.type_as(0)", "x.type_as(None)", "lib.matmul(x, 0)",
    "x.mv(0)", "lib.mv(x, 0)", "x.inner(0)", "lib.inner(x, 0)", "s.inner(0)", "v.outer(0)",
    "lib.outer(v, 0)", "x.outer(0)", "v.ger(0)", "lib.ger(v, 0)", "x.ger(0)",
    "x.cross(0)", "lib.cross(x, 0)", "s.cross(0)", "x.dist(0)", "lib.dist(x, 0)",
    "x.take(0)", "lib.take(x, 0)", "lib.take(0, x)", "x.take_along_dim(0)",
    "lib.take_along_dim(x, 0)", "x.masked_select(0)", "lib.masked_select(x, [True])",
    "x.cholesky_solve(0)", "lib.cholesky_solve(x, 0)", "x.triangular_solve(0)",
    "lib.triangular_solve(x, 0)", "x.orgqr(0)", "lib.orgqr(x, 0)", "lib.orgqr(0, x)",
    "x.prelu(0)", "lib.prelu(x, 0)", "v.vdot(0)", "lib.vdot(v, 0)",
    "x.is_same_size(0)", "lib.is_same_size(x, 0)", "x.resize_as_(0)", "x.is_set_to(0)",
    "i.bincount(0)", "lib.bincount(i, [1.0, 2.0])", "x.bincount(0)",
    "lib.cdist(x, 0)", "lib.cdist(0, x)", "lib.binomial(x, 0)", "lib.binomial(0, x)",
    "lib.lu_unpack(x, 0)", "lib.kl_div(x, 0)", "lib.cosine_similarity(x, 0)",
    "lib.pairwise_distance(x, 0)", "lib.hinge_embedding_loss(x, 0)",
    "lib.binary_cross_entropy_with_logits(x, 0)", "lib.embedding(x, 0)", "lib.embedding(0, x)",
    "lib.conv_transpose1d(x, 0)", "lib.conv_transpose2d(x, 0)", "lib.conv1d(x, 0)",
    "lib.conv2d(0, x)", "lib.conv3d(x, 0)", "lib.bucketize(x, 0)", "lib.bucketize(x, [1])",
    "lib.trapz(x, 0)", "lib.trapezoid(x, 0)", "lib.cumulative_trapezoid(x, 0)",
    "lib.where(x > 0, 0)", "lib.where(x > 0, other=x)", "lib.poisson(x, 0)",
    "x.diagonal_scatter(0)", "s.diagonal_scatter(0)", "lib.diagonal_scatter(x, 0)",
    "s.slice_scatter(0)", "lib.slice_scatter(s, 0)", "x.select_scatter(0, 0, 0)",
    "x.as_strided_scatter(0, (1,), (1,))",
    # tensor lists
    "lib.cat(x)", "lib.cat(x, dim=1)", "lib.cat([x, 0])", "lib.cat([0, x])", "lib.stack(x)",
    "lib.stack([x, 1.5])", "lib.hstack(x)", "lib.hstack([x, 0])", "lib.vstack(x)",
    "lib.dstack(x)", "lib.column_stack(x)", "lib.row_stack(x)", "lib.block_diag(x, 0)",
    "lib.broadcast_tensors(x, 0)", "lib.meshgrid(v, 0)", "lib.meshgrid([v, 0])",
    "lib.cartesian_prod(v, 0)", "lib.atleast_2d(x, 0)", "lib.atleast_3d([x, 0])",
    "lib.chain_matmul(x, 0)",
]
MISSING = [
    *[f"{t}.{call}" for t in ("x", "s") for call in (
        "view()", "reshape()", "permute()", "expand()", "repeat()", "tile()", "flip()",
        "new_zeros()", "new_ones()", "new_empty()", "sum_to_size()", "softmax()",
        "log_softmax()")],
    "lib.reshape(x)", "lib.permute(x)", "lib.tile(x)", "lib.softmax(x)", "lib.log_softmax(x)",
    "x.flip(dim=1)", "x.flip(0, keepdim=True)", "v.repeat_interleave()",
    "v.repeat_interleave(dim=0)", "v.repeat_interleave(dim=0, output_size=2)",
    "lib.repeat_interleave(v, dim=0)",
]
NOT_A_BOOL = [
    "x.svd(0)", "lib.svd(x, 0)", "x.svd(True, 0)", "lib.svd(x, None)", "x.qr(0)",
    "lib.qr(x, 1)", "x.cholesky(0)", "lib.cholesky(x, None)", "x.cholesky_inverse(0)",
    "lib.cholesky_inverse(x, 0)", "x.cholesky_solve(x, 0)", "lib.triangular_solve(x, x, 0)",
    "x.triangular_solve(x, True, False, 0)", "x.lu(0)", "lib.lu(x, 1)", "x.unique(0)",
    "lib.unique(x, True, 0)", "x.unique(return_counts=1)", "x.unique(0, dim=0)",
    "x.unique_consecutive(0)", "lib.unique_consecutive(x, True, 0)", "x.svd(np.bool_(True))",
]
NOT_A_SEQUENCE = [
    "lib.flip(x, 0)", "x.flip(dims=0)", "lib.tile(x, 2)", "lib.tile(x, 2, 3)",
    "lib.broadcast_to(x, 3)", "lib.layer_norm(x, 3)", "lib.rms_norm(x, 3)",
    "lib.split_with_sizes(x, 3)", "x.split_with_sizes(3)", "lib.unsafe_split_with_sizes(x, 3)",
    "lib.split_with_sizes_copy(x, 3)", "lib.relu(x, 0)",
]
# same exception type, but ember's message differs (see the notes in ember/_arg_errors.py):
# Python's own "takes N positional arguments" (torch's C methods say "takes no arguments"),
# matmul's positions (Tensor.matmul is ops.matmul itself, for the profiler), aliases of cat
TYPE_ONLY = [
    "x.relu(0)", "x.relu_(0)", "lib.relu_(x, 0)", "x.contiguous(0)", "x.is_contiguous(0)",
    "x.matmul(0)", "x @ 0", "lib.resize_as_(x, 0)", "lib.concat(x)", "lib.flip(x)",
]
VALID = [
    "v.repeat_interleave(2)", "lib.repeat_interleave(lib.tensor([1, 2]))", "x.tile(2)",
    "x.tile(2, 1)", "lib.tile(x, (2,))", "lib.tile(s, ())", "x.flip(0)", "x.flip(0, 1)",
    "x.flip([0, 1])", "x.flip(dims=(0,))", "x.broadcast_to((2, 3, 3))", "s.reshape(())",
    "s.view(())", "s.permute(())", "s.expand(())", "s.repeat(())", "x.reshape(-1)",
    "lib.kron(lib.tensor(2.0), lib.tensor(3.0))", "lib.kron(x, x)", "x.mm(x)", "x.matmul(v)",
    "lib.nn.functional.softmax(x, 0)", "lib.nn.functional.log_softmax(x, 1)", "x.softmax(1)",
    "lib.nn.functional.relu(v - 1, True)", "x.contiguous()",
    "x.contiguous(memory_format=lib.contiguous_format)", "x.is_contiguous()",
    "lib.where(x > 0, 0, 1)", "x.where(x > 1, 0)", "lib.cat([x, x])", "lib.stack((x, x), 1)",
    "lib.flipud(x)", "lib.fliplr(x)", "i.bincount(lib.tensor([0.5, 2.0]))", "x.svd(True)[1]",
    "x.unique(True, True)[0]", "lib.trapz(x, v)", "lib.take_along_dim(v, i)",
    "lib.broadcast_tensors(s, v)[0]", "lib.atleast_2d(s, v)[1]",
    "lib.linalg.tensorsolve(lib.eye(4).reshape(2, 2, 4), lib.ones(2, 2))",
    "lib.autograd.functional.jacobian(lambda t: t * t, lib.tensor(3.0))",
]


def _run(lib, expr):
    env = {"lib": lib, "np": np, "x": lib.arange(9.0).reshape(3, 3) + lib.eye(3) * 10,
           "b3": lib.ones(2, 3, 3), "v": lib.arange(3.0), "i": lib.tensor([0, 1]),
           "s": lib.tensor(1.5)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", eval(expr, env)  # noqa: S307
        except Exception as e:  # noqa: BLE001  (the exception itself is the result)
            return "err", (type(e).__name__, str(e).split("\n")[0])


@pytest.mark.parametrize("expr", NOT_A_TENSOR + MISSING + NOT_A_BOOL + NOT_A_SEQUENCE)
def test_invalid_call_raises_torchs_type_error(torch, expr):
    expected, got = _run(torch, expr), _run(ember, expr)
    assert expected[0] == "err" and expected[1][0] == "TypeError", expected
    assert got == expected


@pytest.mark.parametrize("expr", TYPE_ONLY)
def test_invalid_call_raises_type_error_too(torch, expr):
    expected, got = _run(torch, expr), _run(ember, expr)
    assert expected[0] == "err" and expected[1][0] == "TypeError", expected
    assert got[0] == "err" and got[1][0] == "TypeError", got


@pytest.mark.parametrize("expr", VALID)
def test_valid_call_next_to_the_errors_still_agrees(torch, expr):
    (k1, expected), (k2, got) = _run(torch, expr), _run(ember, expr)
    assert k1 == k2 == "ok", (expected, got)
    if not isinstance(expected, torch.Tensor):
        assert type(got) is type(expected) and got == expected
        return
    a, b = np.asarray(expected.detach().numpy()), np.asarray(got.detach().numpy())
    assert a.shape == b.shape and str(a.dtype) == str(b.dtype)
    np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
