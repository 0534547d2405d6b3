"""nn.utils.parametrize, nn.utils.parametrizations and the legacy weight_norm / spectral_norm
hooks, without torch: finite-difference gradients through the parametrized weights, the
module layout (class swap, state-dict keys), assignment, caching and removal."""

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrizations as PZ
from ember.nn.utils import parametrize as P
from tests.helpers import assert_close

F64 = ember.float64


# --- parametrizations used by the tests ---------------------------------------------------
class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).T

    def right_inverse(self, A):
        return A.triu()


class Scale(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, X):
        return self.c * X

    def right_inverse(self, X):
        return X / self.c


class Square(nn.Module):  # no right_inverse
    def forward(self, X):
        return X * X


class RankOne(nn.Module):
    def forward(self, x, y):
        return x.unsqueeze(-1) @ y.unsqueeze(-2)

    def right_inverse(self, Z):
        return Z[:, 0].clone(), Z[0, :].clone()


class Rows(nn.Module):  # unsafe: changes the shape
    def forward(self, X):
        return X[:2]


def linear64(i=4, o=3, bias=True):
    return nn.Linear(i, o, bias=bias, dtype=F64)


def fd_check(module, params, x, *, h=1e-6, rtol=1e-5, atol=1e-7, skip_diagonal=False):
    """Compare each parameter's .grad of sum(module(x) ** 3) with central differences
    (``skip_diagonal``: leave out entries (i, i), where the loss is piecewise constant)."""
    def loss():
        return float((module(x) ** 3).sum().item())

    module.zero_grad()
    (module(x) ** 3).sum().backward()
    for p in params:
        assert p.grad is not None
        analytic = p.grad.numpy().copy()
        arr = p.detach().numpy()  # shares the parameter's storage
        numeric = np.zeros_like(arr)
        checked = np.ones(arr.shape, dtype=bool)
        for idx in np.ndindex(arr.shape):
            if skip_diagonal and len(set(idx)) == 1:
                checked[idx] = False
                continue
            old = arr[idx]
            arr[idx] = old + h
            plus = loss()
            arr[idx] = old - h
            minus = loss()
            arr[idx] = old
            numeric[idx] = (plus - minus) / (2 * h)
        assert_close(analytic[checked], numeric[checked], rtol=rtol, atol=atol)


def x64(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape))


# --- register_parametrization -------------------------------------------------------------
def test_register_swaps_class_and_moves_the_parameter():
    m = linear64(4, 4)
    w = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear"
    assert isinstance(m, nn.Linear) and type(m) is not nn.Linear
    assert P.type_before_parametrizations(m) is nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
    assert not P.is_parametrized(m, "bias")
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    # the Parameter object survives (an optimizer built before keeps working)
    assert m.parametrizations.weight.original is w
    assert_close(w, np.triu(w.detach().numpy()))  # right_inverse ran at registration
    W = m.weight.detach().numpy()
    assert_close(W, W.T)
    assert "weight" not in m._parameters
    assert nn.Linear.__dict__.get("weight") is None  # the property lives on the subclass only


def test_each_module_gets_its_own_class():
    a, b = linear64(), linear64()
    P.register_parametrization(a, "weight", Scale(2.0))
    P.register_parametrization(b, "bias", Scale(3.0))
    assert type(a) is not type(b)
    assert "weight" in type(a).__dict__ and "bias" not in type(a).__dict__
    assert isinstance(b.weight, nn.Parameter)  # b's weight untouched


def test_buffer_is_parametrized_as_buffer():
    m = nn.BatchNorm1d(3)
    m.running_mean.copy_(ember.tensor([1.0, 2.0, 3.0]))
    P.register_parametrization(m, "running_mean", Scale(2.0))
    assert "parametrizations.running_mean.original" in m.state_dict()
    assert "parametrizations.running_mean.original" in dict(m.named_buffers())
    assert_close(m.running_mean, [1.0, 2.0, 3.0])
    assert_close(m.parametrizations.running_mean.original, [0.5, 1.0, 1.5])


def test_missing_tensor_raises_value_error():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a "
                                         "parametrized element with name 'foo'"):
        P.register_parametrization(linear64(), "foo", Scale(2.0))


def test_shape_change_needs_unsafe():
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(linear64(), "weight", Rows())
    m = linear64()
    P.register_parametrization(m, "weight", Rows(), unsafe=True)
    assert tuple(m.weight.shape) == (2, 4)
    assert m.parametrizations.weight.unsafe


