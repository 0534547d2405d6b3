"""More torch Tensor methods: the in-place comparisons, logical and bitwise ops, more in-place
math, the ``log_normal_``/``geometric_``/``cauchy_`` draws, and small properties.

Like ``_tensor_methods.py``, this file only wires torch's names to ``ember.ops``; the in-place
view ops, ``resize_`` and the legacy constructors are in ``_tensor_methods_views.py``.
"""
from __future__ import annotations

import math

import numpy as np

from . import _arg_errors, _creation, _dtype, _inplace, _random, _sampling, ops
from ._arg_errors import check_tensors, method, method_twin, missing, not_tensor
from ._compat import histogram
from ._tensor import Tensor
from .ops import _linalg_geqrf
from .ops._shape_utils import type_name
from .ops.math_more import compare_as_input

cpp_name = _dtype.c_type_name  # torch's C++ name for a dtype in some messages ("long int")


def _cpp_number(v) -> str:
    """A number as C++'s ``ostream`` prints a double (``0``, ``1.5``, ``1e-07``)."""
    return f"{float(v):g}"


# --- in-place comparisons: recorded (zero gradient) as torch's Eq/Ne/...Backward nodes ---------
def _compare_inplace(name):
    fn = compare_as_input(name)

    def method(self, other):
        return self._inplace(fn, other)

    method.__name__ = name + "_"
    method.__doc__ = (f"``self = self.{name}(other)`` in place, as 0/1 in self's dtype "
                      "(gradient 0).")
    return method


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Tensor, _name + "_", _compare_inplace(_name))
Tensor.greater_, Tensor.greater_equal_, Tensor.less_, Tensor.less_equal_, Tensor.not_equal_ = (
    Tensor.gt_, Tensor.ge_, Tensor.lt_, Tensor.le_, Tensor.ne_)


# --- in-place logical and bitwise ops: never recorded (torch's are not differentiable) ---------
def _write_result(self, values: np.ndarray, name: str):
    """Write ``values`` (broadcast, cast) into self, with torch's errors; count the change."""
    target = self._data
    _inplace.check_internal_overlap(target)
    values = _inplace.assignable(self, values)  # torch's shape, then dtype errors
    np.copyto(target, values, casting="unsafe")
    self._bump(name)
    return self


def _unrecorded_inplace(name, fn, check_grad):
    def method(self, *args):
        if check_grad:  # bitwise ops: torch's in-place check first, then their dtype errors
            self._check_inplace(overlap=False)
        _inplace.check_no_partial_overlap(self._data, args)
        try:
            values = fn(self, *args)._data
        except (NotImplementedError, TypeError, ValueError) as e:
            raise _inplace.kernel_error(self, fn, args, e) from e.__cause__
        return _write_result(self, values, name + "_")

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``; returns self (not recorded: no gradient)."
    return method


for _name in ("logical_and", "logical_or", "logical_xor", "logical_not"):
    setattr(Tensor, _name + "_", _unrecorded_inplace(_name, getattr(ops, _name), False))
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
    setattr(Tensor, _name + "_", _unrecorded_inplace(_name, getattr(ops, _name), True))
# ``x &= y`` and friends change x in place, as torch's (without them Python rebinds x)
Tensor.__iand__ = lambda self, other: self.bitwise_and_(other)
Tensor.__ior__ = lambda self, other: self.bitwise_or_(other)
Tensor.__ixor__ = lambda self, other: self.bitwise_xor_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)


# --- more in-place math (run out of place, written back, recorded as torch) -------------------
def _inplace_of(fn, name=None):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = (name or fn.__name__) + "_"
    method.__doc__ = f"In-place ``{name or fn.__name__}``; returns self."
    return method


for _name in ("log10", "log2", "expm1", "tan", "absolute", "negative", "fix", "sgn", "renorm",
              "mvlgamma", "igamma", "igammac", "addmm"):
    setattr(Tensor, _name + "_", _inplace_of(getattr(ops, _name), _name))


def _cumulative_inplace(fn):
    def method(self, dim, *, dtype=None):
        if dtype is not None:
            from ._dtype import convert

            want = convert(dtype).np
            if want != self._data.dtype:
                raise RuntimeError(f"Bad in-place call: input tensor dtype "
                                   f"{cpp_name(self._data.dtype)} and output tensor dtype "
                                   f"{cpp_name(want)} should match")
        if self._data.dtype == np.bool_:  # torch runs in self's dtype, which has no loop
            return self._inplace(fn, dim, dtype=self.dtype)
        return self._inplace(fn, dim)

    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place ``{fn.__name__}`` along ``dim``; returns self."
    return method


Tensor.cumsum_ = _cumulative_inplace(ops.cumsum)
Tensor.cumprod_ = _cumulative_inplace(ops.cumprod)


