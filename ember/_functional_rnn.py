"""torch's functional recurrent entry points: ``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``,
``torch.rnn_relu`` and the cells ``torch.lstm_cell``, ``torch.gru_cell``,
``torch.rnn_tanh_cell``, ``torch.rnn_relu_cell``.

They run the same code as ``nn.LSTM``/``nn.GRU``/``nn.RNN`` and their cells: a flat weight
list is filed as a stand-in module (``_Stack``) whose layers ``RNNBase._run`` walks, so the
numbers and the gradients (to the input, the states and every weight) are the modules'.

Each multi-layer function has ATen's two overloads, told apart by their arguments:

- ``(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)``
  for a padded ``(L, N, H_in)`` input (``(N, L, H_in)`` with ``batch_first``);
- ``(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)``
  for the ``data`` and ``batch_sizes`` of a ``PackedSequence`` (returning packed output data).

``params`` holds, per layer and direction, ``w_ih, w_hh[, b_ih, b_hh][, w_hr]`` (an LSTM has
projections when ``hx[0]`` and ``hx[1]`` differ in their last size). Errors follow ATen's
generic path (the one float64 takes; float32 LSTMs on the CPU go through oneDNN in torch,
whose messages for malformed weight lists differ).
"""
from __future__ import annotations

import numbers

import numpy as np

from ._tensor import Tensor

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class _Stack:
    """The attributes ``RNNBase._run`` reads, for a flat weight list instead of a module."""

    def __init__(self, mode, params, has_biases, proj, num_layers, dropout, train,
                 bidirectional, batch_first):
        self.mode, self.num_layers, self.bidirectional = mode, num_layers, bidirectional
        self.bias, self.proj_size = has_biases, 1 if proj else 0
        self.dropout, self.training, self.batch_first = float(dropout), train, batch_first
        per = len(params) // (num_layers * (2 if bidirectional else 1))
        self._all_weights = []
        for k in range(len(params) // per):
            names = [f"p{k}_{j}" for j in range(per)]
            for name, p in zip(names, params[k * per:(k + 1) * per]):
                setattr(self, name, p)
            self._all_weights.append(names)

    def run(self, input, h0, c0=None, mask=None):
        """``(output, h_n, c_n)`` of every layer and direction (``RNNBase._run``)."""
        from .nn.modules.rnn import RNNBase

        return RNNBase._run(self, input, h0, c0, mask)


def _check_stack(params, hiddens, has_biases, proj, num_layers, bidirectional):
    """ATen's checks of the weight list and the state's layer count, in its order."""
    per = 2 + 2 * bool(has_biases) + bool(proj)
    if len(params) % per:
        raise RuntimeError("got an incorrect number of RNN parameters")
    cells, layers = len(params) // per, hiddens
    if bidirectional:
        if cells % 2 or hiddens % 2:
            raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN")
        cells, layers = cells // 2, hiddens // 2
    if layers != num_layers:
        raise RuntimeError("Expected more hidden states in stacked_rnn")
    if cells != num_layers:
        raise RuntimeError("Expected more weights in stacked_rnn")


def _check_states(h0, c0, batch, w_hh):
    """The states' batch and feature sizes against the input's and ``w_hh``'s (torch's
    messages from the matmul and the products that would meet them)."""
    for h in (h0, c0):
        if h is not None and h.dim() != 3:
            raise RuntimeError(f"Expected hidden state to have 3 dimensions, got {h.dim()}")
    if h0.size(2) != w_hh.size(1):
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({h0.size(1)}x"
                           f"{h0.size(2)} and {w_hh.size(1)}x{w_hh.size(0)})")
    sizes = [(h0.size(1), batch)] + ([(batch, c0.size(1))] if c0 is not None else [])
    for a, b in sizes:
        if a != b:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension 0")


def _check_types(name, values, kinds):
    """torch's argument-parser TypeError when a flag or count has the wrong Python type."""
    for value, kind in zip(values, kinds):
        ok = (isinstance(value, bool) if kind == "bool" else
              isinstance(value, numbers.Integral) and not isinstance(value, bool)
              if kind == "int" else
              isinstance(value, numbers.Real) and not isinstance(value, bool))
        if not ok:
            got = ", ".join(type(v).__name__ for v in values)
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"(..., {got})")


