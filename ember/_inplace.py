"""In-place ops: run the op out of place, write the result into the tensor's own memory,
count the change, and give the tensor (and, for a view, its base) the new history."""
from __future__ import annotations

import re
import warnings

import numpy as np

from . import _dtype
from . import ops as _ops
from ._tensor import Tensor, _as_array, _wrap
from .autograd import grad_mode

_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
_PARTIAL_OVERLAP = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer "
    "to a single memory location. Please clone() the tensor before performing the operation.")


INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")


def check_internal_overlap(arr):
    """Raise torch's error when ``arr`` (about to be written) has elements that share memory:
    a dimension of stride 0 and size above 1, as an expanded view has (an empty array has
    no elements to share)."""
    if 0 in arr.strides and arr.size and any(
            s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape)):
        raise RuntimeError(_OVERLAP)


def check_no_partial_overlap(target, args, kwargs=None, numbers=False):
    """Raise torch's error when a tensor in ``args`` (or ``kwargs``) shares some, but not all,
    of ``target``'s memory: ``x.add_(x[0])`` reads elements the op has already written.

    As torch, this compares memory ranges, and only of arrays that are dense (no gaps, no
    shared elements): ``x[:, 0].add_(x[:, 1])`` interleaves, and passes. The same memory in
    the same layout (``x.add_(x)``) is fine; the same range in another layout is not
    (``x.unsqueeze(0).copy_(x)``). With ``numbers`` 0-d tensors pass: ``fill_`` and
    ``masked_fill_`` read them as numbers before they write."""
    for a in (args if kwargs is None else (*args, *kwargs.values())):
        if isinstance(a, Tensor):
            d = a._data
            if d is target or (numbers and d.ndim == 0) or not np.may_share_memory(d, target):
                continue
            mine, theirs = _dense_range(target), _dense_range(d)
            if mine is None or theirs is None:
                continue  # torch's "too hard to tell": no error
            if mine == theirs and d.strides == target.strides:
                continue
            if mine[0] < theirs[1] and theirs[0] < mine[1]:
                raise RuntimeError(_PARTIAL_OVERLAP)


def _dense_range(arr):
    """``(first, end)`` byte addresses of ``arr``'s memory when it is dense: its elements,
    in some order of the dims, fill that range without gaps or repeats (None otherwise)."""
    expected = arr.itemsize
    for stride, size in sorted((s, n) for s, n in zip(arr.strides, arr.shape) if n != 1):
        if stride != expected:
            return None
        expected *= size
    first = arr.__array_interface__["data"][0]
    return first, first + arr.nbytes


def warn_if_expanded(arr, op, example):
    """torch's deprecation warning for ``op`` writing into an expanded tensor (it writes)."""
    if 0 in arr.strides and arr.size and any(s == 0 and n > 1 for s, n in zip(arr.strides,
                                                                               arr.shape)):
        warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor "
                      "before performing this operation. This also applies to advanced indexing "
                      f"e.g. {example}", UserWarning, stacklevel=4)


def check(t, overlap=True):
    """Raise torch's error for an in-place change of ``t`` that torch forbids: with grad mode
    on, of a view returned with others (split), of a view made under no_grad (or of a view of
    one), of a view of a leaf that requires grad, or of such a leaf; then (torch's autograd
    checks come before its kernel's) of a tensor whose elements share memory (an expanded
    view; unless ``overlap`` is False: ``fill_`` and ``zero_`` write one value)."""
    if t._inference and not grad_mode.state.inference:
        raise RuntimeError(INFERENCE_INPLACE)
    if grad_mode.state.enabled:
        _check_grad(t)
    if overlap:
        check_internal_overlap(t._data)