def float_power_(self, exponent):
    """In-place ``float_power``: only a float64 tensor (complex128 when either operand is
    complex) can hold its result."""
    complex_ = self._data.dtype.kind == "c" or isinstance(exponent, complex) or (
        isinstance(exponent, Tensor) and exponent._data.dtype.kind == "c")
    wide = np.complex128 if complex_ else np.float64
    if self._data.dtype != wide:
        raise RuntimeError(f"the base given to float_power_ has dtype "
                           f"{type_name(self._data.dtype)} but the operation's result requires "
                           f"dtype {type_name(wide)}")
    return self._inplace(ops.float_power, exponent)


def ldexp_(self, other):
    """In-place ``ldexp``: only a floating or complex self can hold its result (torch's own
    message, checked before the shapes)."""
    if not isinstance(other, Tensor):
        raise not_tensor("ldexp_", "other", 2, other)
    if self._data.dtype.kind not in "fc":
        raise RuntimeError(f"ldexp can't be cast to the desired output type "
                           f"{type_name(self._data.dtype)}")
    return self._inplace(ops.ldexp, other)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place ``index_reduce``; returns self."""
    return self._inplace(ops.index_reduce, dim, index, source, reduce,
                         include_self=include_self)


def _polygamma_recorded_as_inplace(input, n):
    from .ops.pointwise_special import float_input
    from .ops.special_more import Polygamma, _polygamma_n

    return Polygamma.apply(float_input("polygamma", input), n=_polygamma_n(n),
                           node_name="PolygammaBackward1")


_polygamma_recorded_as_inplace.__name__ = "polygamma"


def polygamma(self, n):
    """The ``n``-th derivative of digamma of each element (``torch.polygamma(n, self)``)."""
    return ops.polygamma(n, self)


def polygamma_(self, n):
    """In-place ``polygamma(n, self)``; returns self."""
    return self._inplace(_polygamma_recorded_as_inplace, n)


Tensor.float_power_ = float_power_
Tensor.ldexp_ = method_twin(ldexp_)  # its errors number the arguments after self
Tensor.index_reduce_ = index_reduce_
Tensor.polygamma = polygamma
Tensor.polygamma_ = polygamma_


# --- draws: torch's CPU kernels (one double per element, serial, in memory order) -------------
def _draw_into(self, name, values):
    if self._data.dtype == np.float16:  # torch casts double -> float -> half
        values = values.astype(np.float32)
    _sampling.fill(self._data, values.astype(self._data.dtype))
    self._bump(name)
    return self


def _fma(a, b, c):
    """``a * b + c`` rounded once, as the C++ compiler fuses it in torch's kernels (the exact
    product by Dekker's splitting, the exact sum by Knuth's two-sum)."""
    p = a * b
    a_hi = a * 134217729.0 - (a * 134217729.0 - a)
    b_hi = b * 134217729.0 - (b * 134217729.0 - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    s = p + c
    back = s - p
    return s + (((p - (s - back)) + (c - back)) + err)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std))`` draws in place (torch's numbers after a seed).

    Raises:
        RuntimeError: ``std <= 0``.
        NotImplementedError: a non-float tensor.
    """
    self._check_inplace()
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_cpp_number(std)}")
    if self._data.dtype.kind != "f":
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                  f"'{type_name(self._data.dtype)}'")
    z = _sampling._normal_serial(_random._gen(generator), self._data.size)
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.exp(_fma(z, np.float64(std), np.float64(mean)))
    return _draw_into(self, "log_normal_", values)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy draws ``median + sigma * tan(pi (u - 1/2))`` in place (torch's numbers
    after a seed).

    Raises:
        RuntimeError: ``sigma <= 0``, or a non-float tensor.
    """
    self._check_inplace()
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_cpp_number(sigma)}")
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"Cauchy distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{cpp_name(self._data.dtype)}")
    u = _sampling.uniform01(_random._gen(generator), self._data.size, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        values = _fma(np.float64(sigma), np.tan(math.pi * (u - 0.5)), np.float64(median))
    return _draw_into(self, "cauchy_", values)


def geometric_(self, p, *, generator=None):
    """Fill with geometric draws (trials to the first success, ``ceil(log(u) / log(1 - p))``)
    in place (torch's numbers after a seed); integer tensors too.

    Raises:
        RuntimeError: ``p`` outside (0, 1).
        NotImplementedError: a bool tensor.
    """
    self._check_inplace()
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_cpp_number(p)}")
    if self._data.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    u = _sampling.uniform01(_random._gen(generator), self._data.size, np.float64)
    with np.errstate(divide="ignore"):
        return _draw_into(self, "geometric_", np.ceil(np.log(u) / np.log1p(-float(p))))


Tensor.log_normal_ = log_normal_
Tensor.cauchy_ = cauchy_
Tensor.geometric_ = geometric_


# --- methods whose arguments differ from the function's, or with no ember.* twin ----------------
def where(self, condition, other):
    """``self`` where ``condition`` holds, else ``other`` (``torch.where(condition, self,
    other)``)."""
    return ops.where(condition, self, other)


@method
def is_same_size(self, other):
    """Whether ``other`` has this tensor's shape."""
    check_tensors("is_same_size", input=self, other=other)
    return self._data.shape == other._data.shape


Tensor.is_same_size = is_same_size
method(Tensor.type_as)  # its errors number the arguments after self


def sum_to_size(self, *size):
    """Sum down to ``size``, which must broadcast to this tensor's shape."""
    from .ops.shape_more import sum_to_size as _sum_to_size

    if not size:
        raise missing("sum_to_size", "size")
    return _sum_to_size(self, *size)


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (all dims equal, or a matrix) with ``fill_value`` in place;
    ``wrap`` continues it after ``n`` rows of a tall matrix, as NumPy's ``fill_diagonal``.

    Raises:
        RuntimeError: fewer than 2 dims, or unequal dims beyond 2.
    """
    a = self._data
    if a.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    step = sum(self.stride())
    n = min(a.shape)
    runs = [(n, self.storage_offset())]
    if wrap and a.ndim == 2 and a.shape[0] > a.shape[1] + 1:
        width = a.shape[1]
        runs.append((-(-a.size // (width + 1)) - n,
                     self.storage_offset() + self.stride(0) * (width + 1)))
    for size, offset in runs:
        if size > 0:
            self.as_strided((size,), (step,), offset).fill_(fill_value)
    return self


def map2_(self, x, y, callable):
    """``self[i] = callable(self[i], x[i], y[i])`` with ``x`` and ``y`` broadcast to self
    (Python-level, slow: CPU tensors only, as torch)."""
    shape = self._data.shape
    a = np.broadcast_to(x._data, shape).reshape(-1).tolist()
    b = np.broadcast_to(y._data, shape).reshape(-1).tolist()
    values = [callable(s, u, v) for s, u, v in zip(self._data.reshape(-1).tolist(), a, b)]
    self._data[...] = np.asarray(values, dtype=self._data.dtype).reshape(shape)
    self._bump("map2_")
    return self


def as_subclass(self, cls):
    """This tensor's data (shared) and requires_grad as an instance of ``cls``, a subclass of
    Tensor; cut from the graph like ``detach``."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): argument 'cls' must be a Tensor subclass, not "
                        f"{getattr(cls, '__name__', type(cls).__name__)}")
    t = cls.__new__(cls)
    t._data, t._rg, t.grad, t._grad_fn, t._vc = self._data, self._rg, None, None, self._vc
    return t


