"""torch's CPU samplers for gamma, Dirichlet, Poisson and binomial draws, on ember's generator.

ATen draws these one element at a time (``cpu_serial_kernel``), each element taking as many
uniforms and normals as its rejection loop needs, so after the same ``manual_seed`` the
numbers here are torch's. The algorithms are ATen's ``sample_gamma``, ``sample_poisson`` and
``sample_binomial`` (``ATen/native/Distributions.h``), line by line; float32 parameters go
through the float32 steps torch's ``scalar_t`` arithmetic takes. Each function takes an
``ember.Generator`` and a NumPy array and returns a NumPy array.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _libm
from .._sampling import uniform01

_F32 = np.float32
_ONE_THIRD_F = float(_F32(1.0) / _F32(3.0))  # C++ ``1.0f / 3.0f``: a float, widened
_C0331_F = float(_F32(0.0331))
_TWO_PI = 2.0 * math.pi
_TWO63 = 2 ** 63
_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


class _Stream:
    """torch's ``uniform_real_distribution<double>`` and ``normal_distribution<double>`` on
    ``gen``, one draw at a time.

    Uniforms are made in blocks (each takes two 32-bit words, as ``random64``); ``close``
    rewinds the Mersenne Twister to just after the last word used. Normals are Box-Muller
    pairs whose sine half waits on the generator for the next draw, as torch keeps it.
    """

    def __init__(self, gen, expected):
        self.gen = gen
        self.block = max(64, int(expected))
        self._refill()

    def _refill(self):
        self.state = self.gen._mt.state
        self.buf = uniform01(self.gen, self.block, np.float64).tolist()
        self.pos = 0

    def uniform(self):
        if self.pos == len(self.buf):
            self.block *= 2
            self._refill()
        u = self.buf[self.pos]
        self.pos += 1
        return u

    def normal(self):
        gen = self.gen
        if gen._normal_cache is not None:
            z, gen._normal_cache = gen._normal_cache, None
            return z
        u1 = self.uniform()
        u2 = self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = _TWO_PI * u1
        gen._normal_cache = r * math.sin(theta)
        return r * math.cos(theta)

    def close(self):
        """Leave the generator just past the words actually used."""
        self.gen._mt.state = self.state
        if self.pos:
            self.gen._mt.random_raw(2 * self.pos)


def _gamma_one(alpha, single, s):
    """ATen's ``sample_gamma`` (Marsaglia-Tsang, boosted below 1) for one ``alpha``; with
    ``single`` the steps torch does in float32 (``scalar_t`` float) are done in float32."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        inv = float(_F32(1.0) / _F32(alpha)) if single else 1.0 / alpha
        scale *= math.pow(1.0 - s.uniform(), inv)
        alpha = float(_F32(alpha) + _F32(1.0)) if single else alpha + 1.0
    d = float(_F32(alpha) - _F32(_ONE_THIRD_F)) if single else alpha - _ONE_THIRD_F
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = s.normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1.0 - s.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def standard_gamma(gen, alpha):
    """``torch._standard_gamma(alpha)``: one Gamma(alpha, 1) draw per element, in C order,
    floored at the dtype's smallest normal number."""
    alpha = np.asarray(alpha)
    single = alpha.dtype != np.float64
    flat = alpha.reshape(-1).tolist()
    s = _Stream(gen, 2.5 * len(flat))
    try:
        out = np.array([_gamma_one(a, single, s) for a in flat], np.float64)
    finally:
        s.close()
    out = out.astype(alpha.dtype)
    np.maximum(out, np.finfo(alpha.dtype).tiny, out=out)
    return out.reshape(alpha.shape)


def dirichlet(gen, alpha):
    """``torch._sample_dirichlet(alpha)``: float64 gammas normalised along the last dim, then
    clamped into ``[tiny, 1)`` of the dtype."""
    alpha = np.asarray(alpha)
    flat = alpha.reshape(-1).tolist()
    s = _Stream(gen, 2.5 * len(flat))
    try:
        gammas = np.array([_gamma_one(float(a), False, s) for a in flat], np.float64)
    finally:
        s.close()
    gammas = np.maximum(gammas, np.finfo(np.float64).tiny).reshape(alpha.shape)
    total = gammas.sum(-1, keepdims=True)
    out = (gammas / total).astype(alpha.dtype)
    top = np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    return np.clip(out, np.finfo(alpha.dtype).tiny, top)


def _lgamma(v):
    """``std::lgamma``: the C library's where it can be called (Python's ``math.lgamma``
    differs from it in the last bits, enough to flip some of the rejection tests once the
    rate is large, 1e12 and up), else Python's (inf past 2.5e305, where it would raise)."""
    c_lgamma = _libm.function("lgamma")
    if c_lgamma is not None:
        return c_lgamma(v)
    try:  # pragma: no cover - only without a C math library
        return math.lgamma(v)
    except OverflowError:  # pragma: no cover
        return math.inf


def _as_int64(v):
    """C++'s ``(int64_t)`` of an integral float on x86: out of range (inf, nan, 2**63 and
    beyond) gives INT64_MIN."""
    return int(v) if -_TWO63 <= v < _TWO63 else -_TWO63


