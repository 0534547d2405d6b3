"""Tensor: one private NumPy array plus the autograd fields (grad, grad_fn, version)."""
from __future__ import annotations

import numpy as np

from . import _dtype
from ._backend import CPU, check_device
from ._memory_format import contiguous_format, is_laid_out
from ._size import Size
from ._user_warning import warn_once
from .autograd import grad_mode
from .autograd.grad_mode import state as _grad_state

_IDENTITY_ON_0D = ("Tensor.{} is deprecated on 0-D tensors. This function is the identity in "
                   "these cases.")
_T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
    "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
    "batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
    "dimensions of a tensor.")

_new = object.__new__


def _wrap(arr, requires_grad=False):
    """A fresh leaf Tensor around ``arr`` (no copy)."""
    if type(arr) is not np.ndarray:  # ufuncs on 0-d arrays return NumPy scalars
        arr = np.asarray(arr)
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)  # NumPy returns scalars from some 0-d computations
    t = _new(Tensor)
    t._data = arr
    t._rg = requires_grad
    t._grad = None
    t._grad_fn = None
    t._vc = [0]
    if _grad_state.inference:
        t._inference = True
    return t


_FLOAT_ONLY = "only Tensors of floating point dtype can require gradients"


def _require_grad(t, message):
    """``t.requires_grad_()`` with torch's wording for the caller: factories and Parameter say
    "Only Tensors of floating point and complex dtype ...", the setter "only Tensors of
    floating point and complex dtype ...", ``requires_grad_`` itself :data:`_FLOAT_ONLY`."""
    try:
        return t.requires_grad_(True)
    except RuntimeError as e:
        if str(e) != _FLOAT_ONLY:
            raise
        raise RuntimeError(message) from None


def _wrap_result(arr, node, index):
    """The ``index``-th output of ``node``; integer and bool outputs never require grad."""
    if type(arr) is not np.ndarray:  # ufuncs on 0-d arrays return NumPy scalars
        arr = np.asarray(arr)
    t = _new(Tensor)
    t._data = arr
    t._grad = None
    if arr.dtype.kind == "f":
        t._rg = True
        t._grad_fn = node
    elif arr.dtype.kind == "c":
        t._rg = True
        t._grad_fn = node
        _fn.complex_output(node)
    else:
        t._rg = False
        t._grad_fn = None
    t._vc = [0]
    if index:
        t._output_nr = index
    return t


def _view_result(out, base):
    """Mark ``out`` as a view of ``base`` when their arrays share memory (for an empty one,
    when its array derives from the same buffer: no memory is shared to test)."""
    a = out._data
    if a.base is not None and (np.shares_memory(a, base._data)
                               or a.size == 0 and _buffer(a) is _buffer(base._data)):
        _mark_view(out, base)
    return out


def _buffer(a):
    while getattr(a, "base", None) is not None:  # as_strided's wrapper has a base too
        a = a.base
    return a


def _mark_view(out, base):
    """``out`` shares ``base``'s memory: it shares the version counter and remembers the root
    base (and the version it was made at: a later in-place change of the base refreshes it)."""
    vc = out._vc = base._vc
    if out._inference is not base._inference:  # a view is an inference tensor as its base is
        out._inference = base._inference
    out._base = root = base if base._base is None else base._base
    if vc[0]:
        out._view_version = vc[0]
    if out._grad_fn is not None:
        out._grad_fn._output_is_view = True  # for torch's "output 0 of AsStrided" (_errors.py)
    if root._rg and not grad_mode.state.enabled:
        out._no_grad_view = True  # torch refuses to change it in place with grad mode on
        if out._data.dtype.kind in "fc":  # it requires grad, as torch's (a dead end)
            _views.grad_sink(out)
    elif root is not base and (base._no_grad_view or base._multi_view is not None):
        out._no_grad_view, out._multi_view = base._no_grad_view, base._multi_view  # inherited
    return out


