"""ember.autograd.forward_ad against torch.autograd.forward_ad: the tangents of the whole op
table, the API's errors and messages, nesting, in-place ops, custom Functions' jvp, and
ember.func's jvp, jacfwd, hessian and linearize against torch.func."""
from __future__ import annotations

import re

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as efw
from tests.autograd.test_forward_ad_cases import CASES
from tests.helpers import assert_close

# torch.func's first use scripts a helper, and torch.jit.script warns that it is deprecated
pytestmark = [pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated"),
              # torch.func.linearize traces the function and warns about its own graph
              pytest.mark.filterwarnings("ignore:Attempted to insert a get_attr Node")]


def _libs(torch):
    import torch.autograd.forward_ad as tfw

    return (ember, efw), (torch, tfw)


def _tangents_of(case, torch, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(case.low, case.high, s).astype(dtype) for s in case.shapes]
    ts = [rng.standard_normal(s).astype(dtype) for s in case.shapes]
    results = []
    for L, fw in _libs(torch):
        with fw.dual_level():
            duals = [fw.make_dual(L.tensor(x), L.tensor(t)) for x, t in zip(xs, ts)]
            results.append(fw.unpack_dual(case.fn(L, *duals)))
    return results


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tangents_match_torch(case, torch):
    (ep, et), (tp, tt) = _tangents_of(case, torch)
    assert_close(ep, tp, msg=case.name)
    assert (et is None) == (tt is None), case.name
    if tt is not None:
        assert str(et.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
        assert_close(et, tt, rtol=1e-9, atol=1e-12, msg=case.name)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in (
    "add_broadcast", "div_broadcast", "softmax", "matmul_batch_broadcast", "layer_norm",
    "cross_entropy", "conv2d", "gelu", "to_double", "var_dim")], ids=lambda c: c.name)
