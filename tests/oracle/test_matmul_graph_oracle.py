"""``matmul`` records torch's graph node for node (ATen's ``_matmul_impl``): the same node
names, ``next_functions`` (recursively, down to which leaf each ``AccumulateGrad`` holds), the
same values, gradients and second derivatives, saved tensors and errors, for operands of
every rank, layout (contiguous, batch- or matrix-transposed, strided, expanded),
broadcasting, size-1 and size-0 dims, and each choice of operands requiring grad."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LIBS = (ember, torch)


def _graph(fn, leaves):
    """The graph under ``fn`` as nested tuples: name and edges, a leaf by its position."""
    if fn is None:
        return None
    name = type(fn).__name__
    if name == "AccumulateGrad":
        return ("AccumulateGrad", [i for i, t in enumerate(leaves) if fn.variable is t])
    return (name, tuple((_graph(f, leaves), nr) for f, nr in fn.next_functions))


def _make(T, arr, layout, rg, dtype=None):
    """A leaf holding ``arr`` with the strides ``layout`` names (the same in both libs)."""
    dt = dtype or (T.float64 if arr.dtype == np.float64 else T.float32)
    if layout == "c":
        t = T.tensor(arr.copy(), dtype=dt)
    elif layout == "bt":  # the first two dims swapped in memory
        t = T.tensor(arr.swapaxes(0, 1).copy(), dtype=dt).transpose(0, 1)
    elif layout == "mt":  # the last two dims swapped in memory
        t = T.tensor(arr.swapaxes(-1, -2).copy(), dtype=dt).transpose(-1, -2)
    elif layout == "step":  # every other element of the last dim
        t = T.tensor(np.repeat(arr, 2, axis=-1), dtype=dt)[..., ::2]
    else:  # "exp": dim 0 expanded from size 1 (stride 0)
        t = T.tensor(arr[:1].copy(), dtype=dt).expand(*arr.shape)
    return t.detach().requires_grad_(rg)


def _values(arr, layout):
    return np.broadcast_to(arr[:1], arr.shape).copy() if layout == "exp" else arr


def _layouts(shape):
    out = ["c", "step"]
    if len(shape) >= 2:
        out += ["bt", "mt"]
        if shape[0] > 1:
            out.append("exp")
    return out


_RG = ((True, False), (False, True), (True, True))

# every kernel path: fold (x larger, y larger, with x.t()), bmm, squeezed batch of one,
# broadcast batches, size-1 and size-0 dims, and shapes that do not fit
PAIRS = [
    ((5,), (5, 4)), ((5,), (2, 5, 4)), ((5,), (2, 2, 5, 4)), ((5,), (1, 5, 4)), ((5,), (2, 5, 1)),
    ((3, 5), (2, 5, 4)), ((3, 5), (1, 5, 4)), ((3, 5), (2, 2, 5, 4)), ((1, 5), (2, 5, 4)),
    ((3, 5), (2, 5, 1)), ((2, 3, 5), (5,)), ((2, 3, 5), (5, 4)), ((2, 2, 3, 5), (5, 4)),
    ((1, 3, 5), (5, 4)), ((2, 1, 5), (5, 4)), ((2, 3, 5), (5, 1)), ((2, 1, 3, 5), (5,)),
    ((2, 3, 5), (2, 5, 4)), ((2, 3, 5), (1, 5, 4)), ((1, 3, 5), (2, 5, 4)),
    ((1, 3, 5), (1, 5, 4)), ((2, 3, 5), (2, 2, 5, 4)), ((2, 2, 3, 5), (2, 5, 4)),
    ((2, 1, 3, 5), (1, 2, 5, 4)), ((2, 2, 3, 5), (1, 5, 4)), ((1, 1, 5), (2, 5, 1)),
    ((0, 3, 5), (5, 4)), ((2, 0, 5), (2, 5, 4)), ((2, 3, 0), (0, 4)), ((5,), (0, 5, 4)),
    ((3, 5), (2, 5, 0)), ((2, 3, 5), (0, 5, 4)),
    ((2, 3, 5), (4, 4)), ((3, 5), (2, 4, 3)), ((5,), (2, 4, 3)), ((2, 3, 5), (4,)),
    ((2, 3, 5), (2, 4, 4)), ((2, 3, 5), (3, 5, 4)), ((1, 3, 5), (2, 4, 4)),
]


def _run(T, a, b, lx, ly, rx, ry, dtype=None):
    x, y = _make(T, a, lx, rx, dtype), _make(T, b, ly, ry, dtype)
    try:
        out = T.matmul(x, y)
    except RuntimeError as e:
        return ("error", str(e)), x, y, None
    rec = (_graph(out.grad_fn, [x, y]), tuple(out.shape), out._version, out.is_contiguous(),
           out.stride() if out.numel() else None, out._base is None)
    return rec, x, y, out


@pytest.mark.parametrize("xs, ys", PAIRS, ids=lambda s: "x".join(map(str, s)))
def test_graph_matches_torch_for_every_layout_and_requires_grad(xs, ys):
    rng = np.random.default_rng(len(xs) * 7 + sum(ys))
    a = rng.standard_normal(xs).astype(np.float32)
    b = rng.standard_normal(ys).astype(np.float32)
    for lx, ly in itertools.product(_layouts(xs), _layouts(ys)):
        for rx, ry in _RG:
            got, _, _, e_out = _run(ember, a, b, lx, ly, rx, ry)
            want, _, _, t_out = _run(torch, a, b, lx, ly, rx, ry)
            assert got == want, (lx, ly, rx, ry)
            if t_out is not None:
                np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(),
                                           rtol=1e-5, atol=1e-5)


def test_the_documented_decompositions():
    """torch 2.13's graphs as its source reads (B0 = Backward0, A = AccumulateGrad)."""
    def name(T, xs, ys, x_t=False):
        x = T.randn(*xs, requires_grad=True)
        leaf = x
        if x_t:
            leaf = T.randn(xs[1], xs[0], *xs[2:], requires_grad=True)
            x = leaf.transpose(0, 1)
        y = T.randn(*ys, requires_grad=True)
        return _graph(T.matmul(x, y).grad_fn, [leaf, y])

    for xs, ys, x_t in [((5,), (5, 4), False), ((2, 3, 5), (5, 4), False),
                        ((2, 3, 5), (5, 4), True), ((2, 3, 5), (5,), False),
                        ((5,), (2, 5, 4), False), ((3, 5), (2, 5, 4), False),
                        ((2, 3, 5), (2, 5, 4), False), ((2, 3, 5), (2, 2, 5, 4), False),
                        ((2, 3, 5), (1, 5, 4), False), ((5,), (1, 5, 4), False)]:
        assert name(ember, xs, ys, x_t) == name(torch, xs, ys, x_t), (xs, ys, x_t)


