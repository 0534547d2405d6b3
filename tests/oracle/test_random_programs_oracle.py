"""Random autograd programs, run once with ember and once with torch (the oracle).

hypothesis writes a few lines of Python over float64 leaves ``v0``.. (broadcasting shapes):
elementwise and unary ops, reductions, matmul, views, and in-place ops on variables and on
views of them, some under ``no_grad``. Each line is ``exec``-ed with ``T`` = ember or torch,
so a failing example prints a pasteable reproducer. Compared: all variables after each line,
the loss, the leaves' ``.grad`` (None-ness too), the final ``grad_fn`` names, and where torch
raises, that ember raises the same exception type at the same line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from tests.helpers import assert_close

RTOL, ATOL = 1e-10, 1e-12
MAX_NUMEL = 48
LEAF_SHAPES = [(3, 4), (4,), (3, 1), (1, 4), (2, 1, 4)]
SCALARS = [2.0, -0.5, 1.5]
# EXCLUDED: constructs where ember is known to differ from torch (ember bugs):
# 1. writes into expanded memory with grad mode on: torch raises for fill_/zero_ only when
#    backward runs, ember at once. (Fixed under no_grad and for ``e[0] = ..``, generated.)
# 2. (fixed since, and generated) in-place arguments overlapping the target (``x.add_(x[0])``):
#    torch raises, ember computed.
# 3. ``x[0] = 1.0`` on a non-view in a graph was IndexPutBackward0 (fixed since: CopySlices, as
#    torch); ``__setitem__`` is still generated only through a view or under no_grad.
# 4, 5 (fixed since, and generated again): a 0-dim output saved as a NumPy scalar escaped the
#    in-place check; ``y / 2.0`` saved ``y``.
# 6. matmuls that torch folds through a copy ((3, 4) @ (2, 4, 3), non-contiguous 3-D @ 2-D):
#    torch saves the copy, ember the operand; node names differ for (3, 4) @ (3, 4, 1).
# 7. reductions of transposed/permuted/expanded tensors: torch's result is contiguous, and
#    ember's now is too for sum/mean/var/std/amax/prod/softmax/log_softmax/logsumexp/cumsum/
#    norm; the generator still keeps away from the case.
# 8. (fixed since) reshape-as-view of a non-contiguous tensor: ReshapeAliasBackward0 in torch,
#    ViewBackward0 in ember.
# 9. (fixed since; sigmoid_ and tanh_ generated) exp_/sigmoid_/tanh_: ember missed a later
#    in-place change of their saved result.

# ---- the op table: shape rules (None: not applicable) and code templates ------------------


def _bcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _matmul(a, b):
    if not a or not b:
        return None
    try:
        out = np.matmul(np.zeros(a), np.zeros(b)).shape
    except ValueError:
        return None
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    return None if len(b) >= 3 and a[:-2] != batch else out  # EXCLUDED 6


def _expand(s):
    return s[:s.index(1)] + (3,) + s[s.index(1) + 1:] if 1 in s else (2,) + s


# name: (shape -> view's shape or None, code applied to "{x}"; "{out}" is the view's shape)
VIEWS = {
    "t": (lambda s: s[::-1] if len(s) == 2 else None, "{x}.t()"),
    "transpose": (lambda s: s[::-1] if len(s) == 3 else None, "{x}.transpose(0, -1)"),
    "permute": (lambda s: (s[2], s[0], s[1]) if len(s) == 3 else None, "{x}.permute(2, 0, 1)"),
    "unsqueeze": (lambda s: s + (1,) if len(s) < 3 else None, "{x}.unsqueeze(-1)"),
    "expand": (lambda s: _expand(s) if len(s) < 3 else None, "{x}.expand({out})"),
    "flatten": (lambda s: (math.prod(s),) if len(s) >= 2 else None, "{x}.reshape(-1)"),
    "reshape": (lambda s: (2, s[0] // 2) if len(s) == 1 and s[0] % 2 == 0 else None,
                "{x}.reshape(2, -1)"),
    "row0": (lambda s: s[1:] if s else None, "{x}[0]"),
    "cols1": (lambda s: (s[0], s[1] - 1) + s[2:] if len(s) >= 2 and s[1] > 1 else None,
              "{x}[:, 1:]"),
    "step2": (lambda s: ((s[0] + 1) // 2,) + s[1:] if s else None, "{x}[::2]"),
}
SETITEM_INDICES = ["row0", "cols1", "step2"]  # views whose code is also a valid assignment target
UNARY = {"exp": "{x}.clamp(-3, 3).exp()", "tanh": "{x}.tanh()", "sigmoid": "T.sigmoid({x})",
         "relu": "T.relu({x})", "abs": "{x}.abs()", "sin": "T.sin({x})"}
BINARY = {"+": "{a} + {b}", "-": "{a} - {b}", "*": "{a} * {b}", "/": "{a} / ({b} * {b} + 1)"}
# In-place ops: code on the target "{x}" and argument "{u}"; which arguments they take.
INPLACE = {"add_": ("{x}.add_({u})", "any"), "mul_": ("{x}.mul_({u})", "any"),
           "copy_": ("{x}.copy_({u})", "tensor"), "setitem": ("{x}{idx} = {u}", "any"),
           "fill_": ("{x}.fill_({u})", "scalar"), "clamp_": ("{x}.clamp_(-0.5, 0.8)", None),
           "zero_": ("{x}.zero_()", None), "sigmoid_": ("{x}.sigmoid_()", None),
           "tanh_": ("{x}.tanh_()", None)}

# ---- the program generator -----------------------------------------------------------------


@dataclass
class Program:
    """Leaf shapes, a seed for the leaves' values and the loss weights, and the code lines."""

    leaves: list
    seed: int
    lines: list

    def __repr__(self):
        return "\n".join([f"Program(leaves={self.leaves}, seed={self.seed}):", *self.lines])


