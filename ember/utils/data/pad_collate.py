"""``PadCollate``: the ready-made collate_fn for samples of different lengths.

It pads each field to the longest sample in the batch (with a per-key padding value) and
returns the lengths and an attention mask; dict samples collate per key, and keys missing
from some samples are filled and masked (or raise, by option).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

import ember

from . import _transport
from .collate import (
    CollateError,
    _collate_field,
    _key_str,
    _shape_str,
    default_collate,
    default_collate_fn_map,
    np_str_obj_array_pattern,
)

__all__ = ["PadCollate", "PaddedBatch"]


class PaddedBatch(NamedTuple):
    """A padded field: ``data`` ``(N, L, *)``, ``lengths`` ``(N,)`` int64 and ``mask``
    ``(N, L)`` bool (True at real positions). Unpacks as ``x, lengths, mask = field``."""

    data: Any
    lengths: Any
    mask: Any


def _as_array(x):
    """A NumPy view of a tensor, an array, or a list of numbers; None for anything else."""
    if isinstance(x, ember.Tensor):
        return x.detach().numpy() if x.requires_grad else x.numpy()
    if isinstance(x, np.ndarray):
        if np_str_obj_array_pattern.search(x.dtype.str) is not None:
            return None
        return x
    if isinstance(x, (list, tuple)) and (not x or all(
            isinstance(v, (int, float, bool, np.number, np.bool_)) for v in x)):
        return np.asarray(x)
    return None


class _Missing:
    """Marks a key absent from a sample (see PadCollate's ``missing``)."""

    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


class PadCollate:
    """Collate samples of different lengths: pad to the longest, with lengths and masks.

    The collate function the notes ask for when sequences vary in length. Each *sequence
    field* (a tensor or array with at least one dimension, or a list of numbers) is padded
    along its first dimension to the longest in the batch; everything else goes through
    :func:`default_collate`.

    * A sample that is itself a sequence gives a :class:`PaddedBatch`
      ``(data, lengths, mask)``.
    * A tuple or list sample gives a list with one entry per field: a
      :class:`PaddedBatch` for sequence fields, the default-collated value otherwise.
    * A dict sample gives a dict: ``out[key]`` is the padded tensor, and for sequence keys
      ``out[key + "_lengths"]`` and ``out[key + "_mask"]`` (names set by ``lengths_suffix``
      and ``mask_suffix``). Keys are taken from all samples in first-seen order.
      A key missing from some samples is filled with its padding value and masked out
      (its length is 0; a non-sequence key gets a ``key + "_mask"`` of shape ``(N,)``
      saying which samples had it), or raises ``KeyError`` with ``missing="error"``.

    Args:
        padding_value: value for padded positions (use the Embedding's ``padding_idx``).
        padding_values: per-key (dict samples) or per-position (tuple samples) padding
            values, e.g. ``{"input_ids": 0, "labels": -100}``; others use ``padding_value``.
        batch_first: ``(N, L, *)`` if True (the default here), ``(L, N, *)`` otherwise.
        padding_side: ``"right"`` (default) or ``"left"``.
        missing: ``"fill"`` (default) or ``"error"`` for keys absent from some samples.
        lengths_suffix: name suffix of the lengths entries of dict batches.
        mask_suffix: name suffix of the mask entries of dict batches.

    Example::

        loader = DataLoader(ds, batch_size=32, collate_fn=PadCollate(padding_value=0))
        for x, lengths, mask in loader:   # samples are 1-D token tensors
            ...
    """

    def __init__(self, padding_value=0, *, padding_values: Mapping | None = None,
                 batch_first: bool = True, padding_side: str = "right",
                 missing: str = "fill", lengths_suffix: str = "_lengths",
                 mask_suffix: str = "_mask"):
        if padding_side not in ("left", "right"):
            raise ValueError(
                f"Expected padding_side to be one of left or right, but got {padding_side}.")
        if missing not in ("fill", "error"):
            raise ValueError(f"missing should be 'fill' or 'error', but got {missing!r}")
        self.padding_value = padding_value
        self.padding_values = dict(padding_values or {})
        self.batch_first = batch_first
        self.padding_side = padding_side
        self.missing = missing
        self.lengths_suffix = lengths_suffix
        self.mask_suffix = mask_suffix

    def __repr__(self):
        return (f"PadCollate(padding_value={self.padding_value!r}, padding_values="
                f"{self.padding_values!r}, batch_first={self.batch_first}, padding_side="
                f"{self.padding_side!r}, missing={self.missing!r})")

    def __call__(self, batch):
        elem = batch[0]
        if isinstance(elem, Mapping):
            return self._collate_dicts(batch)
        if _as_array(elem) is not None:
            return self._pad(batch, self.padding_value, "")
        if isinstance(elem, (tuple, list)) and not (isinstance(elem, tuple)
                                                    and hasattr(elem, "_fields")):
            size = len(elem)
            if any(len(s) != size for s in batch):
                raise CollateError("each element in list of batch should be of equal size",
                                   [len(s) for s in batch], what="length")
            out = []
            for i, samples in enumerate(zip(*batch)):
                value = self.padding_values.get(i, self.padding_value)
                out.append(self._field(list(samples), value, f"[{i}]"))
            return out
        return default_collate(batch)

    def _field(self, samples, value, segment):
        present = [s for s in samples if s is not _MISSING]
        first = _as_array(present[0])
        if first is not None and first.ndim >= 1:
            return self._pad(samples, value, segment)
        if len(present) < len(samples):
            filled = [value if s is _MISSING else s for s in samples]
            return _collate_field(filled, default_collate_fn_map, segment)
        return _collate_field(samples, default_collate_fn_map, segment)

    def _pad(self, samples, value, segment):
        """Pad a list of sequences (or _MISSING) into a PaddedBatch."""
        arrays = []
        ref = None
        for s in samples:
            a = None if s is _MISSING else _as_array(s)
            if s is not _MISSING and (a is None or a.ndim == 0):
                raise TypeError(f"PadCollate: batch[i]{segment} mixes sequences with "
                                f"{type(s).__name__} values; cannot pad it")
            if a is not None and ref is None:
                ref = a
            arrays.append(a)
        trailing = ref.shape[1:]
        for a in arrays:
            if a is not None and a.shape[1:] != trailing:
                sizes = [tuple(x.shape) if x is not None else (0, *trailing) for x in arrays]
                err = CollateError(
                    "PadCollate pads the first dimension only, but the trailing dimensions "
                    f"differ: {_shape_str(ref.shape)} and {_shape_str(a.shape)}",
                    sizes)
                if segment:
                    err.prepend(segment)
                raise err
        lengths = np.array([0 if a is None else a.shape[0] for a in arrays], np.int64)
        L = int(lengths.max()) if len(lengths) else 0
        dtype = np.result_type(*[a.dtype for a in arrays if a is not None])
        shape = (len(arrays), L, *trailing)
        # In a worker, build the batch in the shared-memory ring (no copy when sent).
        out = _transport.worker_empty(shape, dtype) if self.batch_first else None
        if out is None:
            out = np.full(shape, value, dtype=dtype)
        else:
            out.fill(value)
        mask = np.zeros((len(arrays), L), dtype=bool)
        left = self.padding_side == "left"
        for i, a in enumerate(arrays):
            n = lengths[i]
            if n:
                if left:
                    out[i, L - n:] = a
                    mask[i, L - n:] = True
                else:
                    out[i, :n] = a
                    mask[i, :n] = True
        if not self.batch_first:
            out = np.ascontiguousarray(np.swapaxes(out, 0, 1))
            mask = np.ascontiguousarray(mask.T)
        data = ember.from_numpy(self._torch_dtype(out, samples))
        return PaddedBatch(data, ember.from_numpy(lengths), ember.from_numpy(mask))

    @staticmethod
    def _torch_dtype(out, samples):
        # Lists of Python floats: torch.tensor gives the default dtype (float32).
        first = next(s for s in samples if s is not _MISSING)
        if isinstance(first, (list, tuple)) and out.dtype == np.float64:
            return out.astype(ember._dtype.to_numpy(ember.get_default_dtype()))
        return out

    def _collate_dicts(self, batch):
        keys: dict = {}
        for s in batch:
            for k in s:
                keys.setdefault(k, None)
        out = {}
        for key in keys:
            samples = []
            for pos, s in enumerate(batch):
                if key in s:
                    samples.append(s[key])
                elif self.missing == "error":
                    have = [i for i, t in enumerate(batch) if key in t]
                    raise KeyError(
                        f"PadCollate: batch[{pos}] has no key {key!r}, which batch[{have[0]}] "
                        f"has (present in {len(have)} of {len(batch)} samples); pass "
                        "missing='fill' to fill and mask it")
                else:
                    samples.append(_MISSING)
            value = self.padding_values.get(key, self.padding_value)
            field = self._field(samples, value, _key_str(key))
            if isinstance(field, PaddedBatch):
                out[key] = field.data
                out[f"{key}{self.lengths_suffix}"] = field.lengths
                out[f"{key}{self.mask_suffix}"] = field.mask
            else:
                out[key] = field
                if any(s is _MISSING for s in samples):
                    out[f"{key}{self.mask_suffix}"] = ember.from_numpy(
                        np.array([s is not _MISSING for s in samples], dtype=bool))
        return out
