"""F.scaled_dot_product_attention: the fused op against torch and finite differences."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn._attention import scaled_dot_product_attention as sdpa
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


def _arrays(shapes, seed=0, dtype=np.float32):
    rs = np.random.RandomState(seed)
    return [rs.randn(*s).astype(dtype) for s in shapes]


def _both(shapes, mask=None, mask_grad=False, **kwargs):
    """Run ember and torch on the same inputs; return (outputs, input grads) of each."""
    arrays = _arrays(shapes)
    results = []
    for lib, fn in ((ember, sdpa), (torch, torch.nn.functional.scaled_dot_product_attention)):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        m = None
        if mask is not None:
            m = lib.tensor(mask, requires_grad=mask_grad)
        out = fn(q, k, v, attn_mask=m, **kwargs)
        weights = lib.tensor(_arrays([out.shape], seed=1)[0])
        (out * weights).sum().backward()
        grads = [q.grad, k.grad, v.grad] + ([m.grad] if mask_grad else [])
        results.append((out, grads))
    return results


def _check(shapes, mask=None, mask_grad=False, **kwargs):
    (eo, eg), (to, tg) = _both(shapes, mask, mask_grad, **kwargs)
    assert_close(eo, to, rtol=1e-5, atol=1e-5)
    for name, a, b in zip("qkvm", eg, tg):
        assert_close(a, b, rtol=1e-4, atol=1e-5, msg=f"grad of {name}")


def test_plain_attention_matches_torch():
    _check([(2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)])


def test_causal_attention_matches_torch():
    _check([(2, 4, 6, 8)] * 3, is_causal=True)


def test_causal_with_fewer_keys_than_queries_matches_torch():
    _check([(1, 2, 6, 4), (1, 2, 3, 4), (1, 2, 3, 4)], is_causal=True)


def test_bool_mask_with_a_row_that_attends_nowhere_gives_zeros_like_torch():
    mask = np.tril(np.ones((5, 5), bool))
    mask[2] = False
    _check([(2, 2, 5, 4)] * 3, mask=mask)
    (eo, _), _ = _both([(2, 2, 5, 4)] * 3, mask=mask)
    assert np.all(eo.detach().numpy()[:, :, 2] == 0)


def test_float_mask_is_added_and_receives_a_gradient():
    mask = _arrays([(1, 5, 7)], seed=3)[0]
    _check([(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)], mask=mask, mask_grad=True)


def test_custom_scale_matches_torch():
    _check([(2, 5, 4), (2, 6, 4), (2, 6, 3)], scale=0.3)


def test_broadcast_batch_dims_and_2d_inputs_match_torch():
    _check([(2, 3, 4), (1, 5, 4), (1, 5, 6)])
    _check([(3, 4), (5, 4), (5, 6)])


def test_grouped_query_attention_matches_torch():
    _check([(1, 4, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8)], enable_gqa=True)


def test_nanogpt_style_call_matches_the_explicit_masked_softmax():
    B, H, T, D = 2, 2, 6, 4
    q, k, v = (ember.tensor(a) for a in _arrays([(B, H, T, D)] * 3))
    bias = ember.tril(ember.ones(T, T)).view(1, 1, T, T)
    att = (q @ k.transpose(-2, -1)) * (1.0 / D ** 0.5)
    att = att.masked_fill(bias[:, :, :T, :T] == 0, float("-inf"))
    expected = att.softmax(dim=-1) @ v
    assert_close(sdpa(q, k, v, is_causal=True), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [dict(), dict(is_causal=True), dict(mask="bool"),
                                    dict(mask="float")])
def test_gradcheck_float64(kwargs):
    q, k, v = _arrays([(2, 4, 3), (2, 5, 3), (2, 5, 2)], dtype=np.float64)
    inputs = [ember.tensor(a, requires_grad=True) for a in (q, k, v)]
    if kwargs.get("is_causal"):
        inputs = [ember.tensor(a[:, :4], requires_grad=True) for a in (q, k, v)]
    mask = kwargs.pop("mask", None)
    if mask == "bool":
        m = np.ones((4, 5), bool)
        m[1, 2:] = False
        kwargs["attn_mask"] = ember.tensor(m)
    elif mask == "float":
        inputs.append(ember.tensor(_arrays([(4, 5)], 2, np.float64)[0], requires_grad=True))

    def f(*xs):
        if mask == "float":
            return sdpa(*xs[:3], attn_mask=xs[3])
        return sdpa(*xs, **kwargs)

    assert gradcheck(f, inputs)


def test_dropout_scales_survivors_and_drops_the_rest():
    q, k, v = (ember.tensor(a) for a in _arrays([(1, 1, 4, 3), (1, 1, 4, 3), (1, 1, 4, 3)]))
    v = ember.eye(4).view(1, 1, 4, 4)  # output rows are the (dropped) attention weights
    ember.manual_seed(0)
    dropped = sdpa(q, k, v, dropout_p=0.5).numpy()
    full = sdpa(q, k, v).numpy()
    kept = dropped != 0
    assert 0 < kept.sum() < kept.size
    assert_close(dropped[kept], 2 * full[kept])
    assert np.all(sdpa(q, k, v, dropout_p=1.0).numpy() == 0)


def test_dropout_gradient_uses_the_same_mask():
    q, k, v = (ember.tensor(a, dtype=ember.float64, requires_grad=True)
               for a in _arrays([(1, 3, 4), (1, 5, 4), (1, 5, 2)]))

    def f(*xs):
        ember.manual_seed(7)  # the same mask on every call
        return sdpa(*xs, dropout_p=0.3)

    assert gradcheck(f, [q, k, v])


def test_errors_match_torch():
    q = ember.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        sdpa(q, q, q, attn_mask=ember.ones(3, 3, dtype=ember.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        sdpa(q.double(), q, q)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        sdpa(q, q, q, attn_mask=ember.zeros(3, 3, dtype=ember.long))


def test_functional_exports_the_fused_op():
    out = ember.nn.functional.scaled_dot_product_attention(
        *(ember.randn(1, 2, 3, 4, requires_grad=True) for _ in range(3)), is_causal=True)
    assert out.grad_fn.name() == "ScaledDotProductAttentionBackward0"