def view_rebase_message(t, indirect):
    """torch's message for an in-place change of, or (``indirect``) through the base of, a
    view that came out of a multi-view op or was made under no_grad (or is a view of one)."""
    what = "its base or another view of its base has been" if indirect else "is being"
    fn = t._grad_fn
    name = None if fn is None else re.sub(r"Backward[0-9]*$", "", fn.name())
    multi = t._multi_view is not None
    if name is None:  # made without a graph: torch names no node, whatever the view's kind
        head = f"A view was created in no_grad mode and {what} modified inplace with grad mode " \
               "enabled."
    elif multi:
        head = f"Output {t._output_nr} of {name} is a view and {what} modified inplace."
    else:
        head = (f"Output {t._output_nr} of {name} is a view of a view which was created in "
                f"no_grad mode and {what} modified inplace with grad mode enabled.")
    if multi:
        return (f"{head} This view is the output of a function that returns multiple views. "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one.")
    return (f"{head} Given that this use case is ambiguous and error-prone, it is forbidden. "
            "You can clarify your code by moving both the view and the inplace either both "
            "inside the no_grad block (if you don't want the inplace to be tracked) or both "
            "outside (if you want the inplace to be tracked).")


def _check_grad(t):
    base = t._base
    if base is not None:
        if base._rg and (t._multi_view is not None or t._no_grad_view):
            raise RuntimeError(view_rebase_message(t, indirect=False))
        # (not base._rg: a view of a view made a leaf by requires_grad_(); torch's base is
        # the root)
        if (t._rg and not base._rg) or (base._rg and base.grad_fn is None):
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        return
    if t._rg and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


_KERNEL_ERRORS = (NotImplementedError, RuntimeError, TypeError, ValueError)


_READS_NUMBERS = ("fill_", "masked_fill_", "index_fill_")  # a 0-d value is read as a number


def run(t, fn, args, kwargs, overlap=True, internal=True):
    """``t = fn(t, *args, **kwargs)`` in place; recorded like torch when grad mode is on
    (``overlap``: check the arguments' memory against ``t``'s, False: the caller did;
    ``internal``: refuse a ``t`` whose elements share memory)."""
    t._check_inplace(internal)
    base = t._base
    if base is not None and (t._multi_view is not None or t._no_grad_view) and \
            grad_mode.state.enabled and any(isinstance(a, Tensor) and a._rg for a in args):
        raise RuntimeError(view_rebase_message(t, indirect=False))  # (an argument needs grad)
    name = getattr(fn, "__name__", "an in-place op") + "_"
    if overlap:
        check_no_partial_overlap(t._data, args, kwargs, numbers=name in _READS_NUMBERS and (
            kwargs.get("node_name") != "CopyBackwards"))
    if not recording(t, args):
        with grad_mode.no_grad():
            try:
                out = fn(t, *args, **kwargs)
            except _KERNEL_ERRORS as e:
                raise kernel_error(t, fn, args, e) from e.__cause__
        assign(t, out._data)
        t._bump(name)
        return t
    if base is not None:
        try:
            out = _ops.copy_slices.inplace_on_view(t, fn, args, kwargs, assignable)
        except _KERNEL_ERRORS as e:
            raise kernel_error(t, fn, args, e) from e.__cause__
        t._bump(name)
        _save_result_as(out, t)
        _ops.copy_slices.refresh_view(t)
        t._note_inplace_grad_fn()
        return t
    # the op runs on a snapshot that stands for t's old value in the graph
    snap = _wrap(t._data.copy(), t._rg)
    snap.grad_fn, snap._output_nr, snap._accum = t.grad_fn, t._output_nr, t._accum
    snap._vc = [t._vc[0]]
    try:
        out = fn(snap, *args, **kwargs)
    except _KERNEL_ERRORS as e:
        raise kernel_error(t, fn, args, e) from e.__cause__
    assign(t, out._data)
    t._bump(name)
    _save_result_as(out, t)
    old_fn = t._grad_fn
    if old_fn is not None and old_fn._tensor_hooks:  # retain_grad follows t to its new node
        _ops.copy_slices.move_retain_hook(old_fn, t._output_nr, out.grad_fn, out._output_nr)
    t.grad_fn = out.grad_fn
    t._output_nr = out._output_nr
    t._rg = out._rg
    t._note_inplace_grad_fn()
    return t


def _save_result_as(out, t):
    """An op whose backward needs its own result (``exp_``, ``sigmoid_``) saved ``out``; in
    torch the result *is* ``t``, changed in place. Save ``t``'s memory and version instead, so
    that a later in-place change of ``t`` raises torch's error at backward."""
    node, result = out._grad_fn, out._data
    if node is None or not node._saved or result.dtype != t._data.dtype or not any(
            a is result for a in node._saved):
        return
    now = t._data
    node._saved = tuple(now if a is result else a for a in node._saved)
    node._saved_versions = [
        (id(now), t._vc, t._vc[0], slot) if arr_id == id(result) and slot < 0 else
        (arr_id, vc, version, slot) for arr_id, vc, version, slot in node._saved_versions or ()]


def recording(t, args=()) -> bool:
    """Whether an in-place change of ``t`` with ``args`` goes into the graph: grad mode is
    on and ``t``, its base (``t`` is a view) or an argument requires grad."""
    if not grad_mode.state.enabled:
        return False
    base = t._base
    return (t._rg or (base is not None and base._rg)
            or any(isinstance(a, Tensor) and a._rg for a in args))


def setitem(t, index, value):
    """``t[index] = value``; recorded when a gradient is involved: through the view
    ``t[index]`` for ints and slices (``CopySlices``, as torch), as ``index_put`` otherwise."""
    if t._inference and not grad_mode.state.inference:
        raise RuntimeError(INFERENCE_INPLACE)
    index = _ops.normalize_index(index, t)
    if index is False:  # torch writes nothing and checks nothing
        return
    value = _ops.complex_ops.real_scalar(value, t._data.dtype)
    basic = _ops.indexing._is_basic(index)
    full = basic and _whole(t._data, index)  # torch writes into t itself, not a view of it
    if isinstance(value, Tensor) and value._data.ndim and value._data.shape[0] == 1:
        # torch views the value without its leading 1s (recorded; a stale view refuses)
        if not basic:
            value = value.view(value._data.shape[_lead_ones(value._data.shape):])
        elif grad_mode.state.enabled and value._base is not None and not full:
            _ = value.grad_fn
    if grad_mode.state.enabled and t._rg and t._base is None and t.grad_fn is None and (
            (basic and not full) or _ops._index_chain.is_chain(index, t._data.shape)):
        # torch writes through the view t[index], so its message is the view's (a view t:
        # the checks of the view t[index] below say it)
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    # what gets written is the region t[index] (torch copies into that view), so the region,
    # not all of t, must not overlap itself: e[0] = v is fine on an expanded e; torch's
    # autograd checks too are the view's (``run(view, ..)`` below), e.g. a split's piece
    if not basic:
        check(t, overlap=False)
    if basic:
        try:
            region = t._data[index]
        except IndexError as e:  # NumPy's wording -> torch's
            raise _ops.indexing._index_error(e, t._data.shape, index) from None
    else:
        warn_if_expanded(t._data, "index_put_", "tensor[indices] = tensor")
        if isinstance(value, Tensor) and np.shares_memory(t._data, value._data) and not (
                value._data.size == 1 and _one_mask(index)):
            # index_put_ refuses any shared memory (a one-element value under a mask is read
            # as a number: torch's masked_fill_)
            raise RuntimeError(_PARTIAL_OVERLAP)
        if isinstance(value, Tensor) and value._data.dtype != t._data.dtype and index is not True:
            _ops.index_misc.check_put_dtype(t._data, index, value)  # (x[True]: a copy_)
    recorded = recording(t, (value,))
    if basic and not recorded:  # (recorded: run() checks the view t[index] after autograd's)
        check_internal_overlap(region)
    if recorded:
        if full:  # t[:] = v, t[...] = v: torch's t.copy_(v), or t.fill_(v) for a number
            name = "CopyBackwards" if isinstance(value, Tensor) and value._data.ndim else \
                "FillBackward3"
            t._check_inplace()
            _check_setitem_overlap(t._data, value)
            run(t, _ops.fill, (value,), {"node_name": name}, overlap=False)
            return
        if basic:  # as torch: fill or copy the view t[index]
            view = _ops.getitem(t, index)
            if view._base is not None:
                options = {"node_name": "CopyBackwards"} if isinstance(value, Tensor) else {}
                view._check_inplace()  # torch's autograd checks, then the overlap ones
                _check_setitem_overlap(view._data, value)
                run(view, _ops.fill, (value,), options, overlap=False)
                return
        if isinstance(value, Tensor) and value._data.dtype != t._data.dtype:
            value = value.to(t.dtype)  # setitem converts; index_put itself refuses
        if _ops._index_chain.is_chain(index, t._data.shape):  # torch: index_put_ into a view
            views, advanced = _ops._index_chain.split(index, t._data.shape)
            t = _ops.getitem(t, views)
            index = _ops._index_chain.tensor_index(advanced, t._data.ndim)
        # (overlap checked above; torch's index_put_ only warns on an expanded t)
        run(t, _ops.index_put, (index, value), {}, overlap=False, internal=False)
        return
    if basic:
        _check_setitem_overlap(region, value)
    try:
        _ops.indexing.assign(t._data, index, _as_array(value))
    except IndexError as e:  # NumPy's wording -> torch's
        raise _ops.indexing._index_error(e, t._data.shape, index) from None
    except ValueError:
        _ops._shape_utils.check_expand(  # (torch drops the value's leading 1s first)
            _ops.index_misc.strip_ones(np.shape(_as_array(value))), t._data[index].shape)
        raise
    t._bump("__setitem__")


def _check_setitem_overlap(region, value):
    """torch's ``t[index] = value`` (``copy_to``): a 0-d value is read as a number; another
    one loses its leading size-1 dims, is broadcast to the region (a dim that grows shares
    memory: torch cannot tell, and passes) and copied in, with ``copy_``'s overlap check."""
    if not isinstance(value, Tensor) or value._data.ndim == 0:
        return
    d = value._data
    if d.shape != region.shape:
        d = d[(0,) * _lead_ones(d.shape)]
        lead = region.ndim - d.ndim
        if lead < 0 or any(n != 1 for n in region.shape[:lead]):
            return
        region = region[(0,) * lead]
        if region.shape != d.shape:
            return
    check_no_partial_overlap(region, (_wrap(d),))


def _whole(arr, index):
    """Whether the basic ``index`` keeps all of ``arr`` as it is (``...`` and slices that
    torch skips, ``_index_chain._keeps_whole_dim``): torch's setitem then skips the slicing."""
    items = index if isinstance(index, tuple) else (index,)
    dim = 0
    for i in items:
        if i is Ellipsis:
            dim += arr.ndim - sum(j is not Ellipsis for j in items)
        elif isinstance(i, slice) and dim < arr.ndim and \
                _ops._index_chain._keeps_whole_dim(i, arr.shape[dim]):
            dim += 1
        else:
            return False
    return True


def _one_mask(index):
    items = index if isinstance(index, tuple) else (index,)
    mask = items[0]._data if len(items) == 1 and isinstance(items[0], Tensor) else items[0]
    return len(items) == 1 and getattr(getattr(mask, "dtype", None), "kind", "") == "b"


def _lead_ones(shape):
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return k


_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def check_castable(result, target):
    """torch's error when an in-place op's result dtype cannot go back into the tensor: no
    complex into real, no floating point into integers, nothing but bool into bool (integers
    of any width convert, wrapping)."""
    if _KIND_ORDER[np.dtype(result).kind] > _KIND_ORDER[np.dtype(target).kind]:
        name = _ops._shape_utils.type_name
        raise RuntimeError(f"result type {name(result)} can't be cast to the desired output "
                           f"type {name(target)}")


def assign(t, values):
    """Write ``values`` into ``t``'s memory (see ``assignable``)."""
    np.copyto(t._data, assignable(t, values))


def assignable(t, values):
    """``values`` in ``t``'s dtype, after torch's checks in its order (a shape that broadcasts
    to ``t``'s; then no float into an integer tensor)."""
    if t._data.shape != values.shape:
        check_output_shape(t._data.shape, values.shape)
    if values.dtype != t._data.dtype:
        check_castable(values.dtype, t._data.dtype)
        values = values.astype(t._data.dtype)
    return values


def check_output_shape(shape, other):
    """torch's error when ``other`` broadcast with the written-to ``shape`` is not ``shape``."""
    full = _ops._shape_utils.check_broadcast(shape, other)
    if full != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(full)}")


