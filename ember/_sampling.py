"""torch's CPU sampling algorithms on a Mersenne Twister seeded as torch seeds it.

``ember.Generator`` keeps a NumPy ``MT19937`` whose state after ``manual_seed(s)`` is the one
torch's CPU generator has, and the functions here turn its 32-bit words into numbers the way
ATen's CPU kernels do, so ``manual_seed`` followed by ``rand``, ``randn``, ``randint``,
``randperm``, ``multinomial`` or a shuffling ``DataLoader`` gives torch's numbers. Each
function takes the ember ``Generator`` and returns a NumPy array.
"""
from __future__ import annotations

import math

import numpy as np

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


def uniform(gen, shape, dtype, low=0.0, high=1.0) -> np.ndarray:
    """torch's ``uniform_(low, high)``: ``u * (high - low) + low`` in the tensor's precision.

    ATen's float kernel rounds once (a fused multiply-add): the float32 product of two 24-bit
    numbers is exact in float64, so the sum is done there and rounded to float32 once.
    """
    n = int(np.prod(shape, dtype=np.int64))
    t = np.float64 if _is_double(dtype) else np.float32
    u = uniform01(gen, n, t)
    span, low = t(t(high) - t(low)), t(low)
    if t is np.float32:
        out = (u.astype(np.float64) * np.float64(span) + np.float64(low)).astype(np.float32)
    else:
        out = u * span + low
    return out.astype(dtype, copy=False).reshape(shape)


def _box_muller16(u: np.ndarray) -> np.ndarray:
    """ATen's ``normal_fill_16``: 8 pairs (u1 from the first half, u2 from the second), in
    ``u``'s precision as torch computes it (float32 for float32 tensors: closer to torch's
    numbers than float64 math rounded once, and three times faster)."""
    t = u.dtype.type
    u = u.reshape(-1, 2, 8)
    radius = np.log(t(1.0) - u[:, 0])
    radius *= t(-2.0)
    np.sqrt(radius, out=radius)
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
    """torch's ``normal_(0, 1)`` on ``n`` elements: ``normal_fill`` (uniforms first, then
    Box-Muller in blocks of 16, the tail block redrawn) for 16+ contiguous elements, in the
    tensor's precision (float32 unless ``dtype`` is float64), else the serial double path
    (float64). Returned in draw order."""
    if n < 16 or not contiguous:
        return _normal_serial(gen, n)
    t = np.float64 if _is_double(dtype) else np.float32
    data = uniform01(gen, n, t)
    full = n - n % 16
    data[:full] = _box_muller16(data[:full])
    if n % 16:
        data[n - 16:] = _box_muller16(uniform01(gen, 16, t))
    return data


def normal(gen, target_shape, dtype, mean=0.0, std=1.0, contiguous=True) -> np.ndarray:
    """torch's ``normal_(mean, std)`` as an array of ``dtype`` (flat, in draw order)."""
    n = int(np.prod(target_shape, dtype=np.int64))
    z = standard_normal(gen, n, dtype, contiguous)
    if _is_double(dtype) or n < 16 or not contiguous:
        return (z * std + mean).astype(dtype)
    return (z.astype(np.float32) * np.float32(std) + np.float32(mean)).astype(dtype)


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


def integers(gen, n: int, low: int, high: int, dtype) -> np.ndarray:
    """torch's ``random_(low, high)`` / ``randint``: ``word % (high - low) + low``, on random64
    when the range reaches 2**32 (for 64-bit and float dtypes), else on one word."""
    span = high - low
    d = np.dtype(dtype)
    wide = span >= 1 << 32 and d in (np.dtype(np.int64), np.dtype(np.float64),
                                      np.dtype(np.float32))
    words = bits64(gen, n) if wide else bits32(gen, n)
    vals = [int(w) % span + low for w in words.tolist()] if span >= 1 << 63 else \
        (words % np.uint64(span)).astype(np.int64) + low
    return np.asarray(vals).astype(d)


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
