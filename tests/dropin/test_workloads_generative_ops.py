"""Op-level regressions the generative-workload audit found, each checked against torch.

``einsum`` backward with a trace (``bii->b``) or a letter summed in one operand only,
``cross_entropy`` on transposed logits (symmetric InfoNCE), and finite-difference checks of
``F.normalize`` and ``cdist`` as the metric-learning workload uses them.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _close(e, t, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def test_normalize_and_cdist_gradcheck():
    rs = np.random.RandomState(8)
    x = ember.tensor(rs.randn(4, 3), dtype=ember.float64, requires_grad=True)
    y = ember.tensor(rs.randn(5, 3), dtype=ember.float64, requires_grad=True)
    F = ember.nn.functional
    assert ember.autograd.gradcheck(lambda a: F.normalize(a, dim=1), (x,))
    assert ember.autograd.gradcheck(lambda a, b: ember.cdist(a, b), (x, y))
    assert ember.autograd.gradcheck(lambda a, b: ember.cdist(a, b, p=1.0), (x, y))


@pytest.mark.parametrize("eq, shapes", [
    ("bii->b", [(2, 3, 3)]), ("ij->", [(2, 3)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ijk,k->j", [(2, 3, 4), (4,)]), ("i,i->", [(1,), (4,)]), ("...ii->...", [(2, 3, 3)])])
def test_einsum_gradient_with_traces_and_summed_only_letters(eq, shapes):
    # these raised NotImplementedError in backward before
    rs = np.random.RandomState(9)
    arrays = [rs.randn(*s) for s in shapes]
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    ember.einsum(eq, *e).sum().backward()
    torch.einsum(eq, *t).sum().backward()
    for a, b in zip(e, t):
        _close(a.grad, b.grad)
    assert ember.autograd.gradcheck(lambda *xs: ember.einsum(eq, *xs), tuple(e))


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"reduction": "none"},
                                    {"weight": np.array([1., 2., .5, 1.], np.float32)}])
def test_cross_entropy_on_transposed_logits(kwargs):
    # logits.t() (as in symmetric InfoNCE) lost the one-hot part of the gradient before
    a = np.random.RandomState(10).randn(4, 4).astype(np.float32)
    out = []
    for T in (ember, torch):
        x = T.tensor(a, requires_grad=True)
        kw = {k: T.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
        loss = T.nn.functional.cross_entropy((x * 2).t(), T.arange(4), **kw)
        loss.sum().backward()
        out.append((loss, x.grad))
    _close(out[0][0], out[1][0])
    _close(out[0][1], out[1][1])
