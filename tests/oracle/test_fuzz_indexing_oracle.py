"""Seeded differential fuzzer: ``x[idx]``, ``x[idx] = v`` and the index ops (gather, scatter*,
index_*, masked_*, take*, put_, nonzero) in ember against torch.

Each draw is a random tensor of 1-4 dims and a random index (ints, slices with steps, None,
``...``, bool masks, int64/int32 index tensors with duplicates and negatives that broadcast,
lists, 0-d tensors) or op arguments; both libraries run it and must give the same values,
shape, dtype, view-ness (a write through the result shows in ``x`` or not), gradients, or
the same error type and message. A failure prints the case as Python.
"""
import numpy as np
import pytest

from tests.oracle import _fuzz_index_cases as fz

torch = pytest.importorskip("torch")

DTYPES = ["float32"] * 5 + ["float64", "int64", "bool"]


def _shape(rng, max_dims=4, max_size=4):
    ndim = int(rng.integers(1, max_dims + 1))
    return tuple(int(rng.integers(0 if rng.random() < 0.05 else 1, max_size + 1))
                 for _ in range(ndim))


def _array(rng, shape, dtype):
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype == "int64":
        return np.asarray(rng.integers(-5, 6, size=shape))
    return np.asarray(rng.standard_normal(shape)).astype(dtype)


def _report(fails, total):
    assert not fails, f"{len(fails)} of {total} cases differ ({fz.WEIGHT_NOTE}):\n" + "\n".join(
        fails[:15])


def _getitem(desc):
    def fn(lib, x):
        y = x[fz.build(lib, desc)]
        x2 = x.clone()
        y2 = x2[fz.build(lib, desc)]
        if y2.dtype == lib.bool:
            y2.logical_not_()
        else:
            y2.add_(100)
        return y, lib.tensor(y._base is not None), x2
    return fn


def _getitem_grad(desc):
    def fn(lib, x):
        y = x[fz.build(lib, desc)]
        return y, lib.tensor(y._base is not None)
    return fn


def _setitem(desc, value, view=False):
    def fn(lib, x, *v):
        x2 = x.clone()
        target = x2.permute(*range(x2.dim() - 1, -1, -1)) if view else x2
        target[fz.build(lib, desc)] = v[0] if v else value
        return x2
    return fn


def _setitem_grad(desc):
    def fn(lib, x, v):
        x2 = x * 1
        x2[fz.build(lib, desc)] = v
        return x2
    return fn


def _values(rng, tshape, dtype):
    """Values to write into a region of shape ``tshape``: scalars, 0-d tensors, the full
    shape or one that broadcasts, of the same or another dtype."""
    r = rng.random()
    if r < 0.25:
        return [1.5, -2, True, 7][rng.integers(0, 4)], None
    vdtype = dtype if rng.random() < 0.6 else DTYPES[rng.integers(0, len(DTYPES))]
    shape = () if r < 0.4 else tshape if r < 0.75 else fz._bshape(rng, tshape)
    if r > 0.95 and shape:  # one that does not broadcast
        shape = shape[:-1] + (shape[-1] + 1,)
    return None, _array(rng, shape, vdtype)


@pytest.mark.parametrize("seed", range(4))
def test_getitem_matches_torch(seed):
    rng = np.random.default_rng(1000 + seed)
    fails, total = [], 150
    for _ in range(total):
        shape = _shape(rng)
        dtype = DTYPES[rng.integers(0, len(DTYPES))]
        x = _array(rng, shape, dtype)
        desc = fz.rand_index(rng, shape)
        d = fz.compare(torch, _getitem(desc), [x])
        if d:
            fails.append(f"x{list(shape)} {dtype} [{fz.show(desc)}]: {d}")
    _report(fails, total)


@pytest.mark.parametrize("seed", range(4))
def test_getitem_gradient_matches_torch(seed):
    rng = np.random.default_rng(2000 + seed)
    fails, total = [], 100
    for _ in range(total):
        shape = _shape(rng)
        x = _array(rng, shape, "float64")
        desc = fz.rand_index(rng, shape)
        d = fz.compare(torch, _getitem_grad(desc), [x], grad=(0,))
        if d:
            fails.append(f"x{list(shape)} [{fz.show(desc)}]: {d}")
    _report(fails, total)


def _region(desc, shape):
    """torch's ``x[desc]`` shape and whether it picks some element twice (None: an error)."""
    x = torch.arange(int(np.prod(shape))).reshape(shape)
    try:
        y = x[fz.build(torch, desc)]
    except (IndexError, RuntimeError, TypeError, ValueError):
        return None, None
    return tuple(y.shape), y.unique().numel() < y.numel()