@dataclass
class State:
    """What the generator knows of the variables: shapes, how many are leaves, the variable
    whose memory each one is a view of (itself if none), which are views of expands, which
    may not be laid out row-major (computed from a transpose, permute or expand: elementwise
    results keep that layout) and which may be views with gaps (slices)."""

    shapes: list
    n_leaves: int
    roots: list
    expanded: set = field(default_factory=set)
    strided: set = field(default_factory=set)
    sliced: set = field(default_factory=set)

    def add(self, shape, operands, view=None):
        """Record a new variable computed from ``operands``; ``view``: (source, view name)."""
        new = len(self.shapes)
        self.shapes.append(shape)
        self.roots.append(self.roots[view[0]] if view else new)
        if view and (view[1] == "expand" or view[0] in self.expanded):
            self.expanded.add(new)
        if (view and view[1] in ("t", "transpose", "permute", "expand")) or \
                operands & self.strided:
            self.strided.add(new)
        if view and (view[1] in ("cols1", "step2") or view[0] in self.sliced | self.strided):
            self.sliced.add(new)


def _pick(draw, options):
    return draw(st.sampled_from(options)) if options else None


def _var(draw, s):
    return draw(st.integers(0, len(s.shapes) - 1))


def _view(name, x, shape):
    return VIEWS[name][1].format(x=x, out=", ".join(map(str, VIEWS[name][0](shape))))


def _views_of(shape, allowed=VIEWS):
    return [n for n in allowed if VIEWS[n][0](shape) is not None]


def _unary(draw, s):
    x = _var(draw, s)
    ops = sorted(UNARY)
    return UNARY[draw(st.sampled_from(ops))].format(x=f"v{x}"), s.shapes[x]


def _binary(draw, s):
    a = _var(draw, s)
    b = _pick(draw, [f"v{j}" for j, t in enumerate(s.shapes) if _bcast(s.shapes[a], t)] + SCALARS)
    op, swap = draw(st.sampled_from(sorted(BINARY))), draw(st.booleans())
    shape = _bcast(s.shapes[a], s.shapes[int(b[1:])]) if isinstance(b, str) else s.shapes[a]
    return BINARY[op].format(a=b if swap else f"v{a}", b=f"v{a}" if swap else b), shape


