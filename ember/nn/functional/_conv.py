"""Convolutions (torch.nn.functional): conv1d/2d/3d, their transposes, unfold and fold.

One op, ``Convolution``, does every case (1-D, 2-D or 3-D, plain or transposed, any stride,
padding, dilation and groups): the forward gathers the input's windows as a strided view
(im2col) and multiplies them by the weight in one batched matmul (the batch being the
groups); the backward multiplies back and adds the windows' gradients into place (col2im),
looping over kernel positions only. ``unfold`` (im2col) and ``fold`` (col2im) expose those
two halves as ops of their own, each the other's backward.
"""
from __future__ import annotations

import math

import numpy as np

from ..._arg_errors import must_be
from ..._user_warning import warn_at_user
from ...autograd.function import Op
from ._common import _size_index_error
from ._conv_dtypes import SIGN_CHECKS, _uses_onednn, bias_check_early, check_conv_dtypes, check_same
from ._kernels import FLOATING, check_kernel

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]


def _windows(xp, kernel, stride, dilation, out_size):
    """The (N, C, *out, *kernel) view of padded ``xp``: one window per output position."""
    nd = len(kernel)
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    v = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    index = (slice(None), slice(None))
    index += tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, stride))
    index += tuple(slice(None, None, d) for d in dilation)
    return v[index]


def _add_windows(target, cols, stride, dilation):
    """col2im: add ``cols`` (*kernel, *lead, *out) into ``target`` (*lead, *padded) in place,
    one kernel position (a strided slab of ``target``) at a time."""
    nd = len(stride)
    kernel, out_size = cols.shape[:nd], cols.shape[cols.ndim - nd:]
    lead = (slice(None),) * (target.ndim - nd)
    for pos in np.ndindex(*kernel):
        where = lead + tuple(slice(p * d, p * d + (o - 1) * s + 1, s)
                             for p, d, o, s in zip(pos, dilation, out_size, stride))
        target[where] += cols[pos]