@pytest.mark.parametrize("seed", range(4))
def test_setitem_matches_torch(seed):
    rng = np.random.default_rng(3000 + seed)
    fails, total = [], 120
    for _ in range(total):
        shape = _shape(rng)
        dtype = DTYPES[rng.integers(0, len(DTYPES))]
        view = rng.random() < 0.25  # x is then a transposed view; its base is compared
        x = _array(rng, shape[::-1] if view else shape, dtype)
        desc = fz.rand_index(rng, shape)
        tshape, dup = _region(desc, shape)
        if tshape is None:
            continue
        value, arr = _values(rng, tshape, dtype)
        if dup and arr is not None and arr.size > 1:  # which write wins is undefined in torch
            arr = arr.reshape(-1)[:1].reshape(())
        fn = _setitem(desc, value, view)
        d = fz.compare(torch, fn, [x] + ([] if arr is None else [arr]))
        if d:
            what = repr(value) if arr is None else f"{arr.dtype}{list(arr.shape)}"
            fails.append(f"x{list(shape)}{' view' * view} {dtype} [{fz.show(desc)}] = {what}: {d}")
    _report(fails, total)


@pytest.mark.parametrize("seed", range(3))
def test_setitem_gradients_match_torch(seed):
    rng = np.random.default_rng(4000 + seed)
    fails, total = [], 80
    for _ in range(total):
        shape = _shape(rng)
        x = _array(rng, shape, "float64")
        desc = fz.rand_index(rng, shape)
        tshape, _ = _region(desc, shape)
        if tshape is None:
            continue
        vshape = () if rng.random() < 0.3 else tshape if rng.random() < 0.6 else fz._bshape(
            rng, tshape)
        v = _array(rng, vshape, "float64")
        if rng.random() < 0.2:  # a Python number: only x needs a gradient
            d = fz.compare(torch, _setitem(desc, -0.5), [x], grad=(0,))
        else:
            d = fz.compare(torch, _setitem_grad(desc), [x, v], grad=(0, 1))
        if d:
            fails.append(f"x{list(shape)} [{fz.show(desc)}] = v{list(vshape)}: {d}")
    _report(fails, total)


@pytest.mark.parametrize("seed", range(2))
def test_bad_index_errors_match_torch(seed):
    rng = np.random.default_rng(5000 + seed)
    fails, total = [], 100
    for _ in range(total):
        shape = _shape(rng, max_dims=3)
        x = _array(rng, shape, "float32")
        desc = fz.rand_bad_index(rng, shape)
        for name, fn in (("get", lambda lib, x, desc=desc: x[fz.build(lib, desc)]),
                         ("set", _setitem(desc, 1.0))):
            d = fz.compare(torch, fn, [x])
            if d:
                fails.append(f"{name} x{list(shape)} [{fz.show(desc)}]: {d}")
    _report(fails, total * 2)


@pytest.mark.parametrize("seed", range(4))
def test_index_ops_match_torch(seed):
    rng = np.random.default_rng(6000 + seed)
    fails, total = [], 150
    for _ in range(total):
        text, fn, arrays, grad = fz.rand_op_case(rng)
        d = fz.compare(torch, fn, arrays, grad)
        if d:
            shapes = [f"{a.dtype}{list(a.shape)}" for a in arrays]
            fails.append(f"{text} on {shapes} {[a.tolist() for a in arrays[1:]]}: {d}")
    _report(fails, total)


def _set(x, index, v):
    x = x * 1 if x.requires_grad else x.clone()
    x[index] = v
    return x


