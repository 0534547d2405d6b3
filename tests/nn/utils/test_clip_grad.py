"""nn.utils.clip_grad: clip_grad_norm_, clip_grad_value_, get_total_norm (torch oracle where
torch is installed)."""

import math

import numpy as np
import pytest

import ember
from ember.nn import Parameter
from ember.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)

SHAPES = ((3, 4), (5,), (2, 1, 3), ())


def make(seed=0, scale=3.0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    params, grads = [], []
    for s in SHAPES:
        p = Parameter(ember.tensor(rng.standard_normal(s).astype(dtype)))
        g = np.asarray(scale * rng.standard_normal(s), dtype=dtype)
        p.grad = ember.tensor(g.copy())
        params.append(p)
        grads.append(g)
    return params, grads


def test_clip_grad_norm_scales_to_max_norm_and_returns_total():
    params, grads = make()
    total = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    norm = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(norm, ember.Tensor) and norm.dim() == 0 and norm.dtype == ember.float32
    assert norm.item() == pytest.approx(total, rel=1e-6)
    new_total = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                              for p in params))
    assert new_total == pytest.approx(1.0, rel=1e-5)
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g / (total + 1e-6), rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params, grads = make(scale=0.01)
    arrays = [p.grad.numpy() for p in params]
    clip_grad_norm_(params, max_norm=10.0)
    for p, g, arr in zip(params, grads, arrays):
        np.testing.assert_array_equal(p.grad.numpy(), g)
        assert p.grad.numpy() is arr


def test_clip_grad_norm_works_in_place():
    params, _ = make()
    arrays = [p.grad.numpy() for p in params]
    clip_grad_norm_(params, 0.5)
    assert all(p.grad.numpy() is arr for p, arr in zip(params, arrays))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5, math.inf, -math.inf, 0])
def test_norm_types(norm_type):
    params, grads = make()
    flat = np.concatenate([g.reshape(-1) for g in grads]).astype(np.float64)
    if norm_type == math.inf:
        want = np.abs(flat).max()
    elif norm_type == -math.inf:
        want = np.abs(flat).min()
    elif norm_type == 0:
        # torch takes the 0-"norm" of the per-tensor norms: the number of nonzero gradients
        want = len(grads)
    else:
        want = (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    assert get_total_norm([p.grad for p in params], norm_type).item() == pytest.approx(
        want, rel=1e-5)
    assert clip_grad_norm_(params, 1e9, norm_type=norm_type).item() == pytest.approx(
        want, rel=1e-5)


def test_single_tensor_and_generator_inputs():
    params, _ = make()
    n0 = clip_grad_norm_(params[0], 1e9)
    assert n0.item() == pytest.approx(float(np.linalg.norm(params[0].grad.numpy())), rel=1e-6)
    n_all = clip_grad_norm_((p for p in params), 1e9)
    assert n_all.item() > n0.item()


def test_empty_generator_warns_and_returns_zero():
    with pytest.warns(UserWarning, match="empty generator"):
        norm = clip_grad_norm_((p for p in []), 1.0)
    assert norm.item() == 0.0


def test_params_without_grad_are_ignored():
    params, _ = make()
    params[1].grad = None
    clip_grad_norm_(params, 1.0)
    clip_grad_value_(params, 0.1)
    assert params[1].grad is None


def test_nonfinite_norm_raises_when_asked():
    params, _ = make()
    params[0].grad.numpy()[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    norm = clip_grad_norm_(params, 1.0)
    assert math.isnan(norm.item())


def test_clip_grad_value_clamps_in_place():
    params, grads = make()
    arrays = [p.grad.numpy() for p in params]
    assert clip_grad_value_(params, 0.5) is None
    for p, g, arr in zip(params, grads, arrays):
        assert p.grad.numpy() is arr
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -0.5, 0.5))


def test_clip_grads_with_norm_uses_the_given_norm():
    params, grads = make()
    clip_grads_with_norm_(params, 1.0, ember.tensor(4.0))
    np.testing.assert_allclose(params[0].grad.numpy(), grads[0] / np.float32(4.000001),
                               rtol=1e-6)


def test_deprecated_clip_grad_norm_warns():
    params, _ = make()
    with pytest.warns(FutureWarning, match="deprecated"):
        clip_grad_norm(params, 1.0)


def test_float64_gradients_give_a_float64_norm():
    params, _ = make(dtype=np.float64)
    norm = clip_grad_norm_(params, 1.0)
    assert norm.dtype == ember.float64
    assert params[0].grad.dtype == ember.float64


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    params, grads = make(seed=3)
    tparams = []
    for p, g in zip(params, grads):
        tp = torch.nn.Parameter(torch.from_numpy(p.detach().numpy().copy()))
        tp.grad = torch.from_numpy(g.copy())
        tparams.append(tp)
    en = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    assert en.item() == pytest.approx(tn.item(), rel=1e-6)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-7)
    clip_grad_value_(params, 0.05)
    torch.nn.utils.clip_grad_value_(tparams, 0.05)
    for p, tp in zip(params, tparams):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
