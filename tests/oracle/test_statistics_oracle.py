"""ember's statistics ops against torch where the op table cannot go: index outputs, ties
(values and the gradient's subgradient choice), integer and bool dtypes, named-tuple fields,
empty inputs and errors. Skipped without torch."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

NAN = float("nan")
TIES = [2., 2., 7., 3., 1., 2., 2., 5.]
TIES_2D = [[2., 2., 2., 3., 1., 2.], [5., 2., 2., 3., 1., 2.], [1., 1., 4., 4., 0., 9.]]
WITH_NAN = [[2., NAN, 7., 3., 1., 2., 2., 5.], [NAN, 1., 1., NAN, 0., 3., 3., 4.]]
INTS = [[3, 1, 2, 3], [0, 5, 5, 2]]


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _dtype(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _compare(out, t_out, name):
    outs, t_outs = _outputs(out), _outputs(t_out)
    assert len(outs) == len(t_outs), f"{name}: {len(outs)} outputs, torch {len(t_outs)}"
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert _dtype(o) == _dtype(t), f"{name} output {k}: dtype {o.dtype} vs {t.dtype}"
        assert tuple(o.shape) == tuple(t.shape), f"{name} output {k}: shape"
        assert_close(o, t, msg=f"{name} output {k}")
    if hasattr(t_out, "__match_args__"):  # a named tuple (torch.return_types)
        assert type(out).__name__ == type(t_out).__name__.rsplit(".", 1)[-1]
        assert tuple(out.__match_args__) == tuple(t_out.__match_args__), name


# (name, f(m)): values, dtypes, shapes and named-tuple fields compared with torch
CALLS = {
    "median_ties": lambda m: m.median(m.tensor(TIES)),
    "median_dim_ties": lambda m: m.median(m.tensor(TIES_2D), 1),
    "median_dim_keepdim_ties": lambda m: m.tensor(TIES_2D).median(0, keepdim=True),
    "median_int": lambda m: m.median(m.tensor([3, 1, 2, 4])),
    "median_int_dim": lambda m: m.median(m.tensor(INTS), 1),
    "median_nan": lambda m: m.median(m.tensor(WITH_NAN)),
    "median_dim_nan": lambda m: m.median(m.tensor(WITH_NAN), 1),
    "median_empty": lambda m: m.median(m.tensor([])),
    "median_empty_rows": lambda m: m.median(m.zeros(0, 2), 1),
    "nanmedian_nan": lambda m: m.nanmedian(m.tensor(WITH_NAN)),
    "nanmedian_dim_nan": lambda m: m.nanmedian(m.tensor(WITH_NAN), 1),
    "nanmedian_empty": lambda m: m.nanmedian(m.tensor([])),
    "mode_ties": lambda m: m.mode(m.tensor(TIES_2D)),
    "mode_count_tie_smallest": lambda m: m.mode(m.tensor([2., 1., 2., 1., 5.])),
    "mode_int_keepdim": lambda m: m.mode(m.tensor(INTS), 1, keepdim=True),
    "mode_bool": lambda m: m.mode(m.tensor([True, False, True])),
    "mode_scalar": lambda m: m.mode(m.tensor(2.)),
    "aminmax_int": lambda m: m.aminmax(m.tensor(INTS)),
    "aminmax_dim": lambda m: m.aminmax(m.tensor(INTS), dim=0),
    "aminmax_keepdim_all": lambda m: m.aminmax(m.tensor(TIES_2D), keepdim=True),
    "aminmax_scalar_dim": lambda m: m.aminmax(m.tensor(2.), dim=0),
    "cummax_ties": lambda m: m.cummax(m.tensor([1., 3., 3., 2., 3., 1.]), 0),
    "cummin_ties": lambda m: m.cummin(m.tensor([1., 3., 3., 2., 3., 1.]), 0),
    "cummax_nan": lambda m: m.cummax(m.tensor([1., NAN, 2., NAN, 0.]), 0),
    "cummin_int32": lambda m: m.cummin(m.tensor(INTS, dtype=m.int32), 1),
    "cummax_bool": lambda m: m.cummax(m.tensor([False, True, False]), 0),
    "cummax_empty": lambda m: m.cummax(m.zeros(2, 0), 1),
    "cummin_scalar": lambda m: m.cummin(m.tensor(3.), 0),
    "logcumsumexp_neg_inf": lambda m: m.logcumsumexp(m.tensor([-float("inf"), 0., -1e4]), 0),
    "nansum_int": lambda m: m.nansum(m.tensor(INTS, dtype=m.int32), 1),
    "nansum_bool": lambda m: m.nansum(m.tensor([True, True, False])),
    "nansum_dtype": lambda m: m.nansum(m.tensor([1., NAN, 2.]), dtype=m.float64),
    "nanmean_all_nan_row": lambda m: m.nanmean(m.tensor([[NAN, NAN], [2., 3.]]), 1),
    "quantile_interpolations": lambda m: tuple(
        m.quantile(m.tensor([0., 1., 2., 3.]), m.tensor([0.1, 0.5, 0.5 + 1 / 6, 0.7, 5 / 6]),
                   interpolation=i) for i in ("linear", "lower", "higher", "midpoint",
                                              "nearest")),
    "quantile_nan": lambda m: m.quantile(m.tensor(WITH_NAN), 0.5, dim=1),
    "nanquantile_nan": lambda m: m.nanquantile(m.tensor(WITH_NAN), m.tensor([0.2, 0.9]), 1),
    "nanquantile_all_nan": lambda m: m.nanquantile(m.tensor([NAN, NAN]), 0.5),
    "quantile_keepdim_all": lambda m: m.quantile(m.tensor(TIES_2D), m.tensor([0.2, 0.6]),
                                                 keepdim=True),
    "quantile_float64": lambda m: m.quantile(m.tensor(TIES, dtype=m.float64), 0.35),
    "scatter_reduce_int_mean": lambda m: m.scatter_reduce(
        m.tensor([-5, 3, 1]), 0, m.tensor([0, 0, 2]), m.tensor([2, 2, 2]), "mean"),
    "scatter_reduce_int_mean_exclude": lambda m: m.tensor([5, 3, 1]).scatter_reduce(
        0, m.tensor([0, 0, 2]), m.tensor([2, 2, 2]), "mean", include_self=False),
    "scatter_reduce_amax_nan": lambda m: m.scatter_reduce(
        m.tensor([0., 3., 1.]), 0, m.tensor([0, 0, 2]), m.tensor([2., NAN, 2.]), "amax"),
    "scatter_reduce_prod_exclude": lambda m: m.scatter_reduce(
        m.tensor([0., 3., 1.]), 0, m.tensor([0, 0, 2]), m.tensor([2., 0., 2.]), "prod",
        include_self=False),
    "scatter_reduce_int_amin_exclude": lambda m: m.scatter_reduce(
        m.tensor([4, 3, 1]), 0, m.tensor([0, 2]), m.tensor([7, 9]), "amin", include_self=False),
    "bincount": lambda m: m.bincount(m.tensor([1, 3, 1])),
    "bincount_minlength": lambda m: m.tensor([1, 3, 1], dtype=m.uint8).bincount(minlength=6),
    "bincount_float32_weights": lambda m: m.bincount(m.tensor([1, 3, 1]),
                                                     m.tensor([.5, 1., 2.])),
    "bincount_int_weights": lambda m: m.bincount(m.tensor([1, 3, 1]), m.tensor([1, 2, 3])),
    "bincount_empty": lambda m: m.bincount(m.tensor([], dtype=m.int64), minlength=3),
    "histc_method": lambda m: m.tensor([1., 2., 1., 4.]).histc(bins=4, min=0, max=4),
    "unique": lambda m: m.unique(m.tensor([3, 1, 2, 3, 1]), return_inverse=True,
                                 return_counts=True),
    "unique_2d_inverse": lambda m: m.tensor([[2, 1], [1, 2]]).unique(return_inverse=True),
    "unique_scalar": lambda m: m.unique(m.tensor(3), return_inverse=True),
    "unique_dim0": lambda m: m.unique(m.tensor([[1, 2], [1, 2], [0, 5]]), dim=0,
                                      return_inverse=True, return_counts=True),
    "unique_dim1": lambda m: m.unique(m.tensor([[1, 0, 1], [2, 4, 2]]), dim=1,
                                      return_counts=True),
    "unique_float_nan": lambda m: m.unique(m.tensor([2., NAN, NAN, 1.]), return_counts=True),
    "unique_bool": lambda m: m.unique(m.tensor([True, False, True])),
    "unique_consecutive": lambda m: m.unique_consecutive(
        m.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True),
    "unique_consecutive_2d": lambda m: m.tensor([[1, 2], [1, 2]]).unique_consecutive(
        return_inverse=True),
    "unique_consecutive_dim0": lambda m: m.unique_consecutive(
        m.tensor([[1, 2], [1, 2], [3, 4], [1, 2]]), dim=0, return_inverse=True,
        return_counts=True),
    "cross_int": lambda m: m.cross(m.tensor([[1, 0, 0]]), m.tensor([[0, 1, 0]]), dim=1),
    "cross_default_dim": lambda m: m.cross(m.tensor([[1., 2.], [0., 1.], [3., 0.]]),
                                           m.tensor([[0., 1.], [1., 0.], [2., 2.]])),
    "cov_int": lambda m: m.cov(m.tensor([1, 2, 4])),
    "cov_weights": lambda m: m.cov(m.tensor([[1., 2., 4.], [0., 1., 1.]]),
                                   fweights=m.tensor([1, 2, 1]),
                                   aweights=m.tensor([0.5, 1., 2.])),
    "cov_one_observation": lambda m: m.cov(m.tensor([1.])),
    "corrcoef_constant_row": lambda m: m.corrcoef(m.tensor([[1., 2., 3.], [2., 2., 2.]])),
    "corrcoef_scalar_result": lambda m: m.corrcoef(m.tensor([1., 2.])),
    "dist_promotes_int": lambda m: m.dist(m.tensor([1, 2]), m.tensor([0., 0.5])),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_matches_torch(name, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _compare(CALLS[name](ember), CALLS[name](torch), name)


# (name, f(m, x), input): gradients where values tie (torch's subgradient choices)
TIE_GRADS = {
    "median_all": (lambda m, x: m.median(x), TIES),
    "median_all_even": (lambda m, x: m.median(x), [1., 2., 2., 3.]),
    "median_dim": (lambda m, x: m.median(x, 1).values, TIES_2D),
    "nanmedian_all": (lambda m, x: m.nanmedian(x), WITH_NAN),
    "nanmedian_dim": (lambda m, x: m.nanmedian(x, 1).values, WITH_NAN),
    "median_all_nan": (lambda m, x: m.median(x), WITH_NAN),
    "mode": (lambda m, x: m.mode(x).values, TIES_2D),
    "aminmax": (lambda m, x: sum(m.aminmax(x)), TIES_2D),
    "aminmax_dim": (lambda m, x: m.aminmax(x, dim=1).max * 3 + m.aminmax(x, dim=1).min,
                    TIES_2D),
    "aminmax_max_only": (lambda m, x: m.aminmax(x, dim=0).max, TIES_2D),
    "cummax": (lambda m, x: m.cummax(x, 1).values, TIES_2D),
    "cummin": (lambda m, x: m.cummin(x, 0).values, TIES_2D),
    "quantile": (lambda m, x: m.quantile(x, 0.5, dim=1), TIES_2D),
    "quantile_nearest": (lambda m, x: m.quantile(x, 0.4, interpolation="nearest"), TIES),
    "quantile_midpoint": (lambda m, x: m.quantile(x, 0.4, 1, interpolation="midpoint"),
                          TIES_2D),
    "scatter_reduce_amax_ties": (lambda m, x: m.scatter_reduce(
        m.tensor([3., 0., 4.]), 0, m.tensor([0, 0, 0, 1, 2]), x, "amax"), [3., 1., 3., 2., 5.]),
    "scatter_reduce_prod_zeros": (lambda m, x: m.scatter_reduce(
        m.tensor([0., 2., 0., 3.]), 0, m.tensor([0, 1, 1, 2, 3, 3]), x, "prod"),
        [0., 3., 5., 0., 0., 2.]),
    "scatter_reduce_mean_exclude": (lambda m, x: m.scatter_reduce(
        m.tensor([3., 0., 4.]), 0, m.tensor([0, 0, 0, 1, 2]), x, "mean", include_self=False),
        [3., 1., 3., 2., 5.]),
    "dist_inf_ties": (lambda m, x: m.dist(x, m.zeros(3), p=float("inf")), [1., -3., 3.]),
    "dist_zero": (lambda m, x: m.dist(x, m.tensor([1., -3., 3.])), [1., -3., 3.]),
    "dist_p_half_zero_diff": (lambda m, x: m.dist(x, m.tensor([1., 0., 0.]), p=0.5),
                              [1., -3., 3.]),
    "cdist_inf_ties": (lambda m, x: m.cdist(x, m.tensor([[1., -1.], [0., 0.]]),
                                            p=float("inf")), [[0., 0.]]),
    "cdist_zero_distance": (lambda m, x: m.cdist(x, m.tensor([[1., -1.], [0., 0.]]),
                                                 p=1.5), [[0., 0.]]),
    "logcumsumexp_neg_inf": (lambda m, x: m.logcumsumexp(x, 0), [-float("inf"), 0., 1.]),
}


@pytest.mark.parametrize("name", sorted(TIE_GRADS))
def test_tie_gradients_match_torch(name, torch):
    f, data = TIE_GRADS[name]
    x = ember.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    out, t_out = f(ember, x), f(torch, tx)
    assert_close(out, t_out, msg=f"{name} value")
    w = np.linspace(0.5, 2.0, max(int(np.prod(tuple(t_out.shape))), 1)).astype(np.float32)
    w = w.reshape(tuple(t_out.shape))
    (out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    assert_close(x.grad, tx.grad, msg=f"{name} grad")


NODE_NAMES = {
    "median": lambda m, x: m.median(x), "median_dim": lambda m, x: m.median(x, 1).values,
    "nanmedian": lambda m, x: m.nanmedian(x), "nanmedian_dim": lambda m, x: x.nanmedian(0)[0],
    "mode": lambda m, x: m.mode(x).values, "aminmax": lambda m, x: m.aminmax(x).min,
    "cummax": lambda m, x: m.cummax(x, 1).values, "cummin": lambda m, x: m.cummin(x, 1)[0],
    "logcumsumexp": lambda m, x: m.logcumsumexp(x, 0), "nansum": lambda m, x: m.nansum(x),
    "nanmean": lambda m, x: m.nanmean(x), "dist": lambda m, x: m.dist(x, x * 2),
    "cdist": lambda m, x: m.cdist(x, x), "cross": lambda m, x: m.cross(x, x * 2, dim=1),
    "scatter_reduce": lambda m, x: x.scatter_reduce(0, m.tensor([[0, 1, 0]]), x, "amax"),
}


@pytest.mark.parametrize("name", sorted(NODE_NAMES))
def test_node_names_match_torch(name, torch):
    data = np.arange(9, dtype=np.float32).reshape(3, 3) / 4
    out = NODE_NAMES[name](ember, ember.tensor(data, requires_grad=True))
    t_out = NODE_NAMES[name](torch, torch.tensor(data, requires_grad=True))
    assert out.grad_fn.name() == t_out.grad_fn.name()


def test_index_outputs_need_no_grad():
    x = ember.tensor([[1., 3., 2.]], requires_grad=True)
    for values, indices in (ember.median(x, 1), ember.mode(x), ember.cummax(x, 1),
                            ember.cummin(x, 1), ember.nanmedian(x, 1)):
        assert values.requires_grad and not indices.requires_grad
        assert indices.dtype == ember.int64


def test_scatter_reduce_inplace_matches_torch(torch):
    results = []
    for m in (ember, torch):
        x = m.tensor([3., 0., 4.], requires_grad=True)
        src = m.tensor([3., 1., 3., 2., 5.], requires_grad=True)
        y = x * 1
        y.scatter_reduce_(0, m.tensor([0, 0, 0, 1, 2]), src, "prod", include_self=False)
        (y * m.tensor([1., 2., 3.])).sum().backward()
        results.append((y, x.grad, src.grad))
    for a, b in zip(*results):
        assert_close(a, b)


def test_cross_without_dim_warns():
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        ember.cross(ember.ones(3, 2), ember.ones(3, 2))


# (name, f(m)): exception type and message compared with torch
ERRORS = {
    "median_bool": lambda m: m.median(m.tensor([True, False])),
    "median_bool_dim": lambda m: m.median(m.tensor([True, False]), 0),
    "median_empty_dim": lambda m: m.median(m.zeros(2, 0), 1),
    "median_bad_dim": lambda m: m.median(m.zeros(3), 1),
    "mode_empty_dim": lambda m: m.mode(m.zeros(2, 0), 1),
    "mode_bad_dim": lambda m: m.mode(m.zeros(3), 1),
    "quantile_q_range": lambda m: m.quantile(m.tensor([1., 2.]), 1.5),
    "quantile_q_tensor_range": lambda m: m.quantile(m.tensor([1., 2.]), m.tensor([0.5, -1.])),
    "quantile_int_input": lambda m: m.quantile(m.tensor([1, 2]), 0.5),
    "quantile_interpolation": lambda m: m.quantile(m.tensor([1., 2.]), 0.5,
                                                   interpolation="foo"),
    "quantile_empty": lambda m: m.quantile(m.tensor([]), 0.5),
    "quantile_q_2d": lambda m: m.quantile(m.tensor([1., 2.]), m.tensor([[0.5]])),
    "quantile_q_dtype": lambda m: m.quantile(m.tensor([1., 2.]),
                                             m.tensor([0.5], dtype=m.float64)),
    "quantile_bad_dim": lambda m: m.quantile(m.tensor([1., 2.]), 0.5, dim=3),
    "scatter_reduce_bad_reduce": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([0]), m.tensor([1.]), "foo"),
    "scatter_reduce_out_of_bounds": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([5]), m.tensor([1.]), "sum"),
    "scatter_reduce_negative_index": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([-1]), m.tensor([1.]), "sum"),
    "scatter_reduce_float_index": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([0.]), m.tensor([1.]), "sum"),
    "scatter_reduce_dtype": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([0]), m.tensor([1.], dtype=m.float64), "sum"),
    "scatter_reduce_ndim": lambda m: m.scatter_reduce(
        m.zeros(3, 2), 0, m.tensor([0]), m.tensor([1.]), "sum"),
    "scatter_reduce_index_too_big": lambda m: m.scatter_reduce(
        m.zeros(3), 0, m.tensor([0, 1, 2, 0]), m.tensor([1., 2.]), "sum"),
    "bincount_negative": lambda m: m.bincount(m.tensor([-1, 2])),
    "bincount_float": lambda m: m.bincount(m.tensor([1., 2.])),
    "bincount_bool": lambda m: m.bincount(m.tensor([True, False])),
    "bincount_2d": lambda m: m.bincount(m.tensor([[1, 2]])),
    "bincount_minlength": lambda m: m.bincount(m.tensor([1, 2]), minlength=-1),
    "bincount_weights": lambda m: m.bincount(m.tensor([1, 2]), weights=m.tensor([1.])),
    "cross_no_size_3": lambda m: m.cross(m.zeros(2, 2), m.zeros(2, 2)),
    "cross_wrong_length": lambda m: m.cross(m.zeros(3, 2), m.zeros(3, 2), dim=1),
    "cross_broadcast": lambda m: m.cross(m.zeros(3, 3), m.zeros(2, 3), dim=1),
    "cross_dtypes": lambda m: m.cross(m.tensor([[1, 0, 0]]), m.tensor([[0., 1, 0]]), dim=1),
    "cross_ndim": lambda m: m.cross(m.zeros(2, 3), m.zeros(3), dim=-1),
    "cross_bad_dim": lambda m: m.cross(m.zeros(2, 3), m.zeros(2, 3), dim=2),
    "cdist_1d": lambda m: m.cdist(m.zeros(3), m.zeros(3)),
    "cdist_columns": lambda m: m.cdist(m.zeros(3, 2), m.zeros(3, 4)),
    "cdist_negative_p": lambda m: m.cdist(m.zeros(3, 2), m.zeros(3, 2), p=-1),
    "cdist_int": lambda m: m.cdist(m.zeros(3, 2, dtype=m.int64), m.zeros(3, 2, dtype=m.int64)),
    "dist_shapes": lambda m: m.dist(m.zeros(3), m.zeros(2)),
    "dist_int": lambda m: m.dist(m.tensor([1, 2]), m.tensor([0, 0])),
    "aminmax_empty": lambda m: m.aminmax(m.tensor([])),
    "aminmax_empty_dim": lambda m: m.aminmax(m.zeros(2, 0), dim=1),
    "aminmax_tuple_dim": lambda m: m.aminmax(m.zeros(2, 3), dim=(0, 1)),
    "aminmax_scalar_bad_dim": lambda m: m.aminmax(m.tensor(3.), dim=1),
    "cummax_scalar_bad_dim": lambda m: m.cummax(m.tensor(3.), 1),
    "cummin_bad_dim": lambda m: m.cummin(m.zeros(3), 1),
    "logcumsumexp_int": lambda m: m.logcumsumexp(m.tensor([1, 2]), 0),
    "logcumsumexp_bool": lambda m: m.logcumsumexp(m.tensor([True]), 0),
    "nanmean_int": lambda m: m.nanmean(m.tensor([1, 2])),
    "cov_3d": lambda m: m.cov(m.zeros(2, 2, 2)),
    "cov_bool": lambda m: m.cov(m.tensor([True, False])),
    "cov_fweights_float": lambda m: m.cov(m.zeros(2, 3), fweights=m.tensor([1., 2., 3.])),
    "cov_aweights_numel": lambda m: m.cov(m.zeros(2, 3), aweights=m.tensor([1., 2.])),
    "cov_negative_fweights": lambda m: m.cov(m.zeros(2, 2), fweights=m.tensor([1, -2])),
    "cov_zero_weights": lambda m: m.cov(m.zeros(2, 2), aweights=m.tensor([0., 0.])),
    "corrcoef_3d": lambda m: m.corrcoef(m.zeros(2, 2, 2)),
    "unique_bad_dim": lambda m: m.unique(m.zeros(2, 3), dim=2),
    "unique_consecutive_bad_dim": lambda m: m.unique_consecutive(m.zeros(2, 3), dim=2),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name, torch):
    with pytest.raises(Exception) as t_err:
        ERRORS[name](torch)
    with pytest.raises(Exception) as e_err:
        ERRORS[name](ember)
    assert type(e_err.value).__name__ == type(t_err.value).__name__, (name, e_err.value)
    assert str(e_err.value).splitlines()[0] == str(t_err.value).splitlines()[0]


def test_named_tuple_fields():
    x = ember.tensor([[1., 2.], [3., 0.]])
    assert ember.aminmax(x).__match_args__ == ("min", "max")
    for result in (x.median(0), x.nanmedian(0), x.mode(0), x.cummax(0), x.cummin(0)):
        assert result.__match_args__ == ("values", "indices")
    assert to_numpy(ember.median(x, 0).indices).tolist() == [0, 1]
