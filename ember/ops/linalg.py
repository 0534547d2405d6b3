"""Matrix products: matmul (1-D, 2-D, batched with broadcasting), mm, bmm, addmm, linear."""
from __future__ import annotations

import math

import numpy as np

from .. import _arg_errors, _dtype
from .._tensor import Tensor, _wrap
from ..autograd import grad_mode
from ..autograd.function import Op, _record
from ._opmath import HALF
from ._shape_utils import check_broadcast, check_expand, operands, sum_to_shape, type_name


def _check_matmul(x, y, name="matmul"):
    """torch's errors for matmul operands, phrased as torch's kernel for each case."""
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to {name} need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    k1 = x.shape[-1]
    k2 = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if y.ndim <= 2 and (x.ndim <= 2 or y.ndim < x.ndim):
        if k1 == k2:
            return
        # torch folds x's batch into rows here: an mm (or mv / dot) of 2-D operands
        rows = int(np.prod(x.shape[:-1]))
        if x.ndim == 1 and y.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] "
                               f"to have the same number of elements, but got {k1} and {k2} "
                               "elements respectively")
        if y.ndim == 1:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k1}), vec ({k2})")
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k1} and "
                           f"{k2}x{y.shape[-1]})")
    batch = check_broadcast(x.shape[:-2], y.shape[:-2])
    if k1 != k2:
        b = int(np.prod(batch))
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k1}] but got: [{b}, {k2}].")


_SMALL_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 2): "MmBackward0", (2, 1): "MvBackward0",
                       (1, 2): "SqueezeBackward4"}


def _matmul_node_name(x, y):
    """torch's name for the node of ``x @ y``: the kernel its matmul dispatches to."""
    if y.ndim <= 2 and x.ndim <= 2:
        return _SMALL_MATMUL_NAMES[x.ndim, y.ndim]
    if x.ndim == 1 or y.ndim <= 2:
        return "UnsafeViewBackward0"  # a batch folded into the rows, then viewed back
    batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    return "UnsafeViewBackward0" if x.shape[:-2] == batch else "CloneBackward0"


_NO_OPTIONS = {}


class MatMul(Op):
    """z = x @ y with torch's 1-D and batch-broadcasting rules"""

    @staticmethod
    def forward(ctx, x, y, *, node_name=None):
        if x.ndim == 2 and y.ndim == 2 and x.shape[1] == y.shape[0]:
            ctx.show_as(node_name or "MmBackward0")
        else:
            _check_matmul(x, y)
            ctx.show_as(node_name or _matmul_node_name(x, y))
        ctx.save_for_backward(x, y)
        return np.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if x.ndim == 1 and y.ndim == 1:
            return (grad * y if ctx.needs_input_grad[0] else None,
                    grad * x if ctx.needs_input_grad[1] else None)
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g = grad
        if x.ndim == 1:
            g = np.expand_dims(g, -2)
        if y.ndim == 1:
            g = np.expand_dims(g, -1)
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = sum_to_shape(np.matmul(g, np.swapaxes(y2, -1, -2)), x2.shape).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            if x2.ndim == 2 and g.ndim > 2 and y2.ndim == 2:
                gy = np.matmul(x2.T, g).sum(axis=tuple(range(g.ndim - 2)))
            elif g.ndim > 2 and y2.ndim == 2:
                # fold the batch into the rows: one big GEMM instead of a batch of small ones
                gy = np.matmul(x2.reshape(-1, x2.shape[-1]).T, g.reshape(-1, g.shape[-1]))
            else:
                gy = sum_to_shape(np.matmul(np.swapaxes(x2, -1, -2), g), y2.shape)
            gy = gy.reshape(y.shape)
        return gx, gy


class Mm(Op):
    """z = x @ y for two matrices (the common case of matmul, without its shape rules)"""

    _backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (np.matmul(grad, y.T) if need[0] else None,
                np.matmul(x.T, grad) if need[1] else None)


class Linear(Op):
    """z = x @ W.T + b in one NumPy expression: ``F.linear`` when nothing is recorded (and
    under forward-mode AD). With grad recorded, ``F.linear`` records torch's nodes instead
    (``linear_graph.py``)."""

    _backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b=None):
        check_linear(x, w, b)
        ctx.save_for_backward(x, w)
        if x.dtype is HALF:
            return _half_linear(x, w, b)
        if x.ndim > 2:
            # one (N*L, C) GEMM instead of a batch of N small ones
            out = np.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + w.shape[:1])
        else:
            out = np.matmul(x, w.T)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        gx = gw = gb = None
        g2 = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        if ctx.needs_input_grad[0]:
            gx = np.matmul(g2, w).reshape(x.shape) if grad.ndim > 2 else np.matmul(grad, w)
        if ctx.needs_input_grad[1]:
            x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            gw = np.matmul(g2.T, x2)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g2.sum(axis=0) if g2.dtype is not HALF else \
                g2.sum(axis=0, dtype=np.float32).astype(np.float16)
        return gx, gw, gb


