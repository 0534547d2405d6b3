"""torch's CPU sampling algorithms on a Mersenne Twister seeded as torch seeds it.

``ember.Generator`` keeps a NumPy ``MT19937`` whose state after ``manual_seed(s)`` is the one
torch's CPU generator has, and the functions here turn its 32-bit words into numbers the way
ATen's CPU kernels do, so ``manual_seed`` followed by ``rand``, ``randn``, ``randint``,
``randperm``, ``multinomial`` or a shuffling ``DataLoader`` gives torch's numbers. Each
function takes the ember ``Generator`` and returns a NumPy array.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ._dtype import c_type_name

_LOW53 = np.uint64((1 << 53) - 1)


def seeded_mt(seed: int) -> np.random.MT19937:
    """A NumPy MT19937 in the state torch's ``mt19937(seed)`` starts from (init_genrand)."""
    key = np.empty(624, np.uint32)
    s = seed & 0xFFFFFFFF
    for i in range(624):
        key[i] = s
        s = (1812433253 * (s ^ (s >> 30)) + i + 1) & 0xFFFFFFFF
    mt = np.random.MT19937()
    mt.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": 624}}
    return mt


def bits32(gen, n: int) -> np.ndarray:
    """``n`` calls of torch's ``generator->random()`` (uint64 holding 32-bit words)."""
    return gen._mt.random_raw(n) if n else np.zeros(0, np.uint64)


def bits64(gen, n: int) -> np.ndarray:
    """``n`` calls of torch's ``generator->random64()``: two words, the first one high."""
    w = bits32(gen, 2 * n)
    return (w[0::2] << np.uint64(32)) | w[1::2]


def _is_double(dtype) -> bool:
    return np.dtype(dtype) == np.float64


def uniform01(gen, n: int, dtype) -> np.ndarray:
    """torch's ``uniform_real_distribution(0, 1)``: 53 bits of random64 for float64 (exact),
    24 bits of one word otherwise (computed as float32)."""
    if _is_double(dtype):
        return (bits64(gen, n) & _LOW53).astype(np.float64) * 2.0 ** -53
    return ((bits32(gen, n) & np.uint64(0xFFFFFF)).astype(np.float32) * np.float32(2.0 ** -24))


def _fill_order(shape, strides):
    """The axis order torch's serial kernels walk a strided tensor in (largest stride first)."""
    return sorted(range(len(shape)), key=lambda d: -abs(strides[d]))


def fill(target: np.ndarray, values: np.ndarray) -> None:
    """Write ``values`` (flat, in draw order) into ``target`` in its memory order."""
    perm = _fill_order(target.shape, target.strides)
    view = target.transpose(perm)
    view[...] = values.reshape(view.shape)


# --- rounding helpers: torch's kernels fuse ``a * b + c`` into one rounding (an FMA) ----------
_SPLITTER = 134217729.0  # 2**27 + 1, Veltkamp's constant for splitting a double in halves
_EXACT_LIMIT = -960      # below this sum of binary exponents a split product may underflow


def _two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (Knuth)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def _split(a):
    """Veltkamp: ``a = hi + lo`` with both halves 26 bits wide, so their products are exact."""
    c = a * _SPLITTER
    hi = c - (c - a)
    return hi, a - hi


def _odd_sum(a, b) -> np.ndarray:
    """``a + b`` rounded to odd: a float64 that rounds to any narrower format (float32, half)
    exactly as the exact sum would, where round-to-nearest could round twice."""
    s, e = _two_sum(np.asarray(a, np.float64), b)
    s = np.array(s, np.float64, ndmin=1)
    e = np.broadcast_to(e, s.shape)
    nudge = (e != 0) & ((s.view(np.uint64) & np.uint64(1)) == 0)
    if nudge.any():
        s[nudge] = np.nextafter(s[nudge], np.copysign(np.inf, e[nudge]))
    return s


