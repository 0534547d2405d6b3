"""Which ops differentiate complex tensors, and how (loaded when a complex tensor first
requires grad; ``ember/autograd/function.py`` then asks ``check_inputs`` and ``check_node``).

torch's convention: the gradient of a complex tensor is the conjugate Wirtinger derivative of
a real loss, ``dL/dRe(z) + 1j * dL/dIm(z)``. Three kinds of ops meet it:

- ``SAME``: backward only moves, sums or scales by real numbers (reshape, sum, indexing,
  abs: ``grad * x / |x|``): the real formula is already right for complex arrays.
- ``HOLOMORPHIC``: backward is ``grad * f'(x)`` with the formula of the complex derivative
  (mul, exp, matmul, ...). torch's rule is ``grad * conj(f'(x))``, which is the real formula
  run on ``conj(grad)`` and conjugated back: no formula needs a second copy.
- the rest have a backward written for complex numbers (``complex_ops.py``, ``_CUSTOM``,
  and ``LINALG``: torch's linalg formulas, whose transposes are conjugate transposes).

Any other op refuses to record a complex input or output with NotImplementedError naming it,
so a missing rule never turns into a silently wrong gradient.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Node, Op
from ..nn._functions import pad
from ..nn._functions.embedding import EmbeddingLookup
from ..nn.functional._channel import ChannelShuffle
from ..nn.functional._conv import Col2Im, Convolution, Im2Col
from ..nn.functional._vision import PixelShuffle
from . import (
    activation,
    arrange,
    blend,
    complex_ops,
    copy_slices,
    cumulative,
    elementwise,
    index_write,
    indexing,
    linalg,
    math_more,
    pointwise_math,
    pointwise_trig,
    products,
    reduce,
    scatter_views,
    shape,
    shape_more,
    statistics,
    statistics_pairs,
    unary,
)
from ._linalg_cholesky_solve import CholeskyInverse, CholeskySolve
from ._linalg_eig import Eig
from ._linalg_factor import Cholesky, Eigh, MatrixExp, Qr, Svd
from ._linalg_inverse import Det, Inv, Pinv, Slogdet, Solve
from ._linalg_ldl import _NoDerivative
from ._linalg_lu import LinalgLu, LinalgLuSolve
from ._linalg_triangular import HouseholderProduct, SolveTriangular
from ._shape_utils import sum_to_shape
from .clamp import Where
from .derivatives import complex as complex_formulas
from .derivatives._rest import LinearMap
from .index_reduce import IndexReduce
from .linalg_legacy import LuFactor, LuSolve, LuUnpack, TriangularSolve
from .linear_graph import LinearAddmm, WeightT
from .vector_norm import VectorNorm

SAME = (
    elementwise.Neg, elementwise.Clone, elementwise.Fill,
    shape.Reshape, shape.Permute, shape.Expand, shape.Repeat, shape.Cat, shape.Stack,
    shape.Split, shape.Tri, shape.Flip, shape.Roll,
    indexing.GetItem, indexing.IndexSelect, indexing.Gather, indexing.ScatterAdd,
    indexing.IndexPut, indexing.Scatter, indexing.MaskedFill,
    reduce.Sum, reduce.Mean, cumulative.Cumsum, unary.Abs,
    arrange.Diagonal, arrange.DiagEmbed, arrange.Trace, arrange.Take, arrange.Rot90,
    arrange.BlockDiag, Where, copy_slices.AsStrided, copy_slices.CopySlices, pad.ConstantPad,
    pad.IndexPad, index_write.Put, index_write.IndexFill, shape_more.NarrowCopy,
    complex_ops.Real, complex_ops.Imag, complex_ops.Conj, complex_ops.ComplexAngle,
    complex_ops.ViewAsReal, complex_ops.ViewAsComplex, complex_ops.Complex, complex_ops.Polar,
    LuUnpack, shape_more.Unbind, index_write.IndexCopy, index_write.MaskedScatter, VectorNorm,
    scatter_views.ScatterInto, scatter_views.AsStridedScatter, PixelShuffle, ChannelShuffle,
    Im2Col, Col2Im, WeightT,
    LinearMap,  # only ever moves elements (the regions of views and strided storage)
    math_more.Renorm,  # its backward takes Re(conj(x) grad) for the (real) norm
    shape_more.SplitWithSizes, shape_more.UnsafeSplit, shape_more.UnsafeSplitWithSizes,
)
HOLOMORPHIC = (
    elementwise.Add, elementwise.Sub, elementwise.Pow,
    unary.Exp, unary.Log, unary.Log1p, unary.Sqrt, unary.Rsqrt, unary.Sin, unary.Cos,
    unary.Tan, unary.Expm1, unary.LogBase, activation.Tanh, activation.Sigmoid,
    pointwise_trig.Asin, pointwise_trig.Acos, pointwise_trig.Atan, pointwise_trig.Sinh,
    pointwise_trig.Cosh, pointwise_trig.Asinh, pointwise_trig.Acosh, pointwise_trig.Atanh,
    linalg.MatMul, linalg.Mm, linalg.Linear, linalg.Addmm, linalg.Einsum, LinearAddmm,
    reduce.Prod, reduce.Logsumexp, cumulative.Cumprod, blend.Lerp, blend.Addcmul,
    pointwise_math.Sinc, pointwise_math.Exp2, pointwise_math.Logaddexp, pointwise_math.Ldexp,
    products.AddProduct, statistics_pairs.Cross,
    Convolution, statistics.Logcumsumexp, TriangularSolve,
)
# ops whose own backward (and Tensor formula) handles complex numbers
LINALG = (Det, Slogdet, Inv, Solve, Pinv, Cholesky, Qr, Svd, Eigh, MatrixExp, Eig,
          SolveTriangular, CholeskyInverse, CholeskySolve, LuFactor, LinalgLu, LinalgLuSolve,
          LuSolve, HouseholderProduct,
          _NoDerivative)  # ldl_*: its backward raises torch's "not implemented" error
# ops whose complex forward torch computes but refuses to differentiate: torch's error
REFUSED = {op: f"{name} does not support automatic differentiation for outputs with complex "
                 "dtype." for op, name in ((activation.Silu, "silu"),
                                           (elementwise.NanToNum, "nan_to_num"),
                                           (statistics.ScatterReduce, "scatter_reduce"),
                                           (IndexReduce, "index_reduce"),
                                           (EmbeddingLookup, "embedding"))}
# the same, by node name, for ops that share a class with one torch differentiates
REFUSED_NODES = {node: f"{name} does not support automatic differentiation for outputs with "
                       "complex dtype." for node, name in (
                           ("SelectScatterBackward0", "select_scatter"),
                           ("SliceScatterBackward0", "slice_scatter"))}


def _to_dtype_backward(ctx, grad):
    """ToDtype: a real input takes the real part of a complex gradient."""
    if grad.dtype.kind == "c" and ctx.x_dtype.kind != "c":
        grad = grad.real
    return grad.astype(ctx.x_dtype)


def _var_backward(ctx, grad):
    """Var/Std of complex x: the real formula, with the (real) gradient made complex first."""
    centred = ctx.saved_tensors[0]
    if ctx.dof <= 0 and ctx.full:  # torch's real infinities (NaN at the mean), made complex
        return reduce.Var.backward(ctx, grad).astype(centred.dtype)
    return reduce.Var.backward(ctx, grad.astype(centred.dtype))


def _sgn_backward(ctx, grad):
    """sgn(x) = x / |x|: (grad - sgn * Re(conj(sgn) * grad)) / |x|, 0 at 0 (torch's)."""
    (x,) = ctx.saved_tensors
    if x.dtype.kind != "c":
        return np.zeros_like(grad)
    a = np.abs(x)
    s = np.sign(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (grad - s * (np.conj(s) * grad).real) / a
    return np.where(a == 0, 0, g).astype(x.dtype, copy=False)


def _mul_backward(ctx, grad):
    """Mul with a complex operand: grad * conj(other), in torch's order (so its signed
    zeros), rather than the conjugated real formula."""
    x, y = ctx.saved_tensors
    need = ctx.needs_input_grad
    return (sum_to_shape(grad * np.conj(y), ctx.x_shape) if need[0] else None,
            sum_to_shape(grad * np.conj(x), ctx.y_shape) if need[1] else None)


def _div_backward(ctx, grad):
    """Div with a complex operand: grad / conj(y) and -grad * conj((x / y) / y), torch's."""
    x, y = ctx.saved_tensors
    need = ctx.needs_input_grad
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sum_to_shape(grad / np.conj(y), ctx.x_shape) if need[0] else None,
                sum_to_shape(-grad * np.conj(x / y / y), ctx.y_shape) if need[1] else None)


# op: (backward, its Tensor formula for create_graph)
_CUSTOM = {elementwise.Mul: (_mul_backward, complex_formulas.complex_mul),
           elementwise.Div: (_div_backward, complex_formulas.complex_div),
           elementwise.ToDtype: (_to_dtype_backward, complex_formulas.complex_to_dtype),
           reduce.Var: (_var_backward, reduce.Var.backward_graph),  # the real one fits
           math_more.Sgn: (_sgn_backward, complex_formulas.complex_sgn)}


def _variant(op, backward, backward_graph=None):
    """A subclass of ``op`` with another backward, and ``backward_graph`` as its Tensor-level
    formula (without one, a gradient it computes with create_graph=True cannot be
    differentiated again)."""
    graph = None if backward_graph is None else staticmethod(backward_graph)
    cls = type(op.__name__, (op,), {"backward": staticmethod(backward), "backward_graph": graph,
                                    "__module__": op.__module__, "__doc__": op.__doc__})
    cls._complex_fn = cls
    return cls


def _conjugated(formula, conj):
    """``formula`` run on the conjugated gradients, its results conjugated back: torch's
    ``grad * conj(f'(x))`` from a formula written as ``grad * f'(x)``."""
    def run(ctx, *grads):
        res = formula(ctx, *[None if g is None else conj(g) for g in grads])
        if type(res) is tuple:
            return tuple(None if r is None else conj(r) for r in res)
        return None if res is None else conj(res)

    return run


def _holomorphic(op):
    graph = getattr(op, "backward_graph", None)
    return _variant(op, _conjugated(op.backward, np.conj),
                    None if graph is None else _conjugated(graph, _conj_tensor))


def _conj_tensor(t):
    """The conjugate of a gradient Tensor, recorded (its derivative matters at second order);
    a real one as it is."""
    return complex_ops.conj_physical(t) if t._data.dtype.kind == "c" else t


for _op in SAME + LINALG:
    _op._complex_fn = _op
for _op in HOLOMORPHIC:
    _op._complex_fn = _holomorphic(_op)
for _op, (_backward, _graph) in _CUSTOM.items():
    _op._complex_fn = _variant(_op, _backward, _graph)

_SWAPPED = {}  # node class -> the same name with the complex rule's backward


def check_inputs(node, arrays) -> None:
    """Called for every recorded op once complex autograd is on: complex inputs need a rule."""
    for a in arrays:
        if type(a) is np.ndarray and a.dtype.kind == "c":
            check_node(node)
            return


def check_node(node) -> None:
    """Give ``node`` its op's complex backward, or raise NotImplementedError naming the op."""
    fn = node._fn
    if not (isinstance(fn, type) and issubclass(fn, Op)):
        return  # a user's Function (its own business) or an error node
    if type(node).__name__ in REFUSED_NODES:
        raise RuntimeError(REFUSED_NODES[type(node).__name__])
    rule = fn.__dict__.get("_complex_fn")
    if rule is fn:
        return
    if fn in REFUSED:
        raise RuntimeError(REFUSED[fn])
    if rule is None:
        raise NotImplementedError(
            f"{fn.__name__} ({type(node).__name__}): ember has no gradient formula for complex "
            f"tensors in this op yet; compute it on real tensors (view_as_real) or without "
            f"requires_grad")
    cls = type(node)
    swapped = _SWAPPED.get(cls)
    if swapped is None:
        swapped = _SWAPPED[cls] = type(cls.__name__, (Node,), {"_fn": rule,
                                                               "__module__": fn.__module__})
    node.__class__ = swapped
