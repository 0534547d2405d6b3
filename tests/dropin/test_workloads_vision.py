"""Vision-style training workloads run unchanged under ember and under torch.

Each workload is plain PyTorch code written against a module ``T`` (``ember`` or ``torch``),
as a torchvision tutorial would write it. Both runs start from torch's initial weights and
see the same NumPy data, so their losses, outputs and gradients must agree to float32
tolerance. Where the two random generators differ (dropout masks, ``nn.init``) only shapes
and statistics are compared.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.utils.data  # noqa: F401  (torch users write ``from torch.utils.data import ...``)

torch = pytest.importorskip("torch")  # importing torch imports torch.utils.data

RTOL, ATOL = 1e-4, 1e-5


def _images(n=32, c=3, hw=8, classes=10, seed=0):
    """``n`` float32 images ``(n, c, hw, hw)`` in [0, 1) and int64 labels, from ``seed``."""
    rs = np.random.RandomState(seed)
    x = rs.rand(n, c, hw, hw).astype(np.float32)
    y = rs.randint(0, classes, size=n).astype(np.int64)
    return x, y


def _copy_state(tmodel, emodel):
    """Load torch's initial weights (parameters and buffers) into the ember model."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()}
    emodel.load_state_dict(state)


def _close(actual, expected, msg="", rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol,
                               err_msg=msg)


def _close_states(e_state, t_state, rtol=RTOL, atol=ATOL):
    assert list(e_state) == list(t_state)
    for k in t_state:
        _close(e_state[k].detach().numpy(), t_state[k].detach().numpy(), k, rtol, atol)


def _both(build, *args, **kwargs):
    """``build(T, ...)`` for torch, then for ember with torch's initial weights copied in."""
    torch.manual_seed(0)
    tmodel = build(torch, *args, **kwargs)
    emodel = build(ember, *args, **kwargs)
    _copy_state(tmodel, emodel)
    return emodel, tmodel


# --- a CNN classifier -------------------------------------------------------------------------
def make_cnn(T, p_drop=0.0, classes=10):
    """A small torchvision-style CNN as a Module subclass with ``features`` and a head."""
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(8),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(16),
                nn.ReLU(),
            )
            self.pool = nn.AdaptiveAvgPool2d((1, 1))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(p_drop),
                                            nn.Linear(16, classes))

        def forward(self, x):
            return self.classifier(self.pool(self.features(x)))

    return Net()


