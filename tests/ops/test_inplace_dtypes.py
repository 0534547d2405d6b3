"""In-place ops and ``out=`` across dtypes, as torch: its checks in its order (the broadcast
shape, then the cast of the result dtype into self or ``out``, then the kernel's dtype
support), its messages, and values computed in torch's common dtype. The torch oracle sweeps
are ``tests/oracle/test_inplace_dtype*_oracle.py`` and ``test_out_dtype_oracle.py``."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember


def _t(values, dtype):
    return ember.tensor(values, dtype=dtype)


# --- shape, then dtype, then the kernel ---------------------------------------------------
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "atan2_", "floor_divide_", "fmod_",
                                "remainder_", "hypot_", "bitwise_and_", "lerp_"])
def test_a_0d_self_cannot_take_a_broadcast_result(op):
    a, b = _t(2, ember.int8), _t([1, 2, 3], ember.int8)
    args = (b, 0.5) if op == "lerp_" else (b,)
    with pytest.raises(RuntimeError, match=r"^output with shape \[\] doesn't match the "
                                           r"broadcast shape \[3\]$"):
        getattr(a, op)(*args)
    assert a.item() == 2


def test_shapes_that_do_not_broadcast_name_both_sizes():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of "
                                           r"tensor b \(3\)"):
        _t([1, 2], ember.int64).atan2_(_t([1j, 2, 3], ember.complex64))


@pytest.mark.parametrize("op, other, result", [
    ("atan2_", _t([1j, 2, 3], ember.complex64), "ComplexFloat"),
    ("atan2_", _t([1, 2, 3], ember.int64), "Float"),
    ("xlogy_", _t([1, 2, 3], ember.float64), "Double"),
    ("copysign_", _t([1, 2, 3], ember.float16), "Half"),
    ("fmod_", _t([1j, 2, 3], ember.complex128), "ComplexDouble"),
    ("bitwise_and_", _t([1.0, 2, 3], ember.float32), "Float"),
    ("clamp_min_", _t([1.0, 2, 3], ember.float32), "Float"),
    ("remainder_", 2.5, "Float"),
    ("add_", _t(1j, ember.complex64), "ComplexFloat"),  # not NumPy's complex128
    ("add_", 1j, "ComplexFloat"),
])
def test_a_result_dtype_an_integer_self_cannot_hold_is_the_error(op, other, result):
    a = _t([1, 2, 3], ember.int32)
    with pytest.raises(RuntimeError, match=f"^result type {result} can't be cast to the "
                                           "desired output type Int$"):
        getattr(a, op)(other)
    assert a.tolist() == [1, 2, 3]


def test_a_kernel_without_the_dtype_raises_after_the_checks():
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for "
                                                  "'Float'"):
        _t([1.0, 2.0], ember.float32).bitwise_and_(_t([1.0, 2.0], ember.float32))
    with pytest.raises(NotImplementedError, match="\"hypot_cpu\" not implemented for 'Long'"):
        _t([1, 2], ember.int64).hypot_(_t([1, 2], ember.int64))


def test_an_integer_division_by_a_broadcast_zero_is_a_shape_error_first():
    with pytest.raises(RuntimeError, match="output with shape"):
        _t(2, ember.int64).floor_divide_(_t([True, False, True], ember.bool))


# --- comparisons ---------------------------------------------------------------------------
def test_in_place_comparisons_of_complex_numbers_have_no_kernel():
    for a in (_t([1, 2], ember.float32), _t([1j, 2], ember.complex64), _t([True], ember.bool)):
        with pytest.raises(NotImplementedError, match="\"lt_cpu\" not implemented for "
                                                      "'ComplexFloat'"):
            a.lt_(_t([1j, 2], ember.complex64)[: a.numel()])
    assert _t([1j, 2], ember.complex64).eq_(2).tolist() == [0, 1]


def test_in_place_comparisons_compare_in_the_common_dtype():
    # a number wraps into a narrower integer self: -2 is 254 for uint8, 200 is -56 for int8
    assert _t([1, 2, 3], ember.uint8).lt_(-2).tolist() == [1, 1, 1]
    assert _t([1, 2, 3], ember.int8).gt_(200).tolist() == [1, 1, 1]
    # a 0-d float64 tensor rounds to float16 (or float32) before comparing
    assert _t([0.1], ember.float16).eq_(_t(0.1, ember.float64)).tolist() == [1.0]
    assert _t([0.1], ember.float32).eq_(_t(0.1, ember.float64)).tolist() == [1.0]


# --- sub_ and alpha --------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [
    (_t([1.0, 2.0], ember.float32), _t([True, False], ember.bool)),
    (_t([1, 2], ember.int64), True),
    (_t([True, False], ember.bool), _t([1, 2], ember.int64)),
    (_t(1.0, ember.float32), _t([True, False, True], ember.bool)),  # before the shape check
])
def test_sub_with_a_bool_operand_is_refused(a, b):
    with pytest.raises(RuntimeError, match="^Subtraction, the `-` operator, with a bool tensor "
                                           "is not supported"):
        a.sub_(b)


def test_sub_of_two_bool_tensors_is_refused_with_torchs_words():
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported. Use the "
                                           r"`\^` or `logical_xor\(\)` operator instead."):
        _t([True], ember.bool).sub_(_t([True], ember.bool))


def test_alpha_multiplies_a_bool_operand_in_the_result_dtype():
    assert _t([1, 2, 3], ember.int64).add_(_t([False, True, True], ember.bool),
                                           alpha=2).tolist() == [1, 4, 5]
    assert _t([1.0, 2.0], ember.float32).add_(_t([True, False], ember.bool),
                                              alpha=0.5).tolist() == [1.5, 2.0]
    # bool + bool stays bool: alpha becomes True
    assert ember.add(_t([True, False], ember.bool), True, alpha=2).tolist() == [True, True]


def test_a_float_alpha_for_integers_is_checked_after_shape_and_dtype():
    with pytest.raises(RuntimeError, match="output with shape"):
        _t(1, ember.int64).add_(_t([1, 2], ember.int64), alpha=0.5)
    with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must "
                                           "not be a floating point number."):
        _t([1], ember.int64).add_(_t([1], ember.int64), alpha=0.5)


# --- clamp ---------------------------------------------------------------------------------
def test_clamp_of_bools_with_numbers_has_no_kernel():
    for call, kernel in ((lambda a: a.clamp_min_(True), "clamp_min_scalar_cpu"),
                         (lambda a: a.clamp_max_(False), "clamp_max_scalar_cpu"),
                         (lambda a: a.clamp_(True, True), "clamp_scalar_cpu"),
                         (lambda a: ember.clamp(a, True), "clamp_min_scalar_cpu")):
        with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for "
                                                      "'Bool'"):
            call(_t([True, False], ember.bool))
    b = _t([True, False], ember.bool)
    with pytest.raises(NotImplementedError, match="\"clamp_cpu\" not implemented for 'Bool'"):
        b.clone().clamp_(b, b)
    assert b.clone().clamp_min_(_t(True, ember.bool)).tolist() == [True, True]


def test_clamp_with_a_number_names_the_c_type_of_an_integer_self():
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                           "output type long int$"):
        _t([1, 2], ember.int64).clamp_min_(2.5)
    with pytest.raises(RuntimeError, match="output type unsigned char$"):
        _t([1, 2], ember.uint8).clamp_(0, 2.5)
    with pytest.raises(RuntimeError, match="^result type ComplexFloat can't be cast to the "
                                           "desired output type bool$"):
        _t([True], ember.bool).clamp_(1j)
    with pytest.raises(RuntimeError, match="^value cannot be converted to type double without "
                                           "overflow$"):
        _t([1.0], ember.float32).clamp_(None, 1j)


def test_clamp_min_of_complex_tensors_runs_the_maximum_kernel():
    with pytest.raises(NotImplementedError, match="\"maximum_cpu\" not implemented for "
                                                  "'ComplexFloat'"):
        _t([1j], ember.complex64).clamp_min_(_t(1, ember.int64))
    with pytest.raises(NotImplementedError, match="^clamp is not supported for complex types$"):
        _t([1j], ember.complex64).clamp_(_t([1, 2], ember.int64), _t([1, 2, 3], ember.int64))


# --- argument errors name the method ---------------------------------------------------------
@pytest.mark.parametrize("op", ["atan2_", "hypot_", "logical_and_", "ldexp_"])
def test_a_number_where_a_tensor_is_needed_names_the_in_place_method(op):
    with pytest.raises(TypeError, match=rf"^{op}\(\): argument 'other' \(position 1\) must be "
                                        "Tensor, not int$"):
        getattr(_t([1.0], ember.float32), op)(2)


def test_method_and_function_forms_number_the_arguments_differently():
    x = _t([1.0], ember.float32)
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 1\)"):
        x.maximum(2)
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\)"):
        ember.maximum(x, 2)
    with pytest.raises(TypeError, match=r"addcmul_\(\): argument 'tensor1' \(position 1\)"):
        x.addcmul_(2, x)


def test_lerp_with_a_number_end_lists_the_method_forms():
    with pytest.raises(TypeError) as info:
        _t([1.0], ember.float32).lerp_(2, 0.5)
    assert str(info.value) == (
        "lerp_() received an invalid combination of arguments - got (int, float), but expected "
        "one of:\n * (Tensor end, Tensor weight)\n      didn't match because some of the "
        "arguments have invalid types: (!int!, !float!)\n * (Tensor end, Number weight)\n"
        "      didn't match because some of the arguments have invalid types: (!int!, "
        "!float!)\n")


# --- more in-place ops -------------------------------------------------------------------------
@pytest.mark.parametrize("op, expected", [("__iand__", [0, 2, 2]), ("__ior__", [3, 2, 3]),
                                          ("__ixor__", [3, 0, 1]), ("__imod__", [1, 0, 1]),
                                          ("__ifloordiv__", [0, 1, 1]), ("__ipow__", [1, 4, 9])])
def test_augmented_assignment_changes_the_tensor_itself(op, expected):
    a = _t([1, 2, 3], ember.int64)
    b = _t([2, 2, 2], ember.int64)
    assert getattr(a, op)(b) is a and a.tolist() == expected


def test_addcmul_computes_in_the_three_tensors_result_dtype():
    x = ember.addcmul(_t([1, 2], ember.int16), _t([1.5, 2], ember.float16),
                      _t([2, 2], ember.float16))
    assert x.dtype == ember.float16 and x.tolist() == [4.0, 6.0]
    with pytest.raises(NotImplementedError, match="\"addcmul_cpu_out\" not implemented for "
                                                  "'Bool'"):
        _t([True], ember.bool).addcmul_(_t([True], ember.bool), _t([True], ember.bool))


def test_float_power_in_place_needs_the_double_dtype_of_its_result():
    assert _t([1j], ember.complex128).float_power_(2).tolist() == [-1 + 0j]
    with pytest.raises(RuntimeError, match="has dtype Double but the operation's result "
                                           "requires dtype ComplexDouble"):
        _t([1.0], ember.float64).float_power_(2j)
    with pytest.raises(RuntimeError, match="has dtype ComplexFloat but the operation's result "
                                           "requires dtype ComplexDouble"):
        _t([1j], ember.complex64).float_power_(2)


def test_ldexp_in_place_needs_a_floating_self():
    with pytest.raises(RuntimeError, match="^ldexp can't be cast to the desired output type "
                                           "Long$"):
        _t(1, ember.int64).ldexp_(_t([1, 2], ember.int64))  # before the shape check
    assert _t([1.0, 2.0], ember.float16).ldexp_(_t([1, 2], ember.int64)).tolist() == [2.0, 8.0]


def test_masked_fill_checks_a_tensor_or_complex_value():
    a = _t([1.0, 2.0, 3.0], ember.float32)
    mask = _t([True, False, True], ember.bool)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor, but got "
                                           r"tensor with 1 dimension\(s\)."):
        a.masked_fill_(mask, _t([1, 2, 3], ember.int64))
    with pytest.raises(RuntimeError, match="value cannot be converted to type float without "
                                           "overflow"):
        a.masked_fill_(mask, 1 + 1j)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a real complex number: no warning
        assert a.masked_fill_(mask, 5 + 0j).tolist() == [5.0, 2.0, 5.0]


def test_fill_of_a_one_element_half_tensor_names_the_double_it_converts_through():
    for shape in ((), (1,), (1, 1)):
        with pytest.raises(RuntimeError, match="type double without overflow"):
            ember.zeros(shape, dtype=ember.float16).fill_(1 + 1j)
    with pytest.raises(RuntimeError, match="type c10::Half without overflow"):
        _t([1.0, 2.0], ember.float16).fill_(1 + 1j)


# --- out= ------------------------------------------------------------------------------------
def test_an_out_that_is_an_input_is_not_resized():
    a = _t(2.0, ember.float32)
    with pytest.raises(RuntimeError, match=r"output with shape \[\] doesn't match the broadcast "
                                           r"shape \[3\]"):
        ember.add(a, _t([1.0, 2.0, 3.0], ember.float32), out=a)


def test_an_out_of_another_shape_is_resized_with_torchs_warning():
    out = ember.zeros(2)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[2\]"):
        ember.add(_t([1.0, 2.0, 3.0], ember.float32), 1, out=out)
    assert out.tolist() == [2.0, 3.0, 4.0]


def test_the_result_dtype_must_cast_to_out_before_any_resize():
    out = _t([0, 0], ember.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no resize warning: the cast check comes first
        with pytest.raises(RuntimeError, match="^result type Float can't be cast to the "
                                               "desired output type Long$"):
            ember.atan2(_t([1, 2, 3], ember.int64), _t([1, 2, 3], ember.int64), out=out)
    assert out.shape == (2,)
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast"):
        ember.atan2(_t([1j], ember.complex64), _t([1j], ember.complex64), out=out[:1])


@pytest.mark.parametrize("name", ["floor_divide", "fmod", "hypot", "xlogy", "copysign",
                                  "nextafter", "logaddexp", "logaddexp2", "heaviside"])
def test_more_binary_functions_take_out(name):
    a, b = _t([1.0, 2.0], ember.float32), _t([2.0, 1.0], ember.float32)
    out = ember.zeros(2)
    assert getattr(ember, name)(a, b, out=out) is out
    np.testing.assert_allclose(out.numpy(), getattr(ember, name)(a, b).numpy())


def test_a_reduction_computes_in_outs_dtype():
    x = _t([[0.6], [0.6]], ember.float32)
    out = _t([9], ember.int64)
    assert ember.sum(x, 0, out=out).tolist() == [0]  # each 0.6 becomes 0 first
    assert ember.cumsum(_t([0.6, 0.6], ember.float32), 0, out=_t([9, 9], ember.int64)).tolist() \
        == [0, 0]
    with pytest.raises(RuntimeError, match="^Expected out tensor to have dtype double, but got "
                                           "float instead$"):
        ember.sum(x, 0, dtype=ember.float64, out=ember.zeros(1))
    with pytest.raises(RuntimeError, match="^result type Float can't be cast to the desired "
                                           "output type Long$"):
        ember.mean(x, 0, out=out)
    with pytest.raises(RuntimeError, match=r"^mean\(\): could not infer output dtype"):
        ember.mean(_t([[1], [2]], ember.int64), 0, out=ember.zeros(1))


def test_some_outs_must_have_the_inputs_dtype():
    with pytest.raises(RuntimeError, match="^Found dtype Float but expected Byte$"):
        ember.abs(_t([1, 2], ember.uint8), out=ember.zeros(2))
    assert ember.abs(_t([3j], ember.complex64), out=ember.zeros(1)).tolist() == [3.0]
    with pytest.raises(RuntimeError, match="^Expected the dtype for input and out to match, but "
                                           "got Float for input's dtype and Double for out's "
                                           "dtype.$"):
        ember.amax(ember.ones(2, 3), 0, out=ember.zeros(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="^Expected out type to be Float but got Long$"):
        ember.where(_t([True], ember.bool), _t([1], ember.int64), _t([1.0], ember.float32),
                    out=_t([0], ember.int64))
    with pytest.raises(RuntimeError, match="^Expected object of scalar type ComplexFloat but got "
                                           "scalar type Float for argument 'out'$"):
        ember.polar(ember.ones(1), ember.ones(1), out=ember.zeros(1))


def test_a_matrix_product_resizes_an_out_that_is_an_input():
    x, y = ember.ones(2, 3), ember.ones(3, 4)
    with pytest.warns(UserWarning, match=r"resized since it had shape \[2, 3\]"):
        assert ember.mm(x, y, out=x) is x
    assert x.shape == (2, 4)  # (torch's values then depend on reading x as it is resized)
