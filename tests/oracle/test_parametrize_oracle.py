"""nn.utils.parametrize / parametrizations and the legacy weight_norm / spectral_norm against
torch: initial values (spectral norm's random u and v included, from the same seed), forward
outputs, gradients with respect to the original parameters, state-dict keys, optimizer
trajectories and the errors raised for bad input."""

import pickle

import numpy as np
import pytest

import ember
from ember import nn as enn
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
tnn = torch.nn

pytestmark = pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")


def sync(emod, tmod):
    """Give the ember module the torch module's exact state."""
    emod.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                          for k, v in tmod.state_dict().items()})
    return emod


def pair(factory, seed=0):
    """The same layer built by each library (``factory(nn_namespace)``), torch's weights in
    both."""
    torch.manual_seed(seed)
    tmod = factory(tnn)
    return sync(factory(enn), tmod), tmod


def compare_grads(emod, tmod, **tol):
    tparams = dict(tmod.named_parameters())
    eparams = dict(emod.named_parameters())
    assert list(eparams) == list(tparams)
    for name, p in eparams.items():
        assert_close(p.grad, tparams[name].grad, msg=name, **tol)


def forward_backward(emod, tmod, x_np, **tol):
    """Forward both, backprop sum(y ** 2), compare the outputs and every parameter's grad."""
    ye = emod(ember.tensor(x_np))
    yt = tmod(torch.tensor(x_np))
    assert_close(ye, yt, **tol)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    compare_grads(emod, tmod, **tol)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def keys(m):
    return list(m.state_dict())


LAYERS = {
    "linear": (lambda nn: nn.Linear(5, 4), (3, 5)),
    "conv2d": (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
    "convT1d": (lambda nn: nn.ConvTranspose1d(3, 2, 3), (2, 3, 7)),
}


# --- weight_norm (parametrization) --------------------------------------------------------
@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("dim", [0, 1, None, -1, -2])
def test_weight_norm_matches_torch(layer, dim):
    factory, xshape = LAYERS[layer]
    emod, tmod = pair(factory)
    enn.utils.parametrizations.weight_norm(emod, dim=dim)
    tnn.utils.parametrizations.weight_norm(tmod, dim=dim)
    assert keys(emod) == keys(tmod) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
    tg = tmod.parametrizations.weight.original0
    assert_close(emod.parametrizations.weight.original0, tg)
    assert_close(emod.weight, tmod.weight)
    forward_backward(emod, tmod, rand(*xshape), rtol=1e-4, atol=1e-5)


def test_weight_norm_loads_torch_legacy_state_dict():
    torch.manual_seed(0)
    legacy = tnn.Linear(5, 4)
    tnn.utils.weight_norm(legacy)
    with torch.no_grad():
        legacy.weight_g.mul_(1.5)
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in legacy.state_dict().items()}
    emod = enn.utils.parametrizations.weight_norm(enn.Linear(5, 4))
    emod.load_state_dict(sd)
    x = rand(2, 5)
    assert_close(emod(ember.tensor(x)), legacy(torch.tensor(x)))


# --- spectral_norm (parametrization) ------------------------------------------------------
@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("n_power_iterations", [1, 3])
def test_spectral_norm_matches_torch_from_the_same_seed(layer, n_power_iterations):
    factory, xshape = LAYERS[layer]
    emod, tmod = pair(factory)
    torch.manual_seed(7)
    ember.manual_seed(7)
    enn.utils.parametrizations.spectral_norm(emod, n_power_iterations=n_power_iterations)
    tnn.utils.parametrizations.spectral_norm(tmod, n_power_iterations=n_power_iterations)
    assert keys(emod) == keys(tmod)
    esn, tsn = emod.parametrizations.weight[0], tmod.parametrizations.weight[0]
    assert esn.dim == tsn.dim
    assert_close(esn._u, tsn._u, atol=1e-6)
    assert_close(esn._v, tsn._v, atol=1e-6)
    # training: every access iterates; atol 1e-4 as the gradients reach ~50 (float32 noise)
    for step in range(3):
        forward_backward(emod, tmod, rand(*xshape, seed=step), rtol=1e-4, atol=1e-4)
        assert_close(esn._u, tsn._u, atol=1e-6)
        emod.zero_grad()
        tmod.zero_grad()
    emod.eval()
    tmod.eval()
    forward_backward(emod, tmod, rand(*xshape, seed=9), rtol=1e-4, atol=1e-4)
    assert_close(esn._v, tsn._v, atol=1e-6)


