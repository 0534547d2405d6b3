"""torch.lstm / gru / rnn_tanh / rnn_relu (both overloads) and the four functional cells
against torch: outputs, return types, gradients to input, states and weights, and errors.
The gradient checks at the end run without torch."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from tests.helpers import assert_close

L, N, I, H = 5, 3, 4, 6
STACKS = {"LSTM": (4, "lstm"), "GRU": (3, "gru"), "RNN_TANH": (1, "rnn_tanh"),
          "RNN_RELU": (1, "rnn_relu")}


def _weights(rng, mode, num_layers, bidirectional, has_biases, proj=0):
    """A flat weight list in torch's order, as float64 arrays."""
    gates = STACKS[mode][0] * H
    out_size = proj or H
    d = 2 if bidirectional else 1
    params = []
    for layer in range(num_layers):
        in_size = I if layer == 0 else out_size * d
        for _ in range(d):
            params += [rng.uniform(-0.6, 0.6, (gates, in_size)),
                       rng.uniform(-0.6, 0.6, (gates, out_size))]
            if has_biases:
                params += [rng.uniform(-0.6, 0.6, gates), rng.uniform(-0.6, 0.6, gates)]
            if proj:
                params.append(rng.uniform(-0.6, 0.6, (proj, H)))
    return params


def _pair(torch, arrays):
    """The same float64 arrays as leaf tensors of ember and of torch."""
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    return e, t


def _compare(torch, e_outs, t_outs, e_leaves, t_leaves):
    assert type(e_outs) is tuple and len(e_outs) == len(t_outs)
    for a, b in zip(e_outs, t_outs):
        assert_close(a, b)
    sum((o * o.sin()).sum() for o in e_outs).backward()
    sum((o * o.sin()).sum() for o in t_outs).backward()
    for i, (a, b) in enumerate(zip(e_leaves, t_leaves)):
        assert a.grad is not None, f"no gradient for leaf {i}"
        assert_close(a.grad, b.grad, msg=f"leaf {i}")


@pytest.mark.parametrize("mode", list(STACKS))
@pytest.mark.parametrize("bidirectional,batch_first,has_biases",
                         [(False, False, True), (True, True, True), (True, False, False)])
def test_padded_overload_matches_torch(torch, mode, bidirectional, batch_first, has_biases):
    rng = np.random.default_rng(1)
    d = 2 if bidirectional else 1
    x = rng.standard_normal((N, L, I) if batch_first else (L, N, I))
    states = [rng.standard_normal((2 * d, N, H)) for _ in range(2 if mode == "LSTM" else 1)]
    params = _weights(rng, mode, 2, bidirectional, has_biases)
    (ex, *es), (tx, *ts) = _pair(torch, [x] + states)
    ep, tp = _pair(torch, params)
    name = STACKS[mode][1]
    e_hx = tuple(es) if mode == "LSTM" else es[0]
    t_hx = tuple(ts) if mode == "LSTM" else ts[0]
    args = (has_biases, 2, 0.0, False, bidirectional, batch_first)
    _compare(torch, getattr(ember, name)(ex, e_hx, ep, *args),
             getattr(torch, name)(tx, t_hx, tp, *args), [ex, *es, *ep], [tx, *ts, *tp])


@pytest.mark.parametrize("has_biases", [True, False])
def test_lstm_with_projections_matches_torch(torch, has_biases):
    rng = np.random.default_rng(2)
    proj = 2
    x = rng.standard_normal((L, N, I))
    h0, c0 = rng.standard_normal((2, N, proj)), rng.standard_normal((2, N, H))
    params = _weights(rng, "LSTM", 2, False, has_biases, proj)
    (ex, eh, ec), (tx, th, tc) = _pair(torch, [x, h0, c0])
    ep, tp = _pair(torch, params)
    args = (has_biases, 2, 0.0, False, False, False)
    out = ember.lstm(ex, [eh, ec], ep, *args)
    assert tuple(out[0].shape) == (L, N, proj) and tuple(out[2].shape) == (2, N, H)
    _compare(torch, out, torch.lstm(tx, [th, tc], tp, *args), [ex, eh, ec, *ep],
             [tx, th, tc, *tp])


@pytest.mark.parametrize("mode", list(STACKS))
def test_packed_overload_matches_torch(torch, mode):
    rng = np.random.default_rng(3)
    lengths = [5, 3, 3, 1]
    batch_sizes = np.array([sum(n > t for n in lengths) for t in range(max(lengths))])
    data = rng.standard_normal((sum(lengths), I))
    states = [rng.standard_normal((4, len(lengths), H))
              for _ in range(2 if mode == "LSTM" else 1)]
    params = _weights(rng, mode, 2, True, True)
    (ed, *es), (td, *ts) = _pair(torch, [data] + states)
    ep, tp = _pair(torch, params)
    name = STACKS[mode][1]
    e_hx = list(es) if mode == "LSTM" else es[0]
    t_hx = list(ts) if mode == "LSTM" else ts[0]
    args = (True, 2, 0.0, False, True)
    out = getattr(ember, name)(ed, ember.tensor(batch_sizes), e_hx, ep, *args)
    ref = getattr(torch, name)(td, torch.tensor(batch_sizes), t_hx, tp, *args)
    assert tuple(out[0].shape) == (sum(lengths), 2 * H)
    _compare(torch, out, ref, [ed, *es, *ep], [td, *ts, *tp])