def _fma_exact(a, b: float, c: float) -> np.ndarray:
    """``a * b + c`` rounded once, in Python integers (the slow path for tiny products)."""
    bn, bd = float(b).as_integer_ratio()
    cn, cd = float(c).as_integer_ratio()
    out = []
    for x in np.asarray(a, np.float64).tolist():
        an, ad = x.as_integer_ratio()
        den = max(ad * bd, cd)
        num = an * bn * (den // (ad * bd)) + cn * (den // cd)
        try:
            out.append(num / den)  # int / int rounds once, as IEEE arithmetic does
        except OverflowError:
            out.append(math.inf if num > 0 else -math.inf)
    return np.array(out, np.float64)


def fma(a, b: float, c: float) -> np.ndarray:
    """``a * b + c`` for a float64 array ``a`` and numbers ``b``, ``c``, rounded once as
    ``std::fma`` (and the FMA the compiler makes of torch's ``x * std + mean``) rounds it.

    The product is split exactly (Dekker), then the three-term sum is rounded once through a
    round-to-odd step (Boldo and Melquiond's emulated FMA); products too small for an exact
    split take a slow exact path.
    """
    a = np.asarray(a, np.float64)
    b, c = float(b), float(c)
    if c == 0.0 or b == 0.0 or not math.isfinite(b) or not math.isfinite(c):
        with np.errstate(over="ignore", invalid="ignore"):
            return a * b + c  # a single rounding already
    if abs(b) > 2.0 ** 900:  # scaling by a power of two commutes with rounding: keeps the
        scale = 2.0 ** 80   # split of ``b`` (and the products of its halves) finite
        with np.errstate(over="ignore"):
            return fma(a, b / scale, c / scale) * scale
    b_hi, b_lo = _split(b)
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        a_hi, a_lo = _split(a)
        err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo  # p + err == a*b
        th, tl = _two_sum(c, err)
        vh, vl = _two_sum(p, th)
        out = np.array(vh + _odd_sum(tl, vl), np.float64).reshape(a.shape)
    slow = (a != 0) & (np.frexp(a)[1] + math.frexp(b)[1] < _EXACT_LIMIT)
    slow |= (np.abs(a) > 2.0 ** 900) | ~np.isfinite(p)
    if slow.any():
        finite = slow & np.isfinite(a)
        out[finite] = _fma_exact(a[finite], b, c)
        out[slow & ~finite] = a[slow & ~finite] * b + c
    return out


def fma32(a, b, c) -> np.ndarray:
    """``a * b + c`` rounded once to float32 (``_mm256_fmadd_ps``, or the compiler's fused
    float kernel): the product of two floats is exact in float64, and the float64 sum rounds
    to float32 as the exact one would except on a float32 tie (or below float32's normal
    range): those few are redone through a round-to-odd sum."""
    p = np.asarray(a, np.float32).astype(np.float64) * np.asarray(b, np.float32)
    if np.ndim(c) or not p.ndim:
        p, c = np.broadcast_arrays(np.atleast_1d(p), np.asarray(c, np.float32).astype(np.float64))
    else:  # the common case, a number: no broadcasting needed
        c = np.float64(np.float32(c))
    s = p + c
    out = s.astype(np.float32)
    risky = ((s.view(np.uint64) & np.uint64(0x1FFFFFFF)) == np.uint64(0x10000000))
    risky |= np.abs(s) < 2.0 ** -126
    if risky.any():
        out[risky] = _odd_sum(p[risky], c[risky] if np.ndim(c) else c).astype(np.float32)
    return out


# --- uniform_ -----------------------------------------------------------------------------------
_TYPE_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half"}


def _num(v) -> str:
    """A double as C++'s ``ostream`` prints it (``2``, ``1e-07``, ``3.3e+38``)."""
    return f"{float(v):g}"


def check_uniform_bounds(low, high, dtype) -> None:
    """torch's ``check_uniform_bounds``: finite bounds within the dtype, ``from <= to`` and a
    span the dtype can hold (checked even for an empty tensor, as in torch)."""
    d = np.dtype(dtype)
    big = float(np.finfo(d).max)
    for name, v in (("from", low), ("to", high)):
        if not -big <= v <= big:
            raise RuntimeError(f"{name} is out of bounds for {c_type_name(d)}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_num(low)} > to={_num(high)}")
    if float(high) - float(low) > big:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<"
                           f"{_TYPE_NAMES[d.name]}>::max(), but found to={_num(high)} and "
                           f"from={_num(low)} which result in to-from to exceed the limit")


