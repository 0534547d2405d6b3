"""Recurrent cells: RNNCell, LSTMCell and GRUCell (one time step), with torch's weights.

The cells are compositions of existing ops (``linear``, ``sigmoid``, ``tanh``, ``chunk``), so
autograd runs back through them with no backward of their own. The step functions serve the
multi-layer ``LSTM`` with ``proj_size`` too (``rnn.py``).
"""
from __future__ import annotations

import math

from ... import _creation
from ... import ops as _ops
from ..._tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# --- one time step ----------------------------------------------------------------------
# ``gi`` is the input projection ``x @ w_ih.T + b_ih`` of one step, computed ahead for the
# whole sequence. For RNN and LSTM it already holds ``b_hh`` too (the two biases only ever
# appear summed); GRU keeps ``b_hh`` apart because its n gate scales ``W_hn h + b_hn`` by r.

def _rnn_step(gi, h, w_hh, b_hh, relu: bool):
    pre = gi + F.linear(h, w_hh, b_hh)
    return _ops.relu(pre) if relu else _ops.tanh(pre)


def _lstm_step(gi, h, c, w_hh, b_hh, w_hr):
    gates = gi + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)                    # torch's gate order: i, f, g, o
    c = _ops.sigmoid(f) * c + _ops.sigmoid(i) * _ops.tanh(g)
    h = _ops.sigmoid(o) * _ops.tanh(c)
    if w_hr is not None:                              # proj_size > 0: h = W_hr h
        h = F.linear(h, w_hr)
    return h, c


def _gru_step(gi, h, w_hh, b_hh):
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, 1)                    # torch's gate order: r, z, n
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = _ops.sigmoid(i_r + h_r)
    z = _ops.sigmoid(i_z + h_z)
    n = _ops.tanh(i_n + r * h_n)
    # (1 - z) * n + z * h, written as torch's kernel computes it
    return n + z * (h - n)


def _check_cell_input(input, input_size: int) -> None:
    if input.size(1) != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                           f"{input_size}")


def _check_cell_hidden(input, hx, hidden_size: int, label: int) -> None:
    if input.size(0) != hx.size(0):
        raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{label} batch "
                           f"size {hx.size(0)}")
    if hx.size(1) != hidden_size:
        raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.size(1)}, "
                           f"expected {hidden_size}")


# --- cells --------------------------------------------------------------------------------

class RNNCellBase(Module):
    """Shared weights (``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``) of the cells."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"dtype": dtype, "device": device}
        self.weight_ih = Parameter(_creation.empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(_creation.empty((num_chunks * hidden_size, hidden_size),
                                                   **kw))
        if bias:
            self.bias_ih = Parameter(_creation.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(_creation.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check_ranks(self, input, hxs, name: str, hidden_names: list[str]) -> None:
        """torch's rank checks of the input and the given states."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for label, value in zip(hidden_names, hxs):
            if value is not None and value.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {value.dim()}D "
                                 "instead")

    def _batched(self, input, hxs, name: str, hidden_names: list[str]):
        """torch's rank checks; returns (input, states, is_batched) with a batch dim added."""
        self._check_ranks(input, hxs, name, hidden_names)
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        zeros = None
        out = []
        for value in hxs:
            if value is None:
                if zeros is None:
                    zeros = _creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype)
                value = zeros
            elif not is_batched:
                value = value.unsqueeze(0)
            out.append(value)
        return input, out, is_batched

    def _check_sizes(self, input, states) -> None:
        """torch's size checks of the fused cell kernels (after the rank checks)."""
        _check_cell_input(input, self.input_size)
        for label, value in enumerate(states):
            _check_cell_hidden(input, value, self.hidden_size, label)


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: learn ``bias_ih`` and ``bias_hh`` (default True).
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``; hidden: ``(N, H_out)`` or ``(H_out)``
          (zeros when omitted). Output: like hidden.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (h,), is_batched = self._batched(input, [hx], "RNNCell", ["hidden"])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_sizes(input, [h])
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        ret = _rnn_step(gi, h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); returns ``(h', c')``.

    Args:
        input_size, hidden_size, bias: as for ``RNNCell``.

    Shape:
        - Input: ``(N, H_in)`` or ``(H_in)``; hx: a pair ``(h, c)`` of ``(N, H)`` or ``(H)``
          (zeros when omitted). Output: ``(h', c')`` shaped like them.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        hxs = [None, None] if hx is None else _state_pair(self, input, hx)
        input, (h, c), is_batched = self._batched(input, hxs, "LSTMCell", ["hx[0]", "hx[1]"])
        self._check_sizes(input, [h, c])
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        h, c = _lstm_step(gi, h, c, self.weight_hh, self.bias_hh, None)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


def _state_pair(cell, input, hx) -> list:
    """LSTMCell's ``(h, c)``, with torch's errors: its Python checks the rank of every state
    it iterates over; its batched kernel wants a tuple of exactly two, and the unbatched path
    takes the first two."""
    states = list(hx)
    cell._check_ranks(input, states, "LSTMCell", [f"hx[{i}]" for i in range(len(states))])
    if input.dim() == 2:
        if isinstance(hx, Tensor):
            raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, "
                            "not Tensor")
        if len(states) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
    elif len(states) < 2:
        raise IndexError("tuple index out of range")
    return states[:2]


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): ``h' = (1 - z) * n + z * h``.

    Args:
        input_size, hidden_size, bias: as for ``RNNCell``.

    Shape:
        - as ``RNNCell``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), is_batched = self._batched(input, [hx], "GRUCell", ["hidden"])
        self._check_sizes(input, [h])
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        ret = _gru_step(gi, h, self.weight_hh, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