def _as_array(value, dtype=None):
    if isinstance(value, Tensor):
        return value._data
    return np.asarray(value, dtype=dtype)


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Shares torch's surface: ``shape``, ``dtype``, ``device``, ``requires_grad``, ``grad``,
    ``grad_fn``, ``backward()``, methods for every op, in-place ops ending in ``_``.
    ``Tensor(data)`` builds a float tensor from data, ``Tensor(2, 3)`` an uninitialised one
    (torch's legacy constructor); prefer ``ember.tensor``.
    """

    __slots__ = ("_data", "_rg", "_grad", "_grad_fn", "_vc", "__dict__", "__weakref__")
    # Rarely set: class-level defaults, stored in the instance only when they differ.
    _output_nr = 0
    _base = None
    _accum = None
    _hooks = None
    _post_acc_hooks = None
    _view_version = 0  # a view's version when its grad_fn was made (see ops/copy_slices.py)
    _no_grad_view = False  # a view of a tensor requiring grad, made under no_grad
    _multi_view = None  # ("Split", i) for output i of an op returning several views
    _is_conj = False  # torch's conjugate bit: set on conj() of a complex tensor (complex_ops.py)
    _inference = False  # made inside inference_mode (autograd/grad_mode.py)

    __array_priority__ = 1000  # so ndarray <op> Tensor defers to Tensor's reflected op

    def __init__(self, *args, dtype=None, device=None):
        check_device(device)
        d = _dtype.convert(dtype) if dtype is not None else _dtype.get_default_dtype()
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            arr = np.array(_as_array(args[0]), dtype=d.np)
        else:
            arr = np.empty(tuple(int(a) for a in args) if args else (0,), dtype=d.np)
        self._data = arr
        self._rg = False
        self._grad = None
        self._grad_fn = None
        self._vc = [0]

    # --- attributes ------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The sizes of each dimension."""
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        """The element type, e.g. ``ember.float32``."""
        return _dtype._BY_NP[self._data.dtype]

    @property
    def device(self):
        """Always the CPU for now."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        """False: ember runs on the CPU."""
        return False

    @property
    def layout(self):
        """``ember.strided``, the only layout of ember's tensors."""
        from ._layout import strided

        return strided

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all elements."""
        return self._data.nbytes

    def is_floating_point(self) -> bool:
        """True for float dtypes."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self, *, memory_format=None) -> bool:
        """True when the elements lie without gaps in ``memory_format``'s order (row-major)."""
        return is_laid_out(self._data, memory_format)

    def stride(self, dim=None):
        """Steps between elements, in elements (like torch), per dimension."""
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        """Address of the first element (0 for a tensor with no elements, as torch)."""
        return self._data.__array_interface__["data"][0] if self._data.size else 0

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen."""
        return self._vc[0]

    @property
    def grad_fn(self):
        """The node that made this tensor (None for a leaf). A view whose base was changed in
        place since it was made shows the base's new history, as in torch."""
        if self._base is not None and self._view_version != self._vc[0]:
            _fn._refresh_view(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded for backward."""
        if self._base is not None and self._view_version != self._vc[0]:
            if self._no_grad_view or self._multi_view is not None:
                return self._rg  # torch reads it without the refresh that refuses these views
            _fn._refresh_view(self)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if value:
            _require_grad(self, "only Tensors of floating point and complex dtype can require "
                                "gradients")
        else:
            self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf (float dtypes only); returns self."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._inference and not _grad_state.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if requires_grad and self._data.dtype.kind != "f":
            if self._data.dtype.kind != "c":
                raise RuntimeError(_FLOAT_ONLY)
            _fn.enable_complex_grad()
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (their ``.grad`` is filled)."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        """True after ``retain_grad()`` on a non-leaf."""
        return bool(self.grad_fn is not None and self.grad_fn._tensor_hooks
                    and any(getattr(h, "_retain", False)
                            for h in self.grad_fn._tensor_hooks.get(self._output_nr, ())))

    @property
    def output_nr(self) -> int:
        """Which output of ``grad_fn`` this tensor is."""
        return self._output_nr

    @property
    def data(self) -> Tensor:
        """A detached Tensor sharing this one's storage (changes are not tracked)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = _as_array(value)

    @property
    def T(self):  # noqa: N802
        """Dimensions reversed (``permute(n-1, ..., 0)``); torch's deprecation warning on
        tensors that are not 2-D."""
        ndim = self._data.ndim
        if ndim != 2:
            warn_once(_T_DEPRECATED if ndim else _IDENTITY_ON_0D.format("T"))
        return _ops.permute(self, tuple(range(ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802
        """The last two dimensions swapped (the identity, with torch's warning, on 0-D)."""
        ndim = self._data.ndim
        if ndim < 2:
            if ndim == 1:
                raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                                   "matrices. Got 1-D tensor.")
            warn_once(_IDENTITY_ON_0D.format("mT"))
            return _ops.permute(self, ())
        return _ops.transpose(self, -2, -1)

    # --- conversion --------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """Nested Python lists (a number for a 0-d tensor)."""
        return self._data.tolist()

    def numpy(self, *, force=False) -> np.ndarray:
        """The underlying NumPy array (shared); refuses a tensor that requires grad."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._is_conj and not force:
            raise RuntimeError("Can't call numpy() on Tensor that has conjugate bit set. Use "
                               "tensor.resolve_conj().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'}"
                               " is ambiguous")
        return bool(self._data)

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._data.dtype.kind == "c":
            return float(_real_value(self, "double"))
        return float(self._data.reshape(()))

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._data.dtype.kind == "c":
            return int(_real_value(self, "int64_t"))
        return int(self._data.reshape(()))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self):
        return complex(self.item())

    __hash__ = object.__hash__  # identity, as torch (and C-fast in dicts and sets)

    # __format__, __reduce_ex__, __deepcopy__: ember/_tensor_casts.py

    def to(self, *args, **kwargs) -> Tensor:
        """Convert dtype and/or move to a device (only "cpu"); returns self when nothing changes."""
        if kwargs:
            _arg_errors.check_to_keywords(args, kwargs)
        dtype, device, copy = kwargs.get("dtype"), kwargs.get("device"), kwargs.get("copy", False)
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif a is not None:
                device = a
        check_device(device)
        if dtype is None or _dtype.convert(dtype).np == self._data.dtype:
            return self.clone() if copy else self
        return _ops.to_dtype(self, _dtype.convert(dtype))

    def type(self, dtype=None):
        """The type name (no argument), or a converted tensor."""
        if dtype is None:
            from .autograd.function import _TORCH_TYPE_NAMES

            return "torch." + _TORCH_TYPE_NAMES[self._data.dtype.name]
        return self.to(dtype)

    def type_as(self, other) -> Tensor:
        """Converted to ``other``'s dtype."""
        try:
            return self.to(other.dtype)
        except AttributeError:
            from ._arg_errors import check_tensors

            check_tensors("type_as", input=self, other=other)
            raise

    # --- graph -------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing storage (and version counter) but cut from the graph."""
        t = _wrap(self._data)
        t._vc = self._vc  # not a view (torch's ``_is_view()`` is False), yet one version
        if t._inference is not self._inference:  # an alias, inference tensor or not as self
            t._inference = self._inference
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (not a view: torch refuses those)."""
        if self._base is not None and not _grad_state.inference:
            raise RuntimeError(_views.DETACH_VIEW_ERROR)
        self.grad_fn = None
        self._rg = False
        return self

    def clone(self, *, memory_format=None) -> Tensor:
        """A copy with its own storage, in this tensor's layout unless ``memory_format``
        says; gradient flows back to the original."""
        return _ops.clone(self, memory_format=memory_format)

    def contiguous(self, *, memory_format=None) -> Tensor:
        """Self if laid out as ``memory_format`` asks (row-major), else a copy that is."""
        fmt = memory_format or contiguous_format
        return self if is_laid_out(self._data, fmt) else _ops.clone(self, memory_format=fmt)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        import weakref

        ref = weakref.ref(self)

        def retain(grad):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = _wrap(grad._data.copy())
                else:
                    t._grad = _wrap(t._grad._data + grad._data)

        retain._retain = True
        hooks = self.grad_fn._tensor_hooks
        if hooks is None:
            hooks = self.grad_fn._tensor_hooks = {}
        hooks.setdefault(self._output_nr, []).append(retain)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        from .autograd.function import _RemovableHandle

        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _RemovableHandle(self._hooks, hook)
        hooks = self.grad_fn._tensor_hooks
        if hooks is None:
            hooks = self.grad_fn._tensor_hooks = {}
        lst = hooks.setdefault(self._output_nr, [])
        lst.insert(len([h for h in lst if not getattr(h, "_retain", False)]), hook)
        return _RemovableHandle(lst, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """On a leaf: call ``hook(tensor)`` after its ``.grad`` was accumulated."""
        from .autograd.function import _RemovableHandle

        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return _RemovableHandle(self._post_acc_hooks, hook)

    # --- printing ------------------------------------------------------------------
    def __repr__(self):
        from ._format import format_tensor

        return format_tensor(self)

    # no __str__: str() goes through type(self).__repr__, so a Parameter prints as
    # "Parameter containing:..." under print() too, as in torch

    # --- in-place machinery --------------------------------------------------------
    def _check_inplace(self, overlap=True):
        """torch's errors for in-place changes it forbids (see ``_inplace.check``)."""
        _inplace.check(self, overlap)

    def _bump(self, op: str = "an in-place op"):
        """Count an in-place change; remember which op and where, for the error messages.

        The counter is ``[version, (op, site) or None, name of the grad_fn the last recorded
        in-place op gave the tensor]``, the last two only once known."""
        vc = self._vc
        vc[0] += 1
        if _fn.record_creation_site.enabled:
            if len(vc) == 1:
                vc.append(None)
            vc[1] = (op, _fn._creation_site())

    def _note_inplace_grad_fn(self):
        """After a recorded in-place op: keep the name of the node it made in the version
        counter, which the nodes that saved this tensor share (torch's error names it)."""
        vc = self._vc
        vc.extend([None] * (3 - len(vc)))
        vc[2] = self._grad_fn.name() if self._grad_fn is not None else None

    def _inplace(self, fn, *args, **kwargs):
        """``self = fn(self, *args)`` written into self's storage, graph rebased like torch."""
        return _inplace.run(self, fn, args, kwargs)

    def __setitem__(self, index, value):
        _inplace.setitem(self, index, value)


def _copy_fields(dst, src):
    for name in ("_data", "_rg", "_grad", "grad_fn", "_vc"):
        setattr(dst, name, getattr(src, name))
    dst.__dict__.update(src.__dict__)


def _real_value(t, c_type):
    """The real value of a one-element complex tensor; torch's error when it has an imaginary
    part."""
    v = t._data.reshape(()).item()
    if v.imag:
        raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
    return v.real


from . import _arg_errors, _inplace  # noqa: E402,I001  (ops need Tensor defined first)
from . import _tensor_casts, _tensor_grad  # noqa: E402,F401  (.grad, .float(), .cpu() ...)
from . import _tensor_methods  # noqa: E402,F401  (attaches op methods and dunders)
from . import ops as _ops  # noqa: E402  (ops need Tensor defined first)
from .ops._shape_utils import wrap_dim as _wrap_dim  # noqa: E402
from . import _tensor_methods_views as _views  # noqa: E402,I001  (grad_sink, detach_'s error)
from .autograd import function as _fn  # noqa: E402
Tensor.__module__ = "ember"  # as torch.Tensor.__module__ is "torch" (messages name the class so)
