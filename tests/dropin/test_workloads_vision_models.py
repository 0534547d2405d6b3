"""Model-zoo style vision workloads run unchanged under ember and under torch.

The companion of ``test_workloads_vision.py``: PyTorch's own examples (MNIST with
Adadelta, sub-pixel super-resolution, the spatial transformer tutorial), a ResNet basic
block with fine-tuning and a weight EMA, and a tiny vision transformer. Each workload is a
function of the module ``T`` (``ember`` or ``torch``); both runs start from torch's initial
weights and see the same NumPy data, so losses, outputs and weights must agree.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import ember
import ember.utils.data  # noqa: F401  (torch users write ``from torch.utils.data import ...``)

torch = pytest.importorskip("torch")  # importing torch imports torch.utils.data

RTOL, ATOL = 1e-4, 1e-5


def _images(n=16, c=1, hw=10, classes=10, seed=0):
    rs = np.random.RandomState(seed)
    return (rs.rand(n, c, hw, hw).astype(np.float32),
            rs.randint(0, classes, size=n).astype(np.int64))


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
    state = {k: ember.tensor(v.detach().numpy()) for k, v in tmodel.state_dict().items()}
    emodel.load_state_dict(state)
    return emodel, tmodel


# --- pytorch/examples: mnist ------------------------------------------------------------------
def make_mnist_net(T, p1=0.0, p2=0.0):
    """The MNIST example's Net (functional pooling, log_softmax), for 10x10 inputs."""
    nn, F = T.nn, T.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(p1)
            self.dropout2 = nn.Dropout(p2)
            self.fc1 = nn.Linear(144, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = T.flatten(x, 1)
            x = self.dropout2(F.relu(self.fc1(x)))
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def mnist_main(T, model, x_np, y_np, epochs=2):
    """The example's train() / test() loops with Adadelta and StepLR(gamma=0.7)."""
    F = T.nn.functional
    loader = T.utils.data.DataLoader(
        T.utils.data.TensorDataset(T.from_numpy(x_np), T.from_numpy(y_np)), batch_size=8)
    optimizer = T.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = T.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses, test_losses, corrects = [], [], []
    for _epoch in range(1, epochs + 1):
        model.train()
        for data, target in loader:
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        test_loss, correct = 0, 0
        with T.no_grad():
            for data, target in loader:
                output = model(data)
                test_loss += F.nll_loss(output, target, reduction="sum").item()
                pred = output.argmax(dim=1, keepdim=True)
                correct += pred.eq(target.view_as(pred)).sum().item()
        test_losses.append(test_loss / len(loader.dataset))
        corrects.append(correct)
        scheduler.step()
    return losses, test_losses, corrects, optimizer.param_groups[0]["lr"]


def test_mnist_example_with_adadelta_matches_torch():
    x, y = _images()
    emodel, tmodel = _both(make_mnist_net)
    t = mnist_main(torch, tmodel, x, y)
    e = mnist_main(ember, emodel, x, y)
    _close(e[0], t[0])
    _close(e[1], t[1])
    assert e[2] == t[2] and e[3] == pytest.approx(t[3]) == 0.49
    _close_states(emodel.state_dict(), tmodel.state_dict(), atol=1e-4)


# --- pytorch/examples: super_resolution (sub-pixel convolution) -------------------------------
def make_superres(T, upscale_factor=2):
    """The example's Net: three convolutions, then ``upscale^2`` channels and PixelShuffle."""
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.relu = nn.ReLU()
            self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
            self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
            self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
            self.conv4 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
            self._initialize_weights()

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            return self.pixel_shuffle(self.conv4(x))

        def _initialize_weights(self):
            nn.init.orthogonal_(self.conv1.weight, nn.init.calculate_gain("relu"))
            nn.init.orthogonal_(self.conv2.weight, nn.init.calculate_gain("relu"))
            nn.init.orthogonal_(self.conv3.weight, nn.init.calculate_gain("relu"))
            nn.init.orthogonal_(self.conv4.weight)

    return Net()


def train_superres(T, model, hr_np, steps=4):
    """Low-resolution inputs by bicubic / area downsampling; Adam on MSE; PSNR per step."""
    F = T.nn.functional
    hr = T.from_numpy(hr_np)
    lr_bicubic = F.interpolate(hr, scale_factor=0.5, mode="bicubic", align_corners=False)
    lr_area = F.interpolate(hr, scale_factor=0.5, mode="area")
    inputs = T.cat([lr_bicubic.clamp(0, 1), lr_area], dim=0)
    targets = T.cat([hr, hr], dim=0)
    criterion = T.nn.MSELoss()
    optimizer = T.optim.Adam(model.parameters(), lr=1e-3)
    losses, psnrs = [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        psnrs.append(10 * math.log10(1 / loss.item()))
    with T.no_grad():
        out = model(inputs[:1]).clamp(0.0, 1.0)
        img = (out[0].permute(1, 2, 0) * 255.0).round().to(T.uint8).cpu().numpy()
    return losses, psnrs, inputs.numpy(), img


def test_super_resolution_example_matches_torch():
    hr = _images(n=4, hw=8)[0]
    emodel, tmodel = _both(make_superres)
    t = train_superres(torch, tmodel, hr)
    e = train_superres(ember, emodel, hr)
    _close(e[2], t[2])
    _close(e[0], t[0])
    _close(e[1], t[1])
    assert e[3].shape == t[3].shape == (8, 8, 1) and e[3].dtype == np.uint8
    assert np.abs(e[3].astype(int) - t[3].astype(int)).max() <= 1
    # orthogonal_ under each library's generator: the flattened weights are orthogonal
    w = make_superres(ember).conv2.weight.detach().numpy().reshape(16, -1)
    _close(w @ w.T, 2.0 * np.eye(16), atol=1e-4)


# --- the spatial transformer tutorial -------------------------------------------------------
def make_stn(T):
    """The tutorial's Net: a localisation net regressing a 2x3 affine matrix that
    ``affine_grid`` and ``grid_sample`` apply before the classifier (10x10 inputs)."""
    nn, F = T.nn, T.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
            self.conv2_drop = nn.Dropout2d(p=0.0)
            self.fc1 = nn.Linear(4 * 4 * 4, 10)
            self.localization = nn.Sequential(
                nn.Conv2d(1, 4, kernel_size=3), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
            self.fc_loc = nn.Sequential(nn.Linear(4 * 4 * 4, 8), nn.ReLU(True), nn.Linear(8, 6))
            self.fc_loc[2].weight.data.zero_()
            self.fc_loc[2].bias.data.copy_(T.tensor([1, 0, 0, 0, 1, 0], dtype=T.float))

        def stn(self, x):
            xs = self.localization(x)
            xs = xs.view(-1, 4 * 4 * 4)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = F.affine_grid(theta, x.size(), align_corners=False)
            return F.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = self.stn(x)
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv1(x)), 2))
            x = x.view(-1, 4 * 4 * 4)
            return F.log_softmax(self.fc1(x), dim=1)

    return Net()