def _fits(xs, ys):
    try:
        np.broadcast_shapes(xs[:-2], ys[:-2])
    except ValueError:
        return False
    return xs[-1] == (ys[0] if len(ys) == 1 else ys[-2])


@pytest.mark.parametrize("xs, ys", [p for p in PAIRS if _fits(*p)],
                         ids=lambda s: "x".join(map(str, s)))
def test_gradients_and_second_derivatives_match_torch(xs, ys):
    rng = np.random.default_rng(sum(xs) + 3 * sum(ys))
    a, b = rng.standard_normal(xs), rng.standard_normal(ys)
    lx, ly = _layouts(xs)[-1], _layouts(ys)[-1]  # the most unusual layout of each
    for rx, ry in _RG:
        res = []
        for T in LIBS:
            _, x, y, out = _run(T, a, b, lx, ly, rx, ry)
            g_out = T.tensor(rng.standard_normal(tuple(out.shape)) if T is ember else res[0][0],
                             dtype=T.float64, requires_grad=True)
            leaves = [t for t, r in ((x, rx), (y, ry)) if r]
            grads = T.autograd.grad(out, leaves, g_out, create_graph=True)
            # a second derivative: of sum(g * g) with respect to the operands and g_out
            total = sum((g * g).sum() for g in grads)
            second = T.autograd.grad(total, leaves + [g_out], allow_unused=True)
            res.append([g_out.detach().numpy()] + [g.detach().numpy() for g in grads] +
                       [None if s is None else s.numpy() for s in second])
        for e, t in zip(res[0], res[1]):
            assert (e is None) == (t is None)
            if e is not None:
                np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-10)


