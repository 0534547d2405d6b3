"""Second derivatives through the recurrent layers without torch (``create_graph=True``):
``gradgradcheck`` (finite differences of the first derivatives ember computes) of the fused
sequence ops, of whole RNN / LSTM / GRU layers in every mode and of the cells, plus
Hessian-vector products against finite differences of the gradient. float64, small sizes."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradgradcheck
from ember.func import functional_call
from ember.nn._functions import recurrent
from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

D = ember.float64


def _t(*shape, seed=0, scale=1.0):
    a = np.random.default_rng(seed + 31 * len(shape) + sum(shape)).standard_normal(shape)
    return ember.tensor(a * scale, dtype=D, requires_grad=True)


def _mask(lengths, steps):
    """bool ``(L, N, 1)``: step t of sequence b is real while t < lengths[b]."""
    return (np.arange(steps)[:, None] < np.asarray(lengths)[None, :])[:, :, None]


def _assert_hvp_matches_finite_differences(f, args, eps=1e-6):
    """For a loss weighing ``f``'s outputs at random: its Hessian times a random direction
    ``v`` over all of ``args`` (by double backward) against the central difference of the
    gradient along ``v``; cheap for any size, where ``gradgradcheck`` goes element by element."""
    outs = f(*args)
    weights = [_t(*o.shape, seed=20 + k).detach() for k, o in enumerate(outs)]
    vs = [_t(*a.shape, seed=40 + k).detach() for k, a in enumerate(args)]

    def grads(leaves):
        loss = sum((o * w).sum() for o, w in zip(f(*leaves), weights) if o is not None)
        return ember.autograd.grad(loss, leaves, create_graph=True)

    def shifted(sign):
        return [ember.tensor(a.detach().numpy() + sign * eps * v.numpy(), requires_grad=True)
                for a, v in zip(args, vs)]

    hv = ember.autograd.grad(sum((g * v).sum() for g, v in zip(grads(args), vs)), args)
    plus, minus = grads(shifted(1)), grads(shifted(-1))
    for h, p, m in zip(hv, plus, minus):
        fd = (p.detach().numpy() - m.detach().numpy()) / (2 * eps)
        np.testing.assert_allclose(h.numpy(), fd, rtol=1e-5, atol=1e-7)


# --- the fused sequence ops ------------------------------------------------------------------
def _op_inputs(op_name, bias, steps=3, batch=2, hidden=2):
    gates = {"LSTMSequence": 4, "GRUSequence": 3, "RNNSequence": 1}[op_name] * hidden
    inputs = [_t(steps, batch, gates, seed=1), _t(batch, hidden, seed=2, scale=0.5)]
    if op_name == "LSTMSequence":
        inputs.append(_t(batch, hidden, seed=3, scale=0.5))
    inputs.append(_t(gates, hidden, seed=4, scale=0.7))
    if op_name == "GRUSequence":
        inputs.append(_t(gates, seed=5) if bias else None)
    return inputs


def _op_fn(op_name, inputs, kwargs, steps=3, pick=None):
    """``(*tensor inputs) -> outputs`` of the op (``pick``: the outputs kept), with options."""
    kwargs = dict(kwargs)
    kwargs.pop("bias", None)
    lengths = kwargs.pop("lengths", None)
    if lengths is not None:
        kwargs["mask"] = _mask(lengths, steps)
    op = getattr(recurrent, op_name)

    def f(*args):
        it = iter(args)
        outs = op.apply(*[None if x is None else next(it) for x in inputs], **kwargs)
        return outs if pick is None else tuple(outs[i] for i in pick)

    return f


OP_CASES = [
    ("LSTMSequence", {"reverse": False}),
    ("LSTMSequence", {"reverse": True}),
    ("LSTMSequence", {"reverse": False, "lengths": [3, 1]}),
    ("GRUSequence", {"reverse": False}),
    ("GRUSequence", {"reverse": True, "bias": False}),
    ("GRUSequence", {"reverse": True, "lengths": [2, 3]}),
    ("RNNSequence", {"relu": False, "reverse": False}),
    ("RNNSequence", {"relu": True, "reverse": True}),
    ("RNNSequence", {"relu": False, "reverse": True, "lengths": [1, 3]}),
    ("RNNSequence", {"relu": True, "reverse": False, "lengths": [3, 2]}),
]


@pytest.mark.parametrize("op_name, kwargs", [
    ("LSTMSequence", {"reverse": True, "lengths": [2, 1]}),
    ("GRUSequence", {"reverse": False, "lengths": [1, 2]}),
    ("RNNSequence", {"relu": False, "reverse": True, "lengths": [2, 1]}),
])
def test_sequence_op_passes_gradgradcheck(op_name, kwargs):
    inputs = _op_inputs(op_name, True, steps=2)
    f = _op_fn(op_name, inputs, kwargs, steps=2)
    assert gradgradcheck(f, [x for x in inputs if x is not None])


@pytest.mark.parametrize("op_name, kwargs", OP_CASES)
@pytest.mark.parametrize("pick", [None, (0,), (1,)], ids=["all", "outputs", "last_state"])
def test_sequence_op_hessian_vector_products_match_finite_differences(op_name, kwargs, pick):
    """Outputs the loss leaves out reach the formula as None."""
    inputs = _op_inputs(op_name, kwargs.get("bias", True))
    tensors = [x for x in inputs if x is not None]
    _assert_hvp_matches_finite_differences(_op_fn(op_name, inputs, kwargs, pick=pick), tensors)


@pytest.mark.parametrize("op_name, kwargs", OP_CASES)
def test_first_derivatives_with_create_graph_equal_the_plain_backward(op_name, kwargs):
    """The formulas give the NumPy backward's numbers, as Tensors with a graph."""
    inputs = _op_inputs(op_name, kwargs.get("bias", True))
    tensors = [x for x in inputs if x is not None]
    outs = _op_fn(op_name, inputs, kwargs)(*tensors)
    weights = [_t(*o.shape, seed=7 + k).detach() for k, o in enumerate(outs)]
    loss = sum((o * w).sum() for o, w in zip(outs, weights))
    plain = ember.autograd.grad(loss, tensors, retain_graph=True)
    graph = ember.autograd.grad(loss, tensors, create_graph=True)
    for p, g in zip(plain, graph):
        assert g.grad_fn is not None
        np.testing.assert_allclose(g.detach().numpy(), p.numpy(), rtol=1e-12, atol=1e-12)


