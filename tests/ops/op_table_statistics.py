"""Op-table rows for ``ember/ops/statistics.py`` (see ``tests/ops/op_table.py`` for the format:
each row is checked by finite differences and against torch).

Uniform random inputs hold no ties, so max/min/median/mode-like rows have one smooth branch;
ties, indices, integer dtypes and errors are in ``tests/oracle/test_statistics_oracle.py``.
"""
from __future__ import annotations

import numpy as np

from tests.ops.op_table import case

SCATTER_IDX = np.array([[0, 2, 0, 1], [2, 2, 1, 2]])  # (2, 4) into dim 0 of a (3, 4) input
SCATTER_IDX1 = np.array([[0, 0], [2, 1], [1, 1]])  # (3, 2) into dim 1 of a (3, 4) input
FWEIGHTS = np.array([1, 2, 1, 3, 1])
NANS = np.array([[0.0, np.nan, 0.0, 0.0], [np.nan, 0.0, 0.0, np.nan], [0.0, 0.0, 0.0, 0.0]])


def _with_nans(m, a):
    return a + m.tensor(NANS, dtype=a.dtype)  # the gradient still reaches every element


def _q(m, a, values):
    return m.tensor(values, dtype=a.dtype)


def _scatter(reduce, include_self=True, dim=0, idx=SCATTER_IDX):
    return lambda m, a, s: m.scatter_reduce(a, dim, m.tensor(idx), s, reduce,
                                            include_self=include_self)


