"""ember.nn against torch.nn: every layer's forward, gradients, running statistics and
train/eval behaviour; every loss with every reduction and option; init distributions; and
the notes' model trained 100 steps side by side."""

import math
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn
TF = torch.nn.functional


def to_e(t):
    return ember.tensor(t.detach().numpy().copy())


def to_t(e):
    return torch.tensor(np.asarray(e.detach().numpy()).copy())


def sync(emod, tmod):
    """Give the ember module the torch module's exact state."""
    emod.load_state_dict({k: to_e(v) for k, v in tmod.state_dict().items()})
    return emod


def close(a, b, rtol=1e-5, atol=1e-6):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def run_both(emod, tmod, x_np, *, int_input=False, train=True, extra=()):
    """Forward both on the same input, backprop the same random cotangent, compare output,
    input gradient, parameter gradients and buffers."""
    emod.train(train)
    tmod.train(train)
    if int_input:
        ex, tx = ember.tensor(x_np), torch.tensor(x_np)
    else:
        ex = ember.tensor(x_np, requires_grad=True)
        tx = torch.tensor(x_np, requires_grad=True)
    eo = emod(ex, *[ember.tensor(e) for e in extra])
    to = tmod(tx, *[torch.tensor(e) for e in extra])
    close(eo, to)
    g = np.random.default_rng(99).standard_normal(tuple(to.shape)).astype(np.float32)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    if not int_input:
        close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    tparams = dict(tmod.named_parameters())
    for name, p in emod.named_parameters():
        tp = tparams[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.numpy().any(), name
        else:
            close(p.grad, tp.grad, rtol=1e-4, atol=1e-5)
    tbufs = dict(tmod.named_buffers())
    for name, b in emod.named_buffers():
        close(b, tbufs[name])
    return eo, to


def rand(shape, seed=0, scale=1.0, shift=0.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(np.float32)


# --- layers ----------------------------------------------------------------------------------
LAYERS = [
    ("linear", lambda m: m.Linear(5, 3), (4, 5)),
    ("linear_nobias", lambda m: m.Linear(5, 3, bias=False), (4, 5)),
    ("linear_3d", lambda m: m.Linear(5, 3), (2, 4, 5)),
    ("linear_1d", lambda m: m.Linear(5, 3), (5,)),
    ("bilinear", None, None),
    ("layernorm", lambda m: m.LayerNorm(6), (4, 6)),
    ("layernorm_2d_nobias", lambda m: m.LayerNorm([3, 6], bias=False), (2, 3, 6)),
    ("layernorm_noaffine", lambda m: m.LayerNorm(6, elementwise_affine=False), (4, 6)),
    ("rmsnorm", lambda m: m.RMSNorm(6), (4, 6)),
    ("relu", lambda m: m.ReLU(), (4, 6)),
    ("relu6", lambda m: m.ReLU6(), (4, 6)),
    ("leaky_relu", lambda m: m.LeakyReLU(0.2), (4, 6)),
    ("elu", lambda m: m.ELU(0.7), (4, 6)),
    ("gelu", lambda m: m.GELU(), (4, 6)),
    ("gelu_tanh", lambda m: m.GELU("tanh"), (4, 6)),
    ("silu", lambda m: m.SiLU(), (4, 6)),
    ("mish", lambda m: m.Mish(), (4, 6)),
    ("tanh", lambda m: m.Tanh(), (4, 6)),
    ("sigmoid", lambda m: m.Sigmoid(), (4, 6)),
    ("hardtanh", lambda m: m.Hardtanh(-0.5, 0.8), (4, 6)),
    ("softplus", lambda m: m.Softplus(beta=2.0, threshold=3.0), (4, 6)),
    ("logsigmoid", lambda m: m.LogSigmoid(), (4, 6)),
    ("glu", lambda m: m.GLU(1), (4, 6)),
    ("softmax", lambda m: m.Softmax(dim=1), (4, 6)),
    ("softmin", lambda m: m.Softmin(dim=0), (4, 6)),
    ("log_softmax", lambda m: m.LogSoftmax(dim=-1), (4, 6)),
    ("flatten", lambda m: m.Flatten(), (2, 3, 4)),
    ("unflatten", lambda m: m.Unflatten(1, (2, 3)), (4, 6)),
    ("identity", lambda m: m.Identity(), (4, 6)),
    ("dropout_eval", lambda m: m.Dropout(0.5), (4, 6)),
    ("sequential", lambda m: m.Sequential(m.Linear(6, 8), m.Tanh(), m.Linear(8, 2)), (4, 6)),
]


@pytest.mark.parametrize("name, build, shape", [c for c in LAYERS if c[1] is not None],
                         ids=[c[0] for c in LAYERS if c[1] is not None])
def test_layer_matches_torch(name, build, shape):
    torch.manual_seed(0)
    tmod = build(tnn)
    emod = sync(build(nn), tmod)
    train = name != "dropout_eval"
    run_both(emod, tmod, rand(shape, 1, 2.0), train=train)


def test_bilinear_matches_torch():
    torch.manual_seed(0)
    tmod = tnn.Bilinear(3, 4, 2)
    emod = sync(nn.Bilinear(3, 4, 2), tmod)
    run_both(emod, tmod, rand((5, 3), 1), extra=(rand((5, 4), 2),))


BN_CASES = [
    ("2d", dict(), (8, 4)),
    ("3d", dict(), (6, 4, 5)),
    ("momentum_none", dict(momentum=None), (8, 4)),
    ("momentum_0.3", dict(momentum=0.3), (8, 4)),
    ("no_affine", dict(affine=False), (8, 4)),
    ("no_bias", dict(bias=False), (8, 4)),
    ("no_tracking", dict(track_running_stats=False), (8, 4)),
    ("eps", dict(eps=1e-2), (3, 4)),
]


@pytest.mark.parametrize("name, kwargs, shape", BN_CASES, ids=[c[0] for c in BN_CASES])
def test_batchnorm1d_train_then_eval_matches_torch(name, kwargs, shape):
    torch.manual_seed(0)
    tmod = tnn.BatchNorm1d(4, **kwargs)
    if tmod.weight is not None:
        with torch.no_grad():
            tmod.weight.uniform_(0.5, 1.5)
            if tmod.bias is not None:
                tmod.bias.uniform_(-0.5, 0.5)
    emod = sync(nn.BatchNorm1d(4, **kwargs), tmod)
    for step in range(3):  # running statistics over several batches
        run_both(emod, tmod, rand(shape, step, 3.0, 1.0), train=True)
    for m in (emod, tmod):
        m.zero_grad()
    run_both(emod, tmod, rand(shape, 10, 3.0, 1.0), train=False)


def test_batchnorm2d_matches_torch():
    torch.manual_seed(0)
    tmod = tnn.BatchNorm2d(3)
    emod = sync(nn.BatchNorm2d(3), tmod)
    run_both(emod, tmod, rand((2, 3, 4, 5), 0, 2.0), train=True)
    run_both(emod, tmod, rand((2, 3, 4, 5), 1, 2.0), train=False)


EMB_CASES = [
    ("plain", dict()),
    ("padding", dict(padding_idx=2)),
    ("padding_negative", dict(padding_idx=-1)),
    ("max_norm", dict(max_norm=1.5)),
    ("max_norm_l1", dict(max_norm=2.0, norm_type=1.0)),
    ("scale_grad_by_freq", dict(scale_grad_by_freq=True)),
]


@pytest.mark.parametrize("name, kwargs", EMB_CASES, ids=[c[0] for c in EMB_CASES])
def test_embedding_matches_torch(name, kwargs):
    torch.manual_seed(0)
    tmod = tnn.Embedding(7, 4, **kwargs)
    emod = sync(nn.Embedding(7, 4, **kwargs), tmod)
    ids = np.array([[0, 2, 2, 6], [1, 2, 5, 5]])
    run_both(emod, tmod, ids, int_input=True)
    close(emod.weight, tmod.weight)  # max_norm renormalised the same rows in place


# --- losses ----------------------------------------------------------------------------------
def loss_pair(efn, tfn, x_np, t_np, *, t_float=False, t_grad=False):
    ex = ember.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    if t_float:
        et = ember.tensor(t_np, requires_grad=t_grad)
        tt = torch.tensor(t_np, requires_grad=t_grad)
    else:
        et, tt = ember.tensor(t_np), torch.tensor(t_np)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eo, to = efn(ex, et), tfn(tx, tt)
    close(eo, to, rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(5).standard_normal(tuple(to.shape)).astype(np.float32)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    close(ex.grad, tx.grad, rtol=1e-4, atol=1e-6)
    if t_grad:
        close(et.grad, tt.grad, rtol=1e-4, atol=1e-6)


CE_WEIGHT = np.array([0.2, 1.0, 2.5, 0.7, 1.3], np.float32)
CE_OPTIONS = [
    dict(),
    dict(weight=CE_WEIGHT),
    dict(ignore_index=1),
    dict(ignore_index=-100),
    dict(label_smoothing=0.15),
    dict(weight=CE_WEIGHT, ignore_index=2, label_smoothing=0.25),
]


def _opts(opts, lib):
    out = dict(opts)
    if "weight" in out:
        out["weight"] = (ember.tensor(out["weight"]) if lib == "ember"
                         else torch.tensor(out["weight"]))
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opt_id", range(len(CE_OPTIONS)))
@pytest.mark.parametrize("layout", ["2d", "nd", "1d"])
def test_cross_entropy_matches_torch(reduction, opt_id, layout):
    opts = CE_OPTIONS[opt_id]
    rng = np.random.default_rng(opt_id)
    if layout == "2d":
        x, t = rand((6, 5), 1, 3.0), rng.integers(0, 5, 6)
    elif layout == "nd":
        x, t = rand((3, 5, 2, 4), 1, 3.0), rng.integers(0, 5, (3, 2, 4))
    else:
        x, t = rand((5,), 1, 3.0), np.array(1)
    if "ignore_index" in opts and opts["ignore_index"] >= 0 and layout != "1d":
        t.reshape(-1)[:2] = opts["ignore_index"]
    loss_pair(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **_opts(opts, "ember")),
              lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **_opts(opts, "torch")),
              x, t)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", [dict(), dict(label_smoothing=0.2), dict(weight=CE_WEIGHT)])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4)])
def test_cross_entropy_probability_targets_match_torch(reduction, opts, shape):
    p = np.random.default_rng(3).uniform(0.0, 1.0, shape).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    loss_pair(lambda a, b: F.cross_entropy(a, b, reduction=reduction, **_opts(opts, "ember")),
              lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **_opts(opts, "torch")),
              rand(shape, 1, 2.0), p, t_float=True, t_grad=True)


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = rand((3, 4), 0)
    t = np.array([-100, -100, -100])
    e = F.cross_entropy(ember.tensor(x), ember.tensor(t)).item()
    tv = TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert math.isnan(e) and math.isnan(tv)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", [dict(), dict(weight=CE_WEIGHT), dict(ignore_index=3),
                                  dict(weight=CE_WEIGHT, ignore_index=0)])
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3)])
def test_nll_loss_matches_torch(reduction, opts, shape):
    t = np.random.default_rng(2).integers(0, 5, (shape[0],) + shape[2:])
    x = np.log(np.random.default_rng(1).uniform(0.05, 1.0, shape)).astype(np.float32)
    loss_pair(lambda a, b: F.nll_loss(a, b, reduction=reduction, **_opts(opts, "ember")),
              lambda a, b: TF.nll_loss(a, b, reduction=reduction, **_opts(opts, "torch")),
              x, t)