def train_cnn(T, model, x_np, y_np, epochs=2, sched="step"):
    """SGD(nesterov) + a scheduler over a DataLoader; then evaluate. Returns plain numbers."""
    device = T.device("cuda" if T.cuda.is_available() else "cpu")
    model = model.to(device)
    data = T.utils.data.TensorDataset(T.from_numpy(x_np), T.tensor(y_np))
    loader = T.utils.data.DataLoader(data, batch_size=8, shuffle=False)
    criterion = T.nn.CrossEntropyLoss()
    optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                            weight_decay=5e-4)
    if sched == "step":
        scheduler = T.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    else:
        scheduler = T.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=1e-3)
    losses, lrs = [], []
    for _epoch in range(epochs):
        model.train()
        running = 0.0
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            running += loss.item() * inputs.size(0)
            losses.append(loss.item())
        lrs.append(scheduler.get_last_lr()[0])
        scheduler.step()
    model.eval()
    correct, total = 0, 0
    with T.no_grad():
        logits = model(T.from_numpy(x_np).to(device))
        pred = logits.argmax(dim=1)
        acc = (pred == T.tensor(y_np)).float().mean().item()
        for inputs, targets in loader:
            predicted = model(inputs).argmax(1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
    return dict(losses=losses, lrs=lrs, logits=logits.cpu().numpy(), acc=acc,
                correct=correct, total=total, running=running / len(data))


@pytest.mark.parametrize("sched", ["step", "cosine"])
def test_cnn_classifier_trains_like_torch(sched):
    x, y = _images()
    emodel, tmodel = _both(make_cnn)
    t = train_cnn(torch, tmodel, x, y, sched=sched)
    e = train_cnn(ember, emodel, x, y, sched=sched)
    _close(e["losses"], t["losses"])
    _close(e["lrs"], t["lrs"], rtol=1e-6)
    _close(e["logits"], t["logits"], atol=1e-4)
    assert e["acc"] == pytest.approx(t["acc"]) and e["correct"] == t["correct"]
    assert e["total"] == t["total"] == 32
    assert e["running"] == pytest.approx(t["running"], rel=RTOL)
    # the trained weights and the BatchNorm buffers (running stats, num_batches_tracked)
    _close_states(emodel.state_dict(), tmodel.state_dict(), atol=1e-4)


def test_dropout_is_identity_in_eval_and_scales_in_train():
    x, _ = _images()
    emodel, tmodel = _both(make_cnn, p_drop=0.5)
    for model in (emodel, tmodel):
        model.train(False)
    assert not emodel.training and not emodel.classifier[1].training
    with ember.inference_mode():
        e_out = emodel(ember.from_numpy(x))
    with torch.inference_mode():
        t_out = tmodel(torch.from_numpy(x))
    assert not e_out.requires_grad
    _close(e_out.numpy(), t_out.numpy())
    emodel.train()
    drop = emodel.classifier[1]
    h = drop(ember.ones(64, 64))
    kept = h.numpy() != 0
    assert 0.4 < kept.mean() < 0.6
    _close(h.numpy()[kept], 2.0)


# --- a conv autoencoder -----------------------------------------------------------------------
def make_autoencoder(T):
    """Conv encoder down to 2x2, ConvTranspose2d decoder back to 8x8, Sigmoid output."""
    nn = T.nn
    encoder = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(),
                            nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU())
    decoder = nn.Sequential(
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(4, 1, kernel_size=2, stride=2), nn.Sigmoid())
    return nn.Sequential(encoder, decoder)


