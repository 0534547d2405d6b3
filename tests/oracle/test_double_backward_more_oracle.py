"""More higher-order gradients against torch: second-order products (float64) of the ops
whose Tensor-level formulas live beside the first ones: products and scans, sorting,
activations, linear algebra, indexing writes, fused products, unfold/fold, EmbeddingBag and
probability-target cross entropy. Shapes are non-square or broadcast where the op allows."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402


def _np(t):
    return None if t is None else t.detach().numpy()


def _second_order(T, fn, arrays):
    """First derivatives of <fn(xs), v> and the derivatives of <those, w>: both orders."""
    rng = np.random.default_rng(1)
    xs = [T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays]
    out = fn(T, *xs)
    v = T.tensor(rng.standard_normal(tuple(out.shape)), dtype=T.float64)
    first = T.autograd.grad(out, xs, v, create_graph=True, allow_unused=True)
    s = sum((g * T.tensor(rng.standard_normal(tuple(g.shape)), dtype=T.float64)).sum()
            for g in first if g is not None)
    second = T.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else [None] * len(xs)
    return [_np(g) for g in first], [_np(g) for g in second]


def F(T):
    return T.nn.functional


def _spd(n, batch=()):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _with_zeros(*shape, zeros=()):
    a = np.random.default_rng(4).standard_normal(shape)
    for z in zeros:
        a[z] = 0.0
    return a


CASES = {
    "prod": (lambda T, a: a.prod() * a + a.prod(1, keepdim=True) ** 2 + a.prod(0).sum(),
             [(3, 4)]),
    "prod one zero": (lambda T, a: a.prod(1) ** 2 + a.prod(), [_with_zeros(3, 4, zeros=[(0, 1)])]),
    "prod two zeros": (lambda T, a: a.prod(1, keepdim=True) * 2 + a.prod(0).sum() * a,
                       [_with_zeros(3, 4, zeros=[(0, 1), (0, 3), (2, 2)])]),
    "cumprod": (lambda T, a: a.cumprod(1) ** 2 + a.cumprod(0).sin(), [(3, 4)]),
    "cumprod with zeros": (lambda T, a: a.cumprod(1) ** 2 + a.cumprod(0) * a,
                           [_with_zeros(3, 4, zeros=[(0, 1), (1, 0), (1, 2), (2, 3)])]),
    "logcumsumexp": (lambda T, a: a.logcumsumexp(1) ** 2 + a.logcumsumexp(0) * a, [(3, 4)]),
    "sort topk": (lambda T, a: a.sort(1).values ** 2 * T.arange(4.0, dtype=a.dtype)
                  + a.sort(0, descending=True).values.sin()
                  + a.topk(2, dim=1).values.sum() * a, [(3, 4)]),
    "glu": (lambda T, a: F(T).glu(a, -1) ** 2 + F(T).glu(a, 0).sum() * a[:, :3], [(4, 6)]),
    "mish selu celu": (lambda T, a: F(T).mish(a) * a + F(T).selu(a) ** 2
                       + F(T).celu(a, alpha=0.7) * a, [(3, 4)]),
    "hardswish": (lambda T, a: F(T).hardswish(a * 3) * a, [(3, 4)]),
    "shrink": (lambda T, a: F(T).softshrink(a, 0.3) * a + F(T).hardshrink(a, 0.3) ** 2 * a,
               [(3, 4)]),
    "inv": (lambda T, a: T.linalg.inv(a) @ a.transpose(-1, -2) + T.inverse(a) ** 2,
            [_spd(3, (2,))]),
    "det slogdet": (lambda T, a: T.linalg.det(a) * a.sum((-1, -2))
                    + T.linalg.slogdet(a).logabsdet ** 2 + T.logdet(a), [_spd(3, (2,))]),
    "solve broadcast": (lambda T, a, b: T.linalg.solve(a, b) ** 2, [_spd(3), (2, 3, 4)]),
    "solve vectors": (lambda T, a, b: T.linalg.solve(a, b).sin(), [_spd(3, (2,)), (2, 3)]),
    "solve left=False": (lambda T, a, b: T.linalg.solve(a, b, left=False) ** 2,
                         [_spd(3, (2,)), (2, 4, 3)]),
    "cholesky": (lambda T, a: T.linalg.cholesky(a) ** 2 + T.linalg.cholesky(a, upper=True).sin(),
                 [_spd(3, (2,))]),
    "diagonal trace": (lambda T, a, b: (a.diagonal(1) ** 2).sum() * b
                       + T.diagonal(a, -1, 0, 1).sin().sum() * a + T.trace(b) * b
                       + T.diagonal(b.reshape(3, 2, 2), 0, 0, 2).sum() * a, [(3, 4), (3, 4)]),
    "take take_along_dim": (lambda T, a: T.take(a, T.tensor([0, 5, 5, 11])) ** 2
                            + T.take_along_dim(a, T.tensor([[0, 2], [1, 1], [3, 0]]), 1).sin()
                            .sum() * a, [(3, 4)]),
    "index_copy index_fill": (
        lambda T, a, s: a.index_copy(0, T.tensor([2, 0]), s) ** 2
        + a.index_fill(1, T.tensor([1, 3]), 0.5) * a, [(3, 4), (2, 4)]),
    "masked_scatter": (lambda T, a, s: a.masked_scatter(a > 0, s) ** 2 * a,
                       [(3, 4), (4, 4)]),
    "scatter src": (lambda T, a, s: a.scatter(1, T.tensor([[0, 2], [3, 1], [1, 0]]), s) ** 2
                    * a, [(3, 4), (3, 2)]),
    "baddbmm addmv addr": (
        lambda T, c, a, b, v, w: T.baddbmm(c, a, b, beta=0.5, alpha=2) ** 2
        + T.addmv(w[:3], a[0], v, beta=0.3, alpha=1.5).sum() * c
        + T.addr(c[0, 0], w[:3], v[:4], alpha=0.5) ** 2,
        [(1, 4), (2, 3, 5), (2, 5, 4), (5,), (4,)]),
    "unfold fold": (lambda T, x: F(T).unfold(x, (2, 3), padding=1, stride=(1, 2)) ** 2
                    + F(T).fold(x.reshape(1, 4, 10)[..., :6], (3, 4), (2, 2)).sum() * x.sum(),
                    [(1, 2, 4, 5)]),
    "cross_entropy probabilities": (lambda T, a, p: F(T).cross_entropy(
        a, p.softmax(1), label_smoothing=0.1) ** 2 + F(T).cross_entropy(
        a, p.softmax(1), reduction="none").sin().sum(), [(3, 5), (3, 5)]),
    "cross_entropy probabilities 3-D": (lambda T, a, p: F(T).cross_entropy(
        a, p.softmax(1), weight=T.tensor([1.0, 2.0, 0.5], dtype=a.dtype), reduction="sum") ** 2,
        [(2, 3, 4), (2, 3, 4)]),
}


def _embedding_bag(T, w, p):
    """Bags of ids [0, 2] and [1, 2, 3] (mean, then sum weighted by p); torch has no second
    derivative for embedding_bag, so its side is built from F.embedding."""
    ids, offsets = T.tensor([0, 2, 1, 2, 3]), T.tensor([0, 2])
    if T is ember:
        mean = F(T).embedding_bag(ids, w, offsets, mode="mean")
        weighted = F(T).embedding_bag(ids, w, offsets, mode="sum", per_sample_weights=p)
    else:
        rows = F(T).embedding(ids, w)
        mean = T.stack([rows[:2].mean(0), rows[2:].mean(0)])
        pr = rows * p.unsqueeze(1)
        weighted = T.stack([pr[:2].sum(0), pr[2:].sum(0)])
    return mean ** 2 + weighted.sin() * weighted


CASES["embedding_bag"] = (_embedding_bag, [(4, 3), (5,)])


def _inputs(shapes):
    rng = np.random.default_rng(0)
    return [s if isinstance(s, np.ndarray) else rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("name", list(CASES))
def test_second_order_products_match_torch(name):
    fn, shapes = CASES[name]
    arrays = _inputs(shapes)
    e_first, e_second = _second_order(ember, fn, arrays)
    t_first, t_second = _second_order(torch, fn, arrays)
    for e, t in zip(e_first + e_second, t_first + t_second):
        if t is None:
            assert e is None or np.allclose(e, 0)
        else:
            np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)