def test_keyword_arguments_pick_the_overload(torch):
    rng = np.random.default_rng(4)
    x, h = rng.standard_normal((L, N, I)), rng.standard_normal((1, N, H))
    params = _weights(rng, "GRU", 1, False, True)
    (ex, eh), (tx, th) = _pair(torch, [x, h])
    ep, tp = _pair(torch, params)
    kw = dict(has_biases=True, num_layers=1, dropout=0.0, train=False, bidirectional=False)
    out = ember.gru(input=ex, hx=eh, params=ep, batch_first=False, **kw)
    ref = torch.gru(input=tx, hx=th, params=tp, batch_first=False, **kw)
    for a, b in zip(out, ref):
        assert_close(a, b)
    sizes = [N] * 2
    packed = ember.gru(ex[:2].reshape(2 * N, I), ember.tensor(sizes), eh, params=ep, **kw)
    t_packed = torch.gru(tx[:2].reshape(2 * N, I), torch.tensor(sizes), th, params=tp, **kw)
    for a, b in zip(packed, t_packed):
        assert_close(a, b)


def test_dropout_between_layers_only_in_training(torch):
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal((L, N, I)), rng.standard_normal((2, N, H))
    params = _weights(rng, "RNN_TANH", 2, False, True)
    (ex, eh), (tx, th) = _pair(torch, [x, h])
    ep, tp = _pair(torch, params)
    off = ember.rnn_tanh(ex, eh, ep, True, 2, 0.5, False, False, False)
    base = ember.rnn_tanh(ex, eh, ep, True, 2, 0.0, True, False, False)
    assert_close(off[0], base[0])
    # p = 1 zeroes every input of the second layer, deterministically
    dropped = ember.rnn_tanh(ex, eh, ep, True, 2, 1.0, True, False, False)
    ref = torch.rnn_tanh(tx, th, tp, True, 2, 1.0, True, False, False)
    assert_close(dropped[0], ref[0])
    assert not np.allclose(dropped[0].detach().numpy(), base[0].detach().numpy())


@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3),
                                        ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("biases", ["both", "none", "hh_only"])
def test_cells_match_torch(torch, name, gates, biases):
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((N, I)), rng.standard_normal((N, H)),
              rng.standard_normal((N, H)), rng.uniform(-0.6, 0.6, (gates * H, I)),
              rng.uniform(-0.6, 0.6, (gates * H, H)), rng.uniform(-0.6, 0.6, gates * H),
              rng.uniform(-0.6, 0.6, gates * H)]
    (ex, eh, ec, *ew), (tx, th, tc, *tw) = _pair(torch, arrays)
    pick = {"both": slice(0, 4), "none": slice(0, 2), "hh_only": slice(0, 4)}[biases]
    e_w, t_w = ew[pick], tw[pick]
    if biases == "hh_only":
        e_w[2], t_w[2] = None, None
    e_hx, t_hx = ((eh, ec), (th, tc)) if name == "lstm_cell" else (eh, th)
    out = getattr(ember, name)(ex, e_hx, *e_w)
    ref = getattr(torch, name)(tx, t_hx, *t_w)
    if name == "lstm_cell":
        assert type(out) is tuple and len(out) == 2
    else:
        assert isinstance(out, ember.Tensor)
        out, ref = (out,), (ref,)
    leaves = [ex, eh] + ([ec] if name == "lstm_cell" else []) + [w for w in e_w if w is not None]
    t_leaves = [tx, th] + ([tc] if name == "lstm_cell" else []) + [w for w in t_w
                                                                  if w is not None]
    _compare(torch, tuple(out), tuple(ref), leaves, t_leaves)


