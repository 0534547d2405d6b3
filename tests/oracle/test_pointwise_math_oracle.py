"""The functions of ``ember/ops/pointwise_math.py`` against torch beyond the op table: integer
and bool dtypes, special values (0, +-inf, nan, poles), gradients at torch's special points,
node names and errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

INF, NAN = math.inf, math.nan
UNARY = ("asin acos atan sinh cosh asinh acosh atanh arcsin arccosh erf erfc erfinv lgamma "
         "digamma i0 sinc deg2rad rad2deg exp2 logit signbit").split()
BINARY = ("atan2 arctan2 hypot logaddexp logaddexp2 xlogy copysign nextafter ldexp heaviside "
          "gcd lcm bitwise_left_shift bitwise_right_shift").split()
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 1e-30, 30.0, -30.0, 700.0, INF, -INF, NAN]
INTS = [0, 1, -1, 2, -3, 5, 7]


def _run(torch, f, *values, dtypes=None):
    """``f`` on the same values in ember and torch: (result, None) or (None, exception)."""
    out = []
    for m in (ember, torch):
        # NOTE: through NumPy: ember.tensor(list, dtype=float64) rounds via float32 today
        args = [m.tensor(np.asarray(v, dtype=d)) if d else v
                for v, d in zip(values, dtypes or ["float64"] * len(values))]
        try:
            out.append((f(m, *args), None))
        except Exception as e:  # noqa: BLE001  (compared below)
            out.append((None, e))
    return out


def _same(torch, f, *values, dtypes=None, rtol=1e-7, atol=1e-300):
    (e, e_err), (t, t_err) = _run(torch, f, *values, dtypes=dtypes)
    if t_err is not None or e_err is not None:
        assert type(e_err) is type(t_err), f"ember raised {e_err!r}, torch {t_err!r}"
        assert str(e_err) == str(t_err)
        return
    assert str(e.dtype).rsplit(".")[-1] == str(t.dtype).rsplit(".")[-1]
    assert_close(e, t, rtol=rtol, atol=atol)
    en, tn = to_numpy(e), to_numpy(t)
    if en.dtype.kind == "f":  # zeros keep their sign, as torch's
        zeros = (en == 0) & (tn == 0)
        assert np.array_equal(np.signbit(en[zeros]), np.signbit(tn[zeros]))


@pytest.mark.parametrize("name", UNARY)
def test_unary_special_values_match_torch(name, torch):
    _same(torch, lambda m, x: getattr(m, name)(x), SPECIAL, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
@pytest.mark.parametrize("name", UNARY + ["frac"])
def test_unary_dtypes_match_torch(name, dtype, torch):
    values = [True, False, True] if dtype == "bool" else [v for v in INTS if v >= 0] \
        if dtype == "uint8" else INTS
    _same(torch, lambda m, x: getattr(m, name)(x), values, dtypes=[dtype], rtol=1e-6)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float64"),
                                    ("int64", "int64"), ("int64", "float32"), ("bool", "bool"),
                                    ("int64", "bool"), ("int8", "int64"), ("uint8", "uint8"),
                                    ("int32", "int32")])
def test_binary_dtypes_match_torch(name, dtypes, torch):
    a = [0, 1, -1, 3, 7, -6] if "bool" not in dtypes[0] else [True, False] * 3
    b = [0, 2, -4, 1, 70, -1] if "bool" not in dtypes[1] else [False, True, True] * 2
    if "uint8" in dtypes:
        a, b = [abs(v) for v in a], [abs(v) for v in b]
    _same(torch, lambda m, x, y: getattr(m, name)(x, y), a, b, dtypes=dtypes, rtol=1e-6)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
                                  "copysign", "nextafter", "ldexp"])
def test_binary_special_values_match_torch(name, torch):
    a = [v for v in SPECIAL for _ in SPECIAL]
    b = SPECIAL * len(SPECIAL)
    # atol: torch's vectorised logaddexp2(-1, -1) is -4.8e-17, not 0
    _same(torch, lambda m, x, y: getattr(m, name)(x, y), a, b, rtol=1e-12, atol=1e-15)


def _grads(torch, f, *values):
    """Gradients of ``f(...).sum()`` in ember and torch, float64, at ``values``."""
    result = []
    for m in (ember, torch):
        xs = [m.tensor(np.asarray(v, np.float64), requires_grad=True) for v in values]
        f(m, *xs).sum().backward()
        result.append([x.grad for x in xs])
    return result


@pytest.mark.parametrize("name,values", [
    ("hypot", ([0.0, -0.0, 3.0, INF, 0.0], [0.0, 0.0, 4.0, 1.0, NAN])),
    ("atan2", ([0.0, -0.0, 1.0, 0.0, 0.0, -0.0], [0.0, 0.0, 0.0, -0.0, -1.0, -0.0])),
    ("xlogy", ([0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0], [0.0, -1.0, 2.0, 0.0, NAN, INF, INF])),
    ("copysign", ([0.0, -0.0, 1.0, -2.0, 3.0, 0.0], [1.0, -1.0, -0.0, 0.0, NAN, -1.0])),
    ("logaddexp", ([INF, -INF, 1.0, INF], [INF, -INF, INF, -INF])),
    ("logaddexp2", ([INF, -INF, 1.0, 1000.0], [INF, -INF, INF, 1000.0])),
    ("nextafter", ([1.5, 0.0], [2.0, -1.0])),
    ("ldexp", ([1.5, -2.0], [2.0, -1.0])),
    ("asin", ([1.0, -1.0, 2.0, 0.0],)), ("acosh", ([1.0, 0.5, 2.0],)),
    ("atanh", ([1.0, -1.0, 2.0],)), ("sinc", ([0.0, 1.0, 0.5, 1e-10],)),
    ("logit", ([0.0, 1.0, 0.5, -1.0, 2.0, NAN],)), ("frac", ([1.5, -2.25, 0.0, INF],)),
    ("erfinv", ([1.0, -1.0, 0.0, 0.5, 0.999999],)), ("erf", ([0.0, INF, NAN, 6.0],)),
    ("lgamma", ([0.0, -1.0, -0.5, -2.5, 1e-300, INF, 0.5, 3.0],)),
    ("digamma", ([-0.5, -2.5, 0.5, 3.0, 1e10],)), ("i0", ([0.0, 1.0, -30.0, 700.0, NAN],)),
])
def test_gradients_at_special_points_match_torch(name, values, torch):
    e, t = _grads(torch, lambda m, *xs: getattr(m, name)(*xs), *values)
    for ge, gt in zip(e, t):
        assert_close(ge, gt, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("eps", [None, 0.1, 0.0])
def test_logit_eps_clamps_values_and_zeroes_gradients_like_torch(eps, torch):
    values = [0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, -1.0, 2.0, NAN]
    e, t = _grads(torch, lambda m, x: m.logit(x, eps=eps), values)
    assert_close(e[0], t[0], rtol=1e-9)
    _same(torch, lambda m, x: m.logit(x, eps), values, rtol=1e-12)


def test_xlog1py_scalar_forms_and_zero_convention_match_torch(torch):
    x, y = [0.0, 0.0, 0.0, 1.0, 0.0, 2.0], [-1.0, -2.0, 2.0, -1.0, NAN, 0.5]
    e, t = _grads(torch, lambda m, a, b: m.special.xlog1py(a, b), x, y)
    for ge, gt in zip(e, t):
        assert_close(ge, gt, rtol=1e-9)
    _same(torch, lambda m, b: m.special.xlog1py(2, b), y)
    _same(torch, lambda m, a: m.special.xlog1py(a, 3), x)


@pytest.mark.parametrize("f", [
    lambda m, a, b: m.xlogy(a, b), lambda m, a, b: m.xlogy(2.0, b), lambda m, a, b: m.xlogy(a, 3),
    lambda m, a, b: m.copysign(a, b), lambda m, a, b: m.copysign(a, -2.0),
    lambda m, a, b: m.special.xlog1py(a, b), lambda m, a, b: m.special.xlog1py(a, 1),
    lambda m, a, b: m.atan2(a, b), lambda m, a, b: m.logaddexp2(a, b),
    lambda m, a, b: m.ldexp(a, b), lambda m, a, b: m.erfinv(a), lambda m, a, b: m.sinc(a),
    lambda m, a, b: m.deg2rad(a), lambda m, a, b: m.i0(b), lambda m, a, b: m.logit(a, 0.1),
    lambda m, a, b: m.addr(a[0], a, b), lambda m, a, b: m.heaviside(a, b),
])
def test_node_names_match_torch(f, torch):
    names = []
    for m in (ember, torch):
        a = m.tensor([0.25, 0.5], requires_grad=True)
        b = m.tensor([0.75, 1.5], requires_grad=True)
        names.append(f(m, a, b).grad_fn.name())
    assert names[0] == names[1]


def test_heaviside_backward_raises_like_torch(torch):
    errors = []
    for m in (ember, torch):
        a = m.tensor([0.5, -1.0], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            m.heaviside(a, m.tensor([0.5])).sum().backward()
        errors.append(str(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("f", [
    lambda m, x: m.atan2(x, 2), lambda m, x: m.hypot(2.0, x), lambda m, x: m.asin(1),
    lambda m, x: m.erf(0.5), lambda m, x: m.xlogy(2, 3), lambda m, x: m.copysign(2, x),
    lambda m, x: m.heaviside(x, 0.5), lambda m, x: m.heaviside(x, x.double()),
    lambda m, x: m.gcd(x, x), lambda m, x: m.lcm(x.long(), 3),
    lambda m, x: m.bitwise_left_shift(x, 2), lambda m, x: x << 2.5,
    lambda m, x: m.bitwise_right_shift(x.bool(), x.bool()), lambda m, x: m.frac(x.long()),
    lambda m, x: m.atan2(x, m.ones(3)), lambda m, x: m.hypot(x.long(), x.long()),
    lambda m, x: m.nextafter(x.int(), x.int()), lambda m, x: m.logaddexp(x.long(), x.bool()),
])
def test_errors_match_torch(f, torch):
    (_, e_err), (_, t_err) = _run(torch, f, [0.5, -1.0], dtypes=["float32"])
    assert t_err is not None
    assert type(e_err) is type(t_err) and str(e_err).split("\n")[0] == str(t_err).split("\n")[0]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "int16"])
def test_shifts_match_torch_for_every_shift_width(dtype, torch):
    a = [5, 1, 0, 127, 100] if dtype == "uint8" else [5, -5, 1, -1, 0, 127, -128]
    shifts = list(range(-3, 70)) if dtype != "uint8" else list(range(0, 70))
    values = [v for v in a for _ in shifts]
    amounts = shifts * len(a)
    for f in (lambda m, x, s: x << s, lambda m, x, s: x >> s,
              lambda m, x, s: m.bitwise_left_shift(x, s), lambda m, x, s: x.bitwise_right_shift(s)):
        _same(torch, f, values, amounts, dtypes=[dtype, dtype])
    for f in (lambda m, x: x << 3, lambda m, x: 2 << x.abs(), lambda m, x: x >> 1,
              lambda m, x: 100 >> x.abs(), lambda m, x: x.clone().__ilshift__(2)):
        _same(torch, f, a, dtypes=[dtype])


def test_shift_of_mixed_dtypes_promotes_like_torch(torch):
    _same(torch, lambda m, x, s: x << s, [5, -3], [7, 1], dtypes=["int8", "int64"])
    _same(torch, lambda m, x, s: x >> s, [5, 3], [True, False], dtypes=["uint8", "bool"])


@pytest.mark.parametrize("f", [
    lambda m, i, a, b: m.addmv(i, a, b[0]), lambda m, i, a, b: m.addmv(i, a, b[0], beta=2,
                                                                         alpha=3),
    lambda m, i, a, b: m.addr(i[:1, :1], a[0], b[0, 0], beta=2, alpha=3),
    lambda m, i, a, b: m.addr(i[:1, :1], a[0], b[0, 0], beta=0.5),
    lambda m, i, a, b: m.baddbmm(i[:1, :1], a, b, beta=2), lambda m, i, a, b: m.addbmm(i, a, b),
    lambda m, i, a, b: m.addmv(i.bool()[0], a.bool()[0], b[0, 0].bool()),
    lambda m, i, a, b: m.addr(i.bool(), a[0, 0].bool(), b[0, 0].bool()),
    lambda m, i, a, b: m.baddbmm(i.bool(), a.bool(), b.bool()),
    lambda m, i, a, b: m.addr(i.double(), a[0, 0], b[0, 0]),
    lambda m, i, a, b: m.addmv(i.double(), a[0], b[0, :, 0]),
    lambda m, i, a, b: m.addmv(i, a[0], b[0, :, 0].double()),
    lambda m, i, a, b: m.addmv(i[:1], a[0], b[0, 0]), lambda m, i, a, b: m.addmv(i, a, b[0]),
    lambda m, i, a, b: m.addmv(i.reshape(-1)[:3], a[0], b[0, :, 0]),
    lambda m, i, a, b: m.addr(i, a[0], b), lambda m, i, a, b: m.addr(i[:1], a[0, 0], b[0, 0]),
    lambda m, i, a, b: m.baddbmm(i, a[0], b[0]), lambda m, i, a, b: m.baddbmm(i, a, a),
    lambda m, i, a, b: m.baddbmm(i, a, b.double()), lambda m, i, a, b: m.addbmm(i, a, a),
    lambda m, i, a, b: m.addbmm(i.double(), a, b), lambda m, i, a, b: m.addbmm(i, a.double(), b),
    lambda m, i, a, b: m.addbmm(i[:1, :1].expand(2, 3), a, b),
    lambda m, i, a, b: m.addbmm(i, a, m.cat([b, b])),
])
def test_products_dtypes_and_errors_match_torch(f, torch):
    _same(torch, f, np.arange(6.0).reshape(2, 3), np.arange(8.0).reshape(1, 2, 4) - 3,
          np.arange(12.0).reshape(1, 4, 3) % 5, dtypes=["float32"] * 3, rtol=1e-6)
    _same(torch, f, np.arange(6).reshape(2, 3), np.arange(8).reshape(1, 2, 4) - 3,
          np.arange(12).reshape(1, 4, 3) % 5, dtypes=["int64"] * 3)


def test_beta_zero_ignores_nan_in_input_like_torch(torch):
    for f in (lambda m, i, a, b: m.addr(i, a, b, beta=0),
              lambda m, i, a, b: m.addmv(i[0], a.reshape(2, 2), b, beta=0)):
        _same(torch, f, [[NAN, 1.0], [INF, 2.0]], [1.0, 2.0], [3.0, 4.0])


def test_special_functions_match_torch_on_a_grid(torch):
    x = np.concatenate([np.linspace(-40, 40, 4001), np.geomspace(1e-300, 1e300, 601)])
    for name in ("erf", "erfc", "lgamma", "digamma", "i0", "sinc", "exp2"):
        _same(torch, lambda m, v, f=name: getattr(m, f)(v), x, rtol=1e-10)
    _same(torch, lambda m, v: m.erfinv(v), np.linspace(-1, 1, 20001), rtol=1e-12)
    _same(torch, lambda m, v: m.erfinv(v), 1 - np.geomspace(1e-16, 0.5, 300), rtol=1e-12)


def test_in_place_methods_of_float_functions_reject_integer_tensors_like_torch(torch):
    for f in (lambda m, x: x.asin_(), lambda m, x: x.erf_(), lambda m, x: x.atan2_(x)):
        _same(torch, f, [1, 2], dtypes=["int64"])
