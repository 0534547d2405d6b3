"""What the profiler records, and the wrappers that record it.

Nothing here runs unless a profiler is recording. ``Op.apply`` and the backward engine are
ember's hottest code, so the profiler never adds a check to them: when the first profiler
starts recording, ``install`` swaps in timing wrappers, and when the last one stops,
``uninstall`` puts every original object back (the same objects, so an unprofiled run is
exactly what it was):

- ``Op.apply`` (every built-in op's forward) and ``Function.apply`` (users' Functions);
- the ``backward`` staticmethod of every ``Function`` subclass (what the engine calls for a
  node), including those of classes first used while recording;
- the engine's ``_accumulate`` (``AccumulateGrad``), and ``create_graph``'s per-node call and
  accumulation in ``autograd._double_backward``;
- the fast paths that skip ``Op.apply``: ``ops.elementwise._fast`` (``+ - * /``) and
  ``matmul`` (under every name it is bound to, ``Tensor.__matmul__`` included);
- optimizers: global step hooks label ``Optimizer.step#SGD.step``, and ``zero_grad`` is
  wrapped, as torch's optimizers label themselves (when ``ember.optim`` is in use).

Each wrapper opens a record (name, start and end in ns, thread, shapes, bytes allocated) and
closes it when the call returns or raises. Records go into one log in the order they start;
each profiler keeps the slice from its start to its stop. Parents and children are worked
out later from the intervals on each thread (``_events.EventList``), as torch does.
"""
from __future__ import annotations

import functools
import re
import sys
import threading
import weakref
from time import perf_counter_ns

import numpy as np

from .. import _tensor as _t
from ..autograd import function as _function

EVALUATE = "autograd::engine::evaluate_function: "
ACCUMULATE = "torch::autograd::AccumulateGrad"

