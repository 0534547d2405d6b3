"""Functions and graph nodes.

Every differentiable op is a ``Function`` with ``forward(ctx, ...)`` and
``backward(ctx, grad)``. Calling ``SomeOp.apply`` runs forward; when grad mode is on and
an input requires grad, it also creates a node (the ``ctx``, later ``out.grad_fn``) that
remembers where each input's gradient must go (``next_functions``) and what forward saved.

Two flavours share the machinery:

- ``Op``: ember's own ops. ``forward``/``backward`` take and return NumPy arrays, the
  lean path that keeps per-op overhead below torch's.
- ``Function``: the public base for users, with torch's contract (Tensors in and out).
"""
from __future__ import annotations

import itertools
import sys

import numpy as np

from .. import _tensor as _t
from .._removable_handle import ListHandle as _RemovableHandle
from . import grad_mode

_seq = itertools.count()
# (pack_hook, unpack_hook) pairs of the saved_tensors_hooks in force, innermost last
# (ember/autograd/_saved_hooks.py); empty almost always, so saving checks only that
_hook_stack = []
_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _Where:
    """Whether nodes record the user's file and line (on by default; one frame look-up)."""

    enabled = True


record_creation_site = _Where()
_THIS_PACKAGE = __file__.rsplit("autograd", 1)[0]
# the ready models and the command line are ember's own *user* code: their lines are the
# ones worth showing as creation sites
_USER_LEVEL = (_THIS_PACKAGE + "models", _THIS_PACKAGE + "cli")


# id(code) -> (code, inside ember?, {instruction offset: (file, line)}): hashing a code object
# hashes its contents, and a line number is found by scanning the line table, so both are
# looked up once per code object and call site
_code_info = {}


def _creation_site():
    """(file, line) of the nearest caller outside the ember package."""
    f = sys._getframe(3)
    info_of = _code_info
    while f is not None:
        code = f.f_code
        info = info_of.get(id(code))
        if info is None or info[0] is not code:
            name = code.co_filename
            inside = name.startswith(_THIS_PACKAGE) and not name.startswith(_USER_LEVEL)
            info = info_of[id(code)] = (code, inside, {})
        if not info[1]:
            sites = info[2]
            offset = f.f_lasti
            site = sites.get(offset)
            if site is None:
                site = sites[offset] = (code.co_filename, f.f_lineno)
            return site
        f = f.f_back
    return None


class _NeedsInputGrad:
    """``ctx.needs_input_grad``, computed from ``next_functions`` on first use."""

    def __get__(self, node, owner=None):
        if node is None:
            return self
        value = tuple(fn is not None for fn, _ in node.next_functions)
        node.__dict__["needs_input_grad"] = value
        return value


class Node:
    """A node of the backward graph (torch's ``grad_fn`` objects).

    Attributes:
        next_functions: one ``(node, input_nr)`` pair per input, ``(None, 0)`` for inputs
            that need no gradient; ``node`` is another op's node or an ``AccumulateGrad``.
        needs_input_grad: one bool per input.
    """

    _fn = None
    _n_outputs = 1
    needs_input_grad = _NeedsInputGrad()

    def name(self) -> str:
        """The node's class name, e.g. ``MulBackward0``."""
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # --- ctx API -------------------------------------------------------------
    def save_for_backward(self, *values):
        """Keep arrays (or tensors, for user Functions) for backward."""
        if _hook_stack:  # under saved_tensors_hooks: keep what pack_hook returns instead
            from ._saved_hooks import pack

            values = pack(values, self)
        self._saved = values

    @property
    def saved_tensors(self):
        """What forward saved; raises torch's error after the graph was freed."""
        saved = self._saved
        if saved is None:
            if self._released:
                from ._errors import freed  # torch's line, then which node, freed where

                raise RuntimeError(freed(self))
            return ()
        return saved

    def save_for_forward(self, *tensors):
        """Keep tensors for a custom Function's ``jvp`` (forward mode), read there as
        ``ctx.saved_tensors`` (torch's contract)."""
        for t in tensors:
            if not (isinstance(t, _t.Tensor) or t is None):
                raise AssertionError("save_for_forward expects all arguments to be tensors; you "
                                     "should save non-tensors as attributes on ctx.")
        self.saved_for_forward = tensors

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward."""
        self._post_hooks = getattr(self, "_post_hooks", None) or []
        self._post_hooks.append(fn)
        return _RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward and may replace them."""
        self._pre_hooks = getattr(self, "_pre_hooks", None) or []
        self._pre_hooks.append(fn)
        return _RemovableHandle(self._pre_hooks, fn)

    def show_as(self, name: str) -> None:
        """Name this node ``name`` (torch's name for the case at hand, e.g. ``MmBackward0``
        for a 2-D matmul) while it keeps its op's backward."""
        key = (self._fn, name)
        cls = _RENAMED.get(key)
        if cls is None:
            cls = _RENAMED[key] = type(name, (Node,), {"_fn": self._fn,
                                                       "__module__": self._fn.__module__})
        self.__class__ = cls

    @property
    def metadata(self) -> dict:
        """A dict for the user's own notes about this node."""
        if not hasattr(self, "_metadata"):
            self._metadata = {}
        return self._metadata


