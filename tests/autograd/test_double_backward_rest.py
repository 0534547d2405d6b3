"""Higher-order gradients without torch, for the formulas of the last batch: two-input and
special pointwise math, order statistics and scatter reductions, dist and cross, shape and
index ops, factorizations and the LU family, and the nn ops (grid_sample, max_unpool,
shuffles). Each is checked by ``gradgradcheck`` (finite differences of the first
derivatives ember computes); the ops torch cannot differentiate twice raise its error."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradgradcheck

D = ember.float64
# the legacy ops and kl_div's 'mean' warn as torch does; these tests only differentiate them
pytestmark = [pytest.mark.filterwarnings("ignore:.*is deprecated in favor of:UserWarning"),
              pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta:UserWarning"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")]


def _t(*shape, low=None, away=None, seed=0, scale=1.0, zeros=()):
    rng = np.random.default_rng(seed + sum(shape))
    a = rng.standard_normal(shape) * scale
    if low is not None:  # positive, away from a pole
        a = np.abs(a) + low
    if away is not None:  # either sign, away from a kink at 0
        a = np.sign(a) * (np.abs(a) + away)
    for z in zeros:
        a[z] = 0.0
    return ember.tensor(a, dtype=D, requires_grad=True)


def _u(*shape, seed=0, low=0.1, high=0.9):
    """Uniform in (0.1, 0.9): inside (0, 1) and away from its ends."""
    a = np.random.default_rng(seed + 7).uniform(low, high, shape)
    return ember.tensor(a, dtype=D, requires_grad=True)


def _m(*shape, seed=0):
    """A well-conditioned matrix (or a batch): distinct singular values."""
    rng = np.random.default_rng(seed + 11)
    a = rng.standard_normal(shape)
    k = min(shape[-2:])
    a[..., :k, :k] += np.diag(np.arange(1.0, k + 1)) * 2
    return ember.tensor(a, dtype=D, requires_grad=True)


def _i(*values):
    return ember.tensor(list(values))


def _sym(a):
    return a + a.transpose(-1, -2)


CASES = {
    # --- pointwise math ---
    "atan2 broadcast": (lambda a, b: ember.atan2(a, b) * a, (_t(2, 3), _t(3, seed=1))),
    "hypot broadcast": (lambda a, b: ember.hypot(a, b) ** 2 * b, (_t(2, 3), _t(2, 1, seed=1))),
    "logaddexp logaddexp2": (lambda a, b: ember.logaddexp(a, b) ** 2
                             + ember.logaddexp2(b, a) * a, (_t(2, 3), _t(3, seed=1))),
    "xlogy xlog1py": (lambda a, b: ember.xlogy(a, b) ** 2 + ember.special.xlog1py(a, b) * a,
                      (_t(2, 3), _t(3, low=0.2))),
    "xlogy number": (lambda b: ember.xlogy(2.0, b) ** 2, (_t(2, 3, low=0.2),)),
    "sinc": (lambda a: ember.sinc(a) * a + ember.sinc(a) ** 2, (_t(2, 3),)),
    "exp2 deg2rad rad2deg frac": (lambda a: ember.exp2(a) * a + ember.deg2rad(a) ** 2
                                  + ember.rad2deg(a) * ember.frac(a * 3), (_t(2, 3),)),
    "logit": (lambda a: ember.logit(a) ** 2 + ember.logit(a, eps=0.2) * a, (_u(2, 4),)),
    "ldexp copysign nextafter": (
        lambda a, b: ember.ldexp(a, b) ** 2 + ember.copysign(a, b) * a
        + ember.nextafter(a, b) * b, (_t(2, 3, low=0.1), _t(3, seed=1))),
    # --- special functions ---
    "lgamma digamma": (lambda a: ember.lgamma(a) * a + ember.digamma(a) ** 2, (_t(2, 3, low=0.5),)),
    "polygamma mvlgamma": (lambda a: ember.polygamma(2, a) * a + ember.mvlgamma(a + 1, 3) ** 2,
                           (_t(2, 3, low=0.5),)),
    "erfc erfinv i0": (lambda a, b: ember.erfc(a) * a + ember.erfinv(b) ** 2 + ember.i0(a) * a,
                       (_t(2, 3), _u(2, 3, low=-0.8, high=0.8))),
    "igamma igammac other": (lambda x: ember.igamma(ember.full((3,), 1.5, dtype=D), x) ** 2
                             + ember.igammac(ember.full((2, 3), 2.5, dtype=D), x) * x,
                             (_t(2, 3, low=0.3),)),
    # --- piecewise, sign-like ---
    "prelu one and per channel": (lambda a, w: F.prelu(a, w) ** 2 + F.prelu(a, w[:1]) * a,
                                  (_t(2, 3, 4, away=0.05),
                                   _t(3, seed=1))),
    "renorm p=2 p=1 p=3": (lambda a: ember.renorm(a, 2, 0, 1.0) ** 2 + ember.renorm(a, 1, 1, 1.5)
                           * a + ember.renorm(a, 3, 0, 0.8).sin(), (_t(3, 4),)),
    "angle sgn frexp": (lambda a: ember.angle(a) * a + ember.sgn(a) * a ** 2
                        + ember.frexp(a).mantissa ** 2, (_t(2, 3, low=0.1),)),
    "threshold": (lambda a: F.threshold(a, 0.1, 2.0) ** 2 + F.threshold(a, -0.3, 0.0) * a,
                  (_t(2, 3, away=0.05),)),
    # --- reductions and order statistics ---
    "nansum": (lambda a: (ember.nansum(a, 1) ** 2, ember.nansum(a) * a), (_t(3, 4),)),
    "aminmax": (lambda a: (*(t ** 2 * a[:, 0] for t in ember.aminmax(a, dim=1)),
                           ember.aminmax(a).max * a, ember.aminmax(a, dim=0, keepdim=True).min
                           * a), (_t(3, 4),)),
    "cummax cummin": (lambda a: a.cummax(1).values ** 2 + a.cummin(0).values * a, (_t(3, 4),)),
    "median mode": (lambda a: (a.median() * a, a.median(1).values ** 2,
                               a.nanmedian(0).values.sum() * a,
                               ember.mode(a, 1, keepdim=True).values * a), (_t(3, 5),)),
    "quantile": (lambda a: (ember.quantile(a, ember.tensor([0.2, 0.75], dtype=D), dim=1) ** 2,
                            ember.quantile(a, 0.4) * a,
                            ember.nanquantile(a, 0.5, dim=0, keepdim=True) * a,
                            ember.quantile(a, 0.3, dim=1, interpolation="midpoint") ** 2),
                 (_t(3, 5),)),
    "scatter_reduce sum mean": (
        lambda a, s: a.scatter_reduce(1, ember.tensor([[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                      "sum") ** 2
        + a.scatter_reduce(1, ember.tensor([[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s, "mean",
                           include_self=False) * a, (_t(3, 4), _t(3, 3, seed=1))),
    "scatter_reduce prod amax": (
        lambda a, s: a.scatter_reduce(0, ember.tensor([[0, 1, 0, 2], [0, 0, 1, 2]]), s,
                                      "prod") ** 2
        + a.scatter_reduce(0, ember.tensor([[0, 1, 0, 2], [0, 0, 1, 2]]), s, "amax") * a,
        (_t(3, 4, low=0.2), _t(3, 4, low=0.3, seed=1))),
    "scatter_reduce prod with zeros": (
        lambda a, s: a.scatter_reduce(1, ember.tensor([[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                      "prod") ** 2
        + a.scatter_reduce(1, ember.tensor([[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s, "prod",
                           include_self=False) * a,
        (_t(3, 4, low=0.2, zeros=[(0, 0), (1, 3)]), _t(3, 3, low=0.3, seed=1, zeros=[(1, 0)]))),
    "index_reduce prod with zeros": (
        lambda a, s: a.index_reduce(0, _i(0, 2, 0), s, "prod") ** 2
        + a.index_reduce(0, _i(0, 2, 0), s, "prod", include_self=False) * a,
        (_t(3, 4, low=0.2, zeros=[(0, 1), (1, 1)]), _t(3, 4, low=0.3, seed=1,
                                                       zeros=[(0, 2), (1, 3)]))),
    "index_reduce": (lambda a, s: (a.index_reduce(0, _i(0, 2, 0), s, "prod") ** 2,
                                   a.index_reduce(0, _i(0, 2, 0), s, "mean", include_self=False)
                                   * a, a.index_reduce(1, _i(1, 1, 3), s[:, :3], "amax") * a),
                     (_t(3, 4, low=0.2), _t(3, 4, low=0.3, seed=1))),
    # --- pairwise ---
    "dist p=2 p=3 p=1 inf": (lambda a, b: ember.dist(a, b) ** 2 + ember.dist(a, b, 3) * a
                             + ember.dist(a, b, 1) * b + ember.dist(a, b, float("inf")) * a,
                             (_t(2, 3), _t(3, seed=1))),
    "cdist p=2, more than 25 rows": (lambda a, b: ember.cdist(a, b) ** 2 * a[:, :1],
                                      (_t(26, 1), _t(2, 1, seed=1))),
    "renorm p=0.5": (lambda a: ember.renorm(a, 0.5, 0, 0.8) ** 2, (_t(3, 4, away=0.1),)),
    "cross broadcast": (lambda a, b: ember.linalg.cross(a, b) ** 2 * a,
                        (_t(2, 3), _t(1, 3, seed=1))),
    # --- shape and index ---
    "rot90 diag_embed block_diag": (
        lambda a, b: (ember.rot90(a, 1, (0, 1)) ** 2, ember.rot90(a, 3, (1, 0)).sum() * a,
                      ember.diag_embed(a[:2, :2], 1).sin(), ember.block_diag(a, b).cos().sum() * a),
        (_t(3, 4), _t(2, 2, seed=1))),
    "narrow_copy put": (lambda a, s: (a.narrow_copy(1, 1, 2) ** 2 * a[:, :2],
                                      a.put(_i(1, 1, 5), s, accumulate=True) ** 2,
                                      a.put(_i(0, 4, 11), s) * a), (_t(3, 4), _t(3, seed=1))),
    "scatter views": (lambda a, s, d: ember.select_scatter(a, s, 0, 1) ** 2
                      + ember.slice_scatter(a, s.unsqueeze(0), 0, 2, 3) * a
                      + ember.diagonal_scatter(a, d) ** 2
                      + ember.as_strided_scatter(a, d, (3,), (5,)) * a,
                      (_t(3, 4), _t(4, seed=1), _t(3, seed=2))),
    "in-place on a view": (lambda a, b: _inplace_on_view(a, b), (_t(3, 4), _t(4, seed=1))),
    "pixel and channel shuffle": (lambda a: (F.pixel_shuffle(a, 2) ** 2,
                                             F.pixel_unshuffle(a[..., :2], 2).sin(),
                                             F.channel_shuffle(a, 2) ** 2 * a), (_t(1, 8, 2, 4),)),
    "max_unpool": (lambda a: F.max_unpool2d(a, ember.tensor([[[[0, 3], [9, 14]]]]), 2,
                                            output_size=(4, 4)) ** 2, (_t(1, 1, 2, 2),)),
    # --- factorizations and solves ---
    "pinv wide and tall": (lambda a: (ember.linalg.pinv(a) ** 2,
                                      ember.linalg.pinv(a.transpose(-1, -2)).sin()),
                           (_m(2, 3, 4),)),
    "matrix_exp": (lambda a: ember.linalg.matrix_exp(a) ** 2, (_t(2, 3, 3, scale=0.5),)),
    "qr tall": (lambda a: (lambda q, r: q ** 2 + (r ** 2).sum(-2, keepdim=True))(
        *ember.linalg.qr(a)), (_m(4, 3),)),
    "qr wide": (lambda a: (lambda q, r: q.sin().sum() * a + r ** 2)(*ember.linalg.qr(a)),
                (_m(3, 4),)),
    "eigh eigvalsh": (lambda a: (lambda w, v: w ** 2 + (v * v[..., :1]).sum(-2))(
        *ember.linalg.eigh(_sym(a))) + ember.linalg.eigvalsh(_sym(a)).sin(), (_m(2, 3, 3),)),
    "svd tall": (lambda a: (lambda u, s, vh: (u * u[..., :1]).sum() * s + (vh * vh[:1]).sum(0)
                            ** 2)(*ember.linalg.svd(a, full_matrices=False)), (_m(4, 3),)),
    "svd wide full": (lambda a: (lambda u, s, vh: (s ** 2, (u[:, :1] * u).sum(0),
                                                   (vh[:3] * vh[:1]).sum(0)))(*ember.linalg.svd(a)),
                      (_m(3, 4),)),
    "svdvals": (lambda a: ember.linalg.svdvals(a) ** 2, (_m(2, 4, 3),)),
    "triangular_solve": (lambda b, a: ember.triangular_solve(b, a).solution ** 2
                         + ember.triangular_solve(b, a, upper=False, transpose=True,
                                                  unitriangular=True).solution.sin(),
                         (_t(2, 3, 2), _m(3, 3))),
    "lu_factor lu_unpack": (lambda a: (lambda lu, piv: lu ** 2 + sum(
        t.sin().sum() for t in ember.lu_unpack(lu, piv)[1:]))(*ember.lu(a)),
        (_m(3, 3),)),
    "lu_factor wide tall": (lambda a: ember.lu(a)[0] ** 2
                            + ember.lu(a.t())[0].sin().sum(), (_m(3, 4),)),
    "lu_solve": (lambda b, a: ember.lu_solve(b, *ember.lu(a)) ** 2,
                 (_t(3, 2), _m(3, 3))),
    # --- nn ---
    "grid_sample bilinear": (lambda x, g: F.grid_sample(x, g, align_corners=False) ** 2,
                             (_t(1, 2, 3, 4), _u(1, 2, 3, 2, low=-0.8, high=0.8))),
    "grid_sample border aligned": (
        lambda x, g: F.grid_sample(x, g, padding_mode="border", align_corners=True).sin(),
        (_t(2, 1, 3, 3), _u(2, 2, 2, 2, low=-1.2, high=1.2))),
    "grid_sample reflection nearest": (
        lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=False) ** 2
        + F.grid_sample(x, g, mode="nearest", align_corners=False) * 2,
        (_t(1, 2, 3, 3), _u(1, 2, 2, 2, low=-1.2, high=1.2))),
    "rrelu kl_div": (lambda a, t: F.rrelu(a, training=True) ** 2 + F.kl_div(a, t) ** 2,
                     (_t(2, 3, away=0.05), _u(2, 3))),
}


def _inplace_on_view(a, b):
    c = a * 1.0
    c[1].mul_(b)  # CopySlices for c, AsStridedBackward0 for the row
    c.t()[2].add_(b[:3] ** 2)
    return c ** 2


@pytest.mark.parametrize("name", list(CASES))
def test_gradgradcheck(name):
    fn, inputs = CASES[name]
    if name == "rrelu kl_div":
        ember.manual_seed(0)  # the noise is drawn in forward: the same each call
        fn0 = fn

        def fn(*xs):
            ember.manual_seed(0)
            return fn0(*xs)
    assert gradgradcheck(fn, inputs)


def _second(fn, *xs):
    (g,) = ember.autograd.grad(fn(*xs).sum(), xs[:1], create_graph=True)
    (g * g).sum().backward()


def test_cdist_second_derivative_raises_torch_error():
    a, b = _t(3, 2), _t(4, 2, seed=1)
    with pytest.raises(NotImplementedError, match="_cdist_backward"):
        _second(lambda x, y: ember.cdist(x, y) ** 2, a, b)


def test_ctc_loss_second_derivative_raises_torch_error():
    lp = ember.tensor(np.random.default_rng(0).standard_normal((5, 1, 4)), dtype=D,
                      requires_grad=True)
    with pytest.raises(RuntimeError, match="_ctc_loss_backward"):
        _second(lambda x: F.ctc_loss(x.log_softmax(2), ember.tensor([[1, 2]]),
                                     ember.tensor([5]), ember.tensor([2])), lp)


def test_local_response_norm_second_derivative_raises_torch_error():
    x = _t(1, 4, 2, 2)
    with pytest.raises(RuntimeError, match="out="):
        _second(lambda a: ember.nn.CrossMapLRN2d(3)(a) ** 2, x)


def test_two_zeros_reduced_into_one_place_raise_on_the_second_backward():
    a, s = _t(2, 3, low=0.2), _t(2, 3, low=0.3, seed=1, zeros=[(0, 1), (1, 1)])
    with pytest.raises(RuntimeError, match=">1 zeros"):
        _second(lambda x, y: y.scatter_reduce(0, ember.tensor([[0, 0, 0], [1, 0, 1]]), x,
                                              "prod"), s, a)
    with pytest.raises(RuntimeError, match=">1 zeros"):
        _second(lambda x, y: y.index_reduce(0, _i(1, 1), x, "prod"), s, a)


def test_heaviside_and_igamma_input_raise_at_the_first_backward():
    a, v = _t(2, 3), _t(2, 3, seed=1)
    with pytest.raises(RuntimeError, match="heaviside"):
        ember.autograd.grad(ember.heaviside(a, v).sum(), a, create_graph=True)
    x = _t(2, 3, low=0.5)
    with pytest.raises(NotImplementedError, match="igamma: input"):
        ember.autograd.grad(ember.igamma(x, x).sum(), x, create_graph=True)