def _run_stack(mode, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
               bidirectional, batch_first):
    """Both overloads of one multi-layer function; ``batch_sizes`` is None for padded input."""
    name = mode.lower()
    _check_types(name, (has_biases, num_layers, dropout, train, bidirectional, batch_first),
                 ("bool", "int", "float", "bool", "bool", "bool"))
    params = list(params)
    if mode == "LSTM":
        hx = list(hx)
        if len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        h0, c0 = hx
        proj = h0.size(2) != c0.size(2)
    else:
        h0, c0, proj = hx, None, False
    _check_stack(params, h0.size(0), has_biases, proj, num_layers, bidirectional)
    if train and num_layers > 1 and not 0 <= dropout <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout}")
    stack = _Stack(mode, params, has_biases, proj, num_layers, dropout, train, bidirectional,
                   batch_first)
    if batch_sizes is None:
        if input.dim() != 3:
            raise IndexError("Dimension out of range (expected to be in range of [-1, 0], "
                             "but got 1)")
        _check_states(h0, c0, input.size(0 if batch_first else 1), params[1])
        output, h_n, c_n = stack.run(input, h0, c0)
    else:
        output, h_n, c_n = _run_packed(stack, input, batch_sizes, h0, c0, params[1])
    return (output, h_n, c_n) if mode == "LSTM" else (output, h_n)


def _run_packed(stack, data, batch_sizes, h0, c0, w_hh):
    """The packed overload: pad, run with a mask of the real steps, gather the real rows."""
    from . import _creation
    from .nn.utils.rnn import PackedSequence, pad_packed_sequence

    sizes = batch_sizes.numpy().astype(np.int64)
    real = np.arange(int(sizes[0]))[None, :] < sizes[:, None]      # (L, N): step t of b is real
    x, _ = pad_packed_sequence(PackedSequence(data, batch_sizes))
    _check_states(h0, c0, x.size(1), w_hh)
    output, h_n, c_n = stack.run(x, h0, c0, mask=real[:, :, None])
    steps, batch = real.shape
    rows = _creation.tensor(np.flatnonzero(real))
    return output.reshape(steps * batch, output.shape[-1]).index_select(0, rows), h_n, c_n


def _dispatch(mode, args, kwargs):
    """Pick the padded or the packed overload, as torch's argument parser does: the packed
    one has ``params`` fourth, where the padded one has the bool ``has_biases``."""
    if "data" in kwargs or "batch_sizes" in kwargs:
        packed = True
    elif "input" in kwargs or "batch_first" in kwargs:
        packed = False
    elif "params" in kwargs:
        packed = len(args) == 3
    else:
        packed = len(args) > 3 and isinstance(args[3], (list, tuple))
    if packed:
        return _packed_overload(mode, *args, **kwargs)
    return _padded_overload(mode, *args, **kwargs)


def _padded_overload(mode, input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first):
    return _run_stack(mode, input, None, hx, params, has_biases, num_layers, dropout, train,
                      bidirectional, batch_first)


def _packed_overload(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout,
                     train, bidirectional):
    return _run_stack(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout,
                      train, bidirectional, False)


def lstm(*args, **kwargs):
    """Multi-layer LSTM on a flat weight list (``torch.lstm``), as ``nn.LSTM`` computes it.

    Overloads: ``lstm(input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` and ``lstm(data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional)``.

    Args:
        input: ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``); or ``data``,
            ``(sum(lengths), H_in)``, with ``batch_sizes`` as in a ``PackedSequence``.
        hx: ``(h_0, c_0)``, each ``(num_layers * D, N, *)``.
        params: per layer and direction ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``.
        has_biases: whether ``params`` holds biases.
        num_layers, dropout, train, bidirectional, batch_first: as for ``nn.LSTM``
            (dropout applies between layers only when ``train``).

    Returns:
        ``(output, h_n, c_n)``: ``output`` ``(L, N, D * H_out)`` or packed data
        ``(sum(lengths), D * H_out)``.

    Raises:
        RuntimeError: a state list that is not a pair, or weights and states that do not
            fit ``num_layers`` and ``bidirectional`` (ATen's messages).
    """
    return _dispatch("LSTM", args, kwargs)


def gru(*args, **kwargs):
    """Multi-layer GRU on a flat weight list (``torch.gru``), as ``nn.GRU`` computes it.

    Overloads and arguments as :func:`lstm`, with one state tensor ``hx``
    ``(num_layers * D, N, H)``; ``params`` per layer and direction ``w_ih, w_hh[, b_ih,
    b_hh]``.

    Returns:
        ``(output, h_n)``.
    """
    return _dispatch("GRU", args, kwargs)


