"""``assert_close`` and ``assert_allclose``: torch.testing's comparison, rules and messages.

Inputs are matched into pairs (recursing through sequences and mappings), each pair is
checked by the first pair type that accepts it (``None``, booleans, Python and NumPy
numbers, tensor-likes), and the first failure is raised with torch's message. Values are
compared on NumPy arrays with the arithmetic torch's ``isclose`` does in each dtype, so the
pass/fail boundary and the numbers in the message are torch's.
"""
from __future__ import annotations

import cmath
import collections.abc
import contextlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import ember

# {dtype name: (rtol, atol)}; every other dtype compares exactly
_DTYPE_PRECISIONS = {
    "float16": (0.001, 1e-5), "bfloat16": (0.016, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex32": (0.001, 1e-5), "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}
_ALLCLOSE_PRECISIONS = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
# the dtype whose default tolerances a Python number gets
_NUMBER_DTYPES = {int: "int64", float: "float64", complex: "complex128"}


class _ErrorMeta(Exception):
    """A failure found while comparing: its exception type, message and item path."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {_id_str(self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _UnsupportedInputs(Exception):
    """Raised by a pair type that does not handle the inputs: the next one is tried."""


def _id_str(id):
    return "".join(str([item]) for item in id)


def _default_tolerances(*names, precisions=None):
    rtols, atols = zip(*[(precisions or _DTYPE_PRECISIONS).get(n, (0.0, 0.0)) for n in names])
    return max(rtols), max(atols)


def _get_tolerances(*names, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        # both or neither: atol=0 alone would still pass values within the default rtol
        raise _ErrorMeta(ValueError, "Both 'rtol' and 'atol' must be either specified or "
                         f"omitted, but got no {'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*names)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_line(kind, diff, idx, tol):
        line = (f"{kind.title()} difference: {diff}" if idx is None else
                f"Greatest {kind} difference: {diff} at index {idx}")
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol)
    msg += diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, *, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                         atol, rel_diff, None, rtol)


def _tensor_mismatch_msg(x, y, matches, *, rtol, atol):
    """torch's statistics, computed in the dtype torch computes them in (integers in int64,
    their relative difference in the default dtype)."""
    total = matches.size
    bad = total - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    xf, yf, mf = x.reshape(-1), y.reshape(-1), matches.reshape(-1)
    integral = x.dtype.kind not in "fc"
    if integral:
        xf, yf = xf.astype(np.int64), yf.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = _abs(xf - yf)
        abs_diff[mf] = 0
        if integral:
            default = ember.get_default_dtype().np
            rel_diff = abs_diff.astype(default) / np.abs(yf).astype(default)
        else:
            rel_diff = abs_diff / _abs(yf)
        rel_diff[mf] = 0
    # argmax gives the first maximum and the first NaN, as torch.max(dim) does
    i_abs, i_rel = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))

    def unravel(i):
        return tuple(int(k) for k in np.unravel_index(i, x.shape))

    return _mismatch_msg("Tensor-likes", extra, abs_diff[i_abs].item(), unravel(i_abs), atol,
                         rel_diff[i_rel].item(), unravel(i_rel), rtol)


def _abs(x):
    """``torch.abs``: for complex values libm's ``hypot(re, im)``, as torch's scalar kernel
    (NumPy's own complex abs differs from it in the last bit).

    NOTE: torch's complex128 vector lanes (all but the last ``n % 4`` elements on AVX2) use
    SLEEF's hypot, which can be 1 ulp off libm's: the last digit of a message, or a verdict
    within 1 ulp of the tolerance, can then differ. complex64 agrees bit for bit."""
    return np.hypot(x.real, x.imag) if x.dtype.kind == "c" else np.abs(x)


def _isclose(x, y, *, rtol, atol, equal_nan):
    """``torch.isclose`` on arrays of one dtype, rounding where torch's kernels round."""
    with np.errstate(all="ignore"):
        close = x == y
        if equal_nan and x.dtype.kind in "fc":
            # a complex value is NaN when either part is: (nan+1j) matches (1+nanj)
            close |= np.isnan(x) & np.isnan(y)
        if rtol == 0 and atol == 0:
            return close
        if x.dtype.kind == "c":
            return close | _complex_within(x, y, rtol=rtol, atol=atol)
        if x.dtype.kind != "f":
            # bools and integers are compared as the default float dtype (no wrap-around)
            default = ember.get_default_dtype().np
            x, y = x.astype(default), y.astype(default)
        t = x.dtype.type
        # float16 is computed in float32 and rounded back after every op, like ATen;
        # there atol is rounded to the tensor's dtype first, rtol is not
        c = np.float64 if t is np.float64 else np.float32
        product = np.abs((y.astype(c) * c(rtol)).astype(t))
        allowed = (c(t(atol)) + product.astype(c)).astype(t)
        actual = np.abs((x.astype(c) - y.astype(c)).astype(t))
        close |= np.isfinite(actual) & (actual <= allowed)
    return close


def _complex_within(x, y, *, rtol, atol):
    """``|x - y| <= atol + |rtol * y|`` for complex arrays, in their real dtype: one distance
    in the complex plane (not one test per part), with the roundings of torch's kernels."""
    t = x.real.dtype.type
    # rtol * y multiplies each part by rtol rounded to the parts' dtype
    allowed = t(atol) + _abs(y * t(rtol))
    actual = _abs(x - y)
    return np.isfinite(actual) & (actual <= allowed)


class NonePair:
    """Pair of inputs at least one of which is ``None``: both must be."""

    def __init__(self, actual, expected, *, id=(), **options):
        if not (actual is None or expected is None):
            raise _UnsupportedInputs
        self.actual, self.expected, self.id = actual, expected, id

    def compare(self):
        """Raise unless both are ``None``."""
        if not (self.actual is None and self.expected is None):
            raise _ErrorMeta(AssertionError,
                             f"None mismatch: {self.actual} is not {self.expected}", id=self.id)


class BooleanPair:
    """Pair of ``bool`` / ``numpy.bool_`` inputs, compared for identity."""

    def __init__(self, actual, expected, *, id=(), **options):
        if not all(isinstance(v, (bool, np.bool_)) for v in (actual, expected)):
            raise _UnsupportedInputs
        self.actual, self.expected = (bool(v) for v in (actual, expected))
        self.id = id

    def compare(self):
        """Raise unless both are the same boolean."""
        if self.actual is not self.expected:
            raise _ErrorMeta(AssertionError, f"Booleans mismatch: {self.actual} is not "
                             f"{self.expected}", id=self.id)


class NumberPair:
    """Pair of Python (``int``, ``float``, ``complex``) or NumPy numbers."""

    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False,
                 check_dtype=False, **options):
        if not all(isinstance(v, (int, float, complex, np.number)) for v in (actual, expected)):
            raise _UnsupportedInputs
        self.actual, self.expected = (v.item() if isinstance(v, np.number) else v
                                      for v in (actual, expected))
        self.id = id
        # NOTE: like torch, a bool against an int fails here (KeyError, reported as a
        # RuntimeError by the caller): bool is an int but has no tolerance entry
        self.rtol, self.atol = _get_tolerances(
            *[_NUMBER_DTYPES[type(v)] for v in (self.actual, self.expected)],
            rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self):
        """Raise unless the numbers are within tolerance (and of one type, if checked)."""
        a, e = self.actual, self.expected
        if self.check_dtype and type(a) is not type(e):
            raise _ErrorMeta(AssertionError,
                             f"The (d)types do not match: {type(a)} != {type(e)}.", id=self.id)
        if a == e or (self.equal_nan and cmath.isnan(a) and cmath.isnan(e)):
            return
        abs_diff = abs(a - e)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(e):
            return
        raise _ErrorMeta(AssertionError, _scalar_mismatch_msg(a, e, rtol=self.rtol,
                                                              atol=self.atol), id=self.id)


