"""LBFGS, ASGD and SparseAdam against torch: trajectories (parameters and returned losses)
from identical starting weights, with and without the strong-Wolfe line search, in float32
and float64; state dicts in torch's layout, loading torch's into ember; constructor
signatures and error messages."""

import copy
import inspect

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

# float32 runs differ from torch in the last bits (BLAS dot products, fused multiply-adds);
# L-BFGS amplifies that a little over its iterations
TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}


# --------------------------------------------------------------------------- problems
def mlp_pair(dtype, seed=0):
    """The same 3-4-2 tanh MLP in ember and torch, and a regression batch."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    weights = [(rng.standard_normal(s) * 0.7).astype(dtype) for s in shapes]
    x = rng.standard_normal((16, 3)).astype(dtype)
    y = np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2], np.cos(x[:, 1])], 1).astype(dtype)
    models = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        with lib.no_grad():
            for p, w in zip(model.parameters(), weights):
                p.data = lib.tensor(w.copy())
        models.append(model)
    return models, (x, y)


def run_mlp(lib, model, data, steps, **kwargs):
    x, y = lib.tensor(data[0]), lib.tensor(data[1])
    opt = lib.optim.LBFGS(model.parameters(), **kwargs)

    def closure():
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    losses, params = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        params.append([p.detach().numpy().copy() for p in model.parameters()])
    return opt, losses, params


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def run_rosenbrock(lib, dtype, steps, **kwargs):
    """Rosenbrock in the first two entries of a (2, 2) parameter, a quadratic in the rest, and
    a parameter that gets no gradient (zeros in the flat vector)."""
    a = lib.nn.Parameter(lib.tensor(np.array([[-1.2, 1.0], [0.5, -0.3]], dtype=dtype)))
    b = lib.nn.Parameter(lib.tensor(np.array([2.0, -1.0, 0.25], dtype=dtype)))
    unused = lib.nn.Parameter(lib.tensor(np.array([3.0], dtype=dtype)))
    opt = lib.optim.LBFGS([a, unused, b], **kwargs)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(a[0]) + ((a[1] - b[:2]) ** 2).sum() + (b[2] - 1) ** 2 * 0.5
        loss.backward()
        return loss

    losses, params = [], []
    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        params.append([p.detach().numpy().copy() for p in (a, unused, b)])
    return opt, losses, params


def assert_runs_match(erun, trun, dtype):
    eopt, elosses, eparams = erun
    topt, tlosses, tparams = trun
    tol = TOL[dtype]
    assert_close(np.array(elosses), np.array(tlosses), **tol, msg="losses")
    for k, (ep, tp) in enumerate(zip(eparams, tparams)):
        for i, (a, b) in enumerate(zip(ep, tp)):
            assert a.dtype == b.dtype
            assert_close(a, b, **tol, msg=f"param {i} after step {k + 1}")
    assert_lbfgs_state_matches(eopt.state_dict(), topt.state_dict(), dtype)


def assert_value_matches(e, t, dtype, where):
    """One state value: same kind (Tensor, list, Python number, None) and close values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), where
        assert tuple(e.shape) == tuple(t.shape), where
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], where
        # the scalars (al, ro, H_diag, t) are dot products with cancellation: in float32
        # they keep fewer correct digits than the vectors they come from
        scale = max(1.0, float(np.abs(t.numpy()).max(initial=0.0)))
        tol = TOL[dtype]
        rtol = tol["rtol"] * (100 if t.dim() == 0 else 10)
        assert_close(e, t, rtol=rtol, atol=tol["atol"] * scale, msg=where)
    elif isinstance(t, list):
        assert isinstance(e, list) and len(e) == len(t), where
        for i, (ei, ti) in enumerate(zip(e, t)):
            assert_value_matches(ei, ti, dtype, f"{where}[{i}]")
    elif t is None:
        assert e is None, where
    else:
        assert type(e) is type(t), where
        assert e == pytest.approx(t, rel=TOL[dtype]["rtol"], abs=TOL[dtype]["atol"]), where


def assert_lbfgs_state_matches(esd, tsd, dtype):
    assert list(esd["state"]) == list(tsd["state"])
    for idx, tstate in tsd["state"].items():
        estate = esd["state"][idx]
        assert list(estate) == list(tstate)
        for key, tval in tstate.items():
            assert_value_matches(estate[key], tval, dtype, f"state {idx}[{key}]")
    assert esd["param_groups"] == tsd["param_groups"]