ROWS: list = [
    # --- NaN-aware reductions (no NaN in the samples: the plain sum's gradient) -------------
    case("nansum", lambda m, a: m.nansum(a), ((3, 4),)),
    case("nansum_dim_keepdim", lambda m, a: a.nansum(1, keepdim=True), ((3, 4),)),
    case("nansum_with_nan", lambda m, a: m.nansum(_with_nans(m, a), 0), ((3, 4),)),
    case("nanmean_dim", lambda m, a: m.nanmean(a, dim=0), ((3, 4),)),
    case("nanmean_with_nan", lambda m, a: m.nanmean(_with_nans(m, a), 1), ((3, 4),)),
    case("nanmedian_with_nan", lambda m, a: m.nanmedian(_with_nans(m, a), 1), ((3, 4),)),
    case("nanmedian_all_with_nan", lambda m, a: m.nanmedian(_with_nans(m, a)), ((3, 4),)),
    case("nanquantile_with_nan", lambda m, a: m.nanquantile(_with_nans(m, a), 0.3, dim=1),
         ((3, 4),)),
    # --- aminmax, running max / min / logsumexp -----------------------------------------------
    case("aminmax", lambda m, a: m.aminmax(a), ((3, 4),)),
    case("aminmax_dim_keepdim", lambda m, a: a.aminmax(dim=1, keepdim=True), ((3, 4),)),
    case("aminmax_scalar_shape", lambda m, a: m.aminmax(a), ((),)),
    case("cummax_dim1", lambda m, a: m.cummax(a, 1), ((3, 5),)),
    case("cummin_dim0", lambda m, a: a.cummin(0), ((4, 3),)),
    case("cummax_scalar_shape", lambda m, a: m.cummax(a, 0), ((),)),
    case("cummin_negative_dim", lambda m, a: m.cummin(a, -1), ((2, 3, 4),)),
    case("logcumsumexp_dim1", lambda m, a: m.logcumsumexp(a, 1), ((3, 5),)),
    case("logcumsumexp_dim0_wide", lambda m, a: a.logcumsumexp(0), ((6, 2),), -20.0, 20.0),
    case("logcumsumexp_scalar_shape", lambda m, a: m.logcumsumexp(a, 0), ((),)),
    # --- order statistics -------------------------------------------------------------------
    case("median_all_odd", lambda m, a: m.median(a), ((3, 5),)),
    case("median_all_even", lambda m, a: a.median(), ((3, 4),)),
    case("median_dim", lambda m, a: m.median(a, 1), ((3, 4),)),
    case("median_dim_keepdim", lambda m, a: a.median(0, keepdim=True), ((5, 3),)),
    case("median_scalar_shape", lambda m, a: m.median(a, 0), ((),)),
    case("nanmedian_all", lambda m, a: m.nanmedian(a), ((3, 4),)),
    case("nanmedian_dim", lambda m, a: a.nanmedian(1), ((3, 5),)),
    case("quantile_scalar_q", lambda m, a: m.quantile(a, 0.3), ((3, 4),)),
    case("quantile_dim", lambda m, a: a.quantile(0.75, dim=1), ((3, 5),)),
    case("quantile_tensor_q_keepdim",
         lambda m, a: m.quantile(a, _q(m, a, [0.1, 0.5, 0.9]), dim=0, keepdim=True), ((4, 3),)),
    case("quantile_tensor_q_all", lambda m, a: m.quantile(a, _q(m, a, [0.25, 1.0])), ((2, 3),)),
    case("quantile_lower", lambda m, a: m.quantile(a, 0.4, 1, interpolation="lower"), ((3, 5),)),
    case("quantile_higher", lambda m, a: m.quantile(a, 0.4, 1, interpolation="higher"),
         ((3, 5),)),
    case("quantile_midpoint", lambda m, a: m.quantile(a, 0.3, 0, interpolation="midpoint"),
         ((4, 3),)),
    case("quantile_nearest", lambda m, a: m.quantile(a, _q(m, a, [0.2, 0.6]), 1,
                                                     interpolation="nearest"), ((3, 6),)),
    case("quantile_scalar_shape", lambda m, a: m.quantile(a, 0.5), ((),)),
    case("nanquantile_dim", lambda m, a: m.nanquantile(a, 0.6, dim=1), ((3, 4),)),
    case("mode_dim", lambda m, a: m.mode(a, 1), ((3, 4),)),
    case("mode_keepdim", lambda m, a: a.mode(0, keepdim=True), ((3, 4),)),
    # --- scatter_reduce -----------------------------------------------------------------------
    case("scatter_reduce_sum", _scatter("sum"), ((3, 4), (2, 4))),
    case("scatter_reduce_sum_exclude_self", _scatter("sum", False), ((3, 4), (2, 4))),
    case("scatter_reduce_prod", _scatter("prod"), ((3, 4), (2, 4))),
    case("scatter_reduce_prod_exclude_self", _scatter("prod", False), ((3, 4), (2, 4))),
    case("scatter_reduce_mean", _scatter("mean"), ((3, 4), (2, 4))),
    case("scatter_reduce_mean_exclude_self", _scatter("mean", False), ((3, 4), (2, 4))),
    case("scatter_reduce_amax", _scatter("amax"), ((3, 4), (2, 4))),
    case("scatter_reduce_amin_exclude_self", _scatter("amin", False), ((3, 4), (2, 4))),
    # torch's own backward fails when src is wider than index: compare values only
    case("scatter_reduce_dim1_larger_src", _scatter("amax", True, 1, SCATTER_IDX1),
         ((3, 4), (3, 3)), torch_grad=False),
    case("scatter_reduce_method_mean", lambda m, a, s: a.scatter_reduce(
        1, m.tensor(SCATTER_IDX1), s, "mean", include_self=False), ((3, 4), (3, 2))),
    # --- distances and cross products ---------------------------------------------------------
    case("dist", lambda m, a, b: m.dist(a, b), ((3, 4), (3, 4))),
    case("dist_broadcast_p1", lambda m, a, b: a.dist(b, 1), ((3, 4), (4,))),
    case("dist_p3", lambda m, a, b: m.dist(a, b, p=3), ((2, 3), (2, 3))),
    case("dist_p_half", lambda m, a, b: m.dist(a, b, p=0.5), ((2, 3), (2, 3))),
    case("dist_inf", lambda m, a, b: m.dist(a, b, p=float("inf")), ((2, 3), (3,))),
    case("cdist", lambda m, a, b: m.cdist(a, b), ((3, 4), (5, 4))),
    case("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1), ((3, 2), (2, 2))),
    case("cdist_p3_batch_broadcast", lambda m, a, b: m.cdist(a, b, p=3), ((2, 3, 4), (5, 4))),
    case("cdist_inf", lambda m, a, b: m.cdist(a, b, p=float("inf")), ((2, 3), (4, 3))),
    case("cdist_p_half_batched", lambda m, a, b: m.cdist(a, b, p=0.5),
         ((2, 1, 3, 2), (3, 2, 2))),
    case("cross_dim1", lambda m, a, b: m.cross(a, b, dim=1), ((4, 3), (4, 3))),
    case("cross_broadcast", lambda m, a, b: a.cross(b, dim=-1), ((2, 4, 3), (1, 4, 3))),
    case("cross_dim0", lambda m, a, b: m.cross(a, b, dim=0), ((3, 2), (3, 1))),
    # --- covariance ---------------------------------------------------------------------------
    case("cov", lambda m, a: m.cov(a), ((3, 5),)),
    case("cov_1d_correction0", lambda m, a: a.cov(correction=0), ((6,),)),
    case("cov_fweights", lambda m, a: m.cov(a, fweights=m.tensor(FWEIGHTS)), ((2, 5),)),
    case("cov_aweights", lambda m, a, w: m.cov(a, fweights=m.tensor(FWEIGHTS),
                                               aweights=w.abs() + 0.1), ((3, 5), (5,))),
    case("corrcoef", lambda m, a: m.corrcoef(a), ((3, 5),)),
    case("corrcoef_1d", lambda m, a: a.corrcoef(), ((5,),)),
]