def train_autoencoder(T, model, x_np, steps=4):
    """Adam on MSE reconstruction loss; records losses and the first step's gradients."""
    optimizer = T.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99))
    criterion = T.nn.MSELoss()
    x = T.tensor(x_np)
    losses, grads = [], None
    for step in range(steps):
        recon = model(x)
        loss = criterion(recon, x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if step == 0:
            grads = {n: p.grad.detach().clone().numpy() for n, p in model.named_parameters()}
        optimizer.step()
        losses.append(loss.item())
    with T.no_grad():
        recon = model(x)
    return losses, grads, recon.detach().numpy()


def test_conv_autoencoder_trains_like_torch():
    x, _ = _images(n=8, c=1)
    emodel, tmodel = _both(make_autoencoder)
    t_losses, t_grads, t_recon = train_autoencoder(torch, tmodel, x)
    e_losses, e_grads, e_recon = train_autoencoder(ember, emodel, x)
    assert e_recon.shape == t_recon.shape == (8, 1, 8, 8)
    _close(e_losses, t_losses)
    assert list(e_grads) == list(t_grads)
    for name in t_grads:
        _close(e_grads[name], t_grads[name], name, atol=1e-6)
    _close(e_recon, t_recon)


# --- checkpointing and resuming ---------------------------------------------------------------
def _train_steps(T, model, optimizer, scheduler, batches):
    losses = []
    for xb, yb in batches:
        model.train()
        optimizer.zero_grad()
        loss = T.nn.functional.cross_entropy(model(xb), yb, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def checkpoint_and_resume(T, model, x_np, y_np, path):
    """Train 2 steps, save a checkpoint dict, restore it into fresh objects, train 2 more."""
    batches = [(T.tensor(x_np[i:i + 8]), T.tensor(y_np[i:i + 8])) for i in range(0, 32, 8)]
    optimizer = T.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = T.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    first = _train_steps(T, model, optimizer, scheduler, batches[:2])
    T.save({"epoch": 2, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "loss": first[-1]}, path)
    # the uninterrupted run goes on
    straight = _train_steps(T, model, optimizer, scheduler, batches[2:])
    # a new process would rebuild everything and load the checkpoint
    checkpoint = T.load(path)
    model2 = make_cnn(T)
    model2.load_state_dict(checkpoint["model_state_dict"])
    optimizer2 = T.optim.SGD(model2.parameters(), lr=0.05, momentum=0.9)
    optimizer2.load_state_dict(checkpoint["optimizer_state_dict"])
    scheduler2 = T.optim.lr_scheduler.CosineAnnealingLR(optimizer2, T_max=4)
    scheduler2.load_state_dict(checkpoint["scheduler"])
    assert checkpoint["epoch"] == 2 and checkpoint["loss"] == first[-1]
    resumed = _train_steps(T, model2, optimizer2, scheduler2, batches[2:])
    return first, straight, resumed, model2.state_dict()


def test_checkpoint_resume_gives_the_same_next_steps(tmp_path):
    x, y = _images()
    emodel, tmodel = _both(make_cnn)
    t = checkpoint_and_resume(torch, tmodel, x, y, str(tmp_path / "torch.pt"))
    e = checkpoint_and_resume(ember, emodel, x, y, str(tmp_path / "ember.pt"))
    assert e[2] == e[1]  # resuming is exact
    _close(e[0] + e[1], t[0] + t[1])
    _close_states(e[3], t[3], atol=1e-4)
    # the checkpoint holds the epoch, the loss and both state dicts in torch's layout
    # (ember writes safetensors, not pickle, so each library reads only its own files)
    ckpt = ember.load(str(tmp_path / "ember.pt"))
    assert ckpt["epoch"] == 2 and list(ckpt["model_state_dict"]) == list(t[3])
    assert ckpt["optimizer_state_dict"]["param_groups"][0]["momentum"] == 0.9
    assert set(ckpt["optimizer_state_dict"]["state"][0]) == {"momentum_buffer"}


# --- augmentation and normalisation ------------------------------------------------------------
def augment(T, x_np):
    """Horizontal flips appended to the batch, channels-last round trip, per-channel stats."""
    x = T.from_numpy(x_np)
    flipped = T.flip(x, dims=[3])
    batch = T.cat([x, flipped], dim=0)
    hwc = batch.permute(0, 2, 3, 1).contiguous()
    back = hwc.permute(0, 3, 1, 2)
    noisy = (back + 0.3 * T.from_numpy(np.linspace(-1, 1, back.numel(), dtype=np.float32))
             .reshape(back.shape)).clamp(0.0, 1.0)
    mean = noisy.mean(dim=(0, 2, 3), keepdim=True)
    std = noisy.std(dim=(0, 2, 3), keepdim=True)
    normed = (noisy - mean) / std
    vflip = batch.flip(2)
    rolled = T.roll(batch, shifts=(1, -1), dims=(2, 3))
    crop = T.nn.functional.pad(batch, (1, 1, 1, 1), mode="reflect")[:, :, 1:9, 0:8]
    norm_tv = (batch - T.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) \
        / T.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    gray = (batch * T.tensor([0.299, 0.587, 0.114])[None, :, None, None]).sum(1, keepdim=True)
    uint8 = (batch * 255).round().to(T.uint8)
    back_float = uint8.float().div(255)
    return dict(batch=batch, hwc=hwc, noisy=noisy, mean=mean, std=std, normed=normed,
                vflip=vflip, rolled=rolled, crop=crop, norm_tv=norm_tv, gray=gray,
                uint8=uint8, back_float=back_float, std_all=normed.std(), mean_all=normed.mean())


def test_augmentation_and_normalisation_match_torch():
    x, _ = _images(n=4)
    t = augment(torch, x)
    e = augment(ember, x)
    for k in t:
        assert tuple(e[k].shape) == tuple(t[k].shape), k
        assert str(e[k].dtype).split(".")[-1] == str(t[k].dtype).split(".")[-1], k
        _close(e[k].numpy(), t[k].numpy(), k)
    assert e["hwc"].is_contiguous() and not e["hwc"].permute(0, 3, 1, 2).is_contiguous()


# --- initialisation with model.apply ----------------------------------------------------------
def init_weights(T, model):
    """The classic torchvision init: kaiming for convs, ones/zeros for norms, normal for fc."""
    nn = T.nn

    def init_fn(m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)

    returned = model.apply(init_fn)
    assert returned is model
    return model


def test_model_apply_init_matches_torch_statistics():
    T_models = {}
    for T in (torch, ember):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Conv2d(16, 64, 3), T.nn.BatchNorm2d(64),
                                T.nn.GroupNorm(8, 64), T.nn.Linear(256, 128))
        T_models[T.__name__] = init_weights(T, model)
    for name, model in T_models.items():
        conv, bn, gn, fc = model
        w = conv.weight.detach().numpy()
        assert w.shape == (64, 16, 3, 3), name
        assert abs(w.std() - np.sqrt(2.0 / (64 * 9))) < 0.05 * np.sqrt(2.0 / (64 * 9)), name
        assert abs(w.mean()) < 0.01, name
        assert not conv.bias.detach().numpy().any()
        for norm in (bn, gn):
            assert (norm.weight.detach().numpy() == 1).all()
            assert not norm.bias.detach().numpy().any()
        assert abs(fc.weight.detach().numpy().std() - 0.01) < 0.001, name
        assert conv.weight.requires_grad and model[0].weight.grad is None
    e_names = [n for n, _ in T_models["ember"].named_parameters()]
    assert e_names == [n for n, _ in T_models["torch"].named_parameters()]


# --- forward hooks ------------------------------------------------------------------------------
def capture_activations(T, model, x_np):
    """``register_forward_hook`` on every ReLU and the pool, as feature-visualisation code does."""
    activations = {}

    def get_activation(name):
        def hook(module, inputs, output):
            activations[name] = output.detach()
        return hook

    handles = []
    for name, module in model.named_modules():
        if isinstance(module, (T.nn.ReLU, T.nn.AdaptiveAvgPool2d)):
            handles.append(module.register_forward_hook(get_activation(name)))
    model.eval()
    with T.no_grad():
        out = model(T.from_numpy(x_np))
    for h in handles:
        h.remove()
    n_before = len(activations)
    with T.no_grad():
        model(T.from_numpy(x_np))
    assert len(activations) == n_before
    # a hook that returns a value replaces the output
    handle = model.classifier.register_forward_hook(lambda m, i, o: o * 0 + 1)
    replaced = model(T.from_numpy(x_np))
    handle.remove()
    return out, activations, replaced


def test_forward_hooks_capture_the_same_activations():
    x, _ = _images(n=4)
    emodel, tmodel = _both(make_cnn)
    t_out, t_act, t_rep = capture_activations(torch, tmodel, x)
    e_out, e_act, e_rep = capture_activations(ember, emodel, x)
    assert list(e_act) == list(t_act) == ["features.2", "features.6", "pool"]
    for k in t_act:
        _close(e_act[k].numpy(), t_act[k].numpy(), k)
    _close(e_out.numpy(), t_out.numpy())
    _close(e_rep.detach().numpy(), t_rep.detach().numpy())


# --- parameter groups and gradient clipping ---------------------------------------------------
def train_with_groups(T, model, x_np, y_np, steps=3):
    """No weight decay on biases and norm weights, a smaller lr for the backbone; AdamW and
    ``clip_grad_norm_``. Returns losses, the pre-clip norms and the group sizes."""
    decay, no_decay, head = [], [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("classifier."):
            head.append(param)
        elif param.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(param)
        else:
            decay.append(param)
    optimizer = T.optim.AdamW([
        {"params": decay, "weight_decay": 0.05},
        {"params": no_decay, "weight_decay": 0.0},
        {"params": head, "lr": 3e-3},
    ], lr=1e-3, weight_decay=0.01)
    criterion = T.nn.CrossEntropyLoss(reduction="mean")
    x, y = T.tensor(x_np), T.tensor(y_np)
    losses, norms = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        norms.append(float(T.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)))
        T.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
        optimizer.step()
        losses.append(loss.item())
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    settings = [(g["lr"], g["weight_decay"]) for g in optimizer.param_groups]
    return losses, norms, sizes, settings


def test_parameter_groups_and_gradient_clipping_match_torch():
    x, y = _images(n=8)
    emodel, tmodel = _both(make_cnn)
    t = train_with_groups(torch, tmodel, x, y)
    e = train_with_groups(ember, emodel, x, y)
    _close(e[0], t[0])
    _close(e[1], t[1])
    assert e[2] == t[2] == [2, 4, 2] and e[3] == t[3]
    e_state, t_state = emodel.state_dict(), tmodel.state_dict()
    _close_states(e_state, t_state)


# --- a tiny segmentation net: upsampling, group and instance norm -----------------------------
def make_segnet(T, classes=3):
    """Encoder-decoder with a skip connection, as small U-Net tutorials write it."""
    nn, F = T.nn, T.nn.functional

    class SegNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8),
                                     nn.ReLU())
            self.down = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1),
                                      nn.InstanceNorm2d(8, affine=True), nn.LeakyReLU(0.1))
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.dec = nn.Conv2d(16, 8, 3, padding=1)
            self.norm = nn.InstanceNorm2d(8, track_running_stats=True)
            self.head = nn.Conv2d(8, classes, kernel_size=1)

        def forward(self, x):
            e = self.enc(x)
            d = self.down(F.avg_pool2d(e, kernel_size=2))
            d = self.up(d)
            d = F.relu(self.norm(self.dec(T.cat([e, d], dim=1))))
            out = self.head(d)
            return F.interpolate(out, scale_factor=0.5, mode="bilinear", align_corners=False)

    return SegNet()


