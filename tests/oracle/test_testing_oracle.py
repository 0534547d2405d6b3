"""ember.testing against torch.testing: ``assert_close`` / ``assert_allclose`` on the same
cases (pass or fail, exception type, the whole message), the exact pass/fail boundary of the
default tolerances, and ``make_tensor``'s values, layouts and errors after the same seed.

Messages are compared after spelling torch's names as ember's (``torch.Size`` is
``ember.Size``, ``<class 'torch.Tensor'>`` is ember's Tensor class)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember

F32 = np.float32


def _arr(T, data, dtype="float32"):
    return T.tensor(np.asarray(data, dtype=dtype))


def _normalized(text: str) -> str:
    return text.replace("ember._tensor.Tensor", "ember.Tensor").replace("torch.", "ember.")


def _outcome(fn, T):
    """None when ``fn(T)`` passes, else (exception type name, message, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(T)
            result = None
        except Exception as error:  # noqa: BLE001 - compared with torch's
            result = (type(error).__name__, _normalized(str(error)))
    return result, [(w.category.__name__, _normalized(str(w.message))) for w in caught]


def _nan_inf(T):
    return _arr(T, [1.0, math.nan, math.inf, -math.inf, 2.0])


CLOSE = {
    # values of each dtype
    "float32_equal": lambda T: T.testing.assert_close(_arr(T, [1, 2, 3]), _arr(T, [1, 2, 3])),
    "float32_three_of_four": lambda T: T.testing.assert_close(
        _arr(T, [1.0, 2.0, 3.0, 4.0]), _arr(T, [1.0, 2.5, -3.5, 4.25])),
    "float64_2d": lambda T: T.testing.assert_close(
        _arr(T, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float64"),
        _arr(T, [[1.0, 2.0, 3.1], [4.0, 5.0, 6.3]], "float64")),
    "float16": lambda T: T.testing.assert_close(
        _arr(T, [0.1, 0.2, 0.3], "float16"), _arr(T, [0.1, 0.2001, 0.31], "float16")),
    "float16_close": lambda T: T.testing.assert_close(
        _arr(T, [100.0, 0.2], "float16"), _arr(T, [100.06, 0.2], "float16")),
    "int64": lambda T: T.testing.assert_close(_arr(T, [1, 2, 3], "int64"),
                                              _arr(T, [1, 2, 4], "int64")),
    "int32_zero_expected": lambda T: T.testing.assert_close(_arr(T, [5, -2, 3], "int32"),
                                                            _arr(T, [0, -2, 7], "int32")),
    "int16": lambda T: T.testing.assert_close(_arr(T, [[7, 8], [9, 10]], "int16"),
                                              _arr(T, [[7, 8], [-9, 10]], "int16")),
    "int8": lambda T: T.testing.assert_close(_arr(T, [-128, 127], "int8"),
                                             _arr(T, [127, -128], "int8")),
    "uint8_wraps": lambda T: T.testing.assert_close(_arr(T, [1, 200], "uint8"),
                                                    _arr(T, [3, 100], "uint8")),
    "bool": lambda T: T.testing.assert_close(_arr(T, [True, False, True], "bool"),
                                             _arr(T, [True, True, False], "bool")),
    "bool_equal": lambda T: T.testing.assert_close(_arr(T, [True, False], "bool"),
                                                   _arr(T, [True, False], "bool")),
    "int_with_tolerances": lambda T: T.testing.assert_close(
        _arr(T, [10, 20, 30], "int64"), _arr(T, [11, 20, 36], "int64"), rtol=0.1, atol=0.0),
    "int_tolerance_edges": lambda T: T.testing.assert_close(
        _arr(T, [11, 21, 33, 7], "int64"), _arr(T, [10, 20, 30, 7], "int64"), rtol=0.1, atol=0.0),
    "uint8_tolerance_wraps": lambda T: T.testing.assert_close(
        _arr(T, [1, 9], "uint8"), _arr(T, [3, 8], "uint8"), rtol=0.0, atol=2.0),
    "int_tolerance_in_float32": lambda T: T.testing.assert_close(
        _arr(T, [16777217, 5], "int64"), _arr(T, [1, 5], "int64"), rtol=0.0, atol=16777215.0),
    "int8_tolerance_no_wrap": lambda T: T.testing.assert_close(
        _arr(T, [-128], "int8"), _arr(T, [127], "int8"), rtol=0.0, atol=254.5),
    "bool_with_tolerances": lambda T: T.testing.assert_close(
        _arr(T, [True, False], "bool"), _arr(T, [False, False], "bool"), rtol=0.5, atol=0.5),
    "scalar_tensor": lambda T: T.testing.assert_close(_arr(T, 0.1), _arr(T, 0.2)),
    "scalar_bool_tensor": lambda T: T.testing.assert_close(_arr(T, True, "bool"),
                                                           _arr(T, False, "bool")),
    "scalar_int_tensor": lambda T: T.testing.assert_close(_arr(T, 3, "int64"),
                                                          _arr(T, 0, "int64")),
    "empty": lambda T: T.testing.assert_close(T.zeros(0, 3), T.zeros(0, 3)),
    "ties_first_index": lambda T: T.testing.assert_close(_arr(T, [1.0, 5.0, 3.0, 5.0]),
                                                         T.zeros(4)),
    "large_3d": lambda T: T.testing.assert_close(
        _arr(T, np.arange(60).reshape(3, 4, 5) / 7),
        _arr(T, np.arange(60).reshape(3, 4, 5) / 7 + (np.arange(60) % 7 == 3).reshape(3, 4, 5)
             * np.linspace(0.01, 0.5, 60).reshape(3, 4, 5))),
    "requires_grad": lambda T: T.testing.assert_close(
        _arr(T, [1.0, 2.0]).requires_grad_(), _arr(T, [1.0, 2.5])),
    # attributes
    "shape_mismatch": lambda T: T.testing.assert_close(T.zeros(2, 3), T.zeros(3, 2)),
    "shape_no_broadcast": lambda T: T.testing.assert_close(T.zeros(3), T.zeros(1, 3)),
    "dtype_mismatch": lambda T: T.testing.assert_close(T.zeros(2), T.zeros(2, dtype=T.float64)),
    "dtype_int_float": lambda T: T.testing.assert_close(T.zeros(2, dtype=T.int64), T.zeros(2)),
    "dtype_unchecked_promotes": lambda T: T.testing.assert_close(
        _arr(T, [1, 2], "int64"), _arr(T, [1.0, 2.5]), check_dtype=False),
    "dtype_unchecked_loosest_tolerance": lambda T: T.testing.assert_close(
        _arr(T, [1.0], "float64"), _arr(T, [1.000005]), check_dtype=False),
    "dtype_unchecked_equal": lambda T: T.testing.assert_close(
        _arr(T, [1, 2], "int32"), _arr(T, [1.0, 2.0], "float64"), check_dtype=False),
    "stride_checked": lambda T: T.testing.assert_close(
        _arr(T, [[1, 2], [3, 4]]).t(), _arr(T, [[1, 3], [2, 4]]), check_stride=True),
    "stride_unchecked": lambda T: T.testing.assert_close(
        _arr(T, [[1, 2], [3, 4]]).t(), _arr(T, [[1, 3], [2, 4]])),
    # NaN and infinities
    "nan_not_equal": lambda T: T.testing.assert_close(_nan_inf(T), _nan_inf(T)),
    "nan_equal": lambda T: T.testing.assert_close(_nan_inf(T), _nan_inf(T), equal_nan=True),
    "nan_against_number": lambda T: T.testing.assert_close(
        _arr(T, [1.0, math.nan, 3.0, math.nan]), T.zeros(4), equal_nan=True),
    "inf_signs": lambda T: T.testing.assert_close(_arr(T, [math.inf, 1.0]),
                                                  _arr(T, [-math.inf, 1.0])),
    "inf_against_finite": lambda T: T.testing.assert_close(_arr(T, [math.inf, 1.0]),
                                                           _arr(T, [1e30, 1.0])),
    "scalar_nan": lambda T: T.testing.assert_close(_arr(T, math.nan), _arr(T, math.nan)),
    # tolerances and messages
    "rtol_without_atol": lambda T: T.testing.assert_close(T.zeros(2), T.ones(2), rtol=0.1),
    "atol_without_rtol": lambda T: T.testing.assert_close(1.0, 2.0, atol=0.1),
    "zero_tolerances": lambda T: T.testing.assert_close(_arr(T, [1.0, 2.0]),
                                                        _arr(T, [1.0, 2.000001]), rtol=0, atol=0),
    "custom_tolerances": lambda T: T.testing.assert_close(
        _arr(T, [1.0, 2.0]), _arr(T, [1.05, 2.5]), rtol=0.01, atol=0.1),
    "msg_str": lambda T: T.testing.assert_close(T.zeros(2), T.ones(2), msg="custom"),
    "msg_callable": lambda T: T.testing.assert_close(
        T.zeros(2), T.ones(2), msg=lambda m: f"Header\n\n{m}\n\nFooter"),
    "msg_callable_nested": lambda T: T.testing.assert_close(
        {"a": [T.zeros(1), 2.0]}, {"a": [T.zeros(1), 3.0]}, msg=lambda m: m.upper()),
    "msg_not_used_for_structure": lambda T: T.testing.assert_close([1], [1, 2], msg="custom"),
    # nested inputs
    "list_equal": lambda T: T.testing.assert_close([T.ones(2), 1.0, (2, 3)],
                                                   (T.ones(2), 1.0, [2, 3])),
    "list_item": lambda T: T.testing.assert_close([T.zeros(2), _arr(T, [1, 2])],
                                                  [T.zeros(2), _arr(T, [1, 3])]),
    "nested_item": lambda T: T.testing.assert_close([[1.0, [2.0, 3.0]]], [[1.0, [2.0, 3.5]]]),
    "list_length": lambda T: T.testing.assert_close([T.zeros(1), T.zeros(1)], [T.zeros(1)]),
    "nested_length": lambda T: T.testing.assert_close({"x": [1, 2]}, {"x": [1]}),
    "dict_item": lambda T: T.testing.assert_close(
        {"w": T.zeros(2), "b": T.ones(1)}, {"b": T.ones(1), "w": _arr(T, [0.0, 1e-3])}),
    "dict_keys": lambda T: T.testing.assert_close({"a": 1, "b": 2}, {"b": 2, "c": 3, "d": 4}),
    "dict_int_keys_sorted": lambda T: T.testing.assert_close({2: 1.0, 1: 5.0}, {1: 4.0, 2: 0.0}),
    "first_failure_wins": lambda T: T.testing.assert_close(
        [T.zeros(2), T.zeros(2)], [T.zeros(3), T.ones(2)]),
    "strings_inside": lambda T: T.testing.assert_close(["a", 1], ["a", 1]),
    "size_and_tuple": lambda T: T.testing.assert_close(T.zeros(2, 3).shape, (2, 4)),
    # numbers
    "ints": lambda T: T.testing.assert_close(3, 4),
    "floats": lambda T: T.testing.assert_close(1.0, 1.0 + 1e-8),
    "floats_far": lambda T: T.testing.assert_close(1e-9, 1e-10, rtol=0, atol=0),
    "float_zero_expected": lambda T: T.testing.assert_close(0.5, 0.0),
    "float_int": lambda T: T.testing.assert_close(1.0, 1),
    "float_int_unchecked": lambda T: T.testing.assert_close(1.0, 1, check_dtype=False),
    "complex": lambda T: T.testing.assert_close(1 + 1j, 1 + 2j),
    "number_nan": lambda T: T.testing.assert_close(math.nan, math.nan),
    "number_nan_equal": lambda T: T.testing.assert_close(math.nan, math.nan, equal_nan=True),
    "number_inf": lambda T: T.testing.assert_close(math.inf, -math.inf),
    "numpy_scalars": lambda T: T.testing.assert_close(np.float32(0.1), np.float32(0.1000001)),
    "numpy_int_scalars": lambda T: T.testing.assert_close(np.int64(3), np.int64(4)),
    "numpy_scalar_and_float": lambda T: T.testing.assert_close(np.float64(2.0), 2.5),
    "bools": lambda T: T.testing.assert_close(True, False),
    "numpy_bool": lambda T: T.testing.assert_close(np.bool_(True), True),
    "bool_and_int": lambda T: T.testing.assert_close(True, 1),
    "none": lambda T: T.testing.assert_close(None, None),
    "none_and_number": lambda T: T.testing.assert_close(None, 1),
    # NumPy arrays
    "numpy_arrays": lambda T: T.testing.assert_close(np.array([1.0, 2.0], F32),
                                                     np.array([1.0, 2.1], F32)),
    "numpy_int_arrays": lambda T: T.testing.assert_close(np.array([1, 2]), np.array([1, 3])),
    "numpy_dtypes": lambda T: T.testing.assert_close(np.array([1, 2]), np.array([1.0, 2.0])),
    # types that do not pair
    "tensor_and_number": lambda T: T.testing.assert_close(T.tensor(1.0), 1.0),
    "number_and_tensor": lambda T: T.testing.assert_close(2, T.tensor(2)),
    "tensor_and_numpy": lambda T: T.testing.assert_close(T.zeros(2), np.zeros(2, F32)),
    "strings": lambda T: T.testing.assert_close("a", "b"),
    "numpy_scalar_and_array": lambda T: T.testing.assert_close(np.float64(1.0), np.array(1.0)),
    "parameter_subclass": lambda T: T.testing.assert_close(T.nn.Parameter(T.ones(2)), T.ones(2)),
    "parameter_subclass_refused": lambda T: T.testing.assert_close(
        T.nn.Parameter(T.ones(2)), T.ones(2), allow_subclasses=False),
    "nested_type_error": lambda T: T.testing.assert_close([1.0, T.zeros(1)], [1.0, 0.0]),
    # the deprecated form
    "allclose_pass": lambda T: T.testing.assert_allclose(_arr(T, [1.0, 2.0]),
                                                         _arr(T, [1.00005, 2.0])),
    "allclose_fail": lambda T: T.testing.assert_allclose(_arr(T, [1.0, 2.0]),
                                                         _arr(T, [1.001, 2.0])),
    "allclose_float64": lambda T: T.testing.assert_allclose(
        _arr(T, [1.0, 2.0], "float64"), _arr(T, [1.00002, 2.0], "float64")),
    "allclose_list_expected": lambda T: T.testing.assert_allclose(_arr(T, [1.0, 2.0]), [1, 3]),
    "allclose_numbers": lambda T: T.testing.assert_allclose(1.0, 1.5),
    "allclose_nan": lambda T: T.testing.assert_allclose(_nan_inf(T), _nan_inf(T)),
    "allclose_mixed_dtypes": lambda T: T.testing.assert_allclose(
        _arr(T, [1, 2], "int64"), _arr(T, [1.0, 2.00001])),
    "allclose_msg": lambda T: T.testing.assert_allclose(T.zeros(1), T.ones(1), msg="mine"),
    "allclose_one_tolerance": lambda T: T.testing.assert_allclose(T.zeros(1), T.ones(1),
                                                                  rtol=1.0),
    "allclose_shapes": lambda T: T.testing.assert_allclose(T.zeros(2), T.zeros(3)),
}


@pytest.mark.parametrize("name", list(CLOSE))
def test_assert_close_matches_torch(torch, name):
    got, got_warnings = _outcome(CLOSE[name], ember)
    want, want_warnings = _outcome(CLOSE[name], torch)
    if name == "bool_and_int":
        # torch's wrapper message continues with a pointer to its issue tracker
        assert got[0] == want[0] == "RuntimeError"
        assert want[1].startswith(got[1]) and got[1].endswith("the unexpected exception above.")
    else:
        assert got == want
    assert got_warnings == want_warnings


def _boundary_bits(torch, expected, dtype, direction):
    """The last float (as an int of its bits) beside ``expected`` that torch still calls close,
    found by bisection on the bit pattern in ``direction`` (+1 or -1)."""
    np_dt = np.dtype(dtype)
    bits_t = {2: np.int16, 4: np.int32, 8: np.int64}[np_dt.itemsize]
    e_arr = np.array([expected], np_dt)
    start = int(e_arr.view(bits_t)[0])

    def close(bits):
        value = np.array([bits], bits_t).view(np_dt)
        try:
            torch.testing.assert_close(torch.from_numpy(value), torch.from_numpy(e_arr))
            return True
        except AssertionError:
            return False

    lo, hi = 0, 1
    while close(start + direction * hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if close(start + direction * mid) else (lo, mid)
    return np.array([start + direction * lo, start + direction * hi], bits_t).view(np_dt)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("expected", [1.0, -3.7, 100.0, 1e-3, 0.0, 12345.678])
def test_default_tolerance_boundary_is_torchs(torch, dtype, expected):
    for direction in (1, -1) if expected else (1,):  # bits below 0.0 are not floats near it
        inside, outside = _boundary_bits(torch, expected, dtype, direction)
        e = ember.tensor(np.array([expected], dtype))
        ember.testing.assert_close(ember.tensor(inside[None]), e)  # just inside
        with pytest.raises(AssertionError) as info:
            ember.testing.assert_close(ember.tensor(outside[None]), e)  # one ulp outside
        with pytest.raises(AssertionError) as want:
            torch.testing.assert_close(torch.tensor(outside[None]), torch.tensor(e.numpy()))
        assert str(info.value) == str(want.value)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_given_tolerance_boundaries_are_torchs(torch, dtype):
    """Near ``atol + rtol * |expected|`` the answer depends on where torch rounds (the
    tolerances to the dtype, each product and sum in it): a few ulps either side of it."""
    rng = np.random.default_rng(1)
    np_dt = np.dtype(dtype)
    bits_t = {2: np.int16, 4: np.int32, 8: np.int64}[np_dt.itemsize]
    for _ in range(150):
        e = np.array([rng.uniform(-10, 10)], np_dt)
        rtol, atol = (float(v) for v in rng.choice([0.0, 1e-3, 0.01, 0.1, 0.3], 2))
        edge = np.array([float(e[0]) + atol + rtol * abs(float(e[0]))], np_dt)
        for k in (-1, 0, 1):
            x = (edge.view(bits_t) + k).view(np_dt)

            def check(T, x=x, e=e, rtol=rtol, atol=atol):
                T.testing.assert_close(T.tensor(x), T.tensor(e), rtol=rtol, atol=atol)

            assert _outcome(check, ember) == _outcome(check, torch), (x, e, rtol, atol)


def test_integers_follow_the_default_dtype(torch):
    def check(T):
        T.testing.assert_close(_arr(T, [16777217, 3], "int64"), _arr(T, [1, 0], "int64"),
                               rtol=0.0, atol=16777215.0)

    try:
        for T in (ember, torch):
            T.set_default_dtype(T.float64)
        # exact in float64: 16777216 > 16777215, and 3 / 0 is inf in either width
        assert _outcome(check, ember) == _outcome(check, torch) != (None, [])
    finally:
        for T in (ember, torch):
            T.set_default_dtype(T.float32)


# --- make_tensor -----------------------------------------------------------------------------

EXACT_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                "float64"]


def _draw(T, seed, *shape, dtype, **kw):
    T.manual_seed(seed)
    if "memory_format" in kw:
        kw["memory_format"] = getattr(T, kw["memory_format"])
    out = T.testing.make_tensor(*shape, dtype=getattr(T, dtype), device="cpu", **kw)
    tail = T.rand(3, dtype=T.float64)  # the generator must be left where torch leaves it
    return out, tail


def _same_draw(torch, seed, *shape, dtype, **kw):
    e, e_tail = _draw(ember, seed, *shape, dtype=dtype, **kw)
    t, t_tail = _draw(torch, seed, *shape, dtype=dtype, **kw)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1] == dtype
    assert tuple(e.shape) == tuple(t.shape)
    assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e_tail.numpy(), t_tail.numpy())
    return e.detach().numpy(), t.detach().numpy()


