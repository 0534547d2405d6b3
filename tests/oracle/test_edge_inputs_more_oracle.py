"""More edge inputs against torch: the value, dtype and error-type corners a sweep of Tensor
methods, top-level functions and binary ops over dtype/shape pairs found handled
differently (empty, 0-d, bool, integer and NaN inputs; which check comes first). Each case
runs in both libraries and must agree on the result (values, dtype, shape) or on the
exception (type and first line of its message). Gradients of the ops changed on the way are
checked by finite differences and against torch."""
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from tests.oracle._bad_inputs import comparable
from tests.oracle.test_edge_inputs_oracle import _same

NAN, INF = "float('nan')", "float('inf')"
CASES = [
    # one hardshrink for ember.X, Tensor.X and F.X: NaN stays NaN
    f"lib.hardshrink(lib.tensor([1.0, {NAN}, -{INF}, {INF}, 0.0, -0.0]))",
    f"lib.tensor([1.0, {NAN}, -0.2, 0.5, 0.7]).hardshrink(0.5)",
    f"lib.nn.functional.hardshrink(lib.tensor([{NAN}, 0.3, -2.0]), 0.3)",
    "lib.hardshrink(lib.tensor([1, 2]))", "lib.prelu(lib.tensor([1, -2]), lib.tensor([1]))",
    "lib.nn.functional.prelu(lib.ones(2, 3, 2), lib.ones(2))",
    # shapes before dtypes in the integer-only binary ops and pow
    *[f"lib.{op}(lib.zeros(0, dtype=lib.{a}), lib.ones(3, dtype=lib.{b}))"
      for op in ("gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift")
      for a, b in (("bool", "bool"), ("float32", "int64"), ("int64", "float64"))],
    "lib.gcd(lib.tensor([4, 6]), lib.tensor([6, 4]))", "lib.pow(lib.zeros(0, dtype=lib.bool), "
    "lib.ones(3, dtype=lib.bool))", "lib.pow(lib.tensor([True]), lib.tensor([True, False]))",
    # ldexp: integer exponents scale exactly; a bool exponent has no kernel
    "lib.ldexp(lib.tensor([[1.5], [-0.0]]), lib.tensor([3, 0, 250], dtype=lib.uint8))",
    "lib.ldexp(lib.tensor([1e-30]), lib.tensor([200]))",
    "lib.ldexp(lib.tensor([1.5]), lib.tensor([-150, -149, 2 ** 40]))",
    "lib.ldexp(lib.tensor([1.5, 2.0]), lib.tensor([True, False]))",
    "lib.ldexp(lib.tensor([1.5], dtype=lib.float64), lib.tensor(True))",
    "lib.ldexp(lib.tensor([True]), lib.tensor([True, False]))",
    "lib.ldexp(lib.tensor([2]), lib.tensor([3, -2]))",
    "lib.ldexp(lib.tensor([2.0]), lib.tensor([1.5]))",
    "lib.tensor([3.0, 1.0]).ldexp_(lib.tensor([2, -1]))",
    # dot / vdot / inner of bools; checks in torch's order
    "lib.dot(lib.zeros(0, dtype=lib.bool), lib.ones(3, dtype=lib.bool))",
    "lib.dot(lib.zeros(0, dtype=lib.bool), lib.zeros(0, dtype=lib.bool))",
    "lib.vdot(lib.tensor([1]), lib.tensor([True, False]))",
    "lib.vdot(lib.tensor([True]), lib.tensor([True]))",
    "lib.inner(lib.tensor([True, False, True]), lib.tensor([True, False, True]))",
    "lib.inner(lib.ones(1, 2, dtype=lib.bool), lib.ones(1, 1, 2, dtype=lib.bool))",
    "lib.inner(lib.ones(2, 1, dtype=lib.bool), lib.ones(1, 1, dtype=lib.bool))",
    "lib.inner(lib.zeros(2, 0, dtype=lib.bool), lib.zeros(3, 0, dtype=lib.bool))",
    "lib.inner(lib.zeros(0, 2, dtype=lib.bool), lib.zeros(3, 2, dtype=lib.bool))",
    "lib.inner(lib.tensor(True), lib.tensor([True, False]))",
    "lib.inner(lib.zeros(2, 0), lib.zeros(3, 0))", "lib.inner(lib.zeros(0), lib.zeros(0))",
    # cross: shapes, then the kernel's bool refusal, then the dtype check
    "lib.cross(lib.tensor([True, False, True]), lib.tensor([True, False, True]), dim=0)",
    "lib.cross(lib.tensor([True, False, True]), lib.tensor([1, 0, 3]), dim=0)",
    "lib.cross(lib.tensor([1, 0, 3]), lib.tensor([True, False, True]), dim=0)",
    "lib.linalg.cross(lib.tensor([1.0, 0, 3]), lib.tensor([1, 2]))",
    "lib.linalg.cross(lib.ones(1, 3), lib.ones(1, 2), dim=-1)",
    "lib.linalg.cross(lib.ones(2, 3, dtype=lib.bool), lib.ones(3, 3, dtype=lib.bool))",
    # searchsorted / bucketize: no bool kernel; 0-d sorted sequences
    "lib.searchsorted(lib.tensor([False, True]), lib.tensor([True]))",
    "lib.searchsorted(lib.zeros(0, dtype=lib.bool), lib.tensor([True]))",
    "lib.bucketize(True, lib.tensor([False, True]))",
    "lib.bucketize(lib.tensor([True]), lib.tensor([1, 2]))",
    "lib.searchsorted(lib.tensor([False, True]), 1)",
    "lib.bucketize(lib.zeros(0, dtype=lib.bool), lib.tensor([True, False, True]))",
    "lib.searchsorted(lib.zeros(2, 3, dtype=lib.bool), lib.zeros(2, 0, dtype=lib.bool))",
    "lib.searchsorted(lib.zeros(2, 0), lib.zeros(2, 2))", "lib.searchsorted(lib.zeros(0, 3), "
    "lib.zeros(0, 2))",
    "lib.searchsorted(lib.tensor(1.0), lib.tensor([1.0, 2.0]))",
    "lib.searchsorted(lib.tensor(1.0), 1.0)", "lib.searchsorted(lib.tensor([[1, 2]]), 1)",
    "lib.searchsorted(lib.tensor([[1, 2], [3, 4]]), lib.tensor([[1], [3]]), right=True)",
    # Hurwitz zeta at its poles: inf for a NaN x too
    f"lib.special.zeta(lib.tensor([1.5, -0.0, {NAN}]), lib.tensor(-3))",
    f"lib.special.zeta(lib.tensor([1.5, -0.0, {NAN}]), lib.tensor([-2.5, 3.0, 0.0], "
    "dtype=lib.float64))",
    # cholesky: an empty input of any shape comes back as it is
    "lib.cholesky(lib.zeros(0, 3))", "lib.cholesky(lib.zeros(3, 0))",
    "lib.cholesky(lib.zeros(0, dtype=lib.int64))", "lib.cholesky(lib.zeros(2, 0, 3), upper=True)",
    "lib.cholesky(lib.tensor(1.5))", "lib.cholesky(lib.zeros(2, 3, dtype=lib.int64))",
    "lib.cholesky(lib.eye(2, dtype=lib.int64))", "lib.cholesky(lib.eye(2, dtype=lib.float16))",
    "lib.cholesky(lib.tensor([[4.0, 2.0], [2.0, 3.0]]))",
    "lib.cholesky_inverse(lib.zeros(0, 3))", "lib.cholesky_inverse(lib.tensor(1.5))",
    "lib.cholesky_inverse(lib.tensor([1, 2]))",
    "lib.cholesky_inverse(lib.ones(2, 3, dtype=lib.bool))",
    "lib.cholesky_inverse(lib.ones(2, 2, dtype=lib.int64))",
    # histograms: bins, dtypes and ranges checked in torch's order and words
    "lib.histc(lib.zeros(0, 3), 0)", "lib.histc(lib.tensor([1, 2]), 0)",
    "lib.histc(lib.tensor([1, 2]), 5)", "lib.histc(lib.tensor([True]), 5)",
    f"lib.histc(lib.tensor([1.0, {NAN}, -{INF}, {INF}, 0.0, -0.0]))",
    f"lib.histc(lib.tensor([{NAN}]))", f"lib.histc(lib.tensor([1.0, {INF}]))",
    f"lib.histc(lib.tensor([1.0, 2.0]), 3, min={NAN}, max=1)",
    "lib.histc(lib.tensor([1.0, 2.0]), 3, min=2, max=1)",
    f"lib.histc(lib.tensor([1, 2]), 3, min=-{INF}, max=1)",
    "lib.histc(lib.tensor([1.0, 2.0, 2.5]), 4)",
    "lib.histogram(lib.tensor([1.0, 2.0]), 0)", "lib.histogram(lib.tensor([1, 2]), 0)",
    "lib.histogram(lib.tensor([1, 2]), 3)",
    "lib.histogram(lib.tensor([1, 2]), 3, range=(0.0, 1.0))",
    "lib.histogram(lib.tensor([1, 2]), lib.tensor([1, 2]))",
    "lib.histogram(lib.tensor([True]), lib.tensor([1, 2]))",
    f"lib.histogram(lib.tensor([1.0, {NAN}]))",
    "lib.histogram(lib.tensor([1.0, 2.0]), lib.tensor([]))",
    "lib.histogram(lib.tensor([1.0, 2.0]), lib.tensor([2.0]))",
    "lib.histogram(lib.tensor([1.0, 2.0]), lib.tensor([0.0, 1.0], dtype=lib.float64))",
    "lib.histogram(lib.tensor([1.0, 2.0]), 3, range=(2.0, 1.0))",
    "lib.histogram(lib.tensor([1.0, 2.0]), 3, weight=lib.tensor([1.0]))",
    "lib.histogram(lib.tensor([[1.0, 2.0], [2.0, 2.0]]), 3, weight=lib.tensor([[1.0, 2.0], "
    "[3.0, 4.0]]))",
    "lib.histogram(lib.tensor([1.0, 2.0], dtype=lib.float16), 3)",
    "lib.histogram(lib.tensor([1.0, 2.0], dtype=lib.float16), lib.tensor([1.0, 2.0], "
    "dtype=lib.float16))",
    "lib.histogramdd(lib.tensor(1.5), 0)", "lib.histogramdd(lib.zeros(3, 0), 0)",
    "lib.histogramdd(lib.zeros(2, 3, 0), 2)", "lib.histogramdd(lib.tensor([[1, 2]]), 0)",
    "lib.histogramdd(lib.tensor([[1, 2]]), 3, range=[0.0, 1.0, 0.0, 1.0])",
    "lib.histogramdd(lib.tensor([[1.0, 2.0]]), [lib.tensor([1.0]), lib.tensor([1.0, 2.0])])",
    # the split family refuses 0-d tensors; negative sizes
    *[f"lib.tensor(1.5).{call}" for call in (
        "split(0)", "split([1])", "split(1, dim=1)", "tensor_split(0)", "tensor_split([1], 5)",
        "unsafe_split(1)", "split_with_sizes([1])", "unsafe_split_with_sizes([1])", "chunk(0)",
        "unsafe_chunk(2)", "unbind()", "unbind(-1)", "unbind(1)")],
    "lib.split_copy(lib.tensor(1.5), 0)", "lib.unbind_copy(lib.tensor(1.5))",
    "lib.zeros(3).split(-2, 5)", "lib.zeros(0).split(-1)", "lib.zeros(3).unsafe_split(-1)",
    "lib.zeros(3).split([2, -1, 2])", "lib.zeros(3).split(0)", "lib.zeros(0, 2).split(0)",
    "lib.zeros(2, 0).unbind(-1)", "lib.arange(5).split([2, 3])",
    # dims are checked before dtypes (and kthvalue's k before its dtype)
    "lib.logcumsumexp(lib.tensor([3, -2]), dim=1)", "lib.logcumsumexp(lib.tensor([True]), 0)",
    "lib.median(lib.tensor([True]), dim=1)", "lib.nanmedian(lib.tensor([True]), dim=1)",
    "lib.median(lib.tensor([True]), dim=0)",
    "lib.kthvalue(lib.tensor([True, False, True]), 0)",
    "lib.kthvalue(lib.tensor([True, False, True]), -1, keepdim=True)",
    "lib.kthvalue(lib.tensor([True, False]), 1, 3)", "lib.kthvalue(lib.tensor([True, False]), 1)",
    "lib.kthvalue(lib.zeros(0, dtype=lib.bool), 1)", "lib.kthvalue(lib.tensor(True), 1)",
    "lib.kthvalue(lib.tensor(1 + 1j), 1).indices", "lib.kthvalue(lib.tensor([1 + 1j]), 0)",
    # bool samples are refused, with cumulative_trapezoid checking before the dim
    "lib.cumulative_trapezoid(lib.tensor([True, False]))",
    "lib.cumulative_trapezoid(lib.tensor([True, False]), dim=1)",
    "lib.cumulative_trapezoid(lib.tensor([1.0, 2.0]), lib.tensor([True, False]))",
    "lib.cumulative_trapezoid(lib.tensor(1.0))", "lib.trapezoid(lib.tensor([True, False]))",
    "lib.trapezoid(lib.tensor([True, False]), lib.tensor([1.0, 2.0]))",
    "lib.cumulative_trapezoid(lib.tensor([1.0, 2.0, 4.0]), lib.tensor([0.0, 1.0, 3.0]))",
    # kernels that refuse bool before looking at the shape
    "lib.trace(lib.tensor([True, False]))", "lib.trace(lib.tensor(True))",
    "lib.trace(lib.tensor([1.0, 2.0]))", "lib.trace(lib.tensor([[1, 2], [3, 4]], dtype=lib.uint8))",
    "lib.stft(lib.tensor([True, False]), 0)",
    "lib.stft(lib.tensor([True, False] * 8), 4, return_complex=True, center=False)",
    "lib.stft(lib.tensor(1.0), 4)", "lib.stft(lib.tensor([1.0, 0.0] * 8), 4)",
    # no running sums and products in bool
    "lib.tensor([True, False]).cumsum_(0)", "lib.tensor([True, False]).cumprod_(0)",
    "lib.tensor(True).cumsum_(0)", "lib.zeros(0, dtype=lib.bool).cumprod_(0)",
    "lib.cumsum(lib.tensor([1.0, 0.0]), 0, dtype=lib.bool)",
    "lib.tensor([True, False]).cumsum(0, dtype=lib.bool)", "lib.tensor([True, False]).cumsum(0)",
    "lib.cumsum(lib.tensor(1.0), 0, dtype=lib.bool)", "lib.tensor([True]).cumsum_(5)",
    # scatter into views of 0-d and 1-d tensors
    "lib.select_scatter(lib.tensor([1.0, 2.0]), lib.tensor(5.0), 0, -1)",
    "lib.slice_scatter(lib.tensor(1.0), lib.tensor(5.0))",
    "lib.diagonal_scatter(lib.tensor([1.0, 2.0]), lib.tensor([1.0]))",
    # celu's alpha before the dtype; group_norm's kernel checks (torch.group_norm)
    "lib.celu(lib.tensor([3, -2]), 0)", "lib.celu_(lib.tensor([True]), 0)",
    "lib.nn.functional.celu(lib.tensor([3, -2]), 0)", "lib.celu(lib.tensor([3, -2]))",
    "lib.group_norm(lib.zeros(2, 3), 0)", "lib.group_norm(lib.zeros(2, 3), -1)",
    "lib.group_norm(lib.tensor(1.5), 0)", "lib.group_norm(lib.tensor([1.0, 2.0]), 1)",
    "lib.group_norm(lib.zeros(2, 4, dtype=lib.int64), 2)", "lib.group_norm(lib.zeros(1, 2), 2)",
    "lib.nn.functional.group_norm(lib.zeros(1, 2), 2)",
    "lib.nn.functional.group_norm(lib.zeros(2, 3), 0)",
    "lib.group_norm(lib.tensor([[1.0, 2.0, 3.0, 4.0]]), 2, lib.ones(4), lib.zeros(4))",
    # nuclear_norm's int dim, matrix_norm's wrapped dims in its message
    "lib.nuclear_norm(lib.zeros(2, 3), 0)", "lib.nuclear_norm(lib.zeros(2, 3), -1, keepdim=True)",
    "lib.nuclear_norm(lib.tensor(1.5), 0)",
    "lib.linalg.matrix_norm(lib.zeros(2, 3), 2, (0, -2))",
    # poisson: -inf is an invalid rate, not an overflow
    f"lib.poisson(lib.tensor([1.0, {NAN}, -{INF}, {INF}, 0.0, -0.0]))",
    f"lib.poisson(lib.tensor([-{INF}]))",
    f"(lib.manual_seed(0), lib.poisson(lib.tensor([{INF}])))[1]",
    # einsum: torch's argument checks and its sublist format
    "lib.einsum(lib.tensor([1.0, 2.0]))", "lib.einsum('i->i')",
    "lib.einsum('i,i->', lib.tensor([1.0, 2.0]))",
    "lib.einsum('i->', lib.tensor([1.0]), lib.tensor([1.0]))",
    "lib.einsum(lib.tensor([1.0, 2.0]), [0], lib.tensor([3.0, 4.0]), [0])",
    "lib.einsum(lib.tensor([[1.0, 2.0]]), [30, 0], [0, 30])",
    "lib.einsum(lib.tensor([[1.0, 2.0]]), [Ellipsis, 0], [0, Ellipsis])",
    "lib.einsum(lib.tensor([[1.0, 2.0]]), [60, 0])",
    # adjoint of 0-d tensors; 1-d refused in adjoint's own words
    "lib.adjoint(lib.tensor(1.5))", "lib.tensor(1.5).adjoint()",
    "lib.adjoint(lib.tensor([1.5, 2.0]))", "lib.adjoint(lib.tensor(1.5 + 1j)).resolve_conj().imag",
    "lib.adjoint(lib.arange(6.0).reshape(2, 3))",
    # adaptive pooling of empty non-batch dims
    "lib.adaptive_avg_pool1d(lib.zeros(3, 0), 0)", "lib.adaptive_max_pool1d(lib.zeros(3, 0), 0)",
    "lib.nn.functional.adaptive_avg_pool1d(lib.zeros(2, 3, 0), 1)",
    "lib.nn.functional.adaptive_max_pool1d(lib.zeros(0, 3), 1)",
    "lib.nn.functional.adaptive_max_pool2d(lib.zeros(2, 0, 2, 2), 1)",
    "lib.nn.functional.adaptive_avg_pool2d(lib.zeros(3, 0, 2), (1, 2))",
    "lib.nn.functional.adaptive_avg_pool2d(lib.zeros(3, 0, 2), 1)",
    "lib.nn.functional.adaptive_avg_pool1d(lib.arange(6.0).reshape(1, 6), 4)",
    # isin has no bool kernel; repeat_interleave's counts are int32 or int64
    "lib.isin(lib.tensor([True, False]), 0)", "lib.isin(lib.tensor([1, 0]), lib.tensor([True]))",
    "lib.isin(True, lib.tensor([1]))", "lib.isin(lib.tensor([1.5, 0.0]), 0)",
    "lib.repeat_interleave(lib.zeros(2, 3))",
    "lib.repeat_interleave(lib.tensor([1, 2], dtype=lib.uint8))",
    "lib.repeat_interleave(lib.tensor([[1, -2]]))",
    "lib.repeat_interleave(lib.tensor([1.0, 2.0]), lib.tensor([1, 2], dtype=lib.int16))",
    "lib.repeat_interleave(lib.tensor([1, 2], dtype=lib.int32))",
    # unique over slices with another empty dim
    "lib.zeros(0, 3).unique(dim=1)", "lib.zeros(0, 3).unique_consecutive(dim=1)",
    "lib.zeros(0, 0).unique(dim=0)", "lib.zeros(3, 0).unique(dim=0)",
    "lib.zeros(0, 3).unique(dim=0)",
    # integer division by zero only fails when something is divided
    "lib.unravel_index(lib.tensor([3, -2, 0, 7]), 0)",
    "lib.unravel_index(lib.tensor([3, 2]), (2, 0))",
    "lib.unravel_index(lib.tensor([], dtype=lib.int64), (0,))",
    "lib.unravel_index(lib.tensor([3, 2]), ())", "lib.unravel_index(lib.tensor(5), (2, 3))",
    "lib.tensor([], dtype=lib.int64) % 0", "lib.zeros(2, 0, dtype=lib.int64) // lib.tensor([0])",
    "lib.div(lib.tensor([], dtype=lib.int64), 0, rounding_mode='trunc')",
    "lib.fmod(lib.tensor([3, 2]), lib.tensor([0, 1]))",
    # argument types torch checks itself (RuntimeError, not TypeError)
    "lib.set_warn_always(lib.tensor(1.5))", "lib.set_float32_matmul_precision(None)",
    "lib.zeros(2).is_pinned(0)", "lib.zeros(2).is_pinned()",
]


