"""ember's differentiable ops, grouped by family; each name mirrors the torch function."""
from .compare import (allclose, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, equal,  # noqa: F401
                      ge, gt, isclose, isin, le, logical_and, logical_not, logical_or,
                      logical_xor, lt, ne)
from .elementwise import (abs, absolute, add, addcdiv, addcmul, ceil, clamp, clamp_max,  # noqa: F401
                          clamp_min, clip, clone, cos, div, divide, exp, expm1, float_power,
                          floor, floor_divide, fmax, fmin, fmod, gelu, isfinite, isinf, isnan,
                          lerp, log, log1p, log2, log10, maximum, minimum, mul, multiply,
                          nan_to_num, neg, negative, pow, reciprocal, relu, remainder, round,
                          rsqrt, rsub, sigmoid, sign, silu, sin, softplus, sqrt, square, sub,
                          subtract, tan, tanh, to_dtype, true_divide, trunc, where)
from .indexing import (argsort, bucketize, gather, getitem, index_add, index_put,  # noqa: F401
                       index_select, kthvalue, masked_fill, masked_select, narrow, nonzero,
                       normalize_index, one_hot, scatter, scatter_add, searchsorted, select,
                       sort, take_along_dim, topk)
from .linalg import addmm, bmm, dot, einsum, linear, matmul, mm, outer  # noqa: F401
from .reduce import (all, amax, amin, any, argmax, argmin, count_nonzero, cumprod,  # noqa: F401
                     cumsum, log_softmax, logsumexp, max, mean, min, norm, prod, softmax, std,
                     std_mean, sum, var, var_mean)
from .shape import (atleast_1d, broadcast_to, cat, chunk, concat, concatenate, expand,  # noqa: F401
                    expand_as, flatten, flip, hstack, movedim, permute, ravel, repeat, reshape,
                    reshape_as, roll, split, squeeze, stack, swapaxes, swapdims, t,
                    tensor_split, transpose, tril, triu, unbind, unflatten, unsqueeze, view,
                    view_as, vstack)