def check_linear(x, w, b):
    """torch's errors for ``F.linear`` on arrays whose sizes or dtypes do not fit."""
    if x.shape[-1] != w.shape[-1]:
        rows = int(np.prod(x.shape[:-1])) if x.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{x.shape[-1]} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        _linear_dtypes(x, w, b)


def _half_linear(x, w, b):
    """A float16 ``x @ w.T + b`` as torch's addmm computes it: in float32, rounded once."""
    out = np.matmul(x.reshape(-1, x.shape[-1]).astype(np.float32), w.T.astype(np.float32))
    if b is not None:
        out += b
    return out.reshape(x.shape[:-1] + w.shape[:1]).astype(np.float16)


class Addmm(Op):
    """z = beta * input + alpha * (m1 @ m2)"""

    @staticmethod
    def forward(ctx, c, a, b, *, beta=1, alpha=1):
        if a.ndim != 2 or b.ndim != 2:
            raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
        _check_matmul(a, b)
        if c.dtype != b.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                               f"{type_name(c.dtype)} and {type_name(b.dtype)}")
        if a.dtype != b.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{type_name(a.dtype)} and {type_name(b.dtype)}")
        if np.shape(c) != (a.shape[0], b.shape[1]):
            check_expand(np.shape(c), (a.shape[0], b.shape[1]))
        ctx.save_for_backward(a, b)
        ctx.c_shape, ctx.alpha, ctx.beta = c.shape, alpha, beta
        half = a.dtype == np.float16
        if half:  # float32 products plus input, rounded once (torch's half gemm)
            c, a, b = (v.astype(np.float32) for v in (c, a, b))
        out = np.matmul(a, b)
        if alpha != 1:
            out *= alpha
        out += c if beta == 1 else beta * c
        return out.astype(np.float16) if half else out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gc = ga = gb = None
        if ctx.needs_input_grad[0]:
            gc = sum_to_shape(grad if ctx.beta == 1 else grad * ctx.beta, ctx.c_shape)
        g = grad if ctx.alpha == 1 else grad * ctx.alpha
        if ctx.needs_input_grad[1]:
            ga = g @ b.T
        if ctx.needs_input_grad[2]:
            gb = a.T @ g
        return gc, ga, gb


def matmul(input, other, *, out=None, node_name=None):
    """Matrix product with torch's rules for 1-D, 2-D and batched (broadcast) operands.

    ``node_name`` (ember's own, for ``mm``/``bmm``): the name of the recorded node."""
    if out is None and node_name is None and type(input) is Tensor and type(other) is Tensor:
        a, b = input._data, other._data
        if a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0] \
                and a.dtype.kind == "f":
            if (input._rg or other._rg) and grad_mode.state.enabled:
                return _record(Mm, (input, other), (a, b), _NO_OPTIONS)
            return _wrap(np.matmul(a, b))
    if type(input) is Tensor and type(other) is Tensor:
        if input._data.dtype != other._data.dtype:
            _mixed_dtypes(input._data, other._data)
        if input._data.dtype == np.bool_:
            _no_bool_product(input._data, other._data)
    if node_name is None and out is None and isinstance(input, Tensor) \
            and isinstance(other, Tensor) and (input._rg or other._rg) \
            and grad_mode.state.enabled:
        nx, ny = input._data.ndim, other._data.ndim
        if nx and ny and (nx > 2 or ny > 2 or (nx == 1 and ny == 2)) \
                and input._data.dtype == other._data.dtype:
            from .matmul_graph import recorded_matmul  # torch's nodes: view, mm/bmm, ...

            return recorded_matmul(input, other)
    try:
        x, y = operands(input, other)
        r = MatMul.apply(x, y, **({"node_name": node_name} if node_name else {}))
    except AttributeError:  # torch's parser refuses a non-Tensor before anything runs
        _arg_errors.check_tensors("matmul", input=input, other=other)
        raise
    except RuntimeError:  # the error of the kernel torch's matmul reaches (should_fold)
        if node_name is None and isinstance(input, Tensor) and isinstance(other, Tensor) \
                and input._data.ndim and other._data.ndim:
            from .matmul_graph import matmul_error

            err = matmul_error(input, other)
            if err is not None:
                raise err from None
        raise
    if out is not None:
        from .._compat import _write_out

        return _write_out("matmul", r, out, (input, other))
    return r




