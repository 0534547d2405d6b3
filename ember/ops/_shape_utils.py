"""Helpers shared by the ops: undoing broadcasting, normalising dims, operand dtypes."""
from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._opmath import HALF

float64_hook = None  # set by ember.autograd.graph.warn_on_float64(True)


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        if g.dtype is HALF:  # summed in float32, as torch's sum kernel does
            return g.sum(axis=axes, keepdims=True, dtype=np.float32).astype(g.dtype).reshape(shape)
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def wrap_dim(dim, ndim):
    """A possibly negative ``dim`` as an index in ``range(ndim)``; torch's IndexError otherwise."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def wrap_dims(dim, ndim):
    """``dim`` (None, int or sequence) as a sorted tuple of axes, or None for all axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (wrap_dim(int(dim), ndim),)
    dims = tuple(sorted(wrap_dim(int(d), ndim) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    return dims if dims else None


def check_broadcast(a_shape, b_shape):
    """The broadcast shape of two shapes; torch's error for shapes that do not broadcast."""
    if len(a_shape) < len(b_shape):
        long, short = b_shape, a_shape
    else:
        long, short = a_shape, b_shape
    lead = len(long) - len(short)
    out = list(long)
    for i, s in enumerate(short):
        t = long[lead + i]
        if s != t:
            if t == 1:
                out[lead + i] = s
            elif s != 1:
                break
    else:
        return tuple(out)
    for i in range(1, min(len(a_shape), len(b_shape)) + 1):
        sa, sb = a_shape[-i], b_shape[-i]
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {max(len(a_shape), len(b_shape)) - i}")
    raise RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} cannot be broadcast")


def check_expand(shape, target, shown=None):
    """torch's error when ``shape`` cannot be expanded to ``target`` (``shown``: the sizes the
    user asked for, -1 included)."""
    lead = len(target) - len(shape)
    for i in reversed(range(len(shape))):  # torch checks from the last dim
        s, t = shape[i], target[lead + i]
        if s != 1 and s != t:
            raise RuntimeError(
                f"The expanded size of the tensor ({t}) must match the existing size ({s}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(shown or target)}.  "
                f"Tensor sizes: {list(shape)}")


type_name = _dtype.scalar_type_name  # torch's name for a dtype in messages: 'Float', 'Long'


def py_scalar(v):
    """NumPy scalars as Python numbers and arrays as tensors, so promotion follows torch."""
    # NOTE: np.float64 subclasses float, so NumPy scalars are caught before Python numbers:
    # torch treats them as Python scalars (float32 * np.float64(2) stays float32).
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, np.ndarray):
        from .._tensor import _wrap

        return _wrap(v)
    if isinstance(v, (list, tuple)):
        from .._creation import tensor

        return tensor(v)
    return v


def sparse_op(name, input, other, *args):
    """``ember/sparse``'s ``add``/``sub``/``mul``/``div`` (``name``) when ``input`` or
    ``other`` is a sparse COO tensor, else None (a plain ``Tensor`` answers at its first
    test). ``args``: ``alpha, out`` for add/sub, ``out[, rounding_mode]`` for mul/div."""
    if ((type(input) is Tensor or not isinstance(input, Tensor) or not input.is_sparse)
            and (type(other) is Tensor or not isinstance(other, Tensor) or not other.is_sparse)):
        return None
    from ..sparse import _ops

    return _ops.dispatch(name, input, other, *args)


def _fit_int(v, dtype):
    """A Python int outside an integer dtype's range wrapped into it, as torch's C++ cast does
    (NumPy would raise OverflowError): ``uint8_tensor + (-3)`` adds 253 modulo 256."""
    if type(v) is int and dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= v <= info.max:
            return int(np.array(v, np.int64).astype(dtype))
    return v


def operands(x, y, floating=False):
    """Cast tensor operands to torch's result dtype; Python scalars stay (NumPy treats them
    weakly). With ``floating``, integer results become the default float dtype (true division).
    """
    # fast path: the common float cases need no promotion at all
    if isinstance(x, Tensor):
        dx = x._data.dtype
        if dx.kind == "f":
            if isinstance(y, Tensor):
                if y._data.dtype is dx:
                    return x, y
            elif type(y) is float or type(y) is int:
                return x, y
    if not isinstance(x, Tensor):
        x = py_scalar(x)
    if not isinstance(y, Tensor):
        y = py_scalar(y)
    tx, ty = isinstance(x, Tensor), isinstance(y, Tensor)
    if tx and ty:
        dx = x._data.dtype
        if dx == y._data.dtype and (dx.kind == "f" or not floating):
            return x, y
    elif tx:
        k = x._data.dtype.kind
        if (k == "f" and type(y) is not complex) or not (
                floating or isinstance(y, (float, complex)) or (k == "b" and type(y) is int)):
            return x, _fit_int(y, x._data.dtype)
    elif ty:
        k = y._data.dtype.kind
        if (k == "f" and type(x) is not complex) or not (
                floating or isinstance(x, (float, complex)) or (k == "b" and type(x) is int)):
            return _fit_int(x, y._data.dtype), y
    else:
        raise TypeError(f"expected a Tensor operand, got {type(x).__name__} and "
                        f"{type(y).__name__}")
    rt = _dtype.result_type(x, y)
    if float64_hook is not None and rt is _dtype.float64:
        float64_hook(x, y)
    if floating and not (rt.is_floating_point or rt.is_complex):
        rt = _dtype.get_default_dtype()
    from .elementwise import to_dtype

    if tx and x._data.dtype != rt.np:
        x = to_dtype(x, rt)
    if ty and y._data.dtype != rt.np:
        y = to_dtype(y, rt)
    return x, y


def check_movedim(source, destination, src, dst):
    """torch's errors for ``movedim``'s dims (``src``/``dst`` wrapped, the others as given):
    as many sources as destinations, none repeated."""
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    for name, given, wrapped in (("source", source, src), ("destination", destination, dst)):
        if len(set(wrapped)) != len(wrapped):
            shown = list(given) if isinstance(given, (tuple, list)) else [given]
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({shown})")


def sizes_arg(shape, name="view", arg="size"):
    """Varargs sizes or one sequence of them as a tuple of ints. A one-element integer
    tensor counts as an int; a tensor of sizes is refused (torch's TypeError, naming
    ``name`` and ``arg``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Tensor)):
        first = shape[0]
        if not isinstance(first, Tensor):
            shape = first
        elif first._data.size != 1:
            raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of ints, not "
                            "Tensor")
    try:
        return tuple(int(s) for s in shape)
    except ValueError:  # a tensor of several values among the sizes
        raise TypeError(f"{name}(): argument '{arg}' must be tuple of ints, but found an element "
                        "of type Tensor") from None


def size_one_strides(x, out, shape):
    """``out`` with torch's stride for each size-1 dim, which NumPy sets to 0: a dim of ``x``
    keeps its own, a new leading one gets the next dim's size times stride (torch's
    ``should_fold`` in matmul reads them)."""
    lead = len(shape) - x.ndim
    strides = list(out.strides)
    for i in range(lead, len(shape)):
        if shape[i] == 1:
            strides[i] = x.strides[i - lead]
    for i in range(min(lead, len(shape) - 1) - 1, -1, -1):
        if shape[i] == 1:
            strides[i] = shape[i + 1] * strides[i + 1]
    if tuple(strides) == out.strides:
        return out
    return np.lib.stride_tricks.as_strided(x, shape, strides)
