"""ember.testing against torch.testing for complex inputs: ``assert_close`` /
``assert_allclose`` on complex tensors, NumPy arrays and Python numbers (pass or fail, the
whole message), the pass/fail boundary of the complex distance ``|x - y| <= atol + rtol|y|``,
NaN in either part with and without ``equal_nan``, real/complex pairs (the dtype check and
promotion), and ``make_tensor``'s complex values after the same seed."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from tests.oracle.test_testing_oracle import _draw, _outcome

NAN, INF = math.nan, math.inf


def _c(T, data, dtype="complex64"):
    return T.tensor(np.asarray(data, dtype=dtype))


def _close(a, e, dtype="complex64", edtype=None, **kw):
    """A case: ``assert_close`` on tensors of ``a`` and ``e``."""
    return lambda T: T.testing.assert_close(_c(T, a, dtype), _c(T, e, edtype or dtype), **kw)


CLOSE = {
    # values and messages
    "c64_equal": _close([1 + 2j, -3j, 4.5], [1 + 2j, -3j, 4.5]),
    "c64_mismatch_2d": _close([[1 + 1j, 2 - 2j, 3j], [4, 5 + 5j, -6j]],
                              [[1 + 1j, 2 - 2.5j, 3.1j], [4, 5 + 5j, 6j]]),
    "c128_mismatch": _close([1 + 1j, 2 + 2j], [1 + 1j, 2 + 2.0000005j], "complex128"),
    "c64_scalar_tensor": _close(0.1 + 0.2j, 0.1 + 0.3j),
    "c128_scalar_tensor_zero_expected": _close(1 + 1j, 0j, "complex128"),
    "c64_zero_expected": _close([1 + 1j, 2j], [0j, 2j]),
    "c64_ties_first_index": _close([3 + 4j, 5, -4 - 3j], [0j, 0j, 0j]),
    "c64_empty": _close(np.zeros((0, 2)), np.zeros((0, 2))),
    "c64_zero_tolerances": _close([1 + 1j, 2], [1 + 1j, 2 + 1e-6j], rtol=0, atol=0),
    "c64_custom_tolerances": _close([1 + 1j, 10 + 10j], [1.05 + 1j, 10 + 10.5j],
                                    rtol=0.01, atol=0.1),
    # one distance in the plane, not one test per part
    "parts_pass_modulus_fails": _close([1 + 8.5e-6 + 8.5e-6j], [1 + 0j]),
    "parts_fail_modulus_passes": _close([1e-3 + 1000j], [1000j]),
    "modulus_passes_custom": _close([0.3 + 0.4j], [0j], rtol=0.0, atol=0.5),
    "modulus_fails_custom": _close([0.3 + 0.41j], [0j], rtol=0.0, atol=0.5),
    # NaN and infinities in either part
    "nan_real": _close([complex(NAN, 1), 2], [complex(NAN, 1), 2]),
    "nan_imag": _close([complex(1, NAN), 2], [complex(1, NAN), 2]),
    "nan_real_equal_nan": _close([complex(NAN, 1), 2], [complex(NAN, 1), 2], equal_nan=True),
    "nan_imag_equal_nan": _close([complex(1, NAN), 2], [complex(1, NAN), 2], equal_nan=True),
    "nan_either_part_matches": _close([complex(NAN, 1), complex(2, NAN)],
                                      [complex(5, NAN), complex(NAN, NAN)], equal_nan=True),
    "nan_against_number": _close([complex(1, NAN), 1j], [1 + 0j, 1j], equal_nan=True),
    "nan_c128_equal_nan": _close([complex(NAN, 0)], [complex(0, NAN)], "complex128",
                                 equal_nan=True),
    "nan_scalar_tensor": _close(complex(NAN, 1), complex(NAN, 1)),
    "inf_equal": _close([complex(INF, 1), complex(-INF, INF)], [complex(INF, 1),
                                                                 complex(-INF, INF)]),
    "inf_other_part_differs": _close([complex(INF, 1), 1], [complex(INF, 2), 1]),
    "inf_against_finite": _close([complex(3, INF)], [3 + 1e30j]),
    "inf_and_nan_parts": _close([complex(INF, NAN), 0j], [1 + 1j, 0j]),
    # real and complex together
    "dtype_c64_f32": lambda T: T.testing.assert_close(_c(T, [1 + 0j]), _c(T, [1.0], "float32")),
    "dtype_f64_c128": lambda T: T.testing.assert_close(_c(T, [1.0], "float64"),
                                                       _c(T, [1 + 0j], "complex128")),
    "dtype_c64_c128": _close([1j], [1j], "complex64", "complex128"),
    "unchecked_f64_c64_promotes": _close([1.0, 2.0], [1 + 1e-6j, 2 + 0j], "float64",
                                         "complex64", check_dtype=False),
    "unchecked_c64_f64_loosest": _close([1 + 0j], [1.000005], "complex64", "float64",
                                        check_dtype=False),
    "unchecked_int_c64": _close([1, 2], [1 + 0j, 2 + 1j], "int64", "complex64",
                                check_dtype=False),
    "unchecked_bool_c128": _close([True, False], [1 + 0j, 0j], "bool", "complex128",
                                  check_dtype=False),
    "unchecked_c64_c128": _close([1 + 1j], [1 + 1.000001j], "complex64", "complex128",
                                 check_dtype=False),
    # NumPy arrays and numbers
    "numpy_c128": lambda T: T.testing.assert_close(np.array([1 + 1j, 2j]),
                                                   np.array([1 + 1j, 2.1j])),
    "numpy_c64_equal_nan": lambda T: T.testing.assert_close(
        np.array([complex(NAN, 2)], np.complex64), np.array([complex(3, NAN)], np.complex64),
        equal_nan=True),
    "numpy_real_and_complex": lambda T: T.testing.assert_close(np.array([1.0]),
                                                               np.array([1 + 0j])),
    "numpy_complex_scalars": lambda T: T.testing.assert_close(np.complex64(1 + 1j),
                                                              np.complex64(1 + 1.00001j)),
    "complex_numbers_close": lambda T: T.testing.assert_close(1 + 1j, 1 + 1.0000001j),
    "complex_numbers_far": lambda T: T.testing.assert_close(3 + 4j, 0j),
    "complex_numbers_modulus": lambda T: T.testing.assert_close(1e-7 + 1e-7j, 0j),
    "complex_and_float": lambda T: T.testing.assert_close(1 + 0j, 1.0),
    "complex_and_float_checked": lambda T: T.testing.assert_close(1 + 0j, 1.0, check_dtype=True),
    "complex_and_int": lambda T: T.testing.assert_close(2, 2 + 1j),
    "complex_number_nan": lambda T: T.testing.assert_close(complex(NAN, 0), complex(NAN, 0)),
    "complex_number_nan_equal": lambda T: T.testing.assert_close(
        complex(NAN, 0), complex(0, NAN), equal_nan=True),
    "complex_tensor_and_number": lambda T: T.testing.assert_close(_c(T, 1j), 1j),
    "nested_complex": lambda T: T.testing.assert_close(
        {"z": [_c(T, [1j]), 2 + 2j]}, {"z": [_c(T, [1j]), 2 + 3j]}),
    "conj": lambda T: T.testing.assert_close(_c(T, [1 + 2j, 3j]).conj(), _c(T, [1 - 2j, -3j])),
    # the deprecated form: no default tolerance for complex, expected made in actual's dtype
    "allclose_c64_exact": lambda T: T.testing.assert_allclose(_c(T, [1 + 1j]),
                                                              _c(T, [1 + 1.0000001j])),
    "allclose_c64_list": lambda T: T.testing.assert_allclose(_c(T, [1 + 1j, 2j]), [1 + 1j, 2j]),
    "allclose_complex_numbers": lambda T: T.testing.assert_allclose(1 + 1j, 1 + 2j),
    "allclose_nan_parts": lambda T: T.testing.assert_allclose(
        _c(T, [complex(NAN, 1)]), _c(T, [complex(1, NAN)])),
    "allclose_real_and_complex": lambda T: T.testing.assert_allclose(
        _c(T, [1.0], "float32"), _c(T, [1 + 1e-6j])),
    "allclose_complex_into_real": lambda T: T.testing.assert_allclose(_c(T, [1.0], "float32"),
                                                                      [1 + 1j]),
    "allclose_tolerances": lambda T: T.testing.assert_allclose(
        _c(T, [1 + 1j]), _c(T, [1.1 + 1j]), rtol=0.01, atol=0.05),
}


@pytest.mark.parametrize("name", list(CLOSE))
def test_complex_assert_close_matches_torch(torch, name):
    assert _outcome(CLOSE[name], ember) == _outcome(CLOSE[name], torch)


def _edge_cases(seed, dtype, count, n):
    """Complex ``(actual, expected, rtol, atol)`` cases of ``n`` elements a few ulps either
    side of the tolerance circle: ``actual = expected + edge * direction`` with each part
    nudged by -1, 0 or +1 ulp (``rtol = atol = None``: the dtype's defaults)."""
    rng = np.random.default_rng(seed)
    np_dt = np.dtype(dtype)
    part_t = np_dt.type(0).real.dtype
    bits_t = {4: np.int32, 8: np.int64}[part_t.itemsize]
    nudges = np.array([(-1, 0), (0, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1)], bits_t)
    for _ in range(count):
        e = (rng.uniform(-10, 10, n) + 1j * rng.uniform(-10, 10, n)).astype(np_dt)
        rtol, atol = (float(v) for v in rng.choice([0.0, 1e-3, 0.01, 0.1, 0.3], 2))
        if rtol == atol == 0.0:
            rtol, atol = None, None
        r, a = (rtol, atol) if rtol is not None else (
            (1.3e-6, 1e-5) if dtype == "complex64" else (1e-7, 1e-7))
        angle = rng.uniform(0, 2 * math.pi, n)
        edge = (e + (a + r * np.abs(e.astype(np.complex128))) * np.exp(1j * angle)).astype(np_dt)
        parts = edge.view(part_t).view(bits_t).reshape(n, 2)
        x = (parts + nudges[rng.integers(0, len(nudges), n)]).view(part_t).view(np_dt)
        yield x.reshape(n), e, rtol, atol


# NOTE: torch's complex128 abs rounds with SLEEF's hypot in its vector lanes (groups of 4
# elements on AVX2), within 1 ulp of libm's hypot that ember uses (torch's scalar kernel, and
# exact for complex64): 3 elements keep complex128 on torch's scalar path
@pytest.mark.parametrize("dtype, n", [("complex64", 1), ("complex64", 8), ("complex128", 1),
                                      ("complex128", 3)])
def test_complex_tolerance_boundary_is_torchs(torch, dtype, n):
    """Right at ``atol + rtol * |expected|`` the answer hangs on the roundings of torch's
    kernels (parts times rtol, hypot, the sum in the parts' dtype): both ways, same message."""
    differing, outcomes = [], set()
    for x, e, rtol, atol in _edge_cases(3 + n, dtype, 500 // n, n):
        def check(T, x=x, e=e, rtol=rtol, atol=atol):
            T.testing.assert_close(T.tensor(x), T.tensor(e), rtol=rtol, atol=atol)

        got, want = _outcome(check, ember), _outcome(check, torch)
        outcomes.add(want[0] and want[0][1].splitlines()[2][:25])  # None or the mismatch count
        if got != want:
            differing.append((x, e, rtol, atol, got, want))
    assert not differing, differing[:3]
    assert len(outcomes) >= min(n, 3) + 1  # passes and failures: the cases straddle the edge


# --- make_tensor -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("kw", [{}, {"noncontiguous": True}, {"low": -2, "high": 3},
                                {"low": -1e30, "high": 1e30, "requires_grad": True},
                                {"low": 0.0, "high": "two_subnormals", "exclude_zero": True},
                                {"memory_format": "channels_last"}],
                         ids=["defaults", "noncontiguous", "bounds", "wide_grad",
                              "exclude_zero", "channels_last"])
