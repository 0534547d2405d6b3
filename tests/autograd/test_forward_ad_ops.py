"""Forward mode against finite differences and reverse mode, op by op (no torch needed).

For every row of the op table, in float64: the tangent that ``forward_ad`` gives the output
equals the central difference ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` and equals
``J @ t``, with the Jacobian ``J`` built by reverse mode (``ember.func.jacrev``).
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwAD
from tests.autograd.test_forward_ad_cases import CASES
from tests.helpers import assert_close

EPS = 1e-6


def _inputs(case, seed=0):
    rng = np.random.default_rng(seed)
    xs = [ember.tensor(rng.uniform(case.low, case.high, s)) for s in case.shapes]
    ts = [ember.tensor(rng.standard_normal(s)) for s in case.shapes]
    return xs, ts


def _jvp(case, xs, ts):
    with fwAD.dual_level():
        out = case.fn(ember, *[fwAD.make_dual(x, t) for x, t in zip(xs, ts)])
        primal, tangent = fwAD.unpack_dual(out)
    return primal, tangent


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tangent_matches_finite_differences(case):
    xs, ts = _inputs(case)
    primal, tangent = _jvp(case, xs, ts)
    assert_close(primal, case.fn(ember, *xs), msg=case.name)
    assert tangent is not None, f"{case.name}: the output has no tangent"
    plus = case.fn(ember, *[x + EPS * t for x, t in zip(xs, ts)])
    minus = case.fn(ember, *[x - EPS * t for x, t in zip(xs, ts)])
    assert_close(tangent, (plus - minus) / (2 * EPS), rtol=1e-5, atol=1e-6, msg=case.name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tangent_is_the_reverse_mode_jacobian_times_the_tangent(case):
    xs, ts = _inputs(case, seed=1)
    _, tangent = _jvp(case, xs, ts)
    argnums = tuple(range(len(xs)))
    jac = ember.func.jacrev(lambda *a: case.fn(ember, *a), argnums=argnums)(*xs)
    n_out = tangent.numel()
    expected = sum(j.reshape(n_out, x.numel()) @ t.reshape(-1) for j, x, t in zip(jac, xs, ts))
    assert_close(tangent, expected.reshape(tangent.shape), rtol=1e-9, atol=1e-10, msg=case.name)


@pytest.mark.parametrize("case", [c for c in CASES if len(c.shapes) > 1][:12],
                         ids=lambda c: c.name)
def test_one_dual_operand_among_plain_ones(case):
    # only the last input is dual: its tangent alone reaches the output, broadcast or not
    xs, ts = _inputs(case, seed=2)
    with fwAD.dual_level():
        duals = xs[:-1] + [fwAD.make_dual(xs[-1], ts[-1])]
        tangent = fwAD.unpack_dual(case.fn(ember, *duals)).tangent
    plus = case.fn(ember, *xs[:-1], xs[-1] + EPS * ts[-1])
    minus = case.fn(ember, *xs[:-1], xs[-1] - EPS * ts[-1])
    assert_close(tangent, (plus - minus) / (2 * EPS), rtol=1e-5, atol=1e-6, msg=case.name)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in (
    "mul_broadcast", "exp", "softmax", "matmul_2d", "layer_norm", "cross_entropy", "cumprod",
    "gelu", "var_dim", "conv1d_stride", "det", "attention")],
    ids=lambda c: c.name)
def test_tangent_is_differentiable_in_reverse_mode(case):
    # d/dx <w, J(x) t>, the Hessian-vector product of reverse over forward, by differences
    xs, ts = _inputs(case, seed=3)
    w = ember.tensor(np.random.default_rng(4).standard_normal(
        tuple(case.fn(ember, *xs).shape)))

    def weighted_tangent(*values):
        with fwAD.dual_level():
            tangent = fwAD.unpack_dual(case.fn(ember, *[
                fwAD.make_dual(v, t) for v, t in zip(values, ts)])).tangent
        return (tangent * w).sum()

    leaves = [x.clone().requires_grad_() for x in xs]
    grads = ember.autograd.grad(weighted_tangent(*leaves), leaves, materialize_grads=True)
    for i, (x, g) in enumerate(zip(xs, grads)):
        d = ember.tensor(np.random.default_rng(5 + i).standard_normal(tuple(x.shape)))
        shifted = [v if j != i else v + EPS * d for j, v in enumerate(xs)]
        back = [v if j != i else v - EPS * d for j, v in enumerate(xs)]
        numeric = (weighted_tangent(*shifted) - weighted_tangent(*back)) / (2 * EPS)
        assert_close((g * d).sum(), numeric, rtol=1e-5, atol=1e-6, msg=f"{case.name} input {i}")