def _poisson_one(lam, s):
    """ATen's ``sample_poisson``: Hoermann's transformed rejection from 10 on, else the
    product of uniforms. Uniforms are float64 (53 bits of two words each): two per try
    above 10, one per factor below."""
    if not lam >= 0:  # torch checks each rate as it reaches it (nan fails too)
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = s.uniform() - 0.5
            v = s.uniform()
            us = 0.5 - abs(u)
            # (C divides by us = 0 into inf, where Python would raise)
            k = (2 * a / us if us else math.inf) + b
            k = k * u + lam + 0.43
            k = float(math.floor(k)) if math.isfinite(k) else k
            # NOTE: ``k`` is an int64 in ATen, but past 2**63 (rates near 1e19 and up) the
            # cast is undefined and torch's build keeps comparing the float: its tests see
            # ``k`` (so it is not negative), while the value it returns is INT64_MIN.
            if us >= 0.07 and v <= vr:
                return _as_int64(k)
            if k < 0 or (us < 0.013 and v > us):
                continue
            log_v = math.log(v) if v > 0 else -math.inf
            if (log_v + math.log(invalpha) - math.log((a / (us * us) if us else math.inf) + b)
                    <= -lam + k * loglam - _lgamma(k + 1.0)):
                return _as_int64(k)
    if lam == 0:
        return 0
    enlam = math.exp(-lam)
    x, prod = 0, 1.0
    while True:
        prod *= s.uniform()
        if prod > enlam:
            x += 1
        else:
            return x


def poisson(gen, rate):
    """``torch.poisson(rate)`` on the CPU: one draw per element, in C order."""
    rate = np.asarray(rate)
    flat = rate.reshape(-1).astype(np.float64).tolist()
    small = np.minimum(np.maximum(rate, 0.0), 10.0, dtype=np.float64)  # -inf raises later
    s = _Stream(gen, 2 * len(flat) + 2 * float(np.nansum(small)))
    try:
        out = np.array([_poisson_one(r, s) for r in flat], np.float64)
    finally:
        s.close()
    return out.astype(rate.dtype).reshape(rate.shape)


def _stirling_tail(k):
    if k < 10:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count, prob, f, s):
    geom_sum, num_geom = 0.0, 0.0
    logprob = float(np.log1p(f(-prob)))
    while True:
        geom = math.ceil(math.log(s.uniform()) / logprob)
        geom_sum += geom
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _btrs_setup(count, prob, f):
    """BTRS's constants for one (count, prob); ``f`` rounds the ``scalar_t`` steps."""
    stddev = float(np.sqrt(f(f(f(count) * f(prob)) * f(1 - f(prob)))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = float(f(f(count) * f(prob))) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(f(f(prob) / f(1 - f(prob))))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(float(f(f(count + 1) * f(prob))))
    tails = _stirling_tail(m) + _stirling_tail(count - m)
    log_m = (m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
    return a, b, c, v_r, r, alpha, m, tails, log_m, float(f(count + 1))


def _btrs(count, prob, f, s, setup):
    """TensorFlow's BTRS (Hormann) as ATen has it."""
    a, b, c, v_r, r, alpha, m, tails, log_m, count1 = setup
    g = f if count >= 2 ** 24 else float  # integers below 2**24 are exact in float32
    while True:
        u = s.uniform() - 0.5
        v = s.uniform()
        us = 0.5 - abs(u)
        k = float(g(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        cmk1 = float(g(g(count - k) + 1))
        upperbound = (log_m + count1 * math.log((count - m + 1) / cmk1)
                      + (k + 0.5) * math.log(r * cmk1 / float(g(k + 1)))
                      + tails - _stirling_tail(k) - _stirling_tail(float(g(count - k))))
        if v <= upperbound:
            return k


def _binomial_one(count, prob, qprob, mean, qmean, f, s, setups):
    """ATen's ``sample_binomial``: inversion below a mean of 10, BTRS above; ``prob > 1/2``
    draws the failures. ``mean`` and ``qmean`` are ``count * prob`` and ``count * (1 -
    prob)`` as torch rounds them."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if mean >= 10.0:
            setup = setups.get((count, prob))
            if setup is None:
                setup = setups[count, prob] = _btrs_setup(count, prob, f)
            return _btrs(count, prob, f, s, setup)
        return _binomial_inversion(count, prob, f, s)
    if prob > 0.5:
        if qmean >= 10.0:
            setup = setups.get((count, qprob))
            if setup is None:
                setup = setups[count, qprob] = _btrs_setup(count, qprob, f)
            return float(f(count - _btrs(count, qprob, f, s, setup)))
        return float(f(count - _binomial_inversion(count, qprob, f, s)))
    return math.nan


def binomial(gen, count, prob):
    """``torch.binomial(count, prob)`` on the CPU (both of one shape and dtype)."""
    count, prob = np.broadcast_arrays(count, prob)
    dtype = prob.dtype
    f = float if dtype == np.float64 else _F32
    count = count.astype(dtype)
    qprob = (1.0 - prob.astype(np.float64)).astype(dtype)
    cols = [v.reshape(-1).astype(np.float64).tolist()
            for v in (count, prob, qprob, count * prob, count * qprob)]
    setups = {}
    s = _Stream(gen, 4 * len(cols[0]))
    try:
        out = np.array([_binomial_one(*args, f, s, setups) for args in zip(*cols)],
                       np.float64)
    finally:
        s.close()
    return out.astype(dtype).reshape(prob.shape)


__all__ = ["binomial", "dirichlet", "poisson", "standard_gamma"]
