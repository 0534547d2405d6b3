"""Forward-mode AD of the triangular solves, householder_product and the LU ops: the tangent
equals the reverse-mode ``J @ t`` (``ember.autograd.functional.jvp``), and is itself
differentiable (gradcheck of the tangent). ``CASES`` is shared with the oracle test."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwad
from tests.helpers import assert_close


@dataclass
class Case:
    """``fn(L, *tensors)`` on the arrays ``make(rng)`` makes; the inputs at ``dual`` get
    tangents (the rest, pivots among them, are constants)."""

    name: str
    fn: object
    make: object
    dual: tuple = (0, 1)
    exact: bool = True  # False: torch's tangent is not J t (triangular_solve's formula)


def _tri(rng, *shape):
    """A well-conditioned matrix (its diagonal away from zero) of the given shape."""
    n = shape[-1]
    return rng.uniform(-1, 1, shape) + 3 * np.eye(n)


def _mat(rng, *shape):
    return rng.uniform(-2, 2, shape)


def _factored(rng, *shape):
    """``(LU, pivots)`` of a well-conditioned matrix (ember's lu_factor)."""
    lu, piv = ember.linalg.lu_factor(ember.tensor(_tri(rng, *shape)))
    return lu.numpy(), piv.numpy()


def _st(**options):
    return lambda L, a, b: L.linalg.solve_triangular(a, b, **options)


def _ts(**options):
    return lambda L, a, b: L.triangular_solve(b, a, **options).solution


def _lu_solve(**options):
    return lambda L, lu, b, piv: L.linalg.lu_solve(lu, piv, b, **options)


def _lu_solve_case(name, lu_shape, b_shape, dual=(0, 1), **options):
    def make(rng):
        lu, piv = _factored(rng, *lu_shape)
        return [lu, _mat(rng, *b_shape), piv]

    return Case(name, _lu_solve(**options), make, dual)


CASES = [
    Case("solve_triangular_upper", _st(upper=True), lambda r: [_tri(r, 2, 4, 4), _mat(r, 2, 4, 3)]),
    Case("solve_triangular_lower_broadcast", _st(upper=False),
         lambda r: [_tri(r, 4, 4), _mat(r, 2, 4, 3)]),
    Case("solve_triangular_upper_unit", _st(upper=True, unitriangular=True),
         lambda r: [_tri(r, 3, 3), _mat(r, 3, 5)]),
    Case("solve_triangular_lower_unit", _st(upper=False, unitriangular=True),
         lambda r: [_tri(r, 2, 1, 3, 3), _mat(r, 4, 3, 2)]),
    Case("solve_triangular_right_lower", _st(upper=False, left=False),
         lambda r: [_tri(r, 3, 3), _mat(r, 2, 5, 3)]),
    Case("solve_triangular_right_upper_unit", _st(upper=True, left=False, unitriangular=True),
         lambda r: [_tri(r, 2, 3, 3), _mat(r, 4, 3)]),
    Case("solve_triangular_a_only", _st(upper=True), lambda r: [_tri(r, 4, 4), _mat(r, 4, 2)],
         (0,)),
    Case("solve_triangular_b_only", _st(upper=False, left=False),
         lambda r: [_tri(r, 4, 4), _mat(r, 3, 4)], (1,)),
    Case("triangular_solve_upper", _ts(), lambda r: [_tri(r, 2, 3, 3), _mat(r, 2, 3, 4)],
         exact=False),
    Case("triangular_solve_lower_transpose", _ts(upper=False, transpose=True),
         lambda r: [_tri(r, 3, 3), _mat(r, 3, 2)], exact=False),
    Case("triangular_solve_unit", _ts(unitriangular=True),
         lambda r: [_tri(r, 3, 3), _mat(r, 3, 2)], exact=False),
    Case("triangular_solve_b_only_broadcast", _ts(upper=False, transpose=True),
         lambda r: [_tri(r, 3, 3), _mat(r, 2, 3, 2)], (1,)),
    Case("householder_product_tall", lambda L, a, t: L.linalg.householder_product(a, t),
         lambda r: [_mat(r, 5, 3), _mat(r, 2)]),
    Case("householder_product_batched", lambda L, a, t: L.linalg.householder_product(a, t),
         lambda r: [_mat(r, 2, 4, 4), _mat(r, 2, 3)]),
    Case("householder_product_tau_only", lambda L, a, t: L.linalg.householder_product(a, t),
         lambda r: [_mat(r, 4, 3), _mat(r, 3)], (1,)),
    Case("householder_product_a_only", lambda L, a, t: L.linalg.householder_product(a, t),
         lambda r: [_mat(r, 4, 2), _mat(r, 2)], (0,)),
    Case("orgqr", lambda L, a, t: L.orgqr(a, t), lambda r: [_mat(r, 2, 5, 3), _mat(r, 2, 3)]),
    Case("lu_square_batched", lambda L, a: tuple(L.linalg.lu(a))[1:],
         lambda r: [_mat(r, 2, 4, 4)], (0,)),
    Case("lu_wide", lambda L, a: tuple(L.linalg.lu(a))[1:], lambda r: [_mat(r, 3, 5)], (0,)),
    Case("lu_tall_batched", lambda L, a: tuple(L.linalg.lu(a))[1:],
         lambda r: [_mat(r, 2, 5, 3)], (0,)),
    Case("lu_factor", lambda L, a: L.linalg.lu_factor(a).LU, lambda r: [_mat(r, 2, 4, 4)], (0,)),
    Case("lu_factor_ex_tall", lambda L, a: L.linalg.lu_factor_ex(a).LU,
         lambda r: [_mat(r, 5, 3)], (0,)),
    Case("lu_factor_ex_wide", lambda L, a: L.linalg.lu_factor_ex(a).LU,
         lambda r: [_mat(r, 3, 5)], (0,)),
    Case("torch_lu", lambda L, a: L.lu(a)[0], lambda r: [_mat(r, 4, 4)], (0,)),
    _lu_solve_case("lu_solve", (4, 4), (4, 3)),
    _lu_solve_case("lu_solve_adjoint_broadcast", (4, 4), (2, 4, 3), adjoint=True),
    _lu_solve_case("lu_solve_right_batched", (2, 3, 3), (2, 5, 3), left=False),
    _lu_solve_case("lu_solve_right_adjoint", (3, 3), (2, 3), left=False, adjoint=True),
    _lu_solve_case("lu_solve_lu_only", (2, 4, 4), (2, 4, 2), (0,), adjoint=True),
    _lu_solve_case("lu_solve_b_only", (4, 4), (4, 2), (1,)),
    Case("torch_lu_solve", lambda L, lu, b, piv: L.lu_solve(b, lu, piv),
         _lu_solve_case("", (2, 3, 3), (2, 3, 2)).make),
]


def arrays_of(case, seed=0):
    """The case's inputs and one tangent per dual input, float64."""
    rng = np.random.default_rng(seed)
    xs = case.make(rng)
    ts = {i: rng.standard_normal(xs[i].shape) for i in case.dual}
    return xs, ts


def forward_tangents(L, fw, case, xs, ts):
    """The outputs' primals and tangents (tuples) of ``case`` run by library ``L``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.lu and friends are deprecated
        with fw.dual_level():
            args = [fw.make_dual(L.tensor(x), L.tensor(ts[i])) if i in ts else L.tensor(x)
                    for i, x in enumerate(xs)]
            out = case.fn(L, *args)
            outs = out if isinstance(out, tuple) else (out,)
            pairs = [fw.unpack_dual(o) for o in outs]
    return [p.primal for p in pairs], [p.tangent for p in pairs]


@pytest.mark.parametrize("case", [c for c in CASES if c.exact], ids=lambda c: c.name)
def test_tangent_is_reverse_mode_jvp(case):
    xs, ts = arrays_of(case)
    _, tangents = forward_tangents(ember, fwad, case, xs, ts)

    def func(*duals):
        args = [ember.tensor(x) for x in xs]
        for i, d in zip(case.dual, duals):
            args[i] = d
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return case.fn(ember, *args)

    inputs = tuple(ember.tensor(xs[i]) for i in case.dual)
    v = tuple(ember.tensor(ts[i]) for i in case.dual)
    _, jv = ember.autograd.functional.jvp(func, inputs, v)
    jv = jv if isinstance(jv, tuple) else (jv,)
    assert len(tangents) == len(jv)
    for t, j in zip(tangents, jv):
        assert t is not None, case.name
        assert_close(t, j, rtol=1e-8, atol=1e-10, msg=case.name)


@pytest.mark.parametrize("name", ["solve_triangular_right_upper_unit", "householder_product_tall",
                                  "lu_wide", "lu_tall_batched", "lu_solve_right_adjoint"])
def test_tangent_is_differentiable(name):
    """Reverse over forward: gradcheck of (primals, tangents) -> the outputs' tangents."""
    case = next(c for c in CASES if c.name == name)
    xs, ts = arrays_of(case)
    k = len(case.dual)

    def tangent_of(*tensors):
        args = [ember.tensor(x) for x in xs]
        with fwad.dual_level():
            for j, i in enumerate(case.dual):
                args[i] = fwad.make_dual(tensors[j], tensors[k + j])
            out = case.fn(ember, *args)
            outs = out if isinstance(out, tuple) else (out,)
            return tuple(fwad.unpack_dual(o).tangent for o in outs)

    inputs = [ember.tensor(xs[i], requires_grad=True) for i in case.dual]
    inputs += [ember.tensor(ts[i], requires_grad=True) for i in case.dual]
    assert ember.autograd.gradcheck(tangent_of, tuple(inputs))


@pytest.mark.parametrize("options", [{}, {"upper": False, "transpose": True},
                                     {"unitriangular": True}])
def test_triangular_solve_tangent_is_torchs_formula(options):
    """torch's dX = op(T)^-1 (dB - dA X), dA neither masked nor transposed; the cloned
    coefficient's tangent is dA."""
    rng = np.random.default_rng(3)
    a, b = ember.tensor(_tri(rng, 2, 3, 3)), ember.tensor(_mat(rng, 2, 3, 2))
    ta, tb = ember.tensor(_mat(rng, 2, 3, 3)), ember.tensor(_mat(rng, 2, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fwad.dual_level():
            x, c = ember.triangular_solve(fwad.make_dual(b, tb), fwad.make_dual(a, ta), **options)
            tx, tc = fwad.unpack_dual(x).tangent, fwad.unpack_dual(c).tangent
        expected = ember.triangular_solve(tb - ta @ x.detach(), a, **options).solution
    assert_close(tx, expected, rtol=1e-10, atol=1e-12)
    assert_close(tc, ta)


def test_triangular_solve_tangent_of_a_triangular_da_is_jvp():
    """With dA already triangular (the part read), torch's formula is J t."""
    rng = np.random.default_rng(4)
    a, b = ember.tensor(_tri(rng, 3, 3)), ember.tensor(_mat(rng, 3, 2))
    ta, tb = ember.tensor(_mat(rng, 3, 3)).tril(-1), ember.tensor(_mat(rng, 3, 2))

    def solve(a_, b_):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ember.triangular_solve(b_, a_, upper=False, unitriangular=True).solution

    with fwad.dual_level():
        tx = fwad.unpack_dual(solve(fwad.make_dual(a, ta), fwad.make_dual(b, tb))).tangent
    _, jv = ember.autograd.functional.jvp(solve, (a, b), (ta, tb))
    assert_close(tx, jv, rtol=1e-9, atol=1e-12)


def test_lu_permutation_has_no_tangent():
    a = np.random.default_rng(0).uniform(-2, 2, (3, 4))
    with fwad.dual_level():
        p, low, up = ember.linalg.lu(fwad.make_dual(ember.tensor(a), ember.ones(3, 4).double()))
        assert fwad.unpack_dual(p).tangent is None
        assert fwad.unpack_dual(low).tangent.shape == low.shape
        assert fwad.unpack_dual(up).tangent.shape == up.shape


def test_householder_product_without_reflectors_has_zero_tangent():
    a = np.random.default_rng(0).uniform(-2, 2, (4, 3))
    with fwad.dual_level():
        q = ember.linalg.householder_product(fwad.make_dual(ember.tensor(a), ember.ones(4, 3)
                                                            .double()), ember.zeros(0).double())
        t = fwad.unpack_dual(q).tangent
    assert_close(t, np.zeros((4, 3)))


@pytest.mark.parametrize("dual", [(0,), (1,), (0, 1)])
def test_zeta_has_no_forward_ad(dual):
    x, q = ember.tensor([2.5, 3.0]).double(), ember.tensor([1.5, 2.0]).double()
    with fwad.dual_level():
        args = [fwad.make_dual(v, ember.ones(2).double()) if i in dual else v
                for i, v in enumerate((x, q))]
        with pytest.raises(NotImplementedError, match="forward AD with special_zeta that"):
            ember.special.zeta(*args)
