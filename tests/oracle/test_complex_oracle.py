"""Complex tensors against torch: promotion, creation, printing, op values and dtypes, the
errors torch raises for ops that have no complex kernel, and gradients of real losses through
complex intermediates (inputs chosen so a missing or extra conj changes the answer)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

DTYPES = ["bool", "uint8", "int64", "float16", "float32", "float64", "complex64", "complex128"]


def _twin(m, name):
    return getattr(m, name)


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", ["complex64", "complex128"])
def test_promote_types(torch, a, b):
    want = torch.promote_types(_twin(torch, a), _twin(torch, b))
    assert ember.promote_types(_twin(ember, a), _twin(ember, b)).name == str(want)[6:]


@pytest.mark.parametrize("dims, zero, scalar", [
    ("float64", None, 1j), ("float32", "complex128", None), ("float64", "complex64", None),
    ("int64", None, 2j), ("complex64", "float64", None), ("complex64", None, 2.5),
    (None, "float64", 1j), ("int32", "complex64", 1.5), ("bool", None, 1j),
    ("complex128", "complex64", 1j)])
def test_result_type(torch, dims, zero, scalar):
    def operands(m):
        out = []
        if dims:
            out.append(m.ones(2, dtype=_twin(m, dims)))
        if zero:
            out.append(m.tensor(1, dtype=_twin(m, zero)))
        if scalar is not None:
            out.append(scalar)
        return out

    t_ops, e_ops = operands(torch), operands(ember)
    want = torch.result_type(*t_ops[:2]) if len(t_ops) == 2 else None
    if len(t_ops) == 3:
        want = (t_ops[0] * t_ops[1] * t_ops[2]).dtype
        got = (e_ops[0] * e_ops[1] * e_ops[2]).dtype
    else:
        got = ember.result_type(*e_ops)
    assert got.name == str(want)[6:]


@pytest.mark.parametrize("data", [1 + 2j, [1, 2.5, 1j], [[1j, 2], [3, 4 - 1j]], 3j])
def test_tensor_from_python_complex(torch, data):
    assert str(ember.tensor(data).dtype)[6:] == str(torch.tensor(data).dtype)[6:]
    np.testing.assert_array_equal(ember.tensor(data).numpy(), torch.tensor(data).numpy())


def test_default_complex_follows_default_dtype(torch):
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    try:
        assert str(ember.tensor(1j).dtype)[6:] == str(torch.tensor(1j).dtype)[6:]
        assert repr(ember.tensor([1j])) == repr(torch.tensor([1j]))
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("shape", [(5,), (3, 7), (40,)])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_seeded_randn_and_rand(torch, shape, dtype):
    for fn in ("randn", "rand"):
        torch.manual_seed(7)
        ember.manual_seed(7)
        want = getattr(torch, fn)(*shape, dtype=_twin(torch, dtype)).numpy()
        got = getattr(ember, fn)(*shape, dtype=_twin(ember, dtype)).numpy()
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("values", [
    [1 + 2j, 3 - 1j], [[1.5 + 2j, 3 - 1j], [0, -1e-3j]], [1e10 + 1j, 1], [0.5 + 1j],
    [float("nan") + 1j, float("inf") * 1j], [-0.25 - 1e-5j, 123.5 + 0j, 7j], 2 - 1j])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_repr(torch, values, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = repr(torch.tensor(values, dtype=_twin(torch, dtype)))
    got = repr(ember.tensor(values, dtype=_twin(ember, dtype)))
    assert got == want.replace("torch.", "ember.")


def test_repr_of_a_long_complex_tensor(torch):
    values = np.arange(2000) * (0.5 - 0.25j)
    assert repr(ember.tensor(values)) == repr(torch.tensor(values)).replace("torch.", "ember.")


Z = np.array([[1 + 2j, 3 - 1j, -0.5j], [2.5 + 0.5j, -1 - 1j, 0.25 + 3j]], np.complex64)
X = np.array([[0.5, -2.0, 1.5], [3.0, 0.25, -1.0]], np.float32)

VALUE_CASES = {
    "add_scalar": lambda m, z, x: z + (2 - 1j), "mul_real": lambda m, z, x: z * x,
    "div": lambda m, z, x: z / z[:, :1], "rdiv": lambda m, z, x: 1 / z,
    "pow": lambda m, z, x: z ** 2.5, "rpow": lambda m, z, x: 2 ** z,
    "exp": lambda m, z, x: z.exp(),
    "log": lambda m, z, x: z.log(),
    "sqrt": lambda m, z, x: z.sqrt(),
    "sin": lambda m, z, x: z.sin(), "tanh": lambda m, z, x: z.tanh(),
    "sigmoid": lambda m, z, x: z.sigmoid(), "rsqrt": lambda m, z, x: z.rsqrt(),
    "asinh": lambda m, z, x: z.asinh(), "acos": lambda m, z, x: z.acos(),
    "reciprocal": lambda m, z, x: z.reciprocal(), "neg": lambda m, z, x: -z,
    "abs": lambda m, z, x: z.abs(), "angle": lambda m, z, x: z.angle(),
    "angle_real": lambda m, z, x: m.angle(x), "sgn": lambda m, z, x: z.sgn(),
    "real": lambda m, z, x: z.real, "imag": lambda m, z, x: z.imag,
    "conj": lambda m, z, x: z.conj().resolve_conj(),
    "isreal": lambda m, z, x: m.isreal(z), "eq": lambda m, z, x: z == z[0],
    "ne": lambda m, z, x: z != (3 - 1j), "sum": lambda m, z, x: z.sum(1),
    "mean": lambda m, z, x: z.mean(), "prod": lambda m, z, x: z.prod(0),
    "cumsum": lambda m, z, x: z.cumsum(1), "var": lambda m, z, x: z.var(1),
    "std": lambda m, z, x: z.std(), "logsumexp": lambda m, z, x: z.logsumexp(1),
    "matmul": lambda m, z, x: z @ z.mT, "mH": lambda m, z, x: z.mH @ z,
    "vdot": lambda m, z, x: m.vdot(z[0], z[1]), "dot": lambda m, z, x: m.dot(z[0], z[1]),
    "norm": lambda m, z, x: m.linalg.vector_norm(z, 3, dim=1),
    "dist": lambda m, z, x: m.dist(z, z * 2),
    "view_as_real": lambda m, z, x: m.view_as_real(z),
    "view_as_complex": lambda m, z, x: m.view_as_complex(m.stack([x, -x], -1)),
    "complex": lambda m, z, x: m.complex(x, x[:1]), "polar": lambda m, z, x: m.polar(x.abs(), x),
    "to_complex128": lambda m, z, x: x.to(m.complex128),
    "cfloat": lambda m, z, x: x.double().cfloat(),
    "cat_mixed": lambda m, z, x: m.cat([z, x]), "where": lambda m, z, x: m.where(x > 0, z, 0),
    "index": lambda m, z, x: z[:, [2, 0]], "float_power": lambda m, z, x: z.float_power(2),
    "silu": lambda m, z, x: m.nn.functional.silu(z),
    "full_like": lambda m, z, x: m.full_like(z, 2j),
    "masked_fill": lambda m, z, x: z.masked_fill(x < 0, 1j),
    "sum_to_real_dtype": lambda m, z, x: z.mean(dtype=m.float32),
}


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_values_and_dtypes(torch, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = VALUE_CASES[name](torch, torch.tensor(Z), torch.tensor(X))
        got = VALUE_CASES[name](ember, ember.tensor(Z), ember.tensor(X))
    assert str(got.dtype)[6:] == str(want.dtype)[6:]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6, atol=1e-6)


def test_conj_bits_and_views(torch):
    for m in (torch, ember):
        z = m.tensor(Z)
        c = z.conj()
        assert (c.is_conj(), c.resolve_conj().is_conj(), z.conj_physical().is_conj(),
                (c + 0).is_conj(), m.ones(2).conj().is_conj()) == (True, False, False, False,
                                                                   False)
    results = []
    for m in (torch, ember):
        z = m.tensor(Z)
        z.real.mul_(2)
        z.imag[0] = 7
        z.real = m.tensor(X)
        results.append(z.numpy())
    np.testing.assert_array_equal(*results)


ERROR_CASES = {
    "max": lambda m, z: m.max(z), "max_dim": lambda m, z: m.max(z, 0),
    "min_dim": lambda m, z: z.min(1), "amax": lambda m, z: m.amax(z),
    "amin": lambda m, z: m.amin(z, 0), "argmax": lambda m, z: m.argmax(z),
    "argmin": lambda m, z: m.argmin(z, 0), "aminmax": lambda m, z: m.aminmax(z),
    "clamp": lambda m, z: m.clamp(z, 0, 1), "clamp_min": lambda m, z: m.clamp_min(z, 0),
    "clip": lambda m, z: z.clip(max=1), "relu": lambda m, z: m.relu(z),
    "relu6": lambda m, z: m.nn.functional.relu6(z),
    "hardtanh": lambda m, z: m.nn.functional.hardtanh(z),
    "leaky_relu": lambda m, z: m.nn.functional.leaky_relu(z),
    "elu": lambda m, z: m.nn.functional.elu(z),
    "gelu": lambda m, z: m.nn.functional.gelu(z),
    "softplus": lambda m, z: m.nn.functional.softplus(z),
    "logsigmoid": lambda m, z: m.nn.functional.logsigmoid(z),
    "lt": lambda m, z: z < z, "le": lambda m, z: z <= 1, "gt": lambda m, z: m.gt(z, z),
    "ge": lambda m, z: m.ge(z, 0),
    "sort": lambda m, z: m.sort(z),
    "argsort": lambda m, z: z.argsort(),
    "msort": lambda m, z: m.msort(z), "topk": lambda m, z: m.topk(z, 1),
    "kthvalue": lambda m, z: m.kthvalue(z, 1), "median": lambda m, z: m.median(z),
    "median_dim": lambda m, z: m.median(z, 0), "nanmedian": lambda m, z: m.nanmedian(z),
    "cummax": lambda m, z: m.cummax(z, 0), "cummin": lambda m, z: m.cummin(z, 0),
    "floor": lambda m, z: m.floor(z),
    "ceil": lambda m, z: z.ceil(),
    "round": lambda m, z: z.round(),
    "trunc": lambda m, z: m.trunc(z), "fix": lambda m, z: m.fix(z), "frac": lambda m, z: m.frac(z),
    "sign": lambda m, z: m.sign(z),
    "conj_numpy": lambda m, z: z.conj().numpy(),
    "signbit": lambda m, z: m.signbit(z),
    "maximum": lambda m, z: m.maximum(z, z), "minimum": lambda m, z: m.minimum(z, z),
    "fmax": lambda m, z: m.fmax(z, z), "fmin": lambda m, z: m.fmin(z, z),
    "softmax": lambda m, z: m.softmax(z, 0), "log_softmax": lambda m, z: m.log_softmax(z, 1),
    "cross_entropy": lambda m, z: m.nn.functional.cross_entropy(z, m.tensor([0, 1])),
    "fmod": lambda m, z: m.fmod(z, 2), "remainder": lambda m, z: z % 2,
    "floor_divide": lambda m, z: z // 2,
    "div_trunc": lambda m, z: m.div(z, 2, rounding_mode="trunc"),
    "atan2": lambda m, z: m.atan2(z, z), "hypot": lambda m, z: m.hypot(z, z),
    "heaviside": lambda m, z: m.heaviside(z, z), "erf": lambda m, z: m.erf(z),
    "lgamma": lambda m, z: m.lgamma(z), "digamma": lambda m, z: m.digamma(z),
    "logit": lambda m, z: m.logit(z), "deg2rad": lambda m, z: m.deg2rad(z),
    "isposinf": lambda m, z: m.isposinf(z), "isneginf": lambda m, z: m.isneginf(z),
    "unique": lambda m, z: m.unique(z), "isin": lambda m, z: m.isin(z, z),
    "searchsorted": lambda m, z: m.searchsorted(z, z), "bitwise_not": lambda m, z: m.bitwise_not(z),
    "bitwise_and": lambda m, z: m.bitwise_and(z, z), "nansum": lambda m, z: m.nansum(z),
    "nanmean": lambda m, z: m.nanmean(z), "abs_": lambda m, z: z.abs_(),
    "sign_": lambda m, z: z.sign_(), "clamp_": lambda m, z: z.clamp_(0),
    "random_": lambda m, z: z.random_(), "exponential_": lambda m, z: z.exponential_(),
    "arange": lambda m, z: m.arange(3, dtype=m.complex64),
    "full_float": lambda m, z: m.full((2,), 1j, dtype=m.float32),
    "tensor_float": lambda m, z: m.tensor([1j], dtype=m.float32),
    "float_of_complex": lambda m, z: float(z[0, 0]), "int_of_complex": lambda m, z: int(z[0, 1]),
    "add_into_float": lambda m, z: m.zeros(3).add_(z[0]),
    "view_as_real_real": lambda m, z: m.view_as_real(z.real),
    "view_as_real_conj": lambda m, z: m.view_as_real(z.conj()),
    "view_as_complex_size": lambda m, z: m.view_as_complex(z.real),
    "view_as_complex_stride": lambda m, z: m.view_as_complex(m.ones(2, 4)[:, ::2]),
    "view_as_complex_offset": lambda m, z: m.view_as_complex(m.ones(7)[1:].view(3, 2)),
    "view_as_complex_long": lambda m, z: m.view_as_complex(m.ones(2, dtype=m.int64)),
    "view_as_complex_0d": lambda m, z: m.view_as_complex(m.tensor(1.0)),
    "complex_dtypes": lambda m, z: m.complex(z.real, z.imag.double()),
    "complex_ints": lambda m, z: m.complex(m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64)),
    "polar_dtypes": lambda m, z: m.polar(z.real.double(), z.imag),
    "mm_mixed": lambda m, z: m.mm(z.real, z.mT),
    "imag_of_real": lambda m, z: z.real.imag,
    "to_complex_int": lambda m, z: m.int64.to_complex(),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_match_torch(torch, name):
    def run(m):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ERROR_CASES[name](m, m.tensor(Z))
            except Exception as e:  # noqa: BLE001  (the type is compared below)
                return e
        return None

    want, got = run(torch), run(ember)
    assert want is not None, "torch raised nothing: the case is wrong"
    assert got is not None, f"ember raised nothing; torch: {want!r}"
    assert isinstance(got, type(want)) or (type(want).__name__.endswith("Error")
                                           and type(got).__name__ == type(want).__name__)
    assert str(got).split("\n")[0].replace("torch.", "ember.") == \
        str(want).split("\n")[0].replace("torch.", "ember.")


RNG = np.random.default_rng(11)
ZG = (RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))).astype(np.complex128)
WG = (RNG.standard_normal((4, 2)) + 1j * RNG.standard_normal((4, 2))).astype(np.complex128)
XG = RNG.standard_normal((3, 4))

GRAD_CASES = {
    "mul_conj": lambda m, z, w, x: (z * z.conj()[:, :1] * (2 - 1j)).abs().sum(),
    "mul_real": lambda m, z, w, x: (z * x).real.sum() + (x * z).imag.pow(2).sum(),
    "div": lambda m, z, w, x: (z / (z + 3) + 1 / z).abs().sum(),
    "pow": lambda m, z, w, x: (z ** 3).real.sum() + (z ** (0.5 + 1j)).imag.sum()
    + (2 ** z).abs().sum(),
    "exp_log_sqrt": lambda m, z, w, x: (z.exp().real + z.log().imag + z.sqrt().abs()).sum(),
    "trig": lambda m, z, w, x: (z.sin().imag + z.cos().real + z.tanh().abs()).sum(),
    "inverse_trig": lambda m, z, w, x: (z.asin().abs() + z.acos().real + z.atanh().imag).sum(),
    "sigmoid": lambda m, z, w, x: z.sigmoid().abs().sum(),
    "matmul": lambda m, z, w, x: (z @ w).abs().sum() + (z.mH @ z).real.sum(),
    "mm_real_cast": lambda m, z, w, x: (x.to(m.complex128) @ w).abs().pow(2).sum(),
    "linear": lambda m, z, w, x: m.nn.functional.linear(z, w.mT).abs().sum(),
    "reductions": lambda m, z, w, x: (z.sum(0) * z.mean(1)[:1]).real.sum() + z.prod(1).abs().sum()
    + z.cumprod(0).real.sum() + z.logsumexp(1).abs().sum(),
    "var_std": lambda m, z, w, x: z.var(0).sum() + z.std(1).sum(),
    "abs": lambda m, z, w, x: z.abs().sum() + (z * 0).abs().sum(),
    "angle": lambda m, z, w, x: z.angle().sum() + m.angle(x).sum(),
    "sgn": lambda m, z, w, x: (z.sgn() * w.t()[:1, :1]).real.sum(),
    "real_imag": lambda m, z, w, x: (z.real * z.imag * x).sum(),
    "conj": lambda m, z, w, x: (z.conj() * z[0]).imag.sum(),
    "view_as_real": lambda m, z, w, x: (m.view_as_real(z) ** 3).sum(),
    "view_as_complex": lambda m, z, w, x: (m.view_as_complex(m.stack([x, x.exp()], -1))
                                           * z).abs().sum(),
    "complex": lambda m, z, w, x: (m.complex(x, x * 2) * z).abs().sum(),
    "polar": lambda m, z, w, x: m.polar(x.abs() + 0.5, x).mul(z).imag.sum()
    + m.polar(x * 0, x).mul(z).real.sum(),
    "to_real": lambda m, z, w, x: z.to(m.float64).sum() + (x.to(m.complex128) * z).abs().sum(),
    "shape_and_index": lambda m, z, w, x: (m.stack([z, z * 1j])[:, [0, 2]].abs().sum()
                                           + (z[:, None] * z[None, :]).real.sum()
                                           + m.cat([z, z.t().reshape(3, 4)]).flip(0)[1:]
                                           .imag.sum()),
    "vdot_norm": lambda m, z, w, x: m.vdot(z[0], z[1]).abs() + m.linalg.vector_norm(w),
    "where": lambda m, z, w, x: m.where(x > 0, z, z * 1j).abs().sum(),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradients_match_torch(torch, name):
    results = []
    for m in (torch, ember):
        z = m.tensor(ZG, requires_grad=True)
        w = m.tensor(WG, requires_grad=True)
        x = m.tensor(XG, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = GRAD_CASES[name](m, z, w, x)
            loss.backward()
        results.append((loss.detach().numpy(), [None if t.grad is None else t.grad.numpy()
                                                for t in (z, w, x)]))
    (want_loss, want), (got_loss, got) = results
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-10)
    for g, t in zip(got, want):
        assert (g is None) == (t is None)
        if g is not None:
            assert g.dtype == t.dtype
            np.testing.assert_allclose(g, t, rtol=1e-9, atol=1e-12)


def test_backward_errors(torch):
    for m in (torch, ember):
        z = m.tensor([1 + 1j], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            (z * 2).sum().backward()
        assert str(info.value).replace("torch.", "ember.") == (
            "grad can be implicitly created only for real scalar outputs but got "
            "ember.complex64")
        (z * 2).sum().backward(m.tensor(1 + 0j))
        assert z.grad.tolist() == [2 + 0j]


def test_grad_fn_names(torch):
    def names(m):
        z = m.tensor(ZG, requires_grad=True)
        return [type(t.grad_fn).__name__ for t in (
            z * 2, z.conj(), z.conj_physical(), z.real, z.imag, m.view_as_real(z), z.abs(),
            z.angle(), z + 1, z.exp(), z.to(m.complex64), m.complex(z.real, z.imag),
            m.polar(z.abs(), z.angle()), m.view_as_complex(m.view_as_real(z)), z.sgn())]

    assert names(ember) == names(torch)
