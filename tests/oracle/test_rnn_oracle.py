"""RNN, LSTM, GRU and their cells against torch: the same weights (through the state dict),
the same inputs; outputs, final states, float64 gradients of everything, reprs, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

MODES = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
    "lstm_proj": ("LSTM", {"proj_size": 2}),
}

CONFIGS = {
    "plain": {},
    "two_layers_bidirectional": {"num_layers": 2, "bidirectional": True},
    "batch_first_two_layers": {"batch_first": True, "num_layers": 2},
    "no_bias_bidirectional": {"bias": False, "bidirectional": True},
    "dropout0_three_layers": {"num_layers": 3, "dropout": 0.0},
}

IN, HID, L, N = 3, 4, 5, 2


def _pair(torch, cls: str, kwargs: dict):
    """A torch module and an ember one holding the same float64 weights."""
    t = getattr(torch.nn, cls)(IN, HID, dtype=torch.float64, **kwargs)
    e = getattr(ember.nn, cls)(IN, HID, dtype=ember.float64, **kwargs)
    e.load_state_dict({k: ember.tensor(v.detach().numpy().copy())
                       for k, v in t.state_dict().items()})
    return t, e


def _leaf(torch, a):
    return (torch.tensor(a.copy(), requires_grad=True),
            ember.tensor(a.copy(), requires_grad=True))


def _close(got, want, what: str, rtol=1e-9, atol=1e-10):
    want = want.detach().numpy() if hasattr(want, "detach") else want
    got = got.detach().numpy() if hasattr(got, "numpy") else got
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def _flat(result):
    """(output, h_n) or (output, (h_n, c_n)) -> list of tensors."""
    out, hidden = result
    return [out, *(hidden if isinstance(hidden, tuple) else (hidden,))]


def _weighted_loss(tensors, weights, lib):
    return sum((t * lib.tensor(w)).sum() for t, w in zip(tensors, weights))


def _run_both(torch, cls, kwargs, x_shape, state_shapes, rng):
    """Forward both with leaves built from the same arrays, backward a weighted sum."""
    t_mod, e_mod = _pair(torch, cls, kwargs)
    x = rng.standard_normal(x_shape)
    tx, ex = _leaf(torch, x)
    t_states, e_states = [], []
    for s in state_shapes:
        a, b = _leaf(torch, rng.standard_normal(s))
        t_states.append(a)
        e_states.append(b)
    if not state_shapes:
        t_res, e_res = t_mod(tx), e_mod(ex)
    elif cls == "LSTM":
        t_res, e_res = t_mod(tx, tuple(t_states)), e_mod(ex, tuple(e_states))
    else:
        t_res, e_res = t_mod(tx, t_states[0]), e_mod(ex, e_states[0])
    t_outs, e_outs = _flat(t_res), _flat(e_res)
    weights = [rng.standard_normal(tuple(o.shape)) for o in t_outs]
    _weighted_loss(t_outs, weights, torch).backward()
    _weighted_loss(e_outs, weights, ember).backward()
    for i, (a, b) in enumerate(zip(e_outs, t_outs)):
        _close(a, b, f"output {i}")
    _close(ex.grad, tx.grad, "input grad")
    for i, (a, b) in enumerate(zip(e_states, t_states)):
        _close(a.grad, b.grad, f"state {i} grad")
    t_params = dict(t_mod.named_parameters())
    e_params = dict(e_mod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, p in t_params.items():
        _close(e_params[name].grad, p.grad, f"grad of {name}")
    return e_res


def _state_shapes(cls, kwargs, batch):
    d = (2 if kwargs.get("bidirectional") else 1) * kwargs.get("num_layers", 1)
    h = kwargs.get("proj_size", 0) or HID
    lead = (d, batch) if batch else (d,)
    shapes = [(*lead, h)]
    if cls == "LSTM":
        shapes.append((*lead, HID))
    return shapes


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("mode", MODES, ids=str)
def test_layer_matches_torch(torch, mode, config):
    cls, base = MODES[mode]
    kwargs = {**base, **CONFIGS[config]}
    x_shape = (N, L, IN) if kwargs.get("batch_first") else (L, N, IN)
    _run_both(torch, cls, kwargs, x_shape, _state_shapes(cls, kwargs, N),
              np.random.default_rng(1))


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_layer_without_initial_state_matches_torch(torch, mode):
    cls, base = MODES[mode]
    kwargs = {**base, **CONFIGS["two_layers_bidirectional"]}
    _run_both(torch, cls, kwargs, (L, N, IN), [], np.random.default_rng(1))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_unbatched_input_matches_torch(torch, mode, batch_first, with_state):
    cls, base = MODES[mode]
    kwargs = {**base, "num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    states = _state_shapes(cls, kwargs, None) if with_state else []
    out, hidden = _run_both(torch, cls, kwargs, (L, IN), states, np.random.default_rng(2))
    assert out.dim() == 2


def test_eval_mode_ignores_dropout(torch):
    t, e = _pair(torch, "LSTM", {"num_layers": 2, "dropout": 0.5})
    t.eval()
    e.eval()
    x = np.random.default_rng(3).standard_normal((L, N, IN))
    _close(e(ember.tensor(x))[0], t(torch.tensor(x))[0], "eval output")


def test_training_dropout_zeroes_between_layers_only():
    model = ember.nn.GRU(IN, HID, num_layers=2, dropout=1.0, dtype=ember.float64)
    out, h_n = model(ember.randn(L, N, IN, dtype=ember.float64))
    # the second layer sees only zeros, so its output is that of a zero-input GRU
    ref = ember.nn.GRUCell(HID, HID, dtype=ember.float64)
    ref.load_state_dict({"weight_ih": model.weight_ih_l1, "weight_hh": model.weight_hh_l1,
                         "bias_ih": model.bias_ih_l1, "bias_hh": model.bias_hh_l1})
    h = ember.zeros(N, HID, dtype=ember.float64)
    for _ in range(L):
        h = ref(ember.zeros(N, HID, dtype=ember.float64), h)
    _close(out[-1], h.detach().numpy(), "last step of layer 2")
    _close(h_n[1], h.detach().numpy(), "h_n of layer 2")


@pytest.mark.parametrize("name, kwargs", [
    ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
    ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}), ("GRUCell", {"bias": False}),
])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_cell_matches_torch(torch, name, kwargs, batched, with_state):
    rng = np.random.default_rng(4)
    t, e = _pair(torch, name, kwargs)
    lead = (N,) if batched else ()
    tx, ex = _leaf(torch, rng.standard_normal((*lead, IN)))
    n_states = 2 if name == "LSTMCell" else 1
    t_st, e_st = [], []
    for _ in range(n_states if with_state else 0):
        a, b = _leaf(torch, rng.standard_normal((*lead, HID)))
        t_st.append(a)
        e_st.append(b)
    if not with_state:
        t_out, e_out = t(tx), e(ex)
    elif name == "LSTMCell":
        t_out, e_out = t(tx, tuple(t_st)), e(ex, tuple(e_st))
    else:
        t_out, e_out = t(tx, t_st[0]), e(ex, e_st[0])
    t_outs = list(t_out) if isinstance(t_out, tuple) else [t_out]
    e_outs = list(e_out) if isinstance(e_out, tuple) else [e_out]
    weights = [rng.standard_normal(tuple(o.shape)) for o in t_outs]
    _weighted_loss(t_outs, weights, torch).backward()
    _weighted_loss(e_outs, weights, ember).backward()
    for i, (a, b) in enumerate(zip(e_outs, t_outs)):
        _close(a, b, f"output {i}")
    _close(ex.grad, tx.grad, "input grad")
    for a, b in zip(e_st, t_st):
        _close(a.grad, b.grad, "state grad")
    for (name_, p), (_, q) in zip(t.named_parameters(), e.named_parameters()):
        _close(q.grad, p.grad, f"grad of {name_}")


def test_cell_unrolled_through_time_matches_layer(torch):
    """A GRUCell applied step by step equals a one-layer GRU with the same weights."""
    cell = ember.nn.GRUCell(IN, HID, dtype=ember.float64)
    layer = ember.nn.GRU(IN, HID, dtype=ember.float64)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = ember.randn(L, N, IN, dtype=ember.float64)
    h = ember.zeros(N, HID, dtype=ember.float64)
    steps = []
    for t in range(L):
        h = cell(x[t], h)
        steps.append(h)
    out, h_n = layer(x)
    _close(out, ember.stack(steps).detach().numpy(), "unrolled output")
    _close(h_n[0], h.detach().numpy(), "unrolled h_n")


# --- construction, parameters, repr, state dict -------------------------------------------

SPECS = [
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4, 2, "relu"), {"bias": False, "batch_first": True, "dropout": 0.5,
                                "bidirectional": True}),
    ("LSTM", (3, 4), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("LSTM", (3, 4), {"num_layers": 3, "dropout": 0.25}),
    ("GRU", (3, 4, 2), {"bias": False}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", (3, 4), {}),
    ("GRUCell", (3, 4), {"bias": False}),
]


@pytest.mark.parametrize("cls, args, kwargs", SPECS)
def test_parameters_repr_and_state_dict_match_torch(torch, cls, args, kwargs):
    t = getattr(torch.nn, cls)(*args, **kwargs)
    e = getattr(ember.nn, cls)(*args, **kwargs)
    assert repr(e) == repr(t)
    t_sd, e_sd = t.state_dict(), e.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
        assert e_sd[k].dtype == ember.float32
    bound = 1 / np.sqrt(4)
    for p in e.parameters():
        assert np.abs(p.detach().numpy()).max() <= bound
    # ember's weights load into torch and back
    t.load_state_dict({k: torch.tensor(v.detach().numpy().copy()) for k, v in e_sd.items()})
    if not cls.endswith("Cell"):
        assert [len(w) for w in e.all_weights] == [len(w) for w in t.all_weights]
        assert e._flat_weights_names == t._flat_weights_names
        e.flatten_parameters()


def test_init_is_uniform_over_the_whole_range():
    w = ember.nn.LSTM(8, 100).weight_hh_l0.detach().numpy()
    assert w.min() < -0.09 and w.max() > 0.09 and abs(w.mean()) < 0.01


def test_dropout_with_one_layer_warns(torch):
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.GRU(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.GRU(3, 4, num_layers=2, dropout=0.5)


def test_float32_module_runs_in_float32(torch):
    out, (h, c) = ember.nn.LSTM(3, 4)(ember.randn(5, 2, 3))
    assert out.dtype == h.dtype == c.dtype == ember.float32


# --- errors -------------------------------------------------------------------------------

def _same_error(torch, make, call):
    """``call(module, lib)`` raises the same type and message in torch and ember."""
    got = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            call(make(lib), lib)
        got.append((type(info.value), str(info.value).replace("torch.", "ember.")))
    assert got[1] == got[0]


def _r(lib, *shape, dtype=None):
    return lib.randn(*shape, dtype=dtype or lib.float32)


FORWARD_ERRORS = {
    "lstm_wrong_input_size": (lambda n: n.LSTM(3, 4, 2), lambda m, lib: m(_r(lib, 5, 2, 6))),
    "lstm_4d_input": (lambda n: n.LSTM(3, 4), lambda m, lib: m(_r(lib, 5, 2, 3, 1))),
    "rnn_1d_input": (lambda n: n.RNN(3, 4), lambda m, lib: m(_r(lib, 3))),
    "gru_4d_input": (lambda n: n.GRU(3, 4), lambda m, lib: m(_r(lib, 1, 5, 2, 3))),
    "lstm_h0_batch": (lambda n: n.LSTM(3, 4, 2),
                      lambda m, lib: m(_r(lib, 5, 2, 3), (_r(lib, 2, 3, 4), _r(lib, 2, 2, 4)))),
    "lstm_c0_size": (lambda n: n.LSTM(3, 4, 2),
                     lambda m, lib: m(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4), _r(lib, 2, 2, 5)))),
    "lstm_proj_h0_size": (lambda n: n.LSTM(3, 4, proj_size=2),
                          lambda m, lib: m(_r(lib, 5, 2, 3), (_r(lib, 1, 2, 4), _r(lib, 1, 2, 4)))),
    "lstm_unbatched_3d_state": (lambda n: n.LSTM(3, 4, 2),
                                lambda m, lib: m(_r(lib, 5, 3),
                                                 (_r(lib, 2, 2, 4), _r(lib, 2, 2, 4)))),
    "lstm_batched_2d_state": (lambda n: n.LSTM(3, 4),
                              lambda m, lib: m(_r(lib, 5, 2, 3), (_r(lib, 1, 4), _r(lib, 1, 4)))),
    "gru_h0_size": (lambda n: n.GRU(3, 4, 2), lambda m, lib: m(_r(lib, 5, 2, 3), _r(lib, 2, 3, 4))),
    "gru_batched_2d_state": (lambda n: n.GRU(3, 4),
                             lambda m, lib: m(_r(lib, 5, 2, 3), _r(lib, 3, 4))),
    "rnn_unbatched_3d_state": (lambda n: n.RNN(3, 4),
                               lambda m, lib: m(_r(lib, 5, 3), _r(lib, 1, 1, 4))),
    "rnn_bidirectional_h0": (lambda n: n.RNN(3, 4, bidirectional=True),
                             lambda m, lib: m(_r(lib, 5, 2, 3), _r(lib, 1, 2, 4))),
    "batch_first_h0_batch": (lambda n: n.GRU(3, 4, batch_first=True),
                             lambda m, lib: m(_r(lib, 2, 5, 3), _r(lib, 1, 5, 4))),
    "dtype_mismatch": (lambda n: n.LSTM(3, 4),
                       lambda m, lib: m(_r(lib, 5, 2, 3, dtype=lib.float64))),
    "empty_sequence": (lambda n: n.GRU(3, 4), lambda m, lib: m(_r(lib, 0, 2, 3))),
    "rnncell_input_size": (lambda n: n.RNNCell(3, 4), lambda m, lib: m(_r(lib, 2, 5))),
    "rnncell_batch": (lambda n: n.RNNCell(3, 4), lambda m, lib: m(_r(lib, 2, 3), _r(lib, 3, 4))),
    "rnncell_hidden_size": (lambda n: n.RNNCell(3, 4),
                            lambda m, lib: m(_r(lib, 2, 3), _r(lib, 2, 5))),
    "rnncell_3d_input": (lambda n: n.RNNCell(3, 4), lambda m, lib: m(_r(lib, 1, 2, 3))),
    "rnncell_3d_hidden": (lambda n: n.RNNCell(3, 4),
                          lambda m, lib: m(_r(lib, 2, 3), _r(lib, 1, 2, 4))),
    "lstmcell_c_size": (lambda n: n.LSTMCell(3, 4),
                        lambda m, lib: m(_r(lib, 2, 3), (_r(lib, 2, 4), _r(lib, 2, 5)))),
    "lstmcell_3d_hx1": (lambda n: n.LSTMCell(3, 4),
                        lambda m, lib: m(_r(lib, 2, 3), (_r(lib, 2, 4), _r(lib, 1, 2, 4)))),
    "grucell_hidden_size": (lambda n: n.GRUCell(3, 4),
                            lambda m, lib: m(_r(lib, 2, 3), _r(lib, 2, 5))),
    "grucell_0d_input": (lambda n: n.GRUCell(3, 4), lambda m, lib: m(lib.tensor(1.0))),
}


@pytest.mark.parametrize("case", FORWARD_ERRORS, ids=str)
def test_forward_error_matches_torch(torch, case):
    make, call = FORWARD_ERRORS[case]
    _same_error(torch, lambda lib: make(lib.nn), call)


CONSTRUCTOR_ERRORS = {
    "bad_nonlinearity": lambda n: n.RNN(3, 4, nonlinearity="sigmoid"),
    "rnn_proj_size": lambda n: n.RNN(3, 4, proj_size=2),
    "gru_proj_size": lambda n: n.GRU(3, 4, proj_size=2),
    "dropout_above_one": lambda n: n.LSTM(3, 4, dropout=2),
    "dropout_bool": lambda n: n.LSTM(3, 4, dropout=True),
    "proj_not_smaller": lambda n: n.LSTM(3, 4, proj_size=4),
    "proj_negative": lambda n: n.LSTM(3, 4, proj_size=-1),
    "zero_layers": lambda n: n.GRU(3, 4, num_layers=0),
    "float_input_size": lambda n: n.LSTM(3.0, 4),
    "zero_hidden": lambda n: n.RNN(3, 0),
    "zero_input": lambda n: n.RNN(0, 4),
    "bias_not_bool": lambda n: n.GRU(3, 4, bias=1),
    "batch_first_not_bool": lambda n: n.GRU(3, 4, batch_first=None),
}


@pytest.mark.parametrize("case", CONSTRUCTOR_ERRORS, ids=str)
def test_constructor_error_matches_torch(torch, case):
    _same_error(torch, lambda lib: lib.nn, lambda nn, lib: CONSTRUCTOR_ERRORS[case](nn))


def test_bad_cell_nonlinearity_raises_at_forward(torch):
    _same_error(torch, lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu"),
                lambda m, lib: m(_r(lib, 2, 3)))


def test_lstm_layer_is_one_node_per_direction_as_torch(torch):
    """torch's CPU LSTM in float32 records one MkldnnRnnLayerBackward0 per layer and
    direction; so does ember's (GRU and RNN are composite in torch, one sequence node each
    in ember)."""
    x = np.random.default_rng(0).standard_normal((L, N, IN)).astype(np.float32)
    t_out, _ = torch.nn.LSTM(IN, HID, num_layers=2)(torch.tensor(x, requires_grad=True))
    e_out, _ = ember.nn.LSTM(IN, HID, num_layers=2)(ember.tensor(x, requires_grad=True))
    assert e_out.grad_fn.name() == type(t_out.grad_fn).__name__ == "MkldnnRnnLayerBackward0"
