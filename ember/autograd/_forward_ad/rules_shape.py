"""Tangent rules of the ops that move, copy, select or write elements: each is linear in its
data inputs, so the tangent is the same op applied to their tangents (a view op on a
tangent gives a view of the tangent, so in-place changes reach the tangent of the base)."""
from __future__ import annotations

from ...ops import arrange, index_write, indexing, scatter_views, shape, shape_more, statistics
from ._rules import linear, linear_all, rule, zero_of

linear(shape.Reshape, shape.Permute, shape.Expand, shape.Repeat, shape.Split, shape.Tri,
       shape.Flip, shape.Roll, shape_more.SplitWithSizes, shape_more.UnsafeSplit,
       shape_more.UnsafeSplitWithSizes, shape_more.NarrowCopy, shape_more.Unbind, indexing.GetItem,
       indexing.Gather, indexing.IndexSelect, arrange.Take, arrange.Diagonal,
       arrange.DiagEmbed, arrange.Trace, arrange.Rot90)
linear_all(shape.Cat, shape.Stack, arrange.BlockDiag)
# x and the values written into it, together
linear(indexing.IndexPut, index_write.IndexFill, index_write.IndexCopy,
       index_write.MaskedScatter, index_write.Put, scatter_views.ScatterInto, at=(0, 1))
linear(indexing.ScatterAdd, indexing.MaskedFill, at=(0, 2))


@rule(indexing.Scatter)
def _scatter(xs, ts, out, dim, multiply=False, name=None):
    if multiply:  # x * src at the index: not linear; the fallback has its formula
        return NotImplemented
    (x, index, src), (tx, _, tsrc) = xs, ts
    return indexing.Scatter.apply(tx if tx is not None else zero_of(x), index,
                                  tsrc if tsrc is not None else zero_of(src), dim=dim, name=name)


@rule(statistics.ScatterReduce)
def _scatter_reduce(xs, ts, out, dim, reduce, include_self=True):
    if reduce not in ("sum", "mean"):  # not linear; the fallback has their formulas
        return NotImplemented
    (x, index, src), (tx, _, tsrc) = xs, ts
    return statistics.ScatterReduce.apply(
        tx if tx is not None else zero_of(x), index, tsrc if tsrc is not None else zero_of(src),
        dim=dim, reduce=reduce, include_self=include_self)