def test_chained_parametrizations_apply_in_order_and_invert_in_reverse():
    m = linear64(4, 4)
    w0 = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", Scale(2.0))
    P.register_parametrization(m, "weight", Symmetric())
    assert len(m.parametrizations.weight) == 2
    # original = w0 / 2; weight = sym(2 * original)
    expected = np.triu(w0) + np.triu(w0, 1).T
    assert_close(m.weight, expected)
    A = np.random.default_rng(1).standard_normal((4, 4))
    A = A + A.T
    m.weight = ember.tensor(A)
    assert_close(m.weight, A)
    assert_close(m.parametrizations.weight.original, np.triu(A) / 2)


def test_chained_parametrization_is_checked():
    m = linear64(4, 4)
    P.register_parametrization(m, "weight", Symmetric())
    with pytest.raises(ValueError, match="may not change the shape of the tensor, unless the"):
        P.register_parametrization(m, "weight", Rows())
    assert len(m.parametrizations.weight) == 1


def test_assignment_keeps_the_parameter_object_and_needs_right_inverse():
    m = linear64(4, 4)
    P.register_parametrization(m, "weight", Scale(4.0))
    orig = m.parametrizations.weight.original
    m.weight = ember.ones(4, 4, dtype=F64)
    assert m.parametrizations.weight.original is orig
    assert_close(orig, np.full((4, 4), 0.25))
    P.register_parametrization(m, "weight", Square())
    with pytest.raises(RuntimeError, match="Square does not implement right_inverse"):
        m.weight = ember.ones(4, 4, dtype=F64)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        m.weight = nn.Parameter(ember.ones(4, 4, dtype=F64))


def test_sequence_right_inverse_registers_original0_original1():
    m = linear64(3, 3, bias=False)
    P.register_parametrization(m, "weight", RankOne())
    assert list(m.state_dict()) == ["parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    plist = m.parametrizations.weight
    assert not plist.is_tensor and plist.ntensors == 2
    assert isinstance(plist.original0, nn.Parameter) and plist.original0.requires_grad
    assert np.linalg.matrix_rank(m.weight.detach().numpy()) == 1
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    value = m.weight.detach().numpy().copy()
    P.remove_parametrizations(m, "weight")
    assert isinstance(m.weight, nn.Parameter) and type(m) is nn.Linear
    assert_close(m.weight, value)


def test_cached_computes_once_inside_the_block():
    calls = []

    class Counting(nn.Module):
        def forward(self, X):
            calls.append(1)
            return 2 * X

    m = linear64()
    P.register_parametrization(m, "weight", Counting())
    calls.clear()
    with P.cached():
        a = m.weight
        with P.cached():
            assert m.weight is a
        assert m.weight is a  # the inner block's exit keeps the outer cache
    assert len(calls) == 1
    assert m.weight is not a
    assert len(calls) == 2
    assert P._cache == {}


def test_cached_gradient_accumulates_over_uses():
    m = linear64(3, 3)
    P.register_parametrization(m, "weight", Scale(3.0))
    x = x64(2, 3)
    with P.cached():
        (m(x).sum() + m(x).sum()).backward()
    g1 = m.parametrizations.weight.original.grad.numpy().copy()
    m.zero_grad()
    (2 * m(x).sum()).backward()
    assert_close(g1, m.parametrizations.weight.original.grad)


def test_remove_leave_parametrized_writes_the_value_into_the_same_parameter():
    m = linear64(4, 4)
    orig = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    value = m.weight.detach().numpy().copy()
    P.remove_parametrizations(m, "weight")
    assert m.weight is orig and type(m) is nn.Linear
    assert not hasattr(m, "parametrizations")
    assert not P.is_parametrized(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert_close(m.weight, value)


def test_remove_leave_unparametrized_restores_original():
    m = linear64(4, 4)
    P.register_parametrization(m, "weight", Scale(2.0))
    P.register_parametrization(m, "bias", Scale(2.0))
    orig = m.parametrizations.weight.original.detach().numpy().copy()
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert type(m).__name__ == "ParametrizedLinear"  # bias still parametrized
    assert_close(m.weight, orig)
    P.remove_parametrizations(m, "bias")
    assert type(m) is nn.Linear
    with pytest.raises(ValueError, match="does not have a parametrization on bias"):
        P.remove_parametrizations(m, "bias")


def test_state_dict_round_trip_between_parametrized_modules():
    a, b = linear64(), linear64()
    for m in (a, b):
        PZ.weight_norm(m)
    b.load_state_dict(a.state_dict())
    x = x64(2, 4)
    assert_close(b(x), a(x))


def test_pickle_refused_but_deepcopy_works():
    m = linear64()
    P.register_parametrization(m, "weight", Scale(2.0))
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)
    m2 = copy.deepcopy(m)
    assert type(m2) is type(m)
    assert m2.parametrizations.weight.original is not m.parametrizations.weight.original
    assert_close(m2.weight, m.weight)


def test_registration_copies_training_mode():
    m = linear64().eval()
    p = Scale(2.0)
    P.register_parametrization(m, "weight", p)
    assert p.training is False
    m.train()
    assert p.training is True


def test_transfer_parametrizations_shares_originals():
    a, b = linear64(), linear64()
    P.register_parametrization(a, "weight", RankOne())
    P.transfer_parametrizations_and_params(a, b)
    assert b.parametrizations.weight.original0 is a.parametrizations.weight.original0
    assert_close(b.weight, a.weight)


def test_gradients_through_custom_parametrizations():
    m = linear64(3, 3)
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "weight", Scale(1.5))
    fd_check(m, [m.parametrizations.weight.original, m.bias], x64(2, 3))
    m2 = linear64(3, 3)
    P.register_parametrization(m2, "weight", RankOne())
    plist = m2.parametrizations.weight
    fd_check(m2, [plist.original0, plist.original1], x64(2, 3))


