"""``x[index]`` records torch's chain of nodes: one per select, slice and unsqueeze torch
applies, then one ``IndexBackward0`` for the index tensors (seeded random subscripts; the
chain's names, the values, the gradient and the errors are compared)."""
import random

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _item(rng, size):
    kind = rng.choice(["int", "neg", "slice", "full", "past", "negstart", "none", "list",
                       "mask", "ellipsis", "bool"])
    if kind == "int":
        return str(rng.randrange(size))
    if kind == "neg":
        return str(-rng.randint(1, size))
    if kind == "slice":
        return rng.choice(["1:", ":-1", "::2", "1:2"])
    if kind == "full":
        return rng.choice([":", "0:", f"0:{size}", f":{size}:1"])
    if kind == "past":
        return f":{size + 3}"
    if kind == "negstart":
        return f"-{size}:"
    if kind == "none":
        return "None"
    if kind == "list":
        return str([rng.randrange(size) for _ in range(rng.randint(1, 3))])
    if kind == "mask":
        return "T.tensor(" + str([i == 0 or bool(rng.getrandbits(1)) for i in range(size)]) + ")"
    if kind == "bool":
        return rng.choice(["True", "False"])
    return "..."


def _subscript(rng, shape):
    items, dim, ellipsis = [], 0, False
    for _ in range(rng.randint(2, 4)):
        size = shape[dim] if dim < len(shape) else 2
        item = _item(rng, size)
        if item == "...":
            if ellipsis:
                continue
            ellipsis = True
        elif item not in ("None", "True", "False"):
            dim += 1
        items.append(item)
    return "x[" + ", ".join(items) + "]"


def _chain(t):
    names, fn = [], t.grad_fn
    while fn is not None and type(fn).__name__ != "AccumulateGrad" and \
            "AccumulateGrad" not in fn.name():
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0]
    return names


def _run(T, code, base, weights_seed):
    x = T.tensor(base, requires_grad=True)
    try:
        out = eval(code, {"T": T, "x": x})
    except (IndexError, RuntimeError, ValueError, TypeError) as e:
        return ("error", type(e).__name__, str(e).split("\n")[0])
    w = np.random.default_rng(weights_seed).standard_normal(tuple(out.shape))
    (out * T.tensor(w)).sum().backward()
    return (_chain(out), tuple(out.shape), out.detach().numpy().copy(), x.grad.numpy().copy())


@pytest.mark.parametrize("seed", range(400))
def test_subscript_records_torchs_chain(seed):
    rng = random.Random(seed)
    shape = tuple(rng.randint(2, 4) for _ in range(rng.randint(2, 4)))
    base = np.random.default_rng(seed).standard_normal(shape)
    code = _subscript(rng, shape)
    want = _run(torch, code, base, seed)
    got = _run(ember, code, base, seed)
    if want[0] == "error":
        assert got[:2] == want[:2], code
        return
    assert got[0] == want[0], code
    assert got[1] == want[1], code
    np.testing.assert_array_equal(got[2], want[2], err_msg=code)
    np.testing.assert_allclose(got[3], want[3], rtol=1e-12, atol=1e-12, err_msg=code)


def test_views_in_the_chain_change_the_base_in_place():
    got, want = [], []
    for T, out in ((ember, got), (torch, want)):
        x = T.ones(3, 4, 5, requires_grad=True)
        y = x * 1
        v = y[1:, 2]
        v.mul_(3)
        y.sum().backward()
        out.append((type(v.grad_fn).__name__, x.grad.numpy().tolist()))
    assert got == want
