"""nn.utils.prune: the weight_orig / weight_mask layout, the forward pre-hook, gradients through
the mask, iterative pruning through PruningContainer, amount validation, remove() and the
topk tie-breaking replay; and nn.utils.stateless.functional_call. (tests/oracle/
test_swa_prune_oracle.py checks masks against torch.)"""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import prune
from ember.nn.utils._topk_select import topk_indices
from tests.helpers import assert_close


def linear(weight):
    m = nn.Linear(*np.shape(weight)[::-1])
    with ember.no_grad():
        m.weight.copy_(ember.tensor(np.asarray(weight, dtype=np.float32)))
    return m


W = [[0.5, -3.0, 0.1, 2.0], [-0.2, 1.0, -4.0, 0.3], [6.0, -0.05, 0.7, -1.5]]


def test_prune_is_an_nn_utils_attribute_with_docstrings():
    assert nn.utils.prune is prune
    for name in prune.__all__:
        assert getattr(prune, name).__doc__, name


def test_l1_unstructured_layout_and_mask():
    m = prune.l1_unstructured(linear(W), "weight", amount=4)
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    expected = (np.abs(np.array(W)) > 0.4).astype(np.float32)
    assert_close(m.weight_mask, expected)
    assert_close(m.weight, np.array(W, np.float32) * expected)
    assert not isinstance(m.weight, nn.Parameter)
    assert isinstance(m.weight_orig, nn.Parameter)
    assert prune.is_pruned(m) and prune.is_pruned(nn.Sequential(m))
    assert not prune.is_pruned(nn.Linear(2, 2))


def test_float_amount_rounds_half_to_even():
    m = prune.l1_unstructured(linear(W), "weight", amount=0.125)  # 1.5 -> 2
    assert int((m.weight_mask == 0).sum()) == 2
    m = prune.l1_unstructured(linear(W), "weight", amount=0.2083)  # 2.4996 -> 2
    assert int((m.weight_mask == 0).sum()) == 2


def test_forward_uses_the_masked_weight_and_grad_flows_to_orig():
    m = prune.l1_unstructured(linear(W), "weight", amount=0.5)
    x = ember.randn(5, 4)
    with ember.no_grad():
        m.weight_orig.mul_(2.0)  # the hook recomputes the weight before each call
    y = m(x)
    mask = m.weight_mask.numpy()
    expected = x.numpy() @ (2 * np.array(W, np.float32) * mask).T + m.bias.detach().numpy()
    assert_close(y, expected, atol=1e-5)
    y.sum().backward()
    grad = m.weight_orig.grad.numpy()
    assert_close(grad, np.broadcast_to(x.numpy().sum(0), (3, 4)) * mask, atol=1e-5)
    assert m.weight_mask.grad is None


def test_an_optimizer_on_parameters_keeps_pruned_weights_pruned():
    m = prune.random_unstructured(linear(W), "weight", amount=0.5)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        m(ember.randn(4, 4)).pow(2).sum().backward()
        opt.step()
    m(ember.randn(1, 4))
    assert_close(m.weight.detach() * (1 - m.weight_mask), np.zeros((3, 4)))


def test_iterative_pruning_builds_a_container_and_only_prunes_survivors():
    m = prune.l1_unstructured(linear(W), "weight", amount=3)
    first = m.weight_mask.numpy().copy()
    prune.l1_unstructured(m, "weight", amount=3)
    hooks = list(m._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.PruningContainer)
    assert len(hooks[0]) == 2 and all(isinstance(h, prune.L1Unstructured) for h in hooks[0])
    mask = m.weight_mask.numpy()
    assert (mask <= first).all() and int((mask == 0).sum()) == 6
    assert_close(mask, (np.abs(np.array(W)) > 0.75).astype(np.float32))
    prune.random_unstructured(m, "weight", amount=1)
    assert len(hooks[0]) == 3 and int((m.weight_mask == 0).sum()) == 7


