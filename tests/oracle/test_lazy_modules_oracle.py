"""The lazy modules and their placeholders against torch: reprs and state dicts before and
after the first call, the same initialisation after the same seed, outputs, loading state
dicts (initialised or not), deep copies, and torch's errors."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from tests.helpers import assert_close
from tests.oracle.test_more_layers2_oracle import arr, same_error, seed_both

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- lazy modules

LAZY = [
    ("LazyLinear", (4,), {}, (2, 3)),
    ("LazyLinear", (4,), {"bias": False}, (5, 2, 3)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 8)),
    ("LazyConv2d", (4, 3), {"groups": 2, "bias": False}, (2, 6, 6, 6)),
    ("LazyConv3d", (4, 2), {}, (3, 4, 4, 4)),
    ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {}, (3, 5, 5)),
    ("LazyConvTranspose3d", (2, 2), {"output_padding": 1, "stride": 2}, (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), {"momentum": None, "affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {"track_running_stats": False}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"affine": False, "track_running_stats": False}, (2, 3, 4, 5)),
    ("LazyInstanceNorm3d", (), {"bias": False}, (2, 3, 2, 3, 2)),
]


@pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match num_features")
@pytest.mark.parametrize("cls,args,kw,shape", LAZY, ids=[f"{c[0]}-{i}" for i, c in
                                                          enumerate(LAZY)])
def test_lazy_module_materialises_like_torch(cls, args, kw, shape):
    seed_both(0)
    e, t = getattr(ember.nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
    assert repr(e) == repr(t)
    assert e.has_uninitialized_params() == t.has_uninitialized_params()
    assert [(k, type(v).__name__) for k, v in e.state_dict(keep_vars=True).items()] == \
        [(k, type(v).__name__) for k, v in t.state_dict(keep_vars=True).items()]
    x = arr(shape, 27, dtype=np.float32)
    out_e, out_t = e(ember.tensor(x)), t(torch.tensor(x))
    assert type(e).__name__ == type(t).__name__ and repr(e) == repr(t)
    assert not any(ember.nn.parameter.is_lazy(v) for v in e.state_dict(keep_vars=True).values())
    assert not e._forward_pre_hooks
    assert_close(out_e.detach(), out_t.detach(), rtol=1e-5, atol=1e-5)
    state_e, state_t = e.state_dict(), t.state_dict()
    assert list(state_e) == list(state_t)
    for key in state_e:
        assert_close(state_e[key], state_t[key], rtol=1e-5, atol=1e-6, msg=key)
    assert type(e.weight).__name__ == type(t.weight).__name__ if e.weight is not None else True


def test_lazy_module_loads_a_torch_state_dict():
    seed_both(1)
    t = torch.nn.Conv2d(3, 4, 3)
    e = ember.nn.LazyConv2d(4, 3)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    assert not e.has_uninitialized_params() and type(e).__name__ == "LazyConv2d"
    x = arr((1, 3, 5, 5), 28, dtype=np.float32)
    assert_close(e(ember.tensor(x)).detach(), t(torch.tensor(x)).detach(), rtol=1e-5,
                 atol=1e-6)
    assert type(e) is ember.nn.Conv2d
    lazy_e, lazy_t = ember.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    lazy_e.load_state_dict({"weight": ember.ones(3, 2), "bias": ember.zeros(3)})
    lazy_t.load_state_dict({"weight": torch.ones(3, 2), "bias": torch.zeros(3)})
    assert repr(lazy_e) == repr(lazy_t)
    lazy_e(ember.ones(1, 2)), lazy_t(torch.ones(1, 2))
    assert repr(lazy_e) == repr(lazy_t)
    for lib in (ember, torch):  # placeholders loaded from placeholders stay placeholders
        m = lib.nn.Sequential(lib.nn.LazyLinear(3), lib.nn.LazyBatchNorm1d())
        keys = m.load_state_dict(lib.nn.Sequential(lib.nn.LazyLinear(3),
                                                   lib.nn.LazyBatchNorm1d()).state_dict())
        assert not keys.missing_keys and m[0].has_uninitialized_params()
        assert tuple(m(lib.ones(4, 2)).shape) == (4, 3)
    same_error(lambda lib: lib.nn.Linear(2, 3).load_state_dict(lib.nn.LazyLinear(3)
                                                                .state_dict()))


def test_lazy_module_deep_copies_materialise_independently():
    outs = []
    for lib in (ember, torch):
        lib.manual_seed(2)
        m = lib.nn.Sequential(lib.nn.LazyLinear(3), lib.nn.ReLU(), lib.nn.LazyLinear(2))
        c = copy.deepcopy(m)
        first = c(lib.ones(4, 5))
        assert len(m[0]._forward_pre_hooks) == 1 and not c[0]._forward_pre_hooks
        outs.append((first, m(lib.ones(4, 5)), repr(m), repr(c)))
    for a, b in zip(*outs):
        assert a == b if isinstance(a, str) else np.allclose(a.detach().numpy(),
                                                            b.detach().numpy(), atol=1e-6)


def test_uninitialized_parameter_api_matches_torch():
    for lib in (ember, torch):
        p = lib.nn.UninitializedParameter()
        b = lib.nn.parameter.UninitializedBuffer(dtype=lib.float64)
        assert repr(p) == "<UninitializedParameter>" and repr(b) == "<UninitializedBuffer>"
        assert p.requires_grad and not b.requires_grad and b.dtype == lib.float64
        assert lib.nn.parameter.is_lazy(p) and isinstance(p, lib.nn.Parameter)
        p.materialize((2, 3))
        b.materialize(4)
        assert type(p) is lib.nn.Parameter and p.shape == (2, 3) and p.requires_grad
        assert type(b) is lib.Tensor and tuple(b.shape) == (4,)
    same_error(lambda lib: lib.nn.UninitializedParameter().shape)


def test_lazy_module_errors_match_torch():
    same_error(lambda lib: lib.nn.LazyConv2d(4, 3)(lib.zeros(3, 5)))
    same_error(lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.zeros(2, 3, 5, 5)))
    same_error(lambda lib: lib.nn.LazyBatchNorm2d()(lib.zeros(2, 3)))
