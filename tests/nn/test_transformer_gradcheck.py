"""MultiheadAttention and a Transformer encoder layer: backward against float64 finite
differences (no torch needed), and a few behaviours that need no oracle."""
from __future__ import annotations

import pytest

import ember
from ember import nn
from ember.autograd import gradcheck


def _mha(**kw):
    m = nn.MultiheadAttention(4, 2, dtype=ember.float64, **kw).eval()
    with ember.no_grad():  # non-zero biases, so their gradients are exercised
        for p in m.parameters():
            p.add_(ember.randn(*p.shape, dtype=ember.float64) * 0.1)
    return m


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_inputs_pass_gradcheck(need_weights):
    m = _mha()
    q = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    kv = ember.randn(2, 2, 4, dtype=ember.float64, requires_grad=True)
    mask = ember.tensor([[False, True], [False, False], [False, False]])

    def f(q, kv):
        out, w = m(q, kv, kv, attn_mask=mask, need_weights=need_weights)
        return (out, w) if need_weights else out

    assert gradcheck(f, (q, kv))


def test_multihead_attention_parameters_pass_gradcheck():
    m = _mha(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5, batch_first=True)
    q = ember.randn(2, 2, 4, dtype=ember.float64)
    k = ember.randn(2, 3, 3, dtype=ember.float64)
    v = ember.randn(2, 3, 5, dtype=ember.float64)
    kpm = ember.tensor([[False, False, True], [False, False, False]])
    names = [n for n, _ in m.named_parameters()]
    params = tuple(p for _, p in m.named_parameters())

    def f(*ps):
        saved = {n: getattr_path(m, n) for n in names}
        for n, p in zip(names, ps):
            setattr_path(m, n, p)
        try:
            return m(q, k, v, key_padding_mask=kpm)[0]
        finally:
            for n, p in saved.items():
                setattr_path(m, n, p)

    assert gradcheck(f, params)


def getattr_path(mod, name):
    *path, last = name.split(".")
    for part in path:
        mod = getattr(mod, part)
    return mod._parameters[last]


def setattr_path(mod, name, value):
    *path, last = name.split(".")
    for part in path:
        mod = getattr(mod, part)
    mod._parameters[last] = value


def test_encoder_layer_input_passes_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, activation="gelu",
                                       norm_first=True, dtype=ember.float64).eval()
    x = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (x,))


def test_multihead_attention_batch_first_is_a_transpose():
    m = _mha()
    x = ember.randn(2, 3, 4, dtype=ember.float64)
    bf = nn.MultiheadAttention(4, 2, batch_first=True, dtype=ember.float64)
    bf.load_state_dict(m.state_dict())
    out_bf, w_bf = bf(x, x, x)
    xt = x.transpose(0, 1)
    out, w = m(xt, xt, xt)
    assert ember.allclose(out_bf, out.transpose(0, 1))
    assert ember.allclose(w_bf, w)
    assert tuple(w.shape) == (2, 3, 3)


def test_attention_weights_rows_sum_to_one_and_respect_padding():
    m = _mha()
    x = ember.randn(4, 2, 4, dtype=ember.float64)
    kpm = ember.tensor([[False, False, False, True], [False, True, False, False]])
    _, w = m(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
    assert tuple(w.shape) == (2, 2, 4, 4)
    assert ember.allclose(w.sum(-1), ember.ones(2, 2, 4, dtype=ember.float64))
    assert (w[0, :, :, 3] == 0).all() and (w[1, :, :, 1] == 0).all()


def test_encoder_state_dict_names_follow_torch():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 6, batch_first=True), 2,
                                norm=nn.LayerNorm(4))
    keys = list(enc.state_dict())
    assert keys[:4] == ["layers.0.self_attn.in_proj_weight", "layers.0.self_attn.in_proj_bias",
                        "layers.0.self_attn.out_proj.weight", "layers.0.self_attn.out_proj.bias"]
    assert "layers.1.norm2.bias" in keys and keys[-2:] == ["norm.weight", "norm.bias"]
