"""ember/_arg_errors.py without torch: the message builders' wording, the Tensor methods'
twins (the same code, no extra frame) and the position numbering they make possible."""
import numpy as np
import pytest

import ember
from ember import _arg_errors, ops


@pytest.mark.parametrize("value, name", [
    (0, "int"), (1.5, "float"), (None, "NoneType"), ([1], "list"), ((1,), "tuple"),
    ("a", "str"), (True, "bool"), (np.zeros(2), "numpy.ndarray"), (np.float32(1), "numpy.float32"),
    (ember.float32, "torch.dtype"), (ember.device("cpu"), "torch.device"),
    (ember.Size([2]), "torch.Size"), (ember.ones(2), "Tensor"),
])
def test_type_names_are_spelled_as_torchs_messages_spell_them(value, name):
    assert _arg_errors.type_name(value) == name


def test_missing_keeps_torchs_inverted_plural():
    assert str(_arg_errors.missing("f", "a")) == 'f() missing 1 required positional arguments: "a"'
    assert str(_arg_errors.missing("f", "a", "b")) == \
        'f() missing 2 required positional argument: "a", "b"'


def test_invalid_combination_renders_the_given_arguments_like_torch():
    first = str(_arg_errors.invalid_combination("f", (), {"dim": 1}, ("(int a)", "(str b)")))
    assert first.split("\n") == ["f() received an invalid combination of arguments - got "
                                 "(dim=int, ), but expected one of:", " * (int a)", " * (str b)",
                                 ""]
    one = str(_arg_errors.invalid_combination("f", (ember.ones(1), 2), {"k": None}, ("(x)",)))
    assert one == ("f() received an invalid combination of arguments - got (Tensor, int, "
                   "k=NoneType), but expected (x)")


def test_takes_positional_agrees_in_number():
    assert str(_arg_errors.takes_positional("f", 0, 1)) == \
        "f() takes 0 positional arguments but 1 was given"
    assert str(_arg_errors.takes_positional("f", 1, 2)) == \
        "f() takes 1 positional argument but 2 were given"


def test_a_method_twin_runs_the_ops_code_under_its_own_identity():
    assert ember.Tensor.mm is not ops.mm
    assert ember.Tensor.mm.__code__ is not ops.mm.__code__
    assert ember.Tensor.mm.__code__ == ops.mm.__code__  # the same bytecode and constants
    assert ember.Tensor.mm.__doc__ == ops.mm.__doc__


def test_identity_patched_functions_are_never_twins():
    # the profiler and forward-mode AD find these under every name bound to them
    assert ember.Tensor.matmul is ops.matmul and ember.Tensor.__matmul__ is ops.matmul


@pytest.mark.parametrize("call, position", [
    (lambda x: x.mm(0), 1), (lambda x: ember.mm(x, 0), 2), (lambda x: ops.mm(x, 0), 2),
    (lambda x: x.cross(0), 1), (lambda x: ember.cross(x, 0), 2),
])
def test_positions_count_after_self_for_a_method_only(call, position):
    with pytest.raises(TypeError, match=rf"\(position {position}\) must be Tensor, not int$"):
        call(ember.ones(3, 3))


def test_a_bool_parameter_refuses_an_int():
    with pytest.raises(TypeError, match="must be bool, not int"):
        ember.ones(3, 3).svd(0)
    assert len(ember.ones(3, 3).svd(True)) == 3  # a real bool still runs


def test_an_unrelated_attribute_error_is_not_turned_into_a_type_error():
    class Broken(ember.Tensor):
        def dim(self):
            raise AttributeError("inside dim")

    with pytest.raises(AttributeError, match="inside dim"):
        ops.mm(Broken(np.ones((2, 2), np.float32)), ember.ones(2, 2))
