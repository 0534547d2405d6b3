"""Each optimizer against a plain float64 NumPy transcription of torch's documented algorithm
(no torch needed); tests/oracle/test_optim_oracle.py compares with torch itself."""

import copy

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.optim import adam as adam_module

SHAPES = ((3, 4), (5,), ())
STEPS = 12


def grad_fn(x, k):
    """A smooth, step-dependent gradient field (float64 in, float64 out)."""
    return 1.5 * (x - 0.3) + 0.5 * np.sin(3.0 * x + k)


# ------------------------------------------------------------------- references (float64)
def ref_sgd(x, steps, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    buf = None
    for k in range(steps):
        g = grad_fn(x, k)
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * x
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        x = x - lr * g
    return x


def ref_adam(x, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    vmax = np.zeros_like(x)
    for k in range(steps):
        t = k + 1
        g = grad_fn(x, k)
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                x = x * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            denom = np.sqrt(vmax) / np.sqrt(1 - b2**t) + eps
        else:
            denom = np.sqrt(v) / np.sqrt(1 - b2**t) + eps
        x = x - lr / (1 - b1**t) * m / denom
    return x


def ref_rmsprop(x, steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    sq = np.zeros_like(x)
    gavg = np.zeros_like(x)
    buf = np.zeros_like(x)
    for k in range(steps):
        g = grad_fn(x, k)
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * x
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            gavg = alpha * gavg + (1 - alpha) * g
            avg = np.sqrt(sq - gavg * gavg) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            x = x - lr * buf
        else:
            x = x - lr * g / avg
    return x


CASES = [
    ("sgd", optim.SGD, ref_sgd, {"lr": 0.05}),
    ("sgd_momentum", optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9}),
    ("sgd_dampening_wd", optim.SGD, ref_sgd,
     {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1}),
    ("sgd_nesterov_max", optim.SGD, ref_sgd,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("adam", optim.Adam, ref_adam, {"lr": 0.01}),
    ("adam_amsgrad_wd", optim.Adam, ref_adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("adam_max_betas", optim.Adam, ref_adam,
     {"lr": 0.01, "maximize": True, "betas": (0.8, 0.95), "eps": 1e-3}),
    ("adamw", optim.AdamW, lambda x, s, **k: ref_adam(x, s, decoupled=True, **k),
     {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw_amsgrad_max", optim.AdamW, lambda x, s, **k: ref_adam(x, s, decoupled=True, **k),
     {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("rmsprop", optim.RMSprop, ref_rmsprop, {"lr": 0.01}),
    ("rmsprop_centered_momentum", optim.RMSprop, ref_rmsprop,
     {"lr": 0.01, "centered": True, "momentum": 0.9, "alpha": 0.9}),
    ("rmsprop_wd_max", optim.RMSprop, ref_rmsprop,
     {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
]


@pytest.mark.parametrize("name, cls, ref, kwargs", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_reference(name, cls, ref, kwargs):
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(s) for s in SHAPES]
    params = [Parameter(ember.tensor(x, dtype=ember.float64)) for x in starts]
    opt = cls(params, **kwargs)
    for k in range(STEPS):
        for p in params:
            p.grad = ember.tensor(grad_fn(p.detach().numpy(), k))
        opt.step()
    for p, x0 in zip(params, starts):
        np.testing.assert_allclose(p.detach().numpy(), ref(x0, STEPS, **kwargs),
                                   rtol=1e-10, atol=1e-12)


def test_first_adam_step_moves_each_coordinate_by_lr():
    p = Parameter(ember.tensor([1.0, -2.0, 3.0]))
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.tensor([5.0, -0.1, 1e-3])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -1.9, 2.9], rtol=1e-5)


def test_sgd_momentum_buffer_starts_as_the_gradient():
    p = Parameter(ember.tensor([0.0]))
    opt = optim.SGD([p], lr=1.0, momentum=0.5, dampening=0.5)
    p.grad = ember.tensor([2.0])
    opt.step()
    assert opt.state[p]["momentum_buffer"].tolist() == [2.0]  # no dampening at first
    opt.step()
    assert opt.state[p]["momentum_buffer"].tolist() == [2.0]  # 0.5 * 2 + 0.5 * 2
    assert p.detach().numpy().tolist() == [-4.0]


def test_groups_use_their_own_hyper_parameters():
    a = Parameter(ember.tensor([1.0]))
    b = Parameter(ember.tensor([1.0]))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = ember.tensor([1.0])
    b.grad = ember.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.5])


def test_tensor_lr_is_read_each_step():
    p = Parameter(ember.tensor([1.0]))
    lr = ember.tensor(0.1)
    opt = optim.SGD([p], lr=lr)
    p.grad = ember.tensor([1.0])
    opt.step()
    lr.fill_(0.2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.7], rtol=1e-6)


def test_adam_state_keys_follow_options():
    p = Parameter(ember.zeros(2))
    p.grad = ember.ones(2)
    opt = optim.Adam([p], amsgrad=True)
    opt.step()
    assert list(opt.state[p]) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    q = Parameter(ember.zeros(2))
    q.grad = ember.ones(2)
    opt = optim.RMSprop([q], momentum=0.9, centered=True)
    opt.step()
    assert list(opt.state[q]) == ["step", "square_avg", "momentum_buffer", "grad_avg"]


def test_scratch_memory_is_bounded_by_the_largest_parameter(monkeypatch):
    monkeypatch.setattr(adam_module, "_PACK_LIMIT", 0)  # every parameter on its own
    params = [Parameter(ember.zeros(*s)) for s in ((50, 40), (7,), (40, 50), (30,))]
    opt = optim.Adam(params, lr=0.1, weight_decay=0.1, maximize=True)
    for _ in range(2):
        for p in params:
            p.grad = ember.ones(*p.shape)
        opt.step()
    flat = opt._scratch_flat
    assert len(flat) == 2  # slot 0 (tmp) and slot 1 (modified gradient)
    assert all(buf.size == 2000 for buf in flat.values())


@pytest.mark.parametrize("kwargs", [
    {"lr": 0.01},
    {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.3, 0.5)},
])
def test_packed_and_per_parameter_paths_agree_bitwise(monkeypatch, kwargs):
    rng = np.random.default_rng(5)
    starts = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    results = []
    for limit in (0, adam_module._PACK_LIMIT):
        monkeypatch.setattr(adam_module, "_PACK_LIMIT", limit)
        params = [Parameter(ember.tensor(x.copy())) for x in starts]
        opt = optim.Adam(params, **kwargs)
        for k in range(STEPS):
            for p in params:
                p.grad = ember.tensor(grad_fn(p.detach().numpy(), k).astype(np.float32))
            opt.step()
        results.append(([p.detach().numpy().copy() for p in params],
                        {k: v.numpy().copy() for k, v in opt.state[params[0]].items()}))
    (pa, sa), (pb, sb) = results
    for a, b in zip(pa, pb):
        np.testing.assert_array_equal(a, b)
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key])


def test_packed_state_survives_reload_and_missing_grads():
    params = [Parameter(ember.zeros(3)), Parameter(ember.zeros(2, 2))]
    opt = optim.AdamW(params, lr=0.1)
    for p in params:
        p.grad = ember.ones(*p.shape)
    opt.step()
    exp_avg = opt.state[params[0]]["exp_avg"]
    opt.step()
    assert opt.state[params[0]]["exp_avg"] is exp_avg  # the pack kept the Tensor
    np.testing.assert_allclose(exp_avg.numpy(), 0.19, rtol=1e-6)
    params[1].grad = None  # one gradient missing: the pack steps aside for one step
    opt.step()
    assert opt.state[params[0]]["step"].item() == 3.0
    assert opt.state[params[1]]["step"].item() == 2.0
    params[1].grad = ember.ones(2, 2)
    opt.step()  # step counts now differ: per-parameter updates, still correct
    assert opt.state[params[1]]["step"].item() == 3.0
    sd = copy.deepcopy(opt.state_dict())
    opt.load_state_dict(sd)
    opt.step()
    assert opt.state[params[0]]["step"].item() == 5.0
    np.testing.assert_array_equal(sd["state"][0]["step"].numpy(), np.float32(4.0))


def test_packed_parameters_keep_sharing_memory_with_their_holders():
    """A parameter the pack moves into its flat buffer is one nothing else holds; one whose
    array is shared (a user's ndarray, a tensor of its .data) keeps that array, updated."""
    held = np.zeros(3, np.float32)
    shared = Parameter(ember.from_numpy(held))
    alone = Parameter(ember.zeros(2, 2))
    early = alone.data  # taken before the first step: must see every update
    opt = optim.Adam([shared, alone], lr=0.1)
    late = None
    for _ in range(3):
        for p in (shared, alone):
            p.grad = ember.ones(*p.shape)
        opt.step()
        if late is not None:
            np.testing.assert_array_equal(late.numpy(), alone.detach().numpy())
        late = alone.data  # taken between steps: must see the next update too
    np.testing.assert_array_equal(held, shared.detach().numpy())
    np.testing.assert_array_equal(early.numpy(), alone.detach().numpy())
    assert held[0] < -0.25  # three steps of -0.1 each


def test_packed_parameters_move_into_the_flat_buffer_when_nothing_else_holds_them():
    model = ember.nn.Linear(4, 3)
    opt = optim.AdamW(model.parameters(), lr=0.1)
    w = model.weight.detach().numpy().copy()
    for p in model.parameters():
        p.grad = ember.ones(*p.shape)
    opt.step()
    pack = next(iter(opt._packs.values()))
    assert pack.bound and np.shares_memory(model.weight._data, pack.pflat)
    version = model.weight._version
    opt.step()
    assert model.weight._version == version + 1  # the in-place update is still counted
    assert (model.weight.detach().numpy() < w).all()
    sd = model.state_dict()
    model.load_state_dict({k: v * 0 for k, v in sd.items()})
    assert np.shares_memory(model.weight._data, pack.pflat)  # loaded in place
    assert not pack.pflat.any()
