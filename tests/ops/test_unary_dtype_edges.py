"""Unary ops and reductions at the dtype and shape edges: empty and 0-d inputs of integer,
bool, complex and float16 dtypes, where torch checks shapes before dtypes (expected values
and messages taken from torch 2.x)."""
import math

import pytest

import ember


def _empty(dtype, shape=(0,)):
    return ember.zeros(shape, dtype=dtype)


@pytest.mark.parametrize("dtype", [ember.bool, ember.uint8, ember.int32, ember.int64,
                                   ember.complex64, ember.complex128])
@pytest.mark.parametrize("fn", [ember.softmax, ember.log_softmax, ember.nn.functional.softmax,
                                ember.nn.functional.log_softmax])
def test_softmax_of_an_empty_tensor_keeps_its_dtype(fn, dtype):
    out = fn(_empty(dtype, (0, 3)), 1)
    assert out.dtype == dtype and tuple(out.shape) == (0, 3)
    out = fn(_empty(dtype, (2, 0)), 0)
    assert out.dtype == dtype and tuple(out.shape) == (2, 0)


def test_softmax_empty_still_checks_dim_and_takes_dtype():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.softmax(_empty(ember.int64), 1)
    assert ember.softmax(_empty(ember.int64), 0, dtype=ember.float32).dtype == ember.float32
    assert ember.softmax(_empty(ember.float32), 0, dtype=ember.int32).dtype == ember.int32
    with pytest.raises(NotImplementedError, match='"softmax_lastdim_kernel_impl" not '
                                                  "implemented for 'Long'"):
        ember.softmax(ember.tensor([1, 2]), 0)


def test_median_of_no_elements_is_nan_cast_like_torch():
    assert ember.median(_empty(ember.int8)).item() == 0
    assert ember.median(_empty(ember.int16)).item() == 0
    assert ember.median(_empty(ember.int32)).item() == -2 ** 31
    assert ember.median(_empty(ember.int64)).item() == -2 ** 63
    assert ember.median(_empty(ember.bool)).item() is True
    assert ember.nanmedian(_empty(ember.bool)).item() is True
    for fn in (ember.median, ember.nanmedian):
        out = fn(_empty(ember.complex64))
        assert out.dtype == ember.complex64 and math.isnan(out.item().real)


def test_median_along_an_empty_dim_checks_the_size_before_the_dtype():
    with pytest.raises(IndexError, match="median\\(\\): Expected reduction dim 1 to have "
                                         "non-zero size."):
        ember.median(_empty(ember.complex64, (3, 0)), 1)
    with pytest.raises(NotImplementedError, match='"median_out" not implemented'):
        ember.median(_empty(ember.complex64, (0, 3)), 1)
    with pytest.raises(NotImplementedError, match='"median_cpu" not implemented'):
        ember.median(ember.ones(2, dtype=ember.complex64))


def test_mode_and_cummax_of_complex_0d_and_empty():
    x = ember.tensor(1.5 + 2j)
    values, indices = ember.mode(x)
    assert values.item() == 1.5 + 2j and indices.item() == 0
    for fn in (ember.cummax, ember.cummin):
        values, indices = fn(x, 0)
        assert values.item() == 1.5 + 2j and indices.item() == 0
        values, indices = fn(_empty(ember.complex128, (3, 0)), 1)
        assert values.dtype == ember.complex128 and tuple(values.shape) == (3, 0)
        assert indices.dtype == ember.int64
        with pytest.raises(NotImplementedError, match=f'"{fn.__name__}_cpu"'):
            fn(ember.ones(2, dtype=ember.complex64), 0)
    values, _ = ember.mode(_empty(ember.complex64, (0, 3)), 1)
    assert tuple(values.shape) == (0,)
    with pytest.raises(IndexError, match="mode\\(\\): Expected reduction dim 0 to have "
                                         "non-zero size."):
        ember.mode(_empty(ember.complex64))
    with pytest.raises(NotImplementedError, match='"mode_cpu"'):
        ember.mode(ember.ones(2, dtype=ember.complex64))


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_extremes_of_empty_complex_raise_the_shape_error(name):
    fn = getattr(ember, name)
    with pytest.raises(RuntimeError, match=f"{name}\\(\\): Expected reduction dim to be "
                                           "specified for input.numel\\(\\) == 0."):
        fn(_empty(ember.complex64))
    with pytest.raises(IndexError, match=f"{name}\\(\\): Expected reduction dim 0 to have "
                                         "non-zero size."):
        fn(_empty(ember.complex64), 0)


