"""Tensor methods and operators, each a thin call into ``ember.ops``.

Kept apart from ``_tensor.py`` so the class itself stays short: this file only wires
torch's method names to the functions that implement them.
"""
from __future__ import annotations

import inspect

import numpy as np

from . import _arg_errors, _inplace, autograd, ops
from ._compat import torch_kwargs
from ._tensor import Tensor, _as_array
from ._user_warning import warn_once
from .autograd import engine as _engine
from .autograd import grad_mode
from .ops._opmath import HALF, half_scalar
from .ops._shape_utils import operands


def _method(fn):
    params = inspect.signature(fn).parameters.values()
    if not any(p.name in ("dim", "axis", "keepdim") or p.kind is p.VAR_KEYWORD for p in params):
        return fn  # nothing to rename: the function itself is the method

    def method(self, *args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):  # torch's NumPy aliases
            kwargs = torch_kwargs(kwargs)
        return fn(self, *args, **kwargs)

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return _arg_errors.method(method)


_SAME_NAME = """
abs absolute add addcdiv addcmul all amax amin any argmax argmin argsort ceil chunk clamp
clamp_max clamp_min clip cos count_nonzero cumprod cumsum div divide dot eq exp expand_as expm1
flatten flip float_power floor floor_divide fmod gather ge gelu gt index_add index_select
isclose isfinite isinf isnan kthvalue le lerp log log1p log2 log10 logical_and logical_not
logical_or logical_xor logsumexp lt masked_fill masked_select matmul maximum mean minimum mm
movedim mul multiply nan_to_num narrow ne neg negative nonzero norm outer permute pow prod
ravel reciprocal relu remainder repeat reshape reshape_as roll round rsqrt scatter
scatter_add select sigmoid sign sin softmax log_softmax sort split sqrt square squeeze std
sub subtract sum swapaxes swapdims t take_along_dim tan tanh tensor_split topk transpose
tril triu true_divide trunc unbind unflatten unsqueeze var view_as bmm addmm allclose equal
expand view fmax fmin max min logical_xor bitwise_and bitwise_or bitwise_xor bitwise_not
""".split()

for _name in _SAME_NAME:
    setattr(Tensor, _name, _method(getattr(ops, _name)))
for _family in ops.EXTRA_FAMILIES:
    for _name in _family.TENSOR_METHODS:
        setattr(Tensor, _name, _method(getattr(ops, _name)))

Tensor.greater, Tensor.greater_equal, Tensor.less, Tensor.less_equal, Tensor.not_equal = (
    Tensor.gt, Tensor.ge, Tensor.lt, Tensor.le, Tensor.ne)
# Methods that raise torch's argument errors hold a twin of their ops function, so that the
# errors number the arguments after self, as torch's do (see _arg_errors.py)
for _name in ("mm bmm dot kron mv inner outer ger dist take masked_select view_as reshape_as "
              "expand_as broadcast_to tile cholesky cholesky_inverse cholesky_solve "
              "triangular_solve orgqr prelu vdot bincount svd qr diagonal_scatter "
              "as_strided_scatter lerp maximum minimum fmax fmin addcmul addcdiv").split():
    setattr(Tensor, _name, _arg_errors.method_twin(vars(Tensor)[_name]))


def _size_args(fn):
    def method(self, *sizes):
        return fn(self, *sizes)

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return _arg_errors.method(method)


Tensor.reshape = _size_args(ops.reshape)
Tensor.view = _size_args(ops.view)
Tensor.expand = _size_args(ops.expand)
Tensor.repeat = _size_args(ops.repeat)
Tensor.permute = _size_args(ops.permute)


