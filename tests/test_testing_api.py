"""ember.testing's torch.testing API without torch: ``assert_close`` (what passes, what fails
and with which message), ``assert_allclose`` and ``make_tensor`` (ranges, dtypes, layouts,
errors, and the draws it makes from ember's generator)."""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember.testing import assert_allclose, assert_close, make_tensor


def _t(data, dtype="float32"):
    return ember.tensor(np.asarray(data, dtype=dtype))


def _message(actual, expected, **kw):
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **kw)
    return str(info.value)


def test_public_names():
    assert set(ember.testing.__all__) == {"assert_close", "assert_allclose", "make_tensor",
                                          "compare_with_torch", "Comparison"}
    for name in ember.testing.__all__:
        assert getattr(ember.testing, name).__doc__


@pytest.mark.parametrize("actual, expected, kw", [
    (_t([1.0, 0.1, 0.01]), _t([1.0, 0.1, 0.01]), {}),
    (_t([100.0]), _t([100.0 + 1e-4]), {}),  # within atol + rtol * 100
    (_t([1.0], "float64"), _t([1.0 + 1.5e-7], "float64"), {}),
    (_t([1, 2], "int64"), _t([1, 2], "int64"), {}),
    (_t([1.0, 2.0]), _t([1.05, 2.0]), {"rtol": 0.0, "atol": 0.06}),
    (_t([math.nan, 1.0]), _t([math.nan, 1.0]), {"equal_nan": True}),
    (_t([math.inf, -math.inf]), _t([math.inf, -math.inf]), {}),
    (_t([1, 2], "int32"), _t([1.0, 2.0], "float64"), {"check_dtype": False}),
    (_t([[1, 2], [3, 4]]).t(), _t([[1, 3], [2, 4]]), {}),
    ([ember.ones(2), 1.0, np.array([3.0])], (ember.ones(2), 1.0, np.array([3.0])), {}),
    (OrderedDict(a=1, b=ember.zeros(1)), {"b": ember.zeros(1), "a": 1}, {}),
    (1.0, 1, {"check_dtype": False}),
    (np.float32(0.5), np.float32(0.5), {}),
    (None, None, {"rtol": 1.0}),  # None and booleans ignore tolerances
    (True, np.bool_(True), {}),
    (ember.nn.Parameter(ember.ones(2)), ember.ones(2), {}),
    (ember.zeros(0, 4), ember.zeros(0, 4), {}),
], ids=lambda v: "" if not isinstance(v, dict) else None)
def test_close_inputs_pass(actual, expected, kw):
    assert_close(actual, expected, **kw)


def test_tensor_mismatch_message():
    assert _message(_t([1.0, 4.0, 5.0]), _t([1.0, 2.0, 3.0])) == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 2 / 3 (66.7%)\n"
        "Greatest absolute difference: 2.0 at index (1,) (up to 1e-05 allowed)\n"
        "Greatest relative difference: 1.0 at index (1,) (up to 1.3e-06 allowed)")


def test_message_indices_are_multidimensional_and_relative_uses_expected():
    actual = _t([[0.0, 0.0, 0.0], [0.0, 0.0, 10.0]])
    expected = _t([[0.0, 0.0, 1.0], [0.0, 0.0, 40.0]])
    assert _message(actual, expected, rtol=0.0, atol=0.5).splitlines()[2:] == [
        "Mismatched elements: 2 / 6 (33.3%)",
        "Greatest absolute difference: 30.0 at index (1, 2) (up to 0.5 allowed)",
        "Greatest relative difference: 1.0 at index (0, 2) (up to 0.0 allowed)"]


def test_integers_and_bools_compare_exactly():
    assert _message(_t([1, 2, 3], "int64"), _t([1, 2, 5], "int64")) == (
        "Tensor-likes are not equal!\n\n"
        "Mismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 2 at index (2,)\n"
        "Greatest relative difference: 0.4000000059604645 at index (2,)")  # float32 2/5
    assert _message(_t([True, False], "bool"), _t([True, True], "bool")).splitlines()[3] == (
        "Greatest absolute difference: 1 at index (1,)")


