"""Generative, tabular and research-script workloads run unchanged under ember and torch.

Each workload is a plain PyTorch program written as ``run(T, ...)`` that only uses ``T.``
names; it runs once with ``T = ember`` and once with ``T = torch``, from torch's initial
weights and the same NumPy data, and the losses, outputs and gradients must agree.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-5


def _np(x):
    """A tensor of either library (or a Python number) as a NumPy array."""
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return np.asarray(x)


def _close(e, t, rtol=RTOL, atol=ATOL, msg=""):
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=msg)


def _state(model):
    """torch's state_dict as NumPy arrays, to load into either library."""
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _load(T, model, state):
    model.load_state_dict({k: T.tensor(v) for k, v in state.items()})


def _both(run, *args, **kwargs):
    """``run`` under torch (which picks the initial weights), then under ember from those."""
    torch.manual_seed(0)
    t = run(torch, *args, **kwargs)
    e = run(ember, *args, init=t["init"], **kwargs)
    return e, t


def _init(T, model, init):
    """Load ``init`` into ``model``, or record the model's own initial weights."""
    if init is not None:
        _load(T, model, init)
        return init
    return _state(model)


# --- tabular regression: standardise, Sequential, ReduceLROnPlateau, early stopping ----------
def _tabular_data(seed=0, n=160, d=6):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, d).astype(np.float32) * rs.uniform(0.5, 20, d).astype(np.float32)
    X += rs.uniform(-50, 50, d).astype(np.float32)
    w = rs.randn(d).astype(np.float32)
    z = (X - X.mean(0)) / X.std(0)
    y = (z @ w + 0.3 * np.sin(3 * z[:, 0]) + 0.5 * rs.standard_t(2, n)).astype(np.float32)
    return X, y


def run_tabular_regression(T, X, y, loss_name, init=None, epochs=12, patience=3):
    nn = T.nn
    X, y = T.tensor(X), T.tensor(y)
    n_train = 120
    mean = X[:n_train].mean(dim=0, keepdim=True)
    std = X[:n_train].std(dim=0, keepdim=True)
    X = (X - mean) / (std + 1e-8)
    X_train, y_train, X_val, y_val = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    model = nn.Sequential(nn.Linear(X.shape[1], 32), nn.ReLU(), nn.Dropout(p=0.0),
                          nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 1))
    init = _init(T, model, init)
    criterion = {"mse": nn.MSELoss(), "huber": nn.HuberLoss(delta=0.5),
                 "smooth_l1": nn.SmoothL1Loss(beta=0.5)}[loss_name]
    optimizer = T.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = T.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5,
                                                       patience=1)
    loader = T.utils.data.DataLoader(T.utils.data.TensorDataset(X_train, y_train),
                                     batch_size=40, shuffle=False)
    best_val, best_state, bad_epochs = float("inf"), None, 0
    train_losses, val_losses, lrs = [], [], []
    for _epoch in range(epochs):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb).squeeze(-1), yb)
            loss.backward()
            optimizer.step()
            train_losses.append(loss.item())
        model.eval()
        with T.no_grad():
            val_loss = criterion(model(X_val).squeeze(-1), y_val).item()
        val_losses.append(val_loss)
        scheduler.step(val_loss)
        lrs.append(optimizer.param_groups[0]["lr"])
        if val_loss < best_val - 1e-4:
            best_val, bad_epochs = val_loss, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break
    model.load_state_dict(best_state)
    with T.no_grad():
        restored = criterion(model(X_val).squeeze(-1), y_val).item()
        preds = model(X_val).squeeze(-1)
    return dict(init=init, train=train_losses, val=val_losses, lrs=lrs, best=best_val,
                restored=restored, preds=preds, epochs=len(val_losses))


@pytest.mark.parametrize("loss_name", ["mse", "huber", "smooth_l1"])
def test_tabular_regression_with_plateau_and_early_stopping(loss_name):
    X, y = _tabular_data()
    e, t = _both(run_tabular_regression, X, y, loss_name)
    assert e["epochs"] == t["epochs"]
    assert e["lrs"] == pytest.approx(t["lrs"])
    _close(e["train"], t["train"], rtol=2e-4)
    _close(e["val"], t["val"], rtol=2e-4)
    # the restored best weights reproduce the best validation loss in both libraries
    assert e["restored"] == pytest.approx(e["best"], rel=1e-6)
    _close(e["preds"], t["preds"], rtol=2e-4, atol=1e-4)


