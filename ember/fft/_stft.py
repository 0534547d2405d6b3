"""``stft`` and ``istft``: short-time Fourier transforms, as torch builds them from ember ops
(pad, frames as strided views, a window, one FFT per frame; the inverse overlap-adds the
frames and divides by the summed squared window), so their gradients come from those ops."""
from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .._user_warning import warn_at_user
from ..autograd.function import _TORCH_TYPE_NAMES
from ._ops import FftC2C, FftC2R, FftR2C


def _opt(v) -> str:
    return "None" if v is None else str(int(v))


def _type_text(t: Tensor) -> str:
    """The tensor's type as torch's ``toString`` writes it (bool has no legacy name)."""
    name = t._data.dtype.name
    return "CPUBoolType" if name == "bool" else f"torch.{_TORCH_TYPE_NAMES[name]}"


def _tensor_text(t: Tensor) -> str:
    return f"{_type_text(t)}{list(t._data.shape)}"


def _window_text(window) -> str:
    if window is None:
        return "None"
    return f"{_type_text(window)}{{{list(window._data.shape)}}}"


def _centered_window(window, win_length, n_fft, like):
    """The window zero-padded on both sides to ``n_fft`` (a rectangle when None)."""
    from .. import ones

    if window is None:
        window = ones(win_length, dtype=like.dtype.to_real())
    if win_length == n_fft:
        return window
    from ..nn.functional import pad

    left = (n_fft - win_length) // 2
    return pad(window, [left, n_fft - win_length - left])


def stft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
         center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided=None, return_complex=None, align_to_window=None) -> Tensor:
    """The short-time Fourier transform of a signal ``(L,)`` or batch ``(B, L)``.

    Args:
        n_fft: the FFT size (frame length).
        hop_length: the step between frames (``n_fft // 4``).
        win_length: the window's length (``n_fft``), zero-padded on both sides to ``n_fft``.
        window: a 1-D window of ``win_length`` (a rectangle when None).
        center: pad ``n_fft // 2`` on both sides with ``pad_mode`` first.
        normalized: scale by ``n_fft ** -0.5``.
        onesided: only the ``n_fft // 2 + 1`` non-redundant frequencies (default for real
            input and window).
        return_complex: required for real input; False gives ``view_as_real`` of the result
            (deprecated in torch).

    Returns:
        ``(n_freq, n_frames)`` or ``(B, n_freq, n_frames)``.
    """
    if align_to_window is not None:
        raise NotImplementedError("stft: align_to_window is not supported by ember")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    x = input
    if center:  # torch's Python wrapper pads before its kernel checks anything
        from ..nn.functional import pad

        ndim = x._data.ndim
        extended = x.reshape((1,) * (3 - ndim) + tuple(x.shape)) if ndim <= 3 else x
        x = pad(extended, [n_fft // 2, n_fft // 2], pad_mode)
        x = x.reshape(tuple(x.shape[-ndim:]))
    is_complex = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None and not is_complex:
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, "
                           "and will further require that return_complex=True in a future "
                           "PyTorch release.")
    if return_complex is False:
        warn_at_user("stft with return_complex=False is deprecated. In a future pytorch "
                     "release, stft will return complex tensors for all inputs, and "
                     "return_complex=False will raise an error.\nNote: you can still call "
                     "torch.view_as_real on the complex output to recover the old return "
                     "format.")

    def fail(why):
        return RuntimeError(
            f"stft({_tensor_text(x)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
            f"window={_window_text(window)}, normalized={int(normalized)}, "
            f"onesided={_opt(onesided)}, return_complex={_opt(return_complex)}, "
            f"align_to_window=None) : {why}")

    if x._data.dtype.kind not in "fc":
        raise fail("expected a tensor of floating point or complex values")
    if x._data.ndim not in (1, 2):
        raise fail("expected a 1D or 2D tensor")
    frames = x if x._data.ndim == 2 else x.unsqueeze(0)
    length = frames.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise fail(f"expected 0 < n_fft < {length}, but got n_fft={win}")  # (sic: torch's)
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win):
        raise fail(f"expected a 1D window tensor of size equal to win_length={win}, but got "
                   f"window with size {list(window._data.shape)}")
    frames = frames.unfold(-1, n_fft, hop)  # (B, n_frames, n_fft), views of the signal
    if window is not None or win < n_fft:
        frames = frames * _centered_window(window, win, n_fft, frames)
    complex_fft = frames.is_complex()
    sided = (not complex_fft) if onesided is None else onesided
    mode = 1 if normalized else 0
    if complex_fft:
        if sided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        out = FftC2C.apply(frames, dims=[2], mode=mode, forward=True)
    else:
        out = FftR2C.apply(frames, dims=[2], mode=mode, onesided=sided)
    out = out.transpose(1, 2)
    if input._data.ndim == 1:
        out = out.squeeze(0)
    if return_complex is False:
        from ..ops.complex_ops import view_as_real

        return view_as_real(out)
    return out


