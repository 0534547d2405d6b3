"""nn.Module behaviour: registration, traversal, modes, conversion, state dicts, hooks, repr."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.scale = nn.Parameter(ember.ones(1))

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


# --- registration --------------------------------------------------------------------------
def test_setattr_registers_parameters_modules_and_buffers():
    net = Net()
    assert set(net._parameters) == {"scale"}
    assert set(net._modules) == {"fc", "bn"}
    assert set(net._buffers) == {"steps", "scratch"}
    assert "fc" not in net.__dict__ and "scale" not in net.__dict__
    assert net.fc is net._modules["fc"]


def test_named_parameters_use_dotted_torch_names():
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["scale", "fc.weight", "fc.bias", "bn.weight", "bn.bias"]


def test_named_buffers_and_state_dict_keys():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "scratch", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]
    assert list(net.state_dict()) == [
        "scale", "steps", "fc.weight", "fc.bias", "bn.weight", "bn.bias", "bn.running_mean",
        "bn.running_var", "bn.num_batches_tracked"]


def test_children_and_modules_traversal():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Linear", "BatchNorm1d"]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "bn"]
    seq = nn.Sequential(net, nn.ReLU())
    assert [n for n, _ in seq.named_modules()] == ["", "0", "0.fc", "0.bn", "1"]


def test_assigning_tensor_to_parameter_name_raises_type_error():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter "
                                        "'weight' \\(torch.nn.Parameter or None expected\\)"):
        lin.weight = ember.zeros(2, 2)
    lin.bias = None
    assert lin.bias is None and "bias" in lin._parameters


def test_register_errors_match_torch():
    m = nn.Module()
    with pytest.raises(KeyError, match='buffer name can.*t contain'):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'x'"):
        m.register_buffer("x", 3)
    m.foo = 1
    with pytest.raises(KeyError, match="attribute 'foo' already exists"):
        m.register_parameter("foo", nn.Parameter(ember.zeros(1)))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        _ = m.nope


def test_parameter_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__\\(\\) call"):
        Bad()


def test_delattr_removes_registration():
    net = Net()
    del net.fc
    del net.steps
    del net.scale
    assert "fc" not in net._modules and "steps" not in net._buffers
    assert "scale" not in net._parameters


def test_buffer_assignment_keeps_registration():
    net = Net()
    net.steps = ember.ones(1)
    assert "steps" in net._buffers
    net.scratch = ember.ones(2)
    assert "scratch" not in net.state_dict()
    net.extra = nn.Buffer(ember.ones(3), persistent=False)
    assert "extra" in net._buffers and "extra" not in net.state_dict()


def test_weight_tying_counts_shared_parameter_once():
    emb = nn.Embedding(10, 4)
    head = nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, head)
    assert len(list(model.parameters())) == 1
    assert [n for n, _ in model.named_parameters()] == ["0.weight"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 2
    assert list(model.state_dict()) == ["0.weight", "1.weight"]


def test_get_submodule_parameter_buffer():
    seq = nn.Sequential(Net())
    assert seq.get_submodule("0.fc") is seq[0].fc
    assert seq.get_parameter("0.fc.bias") is seq[0].fc.bias
    assert seq.get_buffer("0.bn.running_var") is seq[0].bn.running_var
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        seq.get_submodule("0.nope")


# --- modes, gradients, conversion ------------------------------------------------------------
def test_train_eval_recursive_and_boolean_only():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_to_none_and_to_zeros():
    lin = nn.Linear(3, 2)
    lin(ember.randn(4, 3)).sum().backward()
    lin.zero_grad(set_to_none=False)
    assert float(lin.weight.grad.abs().sum()) == 0.0
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "BatchNorm1d", "Net"]


def test_to_double_and_float_keep_parameter_objects_and_int_buffers():
    net = Net()
    w = net.fc.weight
    net(ember.randn(5, 4)).sum().backward()
    assert net.double() is net
    assert net.fc.weight is w and w.dtype == ember.float64
    assert w.grad.dtype == ember.float64
    assert net.bn.running_mean.dtype == ember.float64
    assert net.bn.num_batches_tracked.dtype == ember.int64
    net.to(ember.float32)
    assert w.dtype == ember.float32
    out = net(ember.randn(5, 4))
    assert out.dtype == ember.float32
    assert net.float() is net and net.cpu() is net
    assert net.to("cpu") is net and net.to(ember.device("cpu"), ember.float64) is net
    assert w.dtype == ember.float64


def test_to_rejects_integer_dtype_and_other_devices():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        lin.to(ember.int64)
    with pytest.raises(RuntimeError):
        lin.to("cuda")


def test_deepcopy_and_pickle_round_trip():
    net = Net()
    twin = copy.deepcopy(net)
    assert twin.fc.weight is not net.fc.weight
    np.testing.assert_array_equal(twin.fc.weight.detach().numpy(), net.fc.weight.detach().numpy())
    back = pickle.loads(pickle.dumps(net))
    assert list(back.state_dict()) == list(net.state_dict())


# --- state dict ----------------------------------------------------------------------------
def test_state_dict_round_trip_restores_outputs():
    ember.manual_seed(0)
    a, b = Net(), Net()
    x = ember.randn(6, 4)
    a.train()(x)  # moves running stats
    a.eval()
    b.load_state_dict(a.state_dict())
    b.eval()
    with ember.no_grad():
        np.testing.assert_allclose(b(x).numpy(), a(x).numpy(), rtol=1e-6)
    assert int(b.bn.num_batches_tracked) == 1


def test_state_dict_tensors_are_detached_views():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].zero_()
    assert float(lin.weight.abs().sum()) == 0.0
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight
    assert sd._metadata[""] == {"version": 1}


def test_load_state_dict_reports_missing_and_unexpected():
    lin = nn.Linear(3, 2)
    sd = {"weight": ember.zeros(2, 3), "extra": ember.zeros(1)}
    result = lin.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert tuple(result) == (["bias"], ["extra"])
    assert float(lin.weight.abs().sum()) == 0.0
    ok = lin.load_state_dict(lin.state_dict())
    assert repr(ok) == "<All keys matched successfully>"


def test_load_state_dict_strict_error_message():
    lin = nn.Linear(3, 2)
    sd = {"weight": ember.zeros(2, 4), "extra": ember.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Linear:\n\t")
    assert 'Missing key(s) in state_dict: "bias". ' in msg
    assert 'Unexpected key(s) in state_dict: "extra". ' in msg
    assert ("size mismatch for weight: copying a param with shape torch.Size([2, 4]) from "
            "checkpoint, the shape in current model is torch.Size([2, 3]).") in msg


def test_load_state_dict_size_mismatch_raises_even_when_not_strict():
    with pytest.raises(RuntimeError, match="size mismatch for bias"):
        nn.Linear(3, 2).load_state_dict({"bias": ember.zeros(3)}, strict=False)


def test_load_state_dict_nested_unexpected_key():
    seq = nn.Sequential(nn.Linear(2, 2))
    sd = dict(seq.state_dict())
    sd["0.gamma"] = ember.zeros(1)
    sd["5.weight"] = ember.zeros(1)
    result = seq.load_state_dict(sd, strict=False)
    assert result.unexpected_keys == ["5.weight", "0.gamma"]


def test_load_state_dict_rejects_non_mapping_and_non_tensor():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        lin.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias"'):
        lin.load_state_dict({"weight": ember.zeros(2, 2), "bias": [0.0, 0.0]})


def test_load_state_dict_assign_replaces_tensors():
    lin = nn.Linear(2, 2)
    w = ember.ones(2, 2)
    lin.load_state_dict({"weight": w, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.ones((2, 2)))


def test_batchnorm_state_without_num_batches_tracked_loads():
    bn = nn.BatchNorm1d(3)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(sd).missing_keys == []


def test_state_dict_hooks_run():
    lin = nn.Linear(2, 2)
    calls = []
    lin.register_state_dict_pre_hook(lambda m, prefix, keep: calls.append("pre"))
    lin.register_state_dict_post_hook(lambda m, sd, prefix, meta: calls.append("post"))
    lin.register_load_state_dict_post_hook(lambda m, keys: calls.append(("load", keys)))
    lin.load_state_dict(lin.state_dict())
    assert calls[:2] == ["pre", "post"] and calls[2][0] == "load"


# --- hooks -----------------------------------------------------------------------------------
def test_forward_pre_hook_can_replace_input_and_be_removed():
    lin = nn.Linear(2, 2, bias=False)
    handle = lin.register_forward_pre_hook(lambda m, args: args[0] * 0)
    assert float(lin(ember.ones(1, 2)).abs().sum()) == 0.0
    handle.remove()
    handle.remove()
    assert float(lin(ember.ones(1, 2)).abs().sum()) > 0.0


def test_forward_hook_sees_io_and_can_replace_output():
    lin = nn.Linear(2, 2)
    seen = []

    def hook(module, args, output):
        seen.append((module, args[0].shape, output.shape))
        return output * 2

    x = ember.ones(3, 2)
    plain = lin(x)
    with lin.register_forward_hook(hook):
        doubled = lin(x)
    assert seen == [(lin, ember.Size([3, 2]), ember.Size([3, 2]))]
    np.testing.assert_allclose(doubled.detach().numpy(), 2 * plain.detach().numpy())
    assert not lin._forward_hooks


def test_hooks_with_kwargs_and_prepend_order():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("second"))
    m.register_forward_hook(lambda mod, a, o: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, a, kw: (a, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, kw, o: o + kw["factor"], with_kwargs=True)
    out = m(ember.ones(2), factor=2.0)
    np.testing.assert_allclose(out.numpy(), [6.0, 6.0])
    assert order == ["first", "second"]


def test_always_call_forward_hook_runs_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    calls = []
    m.register_forward_hook(lambda mod, a, o: calls.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(ember.ones(1))
    assert calls == [None]


def test_global_forward_hook():
    from ember.nn.modules.module import register_module_forward_hook

    names = []
    handle = register_module_forward_hook(lambda m, a, o: names.append(type(m).__name__))
    try:
        nn.Sequential(nn.Linear(2, 2), nn.ReLU())(ember.ones(1, 2))
    finally:
        handle.remove()
    assert names == ["Linear", "ReLU", "Sequential"]


def test_full_backward_hook_sees_gradients():
    lin = nn.Linear(3, 2)
    got = {}

    def hook(module, grad_input, grad_output):
        got["in"] = [g.shape if g is not None else None for g in grad_input]
        got["out"] = [g.shape for g in grad_output]

    def pre(module, grad_output):
        return (grad_output[0] * 2,)

    lin.register_full_backward_hook(hook)
    lin.register_full_backward_pre_hook(pre)
    x = ember.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert got == {"in": [ember.Size([4, 3])], "out": [ember.Size([4, 2])]}
    np.testing.assert_allclose(lin.bias.grad.numpy(), [8.0, 8.0])


# --- repr ------------------------------------------------------------------------------------
def test_repr_matches_torch_layout():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")")
    assert repr(nn.Linear(4, 3)) == "Linear(in_features=4, out_features=3, bias=True)"


def test_modulelist_repr_folds_repeats():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    assert repr(ml) == ("ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, "
                        "bias=True)\n  (2): ReLU()\n)")


# --- containers ----------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    seq.append(nn.Tanh())
    assert len(seq) == 4
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq.insert(1, b)
    assert seq[1] is b
    assert seq.pop(1) is b
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    assert len(seq + nn.Sequential(nn.ReLU())) == 4
    assert len(nn.Sequential(nn.ReLU()) * 3) == 3


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]
    assert seq(ember.ones(4, 2)).shape == ember.Size([4, 3])


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(2, 2)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert len(ml) == 4 and isinstance(ml[-1], nn.Sigmoid)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2"]
    md = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    md["c"] = nn.Tanh()
    assert list(md) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert md.pop("b").__class__ is nn.ReLU
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


def test_parameterlist_and_dict_register_parameters():
    pl = nn.ParameterList([ember.zeros(2), nn.Parameter(ember.ones(3))])
    assert isinstance(pl[0], nn.Parameter) and len(pl) == 2
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pd = nn.ParameterDict({"w": ember.zeros(2)})
    assert isinstance(pd["w"], nn.Parameter)
    assert list(pd.state_dict()) == ["w"]


def test_identity_flatten_unflatten():
    x = ember.randn(2, 3, 4)
    assert nn.Identity(5, foo=1)(x) is x
    assert nn.Flatten()(x).shape == ember.Size([2, 12])
    assert nn.Flatten(0, 1)(x).shape == ember.Size([6, 4])
    assert nn.Unflatten(1, (3, 1))(ember.randn(2, 3)).shape == ember.Size([2, 3, 1])
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"


def test_module_without_forward_raises():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)


def test_unexpected_init_args_raise():
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)