def test_tabular_regression_exercises_plateau_and_stopping():
    X, y = _tabular_data()
    torch.manual_seed(0)
    t = run_tabular_regression(torch, X, y, "mse", epochs=40)
    e = run_tabular_regression(ember, X, y, "mse", init=t["init"], epochs=40)
    assert min(t["lrs"]) < 0.05 and t["epochs"] < 40  # the lr dropped and training stopped
    assert e["lrs"] == pytest.approx(t["lrs"]) and e["epochs"] == t["epochs"]
    _close(e["val"], t["val"], rtol=1e-3, atol=1e-4)


def test_deepcopy_of_state_dict_is_a_snapshot():
    model = ember.nn.Linear(3, 2)
    snap = copy.deepcopy(model.state_dict())
    with ember.no_grad():
        model.weight.add_(1.0)
    assert not np.allclose(snap["weight"].numpy(), model.weight.detach().numpy())
    model.load_state_dict(snap)
    np.testing.assert_array_equal(model.weight.detach().numpy(), snap["weight"].numpy())


# --- binary classification: BCEWithLogitsLoss(pos_weight), sigmoid, thresholds --------------
def run_binary_classifier(T, X, cat, y, init=None, steps=25):
    nn = T.nn

    class TabularNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(4, 3)  # one categorical column
            self.net = nn.Sequential(nn.Linear(X.shape[1] + 3, 16, bias=False), nn.BatchNorm1d(16),
                                     nn.LeakyReLU(0.1), nn.Linear(16, 1))

        def forward(self, x, c):
            return self.net(T.cat([x, self.emb(c)], dim=1))

    X, cat, y = T.tensor(X), T.tensor(cat), T.tensor(y)
    model = TabularNet()
    init = _init(T, model, init)
    n_pos = y.sum()
    pos_weight = (len(y) - n_pos) / n_pos
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight.reshape(1))
    optimizer = T.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    losses, accs = [], []
    for _step in range(steps):
        model.train()
        optimizer.zero_grad()
        logits = model(X, cat).squeeze(1)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        model.eval()  # BatchNorm1d uses its running statistics
        with T.no_grad():
            probs = T.sigmoid(model(X, cat)).squeeze(1)
            pred = (probs > 0.5).float()
            accs.append(T.sum(pred == y).item() / len(y))
    with T.no_grad():
        probs = T.sigmoid(model(X, cat).squeeze(1))
    stats = {}
    for threshold in (0.3, 0.5, 0.7):
        pred = (probs >= threshold).long()
        target = y.long()
        tp = ((pred == 1) & (target == 1)).sum().item()
        fp = ((pred == 1) & (target == 0)).sum().item()
        fn = int(T.logical_and(pred == 0, target == 1).sum())
        stats[threshold] = (tp, fp, fn, pred.eq(target).float().mean().item())
    correct = T.sum(probs.round() == y)
    return dict(init=init, losses=losses, accs=accs, probs=probs, stats=stats,
                correct=correct, grad=model.net[0].weight.grad, emb_grad=model.emb.weight.grad,
                state=model.state_dict())


def test_binary_classifier_with_pos_weight_and_thresholds():
    rs = np.random.RandomState(1)
    X = rs.randn(96, 5).astype(np.float32)
    cat = rs.randint(0, 4, 96)
    y = ((X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + 0.4 * (cat == 2) + 0.3 * rs.randn(96)) > 1.0)
    y = y.astype(np.float32)
    assert 0.1 < y.mean() < 0.4  # imbalanced, so pos_weight matters
    e, t = _both(run_binary_classifier, X, cat, y)
    _close(e["losses"], t["losses"])
    assert e["accs"] == t["accs"]
    _close(e["probs"], t["probs"])
    _close(e["grad"], t["grad"])
    _close(e["emb_grad"], t["emb_grad"])
    for k, v in t["state"].items():  # BatchNorm's running stats and batch count included
        _close(e["state"][k], v, rtol=1e-3, atol=1e-5, msg=k)
    assert e["stats"] == t["stats"]
    assert e["correct"].dtype == ember.int64 and e["correct"].item() == t["correct"].item()