def test_zero_dim_tensors_and_numbers_use_the_scalar_message():
    assert _message(1e-9, 1e-10, rtol=0, atol=0) == (
        "Scalars are not equal!\n\nExpected 1e-10 but got 1e-09.\n"
        "Absolute difference: 9.000000000000001e-10\nRelative difference: 9.0")
    assert _message(_t(0.5), _t(0.0)) == (
        "Scalars are not close!\n\nExpected 0.0 but got 0.5.\n"
        "Absolute difference: 0.5 (up to 1e-05 allowed)\n"
        "Relative difference: inf (up to 1.3e-06 allowed)")
    assert _message(3, 4).startswith("Scalars are not equal!\n\nExpected 4 but got 3.")


def test_nan_fails_unless_equal_nan():
    assert _message(math.nan, math.nan).splitlines()[2:4] == [
        "Expected nan but got nan.", "Absolute difference: nan (up to 1e-07 allowed)"]
    assert "Mismatched elements: 1 / 2" in _message(_t([math.nan, 1.0]), _t([math.nan, 1.0]))
    assert_close(math.nan, math.nan, equal_nan=True)


def test_default_tolerance_edges_float32_and_float64():
    # float32: 1e-5 + 1.3e-6 * 1 = 1.13e-5 allowed at 1.0
    assert_close(_t([1.0 + 1.0e-5]), _t([1.0]))
    _message(_t([1.0 + 1.3e-5]), _t([1.0]))
    # float64: 1e-7 + 1e-7 * 2 = 3e-7 allowed at 2.0
    assert_close(_t([2.0 + 2.9e-7], "float64"), _t([2.0], "float64"))
    _message(_t([2.0 + 3.1e-7], "float64"), _t([2.0], "float64"))
    # mixed dtypes use the looser pair
    assert_close(_t([1.0], "float64"), _t([1.000005]), check_dtype=False)


def test_attribute_mismatches():
    assert _message(ember.zeros(2, 3), ember.zeros(3)) == (
        f"The values for attribute 'shape' do not match: {ember.Size([2, 3])} != "
        f"{ember.Size([3])}.")
    assert _message(ember.zeros(2), ember.zeros(2, dtype=ember.float64)) == (
        f"The values for attribute 'dtype' do not match: {ember.float32} != {ember.float64}.")
    assert _message(_t([[1, 2], [3, 4]]).t(), _t([[1, 3], [2, 4]]), check_stride=True) == (
        "The values for attribute 'stride()' do not match: (1, 2) != (2, 1).")
    assert _message(1.0, 1) == "The (d)types do not match: <class 'float'> != <class 'int'>."


def test_nested_inputs_name_the_failing_item():
    msg = _message({"a": [ember.zeros(1), 2.0]}, {"a": [ember.zeros(1), 3.0]})
    assert msg.endswith("\n\nThe failure occurred for item ['a'][1]")
    assert _message([1, 2], (1, 2, 3)) == "The length of the sequences mismatch: 2 != 3"
    assert _message({"a": 1, "b": 2}, {"b": 2, "c": 3}) == (
        "The keys of the mappings do not match:\nMissing keys in the actual mapping: ['c']\n"
        "Additional keys in the actual mapping: ['a']")
    assert _message(None, 0) == "None mismatch: None is not 0"
    assert _message(True, False) == "Booleans mismatch: True is not False"


def test_msg_replaces_or_wraps_the_message():
    assert _message(ember.zeros(2), ember.ones(2), msg="mine") == "mine"
    assert _message([ember.zeros(1)], [ember.ones(1)], msg="mine") == "mine"
    wrapped = _message([ember.zeros(1)], [ember.ones(1)], msg=lambda m: f"<{m}>")
    assert wrapped.startswith("<Tensor-likes are not close!")
    assert wrapped.endswith("The failure occurred for item [0]>")
    # structural failures keep torch's own text
    assert _message([1], [1, 2], msg="mine") == "The length of the sequences mismatch: 1 != 2"


