"""Regressions found by the tensor-op fuzzer (``tests/oracle/test_fuzz_tensor_ops_oracle.py``),
minimised, with torch's values and messages written out: they run without torch."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

INF, NAN = math.inf, math.nan
# NumPy's float warnings (silenced by ember outside pytest, which resets the filters)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_float_floor_divide_is_fmod_based_as_torch():
    r = ember.floor_divide(ember.tensor([INF, 1.0, 1.0, -2.5]), ember.tensor([1.0, -INF, 0.1, 0.1]))
    np.testing.assert_array_equal(r.numpy(), np.array([NAN, -1.0, 9.0, -25.0], np.float32))
    assert (ember.tensor([True]) // ember.tensor([-INF])).tolist() == [-1.0]


def test_addcmul_of_integers_truncates_a_float_value_and_wraps():
    r = ember.addcmul(ember.tensor([6], dtype=ember.int32),
                      ember.tensor([[3], [7]], dtype=ember.uint8),
                      ember.tensor([-2], dtype=ember.int32), value=-1.5)
    assert r.dtype == ember.int32 and r.tolist() == [[12], [20]]
    u = ember.tensor([6], dtype=ember.uint8)
    r = ember.addcmul(u, ember.tensor([[3], [7]], dtype=ember.uint8),
                      ember.tensor([2], dtype=ember.uint8), value=-3)
    assert r.dtype == ember.uint8 and r.tolist() == [[244], [220]]


def test_complex_addcmul_multiplies_value_by_tensor1_first():
    r = ember.addcmul(ember.tensor([0.03 + 0.95j]), ember.tensor([-0.888 + 0.97j]),
                      ember.tensor([-INF], dtype=ember.float16), value=-1.5)
    assert r.tolist() == [complex(-INF, INF)]


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_broadcast_error_names_input_then_tensor1(name):
    with pytest.raises(RuntimeError, match=r"tensor a \(2\) must match the size of tensor b \(3\)"):
        getattr(ember, name)(ember.ones(2), ember.ones(3), ember.ones(2))


def test_addcmul_gradcheck_float64():
    rng = np.random.default_rng(0)
    shapes = ((2, 3), (3,), (2, 1))
    args = [ember.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(lambda a, b, c: ember.addcmul(a, b, c, value=-1.5), args)
    assert gradcheck(lambda a, b, c: ember.addcdiv(a, b, c * c + 1, value=0.5), args)


@pytest.mark.parametrize("name, x, want", [
    ("angle", [-1.0, 2.0], [math.pi, 0.0]), ("frac", [1.5, -2.25], [0.5, -0.25]),
    ("signbit", [-0.0, 1.0], [True, False]), ("nan_to_num", [NAN, 1.0], [0.0, 1.0]),
    ("sgn", [-3.0, 0.0], [-1.0, 0.0]), ("exp2", [3.0, -1.0], [8.0, 0.5]),
    ("msort", [2.0, -1.0], [-1.0, 2.0]),
])
def test_functions_take_out(name, x, want):
    x = ember.tensor(x)
    out = ember.empty(0, dtype=ember.bool if name == "signbit" else ember.float32)
    assert getattr(ember, name)(x, out=out) is out
    assert out.tolist() == pytest.approx(want)


def test_nansum_and_bitwise_not_take_out():
    out = ember.empty(0)
    assert ember.nansum(ember.tensor([[1.0, NAN], [2.0, 3.0]]), 0, out=out) is out
    assert out.tolist() == [3.0, 3.0]
    out = ember.empty(0, dtype=ember.int16)
    ember.bitwise_not(ember.tensor([1, -1], dtype=ember.int16), out=out)
    assert out.tolist() == [-2, 0]


@pytest.mark.parametrize("call, message", [
    (lambda o: ember.any(ember.ones(3), out=o(ember.float32)),
     "any only supports bool tensor for result, got: Float"),
    (lambda o: ember.all(ember.ones(3), 0, out=o(ember.int16)),
     "all only supports bool tensor for result, got: Short"),
    (lambda o: ember.argmax(ember.ones(3), out=o(ember.int8)),
     "Expected out tensor to have dtype long int, but got signed char instead"),
    (lambda o: ember.argmin(ember.ones(3), 0, out=o(ember.int32)),
     "Expected out tensor to have dtype long int, but got int instead"),
    (lambda o: ember.signbit(ember.ones(3), out=o(ember.uint8)),
     "signbit does not support non-boolean outputs."),
    (lambda o: ember.logsumexp(ember.ones(3), 0, out=o(ember.int32)),
     r"logsumexp\(\): Expected floating point type for result tensor, but got: Int"),
    (lambda o: ember.norm(ember.ones(3, dtype=ember.float64), dim=0, out=o(ember.int8)),
     "Expected out tensor to have dtype double, but got signed char instead"),
    (lambda o: ember.clamp(ember.tensor([1, 2]), 0.5, out=o(ember.float64)),
     "Found dtype Double but expected Float"),
    (lambda o: ember.clamp(ember.tensor([1, 2]), 0, 1, out=o(ember.int8)),
     "Found dtype Char but expected Long"),
    (lambda o: ember.lerp(ember.ones(2), ember.ones(2), 0.5, out=o(ember.float64)),
     "Found dtype Double but expected Float"),
    (lambda o: ember.nan_to_num(ember.tensor([1, 2]), out=o(ember.float32)),
     "nan_to_num: dtype of out: Float should be same as input: Long"),
])
def test_out_of_a_dtype_torch_refuses(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(lambda dt: ember.empty(0, dtype=dt))


def test_out_of_a_dtype_torch_takes():
    r = ember.any(ember.ones(3), out=ember.empty(0, dtype=ember.uint8))
    assert r.dtype == ember.uint8 and r.item() == 1
    out = ember.empty(0, dtype=ember.float64)
    r = ember.clamp(ember.tensor([1, 2]), ember.tensor(0.5), out=out)
    assert r.dtype == ember.float64 and r.tolist() == [1.0, 2.0]


def test_logsumexp_without_dim_is_torch_s_type_error():
    for call in (lambda: ember.logsumexp(ember.ones(2)), lambda: ember.ones(2).logsumexp()):
        with pytest.raises(TypeError, match='logsumexp\\(\\) missing 1 required positional '
                                            'arguments: "dim"'):
            call()


def test_round_with_decimals_0_refuses_integers():
    x = ember.tensor([5, 2], dtype=ember.uint8)
    for call in (lambda: ember.round(x, decimals=0), lambda: x.clone().round_(decimals=0)):
        with pytest.raises(NotImplementedError, match="\"round_vml_cpu\" not implemented for "
                                                      "'Byte'"):
            call()
    assert ember.round(x).tolist() == [5, 2] and x.clone().round_().tolist() == [5, 2]
    assert ember.round(ember.tensor([2.5, 3.5]), decimals=0).tolist() == [2.0, 4.0]


def test_prod_of_zero_and_inf_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from ember._numpy_warnings import silence_float_warnings_from_ember
        silence_float_warnings_from_ember()
        r = ember.tensor([[-2.0, 1.0], [0.0, -INF]]).prod()
    assert math.isnan(r.item())


def test_power_by_a_one_element_tensor_half_is_c_pow_not_sqrt():
    x = ember.tensor([-INF, -0.0, 4.0], dtype=ember.float64)
    for r in (x.pow(ember.tensor(0.5)), x.clone().pow_(ember.tensor(0.5)),
              x ** ember.tensor([0.5])):
        assert r.tolist() == [INF, 0.0, 2.0] and not np.signbit(r.numpy()[1])
    assert ember.tensor(-INF).pow(ember.tensor(0.5)).item() == INF
    r = x.pow(0.5)  # a number exponent: torch's square root
    assert math.isnan(r[0].item()) and np.signbit(r.numpy()[1])


def test_power_by_a_tensor_gradcheck_float64():
    x = ember.tensor([0.5, 1.5, 2.0], dtype=ember.float64, requires_grad=True)
    y = ember.tensor(0.5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda a, b: a.pow(b), [x, y])


def test_lerp_zero_dim_weight_takes_part_in_promotion():
    f32 = ember.float32
    r = ember.lerp(ember.tensor(0.0, dtype=f32), ember.tensor(-2.5, dtype=f32),
                   ember.tensor(2.5, dtype=ember.float64))
    assert r.dtype == ember.float64 and r.item() == -6.25
    r = ember.lerp(ember.tensor([0.0], dtype=f32), ember.tensor([-2.5], dtype=f32),
                   ember.tensor(2.5, dtype=ember.float64))
    assert r.dtype == f32
    w = ember.tensor(-0.78, dtype=ember.float16)  # -0.77978515625
    r = ember.lerp(ember.tensor([0, -2, 4]), ember.tensor([4, -1, -2]), w)
    assert r.dtype == ember.float16 and r.tolist() == [-3.119140625, -2.779296875, 8.6796875]
    with pytest.raises(NotImplementedError, match="\"lerp_kernel_tensor\" not implemented for "
                                                  "'Long'"):
        ember.lerp(ember.tensor([0, 1]), ember.tensor([4, 1]), ember.tensor(1))


def test_lerp_checks_dtypes_before_shapes():
    x = ember.ones(2, dtype=ember.complex64)
    with pytest.raises(RuntimeError, match="expected dtype c10::complex<float> for `weight`"):
        x.lerp_(ember.ones(3, dtype=ember.complex64), ember.ones(3, dtype=ember.float64))
    with pytest.raises(NotImplementedError, match="\"lerp_kernel_scalar\" not implemented for "
                                                  "'Short'"):
        t = ember.tensor([4], dtype=ember.int16)
        ember.lerp(t, t, -0.0, out=ember.empty(0, dtype=ember.int16))


def test_lerp_zero_dim_weight_gradcheck_float64():
    a = ember.tensor([0.5, -1.0], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([2.0, 3.0], dtype=ember.float64, requires_grad=True)
    w = ember.tensor(0.3, dtype=ember.float32, requires_grad=True)
    assert gradcheck(lambda a, b: ember.lerp(a, b, w.detach()), [a, b])


def test_float16_round_with_decimals_computes_in_float32():
    x = ember.tensor([3.685546875, 4.16015625, 1234.5], dtype=ember.float16)
    assert x.clone().round_(decimals=2).tolist() == [3.689453125, 4.16015625, 1234.0]
    assert ember.round(x, decimals=-2).tolist() == [0.0, 0.0, 1200.0]
    assert ember.round(ember.tensor([1250.0, 1350.0]), decimals=-2).tolist() == [1200.0, 1400.0]


def test_mean_and_var_of_infinities_are_quiet():
    x = ember.tensor([[-4.5, INF], [-0.5, -INF]], dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from ember._numpy_warnings import silence_float_warnings_from_ember
        silence_float_warnings_from_ember()
        m, v = x.mean(dim=(1, 0), dtype=ember.float64), x.var(1)
    assert math.isnan(m.item()) and all(math.isnan(a) for a in v.tolist())


def test_var_of_an_empty_tensor_warns_even_with_an_empty_result():
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        assert ember.empty(2, 0).var(0).shape == (0,)
    with pytest.warns(UserWarning, match=r"std_mean\(\): degrees of freedom is <= 0"):
        ember.std_mean(ember.empty(3, 0), dim=0)


def test_std_out_checks_the_cast_before_warning_and_refuses_float16_widening():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type Int"):
            ember.std(ember.empty(1, 1, 0), 0, correction=2, out=ember.empty(0, dtype=ember.int32))
    h = ember.ones(3, 1, dtype=ember.float16)
    with pytest.raises(RuntimeError, match="std_var_all: Unsupported dtype Half"):
        ember.var(h, 0, out=ember.empty(0))
    assert ember.var(h, 0, out=ember.empty(0, dtype=ember.float16)).tolist() == [0.0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: ember.where(ember.ones(3, 3) > 0, ember.ones(3, 2, dtype=ember.uint8),
                         ember.ones(3, 1, dtype=ember.int16),
                         out=ember.empty(0, dtype=ember.int32)),
     RuntimeError, "Expected out type to be Short but got Int"),
    (lambda: ember.sign(ember.ones(2, dtype=ember.complex64), out=ember.empty(0)),
     NotImplementedError, "Unlike NumPy, torch.sign is not intended to support complex numbers"),
    (lambda: ember.trunc(ember.ones(2, dtype=ember.complex64), out=ember.empty(0)),
     NotImplementedError, "trunc is not supported for complex inputs"),
    (lambda: ember.norm(ember.ones(2, dtype=ember.complex64),
                        out=ember.empty(0, dtype=ember.int32)),
     RuntimeError, "Expected out tensor to have dtype float, but got int instead"),
    (lambda: ember.norm(ember.ones(2, dtype=ember.complex64), dim=0,
                        out=ember.empty(0, dtype=ember.complex64)),
     RuntimeError, "Expected out tensor to have dtype float, but got c10::complex<float> instead"),
    (lambda: ember.argmax(ember.empty(1, 2, 0), 2, out=ember.empty(0)),
     IndexError, "argmax\\(\\): Expected reduction dim 2 to have non-zero size."),
    (lambda: ember.argmax(ember.ones(2, 3), 5, out=ember.empty(0)),
     IndexError, "Dimension out of range"),
    (lambda: ember.ones(2, dtype=ember.complex64).max(dim=2),
     IndexError, "Dimension out of range"),
    (lambda: ember.clamp(ember.ones(2, 2), min=ember.ones(1, 2, 2), max=ember.ones(2, 3)),
     RuntimeError, "tensor a \\(2\\) must match the size of tensor b \\(3\\) at non-singleton "
                   "dimension 2"),
])
def test_torch_s_first_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_argmax_of_an_empty_tensor_along_a_full_dim_checks_out():
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype long int"):
        ember.argmax(ember.empty(3, 0), 0, keepdim=True, out=ember.empty(0))


def test_alpha_is_checked_on_the_result_dtype_after_out_and_shapes():
    i = ember.tensor([1, 2])
    assert i.add(1j, alpha=0.5).tolist() == [1 + 0.5j, 2 + 0.5j]
    assert ember.tensor([True, False]).add(True, alpha=True).tolist() == [True, True]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                           "output type Long"):
        ember.add(i, ember.tensor([1.0, 2.0]), alpha=True, out=ember.empty(0, dtype=ember.int64))
    with pytest.raises(RuntimeError, match=r"tensor a \(2\) must match the size of tensor b \(3\)"):
        ember.add(ember.tensor([2, 3]), ember.tensor([False, True, True]), alpha=0.5,
                  out=ember.empty(2, dtype=ember.int32))


@pytest.mark.parametrize("name, call, out_dtypes, message", [
    ("sort", lambda x, o: ember.sort(x, 1, out=o), ("float32", "int32"),
     "Expected out tensor to have dtype long int, but got int instead"),
    ("topk", lambda x, o: ember.topk(x, 2, out=o), ("float64", "int64"),
     "Expected out tensor to have dtype float, but got double instead"),
    ("kthvalue", lambda x, o: ember.kthvalue(x, 2, out=o), ("float32", "int32"),
     "output indices must be of scalar type Long"),
    ("max", lambda x, o: ember.max(x, 1, out=o), ("int64", "int64"),
     "Expected out tensor to have dtype float, but got long int instead"),
    ("median", lambda x, o: ember.median(x, 1, out=o), ("float64", "int32"),
     "Expected tensor for argument #1 'indices' to have scalar type Long; but got "
     "torch.IntTensor instead"),
    ("median", lambda x, o: ember.median(x, 1, out=o), ("bool", "int64"),
     "but type CPUBoolType does not equal torch.FloatTensor"),
    ("aminmax", lambda x, o: ember.aminmax(x, out=o), ("float32", "int64"),
     "Expected out tensor to have dtype float, but got long int instead"),
])
def test_tuple_out_of_other_dtypes(name, call, out_dtypes, message):
    x = ember.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    out = tuple(ember.empty(0, dtype=getattr(ember, d)) for d in out_dtypes)
    with pytest.raises(RuntimeError, match=message):
        call(x, out)


def test_median_and_aminmax_take_a_tuple_out():
    x = ember.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.int64)
    ember.median(x, 1, out=(values, indices))
    assert values.tolist() == [2.0, 4.0] and indices.tolist() == [2, 2]
    lo, hi = ember.empty(0), ember.empty(0)
    ember.aminmax(x, dim=1, out=(lo, hi))
    assert lo.tolist() == [1.0, 0.0] and hi.tolist() == [3.0, 5.0]


def test_sort_out_resizes_the_values_before_refusing_the_indices():
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        with pytest.raises(RuntimeError, match="dtype long int, but got signed char"):
            ember.sort(ember.tensor([0.0]), out=(ember.zeros(3), ember.zeros(3, dtype=ember.int8)))


def test_float16_var_into_a_wider_one_element_out_warns_then_refuses():
    h = ember.tensor(-1.93, dtype=ember.float16)
    with pytest.warns(UserWarning, match=r"std\(\): degrees of freedom is <= 0"):
        with pytest.raises(RuntimeError, match="std_var_all: Unsupported dtype Half"):
            ember.std(h, -1, out=ember.empty(0, dtype=ember.float64))
    r = ember.var(ember.ones(1, 2, 3, dtype=ember.float16), -1, out=ember.empty(0))
    assert r.shape == (1, 2) and r.dtype == ember.float32
    with pytest.raises(NotImplementedError, match="\"std_cpu\" not implemented for "
                                                  "'ComplexFloat'"):
        ember.var(ember.ones(2, 3), 1, out=ember.empty(0, dtype=ember.complex64))


def test_cumulative_ops_of_infinities_are_quiet():
    x = ember.tensor([[INF, 0.5], [-INF, NAN], [0.0, 2.0]], dtype=ember.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from ember._numpy_warnings import silence_float_warnings_from_ember
        silence_float_warnings_from_ember()
        p, s = x.cumprod(0), x.cumsum(0)
    assert math.isnan(p[2, 0].item()) and p[1, 0].item() == -INF
    assert math.isnan(s[1, 0].item())


def test_in_place_op_casts_an_integer_operand_to_the_float_dtype_first():
    x = ember.tensor([0.0, 3.0], dtype=ember.float16)
    y = ember.tensor([4529850388697657975, 2049])  # inf and 2048 in float16
    r = x.clone().mul_(y)
    assert math.isnan(r[0].item()) and r[1].item() == 6144.0
    assert x.clone().mul_(ember.tensor(2049))[1].item() == 6148.0  # a 0-d one: read as a number
    r = ember.tensor([0.5]).add_(ember.tensor(-1543957314, dtype=ember.int32), alpha=5)
    assert r.item() == pytest.approx(-7.719786570e9, rel=1e-6)
    r = ember.tensor([-1.0], dtype=ember.float64).add_(ember.tensor([2], dtype=ember.uint8),
                                                         alpha=-3)
    assert r.tolist() == [-7.0]


def test_nansum_of_infinities_is_quiet():
    x = ember.tensor([[INF, NAN, -INF], [1.0, NAN, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from ember._numpy_warnings import silence_float_warnings_from_ember
        silence_float_warnings_from_ember()
        r = x.nansum(1)
    assert math.isnan(r[0].item()) and r[1].item() == 3.0
