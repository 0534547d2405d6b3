"""torch's in-place function forms (``torch.abs_(x)``) and the ``*_copy`` twins of the view
ops, which ember lacked.

The in-place forms call the Tensor method (or ``nn.functional``'s in-place op), so they share
its autograd recording and its errors. A ``*_copy`` runs the view op and copies the result into
fresh contiguous memory: the gradient flows through the view, and the node carries torch's
name (``PermuteBackward0_copy``).
"""
from __future__ import annotations

import numpy as np

from . import _dtype
from ._dtype import c_type_name
from ._tensor import Tensor, _wrap

__all__ = ["alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy",
           "permute_copy", "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy",
           "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
           "unsqueeze_copy", "view_copy", "conj_physical_", "dropout_", "alpha_dropout_",
           "feature_dropout_", "feature_alpha_dropout_", "embedding_renorm_"]


def _check_tensor(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


# --- in-place function forms -------------------------------------------------------------------
# name -> what it does; each calls the Tensor method of the same name
_TENSOR_INPLACE = {
    "abs_": "absolute value", "ceil_": "ceiling", "clamp_": "clamp to ``[min, max]``",
    "clamp_max_": "clamp from above", "clamp_min_": "clamp from below",
    "clip_": "clamp to ``[min, max]``", "cos_": "cosine", "exp_": "exponential",
    "expm1_": "``exp(x) - 1``", "fix_": "round towards zero", "floor_": "floor",
    "log_": "natural logarithm", "log10_": "base-10 logarithm", "log1p_": "``log(1 + x)``",
    "log2_": "base-2 logarithm", "neg_": "negation", "negative_": "negation",
    "reciprocal_": "``1 / x``", "relu_": "ReLU", "round_": "round half to even",
    "rsqrt_": "``1 / sqrt(x)``", "sigmoid_": "logistic sigmoid", "sin_": "sine",
    "sqrt_": "square root", "square_": "square", "tan_": "tangent", "tanh_": "tanh",
    "trunc_": "round towards zero", "nan_to_num_": "replace NaN and infinities",
    "fill_": "fill with a value",
    "zero_": "fill with zeros", "detach_": "cut from the graph",
    "index_put_": "write ``values`` at ``indices``",
    "resize_as_": "take ``the_template``'s size",
    "as_strided_": "take new sizes and strides over the storage",
}
# the same, through nn.functional's in-place op (the Tensor has no such method)
_FUNCTIONAL_INPLACE = {"celu_": "CELU", "selu_": "SELU",
                       "threshold_": "``value`` where ``input <= threshold``"}


def _inplace_form(name, what, functional):
    def fn(input, *args, **kwargs):
        _check_tensor(name, input)
        if functional:
            from .nn import functional as F

            return getattr(F, name)(input, *args, **kwargs)
        return getattr(Tensor, name)(input, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}``: {what}, in place (``input.{name}(...)``); returns "
                  "``input``.")
    return fn


for _name, _what in _TENSOR_INPLACE.items():
    globals()[_name] = _inplace_form(_name, _what, False)
for _name, _what in _FUNCTIONAL_INPLACE.items():
    globals()[_name] = _inplace_form(_name, _what, True)
__all__ += [*_TENSOR_INPLACE, *_FUNCTIONAL_INPLACE]


