"""Random tensors: rand/randn/randint/randperm (and their _like forms), normal, bernoulli,
multinomial, poisson. Draws come from ``ember.Generator`` through torch's algorithms
(``_sampling``; poisson's through ``distributions._samplers``), so seeded runs give
torch's numbers."""
from __future__ import annotations

import math

import numpy as np

from . import _arg_errors, _sampling
from ._creation import _finish, _np_dtype, _size, _with_out, checked_value
from ._layout import check_layout
from ._random import Generator, _gen
from ._tensor import Tensor, _wrap
from .autograd.function import Op


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    """Uniform [0, 1) numbers with ``input``'s shape and dtype."""
    if layout is not None:
        check_layout(layout)
    return rand(input.shape, dtype=dtype or input.dtype, device=device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    """Standard normal numbers with ``input``'s shape and dtype."""
    if layout is not None:
        check_layout(layout)
    return randn(input.shape, dtype=dtype or input.dtype, device=device,
                 requires_grad=requires_grad, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    """Random integers with ``input``'s shape (and dtype, unless ``dtype`` says)."""
    if layout is not None:
        check_layout(layout)
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device,
                   requires_grad=requires_grad, generator=generator)


def _float_dtype(dtype, kernel):
    """The NumPy dtype of a float-only sampler; torch's error for the others."""
    d = np.dtype(_np_dtype(dtype))
    if d.kind != "f":
        from .ops._shape_utils import type_name

        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(d)}'")
    return d


def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         out=None, **kw):
    """Uniform numbers in [0, 1)."""
    if layout is not None:
        check_layout(layout)
    size = _size_kw(size, kw)
    if out is not None:
        return _with_out("rand", lambda d: rand(*size, generator=generator, dtype=d), dtype, out)
    shape = _size(size, "rand")
    if np.dtype(_np_dtype(dtype)).kind == "c":  # torch draws the real and imaginary parts
        real = _real_of(dtype)
        arr = _sampling.uniform(_gen(generator), shape + (2,), real)
        return _finish(_as_complex(arr, shape, dtype), requires_grad, device)
    d = _float_dtype(dtype, "check_uniform_bounds")
    arr = _sampling.uniform(_gen(generator), shape, d)
    return _finish(arr, requires_grad, device)


def _real_of(dtype):
    return np.dtype(_np_dtype(dtype)).type(0).real.dtype


def _as_complex(arr, shape, dtype):
    """Pairs of real draws (in torch's order: real, imaginary) as complex numbers."""
    return np.ascontiguousarray(arr).reshape(shape + (2,)).view(_np_dtype(dtype))[..., 0]


def _size_kw(size, kw):
    from ._creation import _size_arg

    return _size_arg(size, kw.pop("size", None))