def check_out(name, out, values, inputs=()):
    """torch's checks before writing the result ``values`` of the op ``name`` into ``out``, in
    its order: an elementwise op never resizes an ``out`` that is also an input, so its shape
    must be the result's; then the result's dtype must cast to ``out``'s."""
    shape = out._data.shape
    if shape != values.shape and (name in ITERATOR_OPS or name == "where") and any(
            x is out for x in inputs):
        check_output_shape(shape, values.shape)
    if values.dtype != out._data.dtype:
        check_castable(values.dtype, out._data.dtype)


# reductions that compute in ``out``'s dtype, and ops whose ``out`` must have the input's dtype
_OUT_DTYPE_REDUCTIONS = frozenset(("sum", "prod", "cumsum", "cumprod", "nansum", "mean"))
_NO_COMPLEX = frozenset(("floor", "ceil", "trunc", "fix", "sign"))
_SAME_DTYPE_OUT = frozenset("""abs neg negative ceil floor round trunc fix sign sgn frac
bitwise_not amax amin""".split())


def _bool_out(name, args, kwargs, x, o):
    if name == "signbit" and o.kind != "b" and x.kind != "c":  # the kernel's error first
        raise RuntimeError("signbit does not support non-boolean outputs.")
    if name != "signbit" and o.kind != "b" and o != np.uint8:
        raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                           f"{_ops._shape_utils.type_name(o)}")


