"""Finite-difference checks of the recurrent layers (no torch needed): gradients through time
of the input, the initial states and every parameter, in float64."""
from __future__ import annotations

import pytest

import ember
from ember.autograd import gradcheck


def _scalar(result, weights):
    out, hidden = result
    tensors = [out, *(hidden if isinstance(hidden, tuple) else (hidden,))]
    return sum((t * w).sum() for t, w in zip(tensors, weights))


@pytest.mark.parametrize("cls, kwargs", [
    (ember.nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (ember.nn.LSTM, {"proj_size": 1, "batch_first": True}),
    (ember.nn.GRU, {"num_layers": 2, "bidirectional": True}),
    (ember.nn.RNN, {"num_layers": 2, "nonlinearity": "tanh"}),
])
def test_layer_gradients_match_finite_differences(cls, kwargs):
    model = cls(2, 2, dtype=ember.float64, **kwargs)
    d = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    h_size = kwargs.get("proj_size", 0) or 2
    # two steps of a batch of two (batch_first swaps the leading dims)
    x = ember.randn(2, 2, 2, dtype=ember.float64, requires_grad=True)
    h0 = ember.randn(d, 2, h_size, dtype=ember.float64, requires_grad=True)
    states = [h0]
    if cls is ember.nn.LSTM:
        states.append(ember.randn(d, 2, 2, dtype=ember.float64, requires_grad=True))
    probe = model(x, tuple(states) if len(states) == 2 else h0)
    outs = [probe[0], *(probe[1] if isinstance(probe[1], tuple) else (probe[1],))]
    weights = [ember.randn(*o.shape, dtype=ember.float64) for o in outs]

    def f(x, *rest):
        n = len(states)
        hx = tuple(rest[:n]) if n == 2 else rest[0]
        return _scalar(model(x, hx), weights)

    # every parameter of a one-direction model; of a two-layer bidirectional one (slow to
    # perturb element by element) the first layer's W_hh and the last layer's reverse weights
    params = [p for name, p in model.named_parameters()
              if not kwargs.get("bidirectional") or name.endswith("l1_reverse")
              or name == "weight_hh_l0"]
    assert gradcheck(f, (x, *states, *params))


@pytest.mark.parametrize("cls", [ember.nn.RNNCell, ember.nn.LSTMCell, ember.nn.GRUCell])
def test_cell_gradients_match_finite_differences(cls):
    cell = cls(3, 2, dtype=ember.float64)
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    h = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    c = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)

    def f(x, h, c, *params):
        out = cell(x, (h, c)) if cls is ember.nn.LSTMCell else cell(x, h) * c
        return out[0].sum() + out[1].sum() if isinstance(out, tuple) else out.sum()

    assert gradcheck(f, (x, h, c, *cell.parameters()))


@pytest.mark.parametrize("op_name, kwargs", [
    ("LSTMSequence", {"reverse": False}),
    ("LSTMSequence", {"reverse": True}),
    ("GRUSequence", {"reverse": True}),
    ("GRUSequence", {"reverse": False, "bias": False}),
    ("RNNSequence", {"relu": True, "reverse": True}),
    ("RNNSequence", {"relu": False}),
])
@pytest.mark.parametrize("used", ["all", "last_state_only", "outputs_only"])
def test_sequence_ops_backpropagate_through_time(op_name, kwargs, used):
    """The fused sequence ops on their own: three steps, batch 2, hidden 3 (gates 4x3 or
    3x3), whichever of their outputs the loss uses (the others get no gradient)."""
    from ember.nn._functions import recurrent

    op = getattr(recurrent, op_name)
    kwargs = dict(kwargs)
    gates = {"LSTMSequence": 4, "GRUSequence": 3, "RNNSequence": 1}[op_name] * 3
    f64 = ember.float64
    gi = ember.randn(3, 2, gates, dtype=f64, requires_grad=True)
    h0 = ember.randn(2, 3, dtype=f64, requires_grad=True)
    w_hh = ember.randn(gates, 3, dtype=f64, requires_grad=True)
    inputs = [gi, h0]
    if op_name == "LSTMSequence":
        inputs.append(ember.randn(2, 3, dtype=f64, requires_grad=True))
    inputs.append(w_hh)
    if op_name == "GRUSequence" and kwargs.pop("bias", True):
        inputs.append(ember.randn(gates, dtype=f64, requires_grad=True))

    weights = [ember.randn(*o.shape, dtype=f64) for o in op.apply(*inputs, **kwargs)]

    def f(*args):
        pairs = list(zip(op.apply(*args, **kwargs), weights))
        picked = {"all": pairs, "last_state_only": pairs[1:2], "outputs_only": pairs[:1]}[used]
        return sum((o * w).sum() for o, w in picked)

    assert gradcheck(f, tuple(inputs))
