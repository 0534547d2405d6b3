"""Forward mode on complex tensors, without torch: each tangent of the complex op table
(test_forward_ad_complex_cases.py) is the directional derivative ``(f(z + h dz) -
f(z - h dz)) / 2h``, and forward and reverse mode agree, ``Re(<v, J dz>) == Re(<vjp(v),
dz>)`` for random complex ``v`` (which checks torch's conjugate Wirtinger convention of the
reverse mode against the tangents). Also: make_dual's dtypes, in-place writes through the
real and imaginary views, and ember.func's jvp, linearize, nested jvp and forward over
reverse on complex inputs, with jacfwd's and jacrev's refusal of complex tensors."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fw
from tests.autograd.test_forward_ad_complex_cases import CASES, C, R, make

# complex -> real casts warn, as torch's do
pytestmark = pytest.mark.filterwarnings("ignore:Casting complex values to real")

FD_CASES = [c for c in CASES if c.fd]
H = 1e-6


def _inputs(case, seed=0):
    rng = np.random.default_rng(seed)
    pairs = [make(rng, spec) for spec in case.specs]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _forward(case, xs, ts):
    """(value, tangent) of the case at ``xs`` in the directions ``ts``, as arrays."""
    with fw.dual_level():
        duals = [fw.make_dual(ember.tensor(x), ember.tensor(t)) for x, t in zip(xs, ts)]
        value, tangent = fw.unpack_dual(case.fn(ember, *duals))
        assert tangent is not None, case.name
        assert tangent.dtype == value.dtype, case.name
        return value.detach().numpy(), tangent.numpy()


def _value(case, xs):
    return case.fn(ember, *[ember.tensor(x) for x in xs]).detach().numpy()


@pytest.mark.parametrize("case", FD_CASES, ids=lambda c: c.name)
def test_tangent_is_the_directional_derivative(case):
    xs, ts = _inputs(case)
    value, tangent = _forward(case, xs, ts)
    np.testing.assert_allclose(value, _value(case, xs), err_msg=case.name)
    plus = _value(case, [x + H * t for x, t in zip(xs, ts)])
    minus = _value(case, [x - H * t for x, t in zip(xs, ts)])
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * H), rtol=1e-5, atol=1e-6,
                               err_msg=case.name)


@pytest.mark.parametrize("case", [c for c in FD_CASES if c.reverse], ids=lambda c: c.name)
def test_forward_and_reverse_mode_agree(case):
    xs, ts = _inputs(case)
    _, tangent = _forward(case, xs, ts)
    leaves = [ember.tensor(x, requires_grad=True) for x in xs]
    out = case.fn(ember, *leaves)
    rng = np.random.default_rng(1)
    v = rng.standard_normal(tangent.shape)
    if tangent.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(tangent.shape)
    grads = ember.autograd.grad(out, leaves, ember.tensor(v.astype(tangent.dtype)),
                                allow_unused=True)
    forward = np.vdot(v, tangent).real  # vdot conjugates its first argument
    reverse = sum(np.vdot(g.numpy(), t).real for g, t in zip(grads, ts) if g is not None)
    assert np.isclose(forward, reverse, rtol=1e-8, atol=1e-10), (case.name, forward, reverse)


@pytest.mark.parametrize("case", [c for c in FD_CASES if c.name in (
    "exp", "abs", "sgn", "var", "matmul", "inv", "svd_product", "eigvals", "fft", "polar",
    "real_times_complex_scalar", "view_as_real")], ids=lambda c: c.name)
def test_single_precision_keeps_its_dtypes(case):
    rng = np.random.default_rng(0)
    pairs = [make(rng, spec, single=True) for spec in case.specs]
    xs, ts = [p[0] for p in pairs], [p[1] for p in pairs]
    value, tangent = _forward(case, xs, ts)
    wide, wide_tangent = _forward(case, [x.astype(x.dtype.kind + "16" if x.dtype.kind == "c"
                                                  else np.float64) for x in xs],
                                  [t.astype(t.dtype.kind + "16" if t.dtype.kind == "c"
                                            else np.float64) for t in ts])
    assert tangent.dtype == value.dtype
    assert value.dtype in (np.complex64, np.float32)
    np.testing.assert_allclose(tangent, wide_tangent, rtol=2e-3, atol=2e-4)


# --- make_dual and unpack_dual ----------------------------------------------------------------
def test_make_dual_takes_complex_tensors():
    z = ember.tensor([1 + 2j, 3 - 1j])
    with fw.dual_level():
        dual = fw.make_dual(z, ember.tensor([1j, 1 + 0j]))
        primal, tangent = fw.unpack_dual(dual)
        assert tangent.dtype == ember.complex64
        np.testing.assert_array_equal(tangent.numpy(), [1j, 1])
        np.testing.assert_array_equal(primal.detach().numpy(), z.numpy())
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex"):
            fw.make_dual(ember.tensor([1, 2]), ember.tensor([1j, 1j]))
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex"):
            fw.make_dual(z, ember.tensor([1, 2]))


def test_writes_through_a_complex_view_reach_the_base_tangent():
    z = ember.tensor([1 + 2j, 3 - 1j], dtype=ember.complex128)
    with fw.dual_level():
        c = fw.make_dual(z, ember.tensor([1j, 2 + 0j], dtype=ember.complex128)).clone()
        c.real.mul_(3)
        c.imag[1] = fw.make_dual(ember.tensor(5.0, dtype=ember.float64),
                                 ember.tensor(7.0, dtype=ember.float64))
        np.testing.assert_allclose(fw.unpack_dual(c).tangent.numpy(), [1j, 6 + 7j])
        plain = z.clone()  # no tangent yet: the base gets a zero one of its own dtype
        plain.real[0] = fw.make_dual(ember.tensor(4.0, dtype=ember.float64),
                                     ember.tensor(2.0, dtype=ember.float64))
        tangent = fw.unpack_dual(plain).tangent
        assert tangent.dtype == ember.complex128
        np.testing.assert_allclose(tangent.numpy(), [2, 0])


# --- ember.func --------------------------------------------------------------------------------
Z = np.array([1 + 2j, 3 - 1j, 0.5 + 0.2j])
DZ = np.array([1j, 1 + 0j, 0.3 - 2j])


def _fd(f, z, dz):
    return (f(z + H * dz) - f(z - H * dz)) / (2 * H)


def test_func_jvp_and_linearize_of_complex_functions():
    def f(a):
        return (a.sin() * a.conj()).abs() + a.real

    value, tangent = ember.func.jvp(f, (ember.tensor(Z),), (ember.tensor(DZ),))
    expected = _fd(lambda z: f(ember.tensor(z)).numpy(), Z, DZ)
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-6, atol=1e-8)
    _, jvp_fn = ember.func.linearize(lambda a: a.exp() * 1j, ember.tensor(Z))
    np.testing.assert_allclose(jvp_fn(ember.tensor(DZ)).numpy(), 1j * np.exp(Z) * DZ)


def test_func_jvp_gives_tangents_the_primal_dtype():
    # as torch.func: a real tangent of a complex primal becomes complex, and the other way
    # round keeps the real part
    _, t = ember.func.jvp(ember.sin, (ember.tensor(Z),), (ember.tensor(DZ.real),))
    np.testing.assert_allclose(t.numpy(), np.cos(Z) * DZ.real)
    x = np.array([1.0, 2.0, 0.5])
    _, t = ember.func.jvp(ember.sin, (ember.tensor(x),), (ember.tensor(DZ),))
    assert t.dtype == ember.float64
    np.testing.assert_allclose(t.numpy(), np.cos(x) * DZ.real)


@pytest.mark.parametrize("inner", [
    lambda a: a.exp() * a.conj(), lambda a: a.abs() * a.real, lambda a: a * (1 + 2j)],
    ids=["complex", "complex_to_real", "holomorphic"])
def test_nested_func_jvp(inner):
    def first(a):
        return ember.func.jvp(inner, (a,), (ember.tensor(DZ),))[1]

    _, second = ember.func.jvp(first, (ember.tensor(Z),), (ember.tensor(DZ),))
    expected = _fd(lambda z: first(ember.tensor(z)).numpy(), Z, DZ)
    np.testing.assert_allclose(second.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_func_jvp_of_grad_on_complex_inputs():
    def loss(a):
        return (a.sin().abs() ** 2).sum() + (a * a.conj()).real.sum()

    grad = ember.func.grad(loss)
    _, tangent = ember.func.jvp(grad, (ember.tensor(Z),), (ember.tensor(DZ),))
    expected = _fd(lambda z: grad(ember.tensor(z)).numpy(), Z, DZ)
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("transform", ["jacfwd", "jacrev"])
def test_jacobians_refuse_complex_tensors_as_torch(transform):
    jac = getattr(ember.func, transform)
    with pytest.raises(RuntimeError, match=f"{transform}: Expected all inputs to be real but "
                                           "received complex tensor at flattened input idx: 1"):
        jac(lambda a, b: a * b, argnums=0)(ember.ones(2), ember.tensor([1j, 2j]))
    with pytest.raises(RuntimeError, match=f"{transform}: Expected all outputs to be real but "
                                           "received complex tensor at flattened input idx: 1"):
        jac(lambda a: (a, a * 1j))(ember.ones(2))
    real = jac(lambda a: (a * (1 + 1j)).abs())(ember.tensor([1.0, 2.0], dtype=ember.float64))
    np.testing.assert_allclose(real.numpy(), np.eye(2) * np.sqrt(2))


def test_kinds_of_the_case_table():
    assert {kind for case in CASES for _, kind in case.specs} == {C, R}
