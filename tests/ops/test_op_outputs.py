"""The Op contract on every row of the op table, without torch: outputs are arrays of the
input's float dtype, the recording and non-recording paths agree, and gradients come back
with each input's shape and dtype."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close, make_inputs
from tests.ops.op_table import OPS


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


# recorded, matmul takes torch's kernel for what requires grad (a vector times a folded batch:
# one mv), untracked one NumPy call: the same sum in another order, within float64 rounding
_KERNEL_CHOICE = {"matmul_1d_batched": (1e-14, 1e-14)}


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
def test_outputs_match_with_and_without_recording(case):
    inputs = make_inputs(case, dtype=np.float64, seed=3)
    recorded = _outputs(case.fn(*inputs))
    with ember.no_grad():
        plain = _outputs(case.fn(*inputs))
    detached = _outputs(case.fn(*[x.detach() for x in inputs]))
    for k, (r, p, d) in enumerate(zip(recorded, plain, detached)):
        assert type(r.detach().numpy()) is np.ndarray, f"output {k} is not backed by an ndarray"
        if r.is_floating_point():
            assert r.dtype == ember.float64, f"output {k} lost float64: {r.dtype}"
            assert r.requires_grad and r.grad_fn is not None
        # a view of an input that requires grad requires grad too under no_grad, as torch's
        assert (not p.requires_grad or p._is_view()) and p.grad_fn is None
        rtol, atol = _KERNEL_CHOICE.get(case.name, (0, 0))
        assert_close(p, r, rtol=rtol, atol=atol, msg=f"no_grad output {k}")
        assert_close(d, r, rtol=rtol, atol=atol, msg=f"detached-input output {k}")


@pytest.mark.parametrize("case", OPS, ids=lambda c: c.name)
def test_gradients_have_input_shape_and_dtype(case):
    inputs = make_inputs(case, dtype=np.float32, seed=3)
    outs = [o for o in _outputs(case.fn(*inputs)) if o.requires_grad]
    sum(o.sum() for o in outs).backward()
    for i, x in enumerate(inputs):
        if x.grad is not None:
            assert x.grad.shape == x.shape and x.grad.dtype == ember.float32, f"input {i}"
            assert type(x.grad.numpy()) is np.ndarray


def test_zero_dim_results_support_in_place_ops():
    s = ember.tensor(2.0).exp()
    s += 1
    s.mul_(2)
    assert s.shape == () and abs(s.item() - 2 * (np.exp(2.0) + 1)) < 1e-4


@pytest.mark.parametrize("make", [
    lambda x: x.std(), lambda x: x.std(dim=0), lambda x: x.norm(), lambda x: x.norm(dim=1),
    lambda x: x.norm(p=3, dim=1), lambda x: x.norm(p=0.5, dim=1),
], ids=["std", "std_dim", "norm", "norm_dim", "norm_p3", "norm_p_half"])
def test_zero_spread_or_zero_norm_gives_zero_gradient_not_nan(make):
    # torch defines these gradients as 0 where the value is 0 (sqrt and |x|^p are not
    # differentiable there); a composition sqrt(var) would give nan
    x = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    make(x).sum().backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2
