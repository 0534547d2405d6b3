"""ember.testing.compare_with_torch: agreement, each kind of difference, and no torch."""
import sys

import numpy as np

import ember
from ember.testing import Comparison, compare_with_torch


def _xw():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((4, 3)).astype(np.float32),
            rng.standard_normal((3, 2)).astype(np.float32))


def test_same_code_agrees_on_values_dtypes_and_gradients(torch):
    x, w = _xw()
    rep = compare_with_torch(lambda t, x, w: t.tanh(x @ w).sum(dim=1), x, w)
    assert rep.ok, rep.report()
    assert rep.report().splitlines() == [
        "compare_with_torch: ember and torch agree",
        "  same  output: float32 [4]",
        "  same  inputs[0].grad: float32 [4, 3]",
        "  same  inputs[1].grad: float32 [3, 2]"]


def test_tuples_python_values_and_integer_outputs(torch):
    x, _ = _xw()
    rep = compare_with_torch(lambda t, x: (x.max(dim=1), x.shape, x.sum().item()), x)
    assert rep.ok, rep.report()
    assert "  same  output[0][1]: int64 [4]" in rep.report()
    assert "  same  output[1]: (4, 3)" in rep.report()


def test_value_difference_is_reported_with_the_first_element(torch):
    x, _ = _xw()

    def f(lib, x):
        return x * 2 if lib is ember else x * 2.001

    rep = compare_with_torch(f, x)
    assert not rep.ok
    assert rep.differences[0].startswith("output: values differ at 12 of 12 elements")
    assert "first at [0, 0]" in rep.differences[0]
    assert any(d.startswith("inputs[0].grad: values differ") for d in rep.differences)


def test_dtype_difference_is_reported(torch):
    x, _ = _xw()

    def f(lib, x):
        return x.double() if lib is ember else x

    rep = compare_with_torch(f, x, grad=False)
    assert rep.differences == ["output: dtype float64 in ember, float32 in torch"]


def test_errors_are_compared(torch):
    x, w = _xw()
    rep = compare_with_torch(lambda t, x, w: x @ x, x, w)
    assert rep.ok and rep.checked == ["error: both raise RuntimeError"]
    assert rep.notes == []  # the first lines match word for word

    def only_ember(lib, x):
        if lib is ember:
            raise ValueError("nope")
        return x

    rep = compare_with_torch(only_ember, x)
    assert rep.differences == ["error: ember raises ValueError: nope; torch returns a result"]


def test_structure_difference_is_reported(torch):
    x, _ = _xw()
    rep = compare_with_torch(lambda t, x: (x, x) if t is ember else (x,), x)
    assert rep.differences[0].startswith("output structure")


def test_inputs_keep_dtype_and_tensors_keep_requires_grad(torch):
    x = np.arange(6, dtype=np.int64).reshape(2, 3)
    rep = compare_with_torch(lambda t, x: x.sum(dim=0), x)
    assert rep.ok and "  same  output: int64 [3]" in rep.report()
    y = ember.randn(3)  # no requires_grad: no gradient compared
    rep = compare_with_torch(lambda t, y: y.exp(), y)
    assert rep.ok and all("grad" not in c for c in rep.checked)


def test_without_torch_only_ember_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    x, w = _xw()
    rep = compare_with_torch(lambda t, x, w: (x @ w).sum(), x, w)
    assert isinstance(rep, Comparison) and rep.ok
    assert rep.skipped == "torch is not installed"
    assert str(rep) == "compare_with_torch: torch not run (torch is not installed); ember ran"
    assert isinstance(rep.ember_result, ember.Tensor)


def test_tolerances_can_be_widened(torch):
    x, _ = _xw()

    def f(lib, x):
        return x * 2 if lib is ember else x * 2.001

    assert compare_with_torch(f, x, rtol=1e-2, atol=1e-2)
