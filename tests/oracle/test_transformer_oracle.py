"""MultiheadAttention, the Transformer layers and multi_head_attention_forward against torch:
torch's state_dict loaded into ember, then outputs, attention weights and float64 gradients
of the inputs and every parameter compared (eval mode, so dropout is off), plus torch's
errors and warnings for bad shapes and options."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import functional as F

E, H = 8, 2  # model width and heads throughout


def to_e(t, requires_grad=False):
    return ember.tensor(t.detach().numpy().copy(), requires_grad=requires_grad)


def close(a, b, rtol=1e-7, atol=1e-9, msg=""):
    a = np.asarray(a.detach().numpy()) if hasattr(a, "detach") else np.asarray(a)
    b = np.asarray(b.detach().numpy()) if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, (msg, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=msg)


def build(torch, name, *args, **kwargs):
    """The same float64 layer in both libraries, ember's holding torch's (random) state."""
    tmod = getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs)
    emod = getattr(nn, name)(*args, dtype=ember.float64, **kwargs)
    with torch.no_grad():  # make zero-initialised biases non-trivial
        for p in tmod.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    state = tmod.state_dict()
    assert list(emod.state_dict()) == list(state)
    emod.load_state_dict({k: to_e(v) for k, v in state.items()})
    tmod.eval()
    emod.eval()
    return emod, tmod


def compare(torch, emod, tmod, inputs, call=None, *, masks=(), check_weights=True, **kwargs):
    """Run both on ``inputs`` (float64 arrays, each requiring grad) plus ``kwargs`` (arrays
    turned into tensors); compare the outputs, then backprop one random cotangent through
    the first output and compare input and parameter gradients."""
    call = call or (lambda m, *xs, **kw: m(*xs, **kw))
    t_in = [torch.tensor(x, requires_grad=True) for x in inputs]
    e_in = [ember.tensor(x, requires_grad=True) for x in inputs]
    t_kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    e_kw = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    t_out, e_out = call(tmod, *t_in, **t_kw), call(emod, *e_in, **e_kw)
    if isinstance(t_out, tuple):
        if check_weights:
            assert (t_out[1] is None) == (e_out[1] is None)
            if t_out[1] is not None:
                close(e_out[1], t_out[1], msg="attention weights")
        t_out, e_out = t_out[0], e_out[0]
    close(e_out, t_out, msg="output")
    assert e_out.dtype == ember.float64
    g = np.random.randn(*t_out.shape)
    (t_out * torch.tensor(g)).sum().backward()
    (e_out * ember.tensor(g)).sum().backward()
    for i, (te, ee) in enumerate(zip(t_in, e_in)):
        close(ee.grad, te.grad, msg=f"grad of input {i}")
    t_params, e_params = dict(tmod.named_parameters()), dict(emod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        close(e_params[name].grad, tp.grad, msg=f"grad of {name}")


def rand(*shape):
    return np.random.randn(*shape)


def pad_mask(n, s, as_float=False):
    m = np.zeros((n, s), dtype=bool)
    m[0, -1] = True
    m[-1, 1:3] = True  # key 0 stays visible, so no causal row is fully masked
    return np.where(m, -np.inf, 0.0) if as_float else m


def causal(n):
    return np.triu(np.ones((n, n), dtype=bool), 1)


# -------------------------------------------------------------------------------------------
# MultiheadAttention

MHA_CASES = {
    "self_weights": ({}, {}),
    "batch_first_no_weights": ({"batch_first": True}, {"need_weights": False}),
    "per_head_weights": ({}, {"average_attn_weights": False}),
    "bool_attn_mask": ({}, {"attn_mask": "causal"}),
    "bool_attn_mask_no_weights": ({}, {"attn_mask": "causal", "need_weights": False}),
    "float_attn_mask": ({}, {"attn_mask": "float"}),
    "3d_attn_mask": ({}, {"attn_mask": "3d"}),
    "key_padding_bool": ({}, {"key_padding_mask": "bool"}),
    "key_padding_float_no_weights": ({"batch_first": True},
                                     {"key_padding_mask": "float", "need_weights": False}),
    "both_masks": ({}, {"attn_mask": "causal", "key_padding_mask": "bool"}),
    "is_causal_hint": ({"batch_first": True},
                       {"attn_mask": "causal", "is_causal": True, "need_weights": False}),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                          {"attn_mask": "causal", "key_padding_mask": "bool"}),
    "no_bias": ({"bias": False}, {"need_weights": False}),
}


def _masks(torch, opts, n, length):
    out = dict(opts)
    if opts.get("attn_mask") == "causal":
        out["attn_mask"] = causal(length)
    elif opts.get("attn_mask") == "float":
        out["attn_mask"] = rand(length, length)
    elif opts.get("attn_mask") == "3d":
        out["attn_mask"] = rand(n * H, length, length)
    if opts.get("key_padding_mask") in ("bool", "float"):
        out["key_padding_mask"] = pad_mask(n, length, opts["key_padding_mask"] == "float")
    return out


@pytest.mark.parametrize("case", list(MHA_CASES), ids=str)
def test_multihead_self_attention_matches_torch(torch, case):
    ctor, opts = MHA_CASES[case]
    emod, tmod = build(torch, "MultiheadAttention", E, H, **ctor)
    n, length = 3, 5
    x = rand(n, length, E) if ctor.get("batch_first") else rand(length, n, E)
    # self-attention: one tensor as query, key and value, as the layers call it
    compare(torch, emod, tmod, [x], lambda m, a, **kw: m(a, a, a, **kw),
            **_masks(torch, opts, n, length))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_cross_attention_with_kdim_vdim_matches_torch(torch, batch_first):
    emod, tmod = build(torch, "MultiheadAttention", E, H, kdim=6, vdim=4,
                       batch_first=batch_first)
    assert "q_proj_weight" in dict(emod.named_parameters())
    assert emod.in_proj_weight is None
    n, L, S = 2, 3, 4
    shape = (lambda s, d: (n, s, d)) if batch_first else (lambda s, d: (s, n, d))
    compare(torch, emod, tmod, [rand(*shape(L, E)), rand(*shape(S, 6)), rand(*shape(S, 4))],
            key_padding_mask=pad_mask(n, S, as_float=True), attn_mask=rand(L, S))


def test_multihead_encoder_decoder_attention_shares_key_and_value(torch):
    emod, tmod = build(torch, "MultiheadAttention", E, H)
    compare(torch, emod, tmod, [rand(3, 2, E), rand(6, 2, E)],
            lambda m, q, kv, **kw: m(q, kv, kv, **kw), need_weights=False)


def test_multihead_unbatched_input_matches_torch(torch):
    emod, tmod = build(torch, "MultiheadAttention", E, H)
    compare(torch, emod, tmod, [rand(4, E), rand(5, E), rand(5, E)],
            key_padding_mask=np.array([0.0, 0.0, -np.inf, 0.0, -np.inf]),
            attn_mask=rand(H, 4, 5), average_attn_weights=False)


def test_multihead_attention_init_and_repr_as_torch(torch):
    m = nn.MultiheadAttention(E, H, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(E, H, add_bias_kv=True)
    assert repr(m) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, nn.Linear)
    assert np.all(m.in_proj_bias.detach().numpy() == 0)
    assert np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = (6 / (E + 3 * E)) ** 0.5  # xavier-uniform over the packed (3E, E) weight
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_multihead_functional_matches_torch(torch):
    """F.multi_head_attention_forward called directly, with separate projection weights."""
    L, S, n, kd, vd = 3, 4, 2, 5, 6
    arrays = [rand(L, n, E), rand(S, n, kd), rand(S, n, vd), rand(E, E), rand(E, kd),
              rand(E, vd), rand(3 * E), rand(E, E), rand(E), rand(1, 1, E), rand(1, 1, E)]

    def call(lib, Fn, q, k, v, wq, wk, wv, b, wo, bo, bk, bv, **kw):
        return Fn.multi_head_attention_forward(
            q, k, v, E, H, None, b, bk, bv, True, 0.5, wo, bo, training=False,
            use_separate_proj_weight=True, q_proj_weight=wq, k_proj_weight=wk,
            v_proj_weight=wv, **kw)

    class Shim:  # give compare() a "module" with no parameters
        def __init__(self, lib, Fn):
            self.lib, self.Fn = lib, Fn

        def named_parameters(self):
            return []

    compare(torch, Shim(ember, F), Shim(torch, torch.nn.functional), arrays,
            lambda m, *xs, **kw: call(m.lib, m.Fn, *xs, **kw),
            key_padding_mask=pad_mask(n, S), attn_mask=causal(4)[:L, :S].copy())


def test_multihead_dropout_only_while_training(torch):
    m = nn.MultiheadAttention(E, H, dropout=0.5)
    x = ember.randn(4, 2, E)
    m.eval()
    a, b = m(x, x, x)[0], m(x, x, x)[0]
    close(a, b)
    m.train()
    out, w = m(x, x, x)
    assert (w.detach().numpy() == 0).any() or not np.allclose(out.detach().numpy(),
                                                              a.detach().numpy())


# -------------------------------------------------------------------------------------------
# Encoder and decoder layers, stacks and the Transformer


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(torch, norm_first, activation):
    emod, tmod = build(torch, "TransformerEncoderLayer", E, H, dim_feedforward=16, dropout=0.1,
                       activation=activation, norm_first=norm_first)
    compare(torch, emod, tmod, [rand(5, 3, E)], src_mask=causal(5),
            src_key_padding_mask=pad_mask(3, 5))


def test_encoder_layer_batch_first_callable_activation_and_causal_hint(torch):
    tmod = torch.nn.TransformerEncoderLayer(E, H, 16, activation=torch.tanh, batch_first=True,
                                            dtype=torch.float64)
    emod = nn.TransformerEncoderLayer(E, H, 16, activation=ember.tanh, batch_first=True,
                                      dtype=ember.float64)
    emod.load_state_dict({k: to_e(v) for k, v in tmod.state_dict().items()})
    tmod.eval()
    emod.eval()
    assert emod.activation_relu_or_gelu == 0
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    compare(torch, emod, tmod, [rand(2, 4, E)], src_mask=mask, is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(torch, norm_first):
    emod, tmod = build(torch, "TransformerDecoderLayer", E, H, dim_feedforward=16,
                       norm_first=norm_first, activation="gelu", batch_first=True)
    compare(torch, emod, tmod, [rand(2, 4, E), rand(2, 5, E)], tgt_mask=causal(4),
            memory_key_padding_mask=pad_mask(2, 5, True), tgt_key_padding_mask=pad_mask(2, 4))


def test_two_layer_encoder_matches_torch(torch):
    layer_kw = dict(dim_feedforward=16, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmod = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, **layer_kw),
                                           2, norm=torch.nn.LayerNorm(E, dtype=torch.float64))
        emod = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(E, H, dim_feedforward=16, dtype=ember.float64), 2,
            norm=nn.LayerNorm(E, dtype=ember.float64))
    assert list(emod.state_dict()) == list(tmod.state_dict())
    assert emod.layers[0] is not emod.layers[1]  # deep copies
    emod.load_state_dict({k: to_e(v) for k, v in tmod.state_dict().items()})
    tmod.eval()
    emod.eval()
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    compare(torch, emod, tmod, [rand(5, 2, E)], mask=mask.numpy())  # detected as causal
    compare(torch, emod, tmod, [rand(5, 2, E)], src_key_padding_mask=pad_mask(2, 5))


def test_transformer_matches_torch(torch):
    kw = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=1,
              dim_feedforward=16, batch_first=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emod, tmod = build(torch, "Transformer", **kw)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=ember.float64)
    compare(torch, emod, tmod, [rand(2, 6, E), rand(2, 4, E)], tgt_mask=tgt_mask.numpy(),
            src_key_padding_mask=pad_mask(2, 6), memory_key_padding_mask=pad_mask(2, 6))


def test_generate_square_subsequent_mask_as_torch(torch):
    e = nn.Transformer.generate_square_subsequent_mask(4)
    t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert e.dtype == ember.float32
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_encoder_layer_eval_no_grad_matches_torch_fast_path(torch):
    """Under no_grad in eval mode torch takes its fused path; ember's plain one agrees."""
    tmod = torch.nn.TransformerEncoderLayer(E, H, 16, batch_first=True).eval()
    emod = nn.TransformerEncoderLayer(E, H, 16, batch_first=True).eval()
    emod.load_state_dict({k: to_e(v) for k, v in tmod.state_dict().items()})
    x = np.random.randn(2, 5, E).astype(np.float32)
    kpm = pad_mask(2, 5)
    with torch.no_grad(), ember.no_grad():
        t = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
        e = emod(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))
    close(e, t, rtol=1e-4, atol=1e-5)


