"""The last batch of higher-order gradients against torch: second-order products (float64)
of two-input and special pointwise math, order statistics and scatter reductions, dist and
cross, shape and index ops, factorizations and LU, and the nn ops; and torch's errors where
it has no double backward (cdist, ctc_loss, CrossMapLRN2d, heaviside, igamma's input)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _np(t):
    return None if t is None else t.detach().numpy()


def _second_order(T, fn, arrays):
    """First derivatives of <fn(xs), v> and the derivatives of <those, w>: both orders."""
    rng = np.random.default_rng(1)
    xs = [T.tensor(a, dtype=T.float64, requires_grad=True) for a in arrays]
    out = fn(T, *xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    vs = [T.tensor(rng.standard_normal(tuple(o.shape)), dtype=T.float64) for o in outs]
    first = T.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    s = sum((g * T.tensor(rng.standard_normal(tuple(g.shape)), dtype=T.float64)).sum()
            for g in first if g is not None)
    second = T.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else [None] * len(xs)
    return [_np(g) for g in first], [_np(g) for g in second]


def F(T):
    return T.nn.functional


def _away(*shape, low=0.1, seed=0):
    a = np.random.default_rng(seed + 5).standard_normal(shape)
    return np.sign(a) * (np.abs(a) + low)


def _pos(*shape, low=0.3, seed=0):
    return np.abs(np.random.default_rng(seed + 6).standard_normal(shape)) + low


def _unit(*shape, low=0.1, high=0.9, seed=0):
    return np.random.default_rng(seed + 7).uniform(low, high, shape)


def _mat(*shape, seed=0):
    a = np.random.default_rng(seed + 11).standard_normal(shape)
    k = min(shape[-2:])
    a[..., :k, :k] += np.diag(np.arange(1.0, k + 1)) * 2
    return a


def _idx(T, rows):
    return T.tensor(rows)


def _with(a, at, value):
    a = np.array(a, dtype=np.float64)
    for i in at:
        a[i] = value
    return a


CASES = {
    # --- pointwise math ---
    "atan2 broadcast": (lambda T, a, b: T.atan2(a, b) * a, [(2, 3), (3,)]),
    "atan2 at the origin": (lambda T, a, b: T.atan2(a, b) ** 2,
                            [_with(_away(2, 3), [(0, 0)], 0.0), _with(_away(3), [0], 0.0)]),
    "hypot": (lambda T, a, b: T.hypot(a, b) ** 2 * b, [(2, 3), (2, 1)]),
    "logaddexp logaddexp2": (lambda T, a, b: T.logaddexp(a, b) ** 2 + T.logaddexp2(b, a) * a,
                             [(2, 3), (3,)]),
    "xlogy xlog1py with zeros": (
        lambda T, a, b: T.xlogy(a, b) ** 2 + T.special.xlog1py(a, b) * a,
        [_with(_away(2, 3), [(0, 1), (1, 2)], 0.0), _pos(3)]),
    "xlogy number": (lambda T, b: T.xlogy(2.0, b) ** 2, [_pos(2, 3)]),
    "sinc with a zero": (lambda T, a: T.sinc(a) * a + T.sinc(a) ** 2,
                         [_with(_away(2, 3), [(0, 1)], 0.0)]),
    "exp2 deg2rad rad2deg frac": (lambda T, a: T.exp2(a) * a + T.deg2rad(a) ** 2
                                  + T.rad2deg(a) * T.frac(a * 3), [(2, 3)]),
    "logit": (lambda T, a: T.logit(a) ** 2 + T.logit(a, eps=0.2) * a, [_unit(2, 4)]),
    "ldexp copysign nextafter": (lambda T, a, b: T.ldexp(a, b) ** 2 + T.copysign(a, b) * a
                                 + T.nextafter(a, b) * b, [_away(2, 3), (3,)]),
    # --- special functions ---
    "lgamma digamma polygamma": (lambda T, a: T.lgamma(a) * a + T.digamma(a) ** 2
                                 + T.polygamma(2, a) * a, [_pos(2, 3, low=0.5)]),
    "mvlgamma": (lambda T, a: T.mvlgamma(a, 3) ** 2, [_pos(2, 3, low=1.5)]),
    "erfc erfinv i0": (lambda T, a, b: T.erfc(a) * a + T.erfinv(b) ** 2 + T.i0(a) * a,
                       [(2, 3), _unit(2, 3, low=-0.8, high=0.8)]),
    "i0 at zero": (lambda T, a: T.i0(a) ** 2 * a, [_with(_away(3), [1], 0.0)]),
    "igamma igammac": (lambda T, x: T.igamma(T.full((3,), 1.5, dtype=x.dtype), x) ** 2
                       + T.igammac(T.full((2, 3), 2.5, dtype=x.dtype), x) * x, [_pos(2, 3)]),
    # --- piecewise, sign-like ---
    "prelu": (lambda T, a, w: F(T).prelu(a, w) ** 2 + F(T).prelu(a, w[:1]) * a,
              [_away(2, 3, 4), (3,)]),
    "renorm": (lambda T, a: T.renorm(a, 2, 0, 1.0) ** 2 + T.renorm(a, 1, 1, 1.5) * a
               + T.renorm(a, 3, 0, 0.8).sin(), [(3, 4)]),
    "angle sgn frexp": (lambda T, a: T.angle(a) * a + T.sgn(a) * a ** 2
                        + T.frexp(a).mantissa ** 2, [_away(2, 3)]),
    "threshold rrelu eval": (lambda T, a: F(T).threshold(a, 0.1, 2.0) ** 2
                             + F(T).rrelu(a, training=False) * a, [_away(2, 3)]),
    "kl_div": (lambda T, a, t: F(T).kl_div(a, t, reduction="sum") ** 2, [(2, 3), _unit(2, 3)]),
    # --- reductions and order statistics ---
    "nansum with nan": (lambda T, a: (T.nansum(a, 1) ** 2, T.nansum(a) * a),
                        [_with(_away(3, 4), [(1, 2)], np.nan)]),
    "aminmax": (lambda T, a: (*(t ** 2 * a[:, 0] for t in T.aminmax(a, dim=1)),
                              T.aminmax(a).max * a), [(3, 4)]),
    "cummax cummin": (lambda T, a: a.cummax(1).values ** 2 + a.cummin(0).values * a, [(3, 4)]),
    "median mode": (lambda T, a: (a.median() * a, a.median(1).values ** 2,
                                  a.nanmedian(0).values.sum() * a,
                                  T.mode(a, 1, keepdim=True).values * a), [(3, 5)]),
    "quantile": (lambda T, a: (T.quantile(a, T.tensor([0.2, 0.75], dtype=a.dtype), dim=1) ** 2,
                               T.quantile(a, 0.4) * a,
                               T.nanquantile(a, 0.5, dim=0, keepdim=True) * a), [(3, 5)]),
    "scatter_reduce": (
        lambda T, a, s: (a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                          "sum") ** 2,
                         a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                          "mean", include_self=False) * a,
                         a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                          "prod") ** 2,
                         a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s,
                                          "amin") * a), [_pos(3, 4), _pos(3, 3, seed=1)]),
    "scatter_reduce index_reduce prod with zeros": (
        lambda T, a, s: (a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]), s[:, :3],
                                          "prod") ** 2,
                         a.scatter_reduce(1, _idx(T, [[0, 1, 0], [2, 2, 2], [3, 0, 3]]),
                                          s[:, :3], "prod", include_self=False) * a,
                         a.index_reduce(0, _idx(T, [0, 2, 0]), s, "prod") ** 2,
                         a.index_reduce(0, _idx(T, [0, 2, 0]), s, "prod", include_self=False)
                         * a),
        [_with(_pos(3, 4), [(0, 0), (1, 3), (0, 1)], 0.0),
         _with(_pos(3, 4, seed=1), [(1, 0), (0, 2)], 0.0)]),
    "index_reduce": (lambda T, a, s: (a.index_reduce(0, _idx(T, [0, 2, 0]), s, "prod") ** 2,
                                      a.index_reduce(0, _idx(T, [0, 2, 0]), s, "mean",
                                                     include_self=False) * a,
                                      a.index_reduce(1, _idx(T, [1, 1, 3]), s[:, :3], "amax")
                                      * a), [_pos(3, 4), _pos(3, 4, seed=1)]),
    # --- pairwise ---
    "dist": (lambda T, a, b: T.dist(a, b) ** 2 + T.dist(a, b, 3) * a + T.dist(a, b, 1) * b
             + T.dist(a, b, float("inf")) * a + T.dist(a, b, 0.5) * b, [(2, 3), (3,)]),
    "cdist p=2, more than 25 rows": (lambda T, a, b: T.cdist(a, b).sin() * a[..., :1],
                                      [(2, 26, 3), (1, 4, 3)]),
    "renorm p=0.5": (lambda T, a: T.renorm(a, 0.5, 0, 0.8) ** 2, [(3, 4)]),
    "cross": (lambda T, a, b: T.linalg.cross(a, b) ** 2 * a, [(2, 3), (1, 3)]),
    # --- shape and index ---
    "rot90 diag_embed block_diag": (
        lambda T, a, b: (T.rot90(a, 1, (0, 1)) ** 2, T.rot90(a, 3, (1, 0)).sum() * a,
                         T.diag_embed(a, 1).sin(), T.block_diag(a, b).cos().sum() * a),
        [(3, 4), (2, 2)]),
    "narrow_copy put": (lambda T, a, s: (a.narrow_copy(1, 1, 2) ** 2 * a[:, :2],
                                         a.put(_idx(T, [1, 1, 5]), s, accumulate=True) ** 2,
                                         a.put(_idx(T, [0, 4, 11]), s) * a), [(3, 4), (3,)]),
    "scatter views": (lambda T, a, s, d: (T.select_scatter(a, s, 0, 1) ** 2,
                                          T.slice_scatter(a, s.unsqueeze(0), 0, 2, 3) * a,
                                          T.diagonal_scatter(a, d) ** 2),
                      [(3, 4), (4,), (3,)]),
    "pixel and channel shuffle": (lambda T, a: (F(T).pixel_shuffle(a, 2) ** 2,
                                                F(T).pixel_unshuffle(a[..., :2], 2).sin(),
                                                F(T).channel_shuffle(a, 2) ** 2 * a),
                                  [(1, 8, 2, 4)]),
    "max_unpool": (lambda T, a: F(T).max_unpool2d(a, T.tensor([[[[0, 3], [9, 14]]]]), 2,
                                                  output_size=(4, 4)) ** 2, [(1, 1, 2, 2)]),
    # --- factorizations and solves ---
    "pinv": (lambda T, a: (T.linalg.pinv(a) ** 2, T.linalg.pinv(a.transpose(-1, -2)).sin()),
             [_mat(2, 3, 4)]),
    "matrix_exp": (lambda T, a: T.linalg.matrix_exp(a * 0.5) ** 2, [(2, 3, 3)]),
    "qr tall": (lambda T, a: (lambda q, r: (q ** 2, r ** 2))(*T.linalg.qr(a)), [_mat(4, 3)]),
    "qr wide": (lambda T, a: (lambda q, r: (q.sin(), r ** 2))(*T.linalg.qr(a)), [_mat(3, 4)]),
    # functions of the factors that do not change when a singular or eigen vector flips its
    # sign: the sign LAPACK picks is no part of the math
    "eigh eigvalsh": (lambda T, a: (lambda s: (lambda w, v: (
        w ** 2, v ** 2 * w.unsqueeze(-2), T.linalg.eigvalsh(s).sin()))(*T.linalg.eigh(s)))(
        a + a.transpose(-1, -2)), [_mat(2, 3, 3)]),
    "svd tall": (lambda T, a: (lambda u, s, vh: (u ** 2 * s, (u @ u.mT).sin(), vh ** 2 * a[:3]))(
        *T.linalg.svd(a, full_matrices=False)), [_mat(4, 3)]),
    "svd wide full svdvals": (lambda T, a: (lambda u, s, vh: (
        s ** 2, u.sin() ** 2, vh[:3] ** 3 * vh[:3], T.linalg.svdvals(a).sin()))(
        *T.linalg.svd(a)), [_mat(3, 4)]),
    "triangular_solve": (lambda T, b, a: (T.triangular_solve(b, a).solution ** 2,
                                          T.triangular_solve(b, a, upper=False, transpose=True,
                                                             unitriangular=True).solution.sin()),
                         [(2, 3, 2), _mat(3, 3)]),
    "lu lu_unpack lu_solve": (lambda T, a, b: (lambda lu, piv: (
        lu ** 2, *(t.sin() for t in T.lu_unpack(lu, piv)[1:]), T.lu_solve(b, lu, piv) ** 2))(
        *T.lu(a)), [_mat(3, 3), (3, 2)]),
    "lu wide tall": (lambda T, a: (T.lu(a)[0] ** 2, T.lu(a.t())[0].sin()), [_mat(3, 4)]),
    # --- grid_sample ---
    "grid_sample bilinear": (lambda T, x, g: F(T).grid_sample(x, g, align_corners=False) ** 2,
                             [(1, 2, 3, 4), _unit(1, 2, 3, 2, low=-0.8, high=0.8)]),
    "grid_sample border reflection": (
        lambda T, x, g: (F(T).grid_sample(x, g, padding_mode="border", align_corners=True)
                         .sin(), F(T).grid_sample(x, g, padding_mode="reflection",
                                                  align_corners=False) ** 2,
                         F(T).grid_sample(x, g, mode="nearest", align_corners=False) * 2),
        [(2, 1, 3, 3), _unit(2, 2, 2, 2, low=-1.2, high=1.2)]),
}


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
        elif e is None:
            assert np.allclose(t, 0)
        else:
            np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9)


def _errors(T, fn, x):
    x = T.tensor(x, dtype=T.float64, requires_grad=True)
    (g,) = T.autograd.grad(fn(T, x).sum(), x, create_graph=True)
    with pytest.raises(Exception) as info:
        (g * g).sum().backward()
    return info.type, str(info.value)


@pytest.mark.parametrize("name, fn, shape", [
    ("cdist", lambda T, x: T.cdist(x, x[:2] * 2) ** 2, (3, 2)),
    ("ctc_loss", lambda T, x: F(T).ctc_loss(x.log_softmax(2), T.tensor([[1, 2]]),
                                            T.tensor([5]), T.tensor([2])), (5, 1, 4)),
    ("CrossMapLRN2d", lambda T, x: T.nn.CrossMapLRN2d(3)(x) ** 2, (1, 4, 2, 2)),
])
def test_second_derivative_raises_as_torch(name, fn, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    if name == "CrossMapLRN2d":  # torch raises already at the first backward
        with pytest.raises(RuntimeError, match="out="):
            _errors(torch, fn, x)
        e_type, e_msg = _errors(ember, fn, x)
        assert e_type is RuntimeError and "out=" in e_msg
        return
    assert _errors(ember, fn, x) == _errors(torch, fn, x)


def test_two_zeros_reduced_into_one_place_raise_as_torch():
    a, s = _pos(2, 3), _with(_pos(2, 3, seed=1), [(0, 1), (1, 1)], 0.0)

    def scatter(T, y):
        return T.tensor(a).scatter_reduce(0, T.tensor([[0, 0, 0], [1, 0, 1]]), y, "prod") ** 2

    def index(T, y):
        return T.tensor(a).index_reduce(0, T.tensor([1, 1]), y, "prod") ** 2

    for fn in (scatter, index):
        e_type, e_msg = _errors(ember, fn, s)
        t_type, t_msg = _errors(torch, fn, s)
        assert (e_type, e_msg) == (t_type, t_msg)


def test_heaviside_and_igamma_input_raise_as_torch():
    for T in (ember, torch):
        a = T.tensor([[0.5, -1.0]], dtype=T.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="derivative for aten::heaviside"):
            T.autograd.grad(T.heaviside(a, a).sum(), a, create_graph=True)
        with pytest.raises(NotImplementedError, match="igamma: input"):
            T.autograd.grad(T.igamma(a.abs(), a.abs()).sum(), a, create_graph=True)