def _check_p(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_form(name, functional_name, what):
    def fn(input, p, train):
        from .nn import functional as F

        _check_tensor(name, input)
        _check_p(p)
        return getattr(F, functional_name)(input, p, train, inplace=True)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``torch.{name}``: {what} written into ``input``; returns ``input``."
    return fn


dropout_ = _dropout_form("dropout_", "dropout", "dropout")
alpha_dropout_ = _dropout_form("alpha_dropout_", "alpha_dropout", "alpha dropout")
feature_alpha_dropout_ = _dropout_form("feature_alpha_dropout_", "feature_alpha_dropout",
                                       "channel-wise alpha dropout")


def conj_physical_(input):
    """``torch.conj_physical_``: the conjugate, in place. ember's tensors are real, so the
    values stay; as in torch the change still counts (version, graph node, and the error for
    a leaf that requires grad)."""
    _check_tensor("conj_physical_", input)
    return input._inplace(_conj_physical)


def _conj_physical(x):
    out = x.clone()  # the conjugate of a real tensor
    if out.grad_fn is not None:
        out.grad_fn.show_as("ConjPhysicalBackward1")
    return out


def feature_dropout_(input, p, train):
    """``torch.feature_dropout_``: :func:`ember.feature_dropout` written into ``input``."""
    from ._namespace_nn import feature_dropout

    _check_tensor("feature_dropout_", input)
    _check_p(p)
    if p == 0 or not train or input.numel() == 0:
        return input
    return input._inplace(lambda x: feature_dropout(x, p, train))


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale the rows of the 2-D ``input`` named in ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` to norm ``max_norm`` (``torch.embedding_renorm_``); returns ``input``.

    Raises:
        RuntimeError: ``input`` not 2-D, float ``indices``, or (with grad mode on) a leaf
            that requires grad.
        IndexError: an index outside the rows.
        NotImplementedError: at backward, as torch (the op has no derivative).
    """
    from ._namespace_gaps_native import EmbeddingRenorm

    _check_tensor("embedding_renorm_", input)
    if input.dim() != 2:
        raise RuntimeError(f"Expected 2-dimensional tensor, but got {input.dim()}-dimensional "
                           "tensor for argument #1 'self' (while checking arguments for "
                           "embedding_renorm_)")
    idx = indices._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError("Expected tensor for argument #2 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{indices.type()} instead (while checking arguments for "
                           "embedding_renorm_)")
    n = input.shape[0]
    bad = np.sort(idx[(idx >= n) | (idx < -n)].reshape(-1))
    if bad.size:
        raise IndexError(f"select(): index {int(bad[0])} out of range for tensor of size "
                         f"{list(input.shape)} at dimension 0")
    return input._inplace(lambda x: EmbeddingRenorm.apply(
        x, idx=idx, max_norm=float(max_norm), norm_type=float(norm_type)))


# --- *_copy: the view ops, copied -------------------------------------------------------------
_c_name = c_type_name  # torch's C++ name of a dtype in its messages


def _copied(name, view, node, out, input):
    """``view`` copied to fresh contiguous memory (``out``'s, when given); the copy's node
    shows torch's ``node`` name."""
    from . import _memory_format

    result = view.clone(memory_format=_memory_format.contiguous_format)
    if result.grad_fn is not None:
        result.grad_fn.show_as(node)
    if out is None:
        return result
    if out._data.dtype != result._data.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_c_name(result._data.dtype)}, "
                           f"but got {_c_name(out._data.dtype)} instead")
    return _into_out(name, result, out, input)


def _into_out(name, result, out, input):
    """torch's ``out=`` for these ops: the values written into ``out``; an ``input`` that
    requires grad makes ``out`` the output of a node whose backward raises, as in torch (its
    out variants have no derivative)."""
    from .autograd import grad_mode
    from .ops._linalg_ldl import _NoDerivative
    from .ops._out import write_out

    write_out(f"aten::{name}", result.detach(), out, (input,))
    if grad_mode.state.enabled and input._rg:
        node = _NoDerivative.apply(input, fn=lambda x: out._data.copy(), name=name)
        out.grad_fn, out._output_nr, out._rg = node.grad_fn, 0, True
    return out


def _copied_list(name, out_name, views, node, out):
    """Each of ``views`` copied; with ``out`` (a list), copied into its tensors (None back)."""
    if out is None:
        return [_copied(name, v, node, None, None) for v in views]
    if len(out) != len(views):
        raise RuntimeError(f"{out_name} expected an out= argument of size {len(views)}, got "
                           f"size {len(out)}")
    from .autograd import grad_mode

    with grad_mode.no_grad():
        for o, v in zip(out, views):
            o.copy_(v)
    return None


def alias_copy(input, *, out=None):
    """``torch.alias_copy``: a copy of ``input`` (torch's ``alias`` is the input itself)."""
    _check_tensor("alias_copy", input)
    return _copied("alias_copy", input, "AliasBackward0_copy", out, input)


def as_strided_copy(input, size, stride, storage_offset=None, *, out=None):
    """``torch.as_strided_copy``: a copy of :func:`ember.as_strided`'s view."""
    from .ops.strided import as_strided

    _check_tensor("as_strided_copy", input)
    return _copied("as_strided_copy", as_strided(input, size, stride, storage_offset),
                   "AsStridedBackward0_copy", out, input)


def detach_copy(input, *, out=None):
    """``torch.detach_copy``: a copy of ``input``. As in torch, an input that requires grad
    gives a result that does too, whose backward raises (the op has no derivative)."""
    from .ops._linalg_ldl import _NoDerivative

    _check_tensor("detach_copy", input)
    result = _NoDerivative.apply(input, fn=np.copy, name="detach_copy")
    return result if out is None else _into_out("detach_copy", result, out, input)


def diagonal_copy(input, offset=0, dim1=0, dim2=1, *, out=None):
    """``torch.diagonal_copy``: a copy of :func:`ember.diagonal`'s view."""
    _check_tensor("diagonal_copy", input)
    return _copied("diagonal_copy", input.diagonal(offset, dim1, dim2),
                   "DiagonalBackward0_copy", out, input)


def expand_copy(input, size, *, implicit=False, out=None):
    """``torch.expand_copy``: ``input.expand(size)`` in memory of its own (``-1`` keeps a
    size; ``implicit`` is unused, as on torch's CPU)."""
    _check_tensor("expand_copy", input)
    return _copied("expand_copy", input.expand(tuple(size)), "ExpandBackward0_copy", out,
                   input)


def permute_copy(input, dims, *, out=None):
    """``torch.permute_copy``: a contiguous copy of ``input.permute(dims)``."""
    _check_tensor("permute_copy", input)
    return _copied("permute_copy", input.permute(tuple(dims)), "PermuteBackward0_copy", out,
                   input)


def select_copy(input, dim, index, *, out=None):
    """``torch.select_copy``: a copy of ``input.select(dim, index)``."""
    _check_tensor("select_copy", input)
    return _copied("select_copy", input.select(dim, index), "SelectBackward0_copy", out,
                   input)


def slice_copy(input, dim=0, start=None, end=None, step=1, *, out=None):
    """``torch.slice_copy``: a copy of ``input[..., start:end:step]`` along ``dim``
    (out-of-range bounds clamp, as in Python).

    Raises:
        RuntimeError: ``step`` not positive.
        IndexError: ``dim`` out of range, or a 0-d ``input``.
    """
    from .ops._shape_utils import wrap_dim

    _check_tensor("slice_copy", input)
    if input.dim() == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, input.dim())
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    view = input[(slice(None),) * d + (slice(start, end, step),)]
    return _copied("slice_copy", view, "SliceBackward0_copy", out, input)


def split_copy(input, split_size, dim=0, *, out=None):
    """``torch.split_copy``: copies of the pieces of :func:`ember.split` (a list); with
    ``out``, a list of tensors that take them, it returns None."""
    from .ops.shape import split

    _check_tensor("split_copy", input)
    return _copied_list("split_copy", "split_copy_Tensor_out()", split(input, split_size, dim),
                        "SplitBackward0_copy", out)


def split_with_sizes_copy(input, split_sizes, dim=0, *, out=None):
    """``torch.split_with_sizes_copy``: copies of the pieces of ``split_sizes`` along
    ``dim`` (a list, or None after filling ``out``)."""
    from .ops.shape_more import split_with_sizes

    _check_tensor("split_with_sizes_copy", input)
    if isinstance(split_sizes, int):
        from ._arg_errors import must_be

        raise must_be("split_with_sizes_copy", "split_sizes", 2, "tuple of ints", split_sizes)
    return _copied_list("split_with_sizes_copy", "split_with_sizes_copy_out",
                        split_with_sizes(input, split_sizes, dim),
                        "SplitWithSizesBackward0_copy", out)


def squeeze_copy(input, dim=None, *, out=None):
    """``torch.squeeze_copy``: a copy of :func:`ember.squeeze` (``dim`` an int or a tuple)."""
    from .ops.shape import squeeze

    _check_tensor("squeeze_copy", input)
    dim = tuple(dim) if isinstance(dim, list) else dim
    overload = 0 if dim is None else 2 if isinstance(dim, tuple) else 1  # torch's node names
    return _copied("squeeze_copy", squeeze(input, dim), f"SqueezeBackward{overload}_copy", out,
                   input)


def t_copy(input, *, out=None):
    """``torch.t_copy``: a contiguous copy of :func:`ember.t`."""
    from .ops.shape import t

    _check_tensor("t_copy", input)
    return _copied("t_copy", t(input), "TBackward0_copy", out, input)


def transpose_copy(input, dim0, dim1, *, out=None):
    """``torch.transpose_copy``: a contiguous copy of ``input.transpose(dim0, dim1)``."""
    _check_tensor("transpose_copy", input)
    return _copied("transpose_copy", input.transpose(dim0, dim1), "TransposeBackward0_copy",
                   out, input)


def unbind_copy(input, dim=0, *, out=None):
    """``torch.unbind_copy``: copies of the slices along ``dim`` (a list, or None after
    filling ``out``)."""
    from .ops.shape import unbind

    _check_tensor("unbind_copy", input)
    return _copied_list("unbind_copy", "unbind_copy_int_out", unbind(input, dim),
                        "UnbindBackward0_copy", out)


def unfold_copy(input, dimension, size, step, *, out=None):
    """``torch.unfold_copy``: a copy of ``input.unfold(dimension, size, step)``."""
    _check_tensor("unfold_copy", input)
    return _copied("unfold_copy", input.unfold(dimension, size, step), "UnfoldBackward0_copy",
                   out, input)


def unsqueeze_copy(input, dim, *, out=None):
    """``torch.unsqueeze_copy``: a copy of ``input.unsqueeze(dim)``."""
    _check_tensor("unsqueeze_copy", input)
    return _copied("unsqueeze_copy", input.unsqueeze(dim), "UnsqueezeBackward0_copy", out,
                   input)


def view_copy(input, size=None, *, dtype=None, out=None):
    """``torch.view_copy``: ``input`` with a new ``size`` (any layout works: it is a copy, as
    ``reshape``), or its bytes read as ``dtype`` (no gradient, as torch)."""
    _check_tensor("view_copy", input)
    if isinstance(size, _dtype.dtype):
        size, dtype = None, size
    if dtype is not None:
        result = _wrap(input._data.copy().view(_dtype.convert(dtype).np))
        return result if out is None else _into_out("view_copy", result, out, input)
    return _copied("view_copy", input.reshape(tuple(size)), "ViewBackward0_copy", out, input)