def _flatten(self, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim``."""
    return ops.flatten(self, start_dim, end_dim)


Tensor.flatten = _flatten


def _flip(self, *dims, **kwargs):
    """Reverse the order along ``dims`` (given as varargs or one sequence, like torch)."""
    if "dims" in kwargs:
        dims = kwargs.pop("dims")
        if isinstance(dims, int):
            raise _arg_errors.must_be("flip", "dims", None, "tuple of ints", dims)
        dims = (dims,)
    if not dims:
        raise _arg_errors.missing("flip", "dims")
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return ops.flip(self, dims if len(dims) != 1 or isinstance(dims[0], int) else dims[0])


Tensor.flip = _arg_errors.method(_flip)


# --- operators -------------------------------------------------------------------------
def _r(fn):
    def reflected(self, other):
        return fn(other, self)

    return reflected


Tensor.__add__ = ops.add
Tensor.__radd__ = ops.add
Tensor.__sub__ = ops.sub
Tensor.__rsub__ = ops.rsub
Tensor.__mul__ = ops.mul
Tensor.__rmul__ = ops.mul
Tensor.__truediv__ = ops.div
Tensor.__rtruediv__ = _r(ops.div)
Tensor.__floordiv__ = lambda self, other: ops.floor_divide(self, other)
Tensor.__rfloordiv__ = _r(ops.floor_divide)
Tensor.__mod__ = lambda self, other: ops.remainder(self, other)
Tensor.__rmod__ = _r(ops.remainder)
Tensor.__pow__ = lambda self, other: ops.pow(self, other)
Tensor.__rpow__ = _r(ops.pow)
Tensor.__matmul__ = ops.matmul
Tensor.__rmatmul__ = _r(ops.matmul)
Tensor.__neg__ = ops.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: ops.abs(self)
def _invert(self):
    if self._data.dtype.kind not in "iub":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return ops.bitwise_not(self)


Tensor.__invert__ = _invert
Tensor.__and__ = lambda self, other: ops.bitwise_and(self, other)
Tensor.__or__ = lambda self, other: ops.bitwise_or(self, other)
Tensor.__xor__ = lambda self, other: ops.bitwise_xor(self, other)
Tensor.__rand__ = Tensor.__and__
Tensor.__ror__ = Tensor.__or__
Tensor.__rxor__ = Tensor.__xor__
# ``x == None`` is plain False in torch (Python's default), not an elementwise test
Tensor.__eq__ = lambda self, other: False if other is None else ops.eq(self, other)
Tensor.__ne__ = lambda self, other: True if other is None else ops.ne(self, other)
Tensor.__lt__ = lambda self, other: ops.lt(self, other)
Tensor.__le__ = lambda self, other: ops.le(self, other)
Tensor.__gt__ = lambda self, other: ops.gt(self, other)
Tensor.__ge__ = lambda self, other: ops.ge(self, other)
Tensor.__getitem__ = ops.getitem


# --- in-place ops --------------------------------------------------------------------------
_NP_INPLACE = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
_OPMATH = ("mul", "div")


_ALPHA_FIRST_WARNED = []


def _alpha_first(name, alpha, args, kw_alpha):
    """torch's deprecated ``add_(Number alpha, Tensor other)`` (old tutorials'
    ``p.data.add_(-lr, p.grad.data)``): warned about once per process (one warning for
    every deprecated overload, as torch's), then ``(other, alpha)``."""
    if name not in ("add_", "sub_") or len(args) != 1 or \
            not isinstance(args[0], (Tensor, int, float)) or isinstance(alpha, (Tensor, str)):
        raise TypeError(f"{name}() takes 1 positional argument but {len(args) + 1} were given")
    if kw_alpha != 1:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        "unrecognized keyword arguments: alpha")
    if not _ALPHA_FIRST_WARNED:
        _ALPHA_FIRST_WARNED.append(name)
        warn_once(f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor "
                  f"other)\nConsider using one of the following signatures instead:\n\t"
                  f"{name}(Tensor other, *, Number alpha = 1)")
    return args[0], alpha


def _float_operand(x, o):
    """``o`` for ``x op= o``: an integer operand of a float ``x`` cast to ``x``'s dtype first,
    as torch's (NumPy would compute in float64); float16 reads a 0-d one as a number."""
    if o.dtype.kind in "biu" and x.dtype.kind in "fc" and (o.ndim or x.dtype is not HALF):
        return o.astype(x.dtype)
    return o