POINTWISE = [
    ("mse", lambda L, r, **k: L.mse_loss, {}),
    ("l1", lambda L, r, **k: L.l1_loss, {}),
    ("smooth_l1", lambda L, r, **k: L.smooth_l1_loss, {"beta": 0.5}),
    ("smooth_l1_beta0", lambda L, r, **k: L.smooth_l1_loss, {"beta": 0.0}),
    ("huber", lambda L, r, **k: L.huber_loss, {"delta": 0.7}),
    ("bce_logits", lambda L, r, **k: L.binary_cross_entropy_with_logits, {}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, get, kw", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_pointwise_losses_match_torch(reduction, name, get, kw):
    x = rand((4, 5), 1, 2.0)
    y = np.random.default_rng(2).uniform(0, 1, (4, 5)).astype(np.float32)
    loss_pair(lambda a, b: get(F, reduction)(a, b, reduction=reduction, **kw),
              lambda a, b: get(TF, reduction)(a, b, reduction=reduction, **kw),
              x, y, t_float=True, t_grad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_mse_l1_match_torch(reduction):
    w = np.random.default_rng(4).uniform(0.1, 2, (4, 5)).astype(np.float32)
    for ef, tf in ((F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss)):
        loss_pair(lambda a, b, ef=ef: ef(a, b, reduction=reduction, weight=ember.tensor(w)),
                  lambda a, b, tf=tf: tf(a, b, reduction=reduction, weight=torch.tensor(w)),
                  rand((4, 5), 1), rand((4, 5), 2), t_float=True)


def test_mse_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(ember.randn(4, 3), ember.randn(4, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_losses_match_torch(reduction, weighted):
    p = np.random.default_rng(1).uniform(0.02, 0.98, (4, 3)).astype(np.float32)
    y = np.random.default_rng(2).uniform(0, 1, (4, 3)).astype(np.float32)
    w = np.random.default_rng(3).uniform(0.5, 2, (3,)).astype(np.float32)
    pw = np.random.default_rng(4).uniform(0.5, 3, (3,)).astype(np.float32)
    ew = dict(weight=ember.tensor(w)) if weighted else {}
    tw = dict(weight=torch.tensor(w)) if weighted else {}
    loss_pair(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction, **ew),
              lambda a, b: TF.binary_cross_entropy(a, b, reduction=reduction, **tw), p, y,
              t_float=True)
    x = rand((4, 3), 5, 3.0)
    loss_pair(lambda a, b: F.binary_cross_entropy_with_logits(
                  a, b, reduction=reduction, pos_weight=ember.tensor(pw), **ew),
              lambda a, b: TF.binary_cross_entropy_with_logits(
                  a, b, reduction=reduction, pos_weight=torch.tensor(pw), **tw),
              x, y, t_float=True, t_grad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    x = np.log(np.random.default_rng(1).dirichlet(np.ones(5), 4)).astype(np.float32)
    t = np.random.default_rng(2).dirichlet(np.ones(5), 4).astype(np.float32)
    t[0, 0] = 0.0
    if log_target:
        t = np.log(t + 0.1).astype(np.float32)
    loss_pair(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
              lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
              x, t, t_float=True)


@pytest.mark.parametrize("cls, kwargs", [
    ("CrossEntropyLoss", dict(label_smoothing=0.1)), ("NLLLoss", dict(ignore_index=0)),
    ("MSELoss", dict(reduction="sum")), ("L1Loss", dict()),
    ("BCEWithLogitsLoss", dict()), ("HuberLoss", dict(delta=0.5)),
    ("SmoothL1Loss", dict(beta=0.3)),
])
def test_loss_modules_match_torch(cls, kwargs):
    x = rand((4, 3), 1)
    if cls in ("CrossEntropyLoss", "NLLLoss"):
        t = np.array([0, 2, 1, 0])
        tf = False
    else:
        t = np.random.default_rng(2).uniform(0, 1, (4, 3)).astype(np.float32)
        tf = True
    loss_pair(getattr(nn, cls)(**kwargs), getattr(tnn, cls)(**kwargs), x, t, t_float=tf)


def test_weighted_loss_module_state_dict_matches_torch():
    w = torch.tensor([1.0, 2.0, 3.0])
    assert list(nn.CrossEntropyLoss(weight=to_e(w)).state_dict()) == list(
        tnn.CrossEntropyLoss(weight=w).state_dict())


LOSS_ERRORS = [
    ("batch", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.zeros(3, dtype=T.long))),
    ("target_high", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2, 3]))),
    ("target_negative", lambda L, T: L.nll_loss(T.zeros(4, 3), T.tensor([0, 1, -1, 2]))),
    ("target_dtype", lambda L, T: L.cross_entropy(T.zeros(4, 3),
                                                  T.tensor([0, 1, 2, 1], dtype=T.int32))),
    ("multi_target", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.zeros(4, 2, dtype=T.long))),
    ("nd_target", lambda L, T: L.cross_entropy(T.zeros(2, 3, 5), T.zeros(2, 4, dtype=T.long))),
    ("smoothing", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2, 1]),
                                               label_smoothing=1.5)),
    ("reduction", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2, 1]),
                                               reduction="foo")),
    ("weight_size", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.tensor([0, 1, 2, 1]),
                                                 weight=T.ones(2))),
    ("prob_ignore", lambda L, T: L.cross_entropy(T.zeros(4, 3), T.ones(4, 3), ignore_index=1)),
    ("bce_size", lambda L, T: L.binary_cross_entropy(T.ones(4, 3) / 2, T.ones(4, 1))),
    ("bce_logits_size", lambda L, T: L.binary_cross_entropy_with_logits(T.ones(4, 3),
                                                                        T.ones(4, 1))),
    ("emb_float", lambda L, T: L.embedding(T.tensor([0.0, 1.0]), T.ones(4, 2))),
    ("emb_range", lambda L, T: L.embedding(T.tensor([0, 4]), T.ones(4, 2))),
    ("layer_norm", lambda L, T: L.layer_norm(T.ones(2, 3), [4])),
    ("dropout_p", lambda L, T: L.dropout(T.ones(2), 1.5)),
    ("bn_one_value", lambda L, T: L.batch_norm(T.ones(1, 4), T.zeros(4), T.ones(4),
                                               training=True)),
]


