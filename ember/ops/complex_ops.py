"""Complex numbers: the parts of a complex tensor (real, imag, angle), conjugation, and the
conversions between complex tensors and pairs of real ones (complex, polar, view_as_real,
view_as_complex).

Gradients follow torch's convention: a complex tensor's gradient is the conjugate Wirtinger
derivative of a real loss, ``dL/dRe(z) + 1j * dL/dIm(z)``. A real input whose result is
complex gets the real part of that gradient.

NOTE: ``conj`` computes the conjugate eagerly (NumPy has no lazy conjugate views): the result
holds its own memory, and only ``is_conj()`` remembers where it came from, as torch's bit.

Every name in ``__all__`` becomes ``ember.<name>``; every name in ``TENSOR_METHODS`` also
becomes a Tensor method; ``Tensor.real`` and ``Tensor.imag`` are properties, as in torch.
"""
from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor, _view_result, _wrap
from ..autograd.function import Op
from ._shape_utils import check_broadcast, sum_to_shape, type_name

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "is_conj", "is_complex",
           "isreal", "view_as_real", "view_as_complex", "complex", "polar"]
TENSOR_METHODS: tuple[str, ...] = ("conj", "conj_physical", "resolve_conj", "is_conj",
                                   "is_complex", "isreal")

_py_complex = complex  # the builtin, shadowed below by torch's ``complex`` function


def discard_imag_warning() -> None:
    """torch's warning when a complex tensor is converted to a real dtype."""
    from .._user_warning import warn_at_user

    warn_at_user("Casting complex values to real discards the imaginary part")


def real_scalar(value, dtype, numel=None):
    """A complex Python number written into a real ``dtype``: torch's overflow error when it
    has an imaginary part, its real part otherwise; any other value as it is. (``fill_`` of a
    one-element float16 tensor, ``numel`` 1, converts through double, and torch names that.)"""
    if isinstance(value, builtins.complex) and dtype.kind not in "bc":  # (complex: the op here)
        from .._creation import checked_value

        checked_value(value, np.dtype(np.float64) if numel == 1 and dtype == np.float16 else dtype)
        return value.real
    return value


def drop_imag(arr, dtype):
    """``arr``'s real part, with torch's warning (not NumPy's ComplexWarning), when complex
    values are written into a real ``dtype``; ``arr`` itself otherwise."""
    if arr.dtype.kind == "c" and dtype.kind in "fiu":
        discard_imag_warning()
        return arr.real
    return arr


# the float_input functions (pointwise_special.py) torch also computes for complex tensors
_COMPLEX_KERNELS = frozenset("acos acosh asin asinh atan atanh cosh sinh exp2 sinc".split())
# torch's kernel names where they are not "<name>_cpu"
_KERNEL_NAMES = {"erf": "erf_vml_cpu", "erfc": "erfc_vml_cpu", "erfinv": "erfinv_vml_cpu",
                 "lgamma": "lgamma_vml_cpu", "i0": "i0_vml_cpu", "digamma": "digamma",
                 "polygamma": "trigamma", "mvlgamma": "arange_cpu"}


def check_complex_kernel(name: str, input: Tensor) -> None:
    """torch's error for a function of one tensor that has no complex kernel."""
    if name in _COMPLEX_KERNELS:
        return
    if name in ("deg2rad", "rad2deg"):
        raise RuntimeError(f"{name} is not supported for complex tensors.")
    kernel = _KERNEL_NAMES.get(name) or name.removeprefix("special_") + "_cpu"
    raise NotImplementedError(f"\"{kernel}\" not implemented for "
                              f"'{type_name(input._data.dtype)}'")


def _is_c(t: Tensor) -> bool:
    return t._data.dtype.kind == "c"


# --- ops ---------------------------------------------------------------------------------------
class Real(Op):
    """z = Re(x), a view; the gradient of Re(x) is the real gradient itself"""

    _backward_name = "SelectBackward0"  # torch's: the part is a select of view_as_real

    @staticmethod
    def forward(ctx, x):
        ctx.x_dtype = x.dtype
        return x.real

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.x_dtype)


class Imag(Op):
    """z = Im(x), a view; the gradient is 1j * grad"""

    _backward_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.x_dtype = x.dtype
        return x.imag

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(grad.shape, ctx.x_dtype)
        out.imag = grad
        return out