def istft(input: Tensor, n_fft: int, hop_length=None, win_length=None, window=None,
          center: bool = True, normalized: bool = False, onesided=None, length=None,
          return_complex: bool = False) -> Tensor:
    """The inverse of ``stft``: overlap-add of the inverse FFT of each frame, times the
    window, divided by the summed squared window (the "window envelope").

    Args:
        input: ``(n_freq, n_frames)`` or ``(B, n_freq, n_frames)``, complex.
        length: the output length (trimmed, or zero-padded with torch's warning).
        return_complex: a complex signal (needs the two-sided spectrum).

    Raises:
        RuntimeError: torch's errors for real input, mismatched sizes, or a window whose
            envelope vanishes somewhere (the overlap-add cannot be divided by it).
    """
    from .. import zeros
    from ..ops.indexing import index_add

    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    x = input.resolve_conj()
    dtype = x._data.dtype

    def fail(why):
        name = {"complex64": "ComplexFloat", "complex128": "ComplexDouble"}[dtype.name]
        return RuntimeError(
            f"istft(CPU{name}Type{list(x._data.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, window={_window_text(window)}, center={int(center)}, "
            f"normalized={int(normalized)}, onesided={_opt(onesided)}, length={_opt(length)}, "
            f"return_complex={int(return_complex)}) {why}")

    if x._data.size == 0:
        raise fail(": input tensor cannot be empty.")
    if x._data.ndim not in (2, 3):
        raise fail(f": expected a tensor with 3 or 4 dimensions, but got {x._data.ndim + 1}")
    n_frames, fft_size = x._data.shape[-1], x._data.shape[-2]
    sided = fft_size != n_fft if onesided is None else onesided
    if sided and n_fft // 2 + 1 != fft_size:
        raise fail(f": expected the frequency dimension (3rd to the last) of the input tensor "
                   f"to match n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not sided and n_fft != fft_size:
        raise fail(f": expected the frequency dimension (3rd to the last) of the input tensor "
                   f"to match n_fft when onesided=False, but got {fft_size}")
    if not 0 < hop <= win:
        raise fail(": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise fail(": expected 0 < win_length <= n_fft")
    if window is not None and (window._data.ndim != 1 or window._data.shape[0] != win):
        raise fail(": Invalid window shape. window has to be 1D and length of `win_length`")
    if window is None:
        warn_at_user("A window was not provided. A rectangular window will be applied,which is "
                     "known to cause spectral leakage. Other windows such as torch.hann_window "
                     "or torch.hamming_window are recommended to reduce spectral leakage.To "
                     "suppress this warning and use a rectangular window, explicitly set "
                     "`window=torch.ones(n_fft, device=<device>)`.")
    w = _centered_window(window, win, n_fft, x)
    frames = (x if x._data.ndim == 3 else x.unsqueeze(0)).transpose(1, 2)  # (B, frames, freq)
    mode = 1 if normalized else 2
    if return_complex:
        if sided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = FftC2C.apply(frames, dims=[2], mode=mode, forward=False)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not sided:
            frames = frames[..., :n_fft // 2 + 1]
        frames = FftC2R.apply(frames, dims=[2], mode=mode, last_dim_size=n_fft)
    frames = frames * w
    total = n_fft + hop * (n_frames - 1)
    spots = _wrap_index((np.arange(n_frames)[:, None] * hop + np.arange(n_fft)).reshape(-1))
    batch = frames.shape[0]
    y = index_add(zeros(batch, total, dtype=frames.dtype), 1, spots,
                  frames.reshape(batch, n_frames * n_fft))
    envelope = index_add(zeros(1, total, dtype=w.dtype), 1, spots,
                         (w * w).expand(n_frames, n_fft).reshape(1, n_frames * n_fft))
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (total - n_fft // 2 if center else total)
    y, envelope = y[:, start:end], envelope[:, start:end]
    if envelope.numel() and float(envelope.abs().min()) < 1e-11:
        raise fail("window overlap add min: 1\n[ CPUBoolType{} ]")
    y = y / envelope
    if x._data.ndim == 2:
        y = y.squeeze(0)
    if end > total:
        from ..nn.functional import pad

        warn_at_user("The length of signal is shorter than the length parameter. Result is "
                     "being padded with zeros in the tail. Please check your center and "
                     "hop_length settings.")
        y = pad(y, [0, end - total])
    return y


def _wrap_index(arr):
    from .._tensor import _wrap

    return _wrap(arr.astype(np.int64))