def train_segnet(T, model, x_np, mask_np, steps=3):
    """Per-pixel cross entropy on a downsampled mask; SGD; then eval with the running stats."""
    optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, mask = T.from_numpy(x_np), T.from_numpy(mask_np)
    losses = []
    for _ in range(steps):
        model.train()
        logits = model(x)
        loss = T.nn.functional.cross_entropy(logits, mask, ignore_index=2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with T.no_grad():
        logits = model(x)
        up = T.nn.functional.interpolate(logits, size=(8, 8), mode="bilinear",
                                         align_corners=True)
        pred = up.argmax(dim=1)
        pixel_acc = (pred == T.nn.functional.interpolate(
            mask[:, None].float(), size=(8, 8)).squeeze(1).long()).float().mean().item()
    return losses, logits.numpy(), pixel_acc


def test_segmentation_net_with_group_and_instance_norm_matches_torch():
    x, _ = _images(n=4)
    mask = np.random.RandomState(1).randint(0, 3, size=(4, 4, 4)).astype(np.int64)
    emodel, tmodel = _both(make_segnet)
    assert list(emodel.state_dict()) == list(tmodel.state_dict())
    t = train_segnet(torch, tmodel, x, mask)
    e = train_segnet(ember, emodel, x, mask)
    _close(e[0], t[0])
    _close(e[1], t[1], atol=1e-4)
    assert e[2] == pytest.approx(t[2])
    _close_states(emodel.state_dict(), tmodel.state_dict(), atol=1e-4)


# --- datasets: random_split, Subset, DataLoader options ---------------------------------------
def split_and_load(T, x_np, y_np):
    """``random_split`` with a seeded generator, then train/val loaders as tutorials do."""
    data = T.utils.data.TensorDataset(T.tensor(x_np), T.tensor(y_np))
    train_set, val_set = T.utils.data.random_split(
        data, [0.75, 0.25], generator=T.Generator().manual_seed(42))
    train_loader = T.utils.data.DataLoader(train_set, batch_size=8, shuffle=False,
                                           drop_last=True)
    val_loader = T.utils.data.DataLoader(val_set, batch_size=5)
    shapes = [(tuple(xb.shape), tuple(yb.shape)) for xb, yb in train_loader]
    val_shapes = [tuple(xb.shape) for xb, _ in val_loader]
    return len(train_set), len(val_set), shapes, val_shapes, len(train_loader), len(val_loader)


def test_random_split_and_loaders_have_torch_sizes():
    x, y = _images(n=34)
    e = split_and_load(ember, x, y)
    t = split_and_load(torch, x, y)
    assert e == t
    assert e[:2] == (26, 8) and e[4:] == (3, 2)
