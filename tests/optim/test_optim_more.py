"""Rprop, Adafactor and Muon without torch: float64 NumPy transcriptions of torch's documented
algorithms, hand-checked steps, convergence on small problems, state dicts through
ember.save / ember.load, and errors. tests/oracle/test_optim_more_oracle.py compares with
torch itself."""

import io

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter

SHAPES = ((3, 4), (5,), (2, 1, 3), (), (4, 2))
STEPS = 12


def grad_fn(x, k):
    """A smooth, step-dependent gradient field (float64 in, float64 out)."""
    return 1.5 * (x - 0.3) + 0.5 * np.sin(3.0 * x + k)


# ------------------------------------------------------------------- references (float64)
def ref_rprop(x, steps, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    etaminus, etaplus = etas
    prev = np.zeros_like(x)
    size = np.full_like(x, lr)
    for k in range(steps):
        g = grad_fn(x, k)
        g = -g if maximize else g
        s = np.sign(g * prev)
        factor = np.where(s > 0, etaplus, np.where(s < 0, etaminus, 1.0))
        size = np.clip(size * factor, *step_sizes)
        g = np.where(s < 0, 0.0, g)
        x = x - np.sign(g) * size
        prev = g
    return x


def ref_adafactor(x, steps, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                  weight_decay=0.0, maximize=False):
    eps1 = np.finfo(np.float64).eps if eps[0] is None else eps[0]
    eps2 = eps[1]
    factored = x.ndim > 1
    row = np.zeros(x.shape[:-1] + (1,)) if factored else None
    col = np.zeros(x.shape[:-2] + (1,) + x.shape[-1:]) if factored else None
    var = np.zeros_like(x)
    for k in range(steps):
        t = k + 1
        g = grad_fn(x, k)
        g = -g if maximize else g
        b = t**beta2_decay
        rho = min(lr, t**-0.5)
        alpha = max(eps2, np.sqrt(np.mean(x * x)) if x.size else 0.0) * rho
        x = x * (1 - lr * weight_decay)
        if factored:
            row = row + b * (np.mean(g * g, axis=-1, keepdims=True) - row)
            col = col + b * (np.mean(g * g, axis=-2, keepdims=True) - col)
            v = row @ col / np.maximum(np.mean(row, axis=-2, keepdims=True), eps1)
        else:
            var = var + b * (g * g - var)
            v = var
        u = g / np.sqrt(np.maximum(v, eps1 * eps1))
        x = x - alpha / max(1.0, np.sqrt(np.mean(u * u)) / d) * u
    return x


def ref_muon(x, steps, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
             coefficients=(3.4445, -4.7750, 2.0315), ns_steps=5):
    """Muon in float64 throughout (torch's iteration runs in bfloat16)."""
    a, b, c = coefficients
    buf = np.zeros_like(x)
    for k in range(steps):
        g = grad_fn(x, k)
        buf = buf + (1 - momentum) * (g - buf)
        m = g + momentum * (buf - g) if nesterov else buf
        tall = m.shape[0] > m.shape[1]
        o = m.T if tall else m
        o = o / np.linalg.norm(o)
        for _ in range(ns_steps):
            gram = o @ o.T
            o = a * o + (b * gram + c * gram @ gram) @ o
        o = o.T if tall else o
        ratio = max(1.0, x.shape[0] / x.shape[1]) ** 0.5
        x = x * (1 - lr * weight_decay) - lr * ratio * o
    return x


def run_ember(name, shapes, steps, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s) for s in shapes]
    params = [Parameter(ember.tensor(x.copy(), dtype=ember.float64)) for x in starts]
    opt = getattr(optim, name)(params, **kwargs)
    for k in range(steps):
        for p in params:
            p.grad = ember.tensor(grad_fn(p.detach().numpy(), k))
        opt.step()
    return starts, [p.detach().numpy() for p in params]


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)},
    {"lr": 0.02, "maximize": True},
])
def test_rprop_matches_reference(kwargs):
    starts, finals = run_ember("Rprop", SHAPES, STEPS, **kwargs)
    for x0, x in zip(starts, finals):
        np.testing.assert_allclose(x, ref_rprop(x0, STEPS, **kwargs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {},
    {"lr": 0.5, "weight_decay": 0.1},
    {"lr": 0.05, "beta2_decay": -0.5, "d": 2.0, "maximize": True},
    {"lr": 0.05, "eps": (0.1, 0.5)},
])
def test_adafactor_matches_reference(kwargs):
    starts, finals = run_ember("Adafactor", SHAPES, STEPS, **kwargs)
    for x0, x in zip(starts, finals):
        np.testing.assert_allclose(x, ref_adafactor(x0, STEPS, **kwargs), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.02},
    {"lr": 0.02, "nesterov": False, "weight_decay": 0.5, "momentum": 0.5},
    {"lr": 0.02, "ns_coefficients": (2.0, -1.5, 0.5), "ns_steps": 3},
])
def test_muon_follows_the_float64_reference_to_bfloat16_accuracy(kwargs):
    shapes = ((3, 4), (5, 2), (4, 4))
    starts, finals = run_ember("Muon", shapes, STEPS, **kwargs)
    ref_kwargs = {k.replace("ns_coefficients", "coefficients"): v for k, v in kwargs.items()}
    for x0, x in zip(starts, finals):
        ref = ref_muon(x0, STEPS, **ref_kwargs)
        # bfloat16 keeps 8 significant bits: a few percent of the total movement
        np.testing.assert_allclose(x, ref, atol=0.05 * np.abs(ref - x0).max())
        assert np.abs(x - x0).max() > 0.1  # and it moved


