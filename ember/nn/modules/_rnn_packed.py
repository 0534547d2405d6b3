"""Recurrent layers on a ``PackedSequence``: pad, run with a mask of the real steps, pack.

torch's kernels walk the packed rows with a batch that shrinks as sequences end. Here the
packed data is padded back to ``(L, N, *)``, in the packed (longest-first) batch order, and
the layer's sequence ops run with ``mask`` (False at padded steps), where the state passes
through unchanged: each sequence's final state is the one after its last real step, and the
reverse direction starts there. The output is packed again with the same batch sizes.
"""
from __future__ import annotations

import numpy as np

from ... import _creation
from ..utils.rnn import PackedSequence, pad_packed_sequence

__all__ = ["forward_packed"]


def forward_packed(module, packed: PackedSequence, hx):
    """``module(packed, hx)`` for ``RNN``, ``LSTM`` and ``GRU``.

    Args:
        module: the recurrent layer.
        packed: its input, a ``PackedSequence``.
        hx: the initial state (LSTM: a pair), in the batch's original order, or None.

    Returns:
        ``(output, h_n)``, or ``(output, (h_n, c_n))`` for LSTM: ``output`` a
        ``PackedSequence`` like ``packed``, the states in the batch's original order.
    """
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    sizes = batch_sizes.numpy().astype(np.int64)
    real = np.arange(int(sizes[0]))[None, :] < sizes[:, None]     # (L, N): step t of b is real
    x, _ = pad_packed_sequence(PackedSequence(data, batch_sizes),
                               batch_first=module.batch_first)
    lstm = module.mode == "LSTM"
    if hx is None:
        size = module.proj_size if module.proj_size > 0 else module.hidden_size
        h0 = module._zeros(x, size)
        hx = (h0, module._zeros(x, module.hidden_size)) if lstm else h0
    else:
        hx = module.permute_hidden(tuple(hx) if lstm else hx, sorted_indices)
    module.check_forward_args(x, hx, batch_sizes)
    h0, c0 = hx if lstm else (hx, None)
    output, h_n, c_n = module._run(x, h0, c0, mask=real[:, :, None])
    if module.batch_first:
        output = output.transpose(0, 1)
    steps, batch = real.shape
    out_data = output.reshape(steps * batch, output.shape[-1]).index_select(
        0, _creation.tensor(np.flatnonzero(real)))
    out = PackedSequence(out_data, batch_sizes, sorted_indices, unsorted_indices)
    if lstm:
        return out, module.permute_hidden((h_n, c_n), unsorted_indices)
    return out, module.permute_hidden(h_n, unsorted_indices)