# ember op classes whose snake_case name is not torch's aten name
_ATEN_NAMES = {
    "MatMul": "matmul", "GetItem": "index", "ToDtype": "to", "CrossEntropy": "cross_entropy_loss",
    "MaxAll": "max", "MaxDim": "max", "MedianAll": "median", "MedianDim": "median",
    "SortValues": "sort", "Deg2Rad": "deg2rad", "Rad2Deg": "rad2deg", "Im2Col": "im2col",
    "Col2Im": "col2im", "EmbeddingLookup": "embedding", "EmbeddingBagOp": "embedding_bag",
    "Fill": "fill_", "Tri": "triu", "Det": "linalg_det", "Inv": "linalg_inv",
    "Solve": "linalg_solve", "Pinv": "linalg_pinv", "Cholesky": "linalg_cholesky",
    "Qr": "linalg_qr", "Svd": "linalg_svd", "Eigh": "linalg_eigh", "Cross": "linalg_cross",
    "MatrixExp": "linalg_matrix_exp", "VectorNorm": "linalg_vector_norm", "NLLLoss": "nll_loss",
    "ConstantPad": "constant_pad_nd", "MseLoss": "mse_loss", "LSTMSequence": "lstm",
    "GRUSequence": "gru", "RNNSequence": "rnn_tanh", "LinearAddmm": "addmm", "WeightT": "t",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class _Rec:
    """One recorded interval."""

    __slots__ = ("name", "cat", "scope", "seq", "shapes", "stack", "tid", "alloc0", "mem",
                 "start", "end")


class _Thread:
    """Per-thread state: the nodes being run (so a wrapper inside a wrapper records once) and
    the bytes allocated so far (an event's memory is the growth over its interval)."""

    def __init__(self):
        self.tid = threading.get_native_id()
        self.alloc = 0
        self.nodes = []
        self.steps = []


_tls = threading.local()
_active = []      # [session, (record_shapes, profile_memory, with_stack), index into _log]
_log = []         # records since the first active session started, in start order
_saved = []       # (owner, attribute, original) for every patch, in the order made
_removers = []    # hook handles' remove()
_ready = set()    # classes whose backward is wrapped (or needs no wrapping)
_wrapped = set()  # classes whose own backward is replaced
_names = {}       # op class -> event name
_made = weakref.WeakKeyDictionary()  # class -> (its backward, the wrapper made for it)
_orig = {}        # the original functions the wrappers call
_with_shapes = _with_memory = _with_stack = False


def _state():
    try:
        return _tls.s
    except AttributeError:
        s = _tls.s = _Thread()
        return s


def is_recording() -> bool:
    """Whether some profiler is recording now."""
    return bool(_active)


def _begin(name, cat="cpu_op", scope=0, seq=-1, shapes=None):
    """Open a record; None when nothing records (then ``_end`` does nothing)."""
    if not _active:
        return None
    st = _state()
    r = _Rec()
    r.name, r.cat, r.scope, r.seq, r.shapes = name, cat, scope, seq, shapes
    r.stack = _python_stack() if _with_stack and scope == 0 and cat == "cpu_op" else None
    r.tid, r.alloc0, r.mem, r.end = st.tid, st.alloc, 0, None
    _log.append(r)
    r.start = perf_counter_ns()
    return r


def _end(r, own=0):
    """Close ``r``; ``own``: bytes its call allocated itself (outside nested records)."""
    if r is None:
        return
    r.end = perf_counter_ns()
    st = _state()
    if own:
        st.alloc += own
    r.mem = st.alloc - r.alloc0


def _python_stack():
    """``file(line): function`` of the caller's frames outside ember, innermost first."""
    f = sys._getframe(3)
    inside, user = _function._THIS_PACKAGE, _function._USER_LEVEL
    out = []
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(inside) or name.startswith(user):
            out.append(f"{name}({f.f_lineno}): {f.f_code.co_name}")
        f = f.f_back
    return out


def _shapes_of(items):
    return [list(x.shape) if hasattr(x, "shape") else [] for x in items]


def op_name(cls) -> str:
    """torch's event name for an ember op class: ``aten::`` + the op's aten name."""
    name = _names.get(cls)
    if name is None:
        base = cls.__name__
        name = _names[cls] = "aten::" + _ATEN_NAMES.get(base, _CAMEL.sub("_", base).lower())
    return name


def _new_bytes(out, inputs):
    """Bytes of the output arrays that are not views of an input (torch counts allocations)."""
    outs = out if type(out) is tuple else (out,)
    ins = [x._data for x in inputs if isinstance(x, _t.Tensor)]
    total = 0
    for o in outs:
        if isinstance(o, _t.Tensor):
            a = o._data
            if not any(np.may_share_memory(a, x) for x in ins):
                total += a.nbytes
    return total


def _grad_bytes(res, grads):
    """Bytes of the gradient arrays a backward returned that are not its incoming ones."""
    outs = res if type(res) is tuple else (res,)
    ins = [g for g in grads if isinstance(g, np.ndarray)]
    total = 0
    for a in outs:
        if isinstance(a, np.ndarray) and not any(a is g or np.may_share_memory(a, g)
                                                 for g in ins):
            total += a.nbytes
    return total


def _seq_of(out):
    first = out[0] if type(out) is tuple and out else out
    fn = getattr(first, "_grad_fn", None)
    return -1 if fn is None else getattr(fn, "_seq_nr", -1)


# --- the wrappers ------------------------------------------------------------------------
def _timed_call(name, call, args, kwargs, inputs, count_bytes=True, keep_none=True):
    """``call(*args, **kwargs)`` as one event; ``keep_none=False``: a None result (a fast path
    that declined) leaves no event."""
    r = _begin(name, shapes=_shapes_of(inputs) if _with_shapes else None)
    out = None
    try:
        out = call(*args, **kwargs)
        return out
    finally:
        if r is not None and (keep_none or out is not None):
            r.seq = _seq_of(out)
            _end(r, _new_bytes(out, inputs) if count_bytes and _with_memory and out is not None
                 else 0)


def _op_apply(cls, *inputs, **options):
    if cls not in _ready:
        _prepare(cls)
    return _timed_call(op_name(cls), _orig["op_apply"], (cls, *inputs), options, inputs)


def _function_apply(cls, *args, **kwargs):
    if cls not in _ready:
        _prepare(cls)
    # a user's forward runs ember ops: they count what it allocates
    return _timed_call(cls.__name__, _orig["function_apply"], (cls, *args), kwargs, args,
                       count_bytes=False)


def _elementwise_fast(op, *args, **kwargs):
    # add/sub/mul/div's fast path (op, ufunc, input, other), which skips Op.apply; None: it
    # declined, and Op.apply follows
    return _timed_call(op_name(op), _orig["fast"], (op, *args), kwargs,
                       [a for a in args if isinstance(a, _t.Tensor)], keep_none=False)


def _matmul(*args, **kwargs):
    # matmul computes a 2-D product inline; a non-2-D one nests MatMul's event (folded)
    return _timed_call("aten::matmul", _orig["matmul"], args, kwargs, args[:2])


def _linear(*args, **kwargs):
    # F.linear's recorded path: aten::t and aten::addmm (or matmul) nest inside, as in torch
    return _timed_call("aten::linear", _orig["linear"], args, kwargs, args, count_bytes=False)


def _addmm_linear(bias, input, weight):
    # F.linear's 2-D path with a bias (its arguments in addmm's order)
    return _timed_call("aten::linear", _orig["addmm_linear"], (bias, input, weight), {},
                       (input, weight, bias), count_bytes=False)


def _optimizer_pre_hook(optimizer, args, kwargs):
    # torch's label for a step, opened by a global pre hook and closed by the post hook
    r = _begin(f"Optimizer.step#{type(optimizer).__name__}.step", "user_annotation")
    if r is not None:
        _state().steps.append((optimizer, r))


def _optimizer_post_hook(optimizer, args, kwargs):
    steps = _state().steps
    for i in range(len(steps) - 1, -1, -1):
        if steps[i][0] is optimizer:
            _end(steps.pop(i)[1])
            return


def _zero_grad(self, *args, **kwargs):
    with record_function(f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"):
        return _orig["zero_grad"](self, *args, **kwargs)


def _run_node(ctx, call, args, array_level, shapes_of=None):
    """``call(ctx, *args)`` timed as torch times a node: ``evaluate_function: Name`` around
    ``Name``. A call for the node already being run (a wrapper inside a wrapper) is not
    recorded again."""
    st = _state()
    nodes = st.nodes
    if (nodes and nodes[-1] is ctx) or not _active:
        return call(ctx, *args)
    name = type(ctx).__name__
    seq = getattr(ctx, "_seq_nr", -1)
    outer = _begin(EVALUATE + name, "cpu_op", 1, seq)
    inner = _begin(name, "cpu_op", 1, seq,
                   _shapes_of(args if shapes_of is None else shapes_of) if _with_shapes else None)
    nodes.append(ctx)
    res = None
    try:
        res = call(ctx, *args)
        return res
    finally:
        nodes.pop()
        _end(inner, _grad_bytes(res, args) if array_level and _with_memory else 0)
        _end(outer)


def _timed_backward(func, array_level):
    @functools.wraps(func)
    def backward(ctx, *grads):
        return _run_node(ctx, func, grads, array_level)

    backward._ember_profiled = func
    return backward


def _run_leaf(t, g, call, args, array_level):
    outer = _begin(EVALUATE + ACCUMULATE, "cpu_op", 1)
    inner = _begin(ACCUMULATE, "cpu_op", 1, -1, [list(g.shape)] if _with_shapes else None)
    before = t.grad
    try:
        return call(*args)
    finally:
        own = 0
        if array_level and _with_memory and before is None and t.grad is not None \
                and t.grad._data is not g:
            own = t.grad._data.nbytes  # the first gradient, copied into a fresh .grad
        _end(inner, own)
        _end(outer)


def _engine_accumulate(t, g, *rest):
    return _run_leaf(t, g, _orig["engine_accumulate"], (t, g, *rest), True)


def _graph_accumulate(t, g, *rest):
    return _run_leaf(t, g, _orig["graph_accumulate"], (t, g, *rest), False)


def _graph_call(node, grads, *rest):
    return _run_node(node, _orig["graph_call"], (grads, *rest), False, shapes_of=grads)


# --- installing and removing them ----------------------------------------------------------
def _patch(owner, attr, new):
    _saved.append((owner, attr, vars(owner)[attr]))
    setattr(owner, attr, new)


def _wrap_backward(cls):
    """Wrap ``cls``'s own ``backward`` staticmethod (or plain function), once."""
    raw = vars(cls).get("backward")
    if raw is None or cls in _wrapped:
        return
    made = _made.get(cls)
    if made is not None and made[0] is raw:
        new = made[1]  # the wrapper made last time: installing again allocates nothing
    else:
        array_level = issubclass(cls, _function.Op) or bool(vars(cls).get("_array_level"))
        if isinstance(raw, staticmethod):
            new = staticmethod(_timed_backward(raw.__func__, array_level))
        elif callable(raw) and not isinstance(raw, (classmethod, type)):
            new = _timed_backward(raw, array_level)
        else:  # some other descriptor: left as it is
            return
        _made[cls] = (raw, new)
    _patch(cls, "backward", new)
    _wrapped.add(cls)


def _prepare(cls):
    """A class first used while recording: wrap the backward its nodes will run."""
    for k in cls.__mro__:
        if k is _function.Function or k is _function.Op:
            break
        if "backward" in vars(k):
            _wrap_backward(k)
            break
    _ready.add(cls)


def _subclasses(root):
    out, stack = {}, [root]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in out:
                out[sub] = None
                stack.append(sub)
    return list(out)


def install():
    """Swap in the wrappers (see the module's docstring)."""
    from .. import ops as _ops
    from ..autograd import _double_backward, engine
    from ..nn.functional import _affine
    from ..ops import elementwise as _elementwise
    from ..ops import linalg as _linalg

    fn, op = _function.Function, _function.Op
    try:
        _orig["op_apply"] = vars(op)["apply"].__func__
        _orig["function_apply"] = vars(fn)["apply"].__func__
        _patch(op, "apply", classmethod(_op_apply))
        _patch(fn, "apply", classmethod(_function_apply))
        for cls in _subclasses(fn):
            _wrap_backward(cls)
            _ready.add(cls)
        for module, attr, wrapper, key in (
                (engine, "_accumulate", _engine_accumulate, "engine_accumulate"),
                (_double_backward, "_accumulate", _graph_accumulate, "graph_accumulate"),
                (_double_backward, "_call", _graph_call, "graph_call"),
                (_elementwise, "_fast", _elementwise_fast, "fast"),
                (_affine, "record_linear", _linear, "linear"),
                (_affine, "addmm_linear", _addmm_linear, "addmm_linear")):
            if attr in vars(module):  # a module that no longer has it is left alone
                _orig[key] = vars(module)[attr]
                _patch(module, attr, wrapper)
        _patch_everywhere(_linalg, "matmul", _matmul, (sys.modules["ember"], _ops, _linalg,
                                                       _t.Tensor))
        _install_optimizer()
    except BaseException:
        uninstall()
        raise


def _patch_everywhere(module, attr, wrapper, namespaces):
    """Replace ``module.attr`` under every name it is bound to in ``namespaces`` (a function
    bound at import time: ``ember.matmul``, ``Tensor.__matmul__``)."""
    orig = vars(module).get(attr)
    if orig is None:
        return
    _orig[attr] = orig
    for ns in namespaces:
        for name, value in list(vars(ns).items()):
            if value is orig:
                _patch(ns, name, wrapper)


def _install_optimizer():
    """Label optimizer steps (global step hooks) and ``zero_grad``, as torch's optimizers
    label themselves; only when ``ember.optim`` is already in use."""
    optimizer = sys.modules.get("ember.optim.optimizer")
    if optimizer is None:
        return
    handles = (optimizer.register_optimizer_step_pre_hook(_optimizer_pre_hook),
               optimizer.register_optimizer_step_post_hook(_optimizer_post_hook))
    _removers.extend(h.remove for h in handles)
    if "zero_grad" in vars(optimizer.Optimizer):
        _orig["zero_grad"] = vars(optimizer.Optimizer)["zero_grad"]
        _patch(optimizer.Optimizer, "zero_grad", _zero_grad)


def uninstall():
    """Put back every original object, in the reverse order of the patches."""
    while _saved:
        owner, attr, original = _saved.pop()
        setattr(owner, attr, original)
    while _removers:
        _removers.pop()()
    _ready.clear()
    _wrapped.clear()
    _orig.clear()


def _refresh_flags():
    global _with_shapes, _with_memory, _with_stack
    _with_shapes = any(a[1][0] for a in _active)
    _with_memory = any(a[1][1] for a in _active)
    _with_stack = any(a[1][2] for a in _active)


def activate(session, record_shapes=False, profile_memory=False, with_stack=False):
    """Start recording for ``session`` (the wrappers go in with the first one)."""
    if not _active:
        install()
    _active.append([session, (bool(record_shapes), bool(profile_memory), bool(with_stack)),
                    len(_log)])
    _refresh_flags()


def deactivate(session):
    """Stop recording for ``session``; return its finished records, in start order. The
    wrappers come out with the last session, even if something here fails."""
    try:
        for i, entry in enumerate(_active):
            if entry[0] is session:
                del _active[i]
                return [r for r in _log[entry[2]:] if r.end is not None]
        return []
    finally:
        _refresh_flags()
        if not _active:
            _log.clear()
            uninstall()


# --- record_function ---------------------------------------------------------------------
class record_function:  # noqa: N801  (torch's name)
    """Label a block of code (context manager) or every call of a function (decorator).

    While a profiler records, the block appears as an event named ``name`` (a
    ``user_annotation`` in the Chrome trace), and everything it runs nests under it; when
    nothing records, it costs one check.

    Args:
        name: the label.
        args: optional extra text, kept as ``self.args`` (torch passes it to its trace).

    Example::

        with record_function("forward"):
            out = model(x)
    """

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._rec = None

    def __enter__(self):
        self._rec = _begin(self.name, "user_annotation")
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        rec, self._rec = self._rec, None
        if self.run_callbacks_on_exit:
            _end(rec)

    def __call__(self, func):
        """Decorate ``func``: each call runs inside a fresh ``record_function(name)``."""

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return func(*args, **kwargs)

        return wrapped
