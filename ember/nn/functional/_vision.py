"""Vision functions (torch.nn.functional): pixel (un)shuffle, affine grids, grid sampling.

``PixelShuffle`` is one op for both directions: a reshape and a transpose, undone in its
backward. ``GridSample`` reads each output pixel as a weighted sum of the 4 (bilinear) or
1 (nearest) input pixels around its grid point, so its backward scatters the gradient back
to those pixels (``np.add.at``) and, for bilinear, differentiates the weights to get the
grid's gradient.
"""
from __future__ import annotations

import warnings

import numpy as np

from ... import _creation
from ... import ops as _ops
from ...autograd.function import Op
from ...ops._shape_utils import type_name
from ._common import _size_str
from ._kernels import FLOATING, check_kernel

__all__ = ["pixel_shuffle", "pixel_unshuffle", "affine_grid", "grid_sample"]


def _shuffle(x, r, inverse):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), or back when ``inverse``."""
    lead = x.shape[:-3]
    k = len(lead)
    c, h, w = x.shape[-3:]
    if inverse:  # (*, C, H*r, W*r) -> (*, C, H, r, W, r) -> (*, C, r, r, H, W)
        y = x.reshape(lead + (c, h // r, r, w // r, r))
        y = y.transpose(tuple(range(k)) + tuple(k + i for i in (0, 2, 4, 1, 3)))
        return np.ascontiguousarray(y).reshape(lead + (c * r * r, h // r, w // r))
    y = x.reshape(lead + (c // (r * r), r, r, h, w))  # -> (*, C, H, r, W, r)
    y = y.transpose(tuple(range(k)) + tuple(k + i for i in (0, 3, 1, 4, 2)))
    return np.ascontiguousarray(y).reshape(lead + (c // (r * r), h * r, w * r))


class PixelShuffle(Op):
    """z = x with channel blocks of r*r moved into r x r spatial blocks (or back)"""

    @staticmethod
    def forward(ctx, x, *, factor, inverse):
        ctx.show_as("PixelUnshuffleBackward0" if inverse else "PixelShuffleBackward0")
        ctx.factor, ctx.inverse = factor, inverse
        return _shuffle(x, factor, inverse)

    @staticmethod
    def backward(ctx, grad):
        return _shuffle(grad, ctx.factor, not ctx.inverse)


def _check_factor(fn, name, factor):
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' (position 2) must be int, not "
                        f"{type(factor).__name__}")
    if factor <= 0:
        raise RuntimeError(f"{fn} expects a positive {name}, but got {factor}")


def _check_rank(fn, input):
    if input.dim() < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input "
                           f"with {input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C * r^2, H, W)`` into ``(*, C, H * r, W * r)`` (``r`` the
    ``upscale_factor``): the sub-pixel convolution's upsampling step.

    Raises:
        RuntimeError: fewer than 3 dimensions, a non-positive factor, or channels not
            divisible by ``r^2``.
        TypeError: a factor that is not an int.
    """
    _check_factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _check_rank("pixel_shuffle", input)
    c = input.shape[-3]
    if c % (upscale_factor * upscale_factor):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {upscale_factor * upscale_factor}")
    return PixelShuffle.apply(input, factor=int(upscale_factor), inverse=False)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: ``(*, C, H * r, W * r)`` into
    ``(*, C * r^2, H, W)``.

    Raises:
        RuntimeError: fewer than 3 dimensions, a non-positive factor, or a height or width
            not divisible by ``r``.
        TypeError: a factor that is not an int.
    """
    _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _check_rank("pixel_unshuffle", input)
    for what, d in (("height", -2), ("width", -1)):
        if input.shape[d] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {what} to be divisible by "
                               f"downscale_factor, but input.size({d})={input.shape[d]} is not "
                               f"divisible by {downscale_factor}")
    if input.numel() == 0:  # torch returns an empty input as it is (a copy)
        return input.clone()
    return PixelShuffle.apply(input, factor=int(downscale_factor), inverse=True)


# ---------------------------------------------------------------- affine grids

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


def _base_coords(n, align_corners, dtype):
    """torch's linspace_from_neg_one: ``n`` points over [-1, 1], pixel centres unless
    ``align_corners``."""
    if n <= 1:
        return np.zeros(n, dtype)
    steps = np.linspace(-1, 1, n, dtype=dtype)
    return steps if align_corners else steps * dtype((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps: ``theta`` (N, 2, 3) for ``size``
    ``(N, C, H, W)`` gives ``(N, H, W, 2)`` (``x, y`` in [-1, 1]); (N, 3, 4) for
    ``(N, C, D, H, W)`` gives ``(N, D, H, W, 3)``. Differentiable in ``theta``.

    Raises:
        ValueError: a non-float ``theta``, a ``theta`` that does not fit ``size``, or a
            non-positive size.
        NotImplementedError: a ``size`` that is not 4-D or 5-D.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"torch.{str(theta.dtype).split('.')[-1]}")
    given, size = size, list(size)  # torch's messages print size as it was given
    if len(size) in (4, 5):
        nd = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (nd, nd + 1):
            raise ValueError(f"Expected a batch of {nd}D affine matrices of shape "
                             f"Nx{nd}x{nd + 1} for size {given}. Got {_size_str(theta.shape)}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {given}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if theta.shape[0] != size[0]:  # torch's bmm of the base grid and theta
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{size[0]}, {nd + 1}] but got: [{theta.shape[0]}, {nd + 1}].")
    dtype = theta._data.dtype.type
    # axes ordered x (the last spatial dim) first, then a column of ones
    axes = [_base_coords(n, align_corners, dtype) for n in reversed(spatial)]
    mesh = list(np.meshgrid(*axes[::-1], indexing="ij"))[::-1]
    base = np.stack(mesh + [np.ones(spatial, dtype)], axis=-1).reshape(1, -1, nd + 1)
    base = _creation.tensor(base, dtype=theta.dtype)
    grid = _ops.matmul(base, theta.transpose(1, 2))
    return grid.reshape([size[0]] + spatial + [nd])


# ---------------------------------------------------------------- grid sampling

def _source_index(coord, n, align_corners, padding_mode):
    """Grid coordinates in [-1, 1] as pixel positions, folded into range by the padding
    mode; also d(position)/d(coordinate)."""
    if align_corners:
        pos, mult = (coord + 1) / 2 * (n - 1), np.full(coord.shape, (n - 1) / 2, coord.dtype)
    else:
        pos, mult = ((coord + 1) * n - 1) / 2, np.full(coord.shape, n / 2, coord.dtype)
    if padding_mode == "reflection":
        low, span = (0.0, n - 1.0) if align_corners else (-0.5, float(n))
        if span <= 0:
            return np.zeros_like(pos), np.zeros_like(mult)
        shifted = pos - low
        mult = np.where(shifted < 0, -mult, mult)
        shifted = np.abs(shifted)
        extra, flips = np.fmod(shifted, span), np.floor(shifted / span)
        odd = flips % 2 == 1
        pos = np.where(odd, span - extra, extra) + low
        mult = np.where(odd, -mult, mult)
    if padding_mode in ("border", "reflection"):
        clipped = (pos <= 0) | (pos >= n - 1)
        pos, mult = np.clip(pos, 0, n - 1), np.where(clipped, 0, mult)
    return pos.astype(coord.dtype, copy=False), mult.astype(coord.dtype, copy=False)


def _corners(ix, iy, w, h, mode):
    """(x index, y index, weight, d weight/d ix, d weight/d iy, in bounds) per tap."""
    if mode == "nearest":
        cx, cy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        one, zero = np.ones_like(ix), np.zeros_like(ix)
        return [(cx, cy, one, zero, zero, (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h))]
    x0, y0 = np.floor(ix), np.floor(iy)
    taps = []
    for dx in (0, 1):
        wx, sx = (ix - x0, 1) if dx else (x0 + 1 - ix, -1)
        for dy in (0, 1):
            wy, sy = (iy - y0, 1) if dy else (y0 + 1 - iy, -1)
            cx, cy = x0.astype(np.int64) + dx, y0.astype(np.int64) + dy
            inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
            taps.append((cx, cy, wx * wy, sx * wy, wx * sy, inside))
    return taps


class GridSample(Op):
    """z[n, c, i, j] = sum over the taps around grid[n, i, j] of weight * x[n, c, tap]"""

    _backward_name = "GridSampler2DBackward0"  # torch's name

    @staticmethod
    def forward(ctx, x, grid, *, mode, padding_mode, align_corners):
        n, c, h, w = x.shape
        ix, gx = _source_index(grid[..., 0], w, align_corners, padding_mode)
        iy, gy = _source_index(grid[..., 1], h, align_corners, padding_mode)
        batch = np.arange(n).reshape(n, 1, 1)
        out = np.zeros(grid.shape[:3] + (c,), x.dtype)  # (N, Ho, Wo, C)
        taps = _corners(ix, iy, w, h, mode)
        for cx, cy, weight, _, _, inside in taps:
            vals = x[batch, :, np.clip(cy, 0, h - 1), np.clip(cx, 0, w - 1)]
            out += vals * np.where(inside, weight, 0)[..., None]
        ctx.save_for_backward(x)
        ctx.taps, ctx.mults, ctx.batch = taps, (gx, gy), batch
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        n, c, h, w = x.shape
        g = grad.transpose(0, 2, 3, 1)  # (N, Ho, Wo, C)
        need, batch = ctx.needs_input_grad, ctx.batch
        gx_in = np.zeros((n, h, w, c), x.dtype) if need[0] else None
        gix, giy = np.zeros(g.shape[:3], x.dtype), np.zeros(g.shape[:3], x.dtype)
        for cx, cy, weight, dwx, dwy, inside in ctx.taps:
            cyc, cxc = np.clip(cy, 0, h - 1), np.clip(cx, 0, w - 1)
            if need[0]:
                b, yy, xx = np.broadcast_arrays(batch, cyc, cxc)
                keep = np.broadcast_to(inside, b.shape)
                np.add.at(gx_in, (b[keep], yy[keep], xx[keep]), (g * weight[..., None])[keep])
            if need[1]:
                dot = np.where(inside, np.einsum("nijc,nijc->nij", x[batch, :, cyc, cxc], g), 0)
                gix += dot * dwx
                giy += dot * dwy
        g_input = np.ascontiguousarray(gx_in.transpose(0, 3, 1, 2)) if need[0] else None
        g_grid = None
        if need[1]:
            gx, gy = ctx.mults
            g_grid = np.stack([gix * gx, giy * gy], axis=-1).astype(x.dtype, copy=False)
        return g_input, g_grid


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the points of ``grid`` (N, Ho, Wo, 2), whose last
    dimension holds ``x, y`` in [-1, 1] (the corners' centres with ``align_corners``, else
    the corners' outer edges); returns (N, C, Ho, Wo). Differentiable in both.

    ``mode``: ``bilinear`` or ``nearest`` (``bicubic`` and 5-D inputs raise
    ``NotImplementedError``). ``padding_mode``: ``zeros`` (outside reads 0), ``border``
    (clamped to the edge) or ``reflection`` (mirrored at the edges).

    Raises:
        ValueError: an unknown mode or padding mode.
        RuntimeError: ``input`` and ``grid`` of different batch sizes, ranks or dtypes, or
            a grid whose last dimension is not 2.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected {4 if input.dim() == 4 else 5}D input and "
                           f"grid with same number of dimensions, but got {sizes}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {type_name(input._data.dtype)} but found "
                           f"{type_name(grid._data.dtype)}")
    if input.dim() == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    kernel = "grid_sampler_2d_cpu_kernel_impl" if input.dim() == 4 else "grid_sampler3d_cpu"
    check_kernel(input, kernel, FLOATING)
    if input.dim() == 5 or mode == "bicubic":
        raise NotImplementedError(f"grid_sample: {input.dim()}D input with mode {mode!r} is "
                                  f"not supported by ember")
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode,
                            align_corners=bool(align_corners))


for _name in __all__:
    globals()[_name].__module__ = "ember.nn.functional"
del _name