@pytest.mark.parametrize("dtype", EXACT_DTYPES)
@pytest.mark.parametrize("kw", [{}, {"noncontiguous": True}, {"exclude_zero": True},
                                {"low": -2, "high": 3}, {"low": -1000.5, "high": 1e6},
                                {"low": 0.5, "high": 1.5, "exclude_zero": True}],
                         ids=["defaults", "noncontiguous", "exclude_zero", "bounds", "clamped",
                              "fractional"])
def test_make_tensor_gives_torchs_values(torch, dtype, kw):
    e, t = _same_draw(torch, 11, 3, 5, dtype=dtype, **kw)
    np.testing.assert_array_equal(e, t)
    assert e.dtype == t.dtype


def test_make_tensor_float_extremes_and_memory_format(torch):
    e, t = _same_draw(torch, 2, 6, dtype="float32", low=-math.inf, high=math.inf)
    np.testing.assert_array_equal(e, t)  # the halved draw, doubled
    e, t = _same_draw(torch, 2, (2, 3, 4, 5), dtype="float32", requires_grad=True,
                      memory_format="channels_last")
    np.testing.assert_array_equal(e, t)


ERRORS = {
    "low_above_high": dict(dtype="float32", low=2, high=1),
    "low_equals_high_int": dict(dtype="int64", low=3, high=3),
    "nan_low": dict(dtype="float32", low=math.nan),
    "nan_high_int": dict(dtype="int32", high=math.nan),
    "outside_dtype": dict(dtype="uint8", low=-20, high=-5),
    "outside_dtype_high": dict(dtype="int8", low=200, high=300),
    "requires_grad_int": dict(dtype="int64", requires_grad=True),
    "requires_grad_bool": dict(dtype="bool", requires_grad=True),
    "noncontiguous_and_memory_format": dict(dtype="float32", noncontiguous=True,
                                            memory_format="channels_last"),
    "low_equals_high_float_warns": dict(dtype="float32", low=1.5, high=1.5),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_make_tensor_errors_match_torch(torch, name):
    kw = dict(ERRORS[name])

    def call(T):
        options = {**kw, "dtype": getattr(T, kw["dtype"])}
        if "memory_format" in options:
            options["memory_format"] = getattr(T, options["memory_format"])
        return T.testing.make_tensor(2, 3, device="cpu", **options)

    assert _outcome(call, ember) == _outcome(call, torch)