def test_rprop_steps_by_hand():
    # grads +1, +1, -1 (a sign flip: the step shrinks and nothing moves), -1
    p = Parameter(ember.zeros(1, dtype=ember.float64))
    opt = optim.Rprop([p], lr=0.1)
    path = []
    for g in (1.0, 1.0, -1.0, -1.0):
        p.grad = ember.tensor([g], dtype=ember.float64)
        opt.step()
        path.append(p.item())
    np.testing.assert_allclose(path, [-0.1, -0.22, -0.22, -0.22 + 0.06], rtol=1e-12)
    state = opt.state[p]
    assert float(state["step"]) == 4.0
    np.testing.assert_allclose(state["step_size"].numpy(), [0.06])
    np.testing.assert_allclose(state["prev"].numpy(), [-1.0])


def test_adafactor_state_layout_and_first_step_by_hand():
    x = np.array([0.5, -2.0, 1.5])
    ps = [Parameter(ember.zeros(2, 1, 3)), Parameter(ember.zeros(4, 2)),
          Parameter(ember.tensor(x, dtype=ember.float64)), Parameter(ember.tensor(2.0))]
    opt = optim.Adafactor(ps, lr=0.05)
    g = np.array([0.3, -4.0, 0.0])
    for p in ps:
        p.grad = ember.ones(p.shape, dtype=p.dtype)
    ps[2].grad = ember.tensor(g, dtype=ember.float64)
    opt.step()
    shapes = [{k: tuple(v.shape) for k, v in opt.state[p].items()} for p in ps]
    assert shapes == [
        {"step": (), "row_var": (2, 1, 1), "col_var": (2, 1, 3)},
        {"step": (), "row_var": (4, 1), "col_var": (1, 2)},
        {"step": (), "variance": (3,)},
        {"step": (), "variance": ()},
    ]
    assert [opt.state[p]["step"].dtype for p in ps] == [ember.float32] * 4
    # step 1: the variance is g * g (lerp weight 1), so the update is sign(g), unclipped
    # (RMS 1 <= d) except for the zero; alpha = RMS(x) * min(lr, 1)
    u = np.sign(g)
    alpha = np.sqrt(np.mean(x * x)) * 0.05
    denom = max(1.0, np.sqrt(np.mean(u * u)))
    np.testing.assert_allclose(ps[2].detach().numpy(), x - alpha / denom * u, rtol=1e-12)
    # a zero parameter moves by eps2 * lr, its RMS being below eps2
    np.testing.assert_allclose(ps[0].detach().numpy(), -1e-3 * 0.05, rtol=1e-6)