def _index_out(name, args, kwargs, x, o):
    shape, dim = args[0]._data.shape, args[1] if len(args) > 1 else kwargs.get("dim")
    bad_dim = dim is not None and not -max(len(shape), 1) <= dim < max(len(shape), 1)
    empty = 0 in shape and not bad_dim and (dim is None or shape[dim] == 0)
    if o != np.int64 and x.kind in "iuf" and not (empty or bad_dim):  # torch's other errors
        raise RuntimeError(f"Expected out tensor to have dtype long int, but got "
                           f"{_dtype.c_type_name(o)} instead")


def _float_out(name, args, kwargs, x, o):
    if o.kind not in "fc":
        raise RuntimeError(f"{name}(): Expected floating point type for result tensor, but "
                           f"got: {_ops._shape_utils.type_name(o)}")


def _castable_out(name, args, kwargs, x, o):
    if x.kind in "fc":  # before std's and var's warning, as torch
        check_castable(x.type(0).real.dtype, o)
    shape, dim = args[0]._data.shape, args[1] if len(args) > 1 else kwargs.get("dim")
    kept = [] if dim is None or isinstance(dim, bool) or not shape else [
        n for i, n in enumerate(shape) if i not in _ops._shape_utils.wrap_dims(dim, len(shape))]
    if x == np.float16 and o != x and 0 not in shape and int(np.prod(kept)) == 1:
        correction = kwargs.get("correction")
        if correction is None:
            correction = 0 if kwargs.get("unbiased", args[1] if len(args) > 1 else 1) is False \
                else 1
        if int(np.prod(shape)) - correction <= 0:  # torch warns first
            _ops.variance.warn_no_dof(name)
        raise RuntimeError("std_var_all: Unsupported dtype Half")  # torch's one-output path
    if o.kind == "c" and x.kind == "f" and int(np.prod(kept)) != 1:  # (one output: computes)
        raise NotImplementedError(f"\"std_cpu\" not implemented for "
                                  f"'{_ops._shape_utils.type_name(o)}'")