@pytest.mark.parametrize("actual, expected", [
    (ember.tensor(1.0), 1.0),
    (2, ember.tensor(2)),
    (ember.zeros(2), np.zeros(2, np.float32)),
    ("a", "a"),
    (np.float64(1.0), np.array(1.0)),
])
def test_unrelated_types_raise_type_error(actual, expected):
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        assert_close(actual, expected)


def test_subclasses_can_be_refused():
    with pytest.raises(TypeError, match="Parameter"):
        assert_close(ember.nn.Parameter(ember.ones(1)), ember.ones(1), allow_subclasses=False)


def test_tolerances_come_in_pairs():
    for kw, missing in (({"rtol": 0.1}, "atol"), ({"atol": 0.1}, "rtol")):
        with pytest.raises(ValueError, match=f"but got no {missing}"):
            assert_close(ember.zeros(1), ember.zeros(1), **kw)


def test_bool_against_int_raises_runtime_error_like_torch():
    with pytest.raises(RuntimeError, match=r"Originating a NumberPair\(\) at item  with"):
        assert_close(True, 1)


def test_assert_allclose_is_the_deprecated_loose_form():
    with pytest.warns(FutureWarning, match="assert_allclose\\(\\)` is deprecated"):
        assert_allclose(_t([1.0, 2.0]), [1.00005, 2.0])  # rtol 1e-4 for float32
    with pytest.warns(FutureWarning):
        assert_allclose(_t([math.nan]), _t([math.nan]))  # NaNs match by default
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="^mine$"):
        assert_allclose(ember.zeros(1), ember.ones(1), msg="mine")
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="up to 0.0001"):
        assert_allclose(_t([1.0]), _t([1.001]))


# --- make_tensor -----------------------------------------------------------------------------

INT_RANGES = {"uint8": (0, 10), "int8": (-9, 10), "int16": (-9, 10), "int32": (-9, 10),
              "int64": (-9, 10)}


@pytest.mark.parametrize("dtype", list(INT_RANGES))
def test_make_tensor_integer_default_range(dtype):
    out = make_tensor(400, dtype=getattr(ember, dtype))
    lo, hi = INT_RANGES[dtype]
    values = out.numpy()
    assert out.dtype == getattr(ember, dtype) and out.shape == (400,)
    assert values.min() == lo and values.max() == hi - 1  # 400 draws hit both ends


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_make_tensor_float_default_range_and_grad(dtype):
    out = make_tensor((20, 30), dtype=getattr(ember, dtype), requires_grad=True)
    values = out.detach().numpy()
    assert out.dtype == getattr(ember, dtype) and out.shape == (20, 30) and out.requires_grad
    # float16 may round a draw just below 9 up to 9, as torch's does
    assert values.min() >= -9 and values.max() <= 9 and values.std() > 4
    assert dtype == "float16" or values.max() < 9


def test_make_tensor_bool_and_shape_forms():
    out = make_tensor(2, 50, dtype=ember.bool)
    assert out.dtype == ember.bool and out.shape == (2, 50)
    assert out.numpy().any() and not out.numpy().all()
    assert make_tensor([3, 4], dtype=ember.int64).shape == (3, 4)
    assert make_tensor(ember.Size([5]), dtype=ember.float32).shape == (5,)
    assert make_tensor(dtype=ember.float32).shape == ()


