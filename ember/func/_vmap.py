"""``vmap``: map a function over a batch dimension of its inputs.

NOTE: torch runs ``func`` once on batched tensors; ember calls it once per slice and stacks the
results. The numbers are the same (a Python loop is what vmap means), only slower, and it nests
and composes with the other transforms for free (``vmap(grad(f))`` gives per-sample gradients).
"""
from __future__ import annotations

import functools

from ._pytree import broadcast_prefix, spec_of, tree_flatten, tree_unflatten

_RANDOMNESS = ("error", "different", "same")
_RANDOM_IN_ERROR_MODE = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
    "of vmap")


def _func_name(func) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial(<function {_func_name(func.func)}>, ...)"
    return repr(func)


def check_randomness(randomness):
    """Raise torch's RuntimeError for a ``randomness`` flag it does not know."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


class RandomnessGuard:
    """Applies a vmap ``randomness`` flag around each call of the mapped function.

    ``"error"`` raises torch's error when a call drew from the default generator; ``"same"``
    rewinds the generator before each call so every slice sees the same numbers (as torch's
    single unbatched draw); ``"different"`` lets the slices draw one after another.
    """

    def __init__(self, randomness):
        self.randomness = randomness
        self.start = None

    @staticmethod
    def _state():
        from .._random import get_rng_state

        return get_rng_state()

    @staticmethod
    def _fingerprint():
        """Something that changes whenever the default generator draws: its Mersenne Twister
        position and words (NumPy's public ``state``)."""
        from .. import _random

        g = _random.default_generator
        state = g._mt.state["state"]
        raw = (state["pos"], state["key"].tobytes())
        return id(g._mt), raw, g._normal_cache

    def call(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` under the flag."""
        if self.randomness == "different":
            return fn(*args, **kwargs)
        from .._random import set_rng_state

        if self.randomness == "same":
            if self.start is None:
                self.start = self._state()
            else:
                set_rng_state(self.start)
            return fn(*args, **kwargs)
        before = self._fingerprint()
        out = fn(*args, **kwargs)
        if self._fingerprint() != before:
            raise RuntimeError(_RANDOM_IN_ERROR_MODE)
        return out


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorise ``func`` over a dimension of its inputs (``torch.vmap`` / ``torch.func.vmap``).

    ember's implementation is a correct but simple one: it calls ``func`` once per slice
    along the mapped dimension and stacks the results, where torch runs ``func`` once on
    batched tensors. Values are the same; it nests, takes pytrees of tensors, and composes
    with ``grad``/``jacrev`` (``vmap(grad(loss))`` gives per-sample gradients).

    Args:
        func: the function to map; its positional arguments are pytrees (tuples, lists, dicts)
            of tensors and other values; keyword arguments are passed through unmapped.
        in_dims: the mapped dimension of each input: an int for all of them, or a tuple with
            one entry per positional argument, each an int, None (not mapped) or a pytree
            matching that argument.
        out_dims: where the mapped dimension goes in each output: an int, or a pytree matching
            the outputs; None returns an output that does not depend on the batch as is.
        randomness: ``"error"`` (random ops inside ``func`` raise), ``"different"`` (each
            slice draws its own numbers) or ``"same"`` (every slice sees the same numbers).
            With ``"different"`` the draws are made slice after slice, so the values differ
            from torch's single batched draw (their distribution is the same).
        chunk_size: accepted for torch's API; slices are always computed one by one.

    Returns:
        A function taking the same arguments as ``func`` whose outputs have the batch
        dimension at ``out_dims``.

    Raises:
        ValueError: torch's messages for bad ``in_dims``/``out_dims``, inputs whose mapped
            sizes differ, no mapped tensor, or outputs that are not tensors.
        RuntimeError: an unknown ``randomness``, or a random op under ``randomness="error"``.
    """
    check_randomness(randomness)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return _vmap_call(func, in_dims, out_dims, randomness, args, kwargs)

    return wrapped


def _flat_in_dims(name, in_dims, args):
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to "
                         "be int or a (potentially nested) tuple matching the structure of "
                         f"inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, "
                         "or you are trying to vmap over a function with no inputs. The latter is "
                         "unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_dims = broadcast_prefix(in_dims, args_spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         "compatible with the structure of `inputs`. in_dims has structure "
                         f"{spec_of(in_dims)} but inputs has structure {args_spec}.")
    return flat_args, args_spec, flat_dims


def _batch_size(name, in_dims, flat_args, flat_dims):
    """The common size of the mapped dims, checking every (input, in_dim) pair like torch."""
    from .._tensor import Tensor

    sizes = []
    for arg, d in zip(flat_args, flat_dims):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             "for an input but in_dim must be either an integer dimension or "
                             "None.")
        if not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for an input but the input is of type {type(arg)}. We cannot vmap "
                             "over non-Tensor arguments, please use None as the respective "
                             "in_dim")
        n = arg.dim()
        if not -n <= d < n:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                             f"for some input, but that input is a Tensor of dimensionality {n} "
                             f"so expected in_dim to satisfy -{n} <= in_dim < {n}.")
        sizes.append(arg.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0]


def _vmap_call(func, in_dims, out_dims, randomness, args, kwargs):
    from .. import ops

    name = _func_name(func)
    flat_args, args_spec, flat_dims = _flat_in_dims(name, in_dims, args)
    size = _batch_size(name, in_dims, flat_args, flat_dims)
    if size == 0:
        return _empty_batch(func, name, out_dims, flat_args, args_spec, flat_dims, kwargs)
    # one unbind per mapped input: views, and a single backward node when it requires grad
    columns = [None if d is None else ops.unbind(a, d) for a, d in zip(flat_args, flat_dims)]
    guard = RandomnessGuard(randomness)
    results, out_spec = [], None
    for i in range(size):
        sliced = [a if col is None else col[i] for a, col in zip(flat_args, columns)]
        out = guard.call(func, *tree_unflatten(sliced, args_spec), **kwargs)
        flat_out, spec = tree_flatten(out)
        if out_spec is None:
            out_spec = spec
        elif spec != out_spec:
            raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different "
                             f"structures for different slices ({out_spec} and {spec})")
        results.append(flat_out)
    flat_out_dims = _flat_out_dims(name, out_dims, out_spec)
    outs = [_combine(name, [r[j] for r in results], od) for j, od in enumerate(flat_out_dims)]
    return tree_unflatten(outs, out_spec)


def _flat_out_dims(name, out_dims, out_spec):
    if not isinstance(out_dims, (int, tuple)) and out_dims is not None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                         f"None or a python collection of ints representing where in the "
                         f"outputs the vmapped dimension should appear.")
    flat = broadcast_prefix(out_dims, out_spec)
    if flat is None:
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         "compatible with the structure of `outputs`. out_dims has structure "
                         f"{spec_of(out_dims)} but outputs has structure {out_spec}.")
    return flat


def _same_for_all(values) -> bool:
    """Whether every slice returned the same thing (an unbatched output)."""
    first = values[0]
    if all(v is first for v in values):
        return True
    from .._tensor import Tensor

    if not all(isinstance(v, Tensor) and v.shape == first.shape for v in values):
        return False
    a = first.detach().numpy()
    return all((v.detach().numpy() == a).all() for v in values[1:])


def _combine(name, values, out_dim):
    from .. import ops
    from .._tensor import Tensor

    if out_dim is None:
        if isinstance(values[0], Tensor) and not _same_for_all(values):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when "
                             "out_dim is None")
        return values[0]
    if not isinstance(values[0], Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                         f"{type(values[0])}. Did you mean to set out_dims= to None for output?")
    return ops.stack(list(values), dim=out_dim)


def _empty_batch(func, name, out_dims, flat_args, args_spec, flat_dims, kwargs):
    """A batch of size 0: ``func`` runs once on zeros (under no_grad, with the generator
    state restored) only to learn the output shapes, and empty outputs are returned."""
    from .. import _creation
    from ..autograd.grad_mode import no_grad
    from ..random import fork_rng

    sliced = []
    for a, d in zip(flat_args, flat_dims):
        if d is None:
            sliced.append(a)
        else:
            shape = list(a.shape)
            del shape[d]
            sliced.append(_creation.zeros(*shape, dtype=a.dtype))
    with no_grad(), fork_rng():
        out = func(*tree_unflatten(sliced, args_spec), **kwargs)
    flat_out, out_spec = tree_flatten(out)
    outs = []
    for value, od in zip(flat_out, _flat_out_dims(name, out_dims, out_spec)):
        if od is None:
            outs.append(value)
            continue
        stacked = _combine(name, [value], od)  # checks the type and the dim like the loop
        shape = list(stacked.shape)
        shape[od] = 0
        outs.append(_creation.empty(*shape, dtype=value.dtype))
    return tree_unflatten(outs, out_spec)