class TensorLikePair:
    """Pair of tensors, or of directly related values ``ember.as_tensor`` accepts (two NumPy
    arrays, ...): attributes first (shape, layout or stride, device, dtype), then values."""

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None,
                 atol=None, equal_nan=False, check_device=True, check_dtype=True,
                 check_layout=True, check_stride=False, **options):
        related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
        if not related or (not allow_subclasses and type(actual) is not type(expected)):
            raise _UnsupportedInputs
        self.actual, self.expected = (self._to_tensor(v) for v in (actual, expected))
        self.id = id
        self.rtol, self.atol = _get_tolerances(self.actual.dtype.name, self.expected.dtype.name,
                                               rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_layout, self.check_stride = check_layout, check_stride

    @staticmethod
    def _to_tensor(value):
        if isinstance(value, ember.Tensor):
            return value
        try:
            return ember.as_tensor(value)
        except Exception:  # noqa: BLE001 - whatever as_tensor rejects is not tensor-like
            raise _UnsupportedInputs from None

    def _fail_attribute(self, name, actual, expected):
        raise _ErrorMeta(AssertionError, f"The values for attribute '{name}' do not match: "
                         f"{actual} != {expected}.", id=self.id)

    def compare(self):
        """Raise on the first attribute or value mismatch."""
        a, e = self.actual, self.expected
        if a.shape != e.shape:
            self._fail_attribute("shape", a.shape, e.shape)
        if a.layout != e.layout:
            if self.check_layout:
                self._fail_attribute("layout", a.layout, e.layout)
        elif self.check_stride and a.stride() != e.stride():
            self._fail_attribute("stride()", a.stride(), e.stride())
        if self.check_device and a.device != e.device:
            self._fail_attribute("device", a.device, e.device)
        if self.check_dtype and a.dtype != e.dtype:
            self._fail_attribute("dtype", a.dtype, e.dtype)
        if a.device != e.device:
            a, e = a.cpu(), e.cpu()
        if a.dtype != e.dtype:
            common = ember.promote_types(a.dtype, e.dtype)
            a, e = a.to(common), e.to(common)
        x, y = a.detach().numpy(), e.detach().numpy()
        matches = _isclose(x, y, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
        if matches.all():
            return
        if x.shape == ():
            msg = _scalar_mismatch_msg(x.item(), y.item(), rtol=self.rtol, atol=self.atol)
        else:
            msg = _tensor_mismatch_msg(x, y, matches, rtol=self.rtol, atol=self.atol)
        raise _ErrorMeta(AssertionError, msg, id=self.id)


_PAIR_TYPES = (NonePair, BooleanPair, NumberPair, TensorLikePair)


def _originate_pairs(actual, expected, *, id=(), **options):
    """One pair per leaf of the (nested) inputs; structure mismatches raise."""
    seq = collections.abc.Sequence
    if (isinstance(actual, seq) and not isinstance(actual, str)
            and isinstance(expected, seq) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _ErrorMeta(AssertionError, f"The length of the sequences mismatch: "
                             f"{len(actual)} != {len(expected)}", id=id)
        pairs = []
        for i in range(len(actual)):
            pairs += _originate_pairs(actual[i], expected[i], id=(*id, i), **options)
        return pairs
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _ErrorMeta(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}",
                id=id)
        keys = actual_keys
        with contextlib.suppress(Exception):  # sorted when the keys allow it: deterministic
            keys = sorted(keys)
        pairs = []
        for key in keys:
            pairs += _originate_pairs(actual[key], expected[key], id=(*id, key), **options)
        return pairs
    for pair_type in _PAIR_TYPES:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except _UnsupportedInputs:
            continue
        except _ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_id_str(id)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\nand\n\n"
                f"{type(expected).__name__}(): {expected}\n\n"
                "resulted in the unexpected exception above.") from error
    raise _ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type "
                     f"{type(actual)} and {type(expected)}.", id=id)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None):
    """Assert that ``actual`` and ``expected`` are close; mirrors ``torch.testing.assert_close``.

    Tensors (and pairs of directly related tensor-likes, such as two NumPy arrays) are close
    when they have the same shape, device, dtype and layout (each check but shape can be
    turned off; stride only with ``check_stride``) and every element satisfies
    ``|actual - expected| <= atol + rtol * |expected|``; infinities must be equal, NaNs only
    match with ``equal_nan``. Integer and bool tensors compare exactly by default. Complex
    values use the modulus of the complex difference (not a test per part), and a complex NaN
    (either part NaN) matches any other with ``equal_nan``. Python and NumPy numbers compare
    the same way (``check_dtype`` compares their types). Sequences and mappings are compared
    item by item (same length, same keys). A tensor and a Python number are not related
    types: comparing them raises ``TypeError``, as in torch.

    Default tolerances by dtype (the looser of the two when they differ): float16 (1e-3,
    1e-5), bfloat16 (1.6e-2, 1e-5), float32 and complex64 (1.3e-6, 1e-5), float64 and
    complex128 (1e-7, 1e-7), others 0. Python numbers: ``float`` as float64, ``complex`` as
    complex128.

    Args:
        actual: actual input.
        expected: expected input.
        allow_subclasses: accept inputs of directly related types (else types must match).
        rtol, atol: relative and absolute tolerance; give both or neither.
        equal_nan: treat two NaNs as equal.
        check_device, check_dtype, check_layout: require equal devices, dtypes, layouts
            (when off, tensors are moved to the CPU / promoted to a common dtype first).
        check_stride: require equal strides.
        msg: replaces the generated message; a callable gets the generated one.

    Raises:
        ValueError: if only one of ``rtol`` and ``atol`` is given.
        TypeError: if a pair of inputs cannot be compared (unrelated types, ...).
        AssertionError: if the inputs are not close, with torch's message.
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                   equal_nan=equal_nan, check_device=check_device, check_dtype=check_dtype,
                   check_layout=check_layout, check_stride=check_stride)
    try:
        pairs = _originate_pairs(actual, expected, **options)
    except _ErrorMeta as meta:
        # structural errors keep the generated message, as in torch: ``msg`` is not used
        raise meta.to_error() from None
    failures = []
    for pair in pairs:
        try:
            pair.compare()
        except _ErrorMeta as meta:
            failures.append(meta)
    if failures:
        raise failures[0].to_error(msg)


_ALLCLOSE_DEPRECATION = (
    "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
    "future release. Please use `torch.testing.assert_close()` instead. You can find "
    "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.")


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated form of ``assert_close``; mirrors ``torch.testing.assert_allclose``.

    Emits torch's ``FutureWarning``. Non-tensors become tensors (``expected`` in
    ``actual``'s dtype); dtypes may differ; NaNs match by default; default tolerances are
    float16 (1e-3, 1e-3), float32 (1e-4, 1e-5), float64 (1e-5, 1e-8), others (complex
    dtypes too, as in torch) 0.

    Args:
        actual: actual input.
        expected: expected input.
        rtol, atol: tolerances; give both or neither.
        equal_nan: treat two NaNs as equal.
        msg: message replacing the generated one (when non-empty).

    Raises:
        AssertionError: if the inputs are not close.
    """
    __tracebackhide__ = True
    warnings.warn(_ALLCLOSE_DEPRECATION, FutureWarning, stacklevel=2)
    if not isinstance(actual, ember.Tensor):
        actual = ember.tensor(actual)
    if not isinstance(expected, ember.Tensor):
        expected = ember.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = _default_tolerances(actual.dtype.name, expected.dtype.name,
                                         precisions=_ALLCLOSE_PRECISIONS)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_device=True, check_dtype=False, check_stride=False, msg=msg or None)