def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          out=None, **kw):
    """Standard normal numbers."""
    if layout is not None:
        check_layout(layout)
    size = _size_kw(size, kw)
    if out is not None:
        return _with_out("randn", lambda d: randn(*size, generator=generator, dtype=d), dtype,
                         out)
    shape = _size(size, "randn")
    if np.dtype(_np_dtype(dtype)).kind == "c":  # each part has variance 1/2, as in torch
        real = _real_of(dtype)
        arr = _sampling.normal(_gen(generator), shape + (2,), real, std=1 / math.sqrt(2))
        return _finish(_as_complex(arr, shape, dtype), requires_grad, device)
    d = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _sampling.normal(_gen(generator), shape, d).reshape(shape)
    return _finish(arr, requires_grad, device)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None,
            device=None, requires_grad=False, out=None):
    """Random integers in [low, high); int64 by default."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("randint", lambda d: randint(low, high, size, generator=generator,
                                                      dtype=d), dtype, out)
    if size is None:
        if isinstance(high, (tuple, list, Tensor)):
            low, high, size = 0, low, high
        elif high is not None:
            raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                            f"{type(high).__name__}")
        else:
            raise TypeError("randint() missing required argument 'size'")
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):  # torch's refusals
        if high is None:
            raise TypeError("randint(): argument 'size' must be tuple of ints, not int")
        raise TypeError("randint() received an invalid combination of arguments - got (int, "
                        "int, int), but expected one of:")
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    d = np.dtype(_np_dtype(dtype, np.dtype(np.int64)))
    if d.kind in "iu":
        info = np.iinfo(d)
        for label, v in (("from", low), ("to - 1", high - 1)):
            if not info.min <= v <= info.max:
                raise RuntimeError(f"{label} is out of bounds for {_C_TYPES.get(d.name, d.name)}")
    shape = _size((size,))
    arr = _sampling.integers(_gen(generator), int(np.prod(shape, dtype=np.int64)), int(low),
                             int(high), d).reshape(shape)
    return _finish(arr, requires_grad, device)


_C_TYPES = {"int8": "signed char", "uint8": "unsigned char", "int16": "short int", "int32": "int",
            "int64": "long"}


def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             out=None):
    """A random permutation of 0..n-1 (int64)."""
    if layout is not None:
        check_layout(layout)
    if out is not None:
        return _with_out("randperm", lambda d: randperm(n, generator=generator, dtype=d),
                         dtype, out)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = np.dtype(_np_dtype(dtype, np.dtype(np.int64)))
    if d == np.bool_:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if n:
        checked_value(n - 1, d)  # torch's overflow error when n - 1 does not fit
    arr = _sampling.randperm(_gen(generator), n)
    return _finish(arr.astype(_np_dtype(dtype, np.dtype(np.int64))), requires_grad, device)


class Sampled(Op):
    """z = a draw already made (``out``); gradients as torch's samplers give them: normal's
    reach mean (1) and std (the standard draw ``eps``), bernoulli's and poisson's are 0"""

    @staticmethod
    def forward(ctx, *inputs, out, name, eps=None):
        ctx.show_as(name)
        ctx.shapes, ctx.eps = [np.shape(x) for x in inputs], eps
        return out

    @staticmethod
    def backward(ctx, grad):
        from .ops._shape_utils import sum_to_shape

        if ctx.eps is None:  # bernoulli, poisson: zero
            return np.zeros(ctx.shapes[0], grad.dtype)
        gm = sum_to_shape(grad, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[1]:
            gs = sum_to_shape((grad * ctx.eps).astype(grad.dtype, copy=False), ctx.shapes[1])
        return gm, gs


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False):
    """Normal numbers; ``mean`` and ``std`` may be tensors (broadcast, and differentiable) or
    numbers with ``size``."""
    if layout is not None:
        check_layout(layout)
    t_mean, t_std = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (t_mean or t_std) and size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, "
                        "float), but expected a Tensor mean or std, or a size")
    if (t_mean or t_std) and size is not None:
        raise TypeError("normal() received an invalid combination of arguments - got a Tensor "
                        "and size=, but expected (Tensor mean, Tensor std) without size")
    m = mean._data if t_mean else mean
    s = std._data if t_std else std
    for x in (m, s):
        if isinstance(x, np.ndarray) and x.dtype.kind != "f":
            from .ops._shape_utils import type_name

            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                      f"'{type_name(x.dtype)}'")
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s:g}" if not t_std else
                           "normal expects all elements of std >= 0.0")
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    ref = mean if t_mean else std if t_std else None
    d = ref._data.dtype if ref is not None and dtype is None else _np_dtype(dtype)
    # torch: normal_(mean, std) for two numbers, normal_(0, std) + mean for a number std,
    # else normal_(0, 1) * std + mean (normal_ fuses its multiply-add)
    eps = _sampling.normal(_gen(generator), shape, d, 0.0 if t_mean or t_std else m,
                           1.0 if t_std else s).reshape(shape)
    arr = (m + s * eps if t_std else eps + m if t_mean else eps).astype(d)
    if (t_mean and mean.requires_grad) or (t_std and std.requires_grad):
        name = "NormalBackward3" if t_mean and t_std else \
            "NormalBackward1" if t_mean else "NormalBackward2"
        args = (mean, std) if t_mean and t_std else (mean, None) if t_mean else (None, std)
        return Sampled.apply(*args, out=arr, name=name, eps=eps.astype(d))
    return _finish(arr, requires_grad, device)


def bernoulli(input, p=None, *, generator=None):
    """0/1 draws with probabilities ``input`` (or ``p``)."""
    if input._data.dtype.kind != "f":
        from .ops._shape_utils import type_name

        raise NotImplementedError("\"bernoulli_tensor_cpu_p_\" not implemented for "
                                  f"'{type_name(input._data.dtype)}'")
    if p is not None and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    prob = input._data if p is None else np.full(input.shape, p)
    if np.any((prob < 0) | (prob > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    arr = _sampling.bernoulli(_gen(generator), np.asarray(prob), input._data.dtype)
    if input.requires_grad:
        return Sampled.apply(input, out=arr, name="BernoulliBackward0")
    return _wrap(arr)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the rows of ``input`` (non-negative weights)."""
    if input._data.dtype.kind != "f":
        from .ops._shape_utils import type_name

        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{type_name(input._data.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    p = input._data
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    rows = p.reshape(-1, p.shape[-1])
    if np.any(rows < 0) or not np.all(np.isfinite(rows)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    sums = rows.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    out = _sampling.multinomial(_gen(generator), rows, num_samples, replacement)
    return _wrap(out.reshape(p.shape[:-1] + (num_samples,)))


def poisson(input, generator=None):
    """Poisson draws with rates ``input``, in ``input``'s dtype: torch's CPU sampler
    (``sample_poisson``) element by element in C order, so seeded draws are torch's.

    Raises:
        NotImplementedError: ``input`` is not floating point.
        RuntimeError: a rate is negative or nan (found as the draws reach it, as in torch).
    """
    from .distributions._samplers import poisson as sample_poisson

    if generator is not None and not isinstance(generator, Generator):
        raise _arg_errors.must_be("poisson", "generator", 2, "torch.Generator", generator)
    x = input._data
    if x.dtype.kind != "f":
        from .ops._shape_utils import type_name

        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{type_name(x.dtype)}'")
    arr = sample_poisson(_gen(generator), x)
    if input.requires_grad:
        return Sampled.apply(input, out=arr, name="PoissonBackward0")
    return _wrap(arr)