def test_encoder_nested_tensor_warning_as_torch(torch):
    with pytest.warns(UserWarning) as rec_t:
        torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, 16), 1)
    with pytest.warns(UserWarning) as rec_e:
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16), 1)
    assert str(rec_e[0].message) == str(rec_t[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 16, batch_first=True), 1)


# -------------------------------------------------------------------------------------------
# Errors


def _errors(torch_fn, ember_fn):
    with pytest.raises(Exception) as t_err:
        torch_fn()
    with pytest.raises(Exception) as e_err:
        ember_fn()
    assert isinstance(e_err.value, t_err.type), (e_err.value, t_err.value)
    assert str(e_err.value) == str(t_err.value)


def _mha_pair(torch, **kw):
    return torch.nn.MultiheadAttention(E, H, **kw), nn.MultiheadAttention(E, H, **kw)


BAD_CALLS = {
    "query_4d": (lambda lib: [lib.zeros(1, 2, 3, E)] * 3, {}),
    "key_rank": (lambda lib: [lib.zeros(3, 2, E), lib.zeros(3, E), lib.zeros(3, E)], {}),
    "width": (lambda lib: [lib.zeros(3, 2, 6)] * 3, {}),
    "key_value_shapes": (lambda lib: [lib.zeros(3, 2, E), lib.zeros(4, 2, E),
                                      lib.zeros(5, 2, E)], {}),
    "attn_mask_2d": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"attn_mask": (3, 4)}),
    "attn_mask_3d": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"attn_mask": (2, 3, 3)}),
    "attn_mask_4d": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"attn_mask": (1, 1, 3, 3)}),
    "padding_batch": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"key_padding_mask": (3, 3)}),
    "padding_len": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"key_padding_mask": (2, 4)}),
    "padding_rank": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"key_padding_mask": (3,)}),
    "int_mask": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"attn_mask": "int"}),
    "causal_without_mask": (lambda lib: [lib.zeros(3, 2, E)] * 3, {"is_causal": True}),
}