class Conj(Op):
    """z = conj(x); the gradient is conj(grad)"""

    _backward_name = "ConjPhysicalBackward0"

    @staticmethod
    def forward(ctx, x, *, node_name=None):
        if node_name:
            ctx.show_as(node_name)
        return np.conj(x)

    @staticmethod
    def backward(ctx, grad):
        return np.conj(grad)


class ComplexAngle(Op):
    """z = arg(x) for complex x; gradient grad * 1j * x / |x|**2, 0 at 0 (torch's)"""

    _backward_name = "AngleBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.angle(x).astype(x.real.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        sq = x.real * x.real + x.imag * x.imag
        with np.errstate(divide="ignore", invalid="ignore"):
            g = grad * x / sq * 1j
        return np.where(x == 0, 0, g).astype(x.dtype, copy=False)


class ViewAsReal(Op):
    """z[..., 0] = Re(x), z[..., 1] = Im(x), a view; the gradient is the pairs as complex"""

    @staticmethod
    def forward(ctx, x):
        ctx.x_dtype = x.dtype
        real = x.real
        return np.lib.stride_tricks.as_strided(real, x.shape + (2,),
                                               x.strides + (real.itemsize,))

    @staticmethod
    def backward(ctx, grad):
        return _pairs_to_complex(grad, ctx.x_dtype)


def _contiguous_strides(x):
    return tuple(int(np.prod(x.shape[i + 1:])) * x.itemsize for i in range(x.ndim))


class ViewAsComplex(Op):
    """z = x[..., 0] + 1j * x[..., 1], a view; the gradient is the real view of grad"""

    @staticmethod
    def forward(ctx, x):
        if not x.size:  # NumPy's view() reads an empty array's meaningless strides
            x = np.lib.stride_tricks.as_strided(x, x.shape, _contiguous_strides(x))
        return x.view(_COMPLEX_OF[x.dtype.name])[..., 0]

    @staticmethod
    def backward(ctx, grad):
        return np.stack((grad.real, grad.imag), axis=-1)


class Complex(Op):
    """z = re + 1j * im; the gradients are Re(grad) and Im(grad)"""

    @staticmethod
    def forward(ctx, re, im):
        ctx.re_shape, ctx.im_shape = re.shape, im.shape
        out = np.empty(np.broadcast_shapes(re.shape, im.shape), _COMPLEX_OF[re.dtype.name])
        out.real, out.imag = re, im
        return out

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        return (sum_to_shape(np.ascontiguousarray(grad.real), ctx.re_shape) if need[0] else None,
                sum_to_shape(np.ascontiguousarray(grad.imag), ctx.im_shape) if need[1] else None)


class Polar(Op):
    """z = r * (cos(t) + 1j * sin(t)); torch's gradients Re(conj(grad) * sgn(z)) for r and
    Re(conj(grad) * 1j * z) for t"""

    @staticmethod
    def forward(ctx, r, t):
        ctx.r_shape, ctx.t_shape = r.shape, t.shape
        out = np.empty(np.broadcast_shapes(r.shape, t.shape), _COMPLEX_OF[r.dtype.name])
        out.real, out.imag = r * np.cos(t), r * np.sin(t)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        g = np.conj(grad)
        gr = sum_to_shape((g * np.sign(out)).real, ctx.r_shape) if need[0] else None
        gt = sum_to_shape((g * out * 1j).real, ctx.t_shape) if need[1] else None
        return gr, gt


_COMPLEX_OF = {"float32": np.complex64, "float64": np.complex128, "float16": np.complex64}


def _pairs_to_complex(pairs, dtype):
    """``(..., 2)`` real pairs as a complex array of ``dtype`` (a copy)."""
    out = np.empty(pairs.shape[:-1], dtype)
    out.real, out.imag = pairs[..., 0], pairs[..., 1]
    return out


# --- functions -----------------------------------------------------------------------------------
def is_complex(input: Tensor) -> bool:
    """True when ``input`` has a complex dtype (complex64 or complex128)."""
    return input._data.dtype.kind == "c"