_RENAMED = {}  # (op, torch name) -> node class
_Node_defaults = dict(_saved=None, _saved_versions=None, _released=False, _tensor_hooks=None,
                      _post_hooks=None, _pre_hooks=None, _site=None, _output_is_view=False)
for _k, _v in _Node_defaults.items():
    setattr(Node, _k, _v)


def version_records(node):
    """``id(saved array) -> (vc, version, fn, output_nr, requires_grad)`` for ``node``.

    ``_record`` keeps one ``(arr_id, vc, version, slot)`` per tensor the op touched: ``slot``
    is the input's position (its producer is then ``next_functions[slot]``) or ``~j`` for
    output ``j`` (produced by ``node`` itself). An id match means the saved array is that
    tensor's: a saved array is alive for as long as the node is.
    """
    out = {}
    for arr_id, vc, version, slot in node._saved_versions or ():
        if slot < 0:
            fn, output_nr, rg = node, ~slot, True
        else:
            fn, output_nr = node.next_functions[slot]
            rg = fn is not None
            if type(fn) is AccumulateGrad:
                fn, output_nr = None, 0
        out.setdefault(arr_id, (vc, version, fn, output_nr, rg))
    return out


def _check_versions(node):
    """Raise torch's error if a tensor whose array this node saved was changed in place."""
    for _arr_id, vc, version, _slot in node._saved_versions:
        if vc[0] != version:
            break
    else:
        return
    saved = {id(a): a for a in node._saved if a is not None}
    for arr_id, (vc, version, fn, output_nr, rg) in version_records(node).items():
        if vc[0] != version and arr_id in saved:
            from ._errors import inplace_modified  # torch's line, then why, where, fix

            a = saved[arr_id]
            raise RuntimeError(inplace_modified(node, vc, version, a.shape, a.dtype, fn,
                                                output_nr, rg))


_TORCH_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                     "int64": "LongTensor", "int32": "IntTensor", "int8": "CharTensor",
                     "uint8": "ByteTensor", "bool": "BoolTensor", "int16": "ShortTensor",
                     "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}


class AccumulateGrad(Node):
    """The node that adds an incoming gradient into a leaf tensor's ``.grad``."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable
        self._seq_nr = sys.maxsize  # leaves run as soon as their gradient is complete

    @property
    def _out_meta(self):
        """(shape, dtype) of the leaf, read now (``.data`` may have been reassigned)."""
        d = self.variable._data
        return ((d.shape, d.dtype),)


class _NoGradCtx:
    """The ctx handed to forward when nothing is recorded: saving is a no-op."""

    needs_input_grad = ()

    def save_for_backward(self, *values):
        pass

    def mark_non_differentiable(self, *values):
        pass

    def set_materialize_grads(self, value):
        pass

    def mark_dirty(self, *values):
        pass

    def show_as(self, name):
        pass


def _is_op(cls):
    return any(k.__name__ == "Op" and k.__module__ == __name__ for k in cls.__mro__)


def _node_class(fn_cls, suffix):
    name = getattr(fn_cls, "_backward_name", None) or f"{fn_cls.__name__}{suffix}"
    return type(name, (Node,), {"_fn": fn_cls, "__module__": fn_cls.__module__})


class Function:
    """Base for custom differentiable functions, with torch's contract.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    receiving and returning Tensors, then call ``MyFunction.apply(*args)``. ``ctx``
    offers ``save_for_backward``, ``saved_tensors``, ``needs_input_grad``,
    ``mark_non_differentiable``, ``set_materialize_grads`` and ``mark_dirty``. Forward runs
    with grad mode off; backward too, unless ``create_graph=True``: then what backward
    computes with ember ops is recorded, and can be differentiated again.
    """

    _node_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        suffix = "Backward0" if cls.__dict__.get("_array_level", _is_op(cls)) else "Backward"
        cls._node_cls = _node_class(cls, suffix)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the inputs."""
        raise NotImplementedError("You must implement the forward function for custom Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Compute the inputs' gradients from the outputs' gradients."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode (``ember.autograd.forward_ad``): the outputs' tangents from the
        inputs' tangents, one per ``forward`` argument (None for non-tensors)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional (torch 2 style): save what backward needs, when forward takes no ctx."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward and, when grad mode is on and an input requires grad, record a node."""
        from . import _user_function

        return _user_function.apply(cls, args, kwargs)


class Op(Function):
    """Base of ember's built-in ops: forward and backward work on NumPy arrays.

    ``apply`` takes Tensors (and plain values such as Python scalars, passed on as they
    are) and returns Tensors. ``backward`` returns one array or None per positional input
    (a bare array when there is one input); it is only asked for inputs that need grad.

    ``backward_graph(ctx, *grads)`` (optional, set in ``ember/ops/derivatives``) is the same
    formula on Tensors, written with ember ops: ``create_graph=True`` runs it instead, so
    that the gradients are recorded and can be differentiated again.
    """

    @classmethod
    def apply(cls, *inputs, **options):
        """Run forward on the inputs' arrays; record a node when some input needs grad."""
        Tensor = _t.Tensor
        if len(inputs) == 1 and isinstance(inputs[0], Tensor):  # unary: the common case
            x = inputs[0]
            if x._rg and grad_mode.state.enabled:
                return _record(cls, inputs, (x._data,), options)
            out = cls.forward(_NO_CTX, x._data, **options)
            if type(out) is tuple:
                return tuple(_t._wrap(o) for o in out)
            return _t._wrap(out)
        if len(inputs) == 2:  # binary: the other common case, spelled out
            x, y = inputs
            x_is_t, y_is_t = isinstance(x, Tensor), isinstance(y, Tensor)
            arrays = (x._data if x_is_t else x, y._data if y_is_t else y)
            if ((x_is_t and x._rg) or (y_is_t and y._rg)) and grad_mode.state.enabled:
                return _record(cls, inputs, arrays, options)
            out = cls.forward(_NO_CTX, *arrays, **options)
            if type(out) is tuple:
                return tuple(_t._wrap(o) for o in out)
            return _t._wrap(out)
        arrays = []
        need = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x._data)
                if x._rg:
                    need = True
            else:
                arrays.append(x)
        if not (need and grad_mode.state.enabled):
            out = cls.forward(_NO_CTX, *arrays, **options)
            if type(out) is tuple:
                return tuple(_t._wrap(o) for o in out)
            return _t._wrap(out)
        return _record(cls, inputs, arrays, options)