def _fast_inplace(name, fn):
    """In-place arithmetic: straight into the array when nothing is recorded."""
    ufunc, is_sub = _NP_INPLACE[name], name == "sub"

    def method(self, other, *args, alpha=1, **kwargs):
        if args:
            other, alpha = _alpha_first(name + "_", other, args, alpha)
        if not kwargs and not _inplace.recording(self, (other,)):
            if self._inference:
                self._check_inplace()  # torch's error outside inference_mode
            if 0 in self._data.strides:
                _inplace.check_internal_overlap(self._data)
            if isinstance(other, Tensor):
                if type(other) is not Tensor and other.is_sparse:  # dense.add_(sparse)
                    from .sparse import _ops as _sparse_ops

                    return _sparse_ops.dense_inplace(self, name, other, alpha, fn)
                _inplace.check_no_partial_overlap(self._data, (other,))
                o = other._data
                if o.dtype is not self._data.dtype:
                    o = _float_operand(self._data, o)
            else:
                o = other
            if is_sub and (ops.elementwise._is_bool(other) or self._data.dtype.kind == "b"):
                fn(self, other)  # torch's error for a bool operand, before any other check
            if self._data.dtype.kind != "f" and (
                    name == "div" or np.result_type(self._data, o).kind == "f"):
                return self._inplace(fn, other, **({"alpha": alpha} if alpha != 1 else {}))
            if alpha != 1 or isinstance(alpha, bool):
                if self._data.dtype.kind != "f" or isinstance(alpha, bool):  # alpha's checks,
                    return self._inplace(fn, other, alpha=alpha)  # after shapes and dtypes
                if self._data.dtype is HALF:  # x + alpha * y in float32 (see ops.Add)
                    return self._inplace(fn, other, alpha=alpha)
                o = ops._alpha.times_alpha(o, alpha, self._data.dtype)
            elif name in _OPMATH and self._data.dtype is HALF:
                wide = half_scalar(other)  # a lone factor read in float32, as torch
                o = o if wide is None else wide
            try:
                ufunc(self._data, o, out=self._data, casting="same_kind")
            except OverflowError:  # NumPy 2 refuses a Python int outside the dtype: torch wraps
                return self._inplace(fn, other, **({"alpha": alpha} if alpha != 1 else {}))
            except TypeError:  # NumPy refuses the cast back (int into bool, int64 into uint8)
                _inplace.check_operands(self, (other,))  # torch's shape, then dtype error
                ufunc(self._data, o, out=self._data, casting="unsafe")  # torch wraps integers
            except ValueError:
                self._check_inplace()  # torch's error for a read-only array
                _inplace.check_output_shape(self._data.shape, np.shape(o))
                raise
            self._bump(name + "_")
            return self
        extra = dict(kwargs)
        if alpha != 1:
            extra["alpha"] = alpha
        return self._inplace(fn, other, **extra)

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``; returns self."
    return method


for _name in ("add", "sub", "mul", "div"):
    setattr(Tensor, _name + "_", _fast_inplace(_name, getattr(ops, _name)))

Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.subtract_, Tensor.multiply_, Tensor.divide_, Tensor.true_divide_ = (
    Tensor.sub_, Tensor.mul_, Tensor.div_, Tensor.div_)


def _generic_inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}``; returns self."
    return method


for _name in ("index_fill", "index_copy", "masked_scatter"):
    setattr(Tensor, _name + "_", _generic_inplace(getattr(ops, _name)))
Tensor.put_ = lambda self, index, source, accumulate=False: self._inplace(
    ops.put, index, source, accumulate=accumulate)

for _name in ("pow exp log sqrt rsqrt neg abs sigmoid tanh relu "
              "masked_fill floor ceil round trunc sign reciprocal addcmul addcdiv "
              "scatter scatter_add index_add fmod remainder sin cos square tril triu "
              "log1p nan_to_num floor_divide").split():
    setattr(Tensor, _name + "_", _generic_inplace(getattr(ops, _name)))
Tensor.abs_ = ops.unary._abs_  # torch's error for complex tensors, else the generic form


def zero_(self):
    """Fill with zeros in place (recorded as ``ZeroBackward0`` when in a graph)."""
    if _inplace.recording(self):
        return self._inplace(ops.fill, 0, node_name="ZeroBackward0")
    self._check_inplace(overlap=False)  # one value into shared memory is fine (torch)
    self._data[...] = 0
    self._bump("zero_")
    return self