def test_make_tensor_bounds_are_clamped_and_rounded_up():
    values = make_tensor(500, dtype=ember.int8, low=-1000, high=1000).numpy().astype(int)
    assert values.min() >= -128 and values.max() <= 127 and values.max() - values.min() > 200
    values = make_tensor(300, dtype=ember.int64, low=0.5, high=2.5).numpy()
    assert set(values.tolist()) == {1, 2}  # ceil(0.5) = 1, ceil(2.5) = 3 exclusive
    values = make_tensor(300, dtype=ember.float32, low=2.0, high=2.5).numpy()
    assert values.min() >= 2.0 and values.max() < 2.5
    huge = make_tensor(50, dtype=ember.float32, low=-math.inf, high=math.inf).numpy()
    assert np.all(np.isfinite(huge)) and np.abs(huge).max() > 1e37


def test_make_tensor_draws_like_randint_and_uniform():
    ember.manual_seed(4)
    got = make_tensor(3, 4, dtype=ember.int32)
    ember.manual_seed(4)
    np.testing.assert_array_equal(got.numpy(),
                                  ember.randint(-9, 10, (3, 4), dtype=ember.int32).numpy())
    ember.manual_seed(4)
    got = make_tensor(3, 4, dtype=ember.float32, low=-1, high=2)
    ember.manual_seed(4)
    np.testing.assert_array_equal(got.numpy(), ember.empty(3, 4).uniform_(-1, 2).numpy())


def test_make_tensor_noncontiguous_keeps_every_other_draw():
    ember.manual_seed(1)
    out = make_tensor(3, 4, dtype=ember.float32, noncontiguous=True)
    ember.manual_seed(1)
    full = ember.empty(3, 8).uniform_(-9, 9)
    assert not out.is_contiguous() and out.shape == (3, 4) and out.stride() == (8, 2)
    np.testing.assert_array_equal(out.numpy(), full.numpy()[:, 1::2])
    assert make_tensor(1, dtype=ember.float32, noncontiguous=True).is_contiguous()


def test_make_tensor_memory_format():
    out = make_tensor(2, 3, 4, 5, dtype=ember.float32, memory_format=ember.channels_last)
    assert out.stride() == (60, 1, 15, 3)


@pytest.mark.parametrize("dtype, replacement", [
    ("int64", 1), ("bool", True), ("float32", np.finfo(np.float32).tiny),
    ("float16", np.finfo(np.float16).smallest_normal)])
def test_make_tensor_exclude_zero(dtype, replacement):
    kw = {"low": 0, "high": 2} if dtype in ("int64", "bool") else {"low": 0.0, "high": 1e-45}
    values = make_tensor(200, dtype=getattr(ember, dtype), exclude_zero=True, **kw).numpy()
    assert not np.any(values == 0) and np.any(values == replacement)


@pytest.mark.parametrize("kw, error, match", [
    ({"dtype": ember.float32, "low": 3, "high": 1}, ValueError,
     "`low` must be less than `high`, but got 3 >= 1"),
    ({"dtype": ember.int64, "low": 2, "high": 2}, ValueError, "but got 2 >= 2"),
    ({"dtype": ember.float32, "low": math.nan}, ValueError, "cannot be NaN"),
    ({"dtype": ember.uint8, "low": -20, "high": -5}, ValueError,
     r"is \[-20, -5\), but ember.uint8 only supports \[0, 256\)"),
    ({"dtype": ember.int64, "requires_grad": True}, ValueError,
     "not supported for boolean and integral dtypes"),
    ({"dtype": ember.float32, "noncontiguous": True, "memory_format": ember.channels_last},
     ValueError, "mutually exclusive"),
    ({"dtype": "float32"}, TypeError, "is not supported by"),
])
def test_make_tensor_errors(kw, error, match):
    with pytest.raises(error, match=match):
        make_tensor(2, 3, **kw)


def test_make_tensor_low_equal_high_float_warns_and_fills():
    with pytest.warns(FutureWarning, match="low==high"):
        out = make_tensor(4, dtype=ember.float32, low=1.5, high=1.5)
    assert np.all(out.numpy() == 1.5)


# --- complex inputs --------------------------------------------------------------------------

def _z(data, dtype="complex64"):
    return ember.tensor(np.asarray(data, dtype=dtype))


