"""Window functions, computed as torch.signal.windows computes them.

Each builds a ``linspace`` of the window's argument in the requested dtype and applies the
window's formula with ember ops, in torch's order (so float32 results round alike), and
with ``requires_grad=True`` the result carries a graph back to that ``linspace`` leaf, as in
torch. Every window takes ``M`` and the keywords ``sym`` (True: symmetric, for filter design;
False: periodic, for spectral analysis), ``dtype`` (float32 or float64; default: the default
dtype), ``layout`` (strided only: None or ``ember.strided``), ``device`` and
``requires_grad``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import ember

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _is_strided(layout) -> bool:
    return layout is None or layout is ember.strided or str(layout) == "torch.strided"


def _window_function_checks(function_name, M, dtype, layout) -> None:
    if M < 0:
        raise ValueError(f"{function_name} requires non-negative window length, got M={M}")
    if not _is_strided(layout):
        raise ValueError(f"{function_name} is implemented for strided tensors only, got: "
                         f"{layout}")
    if dtype not in [ember.float32, ember.float64]:
        raise ValueError(f"{function_name} expects float32 or float64 dtypes, got: {dtype}")


def _empty(dtype, device, requires_grad):
    return ember.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)


def _ones(dtype, device, requires_grad):
    return ember.ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)


def _linspace(start, end, M, dtype, device, requires_grad):
    return ember.linspace(start, end, M, dtype=dtype, device=device,
                          requires_grad=requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=None, device=None, requires_grad: bool = False):
    """Exponential (Poisson) window: ``w_n = exp(-|n - c| / tau)``.

    Args:
        M: window length.
        center: where the peak sits; must be None for a symmetric window. Default:
            ``M / 2`` (periodic) or ``(M - 1) / 2`` (symmetric).
        tau: decay; must be positive.

    Raises:
        ValueError: ``M < 0``, a non-strided layout, a non-float dtype, ``tau <= 0``, or
            ``center`` given with ``sym=True``.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _empty(dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = _linspace(-center * constant, (-center + (M - 1)) * constant, M, dtype, device,
                  requires_grad)
    return ember.exp(-ember.abs(k))


def cosine(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
           requires_grad: bool = False):
    """Cosine (sine) window, as SciPy's: ``w_n = sin(pi (n + 0.5) / M)``.

    Raises:
        ValueError: ``M < 0``, a non-strided layout or a non-float dtype.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("cosine", M, dtype, layout)
    if M == 0:
        return _empty(dtype, device, requires_grad)
    start = 0.5
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    k = _linspace(start * constant, (start + (M - 1)) * constant, M, dtype, device,
                  requires_grad)
    return ember.sin(k)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=None,
             device=None, requires_grad: bool = False):
    """Gaussian window: ``w_n = exp(-(n / (2 std))^2)`` around the window's centre.

    Args:
        M: window length.
        std: the standard deviation; must be positive.

    Raises:
        ValueError: ``M < 0``, a non-strided layout, a non-float dtype or ``std <= 0``.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _empty(dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _linspace(start * constant, (start + (M - 1)) * constant, M, dtype, device,
                  requires_grad)
    return ember.exp(-(k ** 2))


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=None,
           device=None, requires_grad: bool = False):
    """Kaiser window: ``w_n = I0(beta sqrt(1 - ((n - N/2) / (N/2))^2)) / I0(beta)``, with
    ``N = M - 1`` (symmetric) or ``M`` (periodic).

    Args:
        M: window length.
        beta: shape parameter; must be non-negative.

    Raises:
        ValueError: ``M < 0``, a non-strided layout, a non-float dtype or ``beta < 0``.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M == 0:
        return _empty(dtype, device, requires_grad)
    if M == 1:
        return _ones(dtype, device, requires_grad)
    # beta as a tensor of the window's dtype keeps sqrt(beta^2 - k^2) off NaN at the ends
    beta = ember.tensor(beta, dtype=dtype, device=device)
    start = -beta
    constant = 2.0 * beta / (M if not sym else M - 1)
    end = ember.minimum(beta, start + (M - 1) * constant)
    k = _linspace(start, end, M, dtype, device, requires_grad)
    return ember.i0(ember.sqrt(beta * beta - ember.pow(k, 2))) / ember.i0(beta)


def hamming(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False):
    """Hamming window: ``w_n = 0.54 - 0.46 cos(2 pi n / (M - 1))``.

    Raises:
        ValueError: as ``general_cosine``.
    """
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
         requires_grad: bool = False):
    """Hann window: ``w_n = (1 - cos(2 pi n / (M - 1))) / 2``.

    Raises:
        ValueError: as ``general_cosine``.
    """
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False):
    """Blackman window: ``general_cosine`` with ``a = [0.42, 0.5, 0.08]``.

    Raises:
        ValueError: ``M < 0``, a non-strided layout or a non-float dtype.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
             requires_grad: bool = False):
    """Bartlett (triangular) window: ``w_n = 1 - |2n / (M - 1) - 1|``.

    Raises:
        ValueError: ``M < 0``, a non-strided layout or a non-float dtype.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("bartlett", M, dtype, layout)
    if M == 0:
        return _empty(dtype, device, requires_grad)
    if M == 1:
        return _ones(dtype, device, requires_grad)
    start = -1
    constant = 2 / (M if not sym else M - 1)
    k = _linspace(start, start + (M - 1) * constant, M, dtype, device, requires_grad)
    return 1 - ember.abs(k)


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=None, device=None,
                   requires_grad: bool = False):
    """General cosine window: ``w_n = sum_i (-1)^i a_i cos(2 pi i n / (M - 1))``.

    Args:
        M: window length.
        a: the coefficients ``a_i`` (a non-empty list or tuple).

    Raises:
        ValueError: ``M < 0``, a non-strided layout, a non-float dtype or empty ``a``.
        TypeError: ``a`` is not iterable.
    """
    dtype = ember.get_default_dtype() if dtype is None else dtype
    _window_function_checks("general_cosine", M, dtype, layout)
    if M == 0:
        return _empty(dtype, device, requires_grad)
    if M == 1:
        return _ones(dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _linspace(0, (M - 1) * constant, M, dtype, device, requires_grad)
    a_i = ember.tensor([(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype,
                       requires_grad=requires_grad)
    i = ember.arange(a_i.shape[0], dtype=a_i.dtype, device=a_i.device,
                     requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * ember.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=None,
                    device=None, requires_grad: bool = False):
    """General Hamming window: ``w_n = alpha - (1 - alpha) cos(2 pi n / (M - 1))``.

    Raises:
        ValueError: as ``general_cosine``.
    """
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=None, device=None,
            requires_grad: bool = False):
    """Nuttall's minimum 4-term Blackman-Harris window (``general_cosine`` with
    ``a = [0.3635819, 0.4891775, 0.1365995, 0.0106411]``).

    Raises:
        ValueError: as ``general_cosine``.
    """
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