def train_stn(T, model, x_np, y_np, steps=4):
    optimizer = T.optim.SGD(model.parameters(), lr=0.05)
    x, y = T.from_numpy(x_np), T.from_numpy(y_np)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = T.nn.functional.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with T.no_grad():
        warped = model.stn(x)
    return losses, warped.numpy(), model.fc_loc[2].bias.grad.numpy()


def test_spatial_transformer_tutorial_matches_torch():
    x, y = _images(n=8)
    emodel, tmodel = _both(make_stn)
    with torch.no_grad(), ember.no_grad():  # the identity transform starts as a no-op
        _close(emodel.stn(ember.from_numpy(x)).numpy(), x, atol=1e-6)
    t = train_stn(torch, tmodel, x, y)
    e = train_stn(ember, emodel, x, y)
    _close(e[0], t[0])
    _close(e[1], t[1])
    _close(e[2], t[2], atol=1e-6)
    _close_states(emodel.state_dict(), tmodel.state_dict())


# --- a ResNet basic block: residual in place, top-k accuracy, fine-tuning, weight EMA ---------
def make_resnet(T, classes=10):
    """torchvision's BasicBlock (``out += identity`` in place) in a two-stage mini ResNet."""
    nn = T.nn

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding="same", bias=False),
                                      nn.BatchNorm2d(8), nn.ReLU(inplace=True))
            down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
            self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 16, 2, down))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(16 * BasicBlock.expansion, classes)

        def forward(self, x):
            x = self.avgpool(self.layer1(self.stem(x)))
            return self.fc(T.flatten(x, 1))

    return ResNet()


def accuracy(output, target, topk=(1,)):
    """The ImageNet example's top-k precision, in percent."""
    maxk, batch_size = max(topk), target.size(0)
    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))
    return [correct[:k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / batch_size)
            for k in topk]


