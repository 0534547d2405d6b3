"""Complex inputs against torch: ops that used to refuse them (logcumsumexp, renorm,
corrcoef, transposed convolutions, triangular_solve, linalg.vander, norm 'nuc'), the errors
torch raises (bilinear with a gradient, dropout masks), signed zeros and node names of
products, views of empty tensors, float16 double backward of division and the warning of a
complex-to-real copy."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember


def _np(t):
    t = t.detach()
    return t.resolve_conj().numpy() if hasattr(t, "resolve_conj") else t.numpy()


def _sample(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _both(m, arr, rg=True):
    return m.tensor(arr, requires_grad=rg)


def _compare(torch, fn, shape, second=True, seed=0):
    """Values, first-order and (optionally) second-order gradients of ``fn(module, z)``."""
    x = _sample(shape, seed)
    zt, ze = _both(torch, x), _both(ember, x)
    out_t, out_e = fn(torch, zt), fn(ember, ze)
    np.testing.assert_allclose(_np(out_e), _np(out_t), rtol=1e-10, atol=1e-12)
    assert str(out_e.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1]
    cot = _sample(tuple(out_t.shape), seed + 1)
    cot = (cot if out_t.dtype.is_complex else cot.real).astype(_np(out_t).dtype)
    (gt,) = torch.autograd.grad(out_t, zt, torch.tensor(cot), create_graph=second)
    (ge,) = ember.autograd.grad(out_e, ze, ember.tensor(cot), create_graph=second)
    np.testing.assert_allclose(_np(ge), _np(gt), rtol=1e-10, atol=1e-12)
    if second and gt.requires_grad:
        (ggt,) = torch.autograd.grad((gt * gt.conj()).real.sum(), zt)
        (gge,) = ember.autograd.grad((ge * ge.conj()).real.sum(), ze)
        np.testing.assert_allclose(_np(gge), _np(ggt), rtol=1e-9, atol=1e-11)


CASES = {
    "logcumsumexp_0": (lambda m, z: m.logcumsumexp(z, 0), (3, 4)),
    "logcumsumexp_1": (lambda m, z: m.logcumsumexp(z * 3, -1), (3, 4)),
    "renorm_2": (lambda m, z: m.renorm(z, 2, 0, 1.0), (3, 4)),
    "renorm_1": (lambda m, z: m.renorm(z, 1, 1, 1.0), (3, 4)),
    "renorm_3": (lambda m, z: m.renorm(z, 3, 0, 0.5), (3, 4)),
    "renorm_inf": (lambda m, z: m.renorm(z, float("inf"), 1, 0.5), (3, 4)),
    "renorm_half": (lambda m, z: m.renorm(z, 0.5, 1, 1.0), (3, 4)),
    "corrcoef": (lambda m, z: m.corrcoef(z), (3, 4)),
    "corrcoef_row": (lambda m, z: m.corrcoef(z[0]), (3, 4)),
    "vander": (lambda m, z: m.linalg.vander(z), (4,)),
    "vander_n": (lambda m, z: m.linalg.vander(z, N=2), (2, 3)),
    "norm_nuc": (lambda m, z: m.norm(z, p="nuc"), (3, 4)),
    "norm_nuc_dim": (lambda m, z: m.norm(z, "nuc", dim=(2, 1), keepdim=True), (2, 3, 4)),
    "norm_nuc_real": (lambda m, z: m.norm(z.real, "nuc", dim=(0, 1)), (3, 4)),
    "logaddexp": (lambda m, z: m.logaddexp(z, m.tensor(_sample((3, 4), 7)) * 3), (3, 4)),
    "logaddexp_real_other": (lambda m, z: m.logaddexp(m.tensor(_sample((4,), 7).real), z),
                             (3, 4)),
    "ldexp": (lambda m, z: m.ldexp(z, m.tensor(_sample((3, 4), 7))), (3, 4)),
    "ldexp_of_other": (lambda m, z: m.ldexp(m.tensor(_sample((3, 4), 7)), z), (3, 4)),
    "cholesky": (lambda m, z: m.cholesky(z @ z.mH + m.eye(3)), (2, 3, 3)),
    "cholesky_upper": (lambda m, z: m.cholesky(z @ z.mH + m.eye(3), True), (3, 3)),
    "constant_pad_nd": (lambda m, z: m.constant_pad_nd(z, (1, 2, 0, 1), 1 - 2j), (3, 4)),
    "div": (lambda m, z: z / m.tensor(_sample((3, 4), 7)), (3, 4)),
    "div_other": (lambda m, z: m.tensor(_sample((4,), 7)) / z, (3, 4)),
    "div_number": (lambda m, z: (1 + 2j) / z, (3, 4)),
    "masked_scatter_broadcast": (lambda m, z: z.masked_scatter(
        m.tensor([[True, False, True, True]] * 2), m.tensor(_sample((3, 4), 7))), (4,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_op_matches_torch(torch, name):
    fn, shape = CASES[name]
    _compare(torch, fn, shape)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_triangular_solve_complex(torch, upper, transpose, unit):
    other = _sample((3, 2), 5)
    def fn_a(m, z):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.triangular_solve(m.tensor(other), z + 3 * m.eye(3), upper=upper,
                                      transpose=transpose, unitriangular=unit)[0]

    def fn_b(m, z):
        a = m.tensor(_sample((3, 3), 6) + 3 * np.eye(3))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.triangular_solve(z, a, upper=upper, transpose=transpose,
                                      unitriangular=unit)[0]

    _compare(torch, fn_a, (3, 3))
    _compare(torch, fn_b, (3, 2), second=False)


@pytest.mark.parametrize("name, shape, wshape", [
    ("conv1d", (1, 2, 5), (3, 2, 3)), ("conv2d", (1, 2, 4, 4), (3, 2, 3, 3)),
    ("conv3d", (1, 2, 3, 3, 3), (3, 2, 2, 2, 2)),
    ("conv_transpose1d", (1, 2, 5), (2, 3, 3)), ("conv_transpose2d", (1, 2, 4, 4), (2, 3, 3, 3)),
    ("conv_transpose3d", (1, 2, 3, 3, 3), (2, 3, 2, 2, 2))])
def test_complex_convolutions(torch, name, shape, wshape):
    w = _sample(wshape, 9)
    stride = 2 if "transpose" in name else 1
    _compare(torch, lambda m, z: getattr(m.nn.functional, name)(z, m.tensor(w), stride=stride,
                                                                padding=1), shape, second=False)
    x = _sample(shape, 10)
    _compare(torch, lambda m, z: getattr(m.nn.functional, name)(m.tensor(x), z, stride=stride,
                                                                padding=1), wshape, second=False)


def test_conv_transpose_output_padding_beyond_stride(torch):
    # output padding may reach the dilation: windows stop at the input's size
    x, w = _sample((2, 4, 4, 5), 11), _sample((4, 2, 4, 5), 12)
    options = dict(stride=(3, 2), padding=(1, 2), output_padding=(2, 3), groups=2,
                   dilation=(4, 4))
    _compare(torch, lambda m, z: m.nn.functional.conv_transpose2d(z, m.tensor(w), **options),
             (2, 4, 4, 5), second=False)
    outs = []
    for m in (ember, torch):
        xr = m.tensor(x.real.copy(), requires_grad=True)
        wr = m.tensor(w.real.copy(), requires_grad=True)
        out = m.nn.functional.conv_transpose2d(xr, wr, **options)
        out.backward(m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape))))
        outs.append([_np(t) for t in (out, xr.grad, wr.grad)])
    for got, want in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("args", [("inf",), ("bad",), ("nuc", 0), ("fro", (0, 1, 2))])
def test_norm_string_orders_errors(torch, args):
    for shape in ((4,), (2, 3, 4)):
        got = _outcome(lambda s=shape: ember.norm(ember.ones(*s), *args))
        assert got == _outcome(lambda s=shape: torch.norm(torch.ones(*s), *args))


@pytest.mark.parametrize("dtype", ["float16", "float64", "int64", "int8", "uint8", "bool"])
def test_constant_pad_nd_complex_value_on_real_input(torch, dtype):
    def run(m):
        return lambda: m.constant_pad_nd(m.ones(2, dtype=getattr(m, dtype)), (1, 1), 1 + 2j)

    assert _outcome(run(ember)) == _outcome(run(torch))


@pytest.mark.parametrize("fn", ["inv_ex", "ldl_factor", "ldl_factor_ex"])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_empty_matrix_factorizations(torch, fn, dtype):
    def run(m):
        out = getattr(m.linalg, fn)(m.zeros(3, 0, 0, dtype=getattr(m, dtype)))
        return [(tuple(t.shape), str(t.dtype).split(".")[-1]) for t in out]

    assert run(ember) == run(torch)


def test_masked_scatter_broadcast_errors(torch):
    def run(m):
        return lambda: m.ones(5).masked_scatter(m.ones(4, dtype=m.bool), m.ones(5, 5))

    assert _outcome(run(ember)) == _outcome(run(torch))


def _outcome(fn):
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001  (the error is the result compared)
        return type(exc).__name__, str(exc)
    if out is None:
        return "ok", None
    arr = _np(out)
    return "ok", (np.round(arr, 10) if arr.dtype.kind in "fc" else arr).tolist()


def test_bilinear_complex_refuses_gradients_like_torch(torch):
    def run(m, grad_of):
        a = m.tensor(_sample((2, 3), 1), requires_grad=grad_of == "input1")
        w = m.tensor(_sample((4, 3, 3), 2), requires_grad=grad_of == "weight")
        b = m.tensor(_sample((4,), 3), requires_grad=grad_of == "bias")
        return lambda: m.nn.functional.bilinear(a, a, w, b)

    for grad_of in ("none", "input1", "weight", "bias"):
        assert _outcome(run(ember, grad_of)) == _outcome(run(torch, grad_of))


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("name", ["F.dropout", "F.alpha_dropout", "F.feature_alpha_dropout",
                                  "F.dropout1d", "F.dropout2d", "F.dropout3d", "dropout",
                                  "alpha_dropout", "feature_alpha_dropout", "feature_dropout"])
def test_dropout_complex_matches_torch(torch, name, p):
    def run(m):
        x = m.ones(2, 3, 4, 4, dtype=m.complex64)
        if name == "F.dropout1d":
            x = x[0]
        if name.startswith("F."):
            return lambda: getattr(m.nn.functional, name[2:])(x, p, training=True)
        return lambda: getattr(m, name)(x, p, True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = _outcome(run(ember)), _outcome(run(torch))
    assert got == want


def test_product_gradient_signs_and_nodes(torch):
    res = []
    for m in (ember, torch):
        w = m.tensor([1 + 2j, 3 - 1j], dtype=m.complex128, requires_grad=True)
        v = m.tensor([1 - 2j, 2 - 1j], dtype=m.complex128, requires_grad=True)
        ones = m.tensor([1 + 0j, 2 + 0j], dtype=m.complex128)
        (g1,) = m.autograd.grad(w * 1, w, ones)
        gw, gv = m.autograd.grad(w * v, [w, v], ones, create_graph=True)
        second = m.autograd.grad((gw * gv).abs().sum(), [w, v])
        res.append((np.signbit(_np(g1).imag).tolist(), type(gw.grad_fn).__name__,
                    [np.round(_np(s), 12).tolist() for s in second]))
    assert res[0] == res[1]


def test_views_of_empty_complex_tensors(torch):
    def flags(m):
        z = m.zeros(0, 3, dtype=m.complex64)
        r = m.zeros(0, 2)
        views = (z.real, z.imag, m.view_as_real(z), m.view_as_complex(r), z.reshape(3, 0),
                 z.clone())
        return [(v._base is not None, v._is_view(), tuple(v.shape)) for v in views]

    assert flags(ember) == flags(torch)


def test_div_float16_double_backward(torch):
    res = []
    for m in (ember, torch):
        x = m.tensor([3.0, 500.0], dtype=m.float16, requires_grad=True)
        y = m.tensor([300.0, 400.0], dtype=m.float16, requires_grad=True)
        _, gy = m.autograd.grad((x / y).sum(), [x, y], create_graph=True)
        res.append([_np(g).tolist() for g in (gy, *m.autograd.grad(gy.sum(), [x, y]))])
    assert res[0] == res[1]


@pytest.mark.parametrize("how", ["copy_", "setitem", "setitem_int", "fill_"])
def test_complex_to_real_copy_warns_like_torch(torch, how):
    def run(m):
        dst = m.zeros(2)
        src = m.tensor([1 + 1j, 2 - 1j], dtype=m.complex64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if how == "copy_":
                dst.copy_(src)
            elif how == "setitem":
                dst[...] = src
            elif how == "setitem_int":
                dst[0] = src[1]
            else:
                dst.fill_(src[1])
        return _np(dst).tolist(), caught

    got, got_w = run(ember)
    want, want_w = run(torch)
    assert got == want
    assert [w.category for w in got_w] == [UserWarning]
    assert str(got_w[0].message) == "Casting complex values to real discards the imaginary part"
    # torch warns once per process: when it still does, it is the same warning
    assert all(w.category is UserWarning and str(w.message).startswith(str(got_w[0].message))
               for w in want_w)


def test_lowrank_of_complex_matrix(torch):
    a = _sample((6, 4), 21)
    res = []
    for m in (ember, torch):
        m.manual_seed(0)
        _, s1, _ = m.svd_lowrank(m.tensor(a), q=3)
        m.manual_seed(0)
        u, s2, v = m.pca_lowrank(m.tensor(a), q=3)
        res.append([_np(t) for t in (s1, s2, (u * s2[None]) @ v.mH)])
    for got, want in zip(*res):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["float", "double", "half", "long", "int", "short", "char",
                                  "byte", "bool", "cfloat", "cdouble"])
def test_dtype_shorthands_take_memory_format(torch, name):
    got = getattr(ember.ones(2, 3), name)(memory_format=ember.preserve_format)
    want = getattr(torch.ones(2, 3), name)(memory_format=torch.preserve_format)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_gather_scatter_take_an_empty_index_of_any_dtype(torch, dtype):
    def run(m):
        idx = m.zeros(0, dtype=getattr(m, dtype))
        return [_outcome(lambda: m.gather(m.ones(5), 0, idx)),
                _outcome(lambda: m.ones(5).scatter(0, idx, 1.0)),
                _outcome(lambda: m.gather(m.ones(5), 0, idx.new_zeros(1)))]

    assert run(ember) == run(torch)


def _writes(m):
    """Complex values written into real tensors: fill_, setitem and index_put."""
    mask = m.tensor([True, False])
    cases = [lambda: m.zeros(2).fill_(1j), lambda: m.zeros(2).fill_(1 + 0j),
             lambda: m.zeros(2, dtype=m.bool).fill_(1j),
             lambda: m.zeros(2, requires_grad=True).clone().fill_(1j),
             lambda: m.zeros(2).index_put_((m.tensor([0]),), m.tensor([1 + 1j])),
             lambda: m.zeros(2).index_put((m.tensor([0]),), m.tensor([1.0], dtype=m.float64)),
             lambda: m.zeros(2, dtype=m.complex64).index_put_((m.tensor([0]),), m.ones(1)),
             lambda: m.zeros(2).masked_fill(mask, 1j)]
    for idx in (0, slice(0, 1), m.tensor([0]), mask):
        for v in (1j, 3 + 0j):
            def write(idx=idx, v=v):
                x = m.zeros(2)
                x[idx] = v
                return x
            cases.append(write)
    return cases


def test_complex_numbers_written_into_real_tensors(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [_outcome(f) for f in _writes(ember)]
        want = [_outcome(f) for f in _writes(torch)]
    assert got == want


def test_tensordot_sums_broadcast_contracted_dims(torch):
    other = _sample((2, 1, 2), 22)
    _compare(torch, lambda m, z: m.tensordot(z, m.tensor(other), dims=([0, 1], [2, 0])),
             (1, 1, 3), second=False)
    _compare(torch, lambda m, z: m.tensordot(m.tensor(other), z, dims=([2, 0], [0, 1])),
             (1, 1, 3), second=False)
