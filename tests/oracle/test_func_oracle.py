"""ember.func against torch.func: values of grad, vjp, jvp, jacrev, jacfwd, hessian and vmap,
per-sample gradients through functional_call, and the same exception types and messages."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.func as efunc
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
tfunc = torch.func
# torch.func's first use scripts a helper, and torch.jit.script warns that it is deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def _pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a), torch.tensor(a)


def _both(fn_src):
    """The same lambda text evaluated with ``torch`` bound to each library."""
    return eval(fn_src, {"torch": ember}), eval(fn_src, {"torch": torch})  # noqa: S307


FUNCS = [
    "lambda x: (x.sin() * x.exp()).sum()",
    "lambda x: torch.logsumexp(x, 0).sum() + (x ** 2).mean()",
    "lambda x: torch.nn.functional.softplus(x).prod()",
    "lambda x: (x @ x.T).trace() if x.dim() == 2 else x.norm()",
]


@pytest.mark.parametrize("src", FUNCS)
def test_grad_and_value_match_torch(src):
    e_fn, t_fn = _both(src)
    ex, tx = _pair(3, 4)
    eg, ev = efunc.grad_and_value(e_fn)(ex)
    tg, tv = tfunc.grad_and_value(t_fn)(tx)
    assert_close(eg, tg)
    assert_close(ev, tv)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_match_torch(transform):
    src = "lambda x, y: (x.tanh() * y.sum(), torch.cat([x, y]) ** 2)"
    e_fn, t_fn = _both(src)
    (ex, tx), (ey, ty) = _pair(3), _pair(2, seed=1)
    ej = getattr(efunc, transform)(e_fn, argnums=(0, 1))(ex, ey)
    tj = getattr(tfunc, transform)(t_fn, argnums=(0, 1))(tx, ty)
    for eo, to in zip(ej, tj):
        for a, b in zip(eo, to):
            assert_close(a, b)


def test_jacrev_keeps_the_input_dtype_like_torch():
    ej = efunc.jacrev(lambda a: a.double() * 2)(ember.ones(3))
    tj = tfunc.jacrev(lambda a: a.double() * 2)(torch.ones(3))
    assert str(ej.dtype).split(".")[-1] == str(tj.dtype).split(".")[-1]
    assert_close(ej, tj)


def test_vjp_and_jvp_match_torch():
    e_fn, t_fn = _both("lambda x: (x.sin() * 3, x.cumsum(0))")
    (ex, tx), (ev, tv) = _pair(4), _pair(4, seed=2)
    eo, efn = efunc.vjp(e_fn, ex)
    to, tfn = tfunc.vjp(t_fn, tx)
    for a, b in zip(efn((ev, ev * 2)), tfn((tv, tv * 2))):
        assert_close(a, b)
    (_, ej), (_, tj) = efunc.jvp(e_fn, (ex,), (ev,)), tfunc.jvp(t_fn, (tx,), (tv,))
    for a, b in zip(ej, tj):
        assert_close(a, b)


def test_hessian_and_nested_transforms_match_torch():
    e_fn, t_fn = _both("lambda x, y: (x.sin() * y).sum() + (x ** 3 * y.exp()).sum()")
    (ex, tx), (ey, ty) = _pair(3), _pair(3, seed=1)
    eh = efunc.hessian(e_fn, argnums=(0, 1))(ex, ey)
    th = tfunc.hessian(t_fn, argnums=(0, 1))(tx, ty)
    for erow, trow in zip(eh, th):
        for a, b in zip(erow, trow):
            assert_close(a, b)
    assert_close(efunc.jacrev(efunc.grad(e_fn))(ex, ey), tfunc.jacrev(tfunc.grad(t_fn))(tx, ty))


def test_grad_composes_with_regular_autograd_like_torch():
    ex, tx = _pair(3)
    ex.requires_grad_()
    tx.requires_grad_()
    eg = efunc.grad(lambda a: (a ** 3).sum())(ex)
    tg = tfunc.grad(lambda a: (a ** 3).sum())(tx)
    assert eg.requires_grad and tg.requires_grad
    eg.sum().backward()
    tg.sum().backward()
    assert_close(ex.grad, tx.grad)


VMAPS = [
    ("lambda a, b: a * b", (0, 0), 0, [(4, 3), (4, 3)]),
    ("lambda a, b: a @ b", (0, None), 0, [(5, 2, 3), (3, 4)]),
    ("lambda a, b: (a.sum(0), a * b)", (1, None), (0, 1), [(2, 6), (2,)]),
    ("lambda a, b: torch.outer(a, b)", (None, 0), 2, [(3,), (5, 2)]),
    ("lambda a, b: torch.nn.functional.softmax(a + b, -1)", (-1, 0), -1, [(2, 3, 4), (4, 3)]),
]


@pytest.mark.parametrize("src, in_dims, out_dims, shapes", VMAPS, ids=[v[0] for v in VMAPS])
def test_vmap_matches_torch(src, in_dims, out_dims, shapes):
    e_fn, t_fn = _both(src)
    pairs = [_pair(*s, seed=i) for i, s in enumerate(shapes)]
    eo = efunc.vmap(e_fn, in_dims, out_dims)(*[p[0] for p in pairs])
    to = torch.vmap(t_fn, in_dims, out_dims)(*[p[1] for p in pairs])
    for a, b in zip(eo if isinstance(eo, tuple) else (eo,), to if isinstance(to, tuple) else (to,)):
        assert_close(a, b)


def test_nested_vmap_and_pytree_inputs_match_torch():
    (ea, ta), (eb, tb) = _pair(3, 4), _pair(5, 4, seed=1)
    src = "lambda d: (d['x'] * d['y']).sum()"
    e_fn, t_fn = _both(src)
    eo = efunc.vmap(efunc.vmap(e_fn, in_dims=({"x": None, "y": 0},)),
                    in_dims=({"x": 0, "y": None},))({"x": ea, "y": eb})
    to = torch.vmap(torch.vmap(t_fn, in_dims=({"x": None, "y": 0},)),
                    in_dims=({"x": 0, "y": None},))({"x": ta, "y": tb})
    assert_close(eo, to)


def _mlps():
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    tmodel = tmodel.double()
    emodel = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    emodel = emodel.double()
    emodel.load_state_dict({k: ember.tensor(v.detach().numpy())
                            for k, v in tmodel.state_dict().items()})
    return emodel, tmodel


def test_per_sample_gradients_match_torch():
    torch.manual_seed(0)
    emodel, tmodel = _mlps()
    (ex, tx) = _pair(7, 4, seed=3)
    labels = np.array([0, 2, 1, 1, 0, 2, 2])
    ey, ty = ember.tensor(labels), torch.tensor(labels)

    def make(lib, func, model, x, y):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(params, x, y):
            out = func.functional_call(model, params, (x.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))

        return func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)

    eg, tg = make(ember, efunc, emodel, ex, ey), make(torch, tfunc, tmodel, tx, ty)
    assert set(eg) == set(tg)
    for k in tg:
        assert_close(eg[k], tg[k], msg=k)


def test_model_ensembling_matches_torch():
    torch.manual_seed(1)
    pairs = [_mlps() for _ in range(3)]
    ep, eb = efunc.stack_module_state([p[0] for p in pairs])
    tp, tb = tfunc.stack_module_state([p[1] for p in pairs])
    assert {k: tuple(v.shape) for k, v in ep.items()} == {k: tuple(v.shape) for k, v in tp.items()}
    assert all(ep[k].requires_grad == tp[k].requires_grad for k in tp)
    ex, tx = _pair(5, 4, seed=4)
    eo = efunc.vmap(lambda p, b, x: efunc.functional_call(pairs[0][0], (p, b), (x,)),
                    in_dims=(0, 0, None))(ep, eb, ex)
    to = tfunc.vmap(lambda p, b, x: tfunc.functional_call(pairs[0][1], (p, b), (x,)),
                    in_dims=(0, 0, None))(tp, tb, tx)
    assert_close(eo, to)


def test_vmap_randomness_same_gives_every_slice_torchs_unbatched_draw():
    ember.manual_seed(3)
    torch.manual_seed(3)
    eo = efunc.vmap(lambda r: r + ember.rand(4), randomness="same")(ember.zeros(3, 4))
    to = torch.vmap(lambda r: r + torch.rand(4), randomness="same")(torch.zeros(3, 4))
    assert_close(eo, to)


ERRORS = [
    "vmap(torch.add)(torch.ones(3, 2), torch.ones(4, 2))",
    "vmap(torch.add, in_dims=(None, None))(torch.ones(3), torch.ones(3))",
    "vmap(lambda a, b: a, in_dims=(0, 0))(torch.ones(3), 3)",
    "vmap(lambda a: a, in_dims=2)(torch.ones(3, 2))",
    "vmap(lambda a: a, in_dims=0)(torch.tensor(1.0))",
    "vmap(lambda a: a, in_dims=[0])(torch.ones(3))",
    "vmap(lambda a: 3)(torch.ones(3))",
    "vmap(lambda a: a, out_dims=None)(torch.arange(3.0))",
    "vmap(lambda a: a, out_dims=3)(torch.ones(3, 2))",
    "vmap(lambda: 1)()",
    "vmap(lambda a, b: a)(torch.ones(3), None)",
    "vmap(lambda a: (a, None))(torch.ones(3))",
    "vmap(lambda a: a + torch.randn(2))(torch.ones(3, 2))",
    "vmap(lambda a: a, randomness='foo')",
    "vmap(lambda a: a, chunk_size=0)",
    "grad(lambda a: a)(torch.ones(3))",
    "grad(lambda a: 3.0)(torch.ones(3))",
    "grad(lambda a: a.sum(), has_aux=True)(torch.ones(3))",
    "grad(lambda a: a.sum(), argnums=1)(torch.ones(3))",
    "grad(lambda a: a.sum(), argnums=())(torch.ones(3))",
    "grad(lambda a, b: a.sum(), argnums=(0, 0))(torch.ones(3), torch.ones(3))",
    "grad(lambda a: a.sum(), argnums=0.0)(torch.ones(3))",
    "grad(lambda a: a.sum())(torch.ones(2, dtype=torch.long))",
    "grad(lambda a: torch.tensor(1.0))(3.0)",
    "vjp(lambda a: a * 2, torch.ones(3, 2))[1](torch.ones(2))",
    "vjp(lambda a: (a * 2, a), torch.ones(3))[1](torch.ones(3))",
    "vjp(lambda a: 3, torch.ones(3))",
    "vjp(lambda a: a, torch.ones(3), has_aux=True)",
    "jacrev(lambda a: (a > 0).long())(torch.ones(3))",
    "jacrev(lambda a: a, chunk_size=0)",
    "jacfwd(lambda a: a + torch.randn(3))(torch.ones(3))",
    "jvp(lambda a: a, torch.ones(3), torch.ones(3))",
    "stack_module_state([])",
]


@pytest.mark.parametrize("src", ERRORS)
def test_errors_match_torch(src):
    def run(lib, func):
        scope = {"torch": lib, **{n: getattr(func, n) for n in func.__all__}}
        try:
            eval(src, scope)  # noqa: S307
        except Exception as e:  # noqa: BLE001
            return type(e), str(e)
        return None, None

    et, em = run(ember, efunc)
    tt, tm = run(torch, tfunc)
    assert tt is not None and et is tt, (et, em, tt, tm)
    # torch prints pytree specs in its own long form; the rest of the message is the same
    def cut(m):
        return m.replace("torch.", "ember.").split(" has structure")[0]

    assert cut(em) == cut(tm), (em, tm)