def test_muon_update_is_bfloat16_and_nearly_orthogonal():
    rng = np.random.default_rng(3)
    g = rng.standard_normal((4, 6)).astype(np.float32)
    w = Parameter(ember.zeros(4, 6))
    opt = optim.Muon([w], lr=1.0, weight_decay=0.0, momentum=0.0)
    w.grad = ember.tensor(g)
    opt.step()
    update = -w.detach().numpy()
    assert not (update.view(np.uint32) & 0xFFFF).any()  # bfloat16 values
    sv = np.linalg.svd(update, compute_uv=False)
    assert sv.min() > 0.5 and sv.max() < 1.3, sv  # torch's quintic lands in about [0.7, 1.2]
    # the same direction as the gradient's orthogonal factor U V^T
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    assert np.sum(update * (u @ vt)) > 0.8 * 4  # trace(S') over 4 singular values


def test_muon_iterates_on_the_wide_orientation():
    rng = np.random.default_rng(4)
    g = rng.standard_normal((6, 3)).astype(np.float32)
    tall = Parameter(ember.zeros(6, 3))
    wide = Parameter(ember.zeros(3, 6))
    # match_rms_adamw's ratio is symmetric in the shape, so the two steps are transposes
    for p, grad in ((tall, g), (wide, g.T.copy())):
        opt = optim.Muon([p], lr=0.1, adjust_lr_fn="match_rms_adamw")
        p.grad = ember.tensor(grad)
        opt.step()
    np.testing.assert_array_equal(tall.detach().numpy(), wide.detach().numpy().T)


def _converge(name, params, loss_fn, steps, **kwargs):
    opt = getattr(optim, name)(params, **kwargs)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    return first, loss_fn().item()


@pytest.mark.parametrize("name, kwargs", [
    ("Rprop", {"lr": 0.01}),
    ("Adafactor", {"lr": 0.1}),
])
def test_small_regression_converges(name, kwargs):
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    true_w = rng.standard_normal((4, 3)).astype(np.float32)
    y = x @ ember.tensor(true_w) + 0.5
    w = Parameter(ember.zeros(4, 3))
    b = Parameter(ember.zeros(3))
    first, last = _converge(name, [w, b], lambda: ((x @ w + b - y) ** 2).mean(), 150,
                            **kwargs)
    assert last < 1e-3 * first, (first, last)


def test_muon_matrix_regression_converges():
    rng = np.random.default_rng(6)
    x = ember.tensor(rng.standard_normal((64, 8)).astype(np.float32))
    y = x @ ember.tensor(rng.standard_normal((8, 5)).astype(np.float32))
    w = Parameter(ember.zeros(8, 5))
    first, last = _converge("Muon", [w], lambda: ((x @ w - y) ** 2).mean(), 150, lr=0.05,
                            weight_decay=0.0)
    assert last < 1e-2 * first, (first, last)


@pytest.mark.parametrize("name, shapes, kwargs", [
    ("Rprop", SHAPES, {"lr": 0.05, "etas": (0.3, 1.5)}),
    ("Adafactor", SHAPES, {"lr": 0.1, "weight_decay": 0.1}),
    ("Muon", ((3, 4), (5, 2)), {"lr": 0.02}),
])
def test_state_dict_round_trips_through_save_and_load(name, shapes, kwargs):
    rng = np.random.default_rng(7)
    starts = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    pa = [Parameter(ember.tensor(x.copy())) for x in starts]
    oa = getattr(optim, name)(pa, **kwargs)

    def step(params, opt, k):
        for p in params:
            p.grad = ember.tensor(grad_fn(p.detach().numpy().astype(np.float64), k)
                                  .astype(np.float32))
        opt.step()

    for k in range(5):
        step(pa, oa, k)
    buffer = io.BytesIO()
    ember.save(oa.state_dict(), buffer)
    buffer.seek(0)
    pb = [Parameter(ember.tensor(p.detach().numpy().copy())) for p in pa]
    ob = getattr(optim, name)(pb, lr=1.0)
    ob.load_state_dict(ember.load(buffer))
    assert ob.param_groups[0]["lr"] == oa.param_groups[0]["lr"]
    for k in range(5, 10):
        step(pa, oa, k)
        step(pb, ob, k)
    for a, b in zip(pa, pb):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(pa, pb):
        for key, value in oa.state[a].items():
            np.testing.assert_array_equal(value.numpy(), ob.state[b][key].numpy())