# --- weight_norm --------------------------------------------------------------------------
@pytest.mark.parametrize("dim, g_shape", [(0, (3, 1)), (1, (1, 4)), (None, ()), (-1, ()),
                                          (-2, (3, 1))])
def test_weight_norm_layout_and_initial_value(dim, g_shape):
    m = linear64(4, 3)
    w = m.weight.detach().numpy().copy()
    PZ.weight_norm(m, dim=dim)
    g = m.parametrizations.weight.original0
    v = m.parametrizations.weight.original1
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    assert tuple(g.shape) == g_shape
    axes = {0: 1, -2: 1, 1: 0}.get(dim)
    norm = np.sqrt((w ** 2).sum(axis=axes, keepdims=axes is not None))
    assert_close(g, norm.reshape(g_shape))
    assert_close(v, w)
    assert_close(m.weight, w)  # g * v / ||v|| == w at registration


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_gradients(dim):
    m = nn.Conv1d(2, 3, 2, dtype=F64)
    PZ.weight_norm(m, dim=dim)
    plist = m.parametrizations.weight
    fd_check(m, [plist.original0, plist.original1, m.bias], x64(1, 2, 4))


def test_weight_norm_only_magnitude_matters_for_v():
    m = linear64(4, 3)
    PZ.weight_norm(m)
    before = m.weight.detach().numpy().copy()
    with ember.no_grad():
        m.parametrizations.weight.original1.mul_(7.0)
    assert_close(m.weight, before)
    with ember.no_grad():
        m.parametrizations.weight.original0.mul_(2.0)
    assert_close(m.weight, 2 * before)


def test_weight_norm_loads_legacy_keys():
    m = linear64(4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m)
    legacy = m.state_dict()
    assert list(legacy) == ["bias", "weight_g", "weight_v"]
    m2 = linear64(4, 3)
    PZ.weight_norm(m2)
    m2.load_state_dict(legacy)
    x = x64(2, 4)
    assert_close(m2(x), m(x))


def test_weight_norm_bad_dim():
    with pytest.raises(IndexError, match="Dimension out of range"):
        PZ.weight_norm(linear64(), dim=2)


# --- spectral_norm ------------------------------------------------------------------------
def test_spectral_norm_buffers_and_convergence():
    m = linear64(6, 5)
    PZ.spectral_norm(m, n_power_iterations=3)
    sn = m.parametrizations.weight[0]
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0._u",
                                    "parametrizations.weight.0._v"]
    assert tuple(sn._u.shape) == (5,) and tuple(sn._v.shape) == (6,)
    assert_close(np.linalg.norm(sn._u.numpy()), 1.0)
    for _ in range(100):
        _ = m.weight  # each training-mode access runs the power iteration
    sigma = np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)
    assert_close(sigma[0], 1.0, rtol=1e-6)


def test_spectral_norm_training_updates_buffers_in_place_eval_does_not():
    m = linear64(6, 5)
    PZ.spectral_norm(m)
    sn = m.parametrizations.weight[0]
    u = sn._u
    before = u.numpy().copy()
    _ = m.weight
    assert sn._u is u  # updated in place, the same buffer object
    assert not np.array_equal(before, u.numpy())
    m.eval()
    frozen = u.numpy().copy()
    w1 = m.weight.detach().numpy().copy()
    w2 = m.weight.detach().numpy()
    assert np.array_equal(frozen, u.numpy())
    assert_close(w1, w2)


def test_spectral_norm_eval_gradients():
    m = nn.Conv2d(2, 3, 2, dtype=F64)
    PZ.spectral_norm(m, dim=1)
    m.eval()
    fd_check(m, [m.parametrizations.weight.original], x64(1, 2, 3, 3))


