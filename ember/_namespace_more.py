"""torch top-level functions that are not Tensor methods: shapes and indices, integration
(``trapezoid``, ``cumulative_trapezoid``, ``gradient``), window functions, creation helpers
(``scalar_tensor``, ``empty_strided``, ``frombuffer``), ``chain_matmul`` and small utilities.

The calculus ones are compositions of differentiable ops written in ATen's order, so their
values (and gradients) are torch's; the windows follow ATen's formulas in the target dtype.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import _arg_errors, _dtype
from ._layout import check_layout
from ._size import Size
from ._tensor import Tensor, _wrap
from .func._vmap import vmap  # noqa: F401  (torch.vmap is torch.func.vmap)

__all__ = ["broadcast_shapes", "unravel_index", "trapezoid", "trapz", "cumulative_trapezoid",
           "gradient", "hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window", "scalar_tensor", "empty_strided", "is_nonzero", "is_same_size",
           "frombuffer", "chain_matmul", "detach", "typename", "set_warn_always",
           "is_warn_always_enabled", "get_device", "vmap"]


def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to (``torch.broadcast_shapes``).

    Each shape is an int or a sequence of ints; no shapes give ``Size([])``.

    Raises:
        RuntimeError: shapes that do not broadcast (torch's message).
        ValueError: a negative length that would be broadcast.
    """
    shapes = tuple((s,) if isinstance(s, (int, np.integer)) else s
                   for s in shapes if s is not None)
    if not shapes:
        return Size([])
    for s in shapes:
        if not isinstance(s, (tuple, list, Size)):
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list "
                               f"of ints, got {s}")
    common = [1] * max(len(s) for s in shapes)
    for arg, s in enumerate(shapes):
        for i in range(-1, -1 - len(s), -1):
            if s[i] == common[i]:
                continue
            if common[i] == 1:
                if s[i] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[i] = s[i]
            if s[i] != 1 and common[i] != s[i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[i]} at {i}! "
                                   f"Mismatching argument at index {arg} had {s}; but expected "
                                   f"shape should be broadcastable to {common}")
    return Size([int(c) for c in common])


def unravel_index(indices, shape):
    """Flat indices into coordinate tensors for ``shape`` (``torch.unravel_index``).

    Returns:
        A tuple with one int64 tensor per dim of ``shape``, each shaped like ``indices``.
        Out-of-range and negative indices wrap around, as in torch.

    Raises:
        TypeError: non-integer ``indices`` or ``shape``.
        ValueError: a negative size in ``shape``.
    """
    if not isinstance(indices, Tensor):
        raise AttributeError(f"'{type(indices).__name__}' object has no attribute 'is_complex'")
    if indices.is_floating_point() or indices.dtype == _dtype.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    elif not isinstance(shape, (tuple, list, Size)):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    for d in shape:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(d)}")
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    coefs = np.cumprod((shape[1:] + (1,))[::-1])[::-1].astype(np.int64)
    # torch's own ops, so that an empty dim fails as integer division by zero does there
    flat = indices.detach().unsqueeze(-1)
    coords = flat.floor_divide(_wrap(coefs)) % _wrap(np.array(shape, dtype=np.int64))
    return tuple(c.contiguous() for c in coords.unbind(-1))


# --- integration -----------------------------------------------------------------------------

def _zeros_except(y, dim):
    from ._creation import zeros

    shape = list(y.shape)
    del shape[dim]
    return zeros(*shape, dtype=y.dtype)


def _wrap_dim(dim, ndim):
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    return dim % ndim


def _x_spacing(y, x, dim):
    """ATen's dx for sample points ``x``: a 1-D x lies along ``dim``, a shorter one is padded
    with leading ones, and the differences are taken before broadcasting with y."""
    if x.dim() == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[dim] = x.shape[0]
        x = x.reshape(shape)
    elif x.dim() < y.dim():
        x = x.reshape((1,) * (y.dim() - x.dim()) + tuple(x.shape))
    n = x.shape[dim]
    return x.narrow(dim, 1, n - 1) - x.narrow(dim, 0, n - 1)