def test_complex_values_are_close_by_the_modulus_of_their_difference():
    # each part is within 1e-5 + 1.3e-6 of its own, the distance sqrt(2) * 8.5e-6 is not
    msg = _message(_z([1 + 8.5e-6 + 8.5e-6j]), _z([1 + 0j]))
    assert msg.startswith("Tensor-likes are not close!\n\nMismatched elements: 1 / 1")
    # the real parts are 1e-3 apart, but |expected| = 1000 allows 1e-5 + 1.3e-3
    assert_close(_z([1e-3 + 1000j]), _z([1000j]))
    assert_close(_z([0.3 + 0.4j], "complex128"), _z([0j], "complex128"), rtol=0.0, atol=0.5)
    _message(_z([0.3 + 0.41j], "complex128"), _z([0j], "complex128"), rtol=0.0, atol=0.5)


def test_complex_mismatch_message_reports_moduli():
    msg = _message(_z([[1 + 1j, 3 + 4j], [2j, 5]]), _z([[1 + 1j, 0j], [2j, 5 + 12j]]),
                   rtol=0.5, atol=1.0)
    assert msg == (
        "Tensor-likes are not close!\n\n"
        "Mismatched elements: 2 / 4 (50.0%)\n"
        "Greatest absolute difference: 12.0 at index (1, 1) (up to 1.0 allowed)\n"
        "Greatest relative difference: inf at index (0, 1) (up to 0.5 allowed)")
    assert _message(_z(3 + 4j, "complex128"), _z(0j, "complex128"), rtol=0, atol=0) == (
        "Scalars are not equal!\n\nExpected 0j but got (3+4j).\n"
        "Absolute difference: 5.0\nRelative difference: inf")


def test_complex_default_tolerances():
    # complex64 as float32: 1e-5 + 1.3e-6 * |2| = 1.26e-5 allowed
    assert_close(_z([2 + 1.2e-5j]), _z([2 + 0j]))
    assert "(up to 1e-05 allowed)" in _message(_z([2 + 1.3e-5j]), _z([2 + 0j]))
    # complex128 as float64: 1e-7 + 1e-7 * |2j| = 3e-7 allowed
    assert_close(_z([2.9e-7 + 2j], "complex128"), _z([2j], "complex128"))
    assert "(up to 1e-07 allowed)" in _message(_z([3.1e-7 + 2j], "complex128"),
                                                 _z([2j], "complex128"))
    # Python complex numbers compare as complex128
    assert_close(1 + 1j, 1 + 1.0000001j)
    assert _message(3 + 4j, 0j).splitlines()[2:4] == [
        "Expected 0j but got (3+4j).", "Absolute difference: 5.0 (up to 1e-07 allowed)"]


@pytest.mark.parametrize("actual, expected", [
    (complex(math.nan, 1), complex(math.nan, 1)),
    (complex(1, math.nan), complex(1, math.nan)),
    (complex(math.nan, 1), complex(2, math.nan)),  # NaN in either part is a complex NaN
])
def test_complex_nan_in_either_part(actual, expected):
    for a, e in ((_z([actual, 1j]), _z([expected, 1j])),
                 (np.array([actual, 1j]), np.array([expected, 1j])), (actual, expected)):
        with pytest.raises(AssertionError):
            assert_close(a, e)
        assert_close(a, e, equal_nan=True)
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(_z([actual, 1j]), _z([1 + 1j, 1j]), equal_nan=True)


def test_complex_infinities():
    inf = math.inf
    assert_close(_z([complex(inf, 1), complex(-inf, inf)]), _z([complex(inf, 1),
                                                                complex(-inf, inf)]))
    msg = _message(_z([complex(inf, 1), 0j]), _z([complex(inf, 2), 0j]))
    assert "Greatest absolute difference: nan at index (0,)" in msg  # inf - inf in the real part


