"""``x[index]`` with index tensors has torch's memory layout: the strides of every dim of
more than one element, contiguity, and whether ``.view(-1)`` works (seeded random indices
over contiguous, transposed, permuted and sliced sources)."""
import random

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _source(rng, T):
    shape = [rng.randint(2, 4) for _ in range(rng.randint(2, 4))]
    base = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    perm = list(range(len(shape)))
    rng.shuffle(perm)
    step = rng.choice([1, 1, 2])
    code = f"T.tensor(base).permute({perm})"
    if step == 2:
        code += "[::2]" if shape[perm[0]] > 2 else ""
    return base, code


def _index(rng, ndim, shapes):
    """A random subscript for a tensor of ``ndim`` dims, holding at least one index list."""
    items, used = [], 0
    while used < ndim:
        kind = rng.choice(["slice", "slice", "int", "list", "list2d", "mask", "none"])
        size = shapes[used]
        if kind == "slice":
            items.append(rng.choice([":", "1:", "::2", ":-1"]))
            used += 1
        elif kind == "int":
            items.append(str(rng.randrange(size)))
            used += 1
        elif kind == "list":
            items.append(str([rng.randrange(size) for _ in range(rng.randint(1, 3))]))
            used += 1
        elif kind == "list2d":
            rows = rng.randint(1, 2)
            items.append(str([[rng.randrange(size) for _ in range(2)] for _ in range(rows)]))
            used += 1
        elif kind == "mask":
            items.append("T.tensor(" + str([bool(rng.getrandbits(1)) or i == 0
                                             for i in range(size)]) + ")")
            used += 1
        else:
            items.append("None")
    if not any(i.startswith("[") or i.startswith("T.") for i in items):
        items[rng.randrange(len(items))] = "[0]" if items else "[0]"
    if rng.random() < 0.2:
        items.insert(rng.randrange(len(items) + 1), "...")
    return "[" + ", ".join(items) + "]"


def _layout(t):
    strides = [s for s, n in zip(t.stride(), t.shape) if n > 1]
    try:
        viewed = tuple(t.view(-1).shape)
    except RuntimeError:
        viewed = None
    return tuple(t.shape), strides, t.is_contiguous(), viewed


@pytest.mark.parametrize("seed", range(300))
def test_advanced_index_result_has_torchs_layout(seed):
    rng = random.Random(seed)
    base, src = _source(rng, torch)
    x_t = eval(src, {"T": torch, "base": base})
    index = _index(rng, x_t.ndim, list(x_t.shape))
    code = f"x{index}"
    try:
        want = eval(code, {"T": torch, "x": x_t})
    except (IndexError, RuntimeError):
        return  # (errors are the indexing fuzzer's business)
    for requires_grad in (False, True):
        x_e = eval(src, {"T": ember, "base": base})
        if requires_grad:
            x_e = x_e.clone().requires_grad_()
            x_t2 = x_t.clone().requires_grad_()
            want = eval(code, {"T": torch, "x": x_t2})
        got = eval(code, {"T": ember, "x": x_e})
        assert _layout(got) == _layout(want), (src, code, requires_grad)
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())


def test_leading_slice_then_index_list_views_like_torch():
    x = ember.arange(24.).reshape(2, 3, 4)
    picked = x[:, [0, 2]]
    assert picked.stride() == (8, 4, 1)
    assert picked.view(-1).tolist() == torch.arange(24.).reshape(2, 3, 4)[:, [0, 2]] \
        .view(-1).tolist()