_TRAPEZOID_FORMS = ("(Tensor y, Tensor x, *, int dim = -1)",
                    "(Tensor y, *, Number dx = 1, int dim = -1)")
_TRAPZ_FORMS = ("(Tensor y, *, float dx = 1, int dim = -1)",
                "(Tensor y, Tensor x, *, int dim = -1)")


def _check_x_dx(y, x, dx, name):
    if x is not None and not isinstance(x, Tensor):  # torch's parser: a number is no ``x``
        raise _arg_errors.invalid_combination(
            name, (y, x), expected=_TRAPZ_FORMS if name == "trapz" else _TRAPEZOID_FORMS)
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        "Tensor, dx=...), but expected one of:\n * (Tensor y, Tensor x, *, int "
                        "dim = -1)\n * (Tensor y, *, Number dx = 1, int dim = -1)\n")


def _check_not_bool(name, y, x):
    """torch's refusal of bool samples (naming ``x`` only when it was given)."""
    if y.dtype == _dtype.bool_ or (x is not None and x.dtype == _dtype.bool_):
        which = "`y`" if x is None else "`x` or `y`"
        raise RuntimeError(f"{name}: received a bool input for {which}, but bool is not "
                           "supported")


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integrate ``y`` along ``dim`` with the trapezoidal rule (``torch.trapezoid``).

    Args:
        y: the values.
        x: sample points (1-D along ``dim``, or broadcastable to ``y``); exclusive with ``dx``.
        dx: constant spacing (default 1).
        dim: the dimension to integrate over.

    Returns:
        ``y`` with ``dim`` removed; zeros when ``dim`` has no samples.
    """
    _check_x_dx(y, x, dx, "trapezoid")
    dim = _wrap_dim(dim, y.dim())
    if y.shape[dim] == 0:
        return _zeros_except(y, dim)
    _check_not_bool("trapezoid", y, x)
    n = y.shape[dim]
    if x is not None:
        spacing = _x_spacing(y, x, dim)
        return (spacing * (y.narrow(dim, 1, n - 1) + y.narrow(dim, 0, n - 1))).sum(dim) / 2.0
    dx = 1 if dx is None else dx
    return (y.sum(dim) - (y.select(dim, 0) + y.select(dim, -1)) * 0.5) * float(dx)


def trapz(y, x=None, *, dx=None, dim=-1):
    """``torch.trapz``: the older name of :func:`trapezoid`."""
    _check_x_dx(y, x, dx, "trapz")
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoidal integral of ``y`` along ``dim`` (``torch.cumulative_trapezoid``).

    Returns:
        ``y`` with ``dim`` one shorter: the integral up to each sample after the first.
    """
    _check_x_dx(y, x, dx, "cumulative_trapezoid")
    _check_not_bool("cumulative_trapezoid", y, x)  # before the dim, unlike trapezoid
    if y.dim() == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    dim = _wrap_dim(dim, y.dim())
    n = y.shape[dim]
    if n == 0:
        return y.narrow(dim, 0, 0) * 1.0
    pairs = y.narrow(dim, 0, n - 1) + y.narrow(dim, 1, n - 1)
    if x is not None:
        spacing = _x_spacing(y, x, dim)
        return (spacing / 2.0 * pairs).cumsum(dim)
    return (float(1 if dx is None else dx) / 2.0 * pairs).cumsum(dim)