def uniform(gen, shape, dtype, low=0.0, high=1.0) -> np.ndarray:
    """torch's ``uniform_(low, high)``: ``fma(u, to - from, from)`` in the tensor's precision
    (float for half), cast to the dtype, and a value that rounded up to ``to`` replaced by
    ``from`` (torch's CPU kernel keeps ``to`` out of the range).

    ``u`` is 53 bits of ``random64()`` for float64, 24 bits of one word otherwise; float32
    and half use ``float(from)`` and ``float(to) - float(from)`` (rounded to float).
    """
    d = np.dtype(dtype)
    check_uniform_bounds(low, high, d)
    n = int(np.prod(shape, dtype=np.int64))
    if d == np.float64:
        lo, hi = float(low), float(high)
        out = fma(uniform01(gen, n, np.float64), hi - lo, lo)
        top, bottom = hi, lo
    else:
        lo, hi = np.float32(low), np.float32(high)
        u = uniform01(gen, n, np.float32)
        out = (u if lo == 0 and hi == 1 else fma32(u, hi - lo, lo)).astype(d, copy=False)
        top, bottom = d.type(hi), d.type(lo)
    out[out == top] = bottom
    return out.reshape(shape)


def _box_muller16(u: np.ndarray) -> np.ndarray:
    """ATen's ``normal_fill_16``: 8 pairs (u1 from the first half, u2 from the second), in
    ``u``'s precision.

    NOTE: float64 matches torch bit for bit (both use libm's log/cos/sin). In float32 torch's
    AVX2 kernel has its own log/sin/cos (avx_mathfun); NumPy's float32 ones differ from them
    in the last bit or two, which costs nothing, where emulating avx_mathfun's polynomials in
    NumPy made ``randn`` 15-80x slower."""
    t = u.dtype.type
    u = u.reshape(-1, 2, 8)
    radius = np.sqrt(np.log(t(1.0) - u[:, 0]) * t(-2.0))
    theta = u[:, 1] * t(2.0 * np.pi)
    out = np.empty((u.shape[0], 2, 8), u.dtype)
    np.cos(theta, out=out[:, 0])
    np.sin(theta, out=out[:, 1])
    out *= radius[:, None, :]
    return out.reshape(-1)


def _normal_serial(gen, n: int) -> np.ndarray:
    """torch's ``normal_distribution<double>``, one call per element: Box-Muller whose sine
    half is kept for the next call (on the generator, as torch keeps it)."""
    out = np.empty(n)
    start = 0
    if n and gen._normal_cache is not None:
        out[0], gen._normal_cache, start = gen._normal_cache, None, 1
    pairs = (n - start + 1) // 2
    u = uniform01(gen, 2 * pairs, np.float64)
    r = np.sqrt(-2.0 * np.log1p(-u[1::2]))
    theta = 2.0 * np.pi * u[0::2]
    both = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1).reshape(-1)
    out[start:] = both[:n - start]
    if (n - start) % 2:
        gen._normal_cache = float(both[-1])
    return out


def standard_normal(gen, n: int, dtype, contiguous: bool = True) -> np.ndarray:
    """torch's ``normal_(0, 1)`` on ``n`` elements: ``normal_fill`` (uniforms, then Box-Muller
    in blocks of 16, the tail block redrawn) for 16+ contiguous elements, in float64 for
    float64 and float32 otherwise, else the serial double path (float64). In draw order.

    float32 draws all ``n`` uniforms before the tail block; half fills block by block, so its
    tail block starts right after the last full one.
    """
    if n < 16 or not contiguous:
        return _normal_serial(gen, n)
    t = np.float64 if _is_double(dtype) else np.float32
    full = n - n % 16
    data = uniform01(gen, full if np.dtype(dtype) == np.float16 else n, t)
    data[:full] = _box_muller16(data[:full])
    if n % 16:
        data = np.resize(data, n)
        data[n - 16:] = _box_muller16(uniform01(gen, 16, t))
    return data


def normal(gen, target_shape, dtype, mean=0.0, std=1.0, contiguous=True) -> np.ndarray:
    """torch's ``normal_(mean, std)`` as an array of ``dtype`` (flat, in draw order):
    ``fma(z, std, mean)`` in the precision ``z`` was made in (float for half), then cast."""
    n = int(np.prod(target_shape, dtype=np.int64))
    z = standard_normal(gen, n, dtype, contiguous)
    if z.dtype == np.float32:
        out = fma32(z, std, mean)
    else:
        out = fma(z, std, mean)
    return _narrow(out, dtype)