def _exact_out(name, args, kwargs, x, o):
    """torch's ``norm``, ``lerp``, ``nan_to_num`` and ``clamp`` by numbers: ``out`` of the
    result's dtype only."""
    name_of = _ops._shape_utils.type_name
    if name == "nan_to_num" and o != x:
        raise RuntimeError(f"nan_to_num: dtype of out: {name_of(o)} should be same as input: "
                           f"{name_of(x)}")
    real = x.type(0).real.dtype
    if name == "norm" and x.kind in "fc" and o != real:
        raise RuntimeError(f"Expected out tensor to have dtype {_dtype.c_type_name(real)}, "
                           f"but got {_dtype.c_type_name(o)} instead")
    if name == "lerp" and x.kind in "fc" and o.kind != "b" and o != x:  # bool: a cast error
        raise RuntimeError(f"Found dtype {name_of(o)} but expected {name_of(x)}")
    if name == "clamp":
        bounds = [*args[1:3], kwargs.get("min"), kwargs.get("max")]
        if any(isinstance(b, Tensor) for b in bounds):
            return
        want = _dtype.result_type(args[0], *(b for b in bounds if b is not None)).np
        if want != o:
            raise RuntimeError(f"Found dtype {name_of(o)} but expected {name_of(want)}")


_OUT_DTYPE_RULES = {"any": _bool_out, "all": _bool_out, "signbit": _bool_out,
                    "argmax": _index_out, "argmin": _index_out, "logsumexp": _float_out,
                    "norm": _exact_out, "lerp": _exact_out, "nan_to_num": _exact_out,
                    "clamp": _exact_out, "std": _castable_out, "var": _castable_out}