def test_second_derivative_of_a_padded_step_is_zero():
    """A sequence's padded steps do not touch its gates: their second derivatives are 0."""
    inputs = _op_inputs("LSTMSequence", True)
    f = _op_fn("LSTMSequence", inputs, {"lengths": [3, 1]})
    gi = inputs[0]
    ys, h, c = f(*inputs)
    (g,) = ember.autograd.grad((ys * ys).sum() + h.sum() + c.sum(), [gi], create_graph=True)
    (gg,) = ember.autograd.grad((g * g).sum(), [gi])
    assert np.all(gg.numpy()[1:, 1] == 0) and np.all(np.abs(gg.numpy()[:, 0]) > 0)


# --- whole layers ----------------------------------------------------------------------------
def _layer_setup(cls, kwargs, steps=3, batch=2):
    model = cls(2, 2, dtype=D, **kwargs)
    d = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    h_size = kwargs.get("proj_size", 0) or 2
    bf = kwargs.get("batch_first", False)
    x = _t(*((batch, steps, 2) if bf else (steps, batch, 2)), seed=11)
    states = [_t(d, batch, h_size, seed=12, scale=0.5)]
    if cls is ember.nn.LSTM:
        states.append(_t(d, batch, 2, seed=13, scale=0.5))
    return model, x, states


def _layer_fn(model, states, packed_lengths=None):
    """``(x, *states, *params) -> (output, *final states)``, packed around the layer."""
    names = [n for n, _ in model.named_parameters()]
    bf = model.batch_first

    def f(x, *rest):
        n = len(states)
        hx = tuple(rest[:n]) if n == 2 else rest[0]
        params = dict(zip(names, rest[n:]))
        inp = x
        if packed_lengths is not None:
            inp = pack_padded_sequence(x, ember.tensor(packed_lengths), batch_first=bf,
                                       enforce_sorted=False)
        out, hidden = functional_call(model, params, (inp, hx))
        if packed_lengths is not None:
            out = pad_packed_sequence(out, batch_first=bf)[0]
        return (out, *(hidden if isinstance(hidden, tuple) else (hidden,)))

    return f