def _cols(xp, kernel, stride, dilation, out_size, groups):
    """im2col: padded (N, C, *S) -> (groups, C/g * prod(kernel), N * prod(out)), each column
    one output position's window."""
    n, c = xp.shape[:2]
    nd = len(kernel)
    win = _windows(xp, kernel, stride, dilation, out_size)  # (N, C, *out, *k)
    win = win.reshape((n, groups, c // groups) + win.shape[2:])
    order = (1, 2) + tuple(range(3 + nd, 3 + 2 * nd)) + (0,) + tuple(range(3, 3 + nd))
    return np.ascontiguousarray(win.transpose(order)).reshape(
        groups, c // groups * math.prod(kernel), n * math.prod(out_size))


def _add_cols(target, cols, kernel, stride, dilation, groups, out_size=None):
    """col2im, the adjoint of ``_cols``: add (groups, C/g * prod(kernel), N * prod(out))
    into ``target`` (N, C, *padded) in place; ``out`` is every window that fits unless
    given (a transposed convolution's output padding may leave room for more)."""
    n, c = target.shape[:2]
    nd = len(kernel)
    if out_size is None:
        out_size = tuple((p - (k - 1) * d - 1) // s + 1
                         for p, k, d, s in zip(target.shape[2:], kernel, dilation, stride))
    # (groups, C/g, *k, N, *out) with the kernel axes first; target as (groups, C/g, N, *S)
    cols = cols.reshape((groups, c // groups) + tuple(kernel) + (n,) + out_size)
    cols = cols.transpose(tuple(range(2, 2 + nd)) + (0, 1) + tuple(range(2 + nd, 3 + 2 * nd)))
    view = target.reshape((n, groups, c // groups) + target.shape[2:])
    _add_windows(view.transpose((1, 2, 0) + tuple(range(3, 3 + nd))), cols, stride, dilation)


def _rows(x, groups):
    """(N, C, *S) -> (groups, C/g, N * prod(S)): channels as rows, positions as columns."""
    n, c = x.shape[:2]
    positions = math.prod(x.shape[2:])  # explicit sizes: -1 is ambiguous for an empty batch
    g = x.reshape((n, groups, c // groups, positions))
    return g.transpose(1, 2, 0, 3).reshape(groups, c // groups, n * positions)


def _unrows(rows, n, size):
    """Inverse of ``_rows``: (groups, C/g, N * prod(S)) -> (N, C, *S)."""
    g = rows.reshape(rows.shape[:2] + (n, math.prod(size)))
    return np.ascontiguousarray(g.transpose(2, 0, 1, 3)).reshape(
        (n, rows.shape[0] * rows.shape[1]) + tuple(size))


class Convolution(Op):
    """z = sum over windows of x * w (+ b): torch's ``convolution`` (plain or transposed)"""

    _backward_name = "ConvolutionBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, pads, dilation, groups, transposed=False,
                output_size=None):
        # pads: one (before, after) pair per spatial axis; output_size: the transposed
        # convolution's size (output_padding already resolved)
        if x.dtype == np.float16:  # in float32, rounded once (torch's half kernels)
            out = Convolution.forward(
                ctx, x.astype(np.float32), w.astype(np.float32),
                None if b is None else b.astype(np.float32), stride=stride, pads=pads,
                dilation=dilation, groups=groups, transposed=transposed, output_size=output_size)
            ctx.save_for_backward(*((x, w) if transposed else (w,)))  # the inputs themselves
            return out.astype(np.float16)
        ctx.stride, ctx.pads, ctx.dilation, ctx.groups = stride, pads, dilation, groups
        ctx.transposed, ctx.has_bias = transposed, b is not None
        kernel = w.shape[2:]
        wg = w.reshape(groups, w.shape[0] // groups, -1)
        if not transposed:
            # im2col, then one matmul per group: (O/g, C/g * k) @ (C/g * k, N * out)
            xp = np.pad(x, [(0, 0), (0, 0)] + list(pads)) if any(map(any, pads)) else x
            out_size = tuple((p - (k - 1) * d - 1) // s + 1
                             for p, k, d, s in zip(xp.shape[2:], kernel, dilation, stride))
            cols = _cols(xp, kernel, stride, dilation, out_size, groups)
            out = _unrows(np.matmul(wg, cols), x.shape[0], out_size)
            ctx.save_for_backward(w)
            ctx.cols, ctx.xp_shape, ctx.x_shape = cols, xp.shape, x.shape
        else:
            # the gradient of a convolution with respect to its input: matmul, then col2im
            n, c_out = x.shape[0], w.shape[1] * groups
            full = tuple(o + b_ + a_ for o, (b_, a_) in zip(output_size, pads))
            target = np.zeros((n, c_out) + full, np.result_type(x, w))
            cols = np.matmul(wg.transpose(0, 2, 1), _rows(x, groups))
            _add_cols(target, cols, kernel, stride, dilation, groups, x.shape[2:])
            out = np.ascontiguousarray(target[(Ellipsis,) + tuple(
                slice(b_, b_ + o) for o, (b_, _) in zip(output_size, pads))])
            ctx.save_for_backward(x, w)
        if b is not None:
            out += b.reshape((-1,) + (1,) * (out.ndim - 2))
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.dtype == np.float16:  # float16: in float32, each gradient rounded once
            grads = Convolution.backward(ctx, grad.astype(np.float32))
            return tuple(None if g is None else g.astype(np.float16) for g in grads)
        stride, pads, dilation, groups = ctx.stride, ctx.pads, ctx.dilation, ctx.groups
        need = ctx.needs_input_grad
        gx = gw = gb = None
        n = grad.shape[0]
        if not ctx.transposed:
            (w,) = ctx.saved_tensors
            wg = w.reshape(groups, w.shape[0] // groups, -1)
            g_rows = _rows(grad, groups)  # (groups, O/g, N * prod(out))
            if need[0]:
                gxp = np.zeros(ctx.xp_shape, grad.dtype)
                _add_cols(gxp, np.matmul(wg.transpose(0, 2, 1), g_rows), w.shape[2:], stride,
                          dilation, groups)
                gx = np.ascontiguousarray(gxp[(Ellipsis,) + tuple(
                    slice(b_, b_ + s) for s, (b_, _) in zip(ctx.x_shape[2:], pads))])
            if need[1]:
                gw = np.matmul(g_rows, ctx.cols.transpose(0, 2, 1)).reshape(w.shape)
        else:
            x, w = ctx.saved_tensors
            wg = w.reshape(groups, w.shape[0] // groups, -1)
            gp = np.pad(grad, [(0, 0), (0, 0)] + list(pads)) if any(map(any, pads)) else grad
            cols = _cols(gp, w.shape[2:], stride, dilation, x.shape[2:], groups)
            if need[0]:
                gx = _unrows(np.matmul(wg, cols), n, x.shape[2:])
            if need[1]:
                gw = np.matmul(_rows(x, groups), cols.transpose(0, 2, 1)).reshape(w.shape)
        if ctx.has_bias and need[2]:
            gb = grad.sum(axis=(0,) + tuple(range(2, grad.ndim)))
        return (gx, gw, gb) if ctx.has_bias else (gx, gw)


def _expand(value, nd, name):
    """An int or a sequence of ``nd`` ints as a tuple (torch's message otherwise)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(value)}")
    return value


def _batchify(input, nd, name):
    """torch's rank check; returns the input as a batch and whether it was one."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    batched = input.dim() == nd + 2
    return (input if batched else input.unsqueeze(0)), batched


def _check_shapes(input, weight, bias, nd, transposed, groups, stride, shown=None, params=()):
    """torch's checks on the operands' ranks, channels and groups (``input`` batched;
    ``shown``: the input shape torch's messages name, when not the input's own; ``params``:
    (name, value) options whose lengths torch checks before the channels)."""
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if weight.dim() != nd + 2:
        # torch reads the weight's rank as the convolution's: a stride of another length
        # trips first, else the input's rank
        got = list(stride) if isinstance(stride, (tuple, list)) else [int(stride)] * nd
        if len(got) not in (1, weight.dim() - 2):
            raise RuntimeError(f"expected stride to be a single integer value or a list of "
                               f"{weight.dim() - 2} values to match the convolution "
                               f"dimensions, but got stride={got}")
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-"
                           f"dimensional weight {list(weight.shape)}, but got {input.dim()}-"
                           f"dimensional input of size {list(input.shape)} instead")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    given = {pname: _expand(value, nd, pname) for pname, value in params}
    for pname, bad, message in SIGN_CHECKS:  # torch's order, before the channels
        if any(bad(v) for v in given.get(pname, ())):
            raise RuntimeError(message)
    ws, xs = list(weight.shape), list(shown or input.shape)
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size [{ws}] instead")
    if transposed:
        if xs[1] != ws[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {ws}, expected input{xs} "
                               f"to have {ws[0]} channels, but got {xs[1]} channels instead")
        out_channels = ws[1] * groups
    else:
        if xs[1] != ws[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {ws}, expected input{xs} "
                               f"to have {ws[1] * groups} channels, but got {xs[1]} channels "
                               f"instead")
        out_channels = ws[0]
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        given = "transposed=1, " if transposed else ""
        raise RuntimeError(f"Given {given}weight of size {ws}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _operands(input, weight, bias, nd, transposed, groups):
    """The operands for the op, after torch's dtype checks (asked only when they differ or
    are not floating point); a bias that torch casts is cast here too."""
    x, w = input._data, weight._data
    b = None if bias is None else bias._data
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype) or x.dtype.kind != "f":
        check_conv_dtypes(x, w, b, nd=nd, transposed=transposed, groups=groups)
        if b is not None and b.dtype != x.dtype:
            bias = bias.to(input.dtype)
    return (input, weight) if bias is None else (input, weight, bias)


def _check_options(stride, padding, dilation, input, weight, groups, transposed):
    """torch's checks of stride, padding and dilation; a zero dilation is the kernel's to
    refuse, each in its own words."""
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        if any(d < 0 for d in dilation):
            raise RuntimeError("dilation should be greater than zero")
        view = list(dilation) if len(dilation) > 1 else [1, *dilation]  # 1-D runs as 2-D
        if transposed:
            names = ("depth", "height", "width")[3 - len(view):]
            raise RuntimeError("dilation should be greater than zero, but got " + ", ".join(
                f"dilation_{n}: {d}" for n, d in zip(names, view)))
        if _uses_onednn(input._data, weight._data, groups):
            raise RuntimeError("non-positive dilation is not supported")
        raise RuntimeError(f"dilation should be greater than zero, but got {view}")


def _finish(out, batched):
    if batched:
        return out
    out = out.squeeze(0)
    return out


_WARNED_SAME: list = []


def _warn_same_padding_copy():
    """torch's note, once per process, that an odd total 'same' padding copies the input."""
    if not _WARNED_SAME:
        _WARNED_SAME.append(True)
        warn_at_user("Using padding='same' with even kernel lengths and odd dilation may "
                     "require a zero-padded copy of the input be created")


def _conv(input, weight, bias, stride, padding, dilation, groups, nd, name):
    input, batched = _batchify(input, nd, name)
    same = padding == "same" if isinstance(padding, str) else False
    if isinstance(padding, str) and not same and padding != "valid":  # torch's first check
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    shown = check_same(input, weight, stride, dilation, groups) if same else None
    if same and weight.dim() == nd + 2:  # torch warns as it pads, before the kernel's checks
        try:
            totals = [d * (k - 1) for d, k in zip(_expand(dilation, nd, "dilation"),
                                                  weight.shape[2:])]
        except RuntimeError:  # (a dilation of another length: the checks below say so)
            totals = ()
        if any(t % 2 for t in totals):
            _warn_same_padding_copy()
    if not same and bias is not None and bias._data.dtype != input._data.dtype:
        bias_check_early(input._data, bias._data)
    pads = () if isinstance(padding, str) else (("padding", padding),)
    _check_shapes(input, weight, bias, nd, False, groups, stride, shown,
                  (("stride", stride),) + pads + (("dilation", dilation),))
    stride, dilation = _expand(stride, nd, "stride"), _expand(dilation, nd, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        else:  # 'same' (another string was refused above)
            # torch puts the odd one out of an even total padding on the right
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pads = tuple((int(t / 2), t - int(t / 2)) for t in totals)
        _check_options(stride, [b for b, _ in pads], dilation, input, weight, groups, False)
    else:
        padding = _expand(padding, nd, "padding")
        _check_options(stride, padding, dilation, input, weight, groups, False)
        pads = tuple((p, p) for p in padding)
    sizes = [n + b + a for n, (b, a) in zip(input.shape[2:], pads)]
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if any(s < k for s, k in zip(sizes, spans)):
        sizes, spans = " x ".join(map(str, sizes)), " x ".join(map(str, spans))
        raise RuntimeError(f"Calculated padded input size per channel: ({sizes}). Kernel size: "
                           f"({spans}). Kernel size can't be greater than actual input size")
    args = _operands(input, weight, bias, nd, False, groups)
    out = Convolution.apply(*args, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return _finish(out, batched)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    nd, name):
    if isinstance(padding, str):
        raise must_be(name, "padding", None, "tuple of ints", padding)
    input, batched = _batchify(input, nd, name)
    _check_shapes(input, weight, bias, nd, True, groups, stride, params=tuple(zip(
        ("stride", "padding", "dilation", "output_padding"),
        (stride, padding, dilation, output_padding))))
    stride, dilation = _expand(stride, nd, "stride"), _expand(dilation, nd, "dilation")
    padding = _expand(padding, nd, "padding")
    output_padding = _expand(output_padding, nd, "output_padding")
    _check_options(stride, padding, dilation, input, weight, groups, True)
    if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
        if nd == 1:  # torch runs 1d as 2d: its message names a height too
            output_padding, stride, dilation = (0, *output_padding), (1, *stride), (1, *dilation)
        dims = ["depth", "height", "width"][3 - len(stride):]
        parts = [f"output_padding_{a}: {o}" for a, o in zip(dims, output_padding)]
        parts += [f"stride_{a}: {s}" for a, s in zip(dims, stride)]
        parts += [f"dilation_{a}: {d}" for a, d in zip(dims, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    kernel = tuple(weight.shape[2:])
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in zip(
        input.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out_size):
        lead = (1,) * (nd == 1)  # (torch runs 1d as 2d, a height of 1)
        given, got = (" x ".join(map(str, lead + tuple(s))) for s in (input.shape[2:], out_size))
        raise RuntimeError(f"Given input size per channel: ({given}). Calculated output size "
                           f"per channel: ({got}). Output size is too small")
    if 0 in input.shape[2:] and input.shape[0] and input.shape[1]:
        view = list(input.shape) if nd > 1 else [*input.shape[:2], 1, *input.shape[2:]]
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got "
                           f"input shape: {view}")
    args = _operands(input, weight, bias, nd, True, groups)
    out = Convolution.apply(*args, stride=stride, pads=tuple((p, p) for p in padding),
                            dilation=dilation, groups=groups, transposed=True,
                            output_size=out_size)
    return _finish(out, batched)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over ``(N, C_in, L)`` or ``(C_in, L)`` input.

    Args:
        weight: ``(C_out, C_in / groups, kW)``. bias: optional ``(C_out,)``.
        stride, padding, dilation: an int or a 1-tuple; ``padding`` may also be
            ``"valid"`` (none) or ``"same"`` (output as long as the input; stride 1 only).
        groups: split the channels into this many independent convolutions.

    Returns:
        ``(N, C_out, L_out)`` (or ``(C_out, L_out)``), ``L_out = (L + 2 padding - dilation
        (kW - 1) - 1) // stride + 1``.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` input; see ``conv1d``.

    ``weight`` is ``(C_out, C_in / groups, kH, kW)``; stride, padding and dilation are an int
    or a pair (height, width), or ``padding`` is ``"valid"`` / ``"same"``.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D (volumetric) convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)`` input;
    see ``conv1d``.

    ``weight`` is ``(C_out, C_in / groups, kD, kH, kW)``; stride, padding and dilation are an
    int or a triple (depth, height, width), or ``padding`` is ``"valid"`` / ``"same"``.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution (the gradient of ``conv1d`` with respect to its input).

    ``weight`` is ``(C_in, C_out / groups, kW)``; ``L_out = (L - 1) stride - 2 padding +
    dilation (kW - 1) + output_padding + 1``.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution; ``weight`` is ``(C_in, C_out / groups, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution; ``weight`` is ``(C_in, C_out / groups, kD, kH, kW)``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3, "conv_transpose3d")


# ---------------------------------------------------------------- unfold / fold

def _im2col(x, kernel, dilation, padding, stride, blocks):
    """(N, C, H, W) -> (N, C * kH * kW, L): each column one block, channel-major rows."""
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    cols = _windows(xp, kernel, stride, dilation, blocks)  # (N, C, bH, bW, kH, kW)
    return cols.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * math.prod(kernel), math.prod(blocks))


def _col2im(cols, size, kernel, dilation, padding, stride, blocks):
    """(N, C * kH * kW, L) -> (N, C, H, W), the overlapping blocks summed."""
    n = cols.shape[0]
    c = cols.shape[1] // math.prod(kernel)
    windows = cols.reshape((n, c) + kernel + blocks).transpose(2, 3, 0, 1, 4, 5)  # k first
    target = np.zeros((n, c) + tuple(s + 2 * p for s, p in zip(size, padding)), cols.dtype)
    _add_windows(target, windows, stride, dilation)
    crop = tuple(slice(p, p + s) for p, s in zip(padding, size))
    return np.ascontiguousarray(target[(Ellipsis,) + crop])


def _batched(fn, x, batched, *args):
    """``fn`` on a batch; an unbatched ``x`` goes through as a batch of one."""
    return fn(x, *args) if batched else fn(x[None], *args)[0]


class Im2Col(Op):
    """z[n, (c, i, j), l] = x_padded[n, c, block l's corner + dilation * (i, j)]"""

    _backward_name = "Im2ColBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, *, geometry, batched):
        ctx.size, ctx.geometry, ctx.batched = x.shape[-2:], geometry, batched
        return _batched(_im2col, x, batched, *geometry)

    @staticmethod
    def backward(ctx, grad):
        return _batched(_col2im, grad, ctx.batched, ctx.size, *ctx.geometry)


class Col2Im(Op):
    """z = the sum of the columns of x added into place as blocks (unfold's adjoint)"""

    _backward_name = "Col2ImBackward0"  # torch's name

    @staticmethod
    def forward(ctx, cols, *, size, geometry, batched):
        ctx.geometry, ctx.batched = geometry, batched
        return _batched(_col2im, cols, batched, size, *geometry)

    @staticmethod
    def backward(ctx, grad):
        return _batched(_im2col, grad, ctx.batched, *ctx.geometry)


_BLOCK_DTYPES = FLOATING | {"bool", "complex64", "complex128"}  # im2col and col2im: no ints


def _pair(value, name):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 2
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
    return value


def _block_geometry(kernel_size, dilation, padding, stride, unfold):
    """The four options as pairs, checked with torch's messages (in unfold's order or
    fold's)."""
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    checks = [("kernel size should be greater than zero", "kernel", kernel, 1),
              ("stride should be greater than zero", "stride", stride, 1),
              ("dilation should be greater than zero", "dilation", dilation, 1),
              ("padding should be non-negative", "pad", padding, 0)]
    if unfold:
        checks.append(checks.pop(1))  # stride last
    for message, name, (h, w), low in checks:
        if h < low or w < low:
            raise RuntimeError(f"{message}, but got {name}_height: {h} {name}_width: {w}")
    return kernel, dilation, padding, stride


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks (im2col): ``(N, C, H, W)`` -> ``(N, C * kH * kW, L)``, ``L``
    the number of blocks, rows ordered channel-major then kernel row and column; the blocks
    follow row-major order. Unbatched ``(C, H, W)`` input gives ``(C * kH * kW, L)``.

    Raises:
        RuntimeError: input not 3-D or 4-D, a non-positive kernel size, stride or dilation,
            negative padding, or a kernel larger than the padded input.
    """
    geometry = _block_geometry(kernel_size, dilation, padding, stride, True)
    shape = tuple(input.shape)
    if len(shape) < 2 or (len(shape) == 2 and shape[1]):  # torch reads size(1), size(2)
        raise _size_index_error(len(shape), 1 if len(shape) < 2 else 2)
    if not ((len(shape) == 3 and 0 not in shape) or (len(shape) == 4 and 0 not in shape[1:])):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {list(shape)}")
    kernel, dilation, padding, stride = geometry
    size = tuple(input.shape[-2:])
    blocks = _blocks(size, kernel, dilation, padding, stride)
    if min(blocks) < 1:
        raise RuntimeError(f"Given input with spatial size {size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the "
                           f"array of sliding blocks as {blocks}, but its components must be at "
                           f"least one.")
    check_kernel(input, "im2col_out_cpu", _BLOCK_DTYPES)
    return Im2Col.apply(input, geometry=geometry + (blocks,), batched=input.dim() == 4)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks into a tensor (col2im), summing where they overlap:
    ``(N, C * kH * kW, L)`` -> ``(N, C, *output_size)``; the adjoint of ``unfold``.
    Unbatched ``(C * kH * kW, L)`` input gives ``(C, *output_size)``.

    Raises:
        RuntimeError: input not 2-D or 3-D, bad options (as ``unfold``), a row count not
            divisible by ``kH * kW``, or a column count that is not the number of blocks.
    """
    size = _pair(output_size, "output_size")
    geometry = _block_geometry(kernel_size, dilation, padding, stride, False)
    shape = tuple(input.shape)
    if not ((len(shape) == 2 and 0 not in shape) or (len(shape) == 3 and 0 not in shape[1:])):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    kernel, dilation, padding, stride = geometry
    rows, length = input.shape[-2:]
    if rows % math.prod(kernel):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={rows} and "
                           f"kernel_size={kernel}.")
    blocks = _blocks(size, kernel, dilation, padding, stride)
    described = (f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                 f"padding={padding}, stride={stride}, ")
    if length != blocks[0] * blocks[1]:
        raise RuntimeError(f"{described}expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={length}.")
    if min(blocks) < 1:
        raise RuntimeError(f"{described}calculated shape of the array of sliding blocks as "
                           f"{blocks}, which is too small (non-positive)")
    check_kernel(input, "col2im_out_cpu", _BLOCK_DTYPES)
    return Col2Im.apply(input, size=size, geometry=geometry + (blocks,),
                        batched=input.dim() == 3)


for _f in (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, unfold,
           fold):
    _f.__module__ = "ember.nn.functional"
del _f