def out_options(name, args, kwargs, out):
    """``kwargs`` for the op ``name`` run before its result goes into ``out``, with torch's
    rules for ``out=`` that come first: a reduction computes in ``out``'s dtype (which must be
    a given ``dtype``), and ``abs``, ``neg``, ``amax``, ... take an ``out`` of the input's
    dtype only."""
    if not isinstance(out, Tensor) or not args or not isinstance(args[0], Tensor):
        return kwargs
    name_of, x, o = _ops._shape_utils.type_name, args[0]._data.dtype, out._data.dtype
    if name in _OUT_DTYPE_REDUCTIONS:
        if kwargs.get("dtype") is not None:
            want = _dtype.convert(kwargs["dtype"]).np
            if want != o:
                raise RuntimeError(f"Expected out tensor to have dtype {_dtype.c_type_name(want)}, "
                                   f"but got {_dtype.c_type_name(o)} instead")
            return kwargs
        if name == "mean" and x.kind not in "fc":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {name_of(x)}")
        if name == "mean" and o.kind not in "fc":
            raise RuntimeError(f"result type Float can't be cast to the desired output type "
                               f"{name_of(o)}")
        return {**kwargs, "dtype": out.dtype}
    if name in _OUT_DTYPE_RULES:
        _OUT_DTYPE_RULES[name](name, args, kwargs, x, o)
    if name in ("neg", "negative") and x.kind == "b":
        return kwargs  # the op's own error comes first
    if name in _SAME_DTYPE_OUT and o != x and not (name == "abs" and x.kind == "c" != o.kind) \
            and not (x.kind == "c" and name in _NO_COMPLEX):  # the kernel's error first
        if name in ("amax", "amin"):
            raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                               f"{name_of(x)} for input's dtype and {name_of(o)} for out's dtype.")
        raise RuntimeError(f"Found dtype {name_of(o)} but expected {name_of(x)}")
    return kwargs


