"""The Optimizer base: construction checks, groups, zero_grad, state dicts, hooks."""

import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter


def make_params(seed=0, shapes=((3, 4), (4,))):
    rng = np.random.default_rng(seed)
    return [Parameter(ember.tensor(rng.standard_normal(s).astype(np.float32))) for s in shapes]


def set_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = ember.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))


ALL = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
]


# ----------------------------------------------------------------------------- construction
def test_single_tensor_params_raise_type_error():
    p = make_params()[0]
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)


def test_empty_parameter_list_raises():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)


def test_set_of_params_raises():
    p = make_params()
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": set(p)}], lr=0.1)


def test_non_tensor_param_raises():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is int"):
        optim.SGD([1, 2], lr=0.1)


def test_non_leaf_param_raises():
    p = make_params()[0]
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)


def test_param_in_two_groups_raises():
    p = make_params()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        optim.SGD([{"params": p}, {"params": p[:1]}], lr=0.1)


def test_duplicate_param_in_group_warns():
    p = make_params()
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD(p + p[:1], lr=0.1)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (optim.SGD, {"lr": -1}, "Invalid learning rate: -1"),
        (optim.SGD, {"lr": 0.1, "momentum": -0.5}, "Invalid momentum value: -0.5"),
        (optim.SGD, {"lr": 0.1, "weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
        (optim.SGD, {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires a momentum"),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
         "Nesterov momentum requires a momentum and zero dampening"),
        (optim.Adam, {"lr": -0.5}, "Invalid learning rate: -0.5"),
        (optim.Adam, {"eps": -1.0}, "Invalid epsilon value: -1.0"),
        (optim.Adam, {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        (optim.Adam, {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        (optim.Adam, {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
        (optim.Adam, {"betas": (0, 0.99)}, "betas must be either both floats or both Tensors"),
        (optim.AdamW, {"lr": -1e-3}, "Invalid learning rate: -0.001"),
        (optim.AdamW, {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1: 1.5"),
        (optim.RMSprop, {"lr": -1}, "Invalid learning rate: -1"),
        (optim.RMSprop, {"alpha": -0.1}, "Invalid alpha value: -0.1"),
        (optim.RMSprop, {"momentum": -0.1}, "Invalid momentum value: -0.1"),
        (optim.RMSprop, {"eps": -0.1}, "Invalid epsilon value: -0.1"),
        (optim.RMSprop, {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ],
)
def test_bad_hyper_parameters_raise_value_error(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cls(make_params(), **kwargs)


def test_tensor_lr_must_have_one_element():
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD(make_params(), lr=ember.tensor([0.1, 0.2]))


def test_fused_and_foreach_together_raise():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam(make_params(), foreach=True, fused=True)


def test_differentiable_is_not_implemented():
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.SGD(make_params(), lr=0.1, differentiable=True)


@pytest.mark.parametrize("flag", ["foreach", "fused", "capturable"])
def test_implementation_flags_are_accepted(flag):
    params = make_params()
    opt = optim.Adam(params, lr=0.1, **{flag: True})
    set_grads(params)
    opt.step()
    assert opt.param_groups[0][flag] is True


@pytest.mark.parametrize(
    "cls, names",
    [
        (optim.SGD, ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                     "maximize", "foreach", "differentiable", "fused"]),
        (optim.Adam, ["params", "lr", "betas", "eps", "weight_decay", "amsgrad", "foreach",
                      "maximize", "capturable", "differentiable", "fused",
                      "decoupled_weight_decay"]),
        (optim.AdamW, ["params", "lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
                       "foreach", "capturable", "differentiable", "fused"]),
        (optim.RMSprop, ["params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered",
                         "capturable", "foreach", "maximize", "differentiable"]),
    ],
)
def test_signature_lists_torch_parameters(cls, names):
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert params == names


def test_defaults_are_torchs():
    params = make_params()
    assert optim.SGD(params).defaults["lr"] == 1e-3
    assert optim.AdamW(params).defaults["weight_decay"] == 1e-2
    assert optim.Adam(params).defaults["weight_decay"] == 0
    assert optim.RMSprop(params).defaults["lr"] == 1e-2


# ----------------------------------------------------------------------------- groups
def test_groups_take_defaults_and_keep_overrides():
    p = make_params()
    opt = optim.SGD([{"params": p[:1]}, {"params": p[1:], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1
    assert opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9


def test_add_param_group_appends_and_checks():
    p = make_params(shapes=((2,), (3,), (4,)))
    opt = optim.Adam(p[:1], lr=0.1)
    opt.add_param_group({"params": p[1], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["params"] == [p[1]]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p[0]]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([p[2]])


def test_named_parameters_are_accepted():
    p = make_params()
    opt = optim.SGD([("w", p[0]), ("b", p[1])], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": make_params(3)})


def test_repr_lists_groups():
    opt = optim.SGD(make_params(), lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text


# ----------------------------------------------------------------------------- zero_grad
def test_zero_grad_sets_none_by_default():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    set_grads(params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_without_set_to_none_fills_zeros_in_place():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    set_grads(params)
    arrays = [p.grad.numpy() for p in params]
    opt.zero_grad(set_to_none=False)
    for p, arr in zip(params, arrays):
        assert p.grad is not None
        assert np.all(p.grad.numpy() == 0)
        assert np.shares_memory(p.grad.numpy(), arr)


def test_step_skips_params_without_grad():
    params = make_params()
    opt = optim.Adam(params, lr=0.1)
    before = [p.detach().numpy().copy() for p in params]
    params[0].grad = ember.ones(3, 4)
    opt.step()
    assert not np.allclose(params[0].detach().numpy(), before[0])
    np.testing.assert_array_equal(params[1].detach().numpy(), before[1])
    assert params[1] not in opt.state


# ----------------------------------------------------------------------------- in place
@pytest.mark.parametrize("cls, kwargs", ALL, ids=lambda x: getattr(x, "__name__", ""))
def test_step_updates_in_place_and_keeps_state_arrays(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    arrays = [p.detach().numpy() for p in params]
    set_grads(params)
    opt.step()
    state_arrays = {
        (i, k): v.numpy() for i, p in enumerate(params) for k, v in opt.state[p].items()
    }
    set_grads(params, seed=2)
    before = [a.copy() for a in arrays]
    opt.step()
    for p, arr, old in zip(params, arrays, before):
        assert p.detach().numpy() is arr or np.shares_memory(p.detach().numpy(), arr)
        assert not np.array_equal(arr, old)
    for (i, k), arr in state_arrays.items():
        assert opt.state[params[i]][k].numpy() is arr


@pytest.mark.parametrize("cls, kwargs", ALL, ids=lambda x: getattr(x, "__name__", ""))
def test_step_bumps_the_version_counter(cls, kwargs):
    params = make_params()
    opt = cls(params, **kwargs)
    set_grads(params)
    versions = [p._version for p in params]
    opt.step()
    assert all(p._version > v for p, v in zip(params, versions))


@pytest.mark.parametrize("cls, kwargs", ALL, ids=lambda x: getattr(x, "__name__", ""))
def test_float64_params_keep_float64(cls, kwargs):
    p = Parameter(ember.tensor(np.arange(6.0).reshape(2, 3)))
    assert p.dtype == ember.float64
    opt = cls([p], **kwargs)
    p.grad = ember.ones(2, 3, dtype=ember.float64)
    opt.step()
    assert p.dtype == ember.float64
    for key, value in opt.state[p].items():
        if key != "step":
            assert value.dtype == ember.float64


def test_closure_loss_is_returned_with_grad_enabled():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)

    def closure():
        assert ember.is_grad_enabled()
        opt.zero_grad()
        loss = (params[0] * params[0]).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, ember.Tensor)


# ----------------------------------------------------------------------------- state dict
def test_state_dict_format_is_torchs():
    p = make_params(shapes=((2,), (3,), (4,)))
    opt = optim.Adam([{"params": p[:2]}, {"params": p[2:], "lr": 0.5}], lr=0.1)
    set_grads(p)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1, 2]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    step = sd["state"][0]["step"]
    assert isinstance(step, ember.Tensor) and step.dim() == 0
    assert step.dtype == ember.float32 and step.item() == 1.0
    assert sd["param_groups"][1]["lr"] == 0.5


def test_sgd_without_momentum_has_no_state():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    set_grads(params)
    opt.step()
    assert opt.state_dict()["state"] == {}


@pytest.mark.parametrize("cls, kwargs", ALL, ids=lambda x: getattr(x, "__name__", ""))
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    params_a = make_params()
    opt_a = cls(params_a, **kwargs)
    for s in range(3):
        set_grads(params_a, seed=s)
        opt_a.step()
    saved = copy.deepcopy(opt_a.state_dict())

    params_b = [Parameter(ember.tensor(p.detach().numpy().copy())) for p in params_a]
    opt_b = cls(params_b, lr=123.0)
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == kwargs["lr"]
    assert opt_b.param_groups[0]["params"] == params_b
    for s in range(3, 6):
        set_grads(params_a, seed=s)
        set_grads(params_b, seed=s)
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(params_a, params_b):
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())


def test_load_state_dict_copies_state():
    params = make_params()
    opt = optim.Adam(params, lr=0.1)
    set_grads(params)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    snapshot = saved["state"][0]["exp_avg"].numpy().copy()
    opt.load_state_dict(saved)
    set_grads(params, seed=5)
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"].numpy(), snapshot)
    assert saved["state"][0]["step"].item() == 1.0
    assert opt.state[params[0]]["step"].item() == 2.0


def test_load_state_dict_casts_to_param_dtype_but_not_step():
    params = make_params()
    opt = optim.Adam(params, lr=0.1)
    set_grads(params)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    for st in sd["state"].values():
        st["exp_avg"] = st["exp_avg"].double()
    opt.load_state_dict(sd)
    assert opt.state[params[0]]["exp_avg"].dtype == ember.float32
    assert opt.state[params[0]]["step"].dtype == ember.float32


def test_load_state_dict_accepts_string_keys_and_list_betas():
    params = make_params()
    opt = optim.Adam(params, lr=0.1)
    set_grads(params)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"] = {str(k): v for k, v in sd["state"].items()}
    sd["param_groups"][0]["betas"] = list(sd["param_groups"][0]["betas"])
    opt.load_state_dict(sd)
    assert set(opt.state) == set(params)
    set_grads(params)
    opt.step()


def test_load_state_dict_mismatch_raises():
    params = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    set_grads(params)
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD(make_params(shapes=((3, 4),)), lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(sd)
    two_groups = optim.SGD([{"params": [p]} for p in make_params()], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(sd)
    swapped = optim.SGD(make_params(shapes=((4,), (3, 4))), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="shape"):
        swapped.load_state_dict(sd)


def test_pickle_and_deepcopy_round_trip():
    params = make_params()
    opt = optim.AdamW(params, lr=0.1)
    set_grads(params)
    opt.step()
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert clone.param_groups[0]["lr"] == 0.1
        (p0,) = [p for p in clone.param_groups[0]["params"][:1]]
        assert clone.state[p0]["step"].item() == 1.0
        p0.grad = ember.ones(3, 4)
        clone.param_groups[0]["params"][1].grad = ember.ones(4)
        clone.step()
        assert clone.state[p0]["step"].item() == 2.0


# ----------------------------------------------------------------------------- hooks
def test_step_hooks_run_in_order_and_remove():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    h2 = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    assert calls == ["pre", "post"]
    h1.remove()
    h2.remove()
    opt.step()
    assert calls == ["pre", "post"]


def test_global_step_hooks():
    from ember.optim.optimizer import register_optimizer_step_post_hook

    seen = []
    handle = register_optimizer_step_post_hook(lambda o, a, k: seen.append(type(o).__name__))
    try:
        optim.Adam(make_params(), lr=0.1).step()
        optim.RMSprop(make_params(), lr=0.1).step()
    finally:
        handle.remove()
    optim.SGD(make_params(), lr=0.1).step()
    assert seen == ["Adam", "RMSprop"]


def test_state_dict_hooks():
    params = make_params()
    opt = optim.SGD(params, lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    loaded = []
    opt.register_load_state_dict_post_hook(lambda o: loaded.append(True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.load_state_dict(opt.state_dict())
    assert loaded == [True]


def test_base_step_is_abstract():
    opt = optim.Optimizer(make_params(), {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()


def test_required_default_must_be_given():
    from ember.optim.optimizer import required

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.Optimizer(make_params(), {"lr": required})