def _no_bool_product(a, b):
    """torch's error for a product of bool matrices, in the words of the kernel the shapes
    reach; a product with nothing to sum or nothing to fill never runs the kernel."""
    k = a.shape[-1] if a.ndim else 0
    rows = a.shape[:-1] if b.ndim == 1 else a.shape[:-1] + b.shape[:-2] + b.shape[-1:]
    if a.ndim == 1 and b.ndim == 1:  # dot checks the sizes, then the dtype even of no elements
        if a.shape != b.shape:
            return
    elif not k or not math.prod(rows):
        return
    if a.ndim == 1 and b.ndim == 1:
        kernel = "dot"
    elif b.ndim == 1:
        kernel = "addmv_impl_cpu"
    elif b.ndim == 2:
        kernel = "addmm_impl_cpu_"
    else:
        kernel = "bmm"
    raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _mixed_dtypes(a, b):
    """torch's error for a matrix product of two dtypes (it never promotes here), in the
    words of the kernel each shape pair reaches."""
    if a.ndim == 1 and b.ndim == 1:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{type_name(a.dtype)} and {type_name(b.dtype)}")
    if a.ndim == 2 and b.ndim == 1:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{type_name(b.dtype)}, {type_name(a.dtype)}, and {type_name(b.dtype)}")
    if a.ndim >= 3 and b.ndim >= 3:
        raise RuntimeError(f"expected scalar type {type_name(a.dtype)} but found "
                           f"{type_name(b.dtype)}")
    raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                       f"{_dtype.c_type_name(a.dtype)} != "
                       f"{_dtype.c_type_name(b.dtype)}")


def _linear_dtypes(x, w, b):
    """torch's error for ``F.linear`` with operands of two dtypes: with a bias it runs addmm,
    which checks the bias against the weight, then the input against the weight."""
    if b is None:
        _mixed_dtypes(x, w)
    if b.dtype != w.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{type_name(b.dtype)} and {type_name(w.dtype)}")
    raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {type_name(x.dtype)} "
                       f"and {type_name(w.dtype)}")