@pytest.mark.parametrize("cls, kwargs, lengths", [
    (ember.nn.LSTM, {}, [2, 1]),
    (ember.nn.GRU, {"batch_first": True}, None),
])
def test_layer_passes_gradgradcheck(cls, kwargs, lengths):
    model, x, states = _layer_setup(cls, kwargs, steps=2)
    f = _layer_fn(model, states, lengths)
    # x and the states; the weights held fixed (the ops' and HVP tests vary them)
    params = [p.detach() for p in model.parameters()]
    assert gradgradcheck(f, (x, *states, *params))


@pytest.mark.parametrize("cls, kwargs, lengths", [
    (ember.nn.RNN, {}, None),
    (ember.nn.RNN, {"num_layers": 2, "bidirectional": True}, None),
    (ember.nn.RNN, {"nonlinearity": "relu", "bias": False}, [1, 3]),
    (ember.nn.RNN, {"nonlinearity": "relu", "num_layers": 2, "batch_first": True}, [3, 2]),
    (ember.nn.LSTM, {"batch_first": True}, None),
    (ember.nn.LSTM, {"num_layers": 2, "bidirectional": True}, None),
    (ember.nn.LSTM, {"num_layers": 2, "bidirectional": True, "bias": False}, [3, 1]),
    (ember.nn.LSTM, {"proj_size": 1}, None),
    (ember.nn.LSTM, {"proj_size": 1, "bidirectional": True, "batch_first": True}, [2, 3]),
    (ember.nn.GRU, {"bias": False}, None),
    (ember.nn.GRU, {"num_layers": 2, "bidirectional": True, "batch_first": True}, None),
    (ember.nn.GRU, {"num_layers": 2, "bidirectional": True}, [1, 3]),
])
def test_layer_hessian_vector_products_match_finite_differences(cls, kwargs, lengths):
    """H v for the input, the states and every weight at once."""
    model, x, states = _layer_setup(cls, kwargs)
    params = [p.detach().requires_grad_() for p in model.parameters()]
    _assert_hvp_matches_finite_differences(_layer_fn(model, states, lengths),
                                           [x, *states, *params])


# --- cells -----------------------------------------------------------------------------------
CELL_CASES = [
    (ember.nn.RNNCell, {}),
    (ember.nn.RNNCell, {"nonlinearity": "relu", "bias": False}),
    (ember.nn.LSTMCell, {}),
    (ember.nn.GRUCell, {}),
    (ember.nn.GRUCell, {"bias": False}),
]


def _cell_fn(cell, cls):
    names = [n for n, _ in cell.named_parameters()]

    def f(x, h, c, *params):
        p = dict(zip(names, params))
        if cls is ember.nn.LSTMCell:
            return functional_call(cell, p, (x, (h, c)))
        return (functional_call(cell, p, (x, h)) * c,)  # c: a second state to weigh h' by

    return f


@pytest.mark.parametrize("cls, kwargs", CELL_CASES)
def test_cell_passes_gradgradcheck(cls, kwargs):
    cell = cls(3, 2, dtype=D, **kwargs)
    x, h, c = _t(2, 3, seed=1), _t(2, 2, seed=2), _t(2, 2, seed=3)
    params = [p.detach().requires_grad_(n == "weight_hh") for n, p in cell.named_parameters()]
    assert gradgradcheck(_cell_fn(cell, cls), (x, h, c, *params))


@pytest.mark.parametrize("cls, kwargs", CELL_CASES)
@pytest.mark.parametrize("batched", [True, False])
def test_cell_hessian_vector_products_match_finite_differences(cls, kwargs, batched):
    cell = cls(3, 2, dtype=D, **kwargs)
    lead = (2,) if batched else ()
    x, h, c = _t(*lead, 3, seed=1), _t(*lead, 2, seed=2), _t(*lead, 2, seed=3)
    params = [p.detach().requires_grad_() for p in cell.parameters()]
    _assert_hvp_matches_finite_differences(_cell_fn(cell, cls), [x, h, c, *params])