def test_adafactor_load_rejects_misshapen_factors():
    p = Parameter(ember.zeros(3, 4))
    opt = optim.Adafactor([p])
    p.grad = ember.ones(3, 4)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["col_var"] = ember.zeros(3, 1)
    with pytest.raises(ValueError, match="'col_var' of shape \\(3, 1\\) for parameter 0"):
        optim.Adafactor([Parameter(ember.zeros(3, 4))]).load_state_dict(sd)


def test_params_without_grad_are_skipped_and_tensor_lr_and_step_lr_work():
    for name in ("Rprop", "Adafactor", "Muon"):
        a, b = Parameter(ember.ones(2, 3)), Parameter(ember.ones(3, 2))
        opt = getattr(optim, name)([a, b], lr=ember.tensor(0.1))
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        a.grad = ember.ones(2, 3)
        for _ in range(4):
            opt.step()
            sched.step()
        assert not np.array_equal(a.detach().numpy(), np.ones((2, 3))), name
        np.testing.assert_array_equal(b.detach().numpy(), np.ones((3, 2)))
        assert b not in opt.state
        assert float(opt.param_groups[0]["lr"]) == pytest.approx(0.025)


BAD = [
    ("Rprop", {"lr": -1}, "Invalid learning rate: -1"),
    ("Rprop", {"etas": (1.0, 1.2)}, "Invalid eta values: 1.0, 1.2"),
    ("Rprop", {"etas": (0.5, 0.9)}, "Invalid eta values: 0.5, 0.9"),
    ("Adafactor", {"lr": -1}, "Learning rate should be >= 0 but is: -1"),
    ("Adafactor", {"beta2_decay": 0.5}, "beta2_decay should be <= 0 but is: 0.5"),
    ("Adafactor", {"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
    ("Adafactor", {"eps": (None, -1.0)}, "epsilon2 should be >= 0 but is: -1.0"),
    ("Adafactor", {"d": 0.9}, "Clipping threshold d should be >= 1 but is: 0.9"),
    ("Adafactor", {"weight_decay": -1.0}, "weight_decay should be >= 0 but is: -1.0"),
    ("Muon", {"lr": -1}, "Learning rate should be >= 0 but is: -1"),
    ("Muon", {"momentum": -1}, "momentum should be >= 0 but is: -1"),
    ("Muon", {"weight_decay": -1}, "weight decay should be >= 0 but is: -1"),
    ("Muon", {"adjust_lr_fn": "x"}, "Adjust learning rate function x is not supported"),
    ("Muon", {"lr": ember.tensor([0.1, 0.2])}, "Tensor lr must be 1-element"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD, ids=[m for _, _, m in BAD])
def test_bad_hyper_parameters_raise(name, kwargs, message):
    with pytest.raises(ValueError) as err:
        getattr(optim, name)([Parameter(ember.zeros(2, 2))], **kwargs)
    assert str(err.value) == message


def test_muon_errors():
    with pytest.raises(ValueError, match=r"found a parameter with size: ember.Size\(\[3\]\)"):
        optim.Muon([Parameter(ember.zeros(3))])
    w = Parameter(ember.zeros(2, 3))
    w.grad = ember.ones(2, 3)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        optim.Muon([w], ns_steps=100).step()
    with pytest.raises(ValueError, match="Coefficients must be a tuple of exactly 3 values"):
        optim.Muon([w], ns_coefficients=(1.0, 2.0)).step()
    opt = optim.Muon([w])
    v = Parameter(ember.zeros(3))
    v.grad = ember.ones(3)
    opt.add_param_group({"params": [v]})  # not checked here, as in torch
    with pytest.raises(ValueError, match="Param gradient must be a 2D matrix"):
        opt.step()


def test_implementation_flags():
    p = Parameter(ember.zeros(2))
    with pytest.raises(NotImplementedError):
        optim.Rprop([p], differentiable=True)
    optim.Rprop([p], foreach=True, capturable=True)
    optim.Adafactor([p], foreach=True)
    with pytest.raises(TypeError):
        optim.Adafactor([p], capturable=True)
    with pytest.raises(TypeError):
        optim.Muon([Parameter(ember.zeros(2, 2))], foreach=True)