def _outcome(lib, src):
    """The value of ``src`` run with ``lib``, or the exception's type and first line (torch's
    messages name ``torch.`` functions, and so do ember's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations and torch's resize notes
        try:
            return comparable(eval(src, {"lib": lib}), lib)  # noqa: S307
        except Exception as e:  # noqa: BLE001
            return type(e).__name__, str(e).split("\n")[0]


@pytest.mark.parametrize("src", CASES)
def test_edge_input_matches_torch(torch, src):
    expected, got = _outcome(torch, src), _outcome(ember, src)
    assert _same(expected, got), f"{src}: torch {expected!r}, ember {got!r}"


def _float64(*shape, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(low, high, shape), dtype=ember.float64, requires_grad=True)


def _away_from(x, kinks, gap=0.05):
    """``x`` nudged so that no element lies within ``gap`` of a kink."""
    a = x.detach().numpy().copy()
    for k in kinks:
        near = np.abs(a - k) < gap
        a[near] = k + np.where(a[near] >= k, gap, -gap)
    return ember.tensor(a, dtype=ember.float64, requires_grad=True)


def test_hardshrink_is_one_op_for_every_spelling():
    x = ember.tensor([float("nan"), 0.3, -2.0])
    F = ember.nn.functional
    assert F.hardshrink is ember.hardshrink and F.prelu is ember.prelu
    for y in (ember.hardshrink(x, 0.3), x.hardshrink(0.3), F.hardshrink(x, 0.3)):
        assert np.isnan(y.numpy()[0]) and y.numpy()[1] == 0 and y.numpy()[2] == -2.0


def test_hardshrink_and_prelu_gradients_pass_finite_differences():
    x = _away_from(_float64(3, 4), (-0.5, 0.5))
    assert gradcheck(lambda a: ember.hardshrink(a), (x,))
    assert gradgradcheck(lambda a: ember.hardshrink(a) ** 2, (x,))
    y = _away_from(_float64(2, 3, 4), (0.0,))
    w = _float64(3, low=0.1, high=0.5, seed=1)
    assert gradcheck(ember.nn.functional.prelu, (y, w))
    assert gradgradcheck(lambda a, b: ember.nn.functional.prelu(a, b) ** 2, (y, w))


def test_prelu_records_torchs_node_and_gradients(torch):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    w = np.array([0.1, 0.2, 0.3], np.float32)
    results = []
    for lib in (torch, ember):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.prelu(a, b)
        (out * out).sum().backward()
        results.append((type(out.grad_fn).__name__, a.grad.numpy(), b.grad.numpy()))
    assert results[0][0] == results[1][0] == "PreluKernelBackward0"
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", ["hardshrink", "softshrink"])
def test_shrink_double_backward_passes_nan_like_torch(torch, fn):
    grads = []
    for lib in (torch, ember):
        x = lib.tensor([float("nan"), -0.0, 0.3, -2.0, 0.5], requires_grad=True)
        (g,) = lib.autograd.grad(getattr(lib.nn.functional, fn)(x, 0.3).sum() * 1.0, x,
                                 create_graph=True)
        v = lib.ones(5, requires_grad=True)
        (gg,) = lib.autograd.grad((g * v).sum(), v)
        grads.append(gg.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_ldexp_with_integer_exponents_passes_finite_differences():
    x = _float64(2, 3)
    e = ember.tensor([[3, -2, 0], [1, 0, -5]])
    assert gradcheck(lambda a: ember.ldexp(a, e), (x,))
    assert gradgradcheck(lambda a: ember.ldexp(a, e) ** 2, (x,))


def test_changed_ops_pass_finite_differences():
    a, b = _float64(2, 3), _float64(4, 3, seed=1)
    assert gradcheck(ember.inner, (a, b))
    assert gradcheck(lambda u: ember.einsum(u, [0, 1], [1, 0]), (a,))
    assert gradcheck(lambda u: ember.kthvalue(u, 1).values, (_float64(),))
    s = _float64()
    assert gradcheck(lambda u, v: ember.select_scatter(u, v, 0, 1), (_float64(3), s))
    assert gradcheck(lambda u: u.split([1, 2], 1)[1], (a,))


def test_cholesky_of_an_empty_input_backpropagates_zeros(torch):
    grads = []
    for lib in (torch, ember):
        x = lib.zeros(2, 0, 0, dtype=lib.float64, requires_grad=True)
        out = lib.cholesky(x)
        out.sum().backward()
        grads.append((type(out.grad_fn).__name__, tuple(x.grad.shape)))
    assert grads[0] == grads[1]
