"""Higher-order gradients without torch, for the formulas in the second batch: products and
scans (with zeros), sorting, more activations, linear algebra, indexing writes, fused
products, unfold/fold, EmbeddingBag and cross entropy with probability targets. Each is
checked by ``gradgradcheck`` (finite differences of the first derivatives ember computes)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradgradcheck

D = ember.float64


def _t(*shape, low=None, seed=0, zeros=()):
    rng = np.random.default_rng(seed + sum(shape))
    a = rng.standard_normal(shape)
    if low is not None:  # away from a kink
        a = np.sign(a) * (np.abs(a) + low)
    for z in zeros:
        a[z] = 0.0
    return ember.tensor(a, dtype=D, requires_grad=True)


def _spd(n, batch=()):
    a = np.random.default_rng(3).standard_normal(batch + (n, n))
    return ember.tensor(a @ np.swapaxes(a, -1, -2) + n * np.eye(n), dtype=D, requires_grad=True)


def _cholesky_both(a):
    # a symmetric argument: cholesky reads one triangle, its gradient is symmetrised
    return ember.linalg.cholesky(a) ** 2 + ember.linalg.cholesky(a, upper=True).sin()


def _i(*values):
    return ember.tensor(list(values))


# name -> (function, inputs)
CASES = {
    "prod": (lambda a: a.prod() * a + a.prod(1, keepdim=True) ** 2 + a.prod(0).sum(),
             (_t(3, 4),)),
    "prod with zeros": (lambda a: a.prod(1) ** 2 + a.prod(0).sum() * a.sum() + a.prod(),
                        (_t(3, 4, zeros=[(0, 1), (0, 3), (2, 2)]),)),
    "cumprod": (lambda a: a.cumprod(1) ** 2 + a.cumprod(0).sin(), (_t(3, 4),)),
    "cumprod with zeros": (lambda a: a.cumprod(1) ** 2 + a.cumprod(0) * a,
                           (_t(3, 4, zeros=[(0, 1), (1, 0), (1, 2)]),)),
    "logcumsumexp": (lambda a: a.logcumsumexp(1) ** 2 + a.logcumsumexp(0) * a, (_t(3, 4),)),
    "sort topk": (lambda a: a.sort(1).values ** 2 * ember.arange(4.0, dtype=D)
                  + a.sort(0, descending=True).values.sin() + a.topk(2, dim=1).values.sum() * a,
                  (_t(3, 4),)),
    "glu": (lambda a: F.glu(a, -1) ** 2 + F.glu(a, 0).sum() * a[:, :3], (_t(4, 6),)),
    "mish selu celu": (lambda a: F.mish(a) * a + F.selu(a) ** 2 + F.celu(a, alpha=0.7) * a,
                       (_t(3, 4, low=0.05),)),
    "hardswish hardsigmoid": (lambda a: F.hardswish(a * 3) * a + F.hardsigmoid(a * 3) * a ** 2,
                              (_t(3, 4, low=0.05),)),
    "softshrink hardshrink": (lambda a: F.softshrink(a, 0.3) * a + F.hardshrink(a, 0.3) ** 2 * a
                              + ember.hardshrink(a, 0.3).sin(), (_t(3, 4, low=0.35),)),
    "inv": (lambda a: ember.linalg.inv(a) @ a.transpose(-1, -2) + ember.inverse(a) ** 2,
            (_spd(3, (2,)),)),
    "det slogdet logdet": (lambda a: ember.linalg.det(a) * a.sum((-1, -2))
                           + ember.linalg.slogdet(a).logabsdet ** 2 + ember.logdet(a),
                           (_spd(3, (2,)),)),
    "solve broadcast": (lambda a, b: ember.linalg.solve(a, b) ** 2, (_spd(3), _t(2, 3, 4))),
    "solve vectors": (lambda a, b: ember.linalg.solve(a, b).sin(), (_spd(3, (2,)), _t(2, 3))),
    "solve left=False": (lambda a, b: ember.linalg.solve(a, b, left=False) ** 2,
                         (_spd(3, (2,)), _t(2, 4, 3))),
    "cholesky": (lambda a: _cholesky_both(a + a.transpose(-1, -2)), (_spd(3, (2,)),)),
    "diagonal trace": (lambda a, b: (a.diagonal(1) ** 2).sum() * b
                       + ember.diagonal(a, -1, 0, 1).sin().sum() * a + ember.trace(b) * b
                       + ember.diagonal(b.reshape(3, 2, 2), 0, 0, 2).sum() * a,
                       (_t(3, 4), _t(3, 4, seed=1))),
    "take take_along_dim": (lambda a: ember.take(a, _i(0, 5, 5, 11)) ** 2
                            + ember.take_along_dim(a, ember.tensor([[0, 2], [1, 1], [3, 0]]), 1)
                            .sin().sum() * a, (_t(3, 4),)),
    "index_copy index_fill": (
        lambda a, s, v: a.index_copy(0, _i(2, 0), s) ** 2
        + a.index_fill(1, _i(1, 3, 1), 0.5) * a + a.index_fill(0, _i(1), v) ** 2,
        (_t(3, 4), _t(2, 4), _t(seed=2))),
    "masked_scatter": (lambda a, s: a.masked_scatter(a > 0, s) ** 2 * a, (_t(3, 4), _t(4, 4))),
    "scatter src larger than index": (
        lambda a, s: a.scatter(1, ember.tensor([[0, 2], [3, 1], [1, 0]]), s) ** 2 * a,
        (_t(3, 4), _t(3, 3))),
    "baddbmm addmv addr addbmm": (
        lambda c, a, b, v, w: ember.baddbmm(c, a, b, beta=0.5, alpha=2) ** 2
        + ember.addmv(w[:3], a[0], v, beta=0.3, alpha=1.5).sum() * c
        + ember.addr(c[0, 0], w[:3], v[:4], alpha=0.5) ** 2
        + ember.addbmm(c, a, b, alpha=0.7).sin(),
        (_t(1, 4), _t(2, 3, 5), _t(2, 5, 4), _t(5), _t(4))),
    "unfold fold": (lambda x: F.unfold(x, (2, 3), padding=1, stride=(1, 2)) ** 2
                    + F.fold(x.reshape(1, 4, 10)[..., :6], (3, 4), (2, 2)).sum() * x.sum(),
                    (_t(1, 2, 4, 5),)),
    "embedding_bag": (lambda w, p: F.embedding_bag(_i(0, 2, 1, 2, 3), w, _i(0, 2), mode="mean")
                      ** 2 + F.embedding_bag(ember.tensor([[0, 3], [1, 1]]), w, mode="sum").sin()
                      + F.embedding_bag(_i(0, 2, 1, 2, 3), w, _i(0, 3), mode="sum",
                                        per_sample_weights=p) ** 2, (_t(4, 3), _t(5))),
    "embedding_bag max": (lambda w: F.embedding_bag(_i(0, 2, 1, 2, 3), w, _i(0, 2), mode="max")
                          ** 2, (_t(4, 3),)),
    "cross_entropy probabilities": (
        lambda a, p: F.cross_entropy(a, p.softmax(1), label_smoothing=0.1) ** 2
        + F.cross_entropy(a, p.softmax(1), reduction="none").sin().sum(),
        (_t(3, 5), _t(3, 5, seed=1))),
    "cross_entropy probabilities 3-D weighted": (
        lambda a, p: F.cross_entropy(a, p.softmax(1), weight=ember.tensor(
            [1.0, 0.0, 0.5], dtype=D), reduction="sum") ** 2, (_t(2, 3, 4), _t(2, 3, 4, seed=1))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradgradcheck(name):
    fn, inputs = CASES[name]
    assert gradgradcheck(fn, inputs)


def test_det_of_a_singular_matrix_still_raises_on_the_second_backward():
    a = ember.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=D, requires_grad=True)
    (g,) = ember.autograd.grad(ember.linalg.det(a), a, create_graph=True)
    with pytest.raises(NotImplementedError, match="LinalgDetBackward0"):
        g.sum().backward()
