"""Seeded random chains of view and shape ops for ``test_fuzz_views_oracle.py``.

A chain starts from a contiguous tensor of 1-4 dims (size-1 and size-0 dims included) and
applies 1-5 ops, each a line of code over ``x`` (the tensor so far) and ``T`` (the library).
The generator draws each op's arguments from the shape torch gives the tensor so far, so the
chain is the same for every run of a seed.
"""
from __future__ import annotations

import math
import random

SIZES = [0, 1, 1, 2, 2, 3, 3, 4]


def start(rng: random.Random):
    """A start shape and dtype name."""
    shape = tuple(rng.choice(SIZES[1:] if rng.random() < 0.85 else SIZES)
                  for _ in range(rng.randint(1, 4)))
    return shape, ("complex64" if rng.random() < 0.1 else "float32")


def _dim(rng, nd, extra=0):
    """A dim of a tensor of ``nd`` dims (+ ``extra``), sometimes negative."""
    d = rng.randrange(nd + extra)
    return d - (nd + extra) if rng.random() < 0.3 else d


def _factor(rng, n):
    """``n`` split into two factors ``(a, n // a)``."""
    if n == 0:
        return rng.choice([(0, rng.randint(1, 3)), (rng.randint(1, 3), 0)])
    divisors = [a for a in range(1, n + 1) if n % a == 0]
    a = rng.choice(divisors)
    return a, n // a


def _new_shape(rng, shape):
    """A shape with the same number of elements, with a -1 at times."""
    shape = list(shape)
    kind = rng.choice(["merge", "split", "ones", "flat", "random"])
    if kind == "merge" and len(shape) >= 2:
        i = rng.randrange(len(shape) - 1)
        shape[i:i + 2] = [shape[i] * shape[i + 1]]
    elif kind == "split" and shape:
        i = rng.randrange(len(shape))
        shape[i:i + 1] = list(_factor(rng, shape[i]))
    elif kind == "ones":
        if 1 in shape and rng.random() < 0.5:
            shape.remove(1)
        else:
            shape.insert(rng.randint(0, len(shape)), 1)
    elif kind == "flat":
        shape = [math.prod(shape)]
    else:
        n, shape = math.prod(shape), []
        for _ in range(rng.randint(0, 3)):
            a, n = _factor(rng, n)
            shape.append(a)
        shape.append(n)
        rng.shuffle(shape)
    if shape and rng.random() < 0.4:
        shape[rng.randrange(len(shape))] = -1
    return shape


def _size_arg(rng, shape):
    """``shape`` written as varargs or as one tuple/list."""
    style = rng.randrange(3)
    if style == 0 and shape:
        return ", ".join(map(str, shape))
    return str(tuple(shape)) if style == 1 else str(list(shape))


def _expand_shape(rng, shape):
    lead = [rng.randint(1, 3) for _ in range(rng.randint(0, 4 - len(shape)))] if len(
        shape) < 4 else []
    out = [rng.choice([2, 3]) if n == 1 and rng.random() < 0.7 else
           (-1 if rng.random() < 0.3 else n) for n in shape]
    return lead + out


def _slice(rng, n):
    if rng.random() < 0.15:
        return str(rng.randrange(-n, n)) if n else ":"
    a = rng.choice([None, 0, 1, -1, n])
    b = rng.choice([None, None, -1, 1, n])
    c = rng.choice([None, 1, 2, 3])
    return ":".join("" if v is None else str(v) for v in (a, b, c))


def draw(rng: random.Random, shape: tuple, dtype: str, storage: int) -> str:
    """One op on a tensor ``x`` of ``shape``/``dtype`` (``storage`` elements), as code."""
    nd = len(shape)
    choices = ["view", "view", "reshape", "reshape", "permute", "transpose", "unsqueeze",
               "squeeze", "expand", "narrow", "select", "slice", "movedim", "flatten",
               "unflatten", "unfold", "diagonal", "as_strided", "contiguous", "clone", "split",
               "chunk", "unbind", "tensor_split", "swapaxes", "repeat", "tile", "cat", "stack", "t",
               "mT", "expand_as", "broadcast_to"]
    if dtype == "complex64":
        # (no conj()/mH/adjoint(): ember's conj() is a copy with the conj bit set, not torch's
        # lazy view; a documented difference of ember's ``conj``)
        choices += ["view_as_real", "real", "imag"]
    else:
        choices.append("mH")  # (of a real tensor, mT)
    if dtype != "complex64" and nd and shape[-1] == 2 and math.prod(shape):
        # (not on an empty tensor: torch checks its strides, which NumPy does not keep)
        choices += ["view_as_complex"] * 3
    while True:
        op = rng.choice(choices)
        code = _code(rng, op, shape, nd, storage)
        if code is not None:
            return code