def _message(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001  (the type is compared too)
        return type(exc), str(exc)
    return None, None


def _error_cases(lib):
    """Malformed calls, float64 (ATen's generic path), built the same way for both."""
    z = lambda *s: lib.zeros(*s, dtype=lib.float64)  # noqa: E731
    x = z(L, N, I)
    gru2 = [z(3 * H, I), z(3 * H, H), z(3 * H), z(3 * H)] * 2
    gru2[4] = z(3 * H, 2 * H)
    lstm1 = [z(4 * H, I), z(4 * H, H), z(4 * H), z(4 * H)]
    cell = [z(4 * H, I), z(4 * H, H)]
    return [
        lambda: lib.gru(x, z(2, N, H), gru2[:3], True, 1, 0.0, False, False, False),
        lambda: lib.gru(x, z(4, N, H), gru2[:4] * 3, True, 2, 0.0, False, True, False),
        lambda: lib.gru(x, z(3, N, H), gru2, True, 1, 0.0, False, True, False),
        lambda: lib.gru(x, z(2, N, H), gru2, True, 1, 0.0, False, True, False),
        lambda: lib.gru(x, z(1, N, H), gru2, True, 2, 0.0, False, False, False),
        lambda: lib.gru(x, z(2, N, H), gru2[:4], True, 2, 0.0, False, False, False),
        lambda: lib.gru(x, z(2, N, H), gru2, True, 2, 1.5, True, False, False),
        lambda: lib.gru(x[:0], z(1, N, H), gru2[:4], True, 1, 0.0, False, False, False),
        lambda: lib.gru(x, z(1, N + 1, H), gru2[:4], True, 1, 0.0, False, False, False),
        lambda: lib.gru(x, z(1, N, H + 1), gru2[:4], True, 1, 0.0, False, False, False),
        lambda: lib.lstm(x, (z(1, N, H),), lstm1, True, 1, 0.0, False, False, False),
        lambda: lib.lstm(x, (z(1, N, H), z(1, N + 1, H)), lstm1, True, 1, 0.0, False, False,
                         False),
        lambda: lib.lstm(x, (z(1, N, H), z(1, N, H + 1)), lstm1, True, 1, 0.0, False, False,
                         False),
        lambda: lib.lstm(x, (z(1, N, H), z(1, N, H)), lstm1[:3], True, 1, 0.0, False, False,
                         False),
        lambda: lib.lstm(x[:, :, :3], (z(1, N, H), z(1, N, H)), lstm1, True, 1, 0.0, False,
                         False, False),
        lambda: lib.lstm_cell(z(N, I), (z(N, H),), *cell),
        lambda: lib.lstm_cell(z(N, I), z(N, H), *cell),
        lambda: lib.lstm_cell(z(N, 3), (z(N, H), z(N, H)), *cell),
        lambda: lib.lstm_cell(z(N, I), (z(N, H), z(N, H)), cell[0][:3 * H], cell[1]),
        lambda: lib.lstm_cell(z(N, I), (z(N, H), z(N, H)), cell[0], cell[1][:3 * H]),
        lambda: lib.lstm_cell(z(N, I), (z(N - 1, H), z(N, H)), *cell),
        lambda: lib.lstm_cell(z(N, I), (z(N, H), z(N, H - 1)), *cell),
        lambda: lib.gru_cell(z(N, I), z(N, H), *cell),
        lambda: lib.rnn_tanh_cell(z(I), z(H), cell[0][:H], cell[1][:H]),
    ]


def test_errors_match_torch(torch):
    for k, (mine, theirs) in enumerate(zip(_error_cases(ember), _error_cases(torch))):
        e_type, e_msg = _message(mine)
        t_type, t_msg = _message(theirs)
        assert t_type is not None, f"case {k}: torch accepted it"
        assert e_type is t_type, f"case {k}: {e_type} vs {t_type}: {e_msg!r} / {t_msg!r}"
        if t_type is not TypeError:
            assert e_msg == t_msg, f"case {k}"


# --- without torch ------------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(STACKS))
def test_padded_overload_gradcheck(mode):
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    n_states = 2 if mode == "LSTM" else 1
    states = [ember.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
              for _ in range(n_states)]
    gates = STACKS[mode][0] * 2
    params = [ember.tensor(rng.uniform(-0.7, 0.7, s), requires_grad=True)
              for s in [(gates, 2), (gates, 2), (gates,), (gates,)] * 2]
    fn = getattr(ember, STACKS[mode][1])

    def f(x, *rest):
        hx = tuple(rest[:n_states]) if mode == "LSTM" else rest[0]
        return fn(x, hx, list(rest[n_states:]), True, 1, 0.0, False, True, True)

    assert gradcheck(f, (x, *states, *params))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_packed_overload_gradcheck(mode):
    rng = np.random.default_rng(8)
    data = ember.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    sizes = ember.tensor([3, 1, 1])
    n_states = 2 if mode == "LSTM" else 1
    states = [ember.tensor(rng.standard_normal((1, 3, 2)), requires_grad=True)
              for _ in range(n_states)]
    gates = STACKS[mode][0] * 2
    params = [ember.tensor(rng.uniform(-0.7, 0.7, s), requires_grad=True)
              for s in [(gates, 2), (gates, 2)]]
    fn = getattr(ember, STACKS[mode][1])

    def f(data, *rest):
        hx = list(rest[:n_states]) if mode == "LSTM" else rest[0]
        return fn(data, sizes, hx, list(rest[n_states:]), False, 1, 0.0, False, False)

    out = f(data, *states, *params)
    assert tuple(out[0].shape) == (5, 2) and tuple(out[1].shape) == (1, 3, 2)
    assert gradcheck(f, (data, *states, *params))


@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3),
                                        ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
def test_cells_gradcheck(name, gates):
    rng = np.random.default_rng(9)
    shapes = [(2, 3), (2, 2), (2, 2), (gates * 2, 3), (gates * 2, 2), (gates * 2,), (gates * 2,)]
    x, h, c, *w = [ember.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]
    fn = getattr(ember, name)
    if name == "lstm_cell":
        assert gradcheck(lambda x, h, c, *w: fn(x, (h, c), *w), (x, h, c, *w))
    else:
        assert gradcheck(lambda x, h, *w: fn(x, h, *w), (x, h, *w))
