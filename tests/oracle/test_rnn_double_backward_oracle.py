"""Second derivatives through RNN / LSTM / GRU and their cells against torch, in float64
(torch's float32 CPU LSTM goes through oneDNN): a gradient penalty (the gradient of
``||dL/dx||^2`` and of the squared gradients of every input and weight) and Hessian-vector
products with respect to the weights, for every mode: layers and directions, batch_first,
no biases, projections, PackedSequence input, unbatched input."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

STEPS, BATCH, IN, HID = 4, 3, 3, 4
LENGTHS = [4, 2, 3]  # unsorted: pack_padded_sequence sorts and unsorts


def _build(lib, cls_name, kwargs, params):
    model = getattr(lib.nn, cls_name)(IN, HID, **kwargs).double()
    with lib.no_grad():
        for name, p in model.named_parameters():
            p.copy_(lib.tensor(params[name]))
    return model


def _arrays(torch, cls_name, kwargs, batched=True, seed=0):
    """Weights (from a torch model), input and initial states as float64 arrays."""
    torch.manual_seed(seed)
    model = getattr(torch.nn, cls_name)(IN, HID, **kwargs).double()
    params = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    rng = np.random.default_rng(seed)
    d = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    lead = (STEPS, BATCH) if not kwargs.get("batch_first") else (BATCH, STEPS)
    if not batched:
        lead = (STEPS,)
    x = rng.standard_normal(lead + (IN,))
    batch = (BATCH,) if batched else ()
    states = [rng.standard_normal((d,) + batch + (kwargs.get("proj_size", 0) or HID,)) * 0.5]
    if cls_name == "LSTM":
        states.append(rng.standard_normal((d,) + batch + (HID,)) * 0.5)
    return params, x, states


def _forward(lib, model, x, states, packed):
    """(output, *final states): padded back when the input went in packed."""
    hx = tuple(states) if len(states) == 2 else states[0]
    inp = x
    if packed:
        inp = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor(LENGTHS),
                                                    batch_first=model.batch_first,
                                                    enforce_sorted=False)
    out, hidden = model(inp, hx)
    if packed:
        out = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=model.batch_first)[0]
    return [out, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def _numpy(grads, like):
    return [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()
            for g, t in zip(grads, like)]


def _second_order(lib, cls_name, kwargs, arrays, packed, penalty):
    """``penalty="input"``: d ||dL/dx||^2 / d(x, states, weights); ``"all"``: the same for
    the squared gradients of all of them; ``"hvp"``: H v over the weights."""
    params, x_np, states_np = arrays
    model = _build(lib, cls_name, kwargs, params)
    x = lib.tensor(x_np, requires_grad=True)
    states = [lib.tensor(s, requires_grad=True) for s in states_np]
    weights = list(model.parameters())
    outs = _forward(lib, model, x, states, packed)
    rng = np.random.default_rng(1)
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
    wrt = [x, *states, *weights]
    if penalty == "hvp":
        grads = lib.autograd.grad(loss, weights, create_graph=True)
        vs = [lib.tensor(rng.standard_normal(tuple(w.shape))) for w in weights]
        second = sum((g * v).sum() for g, v in zip(grads, vs))
        return _numpy(lib.autograd.grad(second, weights, allow_unused=True), weights)
    grads = lib.autograd.grad(loss, wrt if penalty == "all" else [x], create_graph=True)
    second = sum((g * g).sum() for g in grads)
    return _numpy(lib.autograd.grad(second, wrt, allow_unused=True), wrt)


LAYER_CASES = [
    ("RNN", {}, False),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, False),
    ("RNN", {"bidirectional": True, "batch_first": True, "bias": False}, True),
    ("RNN", {"nonlinearity": "relu", "bidirectional": True}, True),
    ("LSTM", {}, False),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, False),
    ("LSTM", {"batch_first": True, "bias": False}, True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, True),
    ("LSTM", {"proj_size": 2, "bidirectional": True}, False),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "batch_first": True}, True),
    ("GRU", {}, False),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, False),
    ("GRU", {"bias": False, "bidirectional": True}, True),
    ("GRU", {"num_layers": 2}, True),
]


def _id(case):
    cls_name, kwargs, packed = case
    parts = [cls_name] + [f"{k}={v}" for k, v in kwargs.items()] + (["packed"] if packed else [])
    return "-".join(parts)


@pytest.mark.parametrize("case", LAYER_CASES, ids=[_id(c) for c in LAYER_CASES])
@pytest.mark.parametrize("penalty", ["input", "all", "hvp"])
def test_layer_second_derivatives_match_torch(torch, case, penalty):
    cls_name, kwargs, packed = case
    arrays = _arrays(torch, cls_name, kwargs)
    want = _second_order(torch, cls_name, kwargs, arrays, packed, penalty)
    got = _second_order(ember, cls_name, kwargs, arrays, packed, penalty)
    assert any(np.abs(w).max() > 1e-3 for w in want)
    for g, w in zip(got, want):
        assert_close(g, w, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("cls_name", ["RNN", "LSTM", "GRU"])
def test_unbatched_layer_gradient_penalty_matches_torch(torch, cls_name):
    kwargs = {"bidirectional": True}
    arrays = _arrays(torch, cls_name, kwargs, batched=False)
    want = _second_order(torch, cls_name, kwargs, arrays, False, "all")
    got = _second_order(ember, cls_name, kwargs, arrays, False, "all")
    for g, w in zip(got, want):
        assert_close(g, w, rtol=1e-9, atol=1e-10)


# --- cells -----------------------------------------------------------------------------------
def _cell_second_order(lib, cls_name, kwargs, params, x_np, states_np, penalty):
    cell = getattr(lib.nn, cls_name)(IN, HID, **kwargs).double()
    with lib.no_grad():
        for name, p in cell.named_parameters():
            p.copy_(lib.tensor(params[name]))
    x = lib.tensor(x_np, requires_grad=True)
    states = [lib.tensor(s, requires_grad=True) for s in states_np]
    out = cell(x, tuple(states) if len(states) == 2 else states[0])
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(1)
    loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
    weights = list(cell.parameters())
    wrt = [x, *states, *weights]
    if penalty == "hvp":
        grads = lib.autograd.grad(loss, weights, create_graph=True)
        vs = [lib.tensor(rng.standard_normal(tuple(w.shape))) for w in weights]
        second = sum((g * v).sum() for g, v in zip(grads, vs))
        return _numpy(lib.autograd.grad(second, weights, allow_unused=True), weights)
    (gx,) = lib.autograd.grad(loss, [x], create_graph=True)
    return _numpy(lib.autograd.grad((gx * gx).sum(), wrt, allow_unused=True), wrt)


@pytest.mark.parametrize("cls_name, kwargs", [
    ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
    ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}), ("GRUCell", {"bias": False}),
])
@pytest.mark.parametrize("penalty", ["input", "hvp"])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_second_derivatives_match_torch(torch, cls_name, kwargs, penalty, batched):
    torch.manual_seed(0)
    cell = getattr(torch.nn, cls_name)(IN, HID, **kwargs).double()
    params = {n: p.detach().numpy().copy() for n, p in cell.named_parameters()}
    rng = np.random.default_rng(0)
    lead = (BATCH,) if batched else ()
    x = rng.standard_normal(lead + (IN,))
    states = [rng.standard_normal(lead + (HID,)) for _ in range(2 if cls_name == "LSTMCell"
                                                                  else 1)]
    want = _cell_second_order(torch, cls_name, kwargs, params, x, states, penalty)
    got = _cell_second_order(ember, cls_name, kwargs, params, x, states, penalty)
    for g, w in zip(got, want):
        assert_close(g, w, rtol=1e-9, atol=1e-10)