def test_leaf_gradients_match_torch_in_float32():
    rng = np.random.default_rng(5)
    for xs, ys in [((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((5,), (2, 2, 5, 4)),
                   ((2, 1, 3, 5), (1, 2, 5, 4)), ((2, 3, 5), (1, 5, 4)), ((2, 3, 5), (5,))]:
        a = rng.standard_normal(xs).astype(np.float32)
        b = rng.standard_normal(ys).astype(np.float32)
        grads = []
        for T in LIBS:
            _, x, y, out = _run(T, a, b, "bt" if len(xs) > 1 else "c", "c", True, True)
            (out * out).sum().backward()
            grads.append((x.grad.numpy(), y.grad.numpy()))
        for e, t in zip(*grads):
            np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5)


def test_complex_operands_match_torch():
    rng = np.random.default_rng(11)
    for xs, ys in [((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((5,), (5, 4)),
                   ((2, 3, 5), (2, 5, 4))]:
        a = rng.standard_normal(xs) + 1j * rng.standard_normal(xs)
        b = rng.standard_normal(ys) + 1j * rng.standard_normal(ys)
        res = []
        for T in LIBS:
            x = T.tensor(a, requires_grad=True)
            y = T.tensor(b, requires_grad=True)
            out = T.matmul(x, y)
            (out * out.conj()).real.sum().backward()
            res.append((_graph(out.grad_fn, [x, y]), out.detach().numpy(), x.grad.numpy(),
                        y.grad.numpy()))
        assert res[0][0] == res[1][0]
        for e, t in zip(res[0][1:], res[1][1:]):
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-10)


def test_saved_tensors_match_torch():
    def saved(T, xs, ys, rx, ry):
        x = T.randn(*xs, requires_grad=rx)
        y = T.randn(*ys, requires_grad=ry)
        node = T.matmul(x, y).grad_fn
        while type(node).__name__ not in ("MmBackward0", "BmmBackward0", "MvBackward0"):
            node = next(f for f, _ in node.next_functions if f is not None)
        names = {"MvBackward0": ("self", "vec")}.get(type(node).__name__, ("self", "mat2"))
        out = [type(node).__name__]
        for n in names:
            t = getattr(node, "_saved_" + n)
            # NOTE: torch hands back an operand that needs no gradient itself; ember a new
            # Tensor with its values (so identity is compared for the leaves that require grad)
            leaf = (t is x or t is y) if t is not None and t.requires_grad else None
            out.append(None if t is None else (tuple(t.shape), t.requires_grad, leaf,
                                               type(t.grad_fn).__name__ if t.grad_fn else None))
        return out

    for xs, ys in [((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((2, 3, 5), (5,)),
                   ((2, 3, 5), (2, 5, 4)), ((5,), (5, 4)), ((2, 3, 5), (1, 5, 4))]:
        for rx, ry in _RG:
            assert saved(ember, xs, ys, rx, ry) == saved(torch, xs, ys, rx, ry), (xs, ys)


def test_changing_an_operand_in_place_makes_backward_refuse_as_torch():
    for xs, ys, which in [((2, 3, 5), (5, 4), 0), ((3, 5), (2, 5, 4), 0),
                          ((2, 3, 5), (2, 5, 4), 1), ((5,), (5, 4), 0), ((2, 3, 5), (5,), 0)]:
        for T in LIBS:
            a = T.randn(*xs, requires_grad=True)
            b = T.randn(*ys, requires_grad=True)
            x, y = a * 1, b * 1
            out = T.matmul(x, y)
            (x, y)[which].mul_(2)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                out.sum().backward()


@pytest.mark.parametrize("grad", [True, False])
def test_errors_match_torch_on_each_path(grad):
    """Shapes that do not fit: the message is that of the kernel torch reaches, which depends
    on the layout and on which operand requires grad (``should_fold``)."""
    cases = [((2, 3, 5), (4, 4)), ((3, 5), (2, 4, 3)), ((5,), (2, 4, 3)), ((2, 3, 5), (4,)),
             ((2, 3, 5), (3, 5, 4)), ((2, 3, 5), (2, 4, 4)), ((1, 3, 5), (2, 4, 4)),
             ((5,), (4, 4)), ((2, 2, 3, 5), (4, 4)), ((3, 2, 5), (2, 4, 4))]
    rng = np.random.default_rng(0)
    for xs, ys in cases:
        a = rng.standard_normal(xs).astype(np.float32)
        b = rng.standard_normal(ys).astype(np.float32)
        for lx, (rx, ry) in itertools.product(_layouts(xs), _RG):
            msgs = []
            for T in LIBS:
                x, y = _make(T, a, lx, rx), _make(T, b, "c", ry)
                with T.set_grad_enabled(grad), pytest.raises(RuntimeError) as info:
                    T.matmul(x, y)
                msgs.append(str(info.value))
            assert msgs[0] == msgs[1], (xs, ys, lx, rx, ry)


def test_mm_bmm_mv_and_dot_keep_their_own_node_and_errors():
    rng = np.random.default_rng(1)
    for fn, xs, ys in [("mm", (3, 5), (5, 4)), ("bmm", (2, 3, 5), (2, 5, 4)),
                       ("mv", (3, 5), (5,)), ("dot", (5,), (5,)), ("mm", (3, 5), (4, 4)),
                       ("bmm", (2, 3, 5), (2, 4, 4)), ("bmm", (2, 3, 5), (3, 5, 4))]:
        a = rng.standard_normal(xs).astype(np.float32)
        b = rng.standard_normal(ys).astype(np.float32)
        res = []
        for T in LIBS:
            x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
            try:
                out = getattr(T, fn)(x, y)
                res.append((_graph(out.grad_fn, [x, y]), out.detach().numpy().round(4)))
            except RuntimeError as e:
                res.append(str(e))
        assert str(res[0]) == str(res[1]), (fn, xs, ys)


def test_operator_spellings_and_parameters_record_the_same_graph():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 5)).astype(np.float32)
    w = rng.standard_normal((5, 4)).astype(np.float32)
    res = []
    for T in LIBS:
        x = T.tensor(a, requires_grad=True)
        p = T.nn.Parameter(T.tensor(w))
        q = T.nn.Parameter(T.tensor(w.T.copy()))
        outs = [x @ p, x.__matmul__(p), p.__rmatmul__(x), q @ x.mT, T.linalg.matmul(x, p)]
        res.append([_graph(o.grad_fn, [x, p, q]) for o in outs])
    assert res[0] == res[1]


def test_no_grad_and_untracked_operands_record_nothing():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 5)).astype(np.float32)
    b = rng.standard_normal((5, 4)).astype(np.float32)
    for T in LIBS:
        x, y = T.tensor(a, requires_grad=True), T.tensor(b, requires_grad=True)
        with T.no_grad():
            out = x @ y
        assert out.grad_fn is None and not out.requires_grad
        assert (T.tensor(a) @ T.tensor(b)).grad_fn is None
    e = ember.tensor(a) @ ember.tensor(b)
    np.testing.assert_allclose(e.numpy(), a @ b, rtol=1e-5, atol=1e-6)