def _narrow(values: np.ndarray, dtype) -> np.ndarray:
    """``static_cast<scalar_t>``: half through float, as ``c10::Half`` converts a double."""
    if np.dtype(dtype) == np.float16 and values.dtype == np.float64:
        values = values.astype(np.float32)
    return values.astype(dtype, copy=False)


def randperm(gen, n: int) -> np.ndarray:
    """torch's CPU ``randperm``: Fisher-Yates swapping ``i`` with ``i + random() % (n - i)``
    (the inside-out variant on random64 for n beyond 2**32 / 20, as torch)."""
    if n >= 0xFFFFFFFF // 20:  # pragma: no cover - far too large for a Python loop anyway
        out = np.empty(n, np.int64)
        for i, w in enumerate(bits64(gen, n).tolist()):
            z = w % (i + 1)
            out[i] = out[z]
            out[z] = i
        return out
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    targets = np.empty(n, np.int64)  # step i swaps positions i and targets[i] >= i
    targets[:-1] = (bits32(gen, n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    targets[:-1] += np.arange(n - 1)
    targets[-1] = n - 1
    return _swapped_in_order(targets)


def _swapped_in_order(targets: np.ndarray) -> np.ndarray:
    """``arange(n)`` after swapping position ``i`` with ``targets[i] >= i`` for i = 0, 1, ...,
    without a Python loop (3.5x faster at a million elements).

    Position ``k`` is final after step ``k``: it takes the value at ``targets[k]`` just before
    step ``k``. Only steps aimed at a position change it before its own step, each writing the
    value its own position held just before it; so "the value at ``p`` before step ``k``" is
    the original ``p`` or, if an earlier step aimed at ``p``, that step's own "before" value:
    a chain back to an untouched position, followed by pointer jumping.
    """
    n = targets.size
    idx = np.arange(n)
    order = np.argsort(targets, kind="stable")         # steps grouped by target, in step order
    sorted_t = targets[order]
    same = np.zeros(n, bool)
    same[1:] = sorted_t[1:] == sorted_t[:-1]
    pred = np.full(n, -1)
    pred[order[1:][same[1:]]] = order[:-1][same[1:]]   # the previous step with the same target
    last = np.full(n, -1)
    ends = np.ones(n, bool)
    ends[:-1] = ~same[1:]
    last[sorted_t[ends]] = order[ends]                 # the last step aimed at each position
    self_swap = targets == idx
    wrote = np.where(self_swap, pred, last)            # the step that last wrote k before step k
    before = np.where(wrote < 0, idx, wrote)           # -> the value at k just before step k
    while True:
        jumped = before[before]
        if np.array_equal(jumped, before):
            break
        before = jumped
    taken = np.where(pred >= 0, before[np.maximum(pred, 0)], targets)
    return np.where(self_swap, before, taken)


# --- random_ / randint --------------------------------------------------------------------------
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_MASK64 = (1 << 64) - 1
_WIDE_RANGE = 1 << 28  # from this range up torch 2.13 reduces random64(), below it one word
_DIGITS = {"float64": 53, "float32": 24, "float16": 11}


def _wrap64(v: int) -> int:
    return ((v - _INT64_MIN) & _MASK64) + _INT64_MIN


def _through_dtype(v: int, d) -> int:
    """``static_cast<int64_t>(static_cast<scalar_t>(v))`` for a float dtype (half through
    float, as ``c10::Half`` converts); a value beyond int64 comes back as INT64_MIN, as x86's
    conversion gives it."""
    x = float(_from_int64(np.array([v], np.int64), d)[0])
    return int(x) if math.isfinite(x) and _INT64_MIN <= x < 2.0 ** 63 else _INT64_MIN


def _update_bound(v: int, d, step: int) -> int:
    """torch's ``update_from`` (``step=1``) and ``update_to`` (``step=-1``): a ``from`` whose
    successor the dtype rounds below it moves up, a ``to`` whose predecessor rounds up to it
    moves down, to values the dtype holds."""
    near = _through_dtype(v + step, d)
    if near < v if step > 0 else near >= v:
        n = max(abs(v + step).bit_length() - 1, 0)
        v = _wrap64(near + step * (1 << (n - _DIGITS[d.name] + 1)))
    return v


def _check_in_range(low: int, to_inc: int, d) -> None:
    """torch's ``check_from_to_in_range``: both ends inside the dtype (an error), and inside
    the float's exact integers (a warning)."""
    name = c_type_name(d)
    if d.kind == "f":
        lo_lim, hi_lim = -float(np.finfo(d).max), float(np.finfo(d).max)
    elif d == np.bool_:
        lo_lim, hi_lim = 0, 1
    else:
        lo_lim, hi_lim = int(np.iinfo(d).min), int(np.iinfo(d).max)
    for label, v in (("from", low), ("to - 1", to_inc)):
        if not lo_lim <= v <= hi_lim:
            raise RuntimeError(f"{label} is out of bounds for {name}")
    if d.kind == "f":
        digits = _DIGITS[d.name]
        for label, v in (("from", low), ("to - 1", to_inc)):
            if not -(1 << digits) <= v <= 1 << digits:
                warnings.warn(f"{label} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {name} can support discrete uniform "
                              "distribution only within this range. This warning will become an "
                              "error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=4)


def _from_int64(v: np.ndarray, d) -> np.ndarray:
    """``static_cast<scalar_t>`` of int64 values (half through float, bool as ``!= 0``)."""
    if d == np.float16:
        with np.errstate(over="ignore"):
            return v.astype(np.float32).astype(np.float16)
    return v != 0 if d == np.bool_ else v.astype(d)


def integers(gen, n: int, low: int, high, dtype) -> np.ndarray:
    """torch's ``random_(low, high)`` / ``randint``: ``word % range + low``, ``word`` one
    ``random64()`` when the range is 2**28 or more, else one 32-bit word; ``high=None`` means
    up to the dtype's largest value (``2**digits`` for floats), and ``low=-2**63`` then the
    whole int64 range (``random_(from, None)``).

    Float dtypes first move the bounds to values the dtype holds (torch's ``update_from`` and
    ``update_to``); torch's errors and warnings for bounds outside the dtype are raised here.
    """
    d = np.dtype(dtype)
    for v in (low, high):
        if v is not None and not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError("Overflow when unpacking long long")
    if high is not None:
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                               f">= to={high}")
        if d.kind == "f":
            low, high = _update_bound(low, d, 1), _update_bound(high, d, -1)
            if low >= high:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' "
                                   f"casted to dtype, but got from={low} >= to={high}")
        _check_in_range(low, high - 1, d)
        span = high - low
    elif low != _INT64_MIN:
        if d.kind == "f":
            to_inc = 1 << _DIGITS[d.name]
            low = _update_bound(low, d, 1)
            if low >= to_inc:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than or "
                                   "equal to 'to_inc' casted to dtype, but got "
                                   f"from={low} > to_inc={to_inc}")
        else:
            to_inc = 1 if d == np.bool_ else int(np.iinfo(d).max)
        _check_in_range(low, to_inc, d)
        span = to_inc - low + 1
    else:
        return _full_64_bits(gen, n, d)
    words = bits64(gen, n) if span >= _WIDE_RANGE else bits32(gen, n)
    # uint64 arithmetic wraps as torch's does; the sum read as int64 is the value
    vals = words % np.uint64(span) + np.uint64(low & _MASK64)
    return _from_int64(vals.view(np.int64), d)