Tensor.where = where
Tensor.sum_to_size = sum_to_size
Tensor.fill_diagonal_ = fill_diagonal_
Tensor.map2_ = map2_
Tensor.as_subclass = as_subclass
Tensor.histogram = histogram
Tensor.geqrf = _arg_errors.method_twin(_linalg_geqrf.geqrf)
Tensor.ormqr = _arg_errors.method_twin(_linalg_geqrf.ormqr)
Tensor.bernoulli = _creation.bernoulli
Tensor.const_data_ptr = Tensor.data_ptr
Tensor.is_distributed = lambda self: False
Tensor.is_distributed.__doc__ = "False: ember tensors are never distributed."
Tensor.dense_dim = lambda self: self._data.ndim
Tensor.dense_dim.__doc__ = "All dims are dense in a strided tensor: ``ndim``."
Tensor.sparse_dim = lambda self: 0
Tensor.sparse_dim.__doc__ = "0: a strided tensor has no sparse dims."
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: self if dtype is None else \
    self.to(dtype)
Tensor.to_dense.__doc__ = "Self: a strided tensor is already dense."


def to_sparse(self, *args, **kwargs):
    """This tensor as sparse COO (``ember/sparse``): its nonzero entries, coalesced."""
    from .sparse import _convert

    return _convert.to_sparse(self, *args, **kwargs)


def to_sparse_coo(self):
    """This tensor as sparse COO, every dim sparse."""
    return to_sparse(self)


Tensor.to_sparse = to_sparse
Tensor.to_sparse_coo = to_sparse_coo


# --- properties -------------------------------------------------------------------------------
def _false(doc):
    return property(lambda self: False, doc=doc)


for _name in ("is_meta", "is_sparse", "is_sparse_csr", "is_quantized", "is_mkldnn", "is_nested",
              "is_xla", "is_xpu", "is_mps", "is_ipu", "is_vulkan", "is_maia", "is_mtia"):
    setattr(Tensor, _name, _false(f"False: ember tensors are CPU strided tensors ({_name})."))
Tensor.name = property(lambda self: None, doc="None: ember has no named tensors.")
Tensor.conj_physical_ = ops.conj_physical  # a real tensor is its own conjugate: self


def _volatile(self):
    import warnings

    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning,
                  stacklevel=2)
    return False


Tensor.volatile = property(_volatile, doc="False, with torch's warning (volatile was removed).")
Tensor.is_cpu = property(lambda self: True, doc="True: ember tensors live on the CPU.")
# (Tensor.real and Tensor.imag: settable properties, in ops/complex_ops.py)

from . import _tensor_methods_views  # noqa: E402,F401,I001  (in-place view ops, resize_, new)
