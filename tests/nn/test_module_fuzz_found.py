"""Regressions found by ``tests/oracle/test_fuzz_module_oracle.py`` (the Module API fuzzer),
each minimised; the expected values are torch 2.13's, written out by hand."""
import warnings
from collections import OrderedDict

import pytest

import ember
from ember import nn


def test_parameter_dict_from_a_plain_dict_is_filled_in_sorted_key_order():
    # torch sorts an unordered mapping; an OrderedDict or a list of pairs keeps its order
    pd = nn.ParameterDict({"b": ember.ones(1), "a": ember.zeros(1), "c": 3})
    assert list(pd.keys()) == ["a", "b", "c"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    assert list(nn.ParameterDict([("b", ember.ones(1)), ("a", ember.ones(1))])) == ["b", "a"]
    pairs = OrderedDict(b=ember.ones(1), a=ember.ones(1))
    assert list(nn.ParameterDict(pairs)) == ["b", "a"]


def test_parameter_dict_rejects_a_non_string_key_with_torchs_message():
    pd = nn.ParameterDict({"a": ember.ones(1)})
    msg = ("Index given to ParameterDict cannot be used as a key as it is not a string (type "
           "is 'int'). Open an issue on github if you need non-string keys.")
    with pytest.raises(TypeError) as err:
        pd[0]
    assert str(err.value) == msg


def test_parameter_dict_has_torchs_dict_methods():
    pd = nn.ParameterDict({"b": ember.ones(1), "a": ember.zeros(1), "c": 3})
    assert tuple(pd.setdefault("z", ember.ones(2)).shape) == (2,)
    assert tuple(pd.setdefault("a", 9).shape) == (1,)  # present: unchanged
    assert pd.get("q", 5) == 5
    assert pd.popitem()[0] == "z"
    assert list(reversed(pd)) == ["c", "b", "a"]
    assert list(pd.fromkeys(["x", "y"], 4).items()) == [("x", 4), ("y", 4)]
    copy = pd.copy()
    assert type(copy) is nn.ParameterDict and copy["a"] is pd["a"]
    other = nn.ParameterDict({"n": ember.ones(1)})
    assert list(pd | other) == ["a", "b", "c", "n"]
    assert list(other | pd) == ["n", "a", "b", "c"]
    pd |= other
    assert list(pd) == ["a", "b", "c", "n"]
    pd.clear()
    assert len(pd) == 0 and list(pd._parameters) == []
    with pytest.raises(KeyError, match="popitem"):
        pd.popitem()


@pytest.mark.parametrize("bad, kind, msg", [
    (3, TypeError, "ParametersDict.update should be called with an iterable of key/value "
                   "pairs, but got int"),
    ([("k",)], ValueError, "ParameterDict update sequence element #0 has length 1; 2 is "
                           "required"),
    ([4], TypeError, "ParameterDict update sequence element #0 should be Iterable; isint"),
])
def test_parameter_dict_update_errors_match_torch(bad, kind, msg):
    with pytest.raises(kind) as err:
        nn.ParameterDict().update(bad)
    assert str(err.value) == msg


def test_parameter_containers_refuse_to_be_called_and_hide_indices_from_dir():
    with pytest.raises(RuntimeError, match="^ParameterDict should not be called.$"):
        nn.ParameterDict()(1)
    pl = nn.ParameterList([ember.ones(1), ember.ones(2)])
    with pytest.raises(RuntimeError, match="^ParameterList should not be called.$"):
        pl(1)
    assert [k for k in dir(pl) if k.isdigit()] == []


def test_buffer_is_a_flagged_plain_tensor_that_keeps_requires_grad():
    t = ember.ones(3, requires_grad=True)
    b = nn.Buffer(t, persistent=False)
    assert type(b) is ember.Tensor
    assert b.requires_grad and b.persistent is False and b.grad_fn is None
    assert isinstance(b, nn.Buffer) and not isinstance(ember.ones(1), nn.Buffer)
    m = nn.Module()
    m.b = b
    assert list(m._buffers) == ["b"] and m._non_persistent_buffers_set == {"b"}
    assert m.b is b
    with ember.no_grad():
        b.add_(1)  # shares storage with t
    assert t.tolist() == [2.0, 2.0, 2.0]


def test_module_to_with_an_unknown_keyword_gives_torchs_parser_message():
    with pytest.raises(TypeError) as err:
        nn.Linear(1, 1).to(ember.float64, bogus=1)
    assert str(err.value) == (
        "to() received an invalid combination of arguments - got (torch.dtype, bogus=int), "
        "but expected one of:\n"
        " * (torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
        "bool copy = False, *, torch.memory_format memory_format = None)\n"
        " * (torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
        "torch.memory_format memory_format = None)\n"
        " * (Tensor tensor, bool non_blocking = False, bool copy = False, *, "
        "torch.memory_format memory_format = None)\n")


def test_state_dict_positional_args_warn_with_torchs_message():
    with pytest.warns(FutureWarning) as caught:
        sd = nn.Linear(1, 1).state_dict(None, "p.")
    assert list(sd) == ["p.weight", "p.bias"]
    assert str(caught[0].message) == (
        "Positional args are being deprecated, use kwargs instead. Refer to "
        "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
        "#torch.nn.Module.state_dict for details.")


def test_failing_global_always_call_hook_warns_as_a_global_hook():
    from ember.nn.modules.module import register_module_forward_hook

    def hook(module, args, output):
        raise KeyError("hook")

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    boom = Boom()
    handles = [register_module_forward_hook(hook, always_call=True),
               boom.register_forward_hook(hook, always_call=True)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                boom(1)
    finally:
        for h in handles:
            h.remove()
    tail = ("forward hook with ``always_call=True`` raised an exception that was silenced as "
            "another error was raised in forward: 'hook'")
    assert [str(w.message) for w in caught] == ["global module " + tail, "module " + tail]