def mm(input, mat2):
    """Product of two 2-D matrices."""
    try:
        dims = input.dim(), mat2.dim()  # a non-Tensor fails here: torch's TypeError below
        if dims != (2, 2):  # torch names the first operand that is not a matrix
            raise RuntimeError(f"{'self' if dims[0] != 2 else 'mat2'} must be a matrix")
    except AttributeError:
        _arg_errors.check_tensors("mm", input=input, mat2=mat2)
        raise
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of (B, n, m) and (B, m, p) tensors."""
    try:
        dims = input.dim(), mat2.dim()  # a non-Tensor fails here: torch's TypeError below
        if dims != (3, 3):  # torch names the first operand that is not 3-D
            raise RuntimeError(f"{'batch1' if dims[0] != 3 else 'batch2'} must be a 3D tensor")
    except AttributeError:
        _arg_errors.check_tensors("bmm", input=input, mat2=mat2)
        raise
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    return matmul(input, mat2, node_name="BmmBackward0")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` as one node."""
    if isinstance(mat1, Tensor) and mat1._data.dtype == np.bool_ and \
            isinstance(mat2, Tensor) and mat2._data.dtype == np.bool_:
        _no_bool_product(mat1._data, mat2._data)
    return Addmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` computed at once: ``F.linear``'s path when no graph is
    recorded."""
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


def dot(input, other):
    """Inner product of two 1-D tensors."""
    try:
        if input.dim() != 1 or other.dim() != 1:
            raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D "
                               "tensors")
    except AttributeError:
        _arg_errors.check_tensors("dot", input=input, tensor=other)
        raise
    if (input._data.dtype == np.bool_ and other._data.dtype == np.bool_
            and input._data.shape == other._data.shape):  # torch checks the sizes first
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return matmul(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors (a broadcast product, as torch's)."""
    from .elementwise import mul

    _arg_errors.check_tensors("outer", input=input, vec2=vec2)
    for name, v in (("self", input), ("vec2", vec2)):
        if v._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    return mul(input.reshape(-1, 1), vec2.reshape(1, -1))


def einsum(*args):
    """Einstein summation (``torch.einsum``, built from NumPy's einsum): ``einsum(equation,
    *operands)``, the operands as one list, or torch's sublist format ``einsum(op1,
    sublist1, op2, sublist2, ..., [sublist_out])`` (subscripts in ``[0, 52)`` and ``...``).

    Raises:
        ValueError: fewer than two arguments, or a subscript outside ``[0, 52)``.
        RuntimeError: the equation names fewer or more operands than are given.
    """
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], Tensor):  # the sublist format
        equation = ",".join("".join(map(_subscript, sub)) for sub in args[1::2])
        if len(args) % 2:
            equation += "->" + "".join(map(_subscript, args[-1]))
        operands_ = args[:-1:2] if len(args) % 2 else args[::2]
    else:
        equation, operands_ = args[0], args[1:]
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    terms = equation.split("->")[0].count(",") + 1
    if len(operands_) != terms:
        word = "fewer" if len(operands_) < terms else "more"
        raise RuntimeError(f"einsum(): {word} operands were provided than specified in the "
                           "equation")
    return Einsum.apply(*operands_, equation=equation)


def _subscript(n):
    """A sublist subscript as an equation letter: 0-25 are A-Z, 26-51 a-z."""
    if n is Ellipsis:
        return "..."
    if 0 <= n < 26:
        return chr(ord("A") + n)
    if 26 <= n < 52:
        return chr(ord("a") + n - 26)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range "
                     "[0, 52)")


class Einsum(Op):
    """z = einsum(equation, *xs); each gradient is another einsum"""

    @staticmethod
    def forward(ctx, *xs, equation):
        eq = equation.replace(" ", "")
        if "->" not in eq:  # implicit output: the letters seen once, in alphabetical order
            letters = eq.replace(",", "").replace(".", "")
            eq += "->" + ("..." if "..." in eq else "") + "".join(
                sorted(c for c in set(letters) if letters.count(c) == 1))
        if "..." in eq:
            eq = _spell_out_ellipsis(eq, [x.ndim for x in xs])
        ctx.save_for_backward(*xs)
        ctx.eq = eq
        return _einsum(eq, *xs)

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        terms = ins.split(",")
        grads = []
        for i, x in enumerate(xs):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [t for j, t in enumerate(terms) if j != i]
            arrays = [a for j, a in enumerate(xs) if j != i]
            grads.append(_einsum_grad(terms[i], x, out, others, grad, arrays))
        return tuple(grads)


def _einsum_grad(target, x, out, others, grad, arrays):
    """The gradient for the operand spelled ``target``: an einsum over the output gradient and
    the other operands, broadcast along letters only ``target`` has (summed in forward) and
    written onto the diagonal for a letter ``target`` repeats (``ii``)."""
    uniq = "".join(dict.fromkeys(target))
    sizes = dict(zip(target, x.shape))
    seen = set(out + "".join(others))
    kept = "".join(c for c in uniq if c in seen)
    g = _einsum(",".join([out] + others) + "->" + kept, grad, *arrays)
    if kept != uniq:  # summed-only letters: every element got the same gradient
        g = g.reshape([g.shape[kept.index(c)] if c in kept else 1 for c in uniq])
    shape = tuple(sizes[c] for c in uniq)
    if g.shape != shape:  # size-1 dims broadcast in forward: spread or sum the gradient back
        g = sum_to_shape(np.broadcast_to(g, np.broadcast_shapes(g.shape, shape)), shape)
    if uniq == target:
        return g
    full = np.zeros(x.shape, dtype=g.dtype)
    np.einsum(target + "->" + uniq, full)[...] = g  # a writeable view of the diagonal
    return full


def _einsum(eq, *arrays):
    """``np.einsum``; float16 in float32, rounded once (NumPy would add in float16, torch's
    products add in float32)."""
    if any(a.dtype == np.float16 for a in arrays):
        wide = [a.astype(np.float32) if a.dtype == np.float16 else a for a in arrays]
        return np.asarray(np.einsum(eq, *wide)).astype(np.float16)
    return np.asarray(np.einsum(eq, *arrays))


def _spell_out_ellipsis(eq, ndims):
    """``eq`` with each ``...`` replaced by letters of its own, so that the gradients'
    equations can name those dims (``...ij,...j->...i`` becomes ``Aij,Aj->Ai``)."""
    ins, out = eq.split("->")
    terms = ins.split(",")
    pool = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    spans = [n - (len(t) - 3) for t, n in zip(terms, ndims) if "..." in t]
    width = max(spans, default=0)
    letters = "".join(pool[:width])
    spelled = []
    for term, n in zip(terms, ndims):
        if "..." in term:
            span = n - (len(term) - 3)
            term = term.replace("...", letters[width - span:])
        spelled.append(term)
    return ",".join(spelled) + "->" + out.replace("...", letters)


__all__ = ["matmul", "mm", "bmm", "addmm", "linear", "dot", "outer", "einsum", "Tensor"]