def fill_(self, value):
    """Fill with ``value`` in place (recorded as ``FillBackward*`` when in a graph)."""
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    value = ops.complex_ops.real_scalar(value, self._data.dtype, self._data.size)
    if _inplace.recording(self, (value,)):
        return self._inplace(ops.fill, value)
    self._check_inplace(overlap=False)
    self._data[...] = ops.complex_ops.drop_imag(_as_array(value), self._data.dtype)
    self._bump("fill_")
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src``'s values (broadcast, converted) into self."""
    if _inplace.recording(self, (src,)):
        return self._inplace(ops.fill, src, node_name="CopyBackwards")
    self._check_inplace()
    _inplace.check_no_partial_overlap(self._data, (src,))
    arr = ops.complex_ops.drop_imag(_as_array(src), self._data.dtype)
    if arr.shape != self._data.shape:
        from .ops._shape_utils import check_broadcast

        full = check_broadcast(self._data.shape, arr.shape)
        if tuple(full) != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(full)}")
    np.copyto(self._data, np.broadcast_to(arr, self._data.shape), casting="unsafe")
    self._bump("copy_")
    return self


Tensor.zero_ = zero_
Tensor.fill_ = fill_
Tensor.copy_ = copy_


def masked_fill_(self, mask, value):
    """Fill with ``value`` where ``mask`` is True, in place."""
    if not isinstance(value, (Tensor, complex)) and not (grad_mode.state.enabled and self._rg):
        self._check_inplace(overlap=False)  # (a tensor or complex value: the op's checks)
        _inplace.warn_if_expanded(self._data, "masked_fill_", "tensor[mask] = scalar")
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        np.copyto(self._data, np.asarray(_as_array(value), self._data.dtype),
                  where=np.broadcast_to(m, self._data.shape))
        self._bump("masked_fill_")
        return self
    return self._inplace(ops.masked_fill, mask, value)


Tensor.masked_fill_ = masked_fill_


def index_put_(self, indices, values, accumulate=False):
    """``self[indices] = values`` (added when ``accumulate``), in place."""
    return self._inplace(ops.index_put, ops.normalize_index(tuple(indices)), values,
                         accumulate=accumulate)


Tensor.index_put_ = index_put_
Tensor.index_put = lambda self, indices, values, accumulate=False: ops.index_put(
    self, ops.normalize_index(tuple(indices)), values, accumulate)


def _unary_reduce_alias(name, fn):
    def method(self, dim=None, keepdim=False):
        return fn(self, dim, keepdim)

    method.__name__ = name
    return method


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A new tensor from ``data`` with this tensor's dtype by default."""
    from ._creation import tensor

    return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _new_filled(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from . import _creation

        if not size:
            raise _arg_errors.missing(f"new_{fill}", "size")
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        elif len(size) == 1 and isinstance(size[0], Tensor) and size[0]._data.size != 1:
            raise _arg_errors.must_be(f"new_{fill}", "size", 1, "tuple of ints", size[0])
        return getattr(_creation, fill)(*size, dtype=dtype or self.dtype, device=device,
                                        requires_grad=requires_grad)

    method.__name__ = "new_" + fill
    method.__doc__ = f"A new ``{fill}`` tensor with this tensor's dtype by default."
    return method


Tensor.new_tensor = new_tensor
Tensor.new_zeros = _new_filled("zeros")
Tensor.new_ones = _new_filled("ones")
Tensor.new_empty = _new_filled("empty")


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A new tensor filled with ``fill_value``, this tensor's dtype by default."""
    from ._creation import full

    return full(size, fill_value, dtype=dtype or self.dtype, device=device,
                requires_grad=requires_grad)


Tensor.new_full = new_full


def _softmax_method(fn):
    def method(self, dim=None, dtype=None, *, axis=None):
        return fn(self, dim if axis is None else axis, dtype)

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


Tensor.softmax = _softmax_method(ops.softmax)
Tensor.log_softmax = _softmax_method(ops.log_softmax)


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    from ._creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


Tensor.multinomial = _multinomial


def _op_add_scalar(self, other):
    return operands(self, other)


del _op_add_scalar


# --- small torch methods ---------------------------------------------------------------------
def _matrix_h(self):
    """The conjugate transpose of a 2-D tensor (the transpose of a real one); the
    identity, with torch's warning, on 0-D."""
    if self._data.ndim == 0:
        warn_once(_CONJ_ON_0D.format("H"))
        return self.permute(())
    if self._data.ndim != 2:
        hint = (" For batches of matrices, consider using tensor.mH" if self._data.ndim > 2
                else "")
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self._data.ndim}-D tensor.{hint}")
    return ops.conj(self.t())