def _code(rng, op, shape, nd, storage):  # noqa: C901  (one branch per op)
    if op in ("view", "reshape"):
        return f"x.{op}({_size_arg(rng, _new_shape(rng, shape))})"
    if op == "permute" and nd:
        perm = list(range(nd))
        rng.shuffle(perm)
        return f"x.permute({_size_arg(rng, perm)})"
    if op in ("transpose", "swapaxes") and nd:
        return f"x.{op}({_dim(rng, nd)}, {_dim(rng, nd)})"
    if op == "t" and nd <= 2:
        return "x.t()"
    if op == "mT" and nd >= 2:
        return "x.mT"
    if op == "unsqueeze" and nd < 4:
        return f"x.unsqueeze({_dim(rng, nd, 1)})"
    if op == "squeeze":
        ones = [d for d, n in enumerate(shape) if n == 1]
        form = rng.randrange(3)
        if form == 0 or not nd:
            return "x.squeeze()"
        d = rng.choice(ones) if ones and rng.random() < 0.7 else rng.randrange(nd)
        if form == 1:
            return f"x.squeeze({d})"
        return f"x.squeeze({tuple(sorted({d, rng.randrange(nd)}))})"
    if op in ("expand", "broadcast_to", "expand_as"):
        new = _expand_shape(rng, shape)
        if op == "expand":
            return f"x.expand({_size_arg(rng, new)})"
        full = [n if s == -1 else s for s, n in zip(new[len(new) - nd:], shape)]
        full = new[:len(new) - nd] + full
        if op == "broadcast_to":
            return f"x.broadcast_to({tuple(full)})"
        return f"x.expand_as(T.zeros({tuple(full)}))"
    if op == "narrow" and nd:
        d = _dim(rng, nd)
        n = shape[d]
        s = rng.randint(0, n)
        return f"x.narrow({d}, {s}, {rng.randint(0, n - s)})"
    if op == "select" and nd and all(shape):
        d = _dim(rng, nd)
        return f"x.select({d}, {rng.randrange(-shape[d], shape[d])})"
    if op == "slice" and nd:
        items = [_slice(rng, n) for n in shape[:rng.randint(1, nd)]]
        if rng.random() < 0.3:
            items = ["...", _slice(rng, shape[-1])]
        if rng.random() < 0.1:
            items.insert(rng.randint(0, len(items)), "None")
        return f"x[{', '.join(items)}]"
    if op == "movedim" and nd:
        if rng.random() < 0.5:
            return f"x.movedim({_dim(rng, nd)}, {_dim(rng, nd)})"
        k = rng.randint(1, nd)
        src, dst = rng.sample(range(nd), k), rng.sample(range(nd), k)
        return f"x.movedim({tuple(src)}, {tuple(dst)})"
    if op == "flatten":
        if not nd or rng.random() < 0.3:
            return "x.flatten()"
        a, b = sorted((rng.randrange(nd), rng.randrange(nd)))
        return f"x.flatten({a}, {b})"
    if op == "unflatten" and nd:
        d = _dim(rng, nd)
        a, b = _factor(rng, shape[d])
        sizes = [a, b] if rng.random() < 0.7 else [a, -1]
        return f"x.unflatten({d}, {tuple(sizes)})"
    if op == "unfold" and nd:
        d = _dim(rng, nd)
        return f"x.unfold({d}, {rng.randint(1, max(shape[d], 1))}, {rng.randint(1, 2)})"
    if op == "diagonal" and nd >= 2:
        d1, d2 = rng.sample(range(nd), 2)
        return f"x.diagonal({rng.randint(-1, 1)}, {d1}, {d2})"
    if op == "as_strided" and storage:
        size = [rng.randint(1, 3) for _ in range(rng.randint(1, 3))]
        stride = [rng.choice([0, 1, 2, 3]) for _ in size]
        reach = sum((n - 1) * s for n, s in zip(size, stride))
        if reach >= storage:
            return None
        offset = rng.randint(0, storage - 1 - reach)
        return f"x.as_strided({tuple(size)}, {tuple(stride)}, {offset})"
    if op == "contiguous":
        return "x.contiguous()"
    if op == "clone":
        fmt = rng.choice(["preserve_format", "contiguous_format", None]
                         + (["channels_last"] if nd == 4 else []))
        return "x.clone()" if fmt is None else f"x.clone(memory_format=T.{fmt})"
    if op in ("split", "chunk", "unbind", "tensor_split") and nd:
        d = _dim(rng, nd)
        n = shape[d]
        if op == "unbind":
            return f"x.unbind({d})[{rng.randrange(n)}]" if n else None
        if op == "split":
            size = rng.randint(1, max(n, 1))
            pieces = max(1, -(-n // size))
            return f"x.split({size}, {d})[{rng.randrange(pieces)}]"
        if op == "chunk":
            k = rng.randint(1, 3)
            return f"x.chunk({k}, {d})[0]" if n == 0 else f"x.chunk({k}, {d})[-1]"
        if rng.random() < 0.5:
            k = rng.randint(1, 3)
            return f"x.tensor_split({k}, {d})[{rng.randrange(k)}]"
        idx = sorted(rng.randint(0, n) for _ in range(2))
        return f"x.tensor_split({idx}, {d})[{rng.randrange(3)}]"
    if op in ("repeat", "tile"):
        count = max(nd, 1) + rng.randint(0, 1) - (op == "tile" and rng.random() < 0.3)
        reps = [rng.randint(1, 2) for _ in range(max(count, 1))]
        return f"x.{op}({_size_arg(rng, reps)})"
    if op == "cat" and nd and not (nd >= 4 and 1 in shape):
        # (not 4-D/5-D with size-1 dims: torch's cat keeps a channels_last(_3d) layout that it
        # reads off the strides of those size-1 dims, which ember does not keep; see below)
        other = rng.choice(["x", "x.clone()", "x.contiguous()"])
        return f"T.cat([x, {other}], {_dim(rng, nd)})"
    if op == "stack" and nd < 4:
        return f"T.stack([x, x], {_dim(rng, nd, 1)})"
    if op == "view_as_real":
        return "T.view_as_real(x)"
    if op == "view_as_complex":
        return "T.view_as_complex(x)"
    if op in ("real", "imag"):
        return f"x.{op}"
    if op == "mH" and nd >= 2:
        return rng.choice(["x.mH", "x.adjoint()"])
    return None