def test_structured_after_unstructured_acts_on_live_channels():
    m = prune.ln_structured(linear(W), "weight", amount=1, n=1, dim=0)
    np.testing.assert_array_equal(m.weight_mask.numpy().sum(1), [4, 0, 4])
    prune.ln_structured(m, "weight", amount=1, n=1, dim=0)
    # the dead row no longer counts: the weaker of the two live rows goes
    np.testing.assert_array_equal(m.weight_mask.numpy().sum(1), [0, 0, 4])


@pytest.mark.parametrize("n,dim,kept", [(2, 0, [1, 2]), (1, -1, [0, 1, 2]),
                                        (float("inf"), 1, [0, 1, 2])])
def test_ln_structured_keeps_the_largest_norms(n, dim, kept):
    amount = 1
    m = prune.ln_structured(linear(W), "weight", amount=amount, n=n, dim=dim)
    mask = m.weight_mask.numpy()
    axis = 1 - (dim % 2)
    alive = np.flatnonzero(mask.sum(axis=axis) > 0)
    np.testing.assert_array_equal(alive, kept)


def test_random_structured_prunes_whole_channels():
    m = prune.random_structured(nn.Conv2d(2, 6, 3), "weight", amount=0.5, dim=0)
    per_channel = m.weight_mask.numpy().reshape(6, -1)
    assert set(per_channel.min(1)) == set(per_channel.max(1))  # each channel all 0 or all 1
    assert int((per_channel[:, 0] == 0).sum()) == 3


def test_random_unstructured_follows_the_seed():
    masks = []
    for _ in range(2):
        ember.manual_seed(7)
        masks.append(prune.random_unstructured(linear(W), "weight", amount=5).weight_mask)
    assert_close(masks[0], masks[1])
    assert int((masks[0] == 0).sum()) == 5


def test_importance_scores_decide_the_mask():
    scores = ember.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    m = prune.l1_unstructured(linear(W), "weight", amount=5, importance_scores=scores)
    assert_close(m.weight_mask.reshape(-1), [0] * 5 + [1] * 7)
    with pytest.raises(AssertionError, match="importance_scores should have the same shape"):
        prune.l1_unstructured(linear(W), "weight", amount=1, importance_scores=ember.ones(2))


def test_custom_from_mask_and_identity():
    mask = ember.tensor([[1.0, 0, 1, 0], [0, 0, 1, 1], [1, 1, 1, 1]])
    m = prune.custom_from_mask(linear(W), "weight", mask)
    assert_close(m.weight_mask, mask)
    m = prune.identity(linear(W), "bias")
    assert_close(m.bias_mask, np.ones(3))
    assert list(m.state_dict()) == ["weight", "bias_orig", "bias_mask"]


def test_global_unstructured_prunes_the_smallest_across_tensors():
    a, b = linear(W), linear(np.array(W) * 100)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=12)
    assert int((a.weight_mask == 0).sum()) == 11
    assert int((b.weight_mask == 0).sum()) == 1
    assert_close(b.weight_mask.reshape(-1)[9], 0.0)  # |-0.05 * 100| is the 12th smallest
    with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE'):
        prune.global_unstructured([(a, "bias")], pruning_method=prune.LnStructured,
                                  amount=1, n=2, dim=0)
    with pytest.raises(TypeError, match="parameters is not an Iterable"):
        prune.global_unstructured(3, pruning_method=prune.L1Unstructured, amount=1)
    with pytest.raises(TypeError, match="importance_scores must be of type dict"):
        prune.global_unstructured([(a, "bias")], pruning_method=prune.L1Unstructured,
                                  importance_scores=[1], amount=1)


def test_remove_makes_pruning_permanent():
    m = prune.l1_unstructured(linear(W), "weight", amount=6)
    orig = m.weight_orig
    masked = m.weight.detach().numpy().copy()
    prune.remove(m, "weight")
    assert list(m.state_dict()) == ["bias", "weight"]
    assert m.weight is orig and isinstance(m.weight, nn.Parameter)
    assert_close(m.weight, masked)
    assert not prune.is_pruned(m) and not m._forward_pre_hooks
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


