"""Unary ops and reductions over 11 dtypes and four shapes (0-d, 1-d, 2-d, empty) against
torch: the result's dtype, shape and values, or the error's type and message."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

# the sweep meets many of torch's (and ember's matching) warnings on purpose
pytestmark = pytest.mark.filterwarnings("ignore")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
DATA = {"0d": -2, "1d": [-2, 0, 3], "2d": [[1, -2, 0], [3, 4, -1]], "empty": []}


def _make(T, dt, kind):  # noqa: N803  (T: the torch or ember module)
    t = T.tensor(DATA[kind])
    return t > 0 if dt == "bool" else t.to(getattr(T, dt))


def _outcome(T, f, x):  # noqa: N803
    try:
        r = f(T, x)
    except Exception as e:  # noqa: BLE001  (every error is an outcome to compare)
        return ("err", type(e).__name__, str(e)[:100])
    rs = r if isinstance(r, tuple) else (r,)
    return ("ok",) + tuple((str(t.dtype).split(".")[-1], tuple(t.shape),
                            np.asarray(t.detach().to(T.complex128)).tolist()) for t in rs)


def _same(t, e):
    if t[0] != e[0] or len(t) != len(e):
        return False
    if t[0] == "err":
        return t[1:] == e[1:]
    for (td, ts, tv), (ed, es, ev) in zip(t[1:], e[1:]):
        if td != ed or ts != es or not np.allclose(np.array(tv), np.array(ev), equal_nan=True,
                                                   rtol=1e-3, atol=1e-6):
            return False
    return True


def _sweep(fns, dtypes=DTYPES):
    bad = []
    for name, f in fns.items():
        for dt in dtypes:
            for kind in DATA:
                t = _outcome(torch, f, _make(torch, dt, kind))
                if t[0] == "err" and ("ComplexHalf" in t[2] or "omplex32" in t[2]):
                    continue
                e = _outcome(ember, f, _make(ember, dt, kind))
                if not _same(t, e):
                    bad.append((name, dt, kind, t, e))
    return bad


def test_softmax_family_of_every_dtype():
    fns = {"softmax": lambda T, x: T.softmax(x, 0), "softmax_last": lambda T, x: T.softmax(x, -1),
           "log_softmax": lambda T, x: T.log_softmax(x, 0),
           "F.softmax": lambda T, x: T.nn.functional.softmax(x, 0),
           "F.log_softmax": lambda T, x: T.nn.functional.log_softmax(x, -1),
           "softmax_f64": lambda T, x: T.softmax(x, 0, dtype=T.float64),
           "logsumexp": lambda T, x: T.logsumexp(x, 0)}
    assert _sweep(fns) == []


def test_max_min_family_of_every_dtype():
    fns = {"max": lambda T, x: T.max(x), "min": lambda T, x: T.min(x),
           "max_d": lambda T, x: T.max(x, 0), "min_d": lambda T, x: T.min(x, -1),
           "amax": lambda T, x: T.amax(x), "amin": lambda T, x: T.amin(x),
           "amax_d": lambda T, x: T.amax(x, -1), "aminmax": lambda T, x: T.aminmax(x),
           "aminmax_d": lambda T, x: T.aminmax(x, dim=0), "argmax": lambda T, x: T.argmax(x),
           "argmin": lambda T, x: T.argmin(x), "argmin_d": lambda T, x: T.argmin(x, 0),
           "cummax": lambda T, x: T.cummax(x, 0), "cummin": lambda T, x: T.cummin(x, -1)}
    assert _sweep(fns) == []


def test_order_statistics_of_every_dtype():
    fns = {"median": lambda T, x: T.median(x), "median_d": lambda T, x: T.median(x, 0),
           "nanmedian": lambda T, x: T.nanmedian(x),
           "nanmedian_d": lambda T, x: T.nanmedian(x, -1),
           "mode": lambda T, x: T.mode(x), "mode_0": lambda T, x: T.mode(x, 0),
           "kthvalue": lambda T, x: T.kthvalue(x, 1),
           "quantile": lambda T, x: T.quantile(x, 0.5),
           "nanquantile": lambda T, x: T.nanquantile(x, 0.25),
           "sort": lambda T, x: T.sort(x, descending=True),
           "argsort": lambda T, x: T.argsort(x, stable=True),
           "topk": lambda T, x: T.topk(x, 1, largest=False), "msort": lambda T, x: T.msort(x),
           "unique": lambda T, x: T.unique(x),
           "unique_consecutive": lambda T, x: T.unique_consecutive(x, return_counts=True),
           "searchsorted": lambda T, x: T.searchsorted(T.sort(x.flatten())[0], x)}
    assert _sweep(fns) == []


def test_sums_and_means_of_every_dtype():
    fns = {"sum": lambda T, x: T.sum(x), "sum_d": lambda T, x: x.sum(0),
           "sum_f64": lambda T, x: T.sum(x, dtype=T.float64),
           "prod": lambda T, x: T.prod(x), "prod_i64": lambda T, x: T.prod(x, dtype=T.int64),
           "prod_d": lambda T, x: T.prod(x, 0, dtype=T.float64),
           "cumsum": lambda T, x: T.cumsum(x, 0),
           "cumsum_f64": lambda T, x: T.cumsum(x, 0, dtype=T.float64),
           "cumprod_i64": lambda T, x: T.cumprod(x, 0, dtype=T.int64),
           "mean": lambda T, x: T.mean(x), "mean_f64": lambda T, x: T.mean(x, dtype=T.float64),
           "nansum": lambda T, x: T.nansum(x), "nanmean": lambda T, x: T.nanmean(x),
           "logcumsumexp": lambda T, x: T.logcumsumexp(x, 0),
           "count_nonzero_d": lambda T, x: T.count_nonzero(x, 0),
           "all_d": lambda T, x: T.all(x, 0), "any_d": lambda T, x: T.any(x, -1)}
    assert _sweep(fns) == []


def test_spread_of_every_dtype():
    fns = {"var": lambda T, x: T.var(x), "std": lambda T, x: T.std(x),
           "var_c0": lambda T, x: T.var(x, correction=0),
           "std_c2": lambda T, x: T.std(x, correction=2),
           "var_d": lambda T, x: T.var(x, 0), "var_mean": lambda T, x: T.var_mean(x),
           "std_mean_d": lambda T, x: T.std_mean(x, -1, correction=0),
           "norm": lambda T, x: T.norm(x), "norm1": lambda T, x: T.norm(x, 1),
           "vector_norm": lambda T, x: T.linalg.vector_norm(x),
           "histc": lambda T, x: T.histc(x), "histc_r": lambda T, x: T.histc(x, 4, -3, 3)}
    assert _sweep(fns) == []


def test_products_and_linalg_of_every_dtype():
    fns = {"matmul": lambda T, x: x @ x if x.dim() < 2 else x @ x.T,
           "dot": lambda T, x: T.dot(x.flatten(), x.flatten()),
           "mv": lambda T, x: T.mv(x.reshape(1, -1), x.flatten()),
           "logdet": lambda T, x: T.logdet(x.reshape(1, 1) if x.numel() == 1
                                           else x[:, :2] if x.dim() == 2 else x),
           "det": lambda T, x: T.det(x.reshape(1, 1) if x.numel() == 1 else x),
           "slogdet": lambda T, x: T.slogdet(x.reshape(1, 1) if x.numel() == 1 else x),
           "inverse": lambda T, x: T.inverse(x.reshape(1, 1) if x.numel() == 1 else x)}
    assert _sweep(fns) == []