# --- GAN on 2-D toy data: two Adams with betas=(0.5, 0.999), detach, set_to_none ------------
def run_gan(T, real, noise, init=None):
    nn = T.nn
    G = nn.Sequential(nn.Linear(noise.shape[-1], 16), nn.LeakyReLU(0.2), nn.Linear(16, 16),
                      nn.LeakyReLU(0.2), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    if init is not None:
        _load(T, G, init["G"])
        _load(T, D, init["D"])
    init = dict(G=_state(G), D=_state(D))
    opt_g = T.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = T.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    criterion = nn.BCEWithLogitsLoss()
    d_losses, g_losses, d_grad_after_g = [], [], []
    for step in range(len(real)):
        x = T.tensor(real[step])
        z = T.tensor(noise[step])
        fake = G(z)
        # discriminator: real -> 1, fake -> 0, without touching G
        opt_d.zero_grad(set_to_none=True)
        d_real, d_fake = D(x), D(fake.detach())
        loss_d = criterion(d_real, T.ones_like(d_real)) + criterion(d_fake, T.zeros_like(d_fake))
        loss_d.backward()
        if step == 0:  # fake.detach() kept D's loss from reaching G
            assert all(p.grad is None for p in G.parameters())
        opt_d.step()
        # generator: fool D
        opt_g.zero_grad(set_to_none=True)
        d_out = D(fake)
        loss_g = criterion(d_out, T.ones_like(d_out))
        loss_g.backward()
        opt_g.step()
        d_grad_after_g.append(D[0].weight.grad.clone())  # G's backward accumulated into D
        d_losses.append(loss_d.item())
        g_losses.append(loss_g.item())
    with T.no_grad():
        samples = G(T.tensor(noise[0]))
    return dict(init=init, d=d_losses, g=g_losses, samples=samples,
                d_grads=T.stack(d_grad_after_g), g_state=G.state_dict())


def test_gan_on_two_moons_matches_torch():
    rs = np.random.RandomState(2)
    steps, batch = 12, 32
    angle = rs.uniform(0, math.pi, (steps, batch))
    upper = rs.rand(steps, batch) < 0.5
    real = np.stack([np.where(upper, np.cos(angle), 1 - np.cos(angle)),
                     np.where(upper, np.sin(angle), 0.5 - np.sin(angle))], axis=-1)
    real = (real + 0.05 * rs.randn(steps, batch, 2)).astype(np.float32)
    noise = rs.randn(steps, batch, 4).astype(np.float32)
    e, t = _both(run_gan, real, noise)
    _close(e["d"], t["d"], rtol=2e-4)
    _close(e["g"], t["g"], rtol=2e-4)
    _close(e["d_grads"], t["d_grads"], rtol=1e-3, atol=1e-5)
    _close(e["samples"], t["samples"], rtol=1e-3, atol=1e-5)
    for k, v in t["g_state"].items():
        _close(e["g_state"][k], v, rtol=1e-3, atol=1e-5, msg=k)


# --- VAE: reparameterisation with NumPy eps, closed-form KL, BCE(reduction="sum") -----------
def build_vae(T, d_in=16, d_hidden=24, d_latent=3):
    nn, F = T.nn, T.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(d_in, d_hidden)
            self.fc_mu = nn.Linear(d_hidden, d_latent)
            self.fc_logvar = nn.Linear(d_hidden, d_latent)
            self.decoder = nn.Sequential(nn.Linear(d_latent, d_hidden), nn.ReLU(),
                                         nn.Linear(d_hidden, d_in), nn.Sigmoid())

        def encode(self, x):
            h = F.relu(self.fc1(x))
            return self.fc_mu(h), self.fc_logvar(h)

        def reparameterize(self, mu, logvar, eps):
            return mu + T.exp(0.5 * logvar) * eps

        def forward(self, x, eps):
            mu, logvar = self.encode(x.view(-1, d_in))
            z = self.reparameterize(mu, logvar, eps)
            return self.decoder(z), mu, logvar

    return VAE()


def vae_loss(T, recon, x, mu, logvar):
    bce = T.nn.functional.binary_cross_entropy(recon, x, reduction="sum")
    kld = -0.5 * T.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld, bce, kld


def run_vae(T, data, eps, init=None):
    model = build_vae(T)
    init = _init(T, model, init)
    optimizer = T.optim.Adam(model.parameters(), lr=3e-3)
    totals, kls = [], []
    model.train()
    for step in range(len(eps)):
        x = T.tensor(data[step])
        optimizer.zero_grad()
        recon, mu, logvar = model(x, T.tensor(eps[step]))
        loss, bce, kld = vae_loss(T, recon, x, mu, logvar)
        (loss / x.shape[0]).backward()
        optimizer.step()
        totals.append(loss.item())
        kls.append(kld.item())
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.eval()
    with T.no_grad():
        mu, logvar = model.encode(T.tensor(data[0]))
        sample = model.decoder(T.tensor(eps[0]))
    return dict(init=init, totals=totals, kls=kls, grads=grads, mu=mu, logvar=logvar,
                sample=sample)


def test_vae_matches_torch():
    rs = np.random.RandomState(3)
    steps, batch = 10, 20
    protos = rs.rand(4, 16) > 0.5
    idx = rs.randint(0, 4, (steps, batch))
    flips = rs.rand(steps, batch, 16) < 0.1
    data = np.where(flips, ~protos[idx], protos[idx]).astype(np.float32)
    data = np.clip(data * 0.9 + 0.05, 0, 1).astype(np.float32)  # soft targets in (0, 1)
    eps = rs.randn(steps, batch, 3).astype(np.float32)
    e, t = _both(run_vae, data, eps)
    _close(e["totals"], t["totals"], rtol=2e-4)
    _close(e["kls"], t["kls"], rtol=2e-4, atol=1e-4)
    for name, g in t["grads"].items():
        _close(e["grads"][name], g, rtol=1e-3, atol=1e-5, msg=name)
    for key in ("mu", "logvar", "sample"):
        _close(e[key], t[key], rtol=1e-3, atol=1e-5, msg=key)


# --- a custom autograd.Function inside a model: save_for_backward, needs_input_grad ---------
def build_custom_functions(T):
    class ClampSTE(T.autograd.Function):
        """Clamp forward; pass the gradient through inside, leak 10% of it outside."""

        @staticmethod
        def forward(ctx, x, low, high):
            ctx.save_for_backward(x)
            ctx.low, ctx.high = low, high
            return x.clamp(low, high)

        @staticmethod
        @T.autograd.function.once_differentiable
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            grad_x = None
            if ctx.needs_input_grad[0]:
                inside = (x >= ctx.low) & (x <= ctx.high)
                grad_x = T.where(inside, grad_output, 0.1 * grad_output)
            return grad_x, None, None

    class ScaledMul(T.autograd.Function):
        """``x * w * scale`` with hand-written gradients and a record of needs_input_grad."""

        calls = []

        @staticmethod
        def forward(ctx, x, w, scale):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return x * w * scale

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            ScaledMul.calls.append(tuple(ctx.needs_input_grad))
            gx = grad * w * ctx.scale if ctx.needs_input_grad[0] else None
            gw = (grad * x * ctx.scale).sum(0) if ctx.needs_input_grad[1] else None
            return gx, gw, None

    return ClampSTE, ScaledMul


def run_custom_function(T, X, y, init=None, steps=8):
    nn = T.nn
    ClampSTE, ScaledMul = build_custom_functions(T)

    class QuantNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(X.shape[1], 12)
            self.gate = nn.Parameter(T.ones(12))
            self.fc2 = nn.Linear(12, 1)

        def forward(self, x):
            h = ClampSTE.apply(self.fc1(x), -0.5, 0.5)
            h = ScaledMul.apply(h, self.gate, 2.0)
            return self.fc2(h).squeeze(-1)

    model = QuantNet()
    init = _init(T, model, init)
    optimizer = T.optim.SGD(model.parameters(), lr=0.05)
    X, y = T.tensor(X), T.tensor(y)
    losses = []
    for _step in range(steps):
        optimizer.zero_grad()
        loss = T.nn.functional.mse_loss(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    # a frozen gate: needs_input_grad says so and backward skips that gradient
    model.gate.requires_grad_(False)
    model(X).sum().backward()
    # an input that needs a gradient, through ClampSTE alone
    x = T.tensor(np.linspace(-1, 1, 7, dtype=np.float32), requires_grad=True)
    ClampSTE.apply(x * 2, -1.0, 1.0).pow(2).sum().backward()
    return dict(init=init, losses=losses, grads=grads, calls=ScaledMul.calls, x_grad=x.grad)


def test_custom_autograd_function_in_a_model():
    rs = np.random.RandomState(4)
    X = rs.randn(32, 5).astype(np.float32)
    y = (X[:, 0] - X[:, 1] ** 2).astype(np.float32)
    e, t = _both(run_custom_function, X, y)
    _close(e["losses"], t["losses"])
    for name, g in t["grads"].items():
        _close(e["grads"][name], g, msg=name)
    assert e["calls"] == t["calls"]
    assert e["calls"][-1] == (True, False, False)
    _close(e["x_grad"], t["x_grad"])


# --- attention-style research script: einsum, masked_fill(-inf), softmax, bmm, gather, ... ---
def run_tensor_ops(T, q, k, v, mask, idx, seg, w):
    F = T.nn.functional
    q = T.tensor(q, requires_grad=True)
    k = T.tensor(k, requires_grad=True)
    v = T.tensor(v, requires_grad=True)
    w = T.tensor(w, requires_grad=True)
    scores = T.einsum("bqd,bkd->bqk", q, k) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~T.tensor(mask), -float("inf"))
    attn = T.softmax(scores, dim=-1)
    out = T.bmm(attn, v)  # (B, Q, D)
    mixed = T.einsum("bqd,de->bqe", out, w)
    leaky = T.where(mixed > 0, mixed, 0.1 * mixed)
    picked = T.gather(leaky, 2, T.tensor(idx))  # (B, Q, 2)
    seg = T.tensor(seg)
    pooled = T.zeros(leaky.shape[0], 3, leaky.shape[2]).scatter_add_(
        1, seg.unsqueeze(-1).expand(-1, -1, leaky.shape[2]), leaky)
    outer = T.einsum("bi,bj->bij", pooled.sum(-1), picked.sum(-1))
    trace = T.einsum("bii->b", T.bmm(out, out.transpose(1, 2)))
    loss = picked.pow(2).mean() + pooled.abs().sum() * 0.01 + outer.mean() + trace.sum() * 0.001
    loss = loss + F.log_softmax(scores.masked_fill(~T.tensor(mask), -1e9), -1).mean() * 1e-3
    loss.backward()
    return dict(attn=attn, pooled=pooled, picked=picked, loss=loss, trace=trace,
                grads=[q.grad, k.grad, v.grad, w.grad])


def test_attention_script_tensor_ops_match_torch():
    rs = np.random.RandomState(5)
    B, Q, K, D = 2, 4, 5, 6
    mask = rs.rand(B, Q, K) < 0.7
    mask[..., 0] = True  # every query sees at least one key
    args = (rs.randn(B, Q, D).astype(np.float32), rs.randn(B, K, D).astype(np.float32),
            rs.randn(B, K, D).astype(np.float32), mask, rs.randint(0, D, (B, Q, 2)),
            rs.randint(0, 3, (B, Q)), rs.randn(D, D).astype(np.float32))
    e, t = run_tensor_ops(ember, *args), run_tensor_ops(torch, *args)
    assert (e["attn"].detach().numpy()[~mask] == 0).all()
    for key in ("attn", "pooled", "picked", "loss", "trace"):
        _close(e[key], t[key], msg=key)
    for ge, gt in zip(e["grads"], t["grads"]):
        _close(ge, gt)


# --- DQN-style update: gather on actions, no_grad targets, soft and hard target updates -------
def run_dqn(T, batches, init=None, tau=0.1, gamma=0.9):
    nn, F = T.nn, T.nn.functional
    q_net = nn.Sequential(nn.Linear(4, 24), nn.ReLU(), nn.Linear(24, 3))
    target = nn.Sequential(nn.Linear(4, 24), nn.ReLU(), nn.Linear(24, 3))
    init = _init(T, q_net, init)
    target.load_state_dict(q_net.state_dict())
    optimizer = T.optim.RMSprop(q_net.parameters(), lr=1e-2)
    losses = []
    for i, (s, a, r, s2, done) in enumerate(batches):
        s, a, r, s2, done = (T.tensor(s), T.tensor(a), T.tensor(r), T.tensor(s2),
                             T.tensor(done))
        q = q_net(s).gather(1, a.unsqueeze(1)).squeeze(1)
        with T.no_grad():
            next_q = target(s2).max(1)[0]
            y = r + gamma * next_q * (1 - done)
        loss = F.smooth_l1_loss(q, y)
        optimizer.zero_grad()
        loss.backward()
        T.nn.utils.clip_grad_norm_(q_net.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())
        with T.no_grad():
            for p_t, p in zip(target.parameters(), q_net.parameters()):
                p_t.mul_(tau).add_(p, alpha=1 - tau)
        if i % 3 == 2:
            for p_t, p in zip(target.parameters(), q_net.parameters()):
                p_t.data.copy_(0.5 * p.data + 0.5 * p_t.data)
    assert all(not p.requires_grad or p.grad is None for p in target.parameters())
    return dict(init=init, losses=losses, target=target.state_dict(), q=q_net.state_dict())


def test_dqn_target_network_updates_match_torch():
    rs = np.random.RandomState(6)
    batches = [(rs.randn(16, 4).astype(np.float32), rs.randint(0, 3, 16),
                rs.randn(16).astype(np.float32), rs.randn(16, 4).astype(np.float32),
                (rs.rand(16) < 0.2).astype(np.float32)) for _ in range(8)]
    e, t = _both(run_dqn, batches)
    _close(e["losses"], t["losses"])
    for k, v in t["target"].items():
        _close(e["target"][k], v, rtol=1e-3, atol=1e-5, msg=k)
        _close(e["q"][k], t["q"][k], rtol=1e-3, atol=1e-5, msg=k)


# --- metric learning: F.normalize, cdist, temperature-scaled InfoNCE, prototypes ---------------
def run_metric_learning(T, x1, x2, queries, init=None, steps=6):
    nn, F = T.nn, T.nn.functional
    encoder = nn.Sequential(nn.Linear(x1.shape[1], 16), nn.GELU(), nn.Linear(16, 8))
    init = _init(T, encoder, init)
    optimizer = T.optim.AdamW(encoder.parameters(), lr=5e-3)
    x1, x2, queries = T.tensor(x1), T.tensor(x2), T.tensor(queries)
    labels = T.arange(x1.shape[0])
    losses, dists = [], []
    for _step in range(steps):
        z1 = F.normalize(encoder(x1), dim=1)
        z2 = F.normalize(encoder(x2), p=2.0, dim=-1, eps=1e-12)
        logits = z1 @ z2.T / 0.2
        nce = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        prototypes = z1.view(4, -1, z1.shape[1]).mean(1)  # 4 classes
        d = T.cdist(F.normalize(encoder(queries)), prototypes)
        proto_loss = F.cross_entropy(-d.pow(2), T.arange(4).repeat_interleave(2))
        loss = nce + proto_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        dists.append(d.detach())
    d1 = T.cdist(x1, x2, p=1.0)
    return dict(init=init, losses=losses, dists=T.stack(dists), d1=d1,
                grad=encoder[0].weight.grad)


def test_metric_learning_with_normalize_and_cdist():
    rs = np.random.RandomState(7)
    x1 = rs.randn(16, 6).astype(np.float32)
    x2 = (x1 + 0.1 * rs.randn(16, 6)).astype(np.float32)
    queries = rs.randn(8, 6).astype(np.float32)
    e, t = _both(run_metric_learning, x1, x2, queries)
    _close(e["losses"], t["losses"])
    _close(e["dists"], t["dists"], atol=1e-4)
    _close(e["d1"], t["d1"])
    _close(e["grad"], t["grad"], rtol=1e-3)
