"""Recurrent layers: RNN, LSTM, GRU (and their cells, from ``rnn_cell.py``), with torch's
weight layout.

A layer runs each direction in two nodes: one ``linear`` for the input projections of the
whole sequence, then one sequence op (``nn/_functions/recurrent.py``) whose forward is the
time loop and whose backward is backpropagation through time, written out. An LSTM with
``proj_size`` is a composition of existing ops (the cells' step), so autograd runs back
through it with no backward of its own. A ``PackedSequence`` input goes through
``_rnn_packed.py``: padded, run with a mask of the real steps, packed again.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import _creation
from ... import ops as _ops
from ...ops._shape_utils import type_name
from .. import functional as F
from .. import init
from .._functions.recurrent import GRUSequence, LSTMSequence, RNNSequence
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._rnn_packed import forward_packed
from .module import Module
from .rnn_cell import GRUCell, LSTMCell, RNNCell, RNNCellBase, _lstm_step

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --- one direction of a projected LSTM, step by step ---------------------------------------
def _lstm_unrolled(gi_all, h, c, w_hh, w_hr, reverse, mask=None):
    """An LSTM with a projection (``proj_size > 0``), step by step from existing ops; where
    ``mask`` (bool ``(L, N, 1)``) is False the state passes through and the output is 0."""
    steps = gi_all.unbind(0)
    ys = [None] * len(steps)
    for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
        h_new, c_new = _lstm_step(steps[t], h, c, w_hh, None, w_hr)
        if mask is None:
            h, c = h_new, c_new
            ys[t] = h
        else:
            real = _creation.tensor(mask[t])
            ys[t] = h_new * real
            h, c = _ops.where(real, h_new, h), _ops.where(real, c_new, c)
    return _ops.stack(ys, 0), h, c


# --- multi-layer modules ------------------------------------------------------------------

class RNNBase(Module):
    """Shared constructor, weights, checks and repr of ``RNN``, ``LSTM`` and ``GRU``.

    Parameters are named as torch names them: ``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``weight_hr_l{k}`` for a projected LSTM), with
    ``_reverse`` appended for the backward direction, so torch's state dicts load unchanged.
    All are drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1

        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        kw = {"dtype": dtype, "device": device}
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input_size)),
                          ("weight_hh_l{}{}", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for pattern, shape in shapes:
                    name = pattern.format(layer, suffix)
                    setattr(self, name, Parameter(_creation.empty(shape, **kw)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        """The parameters in torch's flat order, read afresh (so reassignments are seen)."""
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, as torch's ``all_weights``."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op: there is no cuDNN weight buffer to compact on the CPU (as in torch)."""

    def reset_parameters(self) -> None:
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # --- checks (torch's names and messages) ------------------------------------------------
    def check_input(self, input, batch_sizes=None) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes=None) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        """``hx`` (or LSTM's pair) with its batch dimension put in ``permutation``'s order."""
        if permutation is None:
            return hx
        if isinstance(hx, tuple):
            return tuple(h.index_select(1, permutation) for h in hx)
        return hx.index_select(1, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # --- the recurrence ---------------------------------------------------------------------
    def _prepare(self, input, name: str, tensor_word: str):
        """Rank checks, unbatched handling and the default zero state, in torch's order."""
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{tensor_word} instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        return input, is_batched, batch_dim

    def _zeros(self, input, size: int):
        num_directions = 2 if self.bidirectional else 1
        batch = input.size(0) if self.batch_first else input.size(1)
        return _creation.zeros(self.num_layers * num_directions, batch, size, dtype=input.dtype)

    def _run(self, input, h0, c0=None, mask=None):
        """Run every layer and direction; returns (output, h_n, c_n) in (L, N, *) layout.
        ``mask`` (bool ``(L, N, 1)``, for a PackedSequence) is False at padded steps."""
        if input.size(0 if not self.batch_first else 1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        x = input.transpose(0, 1) if self.batch_first else input        # (L, N, H_in)
        num_directions = 2 if self.bidirectional else 1
        h0s = h0.unbind(0)
        c0s = c0.unbind(0) if c0 is not None else None
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                params = [getattr(self, n) for n in self._all_weights[k]]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                w_hr = params[-1] if self.proj_size > 0 else None
                if self.mode != "GRU" and b_hh is not None:
                    b_ih, b_hh = b_ih + b_hh, None    # they only ever appear summed
                gi_all = F.linear(x, w_ih, b_ih)                        # one matmul for all steps
                h = h0s[k]
                c = c0s[k] if c0s is not None else None
                reverse = direction == 1
                if self.mode == "LSTM" and w_hr is None:
                    ys, h, c = LSTMSequence.apply(gi_all, h, c, w_hh, reverse=reverse, mask=mask)
                elif self.mode == "LSTM":
                    ys, h, c = _lstm_unrolled(gi_all, h, c, w_hh, w_hr, reverse, mask)
                elif self.mode == "GRU":
                    ys, h = GRUSequence.apply(gi_all, h, w_hh, b_hh, reverse=reverse, mask=mask)
                else:
                    ys, h = RNNSequence.apply(gi_all, h, w_hh, relu=self.mode == "RNN_RELU",
                                              reverse=reverse, mask=mask)
                outs.append(ys)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if num_directions == 1 else _ops.cat(outs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, p=self.dropout, training=True)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, _ops.stack(h_n, 0), (_ops.stack(c_n, 0) if c0 is not None else None)


class RNN(RNNBase):
    """Multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Args:
        input_size: features per step of the input.
        hidden_size: features of the hidden state.
        num_layers: stacked recurrent layers (default 1).
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        bias: learn ``b_ih`` and ``b_hh`` (default True).
        batch_first: input and output are ``(N, L, H)`` instead of ``(L, N, H)``; the hidden
            state keeps ``(num_layers * D, N, H)`` either way.
        dropout: dropout probability on each layer's output but the last, in training mode.
        bidirectional: also run the sequence backwards (``D = 2``) and concatenate.
        device: only "cpu".
        dtype: the parameters' dtype (default: ember's default dtype).

    Shape:
        - Input: ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first`` or unbatched
          ``(L, H_in)``; h_0: ``(D * num_layers, N, H_out)`` or ``(D * num_layers, H_out)``.
        - Output: ``(L, N, D * H_out)`` (likewise) and h_n shaped like h_0.
        - A ``PackedSequence`` input gives a ``PackedSequence`` output; h_n then holds each
          sequence's state after its last real step.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNNBase.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return forward_packed(self, input, hx)
        input, is_batched, batch_dim = self._prepare(input, "RNN", " tensor")
        return _forward_single_state(self, input, hx, is_batched, batch_dim)


def _check_state_dtypes(module: RNNBase, input, h, c=None) -> None:
    """torch's kernel errors for a hidden state of another dtype than the weights: its
    matmul's, or (an LSTM on float32 input, run by oneDNN) oneDNN's, which checks the cell
    state too."""
    w_dt = module._flat_weights[0]._data.dtype
    if h._data.dtype == w_dt and (c is None or c._data.dtype == w_dt):
        return
    if c is not None and input._data.dtype == np.float32 and module.proj_size == 0:
        raise RuntimeError("get_mkldnn_dtype: unsupported data type")
    if h._data.dtype != w_dt:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{type_name(h._data.dtype)} and {type_name(w_dt)}")


def _forward_single_state(module: RNNBase, input, hx, is_batched: bool, batch_dim: int):
    """RNN and GRU's forward after the input rank check: one state tensor."""
    if hx is not None:
        if not is_batched and hx.dim() != 2:
            raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                               f"{hx.dim()}-D tensor")
        if is_batched and hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                               f"{hx.dim()}-D tensor")
        if not is_batched:
            hx = hx.unsqueeze(1)
    else:
        hx = module._zeros(input, module.hidden_size)
    module.check_forward_args(input, hx)
    _check_state_dtypes(module, input, hx)
    output, h_n, _ = module._run(input, hx)
    if not is_batched:
        output, h_n = output.squeeze(batch_dim), h_n.squeeze(1)
    return output, h_n


class LSTM(RNNBase):
    """Multi-layer long short-term memory, gates in torch's order (i, f, g, o).

    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``, with ``i, f, o`` sigmoids and
    ``g`` a tanh of ``x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh``. With ``proj_size > 0``,
    ``h_t = W_hr (o * tanh(c_t))`` has ``proj_size`` features.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as for ``RNN``.
        proj_size: size of the projected hidden state (default 0: no projection).

    Shape:
        - Input: as ``RNN``; (h_0, c_0): ``(D * num_layers, N, H_out)`` and
          ``(D * num_layers, N, hidden_size)`` (without N when unbatched), where
          ``H_out = proj_size or hidden_size``.
        - Output: ``(output, (h_n, c_n))``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def get_expected_cell_size(self, input, batch_sizes=None) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes=None) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return forward_packed(self, input, hx)
        input, is_batched, batch_dim = self._prepare(input, "LSTM", "")
        if hx is None:
            real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = (self._zeros(input, real_hidden_size), self._zeros(input, self.hidden_size))
        else:
            want = 3 if is_batched else 2
            if hx[0].dim() != want or hx[1].dim() != want:
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but "
                                   f"got ({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            if not is_batched:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx)
        _check_state_dtypes(self, input, *hx)
        output, h_n, c_n = self._run(input, hx[0], hx[1])
        if not is_batched:
            output, h_n, c_n = output.squeeze(batch_dim), h_n.squeeze(1), c_n.squeeze(1)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Multi-layer gated recurrent unit, gates in torch's order (r, z, n).

    ``r, z = sigmoid(...)``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h_t = (1 - z) * n + z * h_{t-1}``.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as for ``RNN``.

    Shape:
        - as ``RNN``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNNBase.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return forward_packed(self, input, hx)
        input, is_batched, batch_dim = self._prepare(input, "GRU", "")
        return _forward_single_state(self, input, hx, is_batched, batch_dim)