# --------------------------------------------------------------------------- LBFGS
# Each case keeps to about fifteen iterations in all: past that, torch's own trajectory moves
# by more than the tolerance when a starting weight moves by one ulp.
LBFGS_CASES = [
    {"max_iter": 5},
    {"max_iter": 5, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 5, "history_size": 3},
    {"lr": 0.8, "max_iter": 6, "history_size": 2, "line_search_fn": "strong_wolfe"},
    {"max_iter": 10, "max_eval": 6, "line_search_fn": "strong_wolfe"},
    {"max_iter": 4, "tolerance_grad": 1e-3, "tolerance_change": 1e-5},
    {"tolerance_change": 1e-2},  # steps that end on a small loss change or update
    {"tolerance_change": 1e-2, "line_search_fn": "strong_wolfe"},
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kwargs", LBFGS_CASES, ids=str)
def test_mlp_trajectory_matches_torch(kwargs, dtype):
    (emodel, tmodel), data = mlp_pair(dtype)
    steps = 3
    erun = run_mlp(ember, emodel, data, steps, **kwargs)
    trun = run_mlp(torch, tmodel, data, steps, **kwargs)
    assert trun[1][-1] < 0.5 * trun[1][0]  # the runs do train
    assert_runs_match(erun, trun, dtype)


@pytest.mark.parametrize("kwargs", [
    {"line_search_fn": "strong_wolfe", "max_iter": 8},
    {"lr": 0.2, "max_iter": 8},
    {"history_size": 4, "line_search_fn": "strong_wolfe", "max_iter": 5},
], ids=str)
def test_rosenbrock_trajectory_matches_torch_in_float64(kwargs):
    erun = run_rosenbrock(ember, np.float64, 3, **kwargs)
    trun = run_rosenbrock(torch, np.float64, 3, **kwargs)
    assert_runs_match(erun, trun, np.float64)
    assert erun[2][-1][1].tolist() == [3.0]  # the parameter without a gradient


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_first_steps_match_torch_in_float32(line_search_fn):
    kwargs = {"max_iter": 6, "line_search_fn": line_search_fn}
    erun = run_rosenbrock(ember, np.float32, 2, **kwargs)
    trun = run_rosenbrock(torch, np.float32, 2, **kwargs)
    assert_runs_match(erun, trun, np.float32)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_tensor_lr_matches_torch(line_search_fn):
    (emodel, tmodel), data = mlp_pair(np.float32, seed=1)
    erun = run_mlp(ember, emodel, data, 2, lr=ember.tensor(0.7), max_iter=5,
                   line_search_fn=line_search_fn)
    trun = run_mlp(torch, tmodel, data, 2, lr=torch.tensor(0.7), max_iter=5,
                   line_search_fn=line_search_fn)
    assert_close(np.array(erun[1]), np.array(trun[1]), **TOL[np.float32])
    for ep, tp in zip(erun[2][-1], trun[2][-1]):
        assert_close(ep, tp, **TOL[np.float32])


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_ember_continues_from_a_torch_state_dict(line_search_fn):
    kwargs = {"max_iter": 5, "history_size": 4, "line_search_fn": line_search_fn}
    (emodel, tmodel), data = mlp_pair(np.float64, seed=2)
    topt, _, _ = run_mlp(torch, tmodel, data, 1, **kwargs)
    # ember starts from torch's weights and optimizer state after one step
    for ep, tp in zip(emodel.parameters(), tmodel.parameters()):
        ep.data = ember.tensor(tp.detach().numpy().copy())
    x, y = ember.tensor(data[0]), ember.tensor(data[1])
    eopt = optim.LBFGS(emodel.parameters(), **kwargs)
    eopt.load_state_dict(copy.deepcopy(topt.state_dict()))
    assert_lbfgs_state_matches(eopt.state_dict(), topt.state_dict(), np.float64)

    def eclosure():
        eopt.zero_grad()
        loss = ember.nn.functional.mse_loss(emodel(x), y)
        loss.backward()
        return loss

    tx, ty = torch.tensor(data[0]), torch.tensor(data[1])

    def tclosure():
        topt.zero_grad()
        loss = torch.nn.functional.mse_loss(tmodel(tx), ty)
        loss.backward()
        return loss

    for _ in range(2):
        eloss, tloss = float(eopt.step(eclosure)), float(topt.step(tclosure).detach())
        assert eloss == pytest.approx(tloss, rel=1e-9)
    for ep, tp in zip(emodel.parameters(), tmodel.parameters()):
        assert_close(ep, tp, **TOL[np.float64])
    assert_lbfgs_state_matches(eopt.state_dict(), topt.state_dict(), np.float64)


def test_stationary_start_state_matches_torch():
    states = []
    for lib in (ember, torch):
        x = lib.nn.Parameter(lib.tensor([1.0, 1.0]))
        opt = lib.optim.LBFGS([x])

        def closure(opt=opt, x=x):
            opt.zero_grad()
            loss = rosenbrock(x)
            loss.backward()
            return loss

        opt.step(closure)
        states.append(opt.state_dict())
    assert_lbfgs_state_matches(*states, np.float32)


# ----------------------------------------------------- the line search on its own
def _rosen(z):
    return float(rosenbrock(z)), np.array([
        -2 * (1 - z[0]) - 400 * z[0] * (z[1] - z[0] ** 2), 200 * (z[1] - z[0] ** 2)])


LINE_FUNCTIONS = {
    "steep_quadratic": (lambda z: (float(np.sum(50 * (z - 0.3) ** 2)), 100 * (z - 0.3))),
    "flat_quadratic": (lambda z: (float(np.sum(0.005 * (z - 40) ** 2)), 0.01 * (z - 40))),
    "log_bumps": (lambda z: (float(np.sum(np.log1p((z - 2) ** 2))),
                             2 * (z - 2) / (1 + (z - 2) ** 2))),
    "wavy": (lambda z: (float(np.sum(np.sin(3 * z) + 0.1 * z * z)), 3 * np.cos(3 * z) + 0.2 * z)),
    "rosenbrock": _rosen,
}


def _line_search_both(fn, x0, t, scale, max_ls, tolerance_change):
    """Run ember's and torch's strong-Wolfe searches on the same float64 objective (NumPy
    on both sides); return what each returned and the step lengths each tried."""
    from torch.optim.lbfgs import _strong_wolfe as torch_strong_wolfe

    from ember.optim.lbfgs import _strong_wolfe as ember_strong_wolfe

    f0, g0 = fn(x0)
    d = -scale * g0
    results = []
    for lib in ("ember", "torch"):
        tried = []

        def obj_func(x, t, d, tried=tried, lib=lib):
            tried.append(float(t))
            f, g = fn(x0 + float(t) * np.asarray(d))
            return f, (g if lib == "ember" else torch.from_numpy(g))

        if lib == "ember":
            out = ember_strong_wolfe(obj_func, None, t, d, f0, g0.copy(), g0.dot(d),
                                     tolerance_change=tolerance_change, max_ls=max_ls)
        else:
            gt, dt = torch.from_numpy(g0.copy()), torch.from_numpy(d)
            out = torch_strong_wolfe(obj_func, None, t, dt, f0, gt, gt.dot(dt),
                                     tolerance_change=tolerance_change, max_ls=max_ls)
        f, g, t_out, evals = out
        results.append((float(f), np.asarray(g, dtype=np.float64), float(t_out), evals, tried))
    return results


@pytest.mark.parametrize("max_ls", [25, 3])
@pytest.mark.parametrize("t", [1e-3, 1.0, 30.0])
@pytest.mark.parametrize("name", list(LINE_FUNCTIONS))
def test_strong_wolfe_search_matches_torch(name, t, max_ls):
    fn = LINE_FUNCTIONS[name]
    x0 = np.array([-1.2, 1.0]) if name == "rosenbrock" else np.array([0.9, -0.4, 1.7])
    (ef, eg, et, en, etried), (tf, tg, tt, tn, ttried) = _line_search_both(
        fn, x0, t, scale=1.0, max_ls=max_ls, tolerance_change=1e-9)
    assert en == tn == len(etried)
    np.testing.assert_allclose(etried, ttried, rtol=1e-10, atol=0)
    assert et == pytest.approx(tt, rel=1e-10)
    assert ef == pytest.approx(tf, rel=1e-10, abs=1e-300)
    np.testing.assert_allclose(eg, tg, rtol=1e-10, atol=1e-300)


def _random_line_case(seed):
    """A 2-D objective: a quadratic bowl plus up to three sine ripples, so the searches
    extrapolate, zoom, move trial points off bracket ends, run out of evaluations (small
    ``max_ls``) and stop on a collapsed bracket (large ``tolerance_change``)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.01, 20)
    k = rng.integers(0, 4)
    b, w, c = rng.uniform(0, 2, k), rng.uniform(0.5, 8, k), rng.uniform(0, 6, k)

    def fn(z):
        waves = w[:, None] * z + c[:, None]
        f = 0.5 * a * np.sum(z * z) + np.sum(b[:, None] * np.sin(waves))
        return float(f), a * z + np.sum((b * w)[:, None] * np.cos(waves), 0)

    x0 = rng.uniform(-3, 3, 2)
    t = float(10 ** rng.uniform(-3, 2))
    max_ls = int(rng.choice([25, 25, 4, 2]))
    tolerance_change = float(rng.choice([1e-9, 1e-9, 1e-2, 1.0, 10.0]))
    return fn, x0, t, max_ls, tolerance_change


@pytest.mark.parametrize("chunk", range(4))
def test_strong_wolfe_search_matches_torch_on_random_lines(chunk):
    for seed in range(chunk * 75, (chunk + 1) * 75):
        fn, x0, t, max_ls, tolerance_change = _random_line_case(seed)
        (ef, eg, et, en, etried), (tf, tg, tt, tn, ttried) = _line_search_both(
            fn, x0, t, scale=1.0, max_ls=max_ls, tolerance_change=tolerance_change)
        # the same float64 arithmetic, but for the last bit of a dot product here and there
        assert en == tn, f"seed {seed}: {etried} vs {ttried}"
        np.testing.assert_allclose(etried, ttried, rtol=1e-10, atol=0, err_msg=f"seed {seed}")
        assert et == pytest.approx(tt, rel=1e-10), f"seed {seed}"
        assert ef == pytest.approx(tf, rel=1e-10), f"seed {seed}"


@pytest.mark.parametrize("seed", range(4))
def test_cubic_interpolate_matches_torch(seed):
    from torch.optim.lbfgs import _cubic_interpolate as torch_cubic

    from ember.optim.lbfgs import _cubic_interpolate as ember_cubic

    rng = np.random.default_rng(seed)
    for _ in range(50):
        x1, x2 = rng.uniform(-2, 2, 2)
        f1, f2 = rng.standard_normal(2)
        g1, g2 = rng.standard_normal(2) * 3
        bounds = None if rng.random() < 0.5 else tuple(sorted(rng.uniform(-3, 3, 2)))
        want = float(torch_cubic(x1, f1, torch.tensor(g1), x2, f2, torch.tensor(g2), bounds))
        got = float(ember_cubic(x1, f1, np.float64(g1), x2, f2, np.float64(g2), bounds))
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- ASGD
def grad_fn(x, k):
    """A smooth, step-dependent float32 gradient field (the same NumPy code on both sides)."""
    g = np.float32(1.5) * (x - np.float32(0.3)) + np.float32(0.5) * np.sin(3 * x + k)
    return np.asarray(g, dtype=np.float32)


def make_pair(seed=0, shapes=((3, 4), (5,), (2, 1, 3), ())):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ep = [Parameter(ember.tensor(x.copy())) for x in starts]
    tp = [torch.nn.Parameter(torch.tensor(x.copy())) for x in starts]
    return ep, tp


def assert_params_close(ep, tp, k):
    for i, (a, b) in enumerate(zip(ep, tp)):
        assert_close(a, b, rtol=2e-5, atol=2e-6, msg=f"param {i} after step {k + 1}")


def assert_tensor_state_close(eopt, topt):
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert list(esd["state"]) == list(tsd["state"])
    for idx, tstate in tsd["state"].items():
        estate = esd["state"][idx]
        assert list(estate) == list(tstate), idx
        for key, tval in tstate.items():
            if isinstance(tval, torch.Tensor):
                assert str(estate[key].dtype).split(".")[-1] == str(tval.dtype).split(".")[-1]
                assert_close(estate[key], tval, rtol=1e-4, atol=1e-6, msg=f"{idx}[{key}]")
            else:
                assert type(estate[key]) is type(tval) and estate[key] == tval, (idx, key)
    for egroup, tgroup in zip(esd["param_groups"], tsd["param_groups"], strict=True):
        assert list(egroup) == list(tgroup)
        for key, tval in tgroup.items():
            if isinstance(tval, torch.Tensor):  # a Tensor lr
                assert float(egroup[key]) == float(tval), key
            else:
                assert egroup[key] == tval, key


ASGD_CASES = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "t0": 5, "lambd": 0.01},
    {"lr": 0.05, "t0": 3, "alpha": 0.5, "weight_decay": 0.1},
    {"lr": 0.03, "t0": 0, "maximize": True, "weight_decay": 0.05, "lambd": 0.1},
]


@pytest.mark.parametrize("kwargs", ASGD_CASES, ids=str)
def test_asgd_trajectory_matches_torch(kwargs):
    ep, tp = make_pair()
    eopt, topt = optim.ASGD(ep, **kwargs), torch.optim.ASGD(tp, **kwargs)
    for k in range(20):
        for i, (a, b) in enumerate(zip(ep, tp)):
            # the second parameter misses every third gradient: its state lags behind
            if i == 1 and k % 3 == 2:
                a.grad = b.grad = None
                continue
            a.grad = ember.tensor(grad_fn(a.detach().numpy(), k))
            b.grad = torch.from_numpy(grad_fn(b.detach().numpy(), k))
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k)
    assert_tensor_state_close(eopt, topt)


def test_asgd_tensor_lr_and_float64_default_match_torch():
    previous = torch.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        ep, tp = make_pair(seed=3)
        eopt = optim.ASGD(ep, lr=ember.tensor(0.05, dtype=ember.float32), t0=4)
        topt = torch.optim.ASGD(tp, lr=torch.tensor(0.05, dtype=torch.float32), t0=4)
        for k in range(10):
            for a, b in zip(ep, tp):
                a.grad = ember.tensor(grad_fn(a.detach().numpy(), k))
                b.grad = torch.from_numpy(grad_fn(b.detach().numpy(), k))
            eopt.step()
            topt.step()
            assert_params_close(ep, tp, k)
        assert eopt.state[ep[0]]["eta"].dtype == ember.float64
        assert_tensor_state_close(eopt, topt)
    finally:
        torch.set_default_dtype(previous)


def test_asgd_state_dict_from_torch_continues_the_trajectory():
    ep, tp = make_pair(seed=4)
    topt = torch.optim.ASGD(tp, lr=0.05, t0=2)
    for k in range(3):
        for b in tp:
            b.grad = torch.from_numpy(grad_fn(b.detach().numpy(), k))
        topt.step()
    for a, b in zip(ep, tp):
        a.data = ember.tensor(b.detach().numpy().copy())
    eopt = optim.ASGD(ep, lr=0.05, t0=2)
    eopt.load_state_dict(copy.deepcopy(topt.state_dict()))
    for k in range(3, 8):
        for a, b in zip(ep, tp):
            a.grad = ember.tensor(grad_fn(a.detach().numpy(), k))
            b.grad = torch.from_numpy(grad_fn(b.detach().numpy(), k))
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k)
    assert_tensor_state_close(eopt, topt)


# --------------------------------------------------------------------------- SparseAdam
SPARSE_ADAM_CASES = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "betas": (0.5, 0.7), "eps": 1e-3},
    {"lr": 0.02, "maximize": True},
]


@pytest.mark.parametrize("kwargs", SPARSE_ADAM_CASES, ids=str)
def test_sparse_adam_matches_torch_on_row_sparse_gradients(kwargs):
    # both take the gradient as a sparse tensor of its nonzero rows (what
    # nn.Embedding(sparse=True) gives)
    rng = np.random.default_rng(7)
    ep, tp = make_pair(seed=5)
    eopt, topt = optim.SparseAdam(ep, **kwargs), torch.optim.SparseAdam(tp, **kwargs)
    for k in range(20):
        for a, b in zip(ep, tp):
            g = grad_fn(a.detach().numpy(), k)
            if g.ndim:
                g[rng.random(g.shape[0]) < 0.4] = 0  # untouched rows
            elif k % 4 == 3:
                g = np.zeros_like(g)  # an empty gradient: step counted, nothing moves
            a.grad = ember.tensor(g).to_sparse(max(g.ndim, 1) if g.ndim else 0)
            b.grad = torch.from_numpy(g.copy()).to_sparse(max(g.ndim, 1) if g.ndim else 0)
        eopt.step()
        topt.step()
        assert_params_close(ep, tp, k)
    assert_tensor_state_close(eopt, topt)


def test_sparse_adam_trains_an_embedding_like_torch_sparse():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((10, 3)).astype(np.float32)
    proj = rng.standard_normal((3,)).astype(np.float32)
    batches = [rng.integers(0, 10, size=(4, 2)) for _ in range(8)]
    results = []
    for lib in (ember, torch):
        emb = lib.nn.Embedding(10, 3, sparse=True)
        with lib.no_grad():
            emb.weight.data = lib.tensor(weight.copy())
        opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
        w = lib.tensor(proj)
        for idx in batches:
            opt.zero_grad()
            out = emb(lib.tensor(idx))
            loss = ((out * w).sum(-1).tanh() - 0.5).pow(2).mean()
            loss.backward()
            opt.step()
        results.append(emb.weight.detach().numpy().copy())
    assert not np.array_equal(results[1], weight)
    assert_close(results[0], results[1], rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- API surface
@pytest.mark.parametrize("name", ["LBFGS", "ASGD", "SparseAdam"])
def test_constructor_and_step_signatures_match_torch(name):
    for method in ("__init__", "step"):
        esig = inspect.signature(getattr(getattr(optim, name), method)).parameters
        tsig = inspect.signature(getattr(getattr(torch.optim, name), method)).parameters
        assert list(esig) == list(tsig), method
        for key, tparam in tsig.items():
            assert esig[key].kind == tparam.kind, (method, key)
            assert esig[key].default == tparam.default, (method, key)


BAD = [
    ("LBFGS", {"lr": -1}),
    ("LBFGS", {"lr": -0.5, "line_search_fn": "strong_wolfe"}),
    ("ASGD", {"lr": -0.01}),
    ("ASGD", {"weight_decay": -1e-4}),
    ("SparseAdam", {"lr": 0.0}),
    ("SparseAdam", {"lr": -1e-3}),
    ("SparseAdam", {"eps": 0.0}),
    ("SparseAdam", {"betas": (1.0, 0.999)}),
    ("SparseAdam", {"betas": (0.9, -0.1)}),
]


@pytest.mark.parametrize("name, kwargs", BAD, ids=[f"{n}-{k}" for n, k in BAD])
def test_bad_hyper_parameter_errors_match_torch(name, kwargs):
    ep, tp = make_pair()
    with pytest.raises(ValueError) as terr:
        getattr(torch.optim, name)(tp, **kwargs)
    with pytest.raises(ValueError) as eerr:
        getattr(optim, name)(ep, **kwargs)
    assert str(eerr.value) == str(terr.value)


@pytest.mark.parametrize("name", ["LBFGS", "ASGD", "SparseAdam"])
def test_tensor_lr_with_two_elements_errors_match_torch(name):
    ep, tp = make_pair()
    with pytest.raises(ValueError) as terr:
        getattr(torch.optim, name)(tp, lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError) as eerr:
        getattr(optim, name)(ep, lr=ember.tensor([0.1, 0.2]))
    assert str(eerr.value) == str(terr.value)


def test_lbfgs_group_and_line_search_errors_match_torch():
    ep, tp = make_pair()
    with pytest.raises(ValueError) as terr:
        torch.optim.LBFGS([{"params": tp[:2]}, {"params": tp[2:]}])
    with pytest.raises(ValueError) as eerr:
        optim.LBFGS([{"params": ep[:2]}, {"params": ep[2:]}])
    assert str(eerr.value) == str(terr.value)

    errors = []
    for lib, params in ((ember, ep), (torch, tp)):
        opt = lib.optim.LBFGS(params, line_search_fn="armijo")

        def closure(opt=opt, params=params):
            opt.zero_grad()
            loss = sum((p * p).sum() for p in params)
            loss.backward()
            return loss

        with pytest.raises(RuntimeError) as err:
            opt.step(closure)
        errors.append(str(err.value))
    assert errors[0] == errors[1]