def test_make_tensor_complex_gives_torchs_values(torch, dtype, kw):
    shape = (2, 3, 4, 5) if "memory_format" in kw else (3, 5)
    if kw.get("high") == "two_subnormals":  # parts 0 or the least subnormal: some 0j
        kw = {**kw, "high": 1e-323 if dtype == "complex128" else 2e-45}
    e, e_tail = _draw(ember, 11, *shape, dtype=dtype, **kw)
    t, t_tail = _draw(torch, 11, *shape, dtype=dtype, **kw)
    assert str(e.dtype) == str(t.dtype).replace("torch", "ember") == f"ember.{dtype}"
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.requires_grad == t.requires_grad
    np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())
    np.testing.assert_array_equal(e_tail.numpy(), t_tail.numpy())
    if kw.get("exclude_zero"):
        # zeros were there to replace: tiny + 0j, as torch's code writes them
        tiny = np.finfo(np.dtype(dtype).type(0).real.dtype).tiny
        assert np.any(e.numpy() == tiny) and not np.any(e.numpy() == 0)


def test_make_tensor_complex_float32_extremes(torch):
    e, _ = _draw(ember, 2, 6, dtype="complex64", low=-math.inf, high=math.inf)
    t, _ = _draw(torch, 2, 6, dtype="complex64", low=-math.inf, high=math.inf)
    np.testing.assert_array_equal(e.numpy(), t.numpy())  # the halved draw, doubled


@pytest.mark.parametrize("kw", [dict(low=1.5, high=1.5), dict(low=2, high=1),
                                dict(low=math.nan), dict(low=math.inf, high=math.inf)])
def test_make_tensor_complex_errors_and_warnings_match_torch(torch, kw):
    def call(T):
        T.manual_seed(0)
        return T.testing.make_tensor(2, 3, dtype=T.complex64, device="cpu", **kw).numpy()

    got, want = _outcome(call, ember), _outcome(call, torch)
    assert got == want


def test_compare_with_torch_sees_imaginary_parts(torch):
    def same(T, x):
        return x * (1 + 1j)

    def differs(T, x):
        return x * (1 + (1j if T is ember else 2j))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: nothing is cast to real
        assert ember.testing.compare_with_torch(same, np.ones(3, np.float32))
        report = ember.testing.compare_with_torch(differs, np.ones(3))
    assert not report and "values differ at 3 of 3 elements" in report.differences[0]