def _gradient_dims(input, spacing, dim, edge_order):
    """ATen's argument checks for ``gradient``; returns the dims and one spacing per dim."""
    if dim is None:
        dims = list(range(input.dim()))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
    if isinstance(spacing, (list, tuple)):
        if dim is None and len(spacing) != input.dim():
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a "
                               f"list of length equal to 'self.dim() = {input.dim()}', since dim "
                               f"argument was not given, but got a list of length {len(spacing)}")
        if dim is not None and len(spacing) != len(dims):
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or "
                               "it's spacing and dim arguments to have the same length, but got a "
                               f"spacing argument of length {len(spacing)} and a dim argument of "
                               f"length {len(dims)}.")
        spacings = list(spacing)
    else:
        spacings = [1 if spacing is None else spacing] * len(dims)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = [_wrap_dim(d, input.dim()) for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError("dim appears multiple times in the list of dims")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
    return dims, spacings


def _gradient_uniform(f, d, h, edge_order):
    from .ops import cat

    n = f.shape[d]

    def at(start, length=1):
        return f.narrow(d, start, length)

    center = (at(2, n - 2) - at(0, n - 2)) / h
    if edge_order == 1:
        first = (at(1) - at(0)) / h
        last = (at(n - 1) - at(n - 2)) / h
    else:
        first = (at(0) * -1.5 + at(1) * 2 - at(2) * 0.5) / h
        last = (at(n - 3) * 0.5 + at(n - 2) * -2 + at(n - 1) * 1.5) / h
    return cat([first, center / 2, last], d)


def _gradient_coords(f, d, coords, edge_order):
    from .ops import cat

    if coords.dim() != 1:
        raise RuntimeError("torch.gradient expected each element of spacing to have one "
                           f"dimension, but got an element with {coords.dim()} dimensions!")
    n = f.shape[d]
    shape = [1] * f.dim()
    shape[d] = -1
    h = coords.diff(1, 0)
    h1, h2 = h.narrow(0, 0, n - 2), h.narrow(0, 1, n - 2)
    a = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    b = ((h2 - h1) / (h1 * h2)).reshape(shape)
    c = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = a * f.narrow(d, 0, n - 2) + b * f.narrow(d, 1, n - 2) + c * f.narrow(d, 2, n - 2)
    if edge_order == 1:
        first = (f.narrow(d, 1, 1) - f.narrow(d, 0, 1)) / h[0]
        last = (f.narrow(d, n - 1, 1) - f.narrow(d, n - 2, 1)) / h[-1]
    else:
        a = -(2.0 * h[0] + h[1]) / (h[0] * (h[0] + h[1]))
        b = (h[0] + h[1]) / (h[0] * h[1])
        c = (-h[0]) / (h[1] * (h[0] + h[1]))
        first = a * f.narrow(d, 0, 1) + b * f.narrow(d, 1, 1) + c * f.narrow(d, 2, 1)
        a = h[-1] / (h[-2] * (h[-1] + h[-2]))
        b = -(h[-1] + h[-2]) / (h[-1] * h[-2])
        c = (2 * h[-1] + h[-2]) / (h[-1] * (h[-1] + h[-2]))
        last = a * f.narrow(d, n - 3, 1) + b * f.narrow(d, n - 2, 1) + c * f.narrow(d, n - 1, 1)
    return cat([first, center, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Second-order central differences of ``input`` along each dim (``torch.gradient``).

    Args:
        input: the sampled values.
        spacing: a scalar (uniform spacing), a list of scalars (one per dim), or a list of
            1-D tensors of sample coordinates (one per dim).
        dim: a dim or list of dims (default: all).
        edge_order: 1 or 2, the accuracy of the one-sided differences at the edges.

    Returns:
        A tuple with one tensor per dim, each shaped like ``input``.
    """
    if input.dtype == _dtype.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    dims, spacings = _gradient_dims(input, spacing, dim, edge_order)
    out = []
    for d, h in zip(dims, spacings):
        if isinstance(h, Tensor) and h.dim() > 0:
            out.append(_gradient_coords(input, d, h, edge_order))
        else:
            out.append(_gradient_uniform(input, d, float(h), edge_order))
    return tuple(out)


# --- windows ------------------------------------------------------------------------------------

def _window_start(name, window_length, dtype, requires_grad):
    """(numpy dtype, early result or None) after ATen's window checks."""
    from ._creation import empty, ones

    d = _dtype.convert(dtype) if dtype is not None else _dtype.get_default_dtype()
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype={d})")
    if window_length == 0:
        return d, empty(0, dtype=d, requires_grad=requires_grad)
    if window_length == 1:
        return d, ones(1, dtype=d, requires_grad=requires_grad)
    return d, None


def _finish_window(window, periodic, d, requires_grad):
    arr = window[:-1] if periodic else window
    return _wrap(np.ascontiguousarray(arr.astype(d.np, copy=False)), requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False, pin_memory=False):
    """``alpha - beta * cos(2 pi n / (N - 1))`` (``torch.hamming_window``); ``periodic`` drops
    the last point of a window one longer, for spectral analysis."""
    if layout is not None:
        check_layout(layout)
    d, early = _window_start("hamming_window", window_length, dtype, requires_grad)
    if early is not None:
        return early
    n = window_length + 1 if periodic else window_length
    t = d.np.type
    w = np.arange(n, dtype=d.np) * t(math.pi * 2.0 / (n - 1))
    w = np.cos(w) * t(-beta) + t(alpha)
    return _finish_window(w, periodic, d, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False, pin_memory=False):
    """``0.5 - 0.5 * cos(2 pi n / (N - 1))`` (``torch.hann_window``)."""
    if layout is not None:
        check_layout(layout)
    _window_start("hann_window", window_length, dtype, requires_grad)
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype,
                          requires_grad=requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False):
    """The triangular window ``1 - |2n / (N - 1) - 1|`` (``torch.bartlett_window``)."""
    if layout is not None:
        check_layout(layout)
    d, early = _window_start("bartlett_window", window_length, dtype, requires_grad)
    if early is not None:
        return early
    n = window_length + 1 if periodic else window_length
    w = np.arange(n, dtype=d.np) * d.np.type(2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    w[half:] = w[half:] * d.np.type(-1) + d.np.type(2)
    return _finish_window(w, periodic, d, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False, pin_memory=False):
    """``0.42 - 0.5 cos(2 pi n / (N-1)) + 0.08 cos(4 pi n / (N-1))`` (``torch.blackman_window``)."""
    if layout is not None:
        check_layout(layout)
    d, early = _window_start("blackman_window", window_length, dtype, requires_grad)
    if early is not None:
        return early
    n = window_length + 1 if periodic else window_length
    t = d.np.type
    w = np.arange(n, dtype=d.np) * t(math.pi / (n - 1))
    w = np.cos(w * t(4)) * t(0.08) - np.cos(w * t(2)) * t(0.5) + t(0.42)
    return _finish_window(w, periodic, d, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False, pin_memory=False):
    """``I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta)`` with ``a = (N - 1) / 2``
    (``torch.kaiser_window``). NOTE: the Bessel function is evaluated in float64 (NumPy's
    ``i0``) and rounded, where torch evaluates it in the window's dtype."""
    if layout is not None:
        check_layout(layout)
    d, early = _window_start("kaiser_window", window_length, dtype, requires_grad)
    if early is not None:
        return early
    n = window_length + 1 if periodic else window_length
    t = d.np.type
    alpha = t((n - 1) / 2.0)
    a = np.arange(n, dtype=d.np)
    arg = t(beta) * np.sqrt(np.abs(t(1) - ((a - alpha) / alpha) ** t(2)))
    w = np.i0(arg.astype(np.float64)) / np.i0(float(beta))
    return _finish_window(w, periodic, d, requires_grad)


# --- creation ------------------------------------------------------------------------------------

def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding ``s``, of the default float dtype unless ``dtype`` says otherwise
    (``torch.scalar_tensor``: ``scalar_tensor(3)`` is ``tensor(3.)``)."""
    if layout is not None:
        check_layout(layout)
    from ._creation import tensor

    if isinstance(s, Tensor):
        s = s.item()
    d = _dtype.convert(dtype) if dtype is not None else _dtype.get_default_dtype()
    return tensor(s if d == _dtype.bool_ else float(s) if d.is_floating_point else int(s),
                  dtype=d, device=device, requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor with the given ``size`` and ``stride`` (in elements), over a
    storage just large enough (``torch.empty_strided``)."""
    if layout is not None:
        check_layout(layout)
    from ._backend import check_device

    check_device(device)
    size, stride = [int(s) for s in size], [int(s) for s in stride]
    if len(size) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                           f"strides ({len(stride)})")
    if any(s < 0 for s in stride) or any(s < 0 for s in size):
        raise RuntimeError("Storage size calculation overflowed with sizes="
                           f"{size} and strides={stride}")
    d = _dtype.convert(dtype) if dtype is not None else _dtype.get_default_dtype()
    need = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    base = np.empty(need, dtype=d.np)
    item = base.itemsize
    arr = np.lib.stride_tricks.as_strided(base, shape=size, strides=[s * item for s in stride])
    return _wrap(arr, requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of a Python buffer, sharing its memory
    (``torch.frombuffer``). A read-only buffer (``bytes``) gives torch's warning, and here a
    tensor whose in-place changes NumPy refuses."""
    d = _dtype.convert(dtype)
    view = memoryview(buffer)
    length, size = view.nbytes, np.dtype(d.np).itemsize
    if not (length > 0 and count != 0):
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count <= 0 and (length - offset) % size:
        raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) "
                         f"must be a multiple of element size ({size})")
    n = (length - offset) // size if count < 0 else count
    if offset + n * size > length:
        raise ValueError(f"requested buffer length ({n} * {size} bytes) after offset ({offset} "
                         f"bytes) must not be greater than actual buffer length ({length} bytes)")
    if view.readonly:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting it "
                      "to a tensor. This type of warning will be suppressed for the rest of this "
                      "program.", UserWarning, stacklevel=2)
    arr = np.frombuffer(buffer, dtype=d.np, count=n, offset=offset)
    return _wrap(arr, requires_grad)


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices in the cheapest order (deprecated ``torch.chain_matmul``;
    ``linalg.multi_dot`` is the current name)."""
    from . import linalg

    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    _arg_errors.check_tensor_list(matrices)
    for m in matrices:
        if m.dim() != 2:
            raise RuntimeError(f"Tensor dimension is {m.dim()}, expected 2 instead.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    from .ops._out import write_out

    res = matrices[0].clone() if len(matrices) == 1 else linalg.multi_dot(list(matrices))
    return write_out("chain_matmul", res, out, matrices)


# --- small utilities --------------------------------------------------------------------------

def is_nonzero(input) -> bool:
    """The truth value of a one-element tensor (``torch.is_nonzero``)."""
    n = input.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input, other) -> bool:
    """Whether two tensors have the same shape."""
    _arg_errors.check_tensors("is_same_size", input=input, other=other)
    return tuple(input.shape) == tuple(other.shape)


def detach(input):
    """``input.detach()``: the same data, cut from the graph."""
    return input.detach()


def typename(obj, /) -> str:
    """A tensor's type string (``'torch.FloatTensor'``) or an object's qualified type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


_WARN_ALWAYS = [False]


def tp_name(value) -> str:
    """The name CPython gives ``value``'s type (``tp_name``), as torch's messages print it:
    ``Tensor``, ``int``, but ``numpy.bool`` for a type defined in C outside builtins."""
    t = type(value)
    heap = t.__flags__ & (1 << 9)  # Py_TPFLAGS_HEAPTYPE: a class written in Python
    return t.__name__ if heap or t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def set_warn_always(b, /) -> None:
    """Set the flag torch reads to repeat once-per-process warnings (kept for its API).

    Raises:
        RuntimeError: ``b`` is not a bool (torch's message).
    """
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {tp_name(b)}")
    _WARN_ALWAYS[0] = b


def is_warn_always_enabled() -> bool:
    """The flag :func:`set_warn_always` set."""
    return _WARN_ALWAYS[0]


def get_device(input) -> int:
    """The device index of ``input``: -1 for the CPU, where ember's tensors live."""
    index = input.device.index
    return -1 if input.device.type == "cpu" else (index or 0)


