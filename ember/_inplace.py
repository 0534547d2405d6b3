"""In-place ops: run the op out of place, write the result into the tensor's own memory,
count the change, and give the tensor (and, for a view, its base) the new history."""
from __future__ import annotations

import warnings

import numpy as np

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


def check_no_partial_overlap(target, args, kwargs=None):
    """Raise torch's error when a tensor in ``args`` (or ``kwargs``) shares some, but not all,
    of ``target``'s memory: ``x.add_(x[0])`` reads elements the op has already written.

    As torch, this compares memory ranges, and only of arrays that are dense (no gaps, no
    shared elements): ``x[:, 0].add_(x[:, 1])`` interleaves, and passes. The same memory in
    the same layout (``x.add_(x)``) is fine, and so are 0-d tensors, which torch reads as
    numbers before it writes."""
    for a in (args if kwargs is None else (*args, *kwargs.values())):
        if isinstance(a, Tensor):
            d = a._data
            if d is target or d.ndim == 0 or not np.may_share_memory(d, target):
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
    if 0 in arr.strides and any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape)):
        warnings.warn(f"Use of {op} on expanded tensors is deprecated. Please clone() the tensor "
                      "before performing this operation. This also applies to advanced indexing "
                      f"e.g. {example}", UserWarning, stacklevel=4)


def check(t, overlap=True):
    """Raise torch's error for an in-place change of ``t`` that torch forbids: of a tensor
    whose elements share memory (an expanded view; unless ``overlap`` is False: ``fill_``
    and ``zero_`` write one value, so torch lets them), and, with grad mode on, of a leaf
    that requires grad, of a view of one, of a view returned with others (split), or of a
    view made under no_grad."""
    if t._inference and not grad_mode.state.inference:
        raise RuntimeError(INFERENCE_INPLACE)
    if overlap:
        check_internal_overlap(t._data)
    if not grad_mode.state.enabled:
        return
    if t._rg and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is None:
        return
    if not base._rg:
        if t._rg:  # a view of a view made a leaf by requires_grad_(): torch's base is the root
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        return
    if base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    if t._multi_view is not None:
        name, i = t._multi_view
        raise RuntimeError(
            f"Output {i} of {name} is a view and is being modified inplace. This view is the "
            "output of a function that returns multiple views. Such functions do not allow "
            "the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")
    if t._no_grad_view:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
            "You can clarify your code by moving both the view and the inplace either both "
            "inside the no_grad block (if you don't want the inplace to be tracked) or both "
            "outside (if you want the inplace to be tracked).")


def run(t, fn, args, kwargs):
    """``t = fn(t, *args, **kwargs)`` in place; recorded like torch when grad mode is on."""
    t._check_inplace()
    check_no_partial_overlap(t._data, args, kwargs)
    base = t._base
    name = getattr(fn, "__name__", "an in-place op") + "_"
    if not recording(t, args):
        with grad_mode.no_grad():
            out = fn(t, *args, **kwargs)
        assign(t, out._data)
        t._bump(name)
        return t
    if base is not None:
        out = _ops.copy_slices.inplace_on_view(t, fn, args, kwargs, assignable)
        t._bump(name)
        _save_result_as(out, t)
        _ops.copy_slices.refresh_view(t)
        t._note_inplace_grad_fn()
        return t
    # the op runs on a snapshot that stands for t's old value in the graph
    snap = _wrap(t._data.copy(), t._rg)
    snap.grad_fn, snap._output_nr, snap._accum = t.grad_fn, t._output_nr, t._accum
    snap._vc = [t._vc[0]]
    out = fn(snap, *args, **kwargs)
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
    value = _ops.complex_ops.real_scalar(value, t._data.dtype)
    if t._rg and t.grad_fn is None and grad_mode.state.enabled and _ops.indexing._is_basic(
            index):
        # torch writes through the view t[index], so its message is the view's
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    basic = _ops.indexing._is_basic(index)
    # what gets written is the region t[index] (torch copies into that view), so the region,
    # not all of t, must not overlap itself: e[0] = v is fine on an expanded e
    check(t, overlap=False)
    if basic:
        try:
            region = t._data[index]
        except IndexError as e:  # NumPy's wording -> torch's
            raise _ops.indexing._index_error(e, t._data.shape, index) from None
        check_internal_overlap(region)
    else:
        warn_if_expanded(t._data, "index_put_", "tensor[indices] = tensor")
    if recording(t, (value,)):
        if basic:  # as torch: fill or copy the view t[index]
            view = _ops.getitem(t, index)
            if view._base is not None:
                options = {"node_name": "CopyBackwards"} if isinstance(value, Tensor) else {}
                run(view, _ops.fill, (value,), options)
                return
        if isinstance(value, Tensor) and value._data.dtype != t._data.dtype:
            value = value.to(t.dtype)  # setitem converts; index_put itself refuses
        run(t, _ops.index_put, (index, value), {})
        return
    if basic:
        check_no_partial_overlap(region, (value,))
    try:
        _ops.indexing.assign(t._data, index, _as_array(value))
    except IndexError as e:  # NumPy's wording -> torch's
        raise _ops.indexing._index_error(e, t._data.shape, index) from None
    except ValueError:
        _ops._shape_utils.check_expand(np.shape(_as_array(value)), t._data[index].shape)
        raise
    t._bump("__setitem__")


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
    """``values`` in ``t``'s dtype, after torch's checks (no float into an integer tensor; a
    shape that broadcasts to ``t``'s)."""
    if values.dtype != t._data.dtype:
        check_castable(values.dtype, t._data.dtype)
        values = values.astype(t._data.dtype)
    if t._data.shape != values.shape:
        try:
            np.broadcast_to(values, t._data.shape)
        except ValueError:
            raise RuntimeError(
                f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(t._data.shape, values.shape))}") from None
    return values
