"""``Function.apply`` for users' Functions: Tensors in forward and backward, like torch."""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t
from . import grad_mode
from .function import AccumulateGrad, _creation_site, _seq, record_creation_site


class _UserBackward:
    """Adapter the engine calls: wraps arrays into Tensors for the user's backward."""

    handles_missing_grads = True

    def __init__(self, cls):
        self.cls = cls

    def backward(self, ctx, *grads):
        wrapped = tuple(_t._wrap(g) if g is not None else None for g in grads)
        return tuple(r._data if isinstance(r, _t.Tensor) else (None if r is None else np.asarray(r))
                     for r in self._call(ctx, wrapped))

    def call_with_tensors(self, ctx, grads, delayed_error):
        """``create_graph=True``: the user's backward on Tensors, with grad mode on, so what it
        computes is recorded. A backward marked ``@once_differentiable`` is not: its results
        hang from an error node when a gradient flowing in needs a graph (torch's rule)."""
        res = self._call(ctx, tuple(grads))
        res = tuple(r if r is None or isinstance(r, _t.Tensor) else _t._wrap(np.asarray(r))
                    for r in res)
        if getattr(self.cls.backward, "_once_differentiable", False) and any(
                g is not None and g._rg for g in grads):
            return delayed_error(ctx, grads, [None if r is None else r._data for r in res],
                                 "trying to differentiate twice a function that was marked "
                                 "with @once_differentiable", RuntimeError)
        return res

    def _call(self, ctx, wrapped):
        """The user's backward on ``wrapped`` (Tensors); one result per tensor argument."""
        if ctx._materialize:
            wrapped = tuple(w if w is not None or d is None else _t._wrap(np.zeros(s, d))
                            for w, (s, d) in zip(wrapped, ctx._out_meta))
        res = self.cls.backward(ctx, *wrapped)
        if not isinstance(res, tuple):
            res = (res,)
        n_args = len(ctx._arg_is_tensor)
        if len(res) != n_args:
            if len(res) > n_args and all(r is None for r in res[n_args:]):
                res = res[:n_args]
            else:
                from ._errors import wrong_count  # torch's line, then why, where, fix

                raise RuntimeError(wrong_count(ctx, n_args, len(res)))
        out = []
        for r, is_t in zip(res, ctx._arg_is_tensor):
            if not is_t:
                if r is not None:
                    raise RuntimeError(f"function {ctx.name()} returned a gradient different "
                                       "than None at a position for a non-Tensor input")
                continue
            out.append(r)
        return tuple(out)


def _user_saved(self):
    saved = self._saved
    if saved is None:
        if self._released:
            from ._errors import freed  # torch's line, then which node, freed where

            raise RuntimeError(freed(self))
        return ()
    if not saved:  # empty, or packed by saved_tensors_hooks: unpacked on each read, as torch
        return tuple(saved)
    for t, version in zip(saved, self._user_versions):
        if t is not None and t._vc[0] != version:
            from ._errors import inplace_modified  # torch's line, then why, where, fix

            raise RuntimeError(inplace_modified(self, t._vc, version, t.shape, t._data.dtype,
                                                t.grad_fn, t._output_nr, t._rg, tensor=t))
    return saved


def apply(cls, args, kwargs):
    """Run a user Function: forward under no_grad, then wire outputs to a new node."""
    Tensor = _t.Tensor
    node_cls = cls._node_cls
    if not isinstance(getattr(node_cls, "_fn", None), _UserBackward):
        node_cls._fn = _UserBackward(cls)
        node_cls.saved_tensors = property(_user_saved)
    ctx = node_cls()
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    needs = tuple(isinstance(a, Tensor) and a._rg for a in args)
    ctx.needs_input_grad = needs
    ctx._materialize = True
    ctx._user_versions = ()
    ctx._dirty = ()
    ctx._non_diff = ()
    ctx.set_materialize_grads = lambda value: setattr(ctx, "_materialize", bool(value))
    ctx.mark_non_differentiable = lambda *ts: setattr(ctx, "_non_diff", ts)
    ctx.mark_dirty = lambda *ts: setattr(ctx, "_dirty", ts)
    record = grad_mode.state.enabled and any(needs)
    with grad_mode.no_grad():
        if _overrides_setup_context(cls):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    if ctx._saved:  # (a _Packed, from saved_tensors_hooks, is falsy: no version check)
        ctx._user_versions = tuple(t._vc[0] if isinstance(t, Tensor) else None
                                   for t in ctx._saved)
    is_tuple = isinstance(outputs, tuple)
    outs = outputs if is_tuple else (outputs,)
    if not record:
        return outputs
    next_functions = []
    in_meta = []
    for a in args:
        if isinstance(a, Tensor):
            if a._rg:
                fn = a.grad_fn
                if fn is None:
                    fn = a._accum or AccumulateGrad(a)
                    a._accum = fn
                next_functions.append((fn, a._output_nr))
                in_meta.append((a._data.shape, a._data.dtype))
            else:
                next_functions.append((None, 0))
                in_meta.append(None)
    ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    ctx.next_functions = tuple(next_functions)
    ctx._seq_nr = next(_seq)
    if record_creation_site.enabled:
        ctx._site = _creation_site()
    ctx._n_outputs = len(outs)
    ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None)
                          for o in outs)
    non_diff = {id(t) for t in ctx._non_diff}
    wired = []
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            wired.append(o)
            continue
        if any(o is a for a in tensor_args) and not any(o is d for d in ctx._dirty):
            o = _t._wrap(o._data)
        kind = o._data.dtype.kind
        if id(o) in non_diff or (kind != "f" and kind != "c"):
            o._rg = False
        else:
            if kind == "c":  # later ops on it must be checked for a complex rule
                from .function import enable_complex_grad

                enable_complex_grad()
            o.grad_fn = ctx
            o._output_nr = i
            o._rg = True
        if any(o is d for d in ctx._dirty):
            o._vc[0] += 1
        wired.append(o)
    return tuple(wired) if is_tuple else wired[0]


def _overrides_setup_context(cls):
    from .function import Function

    for klass in cls.__mro__:
        if "setup_context" in klass.__dict__:
            return klass is not Function
    return False
