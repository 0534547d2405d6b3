"""Dropout draws its mask as torch's CPU kernel does: no torch needed.

The expected values were printed by torch 2.13 (CPU, default kernel) after
``torch.manual_seed(3)``: ``F.dropout(torch.ones(24), 0.5)`` and then ``torch.rand(1)``.
"""
from __future__ import annotations

import numpy as np

import ember
from ember import _sampling
from ember.nn import functional as F
from ember.nn._functions.dropout import dropout_scale, keep_mask

TORCH_MASK_SEED3 = [2, 2, 0, 2, 0, 0, 2, 2, 2, 0, 2, 0, 2, 2, 0, 2, 2, 0, 0, 2, 0, 0, 2, 2]
TORCH_RAND_AFTER = 0.4301472306251526


def test_dropout_after_seed_gives_torchs_mask_and_leaves_the_stream_where_torch_does():
    ember.manual_seed(3)
    out = F.dropout(ember.ones(24), 0.5)
    assert out.tolist() == TORCH_MASK_SEED3
    # two 32-bit words per element consumed, as torch's random64 per element
    assert abs(ember.rand(1).item() - TORCH_RAND_AFTER) < 1e-7


def test_keep_mask_is_u53_below_keep_probability():
    gen = ember.Generator().manual_seed(11)
    mask = keep_mask(gen, (50, 40), 0.3)
    ref = ember.Generator().manual_seed(11)
    u = _sampling.uniform01(ref, 2000, np.float64).reshape(50, 40)
    np.testing.assert_array_equal(mask, u < 0.7)
    assert 0.6 < mask.mean() < 0.8


def test_threshold_is_exact_at_the_boundary():
    # u = k / 2**53 < p exactly: p a multiple of 2**-53 admits k = p * 2**53 - 1 only
    gen = ember.Generator().manual_seed(0)
    words = _sampling.bits32(ember.Generator().manual_seed(0), 2)
    k = ((int(words[0]) & 0x1FFFFF) << 32) | int(words[1])
    assert _sampling.bernoulli_scalar(gen, (1,), k / 2.0**53)[0] == np.False_
    gen = ember.Generator().manual_seed(0)
    assert _sampling.bernoulli_scalar(gen, (1,), (k + 1) / 2.0**53)[0] == np.True_


def test_transposed_input_draws_in_memory_order():
    x = ember.ones(6, 9).t()                      # (9, 6), column-major memory
    ember.manual_seed(5)
    out_t = F.dropout(x, 0.5).numpy()
    ember.manual_seed(5)
    out_c = F.dropout(ember.ones(6, 9), 0.5).numpy()
    np.testing.assert_array_equal(out_t, out_c.T)


def test_scale_is_computed_in_the_input_dtype():
    assert dropout_scale(np.float32, 0.3) == np.float32(1) / np.float32(0.7)
    assert dropout_scale(np.float64, 0.3) == 1.0 / 0.7
    ember.manual_seed(0)
    out = F.dropout(ember.ones(1000), 0.3).numpy()
    assert set(np.unique(out)) == {np.float32(0), np.float32(1) / np.float32(0.7)}


def test_backward_uses_the_forward_mask():
    ember.manual_seed(2)
    x = ember.ones(64, requires_grad=True)
    out = F.dropout(x, 0.25)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())


def test_masked_loop_draws_the_word_pairs_numbers_and_follows_reseeding():
    a, b = ember.Generator().manual_seed(11), ember.Generator().manual_seed(11)
    for n in (1, 5, 300):
        np.testing.assert_array_equal(_sampling._low53_masked(a, n),
                                      _sampling._low53_from_words(b, n))
    a.manual_seed(4)  # a new twister: the cached legacy view must follow it
    b.manual_seed(4)
    np.testing.assert_array_equal(_sampling._low53_masked(a, 9), _sampling._low53_from_words(b, 9))
    state = b.get_state()
    a.set_state(state)
    np.testing.assert_array_equal(_sampling._low53_masked(a, 9), _sampling._low53_from_words(b, 9))