def test_amax_of_empty_complex_rows_and_the_dim_as_given():
    out = ember.amax(_empty(ember.complex64, (0, 3)), 1)
    assert out.dtype == ember.complex64 and tuple(out.shape) == (0,)
    with pytest.raises(RuntimeError, match="does not support complex input"):
        ember.max(_empty(ember.complex64, (0, 3)), 1)
    with pytest.raises(IndexError, match="amax\\(\\): Expected reduction dim -1 to have"):
        ember.amax(_empty(ember.float32, (3, 0)), -1)
    with pytest.raises(IndexError, match="max\\(\\): Expected reduction dim 1 to have"):
        ember.max(_empty(ember.float32, (3, 0)), -1)


def test_aminmax_of_complex():
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        ember.aminmax(_empty(ember.complex64))
    with pytest.raises(IndexError, match="aminmax: Expected reduction dim 1 to have"):
        ember.aminmax(_empty(ember.complex64, (3, 0)), dim=1)
    with pytest.raises(NotImplementedError, match='"aminmax_cpu"'):
        ember.aminmax(_empty(ember.complex64, (0, 3)), dim=1)
    with pytest.raises(RuntimeError, match="^aminmax not implemented for ComplexFloat$"):
        ember.aminmax(ember.tensor(1j, dtype=ember.complex64), dim=0)


def test_histc_casts_the_widened_range_to_the_integer_dtype():
    msg = "value cannot be converted to type uint8_t without overflow"
    with pytest.raises(RuntimeError, match=msg):
        ember.histc(_empty(ember.uint8))
    with pytest.raises(RuntimeError, match=msg):
        ember.histc(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="int8_t without overflow"):
        ember.histc(_empty(ember.int8), min=-5, max=300)
    with pytest.raises(NotImplementedError, match='"histogram_cpu" not implemented for '
                                                  "'Byte'"):
        ember.histc(ember.tensor([0, 5], dtype=ember.uint8))
    with pytest.raises(NotImplementedError, match='"histogram_cpu" not implemented for '
                                                  "'ComplexFloat'"):
        ember.histc(ember.ones(2, dtype=ember.complex64), 4, -3, 3)
    with pytest.raises(NotImplementedError, match='"aminmax_cpu"'):
        ember.histc(ember.ones(2, dtype=ember.complex64))


def test_dot_of_bool_vectors_checks_sizes_then_dtype_even_when_empty():
    e = _empty(ember.bool)
    for fn in (ember.dot, ember.matmul):
        with pytest.raises(NotImplementedError, match="\"dot\" not implemented for 'Bool'"):
            fn(e, e)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ember.ones(2, dtype=ember.bool) @ ember.ones(3, dtype=ember.bool)
    out = _empty(ember.bool, (2, 0)) @ _empty(ember.bool, (0,))
    assert out.tolist() == [False, False]


def _half(shape=(2, 2)):
    return ember.eye(shape[0], shape[1]).to(ember.float16)