def _full_64_bits(gen, n: int, d) -> np.ndarray:
    """torch's ``random_(-2**63, None)``: a whole ``random64()`` read as int64."""
    if n and d in (np.float16, np.bool_):
        kind = "Half" if d == np.float16 else "Bool"
        raise NotImplementedError(f"\"random_full_64_bits_range_kernel_cpu\" not implemented for "
                                  f"'{kind}'")
    if n and d not in (np.int64, np.float64, np.float32):
        raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, "
                           "float and bfloat16")
    return _from_int64(bits64(gen, n).view(np.int64), d)


def full_range(gen, n: int, dtype) -> np.ndarray:
    """torch's ``random_()`` without bounds: [0, 2**mantissa] for floats, [0, max] for ints,
    a bit for bool (random64 for int64 and float64, one word otherwise)."""
    d = np.dtype(dtype)
    words = bits64(gen, n) if d in (np.dtype(np.int64), np.dtype(np.float64)) \
        else bits32(gen, n)
    if d == np.bool_:
        return (words & np.uint64(1)).astype(bool)
    if d.kind == "f":
        digits = {8: 53, 4: 24, 2: 11}[d.itemsize]
        return (words % np.uint64((1 << digits) + 1)).astype(d)
    return (words % np.uint64(int(np.iinfo(d).max) + 1)).astype(d)


