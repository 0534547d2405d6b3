"""The pieces a small GPT script leans on, one at a time, against torch."""
from __future__ import annotations

import os

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


def _pair(shape, seed=0, requires_grad=True):
    a = np.random.RandomState(seed).randn(*shape).astype(np.float32)
    return (ember.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _copy_params(e_module, t_module):
    e_module.load_state_dict({k: ember.tensor(v.detach().numpy())
                              for k, v in t_module.state_dict().items()})


def test_layernorm_without_bias_matches_torch():
    e_ln, t_ln = ember.nn.LayerNorm(6, bias=False), torch.nn.LayerNorm(6, bias=False)
    with torch.no_grad():
        t_ln.weight.uniform_(0.5, 1.5)
    _copy_params(e_ln, t_ln)
    assert list(e_ln.state_dict()) == list(t_ln.state_dict()) == ["weight"]
    assert e_ln.bias is None
    ex, tx = _pair((3, 4, 6))
    g = np.random.RandomState(1).randn(3, 4, 6).astype(np.float32)
    eo, to = e_ln(ex), t_ln(tx)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    assert_close(eo, to, rtol=1e-5, atol=1e-5)
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    assert_close(e_ln.weight.grad, t_ln.weight.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(approximate):
    ex, tx = _pair((5, 40))
    ex.data *= 3
    tx.data *= 3
    eo = ember.nn.GELU(approximate=approximate)(ex)
    to = torch.nn.GELU(approximate=approximate)(tx)
    eo.sum().backward()
    to.sum().backward()
    assert_close(eo, to, rtol=1e-5, atol=1e-6)
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-5)


class _Masked:
    """A module with a causal tril buffer, written once for both libraries."""

    @staticmethod
    def build(lib, T):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("bias", lib.tril(lib.ones(T, T)).view(1, 1, T, T))

            def forward(self, att):
                t = att.size(-1)
                att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
                return lib.nn.functional.softmax(att, dim=-1)

        return M()


def test_masked_fill_with_a_tril_buffer_matches_torch():
    e_m, t_m = _Masked.build(ember, 6), _Masked.build(torch, 6)
    assert list(e_m.state_dict()) == list(t_m.state_dict()) == ["bias"]
    ex, tx = _pair((2, 3, 5, 5))
    eo, to = e_m(ex), t_m(tx)
    w = np.random.RandomState(2).randn(2, 3, 5, 5).astype(np.float32)
    (eo * ember.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    assert_close(eo, to, rtol=1e-5, atol=1e-6)
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args", [(4,), ([2, 6],)])
def test_split_along_dim_matches_torch_and_backpropagates(args):
    ex, tx = _pair((2, 3, 8))
    e_parts, t_parts = ex.split(*args, dim=2), tx.split(*args, dim=2)
    assert [p.shape for p in e_parts] == [tuple(p.shape) for p in t_parts]
    for k, (ep, tp) in enumerate(zip(e_parts, t_parts)):
        (ep * (k + 1)).sum().backward(retain_graph=True)
        (tp * (k + 1)).sum().backward(retain_graph=True)
    assert_close(ex.grad, tx.grad)
    assert [p.shape for p in ember.split(ex, *args, dim=-1)] == [p.shape for p in e_parts]


def test_adamw_param_groups_with_per_group_lr_changes_match_torch():
    def run(lib):
        lib.manual_seed(0)
        layers = [lib.nn.Linear(4, 4), lib.nn.Linear(4, 2)]
        for layer, seed in zip(layers, (1, 2)):
            rs = np.random.RandomState(seed)
            with lib.no_grad():
                layer.weight.copy_(lib.tensor(rs.randn(*layer.weight.shape).astype(np.float32)))
                layer.bias.copy_(lib.tensor(rs.randn(*layer.bias.shape).astype(np.float32)))
        decay = [layers[0].weight, layers[1].weight]
        no_decay = [layers[0].bias, layers[1].bias]
        opt = lib.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                               {"params": no_decay, "weight_decay": 0.0, "lr": 3e-2}],
                              lr=1e-2, betas=(0.9, 0.95))
        x = lib.tensor(np.random.RandomState(3).randn(8, 4).astype(np.float32))
        for step in range(4):
            for k, group in enumerate(opt.param_groups):
                group["lr"] = (1e-2, 3e-2)[k] * (0.5 ** step)
            loss = layers[1](layers[0](x).tanh()).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            lib.nn.utils.clip_grad_norm_([p for layer in layers for p in layer.parameters()],
                                         0.5)
            opt.step()
        return [p.detach().numpy().copy() for layer in layers for p in layer.parameters()]

    for e, t in zip(run(ember), run(torch)):
        assert_close(e, t, rtol=1e-5, atol=1e-6)


def test_from_numpy_on_a_memmapped_token_file(tmp_path):
    path = os.path.join(tmp_path, "train.bin")
    np.arange(1000, dtype=np.uint16).tofile(path)
    data = np.memmap(path, dtype=np.uint16, mode="r")
    ix = [3, 500, 990]
    block = 8
    results = []
    for lib in (ember, torch):
        x = lib.stack([lib.from_numpy((data[i:i + block]).astype(np.int64)) for i in ix])
        results.append(x)
    assert results[0].dtype == ember.int64
    assert_close(results[0], results[1])
    shared = np.memmap(path.replace("train", "ids"), dtype=np.int64, mode="w+", shape=(10,))
    t = ember.from_numpy(shared)
    t[2] = 7
    assert shared[2] == 7  # from_numpy shares the mapped memory


def test_multinomial_and_topk_sample_only_allowed_tokens():
    logits = ember.tensor([[0.1, 2.0, -1.0, 3.0, 0.5]])
    v, _ = ember.topk(logits, 2)
    logits[logits < v[:, [-1]]] = -float("Inf")
    probs = ember.nn.functional.softmax(logits, dim=-1)
    draws = ember.multinomial(probs.expand(200, -1).contiguous(), num_samples=1)
    assert set(draws.view(-1).tolist()) <= {1, 3}
    assert draws.shape == (200, 1) and draws.dtype == ember.int64