def rnn_tanh(*args, **kwargs):
    """Multi-layer Elman RNN with tanh (``torch.rnn_tanh``), as ``nn.RNN`` computes it.

    Overloads and arguments as :func:`gru`.

    Returns:
        ``(output, h_n)``.
    """
    return _dispatch("RNN_TANH", args, kwargs)


def rnn_relu(*args, **kwargs):
    """Multi-layer Elman RNN with ReLU (``torch.rnn_relu``), as ``nn.RNN`` computes it.

    Overloads and arguments as :func:`gru`.

    Returns:
        ``(output, h_n)``.
    """
    return _dispatch("RNN_RELU", args, kwargs)


# --- cells -----------------------------------------------------------------------------------

def _check_cell(name, input, hxs, w_ih, w_hh):
    """ATen's cell checks: input size, the weights' gate rows, then each state."""
    from .nn.modules.rnn_cell import _check_cell_hidden, _check_cell_input

    _check_cell_input(input, w_ih.size(1))
    hidden = w_hh.size(1)
    gates = _GATES[name]
    for label, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w.size(0) != gates * hidden:
            raise RuntimeError(f"{label} first dim must be {gates} * hidden_size = "
                               f"{gates * hidden}, but got {w.size(0)}")
    for label, h in enumerate(hxs):
        _check_cell_hidden(input, h, hidden, label)


def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step on explicit weights (``torch.lstm_cell``), as ``nn.LSTMCell``'s.

    Args:
        input: ``(N, H_in)``.
        hx: ``(h, c)``, each ``(N, H)``.
        w_ih, w_hh: ``(4 * H, H_in)`` and ``(4 * H, H)``, gates ``i, f, g, o``.
        b_ih, b_hh: optional ``(4 * H,)`` biases.

    Returns:
        ``(h', c')``.

    Raises:
        RuntimeError: ``hx`` not a pair, or sizes that do not fit (ATen's messages).
    """
    from . import nn
    from .nn.modules.rnn_cell import _lstm_step

    if isinstance(hx, Tensor):
        raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, "
                        "not Tensor")
    hx = list(hx)
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell("LSTM", input, hx, w_ih, w_hh)
    gi = nn.functional.linear(input, w_ih, b_ih)
    return _lstm_step(gi, hx[0], hx[1], w_hh, b_hh, None)


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step on explicit weights (``torch.gru_cell``), as ``nn.GRUCell``'s.

    Args:
        input: ``(N, H_in)``.
        hx: ``(N, H)``.
        w_ih, w_hh: ``(3 * H, H_in)`` and ``(3 * H, H)``, gates ``r, z, n``.
        b_ih, b_hh: optional ``(3 * H,)`` biases.

    Returns:
        ``h'``, ``(N, H)``.
    """
    from . import nn
    from .nn.modules.rnn_cell import _gru_step

    _check_cell("GRU", input, [hx], w_ih, w_hh)
    return _gru_step(nn.functional.linear(input, w_ih, b_ih), hx, w_hh, b_hh)


def _rnn_cell(name, input, hx, w_ih, w_hh, b_ih, b_hh):
    from . import nn
    from .nn.modules.rnn_cell import _rnn_step

    _check_cell(name, input, [hx], w_ih, w_hh)
    gi = nn.functional.linear(input, w_ih, b_ih)
    return _rnn_step(gi, hx, w_hh, b_hh, name == "RNN_RELU")


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with tanh on explicit weights (``torch.rnn_tanh_cell``):
    ``h' = tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh)``.

    Args:
        input: ``(N, H_in)``; hx: ``(N, H)``; w_ih: ``(H, H_in)``; w_hh: ``(H, H)``;
        b_ih, b_hh: optional ``(H,)``.

    Returns:
        ``h'``, ``(N, H)``.
    """
    return _rnn_cell("RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman step with ReLU on explicit weights (``torch.rnn_relu_cell``):
    ``h' = relu(input w_ih^T + b_ih + hx w_hh^T + b_hh)``.

    Args:
        as :func:`rnn_tanh_cell`.

    Returns:
        ``h'``, ``(N, H)``.
    """
    return _rnn_cell("RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)