def test_real_and_complex_pairs():
    assert _message(_z([1j]), _t([1.0])) == (
        f"The values for attribute 'dtype' do not match: {ember.complex64} != {ember.float32}.")
    assert _message(np.array([1.0]), np.array([1 + 0j])) == (
        f"The values for attribute 'dtype' do not match: {ember.float64} != "
        f"{ember.complex128}.")
    # unchecked: promoted to complex, with the looser of the two dtypes' tolerances
    assert_close(_t([1.0, 2.0], "float64"), _z([1 + 1e-6j, 2]), check_dtype=False)
    assert_close(_t([1, 0], "int64"), _z([1, 0]), check_dtype=False)
    _message(_t([1, 0], "int64"), _z([1, 1e-3j]), check_dtype=False)
    assert _message(1 + 0j, 1.0) == (
        "The (d)types do not match: <class 'complex'> != <class 'float'>.")
    assert_close(1 + 0j, 1.0, check_dtype=False)


def test_complex_tensor_and_number_do_not_pair():
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        assert_close(_z(1j), 1j)


def test_assert_allclose_compares_complex_exactly_by_default():
    with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="are not equal!"):
        assert_allclose(_z([1 + 1j]), _z([1 + 1.0000001j]))
    with pytest.warns(FutureWarning):
        assert_allclose(_z([1 + 1j, 2j]), [1 + 1j, 2j])
    with pytest.warns(FutureWarning):
        assert_allclose(_z([complex(math.nan, 1)]), _z([complex(1, math.nan)]))
    with pytest.warns(FutureWarning):
        assert_allclose(_z([1 + 1j]), _z([1.05 + 1j]), rtol=0.0, atol=0.06)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_make_tensor_complex_draws_both_parts_like_uniform(dtype):
    d = getattr(ember, dtype)
    ember.manual_seed(6)
    out = make_tensor(40, 50, dtype=d, requires_grad=True)
    assert out.dtype == d and out.shape == (40, 50) and out.requires_grad
    values = out.detach().numpy()
    for part in (values.real, values.imag):
        assert part.min() >= -9 and part.max() < 9 and part.std() > 4
    ember.manual_seed(6)
    parts = ember.empty(40, 50, 2, dtype=d.to_real()).uniform_(-9, 9).numpy()
    np.testing.assert_array_equal(values, parts[..., 0] + 1j * parts[..., 1])
    bounded = make_tensor(300, dtype=d, low=2, high=3).numpy()
    assert bounded.real.min() >= 2 and bounded.imag.max() < 3


def test_make_tensor_complex_layouts():
    out = make_tensor(3, 4, dtype=ember.complex64, noncontiguous=True)
    assert not out.is_contiguous() and out.stride() == (8, 2) and out.dtype == ember.complex64
    out = make_tensor(2, 3, 4, 5, dtype=ember.complex128, memory_format=ember.channels_last)
    assert out.stride() == (60, 1, 15, 3)


@pytest.mark.parametrize("dtype, subnormal", [("complex64", np.float32),
                                              ("complex128", np.float64)])
def test_make_tensor_complex_exclude_zero_writes_tiny(dtype, subnormal):
    least = float(np.nextafter(subnormal(0), subnormal(1)))
    kw = dict(dtype=getattr(ember, dtype), low=0.0, high=2 * least)
    ember.manual_seed(2)
    plain = make_tensor(100, **kw).numpy()
    ember.manual_seed(2)
    values = make_tensor(100, exclude_zero=True, **kw).numpy()
    zeros = plain == 0
    assert zeros.any() and (plain.real == 0).sum() > zeros.sum()  # a zero part alone stays
    # torch's code writes finfo.tiny into the zeros: tiny + 0j
    assert np.all(values[zeros] == np.finfo(subnormal).tiny)
    np.testing.assert_array_equal(values[~zeros], plain[~zeros])


def test_make_tensor_complex_low_equal_high_warns():
    with pytest.warns(FutureWarning, match="low==high"):
        out = make_tensor(3, dtype=ember.complex64, low=2.0, high=2.0)
    assert np.all(out.numpy() == 2 + 2j)
