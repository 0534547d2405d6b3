"""``cholesky_inverse`` and ``cholesky_solve`` against torch: the forward reads only the
factor's triangle, the gradients follow torch's formulas on the whole factor, batches
broadcast, singular factors and bad shapes give torch's errors (or its infinities)."""
import numpy as np
import pytest

import ember

# deliberately not triangular: the entries outside the triangle must not change the result
FACTOR = np.array([[2.0, 0.3, 0.2], [0.5, 1.5, 0.1], [0.1, 0.4, 1.2]])
B = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
WEIGHTS = np.arange(9.0).reshape(3, 3) - 4


def _inverse_and_grads(lib, upper, dtype):
    factor = lib.tensor(FACTOR, dtype=dtype, requires_grad=True)
    out = lib.cholesky_inverse(factor, upper=upper)
    (grad,) = lib.autograd.grad((out * lib.tensor(WEIGHTS, dtype=dtype)).sum(), factor,
                                create_graph=True)
    (second,) = lib.autograd.grad((grad * grad).sum(), factor)
    return [a.detach().numpy() for a in (out, grad, second)] + [type(out.grad_fn).__name__]


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cholesky_inverse_values_and_gradients_match_torch(torch, upper, dtype):
    ours = _inverse_and_grads(ember, upper, getattr(ember, dtype))
    theirs = _inverse_and_grads(torch, upper, getattr(torch, dtype))
    assert ours[-1] == theirs[-1]
    tol = 1e-4 if dtype == "float32" else 1e-10
    for a, b in zip(ours[:-1], theirs[:-1]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _solve_and_grads(lib, upper, b_shape, factor_shape):
    rng = np.random.default_rng(3)
    b = lib.tensor(rng.standard_normal(b_shape), requires_grad=True)
    factor = lib.tensor(np.broadcast_to(FACTOR, factor_shape) + 0.1 * rng.standard_normal(
        factor_shape), requires_grad=True)
    out = lib.cholesky_solve(b, factor, upper=upper)
    weights = lib.tensor(rng.standard_normal(tuple(out.shape)))
    gb, gf = lib.autograd.grad((out * weights).sum(), (b, factor), create_graph=True)
    second = lib.autograd.grad((gb * gb).sum() + (gf * gf).sum(), (b, factor))
    return [a.detach().numpy() for a in (out, gb, gf, *second)] + [type(out.grad_fn).__name__]


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("b_shape, factor_shape", [
    ((3, 2), (3, 3)),
    ((4, 1, 3, 2), (2, 3, 3)),  # batches broadcast both ways
    ((3, 1), (5, 3, 3)),
])
def test_cholesky_solve_values_and_gradients_match_torch(torch, upper, b_shape, factor_shape):
    ours = _solve_and_grads(ember, upper, b_shape, factor_shape)
    theirs = _solve_and_grads(torch, upper, b_shape, factor_shape)
    assert ours[-1] == theirs[-1]
    for a, b in zip(ours[:-1], theirs[:-1]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


SINGULAR = np.array([[1.0, 0.0], [2.0, 0.0]])


def _outcome(lib, fn):
    try:
        return "ok", fn(lib).numpy()
    except Exception as e:  # noqa: BLE001  (the exception is what is compared)
        return type(e).__mro__[1].__name__ if "LinAlgError" in type(e).__name__ else \
            type(e).__name__, str(e).splitlines()[0]


CALLS = {
    "inverse of 0-D": lambda m: m.cholesky_inverse(m.tensor(1.0)),
    "inverse of 1-D": lambda m: m.cholesky_inverse(m.ones(3)),
    "inverse non-square": lambda m: m.cholesky_inverse(m.ones(2, 3)),
    "inverse empty non-square": lambda m: m.cholesky_inverse(m.ones(0, 3)),
    "inverse empty": lambda m: m.cholesky_inverse(m.ones(2, 0, 0)),
    "inverse of int": lambda m: m.cholesky_inverse(m.ones(2, 2, dtype=m.int64)),
    "inverse singular": lambda m: m.cholesky_inverse(m.tensor(SINGULAR)),
    "inverse singular in batch": lambda m: m.cholesky_inverse(
        m.tensor(np.stack([np.eye(2) + np.tril(np.ones((2, 2))), SINGULAR]))),
    "solve singular gives infinities": lambda m: m.cholesky_solve(m.ones(2, 1),
                                                                  m.tensor(SINGULAR)),
    "solve zero factor gives nan": lambda m: m.cholesky_solve(m.ones(2, 1), m.zeros(2, 2)),
    "solve b 1-D": lambda m: m.cholesky_solve(m.ones(2), m.eye(2)),
    "solve factor 1-D": lambda m: m.cholesky_solve(m.ones(2, 1), m.ones(2)),
    "solve factor non-square": lambda m: m.cholesky_solve(m.ones(2, 1), m.ones(2, 3)),
    "solve sizes differ": lambda m: m.cholesky_solve(m.ones(3, 1), m.eye(2)),
    "solve batches differ": lambda m: m.cholesky_solve(m.ones(3, 2, 1),
                                                       m.eye(2).expand(2, 2, 2)),
    "solve dtypes differ": lambda m: m.cholesky_solve(m.ones(2, 1),
                                                      m.eye(2, dtype=m.float64)),
    "solve of int": lambda m: m.cholesky_solve(m.ones(2, 1, dtype=m.int64),
                                               m.eye(2, dtype=m.int64)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_edge_inputs_and_errors_match_torch(torch, name):
    ours, theirs = _outcome(ember, CALLS[name]), _outcome(torch, CALLS[name])
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert ours[1].shape == theirs[1].shape
        np.testing.assert_array_equal(ours[1], theirs[1])
    else:
        assert ours[1] == theirs[1]


def test_only_the_triangle_is_read():
    lower = np.tril(FACTOR)
    for upper, tri in ((False, lower), (True, lower.T)):
        full = lower @ lower.T
        got = ember.cholesky_inverse(ember.tensor(FACTOR if not upper else FACTOR.T),
                                     upper=upper).numpy()
        np.testing.assert_allclose(got, np.linalg.inv(full), rtol=1e-12)
        sol = ember.cholesky_solve(ember.tensor(B), ember.tensor(tri + np.tril(np.ones(3), -1)
                                                                 if upper else tri), upper=upper)
        np.testing.assert_allclose(sol.numpy(), np.linalg.solve(full, B), rtol=1e-12)


def test_gradients_through_the_triangle_pass_gradcheck():
    factor = ember.tensor(FACTOR, requires_grad=True)
    b = ember.tensor(np.random.default_rng(0).standard_normal((2, 3, 2)), requires_grad=True)
    check, check2 = ember.autograd.gradcheck, ember.autograd.gradgradcheck
    for fn, args in ((lambda f: ember.cholesky_inverse(f.tril()), (factor,)),
                     (lambda f: ember.cholesky_inverse(f.triu(), upper=True), (factor,)),
                     (lambda x, f: ember.cholesky_solve(x, f.tril()), (b, factor)),
                     (lambda x, f: ember.cholesky_solve(x, f.triu(), upper=True), (b, factor))):
        assert check(fn, args)
        assert check2(fn, args)


def _solve_tangents(lib, upper):
    fw = lib.autograd.forward_ad
    rng = np.random.default_rng(5)
    b, tb = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2))
    tangent = rng.standard_normal((3, 3))
    out = []
    with fw.dual_level():
        factor = fw.make_dual(lib.tensor(FACTOR), lib.tensor(tangent))
        dual_b = fw.make_dual(lib.tensor(b), lib.tensor(tb))
        for args in ((dual_b, factor), (lib.tensor(b), factor), (dual_b, lib.tensor(FACTOR))):
            out.append(fw.unpack_dual(lib.cholesky_solve(*args, upper=upper)).tangent.numpy())
    return out


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_forward_mode_matches_torch(torch, upper):
    for a, b in zip(_solve_tangents(ember, upper), _solve_tangents(torch, upper)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_forward_mode_is_the_derivative(upper):
    # torch 2.13's tangent here fails its own gradcheck(check_forward_ad=True): ember's is
    # checked against finite differences of the triangle the forward reads instead
    fw = ember.autograd.forward_ad
    tangent = np.arange(9.0).reshape(3, 3) / 10 - 0.3
    factor = FACTOR.T if upper else FACTOR
    with fw.dual_level():
        dual = fw.make_dual(ember.tensor(factor), ember.tensor(tangent))
        got = fw.unpack_dual(ember.cholesky_inverse(dual, upper=upper)).tangent.numpy()

    def inverse(f):
        tri = np.triu(f) if upper else np.tril(f)
        return np.linalg.inv(tri.T @ tri if upper else tri @ tri.T)

    step = 1e-6
    expected = (inverse(factor + step * tangent) - inverse(factor - step * tangent)) / (2 * step)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)