def finetune_resnet(T, model, x_np, y_np, steps=3, decay=0.9):
    """Train briefly with OneCycleLR and a weight EMA, then freeze the backbone, swap the
    head for 4 classes and fine-tune it; the backbone's weights must not move."""
    nn = T.nn
    x, y = T.from_numpy(x_np), T.from_numpy(y_np)
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    optimizer = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = T.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.2, total_steps=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    losses, tops = [], []
    for _ in range(steps):
        model.train()
        output = model(x)
        loss = criterion(output, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        with T.no_grad():
            for ema_v, model_v in zip(ema.state_dict().values(), model.state_dict().values()):
                if ema_v.dtype.is_floating_point:
                    ema_v.mul_(decay).add_(model_v.detach(), alpha=1 - decay)
                else:
                    ema_v.copy_(model_v)
        losses.append(loss.item())
        tops.append([a.item() for a in accuracy(output, y, topk=(1, 5))])
    # fine-tune: a new head on a frozen backbone
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 4)
    model.fc.weight.data.copy_(T.linspace(-0.2, 0.2, 64).view(4, 16))
    nn.init.zeros_(model.fc.bias)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = model.stem[0].weight.detach().clone()
    head_opt = T.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-2)
    model.eval()
    for _ in range(2):
        head_opt.zero_grad()
        loss = criterion(model(x), y % 4)
        loss.backward()
        head_opt.step()
        losses.append(loss.item())
    assert not model.stem[0].weight.requires_grad and T.equal(model.stem[0].weight, frozen)
    # loading the old checkpoint non-strictly reports the head's mismatch
    state = {k: v for k, v in ema.state_dict().items() if not k.startswith("fc.")}
    result = model.load_state_dict(state, strict=False)
    return (losses, tops, trainable, sorted(result.missing_keys), list(result.unexpected_keys),
            ema.state_dict(), model.fc.weight.detach().numpy())


def test_resnet_block_finetuning_and_ema_match_torch():
    x, y = _images(n=8, c=3, hw=8)
    emodel, tmodel = _both(make_resnet)
    t = finetune_resnet(torch, tmodel, x, y)
    e = finetune_resnet(ember, emodel, x, y)
    _close(e[0], t[0])
    _close(e[1], t[1])
    assert e[2] == t[2] == 68 and e[3] == t[3] == ["fc.bias", "fc.weight"] and e[4] == t[4]
    _close_states(e[5], t[5], atol=1e-4)
    _close(e[6], t[6])


# --- a tiny vision transformer -----------------------------------------------------------------
def make_vit(T, patch=4, dim=16, classes=5):
    """Patches by ``F.unfold`` (checked against ``Tensor.unfold`` and a strided conv), a
    class token, learned positions, one pre-norm encoder layer and a linear head."""
    nn, F = T.nn, T.nn.functional

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(3 * patch * patch, dim)
            self.cls_token = nn.Parameter(T.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(T.randn(1, 5, dim) * 0.02)
            self.encoder = nn.TransformerEncoderLayer(dim, nhead=2, dim_feedforward=32,
                                                      dropout=0.0, activation="gelu",
                                                      batch_first=True, norm_first=True)
            self.norm = nn.LayerNorm(dim, eps=1e-6)
            self.head = nn.Linear(dim, classes)

        def patches(self, x):
            return F.unfold(x, kernel_size=patch, stride=patch).transpose(1, 2)

        def forward(self, x):
            tokens = self.proj(self.patches(x))
            cls = self.cls_token.expand(x.shape[0], -1, -1)
            tokens = T.cat((cls, tokens), dim=1) + self.pos_embed
            return self.head(self.norm(self.encoder(tokens))[:, 0])

    return ViT()


def train_vit(T, model, x_np, y_np, steps=3, warmup=2):
    x, y = T.from_numpy(x_np), T.from_numpy(y_np)
    # the same patches three ways
    p = model.patches(x)
    b, c = x.shape[:2]
    by_tensor = x.unfold(2, 4, 4).unfold(3, 4, 4).permute(0, 2, 3, 1, 4, 5).reshape(b, 4, -1)
    conv = T.nn.Conv2d(3, 16, 4, stride=4)
    with T.no_grad():
        conv.weight.copy_(model.proj.weight.view(16, 3, 4, 4))
        conv.bias.copy_(model.proj.bias)
        via_conv = conv(x).flatten(2).transpose(1, 2)
        via_proj = model.proj(p)
    optimizer = T.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    scheduler = T.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses, p.numpy(), by_tensor.numpy(), via_conv.numpy(), via_proj.numpy()


def test_tiny_vision_transformer_matches_torch():
    x, y = _images(n=6, c=3, hw=8, classes=5)
    emodel, tmodel = _both(make_vit)
    t = train_vit(torch, tmodel, x, y)
    e = train_vit(ember, emodel, x, y)
    _close(e[0], t[0])
    for i in (1, 2, 3):
        _close(e[i], t[i])
    _close(e[3], e[4], atol=1e-5)  # a strided conv is a linear map of unfolded patches
    _close(e[1], e[2])
    # the key bias cannot change attention (softmax ignores a shift shared by all keys): its
    # true gradient is 0, so Adam's steps on it are rounding noise in both libraries
    e_state, t_state = emodel.state_dict(), tmodel.state_dict()
    for state in (e_state, t_state):
        state["encoder.self_attn.in_proj_bias"][16:32] = 0
    _close_states(e_state, t_state, atol=1e-4)