@pytest.mark.parametrize("amount,err,match", [
    (-1, ValueError, "should either be a float in the range"),
    (1.5, ValueError, "should either be a float in the range"),
    (-0.1, ValueError, "should either be a float in the range"),
    ("a", TypeError, "Invalid type for amount"),
])
def test_invalid_amount_raises_at_construction(amount, err, match):
    with pytest.raises(err, match=match):
        prune.L1Unstructured(amount)
    with pytest.raises(err, match=match):
        prune.RandomStructured(amount)


def test_amount_above_the_size_raises_and_rolls_back():
    m = linear(W)
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(m, "weight", amount=13)
    assert list(m.state_dict()) == ["bias", "weight"] and not m._forward_pre_hooks
    assert isinstance(m.weight, nn.Parameter)


def test_structured_errors():
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidim"):
        prune.ln_structured(linear(W), "bias", amount=1, n=2, dim=0)
    with pytest.raises(IndexError, match="Invalid index 2 for tensor of size"):
        prune.random_structured(linear(W), "weight", amount=1, dim=2)


def test_container_rejects_other_tensors_and_non_methods():
    a = prune.L1Unstructured(1)
    a._tensor_name = "weight"
    b = prune.L1Unstructured(1)
    b._tensor_name = "bias"
    container = prune.PruningContainer(a)
    with pytest.raises(ValueError, match="Can only add pruning methods acting on"):
        container.add_pruning_method(b)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        container.add_pruning_method(3)


def test_prune_method_multiplies_by_the_mask():
    t = ember.tensor([3.0, -1.0, 0.5, 2.0])
    assert_close(prune.L1Unstructured(2).prune(t), [3.0, 0.0, 0.0, 2.0])
    assert_close(prune.Identity().prune(t), t)


def test_pruned_model_state_dict_loads_into_a_pruned_twin():
    m = prune.l1_unstructured(linear(W), "weight", amount=4)
    twin = prune.identity(nn.Linear(4, 3), "weight")
    twin.load_state_dict(m.state_dict())
    x = ember.randn(2, 4)
    assert_close(twin(x), m(x))


def test_topk_select_ties_follow_torchs_cpu_algorithms():
    # recorded from torch 2.13 on the CPU (std::nth_element / std::partial_sort of libstdc++)
    v = np.array([1, 2, 1, 0, 1, 2, 0, 1], dtype=np.float32)
    assert sorted(topk_indices(v, 3, largest=False)) == [3, 4, 6]
    assert sorted(topk_indices(v, 1, largest=True)) == [1]
    ones = np.ones(10, dtype=np.float32)
    assert sorted(topk_indices(ones, 4, largest=False)) == [5, 6, 7, 8]
    big = np.zeros(200, dtype=np.float32)
    assert sorted(topk_indices(big, 2, largest=False)) == [0, 1]


def test_topk_select_without_ties_is_the_k_smallest():
    v = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    for k in (1, 10, 500, 999, 1000):
        assert set(topk_indices(v, k, largest=False)) == set(np.argsort(v)[:k])
        assert set(topk_indices(v, k, largest=True)) == set(np.argsort(-v)[:k])


def test_stateless_functional_call_warns_and_swaps_for_one_call():
    m = linear(W)
    w = ember.zeros(3, 4)
    x = ember.randn(2, 4)
    with pytest.warns(FutureWarning, match="stateless.functional_call` is deprecated"):
        y = nn.utils.stateless.functional_call(m, {"weight": w}, x)
    assert_close(y, m.bias.detach().expand(2, 3))
    assert_close(m.weight, np.array(W, np.float32))
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="Unexpected key"):
        nn.utils.stateless.functional_call(m, {"nope": w}, (x,), strict=True)


def test_stateless_functional_call_on_a_pruned_module_uses_the_given_orig():
    m = prune.l1_unstructured(linear(W), "weight", amount=6)
    x = ember.randn(2, 4)
    with pytest.warns(FutureWarning):
        y = nn.utils.stateless.functional_call(m, {"weight_orig": ember.ones(3, 4)}, (x,))
    assert_close(y, x.numpy() @ m.weight_mask.numpy().T + m.bias.detach().numpy(), atol=1e-5)
