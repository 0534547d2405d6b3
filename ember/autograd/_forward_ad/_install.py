"""Putting the forward-mode wrappers in on entering a dual level and taking them out on
leaving it, as ``ember/profiler/_record.py`` does for its timers: outside a level every
patched object is the original again, so ordinary code pays nothing, not even a check.

What is wrapped (``ORIG`` keeps each original for the wrapper to call):

- ``Op.apply`` and ``Function.apply``: every op's and every user Function's forward;
- the paths that compute without ``Op.apply``: the ``+ - * /`` and ``matmul`` fast paths, and
  ``sum``, ``reshape``, ``getitem``, ``abs`` and strided views when nothing requires grad
  (under every name each function is bound to: ``ember.sum``, ``Tensor.__getitem__`` ...);
- in-place changes: ``_inplace.run`` and ``setitem``, the in-place methods that write
  directly, the in-place view ops;
- ``out=`` (torch's error), the tensor repr (``tangent=``), and for forward over reverse the
  double-backward engine's ``saved_tensors``, ``stand_in`` and formula-less nodes.
"""
from __future__ import annotations

import sys

from ... import _tensor as _t
from . import _apply, _custom, _inplace, _nested
from ._apply import ORIG

_saved = []  # (owner, attribute, original), in the order patched
_sites = {}  # id(function) -> (module count when scanned, [(namespace, name), ...])


class _Cell:
    """A closure cell as a patchable owner (``Tensor.sum`` is a closure over ``ops.sum``)."""

    def __init__(self, cell):
        self.cell = cell

    def __setattr__(self, attr, value):
        if attr == "cell":
            object.__setattr__(self, attr, value)
        else:
            self.cell.cell_contents = value


def _patch(owner, attr, new, key=None):
    if isinstance(owner, _Cell):
        _saved.append((owner, attr, owner.cell.cell_contents))
        owner.cell.cell_contents = new
        return
    original = vars(owner)[attr]
    if key is not None:
        ORIG[key] = original.__func__ if isinstance(original, (classmethod,
                                                               staticmethod)) else original
    _saved.append((owner, attr, original))
    setattr(owner, attr, new)


def _bound_names(fn):
    """Every ``(namespace, name)`` in ember's loaded modules and ``Tensor`` bound to ``fn``
    (cached until more modules are loaded)."""
    count = len(sys.modules)
    cached = _sites.get(id(fn))
    if cached is not None and cached[0] == count:
        return cached[1]
    sites = [(_t.Tensor, n) for n, v in vars(_t.Tensor).items() if v is fn]
    holders = list(vars(_t.Tensor).values())  # functions whose closures may call fn
    for name, module in list(sys.modules.items()):
        if (name == "ember" or name.startswith("ember.")) and module is not None:
            values = list(vars(module).values())
            sites += [(module, n) for n, v in list(vars(module).items()) if v is fn]
            holders += values
    # closures over fn: Tensor.sum's over ops.sum, the out= wrappers (ember.sum) over theirs
    cells = {id(c): c for v in holders for c in _closure(v) if _holds(c, fn)}
    sites += [(_Cell(c), "cell_contents") for c in cells.values()]
    _sites[id(fn)] = (count, sites)
    return sites


def _closure(value):
    """The cells a function closes over; none for anything else (``types.FunctionType``
    itself has a ``__closure__`` descriptor, not a tuple)."""
    cells = getattr(value, "__closure__", None)
    return cells if type(cells) is tuple else ()


def _holds(cell, fn):
    try:
        return cell.cell_contents is fn
    except ValueError:  # an empty cell
        return False


def _patch_everywhere(fn, new, key):
    ORIG[key] = fn
    for owner, attr in _bound_names(fn):
        _patch(owner, attr, new)


def install() -> None:
    """Swap the wrappers in (see the module's notes); on any failure, undo what was done."""
    from ... import _compat, _format, _tensor_methods_views
    from ... import _inplace as core_inplace
    from ...ops import elementwise, indexing, linalg, reduce, shape, strided, unary
    from .. import _double_backward
    from ..function import Function, Op
    from . import (  # noqa: F401  (they fill the table of rules)
        rules_complex,
        rules_linalg,
        rules_nn,
        rules_pointwise,
        rules_reduce,
        rules_shape,
        rules_special,
    )

    try:
        _t.Tensor._fw_grad = None
        _saved.append((_t.Tensor, "_fw_grad", None))
        _patch(Op, "apply", classmethod(_apply.op_apply), "op_apply")
        _patch(Function, "apply", classmethod(_custom.function_apply), "function_apply")
        _patch(elementwise, "_fast", _apply.elementwise_fast, "fast")
        _patch(strided, "_view", _apply.strided_view, "strided_view")
        _patch(_compat, "_write_out", _apply.write_out, "write_out")
        _patch(_format, "format_tensor", _apply.format_tensor, "format_tensor")
        _patch_everywhere(linalg.matmul, _apply.matmul, "matmul")
        _patch_everywhere(unary.abs, _apply.abs_, "abs")
        for module, name in ((reduce, "sum"), (shape, "reshape"), (indexing, "getitem")):
            fn = vars(module)[name]
            ORIG[name] = fn
            _patch_everywhere(fn, _apply._same_on_tangent(name), name)
        _patch(core_inplace, "run", _inplace.run, "run")
        _patch(core_inplace, "setitem", _inplace.setitem, "setitem")
        _patch(_tensor_methods_views, "_view_inplace", _inplace.view_inplace, "view_inplace")
        for name in ("add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_",
                     "masked_fill_"):  # (and their aliases: multiply_, ...)
            ORIG["Tensor." + name] = vars(_t.Tensor)[name]
            wrapper = _inplace._arithmetic(name) if name in _inplace.ARITHMETIC else \
                getattr(_inplace, name)
            _patch_everywhere(vars(_t.Tensor)[name], wrapper, "Tensor." + name)
        _patch_everywhere(_double_backward.saved_tensors, _nested.saved_tensors,
                          "saved_tensors")
        _patch_everywhere(_double_backward.stand_in, _nested.stand_in, "stand_in")
        _patch(_double_backward, "_call_without_formula", _nested.call_without_formula,
               "call_without_formula")
    except BaseException:
        uninstall()
        raise


def uninstall() -> None:
    """Put every original object back, in the reverse order of the patches."""
    while _saved:
        owner, attr, original = _saved.pop()
        if owner is _t.Tensor and attr == "_fw_grad":
            del _t.Tensor._fw_grad
        else:
            setattr(owner, attr, original)