def is_conj(input: Tensor) -> bool:
    """True for the result of ``conj()`` on a complex tensor (torch's conjugate bit)."""
    return input._is_conj


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor is its own (the input itself, as torch's).

    Differs from torch: the result holds its own memory (torch returns a lazy view), so
    later changes to ``input`` do not show in it; ``is_conj()`` is True on it all the same.
    """
    if not _is_c(input):
        return input
    out = Conj.apply(input, node_name="ConjBackward0")
    out._is_conj = True
    return out


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, computed now; the input itself for a real tensor."""
    if not _is_c(input):
        return input
    return Conj.apply(input)


def resolve_conj(input: Tensor) -> Tensor:
    """A tensor without the conjugate bit: a copy of a ``conj()`` result, else the input."""
    if not is_conj(input):
        return input
    return input.clone()


def real(input: Tensor) -> Tensor:
    """The real part of a complex tensor, as a view (writes reach ``input``); a real tensor
    is returned itself."""
    if not _is_c(input):
        return input
    return _view_result(Real.apply(input), input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor, as a view (writes reach ``input``).

    Raises:
        RuntimeError: for real tensors, as torch does.
    """
    if not _is_c(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return _view_result(Imag.apply(input), input)


def isreal(input: Tensor) -> Tensor:
    """True where an element has no imaginary part (everywhere, for a real tensor)."""
    if input.is_sparse:  # torch's error
        return input.isreal()
    x = input._data
    return _wrap(x.imag == 0 if x.dtype.kind == "c" else np.ones(x.shape, bool))


def angle(input: Tensor) -> Tensor:
    """The argument of each element of a complex tensor, in (-pi, pi] (real tensors: see
    ``ember.angle``)."""
    return ComplexAngle.apply(input)


def view_as_real(input: Tensor) -> Tensor:
    """A real view of a complex tensor, with a last dimension of size 2 holding the real and
    imaginary parts.

    Raises:
        RuntimeError: a real input, or the result of ``conj()`` (torch's messages).
    """
    if not _is_c(input):
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if is_conj(input):
        raise RuntimeError("view_as_real doesn't work on unresolved conjugated tensors.  To "
                           "resolve the conjugate tensor so you can view it as real, use "
                           "self.resolve_conj(); however, be warned that the resulting tensor "
                           "will NOT alias the original.")
    return _replayed(_view_result(ViewAsReal.apply(input), input), "ViewAsRealBackward0")


def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a real tensor whose last dimension (size 2, stride 1) holds the real
    and imaginary parts.

    Differs from torch: float16 gives complex64 (torch: complex32, which NumPy lacks), as a
    copy rather than a view.

    Raises:
        RuntimeError: torch's errors for a dtype, shape or stride that cannot be viewed so.
    """
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {type_name(x.dtype)}")
    if x.ndim == 0:
        raise RuntimeError("Input tensor must have one or more dimensions")
    if x.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    item = x.itemsize
    if not x.size:  # no memory to alias (NumPy's strides of empty arrays mean nothing)
        if x.dtype == np.float16:
            return Complex.apply(input[..., 0].float(), input[..., 1].float())
        return _replayed(_view_result(ViewAsComplex.apply(input), input),
                         "ViewAsComplexBackward0")
    if x.strides[-1] != item:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * item) for s, n in zip(x.strides[:-1], x.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    if x.dtype == np.float16:
        return Complex.apply(input[..., 0].float(), input[..., 1].float())
    return _replayed(_view_result(ViewAsComplex.apply(input), input), "ViewAsComplexBackward0")


def _replayed(view: Tensor, name: str) -> Tensor:
    """Name the ``grad_fn`` a view gets after its base changed in place: torch replays these
    dtype-changing views from the base (see ``copy_slices._view_node``)."""
    if view._base is not None:
        view._replay_name = name
    return view


def _check_parts(a: Tensor, b: Tensor, names: tuple[str, str]) -> None:
    for name, v in zip(names, (a, b)):
        if not isinstance(v, Tensor):
            pos = names.index(name) + 1
            op = "complex" if names[0] == "real" else "polar"
            raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")
    da, db = a._data.dtype, b._data.dtype
    if da.kind != "f" or db.kind != "f":
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{type_name(da)} and {type_name(db)}")
    if da != db:
        raise RuntimeError(f"Expected object of scalar type {type_name(da)} but got scalar type "
                           f"{type_name(db)} for second argument")
    if a._data.shape != b._data.shape:
        check_broadcast(a._data.shape, b._data.shape)


def _out(result: Tensor, out, name: str) -> Tensor:
    if out is None:
        return result
    from .._compat import _write_out

    if isinstance(out, Tensor) and out._data.dtype != result._data.dtype:  # torch's exact check
        raise RuntimeError(f"Expected object of scalar type {type_name(result._data.dtype)} but "
                           f"got scalar type {type_name(out._data.dtype)} for argument 'out'")

    return _write_out(name, result, out)


def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:  # noqa: A001
    """``real + 1j * imag`` from two real tensors of one dtype (float32 gives complex64).

    Raises:
        TypeError: an argument that is not a tensor.
        RuntimeError: integer inputs, or two different dtypes (torch's messages).
    """
    _check_parts(real, imag, ("real", "imag"))
    return _out(Complex.apply(real, imag), out, "complex")


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``abs * (cos(angle) + 1j * sin(angle))`` from two real tensors of one dtype.

    Raises:
        RuntimeError: integer inputs, or two different dtypes (torch's messages).
    """
    _check_parts(abs, angle, ("abs", "angle"))
    return _out(Polar.apply(abs, angle), out, "polar")


def cfloat(self: Tensor, memory_format=None) -> Tensor:
    """As complex64."""
    from .._dtype import complex64
    from .elementwise import to_dtype

    if memory_format is not None:
        return self.to(complex64, memory_format=memory_format)
    return to_dtype(self, np.complex64)


def cdouble(self: Tensor, memory_format=None) -> Tensor:
    """As complex128."""
    from .._dtype import complex128
    from .elementwise import to_dtype

    if memory_format is not None:
        return self.to(complex128, memory_format=memory_format)
    return to_dtype(self, np.complex128)


def random_fill(self: Tensor, draw, args, kwargs, generator) -> Tensor:
    """``normal_``/``uniform_`` of a complex tensor, as torch: the draw fills the real view
    (``normal_`` with ``std / sqrt(2)``, so that the complex numbers have variance ``std**2``);
    torch's error for the other draws."""
    import math

    from .. import _random, _sampling

    name = draw.__name__.lstrip("_")
    if name == "exponential":
        raise RuntimeError("Exponential distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{type_name(self._data.dtype)}")
    if name not in ("normal", "uniform"):
        kernel = {"bernoulli": "bernoulli_scalar_cpu_", "random_ints": "random_kernel_cpu"}.get(
            name, f"{name}_kernel_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{type_name(self._data.dtype)}'")
    self._check_inplace()
    if name == "normal":
        mean, std = (list(args) + [0.0, 1.0][len(args):])[:2]
        mean, std = kwargs.get("mean", mean), kwargs.get("std", std)
        args, kwargs = (mean, std / math.sqrt(2)), {}
    x = self._data
    pairs = np.lib.stride_tricks.as_strided(x.real, x.shape + (2,), x.strides + (x.itemsize // 2,))
    values = draw(_random._gen(generator), pairs, *args, **kwargs)
    _sampling.fill(pairs, np.asarray(values).astype(pairs.dtype, copy=False))
    self._bump(name + "_")
    return self


# --- Tensor.cfloat/cdouble/stft/istft; Tensor.real and .imag: properties, settable as torch's --
def _set_part(part):
    def setter(self, value):
        view = part(self)
        view.copy_(value) if isinstance(value, Tensor) else view.fill_(value)

    return setter


def _stft(self: Tensor, *args, **kwargs) -> Tensor:
    """``ember.fft``'s short-time Fourier transform of this signal (see ``ember.stft``)."""
    from ..fft._stft import stft

    return stft(self, *args, **kwargs)


def _istft(self: Tensor, *args, **kwargs) -> Tensor:
    """The inverse short-time Fourier transform of this spectrogram (see ``ember.istft``)."""
    from ..fft._stft import istft

    return istft(self, *args, **kwargs)


Tensor.cfloat, Tensor.cdouble = cfloat, cdouble
Tensor.stft, Tensor.istft = _stft, _istft
Tensor.real = property(real, _set_part(real), doc="The real part (a view); settable.")
Tensor.imag = property(imag, _set_part(imag), doc="The imaginary part (a view); settable.")