Tensor.H = property(_matrix_h)
_CONJ_ON_0D = "Tensor.{} is deprecated on 0-D tensors. Consider using x.conj()."


def _matrix_mh(self):
    """The last two dims swapped and conjugated; the identity, with torch's warning, on 0-D."""
    ndim = self._data.ndim
    if ndim < 2:
        if ndim == 1:
            raise RuntimeError("tensor.mH is only supported on matrices or batches of "
                               "matrices. Got 1-D tensor.")
        warn_once(_CONJ_ON_0D.format("mH"))
        return self.permute(())
    return ops.conj(self.transpose(-2, -1))


Tensor.mH = property(_matrix_mh)


def _adjoint(self):
    """The last two dims swapped and conjugated; on 0-D, the conjugate (torch's warning)."""
    ndim = self._data.ndim
    if ndim == 1:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           "matrices. Got 1-D tensor.")
    if ndim == 0:
        warn_once("adjoint() is deprecated on 0-D tensors. Consider using x.conj().")
        return ops.conj(self)
    return ops.conj(self.transpose(-2, -1))


Tensor.adjoint = _adjoint


def storage_offset(self) -> int:
    """Where this tensor's first element lies in its storage, in elements."""
    from .ops._storage import offset_in, storage_root

    return offset_in(self._data, storage_root(self._data))


def is_nonzero(self) -> bool:
    """The truth of a one-element tensor (torch's errors for any other)."""
    if self._data.size != 1:
        raise RuntimeError("Boolean value of Tensor with "
                           f"{'no values' if self._data.size == 0 else 'more than one value'} "
                           "is ambiguous")
    return bool(self._data.reshape(()))


def dim_order(self) -> tuple:
    """The dims from the outermost to the innermost in memory (largest stride first)."""
    strides = self._data.strides
    return tuple(sorted(range(self._data.ndim), key=lambda d: -strides[d]))


def apply_(self, callable):
    """Replace every element ``v`` with ``callable(v)`` (Python-level; slow, as in torch)."""
    if self._rg:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    flat = self._data.reshape(-1)
    values = [callable(v) for v in flat.tolist()]
    self._data[...] = np.asarray(values, dtype=self._data.dtype).reshape(self._data.shape)
    self._bump("apply_")
    return self


def map_(self, tensor, callable):
    """``self[i] = callable(self[i], tensor[i])``, with ``tensor`` broadcast to self."""
    from .ops._shape_utils import check_expand

    other = tensor._data
    if other.shape != self._data.shape:
        check_expand(other.shape, self._data.shape)
    pairs = zip(self._data.reshape(-1).tolist(),
                np.broadcast_to(other, self._data.shape).reshape(-1).tolist())
    self._data[...] = np.asarray([callable(a, b) for a, b in pairs],
                                 dtype=self._data.dtype).reshape(self._data.shape)
    self._bump("map_")
    return self


Tensor.storage_offset = storage_offset
Tensor.is_nonzero = is_nonzero
Tensor.dim_order = dim_order
Tensor.apply_ = apply_
Tensor.map_ = map_


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None,
             explain=False):
    """Compute the gradient of this tensor with respect to the graph's leaves.

    Args:
        gradient: the gradient of some scalar with respect to this tensor; needed
            unless it has one element.
        retain_graph: keep saved values so backward can run again (default:
            ``create_graph``).
        create_graph: record the backward pass, so that ``.grad`` can be differentiated
            again (higher-order gradients).
        inputs: accumulate only into these tensors' ``.grad``.
        explain: print each step of the walk (see ``ember.autograd.explain``).
    """
    if gradient is None and inputs is None and not (create_graph or explain):
        _engine.run_backward((self,), None, bool(retain_graph))
        return
    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs, explain=explain)


Tensor.backward = backward

from . import _tensor_methods_more  # noqa: E402,F401,I001  (more methods, in-place view ops)
from . import _tensor_random_fills  # noqa: E402,F401,I001  (uniform_, normal_, random_ ...)