@pytest.mark.parametrize("name, call", LOSS_ERRORS, ids=[c[0] for c in LOSS_ERRORS])
def test_errors_have_torch_type_and_message(name, call):
    with pytest.raises(Exception) as tinfo:
        call(TF, torch)
    with pytest.raises(Exception) as einfo:
        call(F, ember)
    assert isinstance(einfo.value, type(tinfo.value)), (einfo.value, tinfo.value)
    want = str(tinfo.value).split("\n")[0]
    if name == "emb_range":  # ember adds the bad id and the table size
        want = "index out of range in self"
    assert str(einfo.value).startswith(want), (str(einfo.value), want)


# --- functional odds and ends ----------------------------------------------------------------
def test_one_hot_matches_torch():
    t = np.array([[0, 3], [2, 1]])
    close(F.one_hot(ember.tensor(t)), TF.one_hot(torch.tensor(t)))
    close(F.one_hot(ember.tensor(t), 6), TF.one_hot(torch.tensor(t), 6))


@pytest.mark.parametrize("mode, pad", [("constant", (1, 2)), ("constant", (2, -1, 0, 1)),
                                       ("reflect", (2, 1)), ("replicate", (1, 3, 2, 0)),
                                       ("circular", (2, 1))])
def test_pad_matches_torch(mode, pad):
    x = rand((2, 3, 4), 0)
    kwargs = {"value": 1.5} if mode == "constant" else {}
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = F.pad(ex, pad, mode=mode, **kwargs), TF.pad(tx, pad, mode=mode, **kwargs)
    close(eo, to)
    g = rand(tuple(to.shape), 1)
    (eo * ember.tensor(g)).sum().backward()
    (to * torch.tensor(g)).sum().backward()
    close(ex.grad, tx.grad)