_NO_CTX = _NoGradCtx()
# False until a complex tensor first requires grad; then ``_record`` asks ``ops._complex_grad``
# whether each op differentiates its complex inputs (the float path pays one global look-up)
_complex_grad = False
_complex = None


# False until inference_mode first runs; then ``_record`` checks that no inference tensor is
# saved for backward (torch's error)
_inference_seen = False
_INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")


def inference_tensors_exist():
    """Turn on ``_record``'s check for saved inference tensors."""
    global _inference_seen
    _inference_seen = True


def _check_not_inference(inputs, saved):
    """torch's error when an op saved the array of an inference tensor among its inputs."""
    kept = {id(a) for a in saved if a is not None}
    for x in inputs:
        if isinstance(x, _t.Tensor) and x._inference and id(x._data) in kept:
            raise RuntimeError(_INFERENCE_SAVED)


def enable_complex_grad():
    """Load the complex-autograd rules (``ember/ops/_complex_grad.py``) and turn the check on."""
    global _complex_grad, _complex
    if not _complex_grad:
        from ..ops import _complex_grad as rules

        _complex, _complex_grad = rules, True


def complex_output(node):
    """An op produced a complex tensor that requires grad: the op must differentiate it."""
    enable_complex_grad()
    _complex.check_node(node)


_NO_EDGE = (None, 0)
_NEEDS_ONE = (True,)
_NO_RECORD = (0, [0], 0, 0)  # a scalar input: no array, never modified


def _edge(x):
    """``(node, input_nr)``: where the gradient for tensor ``x`` goes (its ``grad_fn``, or the
    ``AccumulateGrad`` of a leaf, made on first use)."""
    if x._base is not None and x._view_version != x._vc[0]:
        _refresh_view(x)  # a view whose base changed in place: take the base's new history
    fn = x._grad_fn
    if fn is None:
        fn = x._accum
        if fn is None:
            fn = x._accum = AccumulateGrad(x)
    return fn, x._output_nr


def _refresh_view(x):
    from ..ops.copy_slices import refresh_view

    refresh_view(x)