def _reduce(draw, s):
    x = _pick(draw, [i for i, t in enumerate(s.shapes) if t and i not in s.strided])  # EXCL. 7
    if x is None:
        return None
    dim, keep = draw(st.integers(0, len(s.shapes[x]) - 1)), draw(st.booleans())
    shape = s.shapes[x][:dim] + ((1,) if keep else ()) + s.shapes[x][dim + 1:]
    return f"v{x}.{draw(st.sampled_from(['sum', 'mean']))}({dim}, keepdim={keep})", shape


def _matmul_op(draw, s):
    plain = set(range(len(s.shapes))) - s.strided - s.sliced
    pairs = [(i, j) for i, a in enumerate(s.shapes) for j, b in enumerate(s.shapes)
             if _matmul(a, b) and (len(a) < 3 or len(b) >= 3 or i in plain)]  # EXCLUDED 6
    i, j = _pick(draw, pairs) or (None, None)
    return None if i is None else (f"v{i} @ v{j}", _matmul(s.shapes[i], s.shapes[j]))


def _view_op(draw, s):
    x = _var(draw, s)
    name = _pick(draw, _views_of(s.shapes[x]))
    if name is None:
        return None
    return _view(name, f"v{x}", s.shapes[x]), VIEWS[name][0](s.shapes[x]), (x, name)


def _inplace(draw, s):
    """``target.op_(arg)`` on a variable or a chain of views of it, maybe under no_grad.

    Into expanded tensors only under no_grad or by ``__setitem__`` (EXCLUDED 1), and
    ``__setitem__`` only through a view unless under no_grad (EXCLUDED 3)."""
    writable = list(range(len(s.shapes)))
    non_leaves = writable[s.n_leaves:]
    if not non_leaves and draw(st.integers(0, 7)):
        return None  # mostly not on leaves: torch rejects that, and the program ends there
    x = draw(st.sampled_from(non_leaves if non_leaves and draw(st.integers(0, 7)) else writable))
    op, no_grad = draw(st.sampled_from(sorted(INPLACE))), draw(st.integers(0, 4)) == 0
    if x in s.expanded and op != "setitem":
        no_grad = True
    target, shape = f"v{x}", s.shapes[x]
    for _ in range(draw(st.integers(op == "setitem" and not no_grad, 2))):
        name = _pick(draw, _views_of(shape, [n for n in VIEWS if n != "expand"]))
        if name is None:
            break
        target, shape = _view(name, target, shape), VIEWS[name][0](shape)
    code, takes = INPLACE[op]
    idx = ""
    if op == "setitem":
        name = _pick(draw, _views_of(shape, SETITEM_INDICES))
        if name is None:
            return None
        idx, shape = VIEWS[name][1].format(x=""), VIEWS[name][0](shape)
    tensors = [f"v{j}" for j, t in enumerate(s.shapes) if _bcast(shape, t) == shape]
    u = _pick(draw, {"any": tensors + SCALARS, "tensor": tensors, "scalar": SCALARS,
                     None: [None]}[takes])
    if u is None and takes is not None:
        return None
    line = code.format(x=target, idx=idx, u=u)
    return ("with T.no_grad(): " + line if no_grad else line), None, None


KINDS = {"unary": _unary, "binary": _binary, "reduce": _reduce, "matmul": _matmul_op,
         "view": _view_op, "inplace": _inplace, "inplace ": _inplace}  # in-place twice as often


@st.composite
def programs(draw):
    """2-3 broadcasting leaves, then 3-10 lines; a line either defines ``vN`` or mutates."""
    leaves = [(3, 4)] + [draw(st.sampled_from(LEAF_SHAPES)) for _ in range(draw(st.integers(1, 2)))]
    s, lines = State(list(leaves), len(leaves), list(range(len(leaves)))), []
    for _ in range(draw(st.integers(3, 10))):
        step = KINDS[draw(st.sampled_from(list(KINDS)))](draw, s)
        if step is None or (step[1] is not None and math.prod(step[1]) > MAX_NUMEL):
            step = _unary(draw, s)
        code, shape, view = step if len(step) == 3 else (*step, None)
        if shape is None:
            lines.append(code)
            continue
        lines.append(f"v{len(s.shapes)} = {code}")
        s.add(shape, {int(i) for i in re.findall(r"\bv(\d+)", code)}, view)
    return Program(leaves, draw(st.integers(0, 2**16)), lines)