def test_spectral_norm_on_bias_vector_matches_torch():
    emod, tmod = pair(lambda nn: nn.Linear(5, 4))
    enn.utils.parametrizations.spectral_norm(emod, name="bias")
    tnn.utils.parametrizations.spectral_norm(tmod, name="bias")
    assert keys(emod) == keys(tmod)
    forward_backward(emod, tmod, rand(3, 5))


def test_spectral_norm_state_dict_round_trip_from_torch():
    emod, tmod = pair(lambda nn: nn.Linear(6, 5))
    tnn.utils.parametrizations.spectral_norm(tmod)
    enn.utils.parametrizations.spectral_norm(emod)
    tmod(torch.tensor(rand(2, 6)))
    sync(emod, tmod)  # u, v and the original come from torch
    emod.eval()
    tmod.eval()
    assert_close(emod.weight, tmod.weight)


# --- orthogonal ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_matches_torch(shape, orthogonal_map, use_trivialization):
    o, i = shape
    emod, tmod = pair(lambda nn: nn.Linear(i, o, dtype=torch.float64
                                           if nn is tnn else ember.float64))
    torch.manual_seed(3)
    ember.manual_seed(3)
    kw = dict(orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    enn.utils.parametrizations.orthogonal(emod, **kw)
    tnn.utils.parametrizations.orthogonal(tmod, **kw)
    assert keys(emod) == keys(tmod)
    assert_close(emod.parametrizations.weight.original, tmod.parametrizations.weight.original,
                 atol=1e-12)
    assert_close(emod.weight, tmod.weight, atol=1e-12)
    x = np.random.default_rng(1).standard_normal((2, i))
    forward_backward(emod, tmod, x, rtol=1e-9, atol=1e-11)


# --- custom parametrizations --------------------------------------------------------------
def custom(nn_ns, lib):
    class Symmetric(nn_ns.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    class RankOne(nn_ns.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone()

    class Tanh(nn_ns.Module):
        def forward(self, X):
            return lib.tanh(X)

    return Symmetric, RankOne, Tanh


def test_chained_and_multi_tensor_parametrizations_match_torch():
    emod, tmod = pair(lambda nn: nn.Linear(4, 4))
    for mod, nn_ns, lib in ((emod, enn, ember), (tmod, tnn, torch)):
        Symmetric, RankOne, Tanh = custom(nn_ns, lib)
        nn_ns.utils.parametrize.register_parametrization(mod, "weight", Symmetric())
        nn_ns.utils.parametrize.register_parametrization(mod, "weight", Tanh())
        nn_ns.utils.parametrize.register_parametrization(mod, "bias", Tanh())
    assert keys(emod) == keys(tmod)
    assert repr(emod) == repr(tmod)
    forward_backward(emod, tmod, rand(3, 4))

    emod, tmod = pair(lambda nn: nn.Linear(4, 3))
    for mod, nn_ns, lib in ((emod, enn, ember), (tmod, tnn, torch)):
        nn_ns.utils.parametrize.register_parametrization(mod, "weight", custom(nn_ns, lib)[1]())
    assert keys(emod) == keys(tmod) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
    forward_backward(emod, tmod, rand(3, 4))


def test_assignment_and_removal_match_torch():
    A = rand(4, 4)
    A = A + A.T
    for leave in (False, True):
        emod, tmod = pair(lambda nn: nn.Linear(4, 4))
        for mod, nn_ns, lib, val in ((emod, enn, ember, ember.tensor(A)),
                                     (tmod, tnn, torch, torch.tensor(A))):
            P = nn_ns.utils.parametrize
            P.register_parametrization(mod, "weight", custom(nn_ns, lib)[0]())
            mod.weight = val
        assert_close(emod.parametrizations.weight.original,
                     tmod.parametrizations.weight.original)
        enn.utils.parametrize.remove_parametrizations(emod, "weight", leave_parametrized=leave)
        tnn.utils.parametrize.remove_parametrizations(tmod, "weight", leave_parametrized=leave)
        assert type(emod).__name__ == type(tmod).__name__ == "Linear"
        assert keys(emod) == keys(tmod)
        assert_close(emod.weight, tmod.weight)


# --- optimizer trajectories ---------------------------------------------------------------
def mlp(nn):
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def train_both(emod, tmod, make_opt, steps=5):
    eopt, topt = make_opt(ember, emod), make_opt(torch, tmod)
    rng = np.random.default_rng(5)
    for _ in range(steps):
        x, y = rng.standard_normal((4, 6)).astype(np.float32), rng.integers(0, 3, 4)
        le = enn.functional.cross_entropy(emod(ember.tensor(x)), ember.tensor(y))
        lt = tnn.functional.cross_entropy(tmod(torch.tensor(x)), torch.tensor(y))
        assert_close(le, lt, rtol=1e-5, atol=1e-6)
        eopt.zero_grad()
        topt.zero_grad()
        le.backward()
        lt.backward()
        eopt.step()
        topt.step()
    tparams = dict(tmod.named_parameters())
    for name, p in emod.named_parameters():
        assert_close(p, tparams[name], rtol=1e-4, atol=1e-5, msg=name)
    for name, b in tmod.named_buffers():
        assert_close(dict(emod.named_buffers())[name], b, rtol=1e-4, atol=1e-5, msg=name)


def adam(lib, mod):
    return lib.optim.Adam(mod.parameters(), lr=0.05)


def sgd(lib, mod):
    return lib.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm", "orthogonal", "legacy_wn",
                                  "legacy_sn"])
@pytest.mark.parametrize("make_opt", [adam, sgd], ids=["adam", "sgd"])
def test_training_trajectory_matches_torch(kind, make_opt):
    emod, tmod = pair(mlp)
    torch.manual_seed(11)
    ember.manual_seed(11)
    for mod, nn_ns in ((emod, enn), (tmod, tnn)):
        for layer in (mod[0], mod[2]):
            if kind == "legacy_wn":
                nn_ns.utils.weight_norm(layer)
            elif kind == "legacy_sn":
                nn_ns.utils.spectral_norm(layer)
            else:
                getattr(nn_ns.utils.parametrizations, kind)(layer)
    assert keys(emod) == keys(tmod)
    train_both(emod, tmod, make_opt)


# --- legacy hooks -------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm_matches_torch(dim):
    emod, tmod = pair(lambda nn: nn.Conv2d(3, 4, 3))
    with pytest.warns(FutureWarning):
        enn.utils.weight_norm(emod, dim=dim)
    tnn.utils.weight_norm(tmod, dim=dim)
    assert keys(emod) == keys(tmod) == ["bias", "weight_g", "weight_v"]
    assert_close(emod.weight_g, tmod.weight_g)
    forward_backward(emod, tmod, rand(2, 3, 5, 5), rtol=1e-4, atol=1e-5)
    enn.utils.remove_weight_norm(emod)
    tnn.utils.remove_weight_norm(tmod)
    assert keys(emod) == keys(tmod) == ["bias", "weight"]
    assert_close(emod.weight, tmod.weight)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_legacy_spectral_norm_matches_torch(layer):
    factory, xshape = LAYERS[layer]
    emod, tmod = pair(factory)
    torch.manual_seed(4)
    ember.manual_seed(4)
    enn.utils.spectral_norm(emod, n_power_iterations=2)
    tnn.utils.spectral_norm(tmod, n_power_iterations=2)
    assert keys(emod) == keys(tmod) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert_close(emod.weight_u, tmod.weight_u, atol=1e-6)
    assert_close(emod.weight_v, tmod.weight_v, atol=1e-6)
    assert emod.state_dict()._metadata == tmod.state_dict()._metadata
    for step in range(3):
        forward_backward(emod, tmod, rand(*xshape, seed=step), rtol=1e-4, atol=1e-5)
        emod.zero_grad()
        tmod.zero_grad()
    assert_close(emod.weight_u, tmod.weight_u, atol=1e-6)
    emod.eval()
    tmod.eval()
    forward_backward(emod, tmod, rand(*xshape, seed=9), rtol=1e-4, atol=1e-5)
    enn.utils.remove_spectral_norm(emod)
    tnn.utils.remove_spectral_norm(tmod)
    assert keys(emod) == keys(tmod)
    assert_close(emod.weight, tmod.weight, atol=1e-6)


# --- errors -------------------------------------------------------------------------------
def outcome(lib, fn):
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return type(e).__name__, str(e)
    return "no error", ""


class _Rows:
    @staticmethod
    def make(nn_ns):
        class Rows(nn_ns.Module):
            def forward(self, X):
                return X[:2]
        return Rows()


class _Double:
    @staticmethod
    def make(nn_ns):
        class ToDouble(nn_ns.Module):
            def forward(self, X):
                return X.double()
        return ToDouble()


def _register(name, p=None, **kw):
    def fn(lib):
        m = lib.nn.Linear(3, 3)
        par = p.make(lib.nn) if p else custom(lib.nn, lib)[2]()
        lib.nn.utils.parametrize.register_parametrization(m, name, par, **kw)
    return fn


def _twice(fn_name):
    def fn(lib):
        m = lib.nn.Linear(3, 3)
        getattr(lib.nn.utils, fn_name)(m)
        getattr(lib.nn.utils, fn_name)(m)
    return fn


def _then(setup, action):
    def fn(lib):
        m = lib.nn.Linear(3, 3)
        setup(lib, m)
        action(lib, m)
    return fn


def _tanh(lib, m):
    lib.nn.utils.parametrize.register_parametrization(m, "weight", custom(lib.nn, lib)[2]())


def _rank_one(lib, m):
    lib.nn.utils.parametrize.register_parametrization(m, "weight", custom(lib.nn, lib)[1]())


ERRORS = {
    "missing name": _register("foo"),
    "shape change": _register("weight", _Rows),
    "dtype change": _register("weight", _Double),
    "remove unparametrized": lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
        lib.nn.Linear(3, 3), "weight"),
    "leave unparametrized pair": _then(_rank_one, lambda lib, m:
                                       lib.nn.utils.parametrize.remove_parametrizations(
                                           m, "weight", leave_parametrized=False)),
    "assign without right_inverse": _then(_tanh, lambda lib, m:
                                          setattr(m, "weight", lib.ones(3, 3))),
    "assign a Parameter": _then(_tanh, lambda lib, m:
                                setattr(m, "weight", lib.nn.Parameter(lib.ones(3, 3)))),
    "pickle": _then(_tanh, lambda lib, m: pickle.dumps(m)),
    "weight_norm missing": lambda lib: lib.nn.utils.parametrizations.weight_norm(
        lib.nn.Linear(3, 3), "foo"),
    "weight_norm bad dim": lambda lib: lib.nn.utils.parametrizations.weight_norm(
        lib.nn.Linear(3, 3), dim=2),
    "spectral_norm missing": lambda lib: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 3), "foo"),
    "spectral_norm bad dim": lambda lib: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 3), dim=-3),
    "spectral_norm iterations": lambda lib: lib.nn.utils.parametrizations.spectral_norm(
        lib.nn.Linear(3, 3), n_power_iterations=0),
    "orthogonal missing": lambda lib: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 3), "foo"),
    "orthogonal vector": lambda lib: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 3), "bias"),
    "orthogonal map": lambda lib: lib.nn.utils.parametrizations.orthogonal(
        lib.nn.Linear(3, 3), orthogonal_map="svd"),
    "orthogonal assign shape": _then(
        lambda lib, m: lib.nn.utils.parametrizations.orthogonal(m),
        lambda lib, m: setattr(m, "weight", lib.ones(3, 4))),
    "legacy weight_norm twice": _twice("weight_norm"),
    "legacy weight_norm missing": lambda lib: lib.nn.utils.weight_norm(lib.nn.Linear(3, 3),
                                                                       "foo"),
    "legacy weight_norm buffer": lambda lib: lib.nn.utils.weight_norm(lib.nn.BatchNorm1d(3),
                                                                      "running_mean"),
    "legacy remove_weight_norm": lambda lib: lib.nn.utils.remove_weight_norm(
        lib.nn.Linear(3, 3)),
    "legacy spectral_norm twice": _twice("spectral_norm"),
    "legacy spectral_norm missing": lambda lib: lib.nn.utils.spectral_norm(
        lib.nn.Linear(3, 3), "foo"),
    "legacy spectral_norm iterations": lambda lib: lib.nn.utils.spectral_norm(
        lib.nn.Linear(3, 3), n_power_iterations=0),
    "legacy remove_spectral_norm": lambda lib: lib.nn.utils.remove_spectral_norm(
        lib.nn.Linear(3, 3)),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    expected = outcome(torch, ERRORS[case])
    assert expected[0] != "no error"
    assert outcome(ember, ERRORS[case]) == expected