def out_kernel_error(fn, out, args, error):
    """``kernel_error``'s twin for ``fn(*args, out=out)`` (``fn``: the op or its name): torch
    checks the shape of an ``out`` that is also an input and the cast of the result dtype
    into ``out`` before its kernel's own errors."""
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", "")
    if name not in ITERATOR_OPS or (type(error) is RuntimeError
                                    and not str(error).startswith(_KERNEL_MESSAGES)):
        return error
    tensors = [a for a in args if isinstance(a, Tensor)]
    try:
        if any(a is out for a in tensors):
            shape = tensors[0]._data.shape
            for a in tensors[1:]:
                shape = _ops._shape_utils.check_broadcast(shape, a._data.shape)
            if tuple(shape) != out._data.shape:
                check_output_shape(out._data.shape, shape)
        if name not in _COMPARISONS:
            values = [a for a in args if isinstance(a, (Tensor, bool, int, float, complex))]
            if name == "lerp":  # torch's iterator holds its tensors only (not a number weight)
                values = tensors
            check_castable(_dtype.result_type(*values).np, out._data.dtype)
    except RuntimeError as e:
        return e
    return error


# the ops torch runs through its TensorIterator: it checks the operands' broadcast shape and
# the cast of their result dtype into ``self`` before the kernel looks at the dtype
ITERATOR_OPS = frozenset("""add sub mul div true_divide remainder fmod floor_divide pow atan2
arctan2 hypot xlogy copysign nextafter ldexp heaviside gcd lcm bitwise_and bitwise_or
bitwise_xor bitwise_left_shift bitwise_right_shift logical_and logical_or logical_xor eq ne lt
le gt ge clamp clamp_min clamp_max clip lerp addcmul addcdiv igamma igammac float_power
maximum minimum fmax fmin logaddexp logaddexp2""".split())


_COMPARISONS = frozenset(("eq", "ne", "lt", "le", "gt", "ge"))
# RuntimeErrors that torch raises after its TensorIterator checks (in the kernel, or, for
# add's alpha, on the iterator's common dtype)
_KERNEL_MESSAGES = ("ZeroDivisionError", "For integral input tensors, argument alpha",
                    "Boolean alpha only supported")


def check_operands(t, args, cast=True):
    """torch's TensorIterator checks for writing ``t op *args`` into ``t``, in its order: the
    operands broadcast to ``t``'s shape, then (``cast``) their result dtype casts to ``t``'s."""
    shape = t._data.shape
    for a in args:
        if isinstance(a, Tensor) and a._data.shape != shape:
            check_output_shape(shape, a._data.shape)
    if cast:
        values = [a for a in args if isinstance(a, (Tensor, bool, int, float, complex))]
        check_castable(_dtype.result_type(t, *values).np, t._data.dtype)


def kernel_error(t, fn, args, error):
    """The error torch raises for ``t.<fn>_(*args)`` when ember's ``fn`` raised ``error``:
    torch's shape and dtype checks come before its kernel's own errors (a dtype it lacks, a
    division by zero), and its argument errors name the in-place method, numbering the
    arguments after self. Returns ``error`` itself when torch would raise it too."""
    name, text = getattr(fn, "__name__", ""), str(error)
    if isinstance(error, TypeError):
        prefix = f"{name}(): argument "
        if text.startswith(prefix):
            match = re.match(r"'(\w+)' \(position (\d+)\)", text[len(prefix):])
            if match:
                rest = text[len(prefix) + match.end():]
                return TypeError(f"{name}_(): argument '{match[1]}' (position "
                                 f"{int(match[2]) - 1}){rest}")
        return error
    complex_clamp = text.startswith("clamp is not supported") and t._data.dtype.kind == "c"
    if name in ITERATOR_OPS and not complex_clamp and (
            type(error) is not RuntimeError  # NotImplementedError is one
            or text.startswith(_KERNEL_MESSAGES)):
        if len(args) > 1 or name.startswith("cl"):  # a number beside tensors (lerp's weight,
            args = [a for a in args if isinstance(a, Tensor)]  # clamp's bounds) is no operand
        try:
            check_operands(t, args, cast=name not in _COMPARISONS)  # bool casts to anything
        except RuntimeError as e:
            return e
    return error
