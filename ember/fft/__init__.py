"""``ember.fft``: torch.fft's discrete Fourier transforms, differentiable, on NumPy's FFT.

Each transform follows torch's recipe (``aten/src/ATen/native/SpectralOps.cpp``): resize the
input along the transformed dims (zero-pad or trim to ``n``/``s``), promote it (integers to
the default float dtype; complex where the transform needs it), then run one of the three
primitives of ``_ops.py``, whose gradients are torch's. ``norm`` is "backward" (the default:
no scaling forward, 1/n inverse), "ortho" (1/sqrt(n) both ways) or "forward" (1/n forward).
"""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from ..ops._out import write_out
from ..ops._shape_utils import type_name, wrap_dim
from ._ops import FftC2C, FftC2R, FftR2C, FftResize

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]


# --- argument handling, as torch's ------------------------------------------------------------
def _mode(norm, forward: bool) -> int:
    """torch's ``norm_from_string``: 0 no scaling, 1 by 1/sqrt(n), 2 by 1/n."""
    if norm is None or norm == "backward":
        return 0 if forward else 2
    if norm == "forward":
        return 2 if forward else 0
    if norm == "ortho":
        return 1
    raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _wrap_fft_dim(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, ndim)


def _promote(x: Tensor, require_complex: bool) -> Tensor:
    """torch's ``promote_tensor_fft``: integers become the default float dtype; float32 and
    float64 only; complex when ``require_complex``."""
    kind = x._data.dtype.kind
    if kind == "c":
        return x
    if kind != "f":
        x = x.to(_dtype.get_default_dtype())
    if x._data.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"Unsupported dtype {type_name(x._data.dtype)}")
    return x.to(x.dtype.to_complex()) if require_complex else x


def _resize(x: Tensor, dims, sizes) -> Tensor:
    """torch's ``resize_fft_input``: zero-pad or trim along ``dims`` to ``sizes``."""
    if all(x._data.shape[d] == n for d, n in zip(dims, sizes)):
        return x
    return FftResize.apply(x, dims=list(dims), sizes=list(sizes))


def _one_dim(name: str, x: Tensor, n, dim, default_n=None):
    """``(dim, n, resized?)`` for the 1-D transforms, with torch's errors."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"fft_{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    d = _wrap_fft_dim(int(dim), x._data.ndim)
    size = x._data.shape[d] if default_n is None else default_n(x._data.shape[d])
    n_val = size if n is None else int(n)
    if n_val < 1:
        raise RuntimeError(f"Invalid number of data points ({n_val}) specified")
    return d, n_val


def _shape_and_dims(x: Tensor, s, dim):
    """torch's ``canonicalize_fft_shape_and_dim_args``: the transformed dims and their sizes."""
    ndim, shape = x._data.ndim, x._data.shape
    dims = None
    if dim is not None:
        dim = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        dims = [_wrap_fft_dim(int(d), ndim) for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = tuple(s)
        if dims is not None and len(dims) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
        if dims is None:
            dims = list(range(ndim - len(s), ndim))
        sizes = [shape[d] if n == -1 else int(n) for d, n in zip(dims, s)]
    elif dims is None:
        dims, sizes = list(range(ndim)), list(shape)
    else:
        sizes = [shape[d] for d in dims]
    for n in sizes:
        if n <= 0:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


def _c2r_shape_and_dims(name: str, x: Tensor, s, dim):
    """torch's ``canonicalize_fft_c2r_shape_and_dim_args``: also the output length of the
    last dim (default ``2 * (m - 1)``), and the one-sided input length it needs."""
    dims, sizes = _shape_and_dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = 2 * (x._data.shape[dims[-1]] - 1) if s is None or tuple(s)[-1] == -1 else sizes[-1]
    if last < 1:
        raise RuntimeError(f"Invalid number of data points ({last}) specified")
    sizes[-1] = last // 2 + 1
    return dims, sizes, last


def _need_real(name: str, x: Tensor, words: str = "a real input tensor") -> None:
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name} expects {words}, but got {type_name(x._data.dtype)}")


# --- the transforms: 1-D --------------------------------------------------------------------
def _c2c_1d(name, input, n, dim, norm, forward):
    d, n = _one_dim(name, input, n, dim)
    x = _resize(input, [d], [n])
    return FftC2C.apply(x, dims=[d], mode=_mode(norm, forward), forward=forward)


def _r2c_1d(name, input, n, dim, norm, forward, onesided):
    _need_real(name, input)
    x = _promote(input, False)
    d, n = _one_dim(name, x, n, dim)
    x = _resize(x, [d], [n])
    out = FftR2C.apply(x, dims=[d], mode=_mode(norm, forward), onesided=onesided)
    return out if forward else out.conj()  # the inverse of a real signal: conjugated