def _record(cls, inputs, arrays, options):
    """Run forward with a fresh node as ctx and wire the outputs to it.

    One and two inputs (nearly every op) are spelled out; it is the hottest code in ember.
    """
    Tensor = _t.Tensor
    ctx = cls._node_cls()
    n = len(inputs)
    if n == 1:
        ctx.next_functions = (_edge(inputs[0]),)
        ctx.needs_input_grad = _NEEDS_ONE
    elif n == 2:
        x, y = inputs
        x_needs = isinstance(x, Tensor) and x._rg
        y_needs = isinstance(y, Tensor) and y._rg
        ctx.next_functions = (_edge(x) if x_needs else _NO_EDGE, _edge(y) if y_needs else _NO_EDGE)
        ctx.needs_input_grad = (x_needs, y_needs)
    elif n == 3:  # x, weight, bias: Linear, the normalisations
        x, y, z = inputs
        x_needs = isinstance(x, Tensor) and x._rg
        y_needs = isinstance(y, Tensor) and y._rg
        z_needs = isinstance(z, Tensor) and z._rg
        ctx.next_functions = (_edge(x) if x_needs else _NO_EDGE, _edge(y) if y_needs else _NO_EDGE,
                              _edge(z) if z_needs else _NO_EDGE)
        ctx.needs_input_grad = (x_needs, y_needs, z_needs)
    else:
        ctx.next_functions = tuple([_edge(x) if isinstance(x, Tensor) and x._rg else _NO_EDGE
                                    for x in inputs])
    out = cls.forward(ctx, *arrays, **options)
    if _complex_grad:  # once complex tensors require grad: does this op differentiate them?
        _complex.check_inputs(ctx, arrays)
    if _inference_seen and ctx._saved:
        _check_not_inference(inputs, ctx._saved)
    ctx._seq_nr = next(_seq)
    if record_creation_site.enabled:
        ctx._site = _creation_site()
    if type(out) is np.ndarray:
        result = _t._wrap_result(out, ctx, 0)
        out_vc = result._vc
        ctx._out_meta = ((out.shape, out.dtype),)
        if ctx._saved:
            # versions of every tensor the op touched, for the in-place check at backward
            # (the node refers to its output's counter, never to the output: no cycle)
            if n == 1:
                x = inputs[0]
                ctx._saved_versions = ((id(arrays[0]), x._vc, x._vc[0], 0),
                                       (id(out), out_vc, 0, -1))
            elif n == 2:
                x, y = inputs
                ctx._saved_versions = (
                    (id(arrays[0]), x._vc, x._vc[0], 0) if isinstance(x, Tensor) else _NO_RECORD,
                    (id(arrays[1]), y._vc, y._vc[0], 1) if isinstance(y, Tensor) else _NO_RECORD,
                    (id(out), out_vc, 0, -1))
            elif n == 3:
                x, y, z = inputs
                ctx._saved_versions = (
                    (id(arrays[0]), x._vc, x._vc[0], 0) if isinstance(x, Tensor) else _NO_RECORD,
                    (id(arrays[1]), y._vc, y._vc[0], 1) if isinstance(y, Tensor) else _NO_RECORD,
                    (id(arrays[2]), z._vc, z._vc[0], 2) if isinstance(z, Tensor) else _NO_RECORD,
                    (id(out), out_vc, 0, -1))
            else:
                versions = [(id(x._data), x._vc, x._vc[0], i)
                            for i, x in enumerate(inputs) if isinstance(x, Tensor)]
                versions.append((id(out), out_vc, 0, -1))
                ctx._saved_versions = versions
        return result
    if type(out) is tuple:
        outs = tuple(_t._wrap_result(o, ctx, i) for i, o in enumerate(out))
        ctx._n_outputs = len(out)
        ctx._out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
        nondiff = getattr(ctx, "_non_differentiable", None)
        if nondiff:
            for i in nondiff:
                outs[i]._rg = False
                outs[i].grad_fn = None
        out_list = outs
    else:  # a NumPy scalar (ufuncs on 0-d arrays): saved as the output's own array
        outs = _t._wrap_result(out, ctx, 0)
        ctx._out_meta = ((outs._data.shape, outs._data.dtype),)
        out_list = (outs,)
        if ctx._saved:
            ctx._saved = tuple(outs._data if s is out else s for s in ctx._saved)
    if ctx._saved:
        versions = [(id(x._data), x._vc, x._vc[0], i)
                    for i, x in enumerate(inputs) if isinstance(x, Tensor)]
        versions += [(id(o._data), o._vc, o._vc[0], ~j) for j, o in enumerate(out_list)]
        ctx._saved_versions = versions
    return outs


def mark_non_differentiable(ctx, *indices):
    """For ``Op`` forwards: outputs at these indices get no gradient (e.g. argmax indices)."""
    ctx._non_differentiable = indices


Node.mark_non_differentiable_outputs = mark_non_differentiable


def once_differentiable(fn):
    """Decorator for a custom Function's ``backward`` that is not itself differentiable
    (torch's ``torch.autograd.function.once_differentiable``): ``fn`` runs under ``no_grad``,
    and with ``create_graph=True`` differentiating its results again raises, as in torch."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)

    wrapper._once_differentiable = True  # create_graph=True: its results raise if differentiated
    return wrapper