@pytest.mark.parametrize("kind", ["plain", "causal", "bool_mask", "float_mask", "scale"])
def test_scaled_dot_product_attention_matches_torch(kind):
    q, k, v = rand((2, 3, 4, 8), 0), rand((2, 3, 4, 8), 1), rand((2, 3, 4, 5), 2)
    kwargs_e, kwargs_t = {}, {}
    if kind == "causal":
        kwargs_e = kwargs_t = {"is_causal": True}
    elif kind == "bool_mask":
        m = np.random.default_rng(3).uniform(size=(4, 4)) > 0.3
        m[:, 0] = True
        kwargs_e, kwargs_t = {"attn_mask": ember.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif kind == "float_mask":
        m = rand((4, 4), 4)
        kwargs_e, kwargs_t = {"attn_mask": ember.tensor(m)}, {"attn_mask": torch.tensor(m)}
    elif kind == "scale":
        kwargs_e = kwargs_t = {"scale": 0.3}
    es = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    eo = F.scaled_dot_product_attention(*es, **kwargs_e)
    to = TF.scaled_dot_product_attention(*ts, **kwargs_t)
    close(eo, to)
    eo.sum().backward()
    to.sum().backward()
    for a, b in zip(es, ts):
        close(a.grad, b.grad, rtol=1e-4, atol=1e-5)


def test_normalize_and_cosine_similarity_match_torch():
    a, b = rand((4, 5), 0), rand((4, 5), 1)
    close(F.normalize(ember.tensor(a)), TF.normalize(torch.tensor(a)))
    close(F.normalize(ember.tensor(a), p=1, dim=0), TF.normalize(torch.tensor(a), p=1, dim=0))
    close(F.cosine_similarity(ember.tensor(a), ember.tensor(b)),
          TF.cosine_similarity(torch.tensor(a), torch.tensor(b)))


# --- init ------------------------------------------------------------------------------------
def ks_statistic(a, b):
    """Two-sample Kolmogorov-Smirnov distance."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.max(np.abs(np.searchsorted(a, grid, "right") / a.size
                         - np.searchsorted(b, grid, "right") / b.size))


INITS = [
    ("uniform_", dict(a=-0.3, b=0.7)),
    ("normal_", dict(mean=0.5, std=2.0)),
    ("trunc_normal_", dict(mean=0.2, std=1.0, a=-1.0, b=1.5)),
    ("xavier_uniform_", dict(gain=1.3)),
    ("xavier_normal_", dict()),
    ("kaiming_uniform_", dict(a=math.sqrt(5))),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict()),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="tanh")),
    ("orthogonal_", dict(gain=2.0)),
]


@pytest.mark.parametrize("fn, kwargs", INITS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INITS)])
def test_init_distribution_matches_torch(fn, kwargs):
    shape = (300, 200)
    ember.manual_seed(0)
    torch.manual_seed(0)
    e = getattr(nn.init, fn)(ember.empty(*shape), **kwargs).numpy()
    t = getattr(tnn.init, fn)(torch.empty(*shape), **kwargs).numpy()
    # 60,000 draws each: the 0.1% critical KS distance is about 0.011
    assert ks_statistic(e, t) < 0.015
    if fn in ("uniform_", "xavier_uniform_", "kaiming_uniform_", "trunc_normal_"):
        assert e.min() >= t.min() - 1e-3 * abs(t.min()) - 0.01 * (t.max() - t.min())
        assert e.max() <= t.max() + 0.01 * (t.max() - t.min())


def test_orthogonal_is_orthogonal():
    w = nn.init.orthogonal_(ember.empty(5, 8)).numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-5)


@pytest.mark.parametrize("name, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("selu", None),
                                         ("conv2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(
        tnn.init.calculate_gain(name, param))


def test_default_layer_inits_match_torch_distributions():
    ember.manual_seed(0)
    torch.manual_seed(0)
    for build in (lambda m: m.Linear(300, 200), lambda m: m.Embedding(300, 200, padding_idx=3)):
        e, t = build(nn), build(tnn)
        for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
            n = ep.numel()
            # the 0.1% critical KS distance for two samples of n: 1.95 * sqrt(2 / n)
            assert ks_statistic(ep.detach().numpy(), tp.detach().numpy()) < 2 * math.sqrt(
                2 / n), name
        if isinstance(e, nn.Embedding):
            assert not e.weight.detach().numpy()[3].any()


# --- the end-to-end oracle: the notes' model, 100 steps -----------------------------------------
def notes_model(m, vocab, ctx, emb_dim, hidden, p):
    return m.Sequential(m.Embedding(vocab, emb_dim), m.Flatten(), m.Linear(ctx * emb_dim, hidden),
                        m.BatchNorm1d(hidden), m.ReLU(), m.Dropout(p), m.Linear(hidden, vocab))


def test_notes_model_trains_like_torch_for_100_steps():
    vocab, ctx, emb_dim, hidden, batch, lr = 27, 6, 8, 48, 32, 0.1
    torch.manual_seed(0)
    tmodel = notes_model(tnn, vocab, ctx, emb_dim, hidden, 0.0)
    emodel = sync(notes_model(nn, vocab, ctx, emb_dim, hidden, 0.0), tmodel)
    rng = np.random.default_rng(0)
    text = rng.integers(0, vocab, 5000)
    use_optim = hasattr(ember, "optim") and hasattr(ember.optim, "SGD")
    eopt = ember.optim.SGD(emodel.parameters(), lr=lr) if use_optim else None
    e_losses, t_losses = [], []
    for _ in range(100):
        starts = rng.integers(0, text.size - ctx - 1, batch)
        x = np.stack([text[s:s + ctx] for s in starts])
        y = text[starts + ctx]
        tmodel.zero_grad()
        tl = TF.cross_entropy(tmodel(torch.tensor(x)), torch.tensor(y))
        tl.backward()
        with torch.no_grad():
            for p in tmodel.parameters():
                p -= lr * p.grad
        emodel.zero_grad()
        el = F.cross_entropy(emodel(ember.tensor(x)), ember.tensor(y))
        el.backward()
        if eopt is not None:
            eopt.step()
        else:
            with ember.no_grad():
                for p in emodel.parameters():
                    p -= lr * p.grad
        e_losses.append(el.item())
        t_losses.append(tl.item())
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-4)
    assert t_losses[-1] < t_losses[0]
    for name, b in emodel.named_buffers():
        close(b, dict(tmodel.named_buffers())[name], rtol=1e-3, atol=1e-4)
    emodel.eval()
    tmodel.eval()
    x = np.stack([text[s:s + ctx] for s in range(0, 640, 10)])
    with ember.no_grad():
        eo = emodel(ember.tensor(x))
    with torch.no_grad():
        to = tmodel(torch.tensor(x))
    assert eo.grad_fn is None
    close(eo, to, rtol=1e-3, atol=1e-4)