def test_spectral_norm_on_vector_normalizes():
    m = linear64(4, 3)
    PZ.spectral_norm(m, name="bias")
    b = m.parametrizations.bias.original.detach().numpy()
    assert_close(m.bias, b / np.linalg.norm(b))
    assert not hasattr(m.parametrizations.bias[0], "_u")


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'foo'"):
        PZ.spectral_norm(linear64(), name="foo")
    with pytest.raises(IndexError, match=r"expected to be in range of \[-2, 1\] but got 2"):
        PZ.spectral_norm(linear64(), dim=2)
    with pytest.raises(ValueError, match="n_power_iterations=0"):
        PZ.spectral_norm(linear64(), n_power_iterations=0)


def test_spectral_norm_transposed_conv_uses_dim_1():
    m = nn.ConvTranspose2d(2, 5, 3)
    PZ.spectral_norm(m)
    sn = m.parametrizations.weight[0]
    assert sn.dim == 1 and tuple(sn._u.shape) == (5,)


# --- orthogonal ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
def test_orthogonal_is_orthogonal_and_differentiable(shape, orthogonal_map):
    m = linear64(shape[1], shape[0])
    PZ.orthogonal(m, orthogonal_map=orthogonal_map)
    W = m.weight.detach().numpy()
    small = min(shape)
    gram = W @ W.T if shape[0] < shape[1] else W.T @ W
    assert_close(gram, np.eye(small), atol=1e-10)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original",
                                    "parametrizations.weight.0.base"]
    householder = orthogonal_map == "householder" or (orthogonal_map is None and small != 4)
    # the Householder map reads only the signs of the diagonal (a step function)
    fd_check(m, [m.parametrizations.weight.original], x64(2, shape[1]), rtol=1e-4, atol=1e-6,
             skip_diagonal=householder)


def test_orthogonal_assignment_and_errors():
    m = linear64(4, 4)
    PZ.orthogonal(m)
    Q = np.linalg.qr(np.random.default_rng(3).standard_normal((4, 4)))[0]
    m.weight = ember.tensor(Q)
    assert_close(m.weight, Q, atol=1e-12)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        m.weight = ember.ones(4, 5, dtype=F64)
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        PZ.orthogonal(linear64(), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        PZ.orthogonal(linear64(), orthogonal_map="qr")
    m2 = linear64(4, 4)
    PZ.orthogonal(m2, orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m2.weight = ember.tensor(Q)


# --- legacy hooks -------------------------------------------------------------------------
def test_legacy_weight_norm_hook():
    m = linear64(4, 3)
    w = m.weight.detach().numpy().copy()
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(m, dim=None)
    assert list(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert m.weight_g.dim() == 0
    assert_close(m.weight_g, np.linalg.norm(w))
    assert_close(m.weight, w)
    with ember.no_grad():
        m.weight_g.mul_(3.0)
    m(x64(1, 4))  # the pre-hook recomputes the weight
    assert_close(m.weight, 3 * w)
    fd_check(m, [m.weight_g, m.weight_v], x64(2, 4))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter)
    assert_close(m.weight, 3 * w)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


def test_legacy_spectral_norm_hook():
    m = linear64(6, 5)
    nn.utils.spectral_norm(m)
    sd = m.state_dict()
    assert list(sd) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    u = m.weight_u.numpy().copy()
    m(x64(1, 6))
    assert not np.array_equal(u, m.weight_u.numpy())
    m.eval()
    u = m.weight_u.numpy().copy()
    m(x64(1, 6))
    assert np.array_equal(u, m.weight_u.numpy())
    fd_check(m, [m.weight_orig], x64(2, 6))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(m)
    m(x64(1, 6))  # refresh the weight (the last finite-difference call left it perturbed)
    weight = m.weight.detach().numpy().copy()
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    assert not m._state_dict_hooks and not m._load_state_dict_pre_hooks
    assert_close(m.weight, weight)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(m)


def test_legacy_spectral_norm_upgrades_version_0_state_dict():
    m = linear64(6, 5)
    nn.utils.spectral_norm(m)
    for _ in range(5):
        m(x64(1, 6))
    m.eval()
    m(x64(1, 6))
    # version 0 stored the normalized weight and no v
    old = OrderedDict((k, v) for k, v in m.state_dict().items() if k != "weight_v")
    old["weight"] = m.weight.detach().clone()
    m2 = linear64(6, 5)
    nn.utils.spectral_norm(m2)
    m2.load_state_dict(old)
    m2.eval()
    x = x64(2, 6)
    assert_close(m2(x), m(x), rtol=1e-8)