# ---- the runner ----------------------------------------------------------------------------


@dataclass
class Trace:
    """What one run produced; ``stage``: how many lines ran (all of them if backward raised)."""

    values: list  # per line: the values of all variables after it
    stage: int = 0
    error: Exception | None = None
    loss: float | None = None
    grads: list | None = None
    names: list | None = None


def _variables(ns):
    return [ns[k] for k in sorted((k for k in ns if k[0] == "v"), key=lambda k: int(k[1:]))]


def run(T, prog):
    """Run ``prog`` with the module ``T`` (ember or torch); exceptions are kept in the trace."""
    rng = np.random.default_rng(prog.seed)
    ns = {"T": T}
    for i, shape in enumerate(prog.leaves):
        ns[f"v{i}"] = T.tensor(rng.standard_normal(shape), requires_grad=True)
    leaves, trace = _variables(ns), Trace(values=[])
    try:
        for line in prog.lines:
            exec(line, ns)
            trace.values.append([v.detach().numpy().copy() for v in _variables(ns)])
            trace.stage += 1
        # loss: a fixed random weighting of every non-leaf variable (or the leaves if none)
        alive = _variables(ns)[len(leaves):] or leaves
        loss = sum((v * T.tensor(rng.standard_normal(tuple(v.shape)))).sum() for v in alive)
        loss.backward()
    except Exception as exc:  # compared with the oracle's exception by ``check``
        trace.error = exc
        return trace
    trace.loss = loss.item()
    trace.grads = [None if v.grad is None else v.grad.numpy().copy() for v in leaves]
    trace.names = [(type(v.grad_fn).__name__, v.requires_grad, v.is_leaf) for v in _variables(ns)]
    return trace


# ---- the test ------------------------------------------------------------------------------


def _gist(exc):
    """The start of an error's first line, up to a colon: the messages' details differ (torch
    2.13 names the tensor's current node without "Backward": "output 0 of Add")."""
    return type(exc).__name__ + ": " + (str(exc).splitlines() or [""])[0].split(":")[0]


def check(prog, torch):
    """Run ``prog`` with torch and ember and assert that the two traces agree."""
    want, got = run(torch, prog), run(ember, prog)
    if got.error is not None and want.error is None:
        raise AssertionError(f"ember raised, torch did not\n{prog!r}") from got.error
    for stage, (e_vals, t_vals) in enumerate(zip(got.values, want.values)):
        for i, (e, t) in enumerate(zip(e_vals, t_vals)):
            assert_close(e, t, rtol=RTOL, atol=ATOL, msg=f"v{i} after line {stage}")
    if want.error is not None:
        assert got.error is not None, f"torch raised {_gist(want.error)}, ember did not"
        assert isinstance(got.error, type(want.error)), (got.error, want.error)
        assert got.stage == want.stage, f"ember raised at line {got.stage}, torch {want.stage}"
        assert _gist(got.error) == _gist(want.error)
        return
    assert_close(got.loss, want.loss, rtol=RTOL, atol=ATOL, msg="loss")
    for i, (e, t) in enumerate(zip(got.grads, want.grads)):
        assert (e is None) == (t is None), f"v{i}.grad: ember {e}, torch {t}"
        if t is not None:
            assert_close(e, t, rtol=RTOL, atol=ATOL, msg=f"v{i}.grad")
    assert got.names == want.names


# the autouse ``seed`` fixture is function-scoped; it only seeds and restores the default dtype
@settings(max_examples=700, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(prog=programs())
def test_random_program_matches_torch(prog, torch):
    check(prog, torch)