def test_expand_keeps_torch_strides_on_size_one_dims():
    for shape, size in [((1, 5, 1), (2, 5, 1)), ((5, 1), (1, 5, 1)), ((2, 1), (1, 1, 2, 1)),
                        ((), (1,)), ((), (3, 1)), ((1,), (1, 1, 1)), ((3,), (1, 2, 3)),
                        ((1, 4), (3, 1, 4)), ((2, 1, 3), (2, 1, 3))]:
        got = ember.zeros(shape).expand(*size).stride()
        assert got == torch.zeros(shape).expand(*size).stride(), (shape, size)
    t = ember.zeros(2, 1)[:, :1].t().expand(1, 1, 2)  # a strided input keeps its strides
    assert t.stride() == torch.zeros(2, 1)[:, :1].t().expand(1, 1, 2).stride()
    base = ember.zeros(1, 5, 1)
    base.expand(1, 5, 1).fill_(2.0)  # still a writable view of its base
    assert base.sum().item() == 10.0


def test_flop_counts_follow_the_kernel_torch_runs():
    from torch.utils.flop_counter import FlopCounterMode as TorchCounter

    from ember.utils.flop_counter import FlopCounterMode as EmberCounter

    cases = [(xs, ys, x_t, rx, ry)
             for xs, ys, x_t in [((2, 3, 5), (5, 4), True), ((3, 5), (2, 5, 4), False),
                                 ((5,), (2, 5, 4), False), ((1, 3, 5), (2, 5, 4), False),
                                 ((2, 3, 5), (2, 2, 5, 4), False)]
             for rx, ry in _RG + ((False, False),)]

    def counts(T, counter):
        """The counts each case adds, forward and backward (one counter: torch's is slow to
        enter)."""
        deltas = []
        with counter(display=False) as c:
            for xs, ys, x_t, rx, ry in cases:
                before = {str(k): v for k, v in c.get_flop_counts().get("Global", {}).items()}
                x = T.ones(xs[1], xs[0], *xs[2:]).transpose(0, 1) if x_t else T.ones(*xs)
                x.requires_grad_(rx)
                y = T.ones(*ys, requires_grad=ry)
                out = x @ y
                if rx or ry:
                    out.sum().backward()
                after = {str(k): v for k, v in c.get_flop_counts().get("Global", {}).items()}
                deltas.append({k: v - before.get(k, 0) for k, v in after.items()
                               if v != before.get(k, 0)})
        return deltas

    for case, got, want in zip(cases, counts(ember, EmberCounter), counts(torch, TorchCounter)):
        assert got == want, case