def exponential(gen, n: int, dtype, lambd=1.0) -> np.ndarray:
    """torch's CPU ``exponential_``: ``-1 / lambd * log1p(-u)`` with ``u`` from random64."""
    return (-1.0 / lambd * np.log1p(-uniform01(gen, n, np.float64))).astype(dtype)


def bernoulli_scalar(gen, shape, p: float) -> np.ndarray:
    """torch's ``bernoulli_(p)`` for a float ``p`` on its default CPU kernel: True where
    ``u < p``, ``u`` the 53-bit double of one ``random64()`` per element, drawn in C order.

    (torch builds with MKL draw from MKL's stream instead on Intel processors.)
    """
    n = math.prod(shape)
    # u = k * 2**-53 < p  <=>  k < ceil(p * 2**53), both sides exact integers
    return (_low53(gen, n) < math.ceil(p * 2.0**53)).reshape(shape)


def _low53_from_words(gen, n: int) -> np.ndarray:
    """The low 53 bits of ``n`` random64 draws, assembled from pairs of 32-bit words."""
    words = gen._mt.random_raw(2 * n).reshape(n, 2)
    k = words[:, 0] & 0x1FFFFF  # the high word's low 21 bits: bits 32..52 of u
    k <<= 32
    k |= words[:, 1]
    return k


def _low53_masked(gen, n: int) -> np.ndarray:
    """The same numbers, in one C loop: NumPy's legacy ``randint`` over ``[0, 2**53)`` masks
    each ``next_uint64`` (two words, the first one high) with ``2**53 - 1``, and a range that
    is exactly the mask never rejects. The ``RandomState`` over the generator's twister is
    kept on the generator (making one costs more than the draw)."""
    legacy = gen.__dict__.get("_legacy")
    if legacy is None or legacy[0] is not gen._mt:
        legacy = gen._legacy = (gen._mt, np.random.RandomState(gen._mt))
    return legacy[1].randint(0, 1 << 53, size=n, dtype=np.uint64)


def _pick_low53():
    """``_low53_masked`` when this NumPy's legacy path gives the word-pair result (checked
    once, on a scratch generator), else ``_low53_from_words``."""
    class _Scratch:
        def __init__(self):
            self._mt = seeded_mt(5489)

    try:
        a, b = _Scratch(), _Scratch()
        if np.array_equal(_low53_masked(a, 7), _low53_from_words(b, 7)) and \
                np.array_equal(a._mt.random_raw(1), b._mt.random_raw(1)):
            return _low53_masked
    except Exception:  # pragma: no cover - a NumPy without the legacy path
        pass
    return _low53_from_words  # pragma: no cover


_low53 = _pick_low53()


def bernoulli(gen, p: np.ndarray, dtype) -> np.ndarray:
    """torch's ``bernoulli(p_tensor)``: ``u < p`` per element, ``u`` in ``p``'s precision."""
    u = uniform01(gen, p.size, p.dtype).reshape(p.shape)
    return (u < p).astype(dtype)


def multinomial(gen, rows: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """torch's CPU ``multinomial`` on 2-D non-negative ``rows`` (already validated).

    With replacement (and more than one sample): per row, a normalised cumulative sum in the
    input's precision, then a binary search for each float64 uniform. Otherwise the
    exponential trick: the top ``num_samples`` of ``rows / Exp(1)`` draws.
    """
    if replacement and num_samples > 1:
        out = np.empty((rows.shape[0], num_samples), np.int64)
        for r, row in enumerate(rows):
            cdf = np.cumsum(row, dtype=row.dtype)
            cdf = cdf / cdf[-1]
            cdf[-1] = 1
            out[r] = np.searchsorted(cdf.astype(np.float64), uniform01(gen, num_samples,
                                                                      np.float64))
        return out
    q = exponential(gen, rows.size, rows.dtype).reshape(rows.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = rows / q
    return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)