# the fuzzer's findings, each minimised: (shapes of float64 inputs, call, inputs needing grad)
REGRESSIONS = {
    "0-d int tensor selects: a view": ([(3, 4)], lambda m, x: _getitem(("bare", ("t0", np.array(
        1), "int32")))(m, x), ()),
    "True is a copy with a new dim": ([(3, 4)], lambda m, x: _getitem(
        (("ell",), ("bool", True)))(m, x), ()),
    "True, int, index tensor": ([(3, 4)], lambda m, x: x[True, 1, m.tensor([2, 0, 2])], (0,)),
    "0-d tensors and True: gradient": ([(2, 2, 3, 1)], lambda m, x: x[
        -1:3:3, m.tensor(0), 1, True, None, m.tensor(-1)], (0,)),
    "int, 0-d tensor, True": ([(4, 4, 4, 4)], lambda m, x: x[0, m.tensor(-1), True], (0,)),
    "... for no dims keeps index tensors adjacent": ([(2, 3, 3, 2)], lambda m, x: x[
        :, m.tensor([1]), m.tensor([-3]), ..., m.tensor([1])], (0,)),
    "int16 index refused": ([(3,)], lambda m, x: x[m.tensor([0, 1], dtype=m.int16)], ()),
    "index tensor out of range names its place": ([(2, 3)], lambda m, x: x[
        :, m.tensor([3])], ()),
    "int out of range names its place in the index": ([(2, 3, 4)], lambda m, x: x[None, 0, 9],
                                                      ()),
    "index into a dim of size 0": ([(0, 2)], lambda m, x: x[m.tensor([0])], ()),
    "out of range into an empty result": ([(4, 0)], lambda m, x: x[m.tensor([2, 4, 4])], ()),
    "set out of range into an empty result": ([(1, 4, 0)], lambda m, x: _set(
        x, (slice(None), m.tensor([5, 2])), 1.0), ()),
    "shape mismatch in torch's words": ([(3, 4, 2)], lambda m, x: x[
        m.tensor([[0, 1], [1, 0]]), m.tensor([[True, True], [True, True], [False, True],
                                              [True, True]])], ()),
    "mask mismatch against the sliced shape": ([(4, 1, 4, 1)], lambda m, x: x[
        0:3, ..., -1, m.tensor([False, False, True, False])], ()),
    "set another dtype at an index tensor": ([(3,)], lambda m, x: _set(
        x, m.tensor([0]), m.tensor([1])), ()),
    "set one value of another dtype under a mask": ([(3,)], lambda m, x: _set(
        x, m.tensor([True, False, True]), m.tensor(2)), ()),
    "set at False writes nothing": ([(3, 2)], lambda m, x: _set(x, False, m.ones(5)), ()),
    "set at (False,) checks the shape": ([(3, 2)], lambda m, x: _set(
        x, (False,), m.ones(5, dtype=m.float64)), ()),
    "set at int, False": ([(4,), ()], lambda m, x, v: _set(x, (3, False), v), (0, 1)),
    "set at True, int, mask": ([(2, 4, 2), ()], lambda m, x, v: _set(
        x, (True, -2, m.ones(4, 2, dtype=m.bool)), v), (0, 1)),
    "set at int, mask, True": ([(4, 1, 4, 2), (1, 2)], lambda m, x, v: _set(
        x, (3, m.tensor([[False, False, True, False]]), True), v), (0, 1)),
    "set at ..., None, int, False": ([(1, 2, 2), (1, 2, 1, 0)], lambda m, x, v: _set(
        x, (..., None, 0, False), v), (0, 1)),
    "index_put accumulate, values broadcast": ([(4,), (3,)], lambda m, x, v: m.index_put(
        x, (m.tensor([[-4, -1, -1], [2, 3, 2]], dtype=m.int32),), v, accumulate=True), (0, 1)),
    "index_select of nothing": ([(2, 3)], lambda m, x: m.index_select(
        x, 1, m.tensor([], dtype=m.int64)), (0,)),
    "index_select out of range in dim 1": ([(2, 3, 4)], lambda m, x: x.index_select(
        1, m.tensor([0, 9])), ()),
    "index_select out of range in dim 2": ([(2, 3, 4)], lambda m, x: x.index_select(
        2, m.tensor([9])), ()),
    "index_add out of range, alpha 2": ([(2, 4), (1, 4)], lambda m, x, s: x.index_add(
        0, m.tensor([7]), s, alpha=2), ()),
    "index_add out of range, int32 index": ([(2, 4), (1, 4)], lambda m, x, s: x.index_add(
        0, m.tensor([7], dtype=m.int32), s), ()),
    "take_along_dim without dim: a gather": ([(2, 3)], lambda m, x: m.take_along_dim(
        x, m.tensor([[5, 0, 5]])), (0,)),
    "take_along_dim without dim, negative index": ([(4,)], lambda m, x: m.take_along_dim(
        x, m.tensor([-1])), ()),
}


@pytest.mark.parametrize("name", REGRESSIONS)
def test_fuzzer_findings_match_torch(name):
    shapes, fn, grad = REGRESSIONS[name]
    rng = np.random.default_rng(7)
    d = fz.compare(torch, fn, [rng.standard_normal(s) for s in shapes], grad)
    assert d is None, f"{name}: {d}"