@pytest.mark.parametrize("call, error, msg", [
    (lambda a: ember.logdet(a), RuntimeError,
     "logdet: Low precision dtypes not supported. Got Half"),
    (lambda a: ember.slogdet(a), RuntimeError, "linalg.slogdet: Low precision"),
    (lambda a: ember.inverse(a), RuntimeError, "linalg.inv: Low precision"),
    (lambda a: ember.linalg.inv_ex(a), RuntimeError, "linalg.inv: Low precision"),
    (lambda a: ember.det(a), NotImplementedError, "\"lu_cpu\" not implemented for 'Half'"),
    (lambda a: ember.linalg.lu_factor(a), NotImplementedError, '"lu_cpu"'),
    (lambda a: ember.linalg.cholesky(a), NotImplementedError, '"cholesky_cpu"'),
    (lambda a: ember.linalg.qr(a), NotImplementedError, '"geqrf_cpu"'),
    (lambda a: ember.linalg.eigh(a), NotImplementedError, '"linalg_eigh_cpu"'),
    (lambda a: ember.linalg.svd(a), NotImplementedError, '"linalg_svd_cpu"'),
    (lambda a: ember.svd(a), NotImplementedError, '"linalg_svd_cpu"'),
    (lambda a: ember.linalg.cond(a), NotImplementedError, '"linalg_svd_cpu"'),
    (lambda a: ember.linalg.pinv(a), RuntimeError, "linalg.pinv\\(Half\\{\\[2, 2\\]\\}\\)"),
    (lambda a: ember.linalg.lstsq(a, a), RuntimeError, "doesn't handle types other than"),
    (lambda a: ember.linalg.matrix_norm(a, 2), RuntimeError,
     "linalg.matrix_norm: Low precision"),
    (lambda a: ember.linalg.solve_triangular(a, a, upper=True), NotImplementedError,
     '"triangular_solve_cpu"'),
    (lambda a: ember.cholesky_inverse(a), NotImplementedError, '"cholesky_inverse_out_cpu"'),
    (lambda a: ember.linalg.householder_product(a, a[:, 0]), NotImplementedError,
     '"orgqr_cpu"'),
    (lambda a: ember.linalg.ldl_factor(a), NotImplementedError, '"ldl_factor_kernel_cpu"'),
    (lambda a: ember.linalg.vander(a[0]), RuntimeError, "linalg.vander supports"),
])
def test_float16_linalg_errors(call, error, msg):
    with pytest.raises(error, match=msg):
        call(_half())


def test_float16_matrix_norm_orders_without_an_svd_still_work():
    assert ember.linalg.matrix_norm(_half(), "fro").dtype == ember.float16
    assert ember.linalg.matrix_norm(_half(), 1).item() == 1.0


def test_linalg_checks_the_shape_before_the_dtype():
    v, m = ember.ones(3, dtype=ember.int64), ember.ones(2, 3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="linalg.det: The input tensor A must have at "
                                           "least 2 dimensions."):
        ember.det(v)
    with pytest.raises(RuntimeError, match="logdet: A must be batches of square matrices"):
        ember.logdet(m)
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square"):
        ember.linalg.inv_ex(m)
    with pytest.raises(RuntimeError, match="linalg.cholesky: A must be batches of square"):
        ember.linalg.cholesky_ex(m)
    with pytest.raises(RuntimeError, match="linalg.eigh: A must be batches of square"):
        ember.linalg.eigh(m)
    with pytest.raises(RuntimeError, match="torch.linalg.lstsq: input must have at least 2"):
        ember.linalg.lstsq(v, v)
    with pytest.raises(RuntimeError, match="torch.linalg.matrix_rank: The input tensor input"):
        ember.linalg.matrix_rank(v)
    with pytest.raises(RuntimeError, match="linalg.cond\\(ord=fro\\): The input tensor A"):
        ember.linalg.cond(v, "fro")
    # solve checks the dtype first
    with pytest.raises(RuntimeError, match="linalg.solve: Expected a floating point"):
        ember.linalg.solve(m, v)
    sq = ember.ones(2, 2, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point or complex "
                                           "tensor as input. Got Long"):
        ember.linalg.inv_ex(sq)
    with pytest.raises(NotImplementedError, match="\"linalg_eigh_cpu\" not implemented for "
                                                  "'Long'"):
        ember.linalg.eigh(sq)


def test_topk_checks_k_before_the_dtype():
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        ember.topk(_empty(ember.bool), 1)
    with pytest.raises(RuntimeError, match="topk does not support bool dtypes on CPU"):
        ember.topk(_empty(ember.bool), 0)


def test_unique_consecutive_refuses_complex_even_when_empty():
    with pytest.raises(NotImplementedError, match="\"unique\" not implemented for "
                                                  "'ComplexFloat'"):
        ember.unique_consecutive(_empty(ember.complex64))
    with pytest.raises(NotImplementedError, match='"unique_dim" not implemented'):
        ember.unique_consecutive(ember.ones(2, 2, dtype=ember.complex64), dim=0)
    values, counts = ember.unique_consecutive(ember.tensor([1, 1, 2, 1]), return_counts=True)
    assert values.tolist() == [1, 2, 1] and counts.tolist() == [2, 1, 1]