def _c2r_1d(name, input, n, dim, norm, forward):
    x = _promote(input, True)
    d, n = _one_dim(name, x, n, dim, default_n=lambda m: 2 * (m - 1))
    if n != 2 * (x._data.shape[d] - 1):
        x = _resize(x, [d], [n // 2 + 1])
    if forward:  # hfft: the inverse real transform of the conjugate
        x = x.conj()
    return FftC2R.apply(x, dims=[d], mode=_mode(norm, forward), last_dim_size=n)


def fft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The 1-D discrete Fourier transform of ``input`` along ``dim``.

    Args:
        input: a real or complex tensor (integers become the default float dtype).
        n: the signal length: ``input`` is zero-padded or trimmed to it along ``dim``.
        dim: the dim to transform.
        norm: "backward" (default, no scaling), "ortho" (1/sqrt(n)) or "forward" (1/n).

    Returns:
        A complex tensor (complex64 for float32 input).
    """
    if input._data.dtype.kind == "c":
        result = _c2c_1d("fft", input, n, dim, norm, True)
    else:
        result = _r2c_1d("fft", input, n, dim, norm, True, False)
    return write_out("fft_fft", result, out, (input,))


def ifft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The inverse of ``fft`` along ``dim`` (scaled by 1/n with the default ``norm``)."""
    if input._data.dtype.kind == "c":
        result = _c2c_1d("ifft", input, n, dim, norm, False)
    else:
        result = _r2c_1d("ifft", input, n, dim, norm, False, False)
    return write_out("fft_ifft", result, out, (input,))


def rfft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The one-sided ``fft`` of a real signal: the ``n // 2 + 1`` non-redundant outputs.

    Raises:
        RuntimeError: a complex input.
    """
    return write_out("fft_rfft", _r2c_1d("rfft", input, n, dim, norm, True, True), out,
                     (input,))


def irfft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The inverse of ``rfft``: a real signal of length ``n`` (default ``2 * (m - 1)`` for
    ``m`` inputs along ``dim``) from its one-sided spectrum."""
    return write_out("fft_irfft", _c2r_1d("irfft", input, n, dim, norm, False), out, (input,))


def hfft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The ``fft`` of a signal with Hermitian symmetry given by its one-sided half: a real
    result of length ``n`` (default ``2 * (m - 1)``)."""
    return write_out("fft_hfft", _c2r_1d("hfft", input, n, dim, norm, True), out, (input,))


def ihfft(input: Tensor, n=None, dim: int = -1, norm=None, *, out=None) -> Tensor:
    """The inverse of ``hfft``: the one-sided ``ifft`` of a real signal.

    Raises:
        RuntimeError: a complex input.
    """
    return write_out("fft_ihfft", _r2c_1d("ihfft", input, n, dim, norm, False, True), out,
                     (input,))


# --- the transforms: n-D ----------------------------------------------------------------------
def _c2c_nd(input, s, dim, norm, forward):
    dims, sizes = _shape_and_dims(input, s, dim)
    x = _resize(_promote(input, True), dims, sizes)
    return FftC2C.apply(x, dims=dims, mode=_mode(norm, forward), forward=forward)


def _rfftn(name, input, s, dim, norm):
    _need_real(name, input, "a real-valued input tensor")
    dims, sizes = _shape_and_dims(input, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    x = _resize(_promote(input, False), dims, sizes)
    return FftR2C.apply(x, dims=dims, mode=_mode(norm, True), onesided=True)


def _irfftn(name, input, s, dim, norm):
    dims, sizes, last = _c2r_shape_and_dims(name, input, s, dim)
    x = _resize(_promote(input, True), dims, sizes)
    return FftC2R.apply(x, dims=dims, mode=_mode(norm, False), last_dim_size=last)


def _hfftn(name, input, s, dim, norm):
    dims, sizes, last = _c2r_shape_and_dims(name, input, s, dim)
    x = _resize(_promote(input, True), dims, sizes)
    mode = _mode(norm, True)
    if len(dims) > 1:
        x = FftC2C.apply(x, dims=dims[:-1], mode=mode, forward=True)
    return FftC2R.apply(x.conj(), dims=dims[-1:], mode=mode, last_dim_size=last)


def _ihfftn(name, input, s, dim, norm):
    if input._data.dtype.kind == "c":
        raise RuntimeError(f"Only supports floating-point dtypes, but found: "
                           f"{type_name(input._data.dtype)}")
    dims, sizes = _shape_and_dims(input, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    x = _resize(_promote(input, False), dims, sizes)
    mode = _mode(norm, False)
    out = FftR2C.apply(x, dims=dims[-1:], mode=mode, onesided=True)
    if len(dims) == 1:
        return out.conj()
    out = out.conj_physical()
    if len(dims) > 1:
        out = FftC2C.apply(out, dims=dims[:-1], mode=mode, forward=False)
    return out


def fftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The n-D ``fft`` over ``dim`` (all dims by default; the last ``len(s)`` when only ``s``
    is given), each padded or trimmed to ``s``."""
    return write_out("fft_fftn", _c2c_nd(input, s, dim, norm, True), out, (input,))


def ifftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse of ``fftn``."""
    return write_out("fft_ifftn", _c2c_nd(input, s, dim, norm, False), out, (input,))


def rfftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The n-D ``fft`` of a real signal, one-sided along the last transformed dim."""
    return write_out("fft_rfftn", _rfftn("rfftn", input, s, dim, norm), out, (input,))


def irfftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse of ``rfftn``: real, of size ``s[-1]`` (default ``2 * (m - 1)``) along the
    last transformed dim."""
    return write_out("fft_irfftn", _irfftn("irfftn", input, s, dim, norm), out, (input,))


def hfftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The n-D ``fft`` of a Hermitian-symmetric signal given by its one-sided half: real."""
    return write_out("fft_hfftn", _hfftn("hfftn", input, s, dim, norm), out, (input,))


def ihfftn(input: Tensor, s=None, dim=None, norm=None, *, out=None) -> Tensor:
    """The inverse of ``hfftn``: the one-sided n-D ``ifft`` of a real signal."""
    return write_out("fft_ihfftn", _ihfftn("ihfftn", input, s, dim, norm), out, (input,))


def fft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``fftn`` over the last two dims (by default)."""
    return write_out("fft_fft2", _c2c_nd(input, s, dim, norm, True), out, (input,))


def ifft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``ifftn`` over the last two dims (by default)."""
    return write_out("fft_ifft2", _c2c_nd(input, s, dim, norm, False), out, (input,))


def rfft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``rfftn`` over the last two dims (by default)."""
    return write_out("fft_rfft2", _rfftn("rfftn", input, s, dim, norm), out, (input,))


def irfft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``irfftn`` over the last two dims (by default)."""
    return write_out("fft_irfft2", _irfftn("irfftn", input, s, dim, norm), out, (input,))


def hfft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``hfftn`` over the last two dims (by default)."""
    return write_out("fft_hfft2", _hfftn("hfftn", input, s, dim, norm), out, (input,))


def ihfft2(input: Tensor, s=None, dim=(-2, -1), norm=None, *, out=None) -> Tensor:
    """``ihfftn`` over the last two dims (by default)."""
    return write_out("fft_ihfft2", _ihfftn("ihfftn", input, s, dim, norm), out, (input,))


# --- frequencies and shifts ---------------------------------------------------------------------
def _frequencies(name, ks, n, d, dtype, requires_grad):
    d_type = _dtype.get_default_dtype() if dtype is None else _dtype.convert(dtype)
    if not (d_type.is_floating_point or d_type.is_complex):
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    if d_type.is_complex:  # torch's arange, which fftfreq starts from, has no complex kernel
        raise NotImplementedError(f"\"arange_cpu\" not implemented for "
                                  f"'{type_name(d_type.np)}'")
    # torch: arange in the dtype, times the scalar 1 / (n d) in that dtype's precision (C's
    # division: 1 / 0 is inf)
    scale = np.asarray(1.0 / (n * d) if n * d else np.inf, d_type.to_real().np)
    with np.errstate(invalid="ignore"):
        arr = ks.astype(d_type.np) * scale
    t = _wrap(arr.astype(d_type.np, copy=False))
    return t.requires_grad_() if requires_grad else t


def _check_n(n: int) -> None:
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``fft`` of length ``n`` with sample spacing ``d``:
    ``[0, 1, ..., ceil(n/2) - 1, -floor(n/2), ..., -1] / (d * n)``."""
    from .._backend import check_device

    check_device(device)
    _check_n(n)
    ks = np.concatenate([np.arange((n + 1) // 2), np.arange(-(n // 2), 0)])
    return _frequencies("fftfreq", ks, n, d, dtype, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``rfft`` of length ``n``: ``[0, ..., n // 2] / (d * n)``."""
    from .._backend import check_device

    check_device(device)
    m = int(n / 2) + 1  # C's division, as torch: rfftfreq(-1) has one element
    _check_n(m)
    return _frequencies("rfftfreq", np.arange(m), n, d, dtype, requires_grad)


def _shift(input: Tensor, dim, inverse: bool) -> Tensor:
    from ..ops import roll

    dims = range(input._data.ndim) if dim is None else (
        (dim,) if isinstance(dim, (int, np.integer)) else dim)
    dims = [wrap_dim(int(d), input._data.ndim) for d in dims]
    shifts = [(input._data.shape[d] + inverse) // 2 for d in dims]
    return roll(input, shifts, dims)


def fftshift(input: Tensor, dim=None) -> Tensor:
    """``input`` rolled so that the zero frequency of an ``fft`` sits in the middle, along
    ``dim`` (all dims by default)."""
    return _shift(input, dim, False)


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    return _shift(input, dim, True)