def test_float32_tangents_match_torch(case, torch):
    (_, et), (_, tt) = _tangents_of(case, torch, dtype="float32", seed=1)
    assert str(et.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
    assert_close(et, tt, rtol=1e-4, atol=1e-5, msg=case.name)


# --- the API: errors and messages ------------------------------------------------------------
def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (any error: its type and text are compared)
        return type(e).__name__, str(e).replace("torch.", "").replace("ember.", "")
    return None


def test_errors_and_messages_match_torch(torch):
    def outside(L, fw):
        return [_error(lambda: fw.make_dual(L.ones(2), L.ones(2))),
                _error(lambda: fw.exit_dual_level())]

    def inside(L, fw):
        with fw.dual_level():
            d = fw.make_dual(L.ones(3), L.ones(3))
            return [
                _error(lambda: fw.enter_dual_level()),
                _error(lambda: fw.exit_dual_level(level=2)),
                _error(lambda: fw.make_dual(L.ones(3), L.ones(4))),
                _error(lambda: fw.make_dual(L.ones(3), L.ones(1))),
                _error(lambda: fw.make_dual(L.arange(3), L.ones(3))),
                _error(lambda: fw.make_dual(L.ones(3), L.arange(3))),
                _error(lambda: fw.make_dual(L.ones(3), L.ones(3), level=4)),
                _error(lambda: fw.make_dual(d, L.ones(3))),
                _error(lambda: L.add(d, 1, out=L.empty(3))),
                _error(lambda: L.sin(d, out=L.empty(3))),
            ]

    for check in (outside, inside):
        (e, t) = [check(L, fw) for L, fw in _libs(torch)]
        assert e == t


def test_unsupported_op_raises_torchs_not_implemented_error(torch):
    # neither has forward AD for cdist or zeta (ember names its ops, torch its kernels)
    texts = []
    for L, fw in _libs(torch):
        with fw.dual_level():
            d = fw.make_dual(L.ones(3, 2, dtype=L.float64) * 2, L.ones(3, 2, dtype=L.float64))
            for op, args in ((L.cdist, (d, d * 2)), (L.special.zeta, (d, 1.5))):
                with pytest.raises(NotImplementedError) as info:
                    op(*args)
                texts.append(re.sub(r"forward AD with \w+ that", "forward AD with OP that",
                                    str(info.value)))
    assert texts[:2] == texts[2:]


def test_unpack_dual_and_levels_behave_as_torch(torch):
    seen = []
    for L, fw in _libs(torch):
        x, t = L.ones(2), L.full((2,), 3.0)
        plain = fw.unpack_dual(x)
        with fw.dual_level() as level:
            d = fw.make_dual(x, t)
            u = fw.unpack_dual(d)
            inside = (level, type(u).__name__, u._fields, u.tangent is t, u.primal is d,
                      fw.unpack_dual(u.primal).tangent is None, d._base is x,
                      fw.unpack_dual(x).tangent is None)
            y = d * 2
        seen.append((plain.primal is x, plain.tangent, inside, fw.unpack_dual(y).tangent,
                     fw._current_level))
    assert seen[0] == seen[1]


def test_repr_matches_torch(torch):
    reprs = []
    for L, fw in _libs(torch):
        with fw.dual_level():
            reprs.append([repr(fw.make_dual(L.tensor(1.0), L.tensor(2.0))),
                          repr(fw.make_dual(L.tensor([1.0, 2.0]), L.tensor([3.0, 4.0]))),
                          repr(fw.make_dual(L.ones(2, 3, dtype=L.float64), L.ones(2, 3)))])
    assert reprs[0] == [r.replace("torch.", "ember.") for r in reprs[1]]


def test_no_grad_keeps_forward_mode_like_torch(torch):
    out = []
    for L, fw in _libs(torch):
        with fw.dual_level(), L.no_grad():
            d = fw.make_dual(L.tensor([0.5, -1.0]), L.tensor([1.0, 2.0]))
            out.append(fw.unpack_dual(d.exp() * d).tangent)
    assert_close(out[0], out[1])


# --- in-place ops ------------------------------------------------------------------------------
def _inplace_story(L, fw):
    with fw.dual_level():
        user = L.ones(3)
        a = fw.make_dual(L.tensor([1.0, 2.0, 3.0]), user)
        a.mul_(3)
        a.add_(L.tensor([1.0, 1.0, 1.0]))
        a.sub_(fw.make_dual(L.tensor([1.0, 2.0, 3.0]), L.full((3,), 0.5)), alpha=2)
        b = L.zeros(3)
        b.add_(a)
        base = fw.make_dual(L.zeros(2, 3), L.zeros(2, 3))
        base[0].add_(fw.make_dual(L.zeros(3), L.ones(3)))
        plain = L.zeros(2, 3)
        plain[1].copy_(fw.make_dual(L.zeros(3), L.arange(3.0)))
        p2 = L.zeros(2, 3)
        p2[:, 0] = fw.make_dual(L.zeros(2), L.full((2,), 4.0))
        d3 = fw.make_dual(L.zeros(3), L.ones(3))
        d3.zero_()
        d4 = fw.make_dual(L.zeros(3), L.ones(3))
        d4.fill_(fw.make_dual(L.tensor(1.0), L.tensor(5.0)))
        d5 = fw.make_dual(L.full((3,), 0.5), L.ones(3))
        d5.sigmoid_()
        d6 = fw.make_dual(L.zeros(2, 3), L.arange(6.0).reshape(2, 3))
        d6.t_()
        d7 = fw.make_dual(L.zeros(3), L.ones(3))
        d7[1] = 5.0
        d8 = fw.make_dual(L.ones(3), L.ones(3))
        d8.masked_fill_(L.tensor([True, False, True]), 0.0)
        d9 = fw.make_dual(L.ones(2, 2), L.ones(2, 2))
        d9.clamp_(0.0, 0.5)
        tangents = [fw.unpack_dual(t).tangent for t in (a, b, base, plain, p2, d3, d4, d5, d6,
                                                         d7, d8, d9)]
        return tangents + [user]


def test_inplace_ops_update_tangents_like_torch(torch):
    mine, theirs = (_inplace_story(L, fw) for L, fw in _libs(torch))
    for i, (a, b) in enumerate(zip(mine, theirs)):
        assert_close(a, b, msg=f"story step {i}")


# --- custom Functions --------------------------------------------------------------------------
def _custom_story(L, fw):
    class Product(L.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, c):
            ctx.save_for_forward(x, y)
            ctx.c = c
            return x * y * c, x.argmax()

        @staticmethod
        def jvp(ctx, xt, yt, ct):
            x, y = ctx.saved_tensors
            return ctx.c * (xt * y + x * yt), None

        @staticmethod
        def backward(ctx, grad, grad_index):
            return grad, grad, None

    class Twice(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    class WrongSize(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def jvp(ctx, xt):
            return xt[:1]

    class InPlace(L.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def jvp(ctx, xt):
            xt.mul_(2)
            return xt

    with fw.dual_level():
        x = fw.make_dual(L.tensor([1.0, 2.0]), L.tensor([1.0, -1.0]))
        out, index = Product.apply(x, L.tensor([3.0, 4.0]), 2.0)
        y = fw.make_dual(L.tensor([1.0, 2.0]), L.tensor([1.0, 3.0]))
        same = InPlace.apply(y)
        return [fw.unpack_dual(out).tangent.tolist(), fw.unpack_dual(index).tangent,
                _error(lambda: Twice.apply(x)), _error(lambda: WrongSize.apply(x)),
                fw.unpack_dual(Twice.apply(L.ones(1))).tangent, same is y,
                fw.unpack_dual(y).tangent.tolist()]


def test_custom_function_jvp_like_torch(torch):
    mine, theirs = (_custom_story(L, fw) for L, fw in _libs(torch))
    assert mine == theirs


# --- reverse over forward ---------------------------------------------------------------------
def test_tangents_are_differentiable_like_torch(torch):
    # one term at a time: torch's tangents of softmax, cross entropy and layer norm cannot be
    # differentiated (or not correctly), and neither can some sums of tangents in torch; ember's
    # are checked against differences in test_forward_ad_ops.py
    rng = np.random.default_rng(0)
    x0, w0, t0 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(
        (3, 4))
    terms = [lambda L, d, w: ((d @ w).tanh() * L.tensor([1.0, -2.0])) ** 3,
             lambda L, d, w: (d @ w).sigmoid() * d[:, :2],
             lambda L, d, w: L.nn.functional.gelu(d).exp() * (d @ w).sum(),
             lambda L, d, w: (d.sin() * d).cumsum(1) / w.sum()]
    for term in terms:
        grads = []
        for L, fw in _libs(torch):
            x, w = L.tensor(x0, requires_grad=True), L.tensor(w0, requires_grad=True)
            with fw.dual_level():
                tangent = fw.unpack_dual(term(L, fw.make_dual(x, L.tensor(t0)), w).sum()).tangent
                grads.append((tangent,) + L.autograd.grad(tangent, (x, w)))
        for a, b in zip(*grads):
            assert_close(fwd_primal(a), fwd_primal(b), rtol=1e-9, atol=1e-12)


def fwd_primal(t):
    """A tensor without its tangent (torch's gradients computed in a level carry one)."""
    return t.detach().clone()


# --- ember.func ------------------------------------------------------------------------------
FUNCS = [
    "lambda x, y: ((x.sin() * y).sum(), torch.cat([x, y]) ** 2)",
    "lambda x, y: torch.nn.functional.softmax(x[:, None] * y, -1).logsumexp(0)",
    "lambda x, y: (torch.outer(x, y).tanh() @ y, x.cumsum(0) * y.mean())",
]


def _both(src, torch):
    return eval(src, {"torch": ember}), eval(src, {"torch": torch})  # noqa: S307


def _pairs(torch, *shapes):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) for s in shapes]
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


@pytest.mark.parametrize("src", FUNCS)
def test_func_jvp_and_jacfwd_match_torch(src, torch):
    e_fn, t_fn = _both(src, torch)
    (ex, ey, ev, ew), (tx, ty, tv, tw) = _pairs(torch, (3,), (3,), (3,), (3,))
    (eo, ej), (to, tj) = ember.func.jvp(e_fn, (ex, ey), (ev, ew)), torch.func.jvp(
        t_fn, (tx, ty), (tv, tw))
    for a, b in zip(ember.func._pytree.tree_flatten((eo, ej))[0],
                    torch.utils._pytree.tree_flatten((to, tj))[0]):
        assert_close(a, b)
    ejac = ember.func.jacfwd(e_fn, argnums=(0, 1))(ex, ey)
    tjac = torch.func.jacfwd(t_fn, argnums=(0, 1))(tx, ty)
    for a, b in zip(ember.func._pytree.tree_flatten(ejac)[0],
                    torch.utils._pytree.tree_flatten(tjac)[0]):
        assert_close(a, b)


def test_func_hessian_and_linearize_match_torch(torch):
    src = "lambda x: (x.exp() * x.sin()).sum() + torch.nn.functional.log_softmax(x, 0)[0]"
    e_fn, t_fn = _both(src, torch)
    (ex, ev), (tx, tv) = _pairs(torch, (4,), (4,))
    assert_close(ember.func.hessian(e_fn)(ex), torch.func.hessian(t_fn)(tx))
    assert_close(ember.func.jacfwd(ember.func.jacfwd(e_fn))(ex),
                 torch.func.jacfwd(torch.func.jacfwd(t_fn))(tx))
    (eo, efn), (to, tfn) = ember.func.linearize(e_fn, ex), torch.func.linearize(t_fn, tx)
    assert_close(eo, to)
    assert_close(efn(ev), tfn(tv))


def test_func_jvp_errors_match_torch(torch):
    def errors(L):
        return [_error(lambda: L.func.jvp(lambda a: a, [L.ones(2)], (L.ones(2),))),
                _error(lambda: L.func.jvp(lambda a: a, (L.ones(2),), (L.ones(3),))),
                _error(lambda: L.func.jvp(lambda a: 3, (L.ones(2),), (L.ones(2),)))]

    assert errors(ember) == errors(torch)