@pytest.mark.parametrize("case", list(BAD_CALLS), ids=str)
def test_multihead_bad_input_raises_as_torch(torch, case):
    tm, em = _mha_pair(torch)
    make, opts = BAD_CALLS[case]

    def run(lib, mod):
        kw = {}
        for k, v in opts.items():
            if v == "int":
                kw[k] = lib.zeros(3, 3, dtype=lib.int64)
            elif isinstance(v, tuple):
                kw[k] = lib.zeros(*v, dtype=lib.bool)
            else:
                kw[k] = v
        return lambda: mod(*make(lib), **kw)

    _errors(run(torch, tm), run(ember, em))


def test_bad_constructor_options_raise_as_torch(torch):
    _errors(lambda: torch.nn.MultiheadAttention(6, 4), lambda: nn.MultiheadAttention(6, 4))
    _errors(lambda: torch.nn.MultiheadAttention(0, 2), lambda: nn.MultiheadAttention(0, 2))
    _errors(lambda: torch.nn.TransformerEncoderLayer(E, H, activation="tanh"),
            lambda: nn.TransformerEncoderLayer(E, H, activation="tanh"))


def test_transformer_bad_shapes_raise_as_torch(torch):
    kw = dict(d_model=E, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
              dim_feedforward=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, em = torch.nn.Transformer(**kw), nn.Transformer(**kw)
    _errors(lambda: tm(torch.zeros(3, 2, E), torch.zeros(4, 3, E)),
            lambda: em(ember.zeros(3, 2, E), ember.zeros(4, 3, E)))
    _errors(lambda: tm(torch.zeros(3, 2, E), torch.zeros(4, 2, 6)),
            lambda: em(ember.zeros(3, 2, E), ember.zeros(4, 2, 6)))


def test_mismatched_mask_types_warn_as_torch(torch):
    tm, em = _mha_pair(torch)

    def run(lib, mod):
        x = lib.zeros(3, 2, E)
        with pytest.warns(UserWarning) as rec:
            mod(x, x, x, key_padding_mask=lib.zeros(2, 3, dtype=lib.bool),
                attn_mask=lib.zeros(3, 3))
        return [str(r.message) for r in rec]

    assert run(ember, em) == run(torch, tm)
