"""Merging samples into batches: ``default_collate``, ``default_convert`` and ``PadCollate``.

``default_collate`` follows torch's rules (tensors and arrays stack, floats become float64
tensors, ints int64, bools bool, strings stay lists, mappings and namedtuples collate per
field, sequences are transposed). Where torch stops at "stack expects each tensor to be
equal size", ember says which sample, where inside it, which dataset index, which shapes,
and what to do about it (:class:`CollateError`).

``PadCollate`` is the ready-made collate for samples of different lengths: it pads to the
longest sample in the batch and returns the lengths and an attention mask.
"""
from __future__ import annotations

import collections
import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

import ember

from . import _transport

__all__ = [
    "CollateError",
    "PadCollate",
    "PaddedBatch",
    "collate",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
]

np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


# --- the error that says where ----------------------------------------------------------


def _key_str(key) -> str:
    return f'["{key}"]' if isinstance(key, str) else f"[{key!r}]"


def _shape_str(shape) -> str:
    return str(list(shape))


class CollateError(RuntimeError):
    """Samples that cannot be stacked into one batch (a ``RuntimeError``, as in torch).

    The first line of the message is torch's (``stack expects each tensor to be equal
    size, ...`` or ``each element in list of batch should be of equal size``); the lines
    after it name the offending place inside the sample (``batch[3]["input_ids"]``), the
    dataset index (filled in by the DataLoader), the shapes seen and the likely fix.

    Attributes:
        path: keys and positions from a sample down to the field that failed, e.g.
            ``['["input_ids"]']``.
        sizes: the shape (or length) of that field in each sample of the batch.
        position: the first sample whose field differs from sample 0's.
        dataset_indices: the dataset index of each sample, when the DataLoader knows it.
    """

    def __init__(self, first_line: str, sizes: list | None = None, what: str = "shape"):
        super().__init__(first_line)
        self.first_line = first_line
        self.sizes = sizes
        self.what = what  # "shape" for tensors/arrays, "length" for sequences
        self.path: list[str] = []
        self.dataset_indices = None
        self.dataset_len = None
        if sizes is None:  # a message only (re-raised from a worker process)
            self.position = None
            return
        self.position = next(i for i, s in enumerate(sizes) if s != sizes[0])
        self._render()

    def prepend(self, segment: str) -> None:
        """Record one more level of nesting, outermost last (called while unwinding)."""
        self.path.insert(0, segment)
        self._render()

    def set_dataset_indices(self, indices, dataset_len=None) -> None:
        """Tell the error which dataset index each batch position came from."""
        try:
            self.dataset_indices = list(indices)
        except TypeError:
            return
        self.dataset_len = dataset_len
        self._render()

    def _where(self, pos: int) -> str:
        s = f"batch[{pos}]" + "".join(self.path)
        if self.dataset_indices is not None and pos < len(self.dataset_indices):
            s += f" (dataset index {self.dataset_indices[pos]})"
        return s

    def _fmt(self, size) -> str:
        return _shape_str(size) if self.what == "shape" else f"{size} elements"

    def _render(self) -> None:
        if self.sizes is None:
            return
        sizes, bad = self.sizes, self.position
        field = "batch[i]" + "".join(self.path)
        groups: dict = {}
        for i, s in enumerate(sizes):
            groups.setdefault(s, []).append(i)
        seen = "; ".join(
            f"{self._fmt(s)} at position{'s' if len(ix) > 1 else ''} "
            + ", ".join(map(str, ix[:8])) + (", ..." if len(ix) > 8 else "")
            for s, ix in groups.items())
        lines = [
            self.first_line,
            f"  where: {self._where(bad)} has {self.what} {self._fmt(sizes[bad])}, but "
            f"{self._where(0)} has {self.what} {self._fmt(sizes[0])}",
            f"  {self.what}s of {field} in this batch: {seen}",
            "  likely fix: " + self._hint(),
        ]
        self.args = ("\n".join(lines),)

    def _hint(self) -> str:
        sizes = self.sizes
        same_rank = self.what == "length" or len({len(s) for s in sizes}) == 1
        only_dim0 = self.what == "length" or (
            same_rank and all(s[1:] == sizes[0][1:] for s in sizes) and len(sizes[0]) > 0)
        if not only_dim0:
            return ("the samples differ beyond their first dimension; make them the same "
                    "shape in the dataset (crop, resize), or pass a collate_fn that "
                    "handles them.")
        hint = ("the samples have different lengths: pad them to the longest in the batch "
                "with collate_fn=ember.utils.data.PadCollate(padding_value=...) (it also "
                "returns the lengths and an attention mask), or with a collate_fn of your "
                "own built on ember.nn.utils.rnn.pad_sequence. If only a short last window "
                "is the odd one out (a sliding-window dataset whose length is not a "
                "multiple of the window), leave it out of __len__ or drop it with "
                "drop_last=True when it falls in the last batch.")
        idx, n = self.dataset_indices, self.dataset_len
        if idx is not None and n is not None:
            short = [i for i, s in enumerate(sizes) if s < max(sizes)]
            if len(short) == 1 and short[0] < len(idx) and idx[short[0]] == n - 1:
                hint += (f" Here the short sample is dataset index {n - 1}, the dataset's "
                         "last item: most likely a partial last window.")
        return hint

    def __reduce__(self):
        # Keep the extra fields when an error crosses a process boundary.
        return (_rebuild_collate_error, (self.args, self.__dict__))


def _rebuild_collate_error(args, state):
    e = CollateError.__new__(CollateError)
    e.args = args
    e.__dict__.update(state)
    return e


def _stack_error(arrays) -> CollateError:
    shapes = [tuple(a.shape) for a in arrays]
    bad = next(i for i, s in enumerate(shapes) if s != shapes[0])
    return CollateError(
        "stack expects each tensor to be equal size, but got "
        f"{_shape_str(shapes[0])} at entry 0 and {_shape_str(shapes[bad])} at entry {bad}",
        shapes)


# --- per-type collate functions ----------------------------------------------------------


def _dtype_of(a):
    return a.dtype


def _stack_arrays(arrays, tensors=None):
    """Stack same-shape arrays into a new first dimension; torch's promotion if dtypes mix.

    In a DataLoader worker the result is built straight in the worker's shared-memory
    ring (see ``_transport``), so it reaches the main process without another copy.
    """
    first = arrays[0]
    n = len(arrays)
    try:
        if first.ndim == 0:
            out = np.stack(arrays)
        else:
            # One concatenate and a free reshape: a third of np.stack's time for 64 rows
            # (np.stack makes an expand_dims view per array). concatenate checks the
            # trailing dimensions; the first ones are checked here.
            if len(set(map(len, arrays))) > 1:
                raise _stack_error(arrays)
            shape = (n, *first.shape)
            out = _transport.worker_empty(shape, first.dtype)
            if out is not None and len(set(map(_dtype_of, arrays))) == 1:
                np.concatenate(arrays, out=out.reshape((-1, *first.shape[1:])))
            else:
                out = np.concatenate(arrays).reshape(shape)
    except (ValueError, TypeError):
        if len({a.shape for a in arrays}) > 1:
            raise _stack_error(arrays) from None
        raise
    if out.dtype != first.dtype:
        # Mixed dtypes: NumPy and torch promote differently (int64 with float32 is float64
        # in NumPy, float32 in torch), so let ember.stack decide.
        return ember.stack(list(tensors) if tensors is not None else
                           [ember.from_numpy(a) for a in arrays])
    return ember.from_numpy(out)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack ember Tensors along a new first dimension (the batch dimension)."""
    try:
        arrays = list(map(ember.Tensor.numpy, batch))
    except RuntimeError:
        # A tensor that requires grad: keep the graph (ember.stack is differentiable).
        shapes = [tuple(t.shape) for t in batch]
        if len(set(shapes)) > 1:
            raise _stack_error([t.detach().numpy() for t in batch]) from None
        return ember.stack(list(batch))
    return _stack_arrays(arrays, batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stack NumPy arrays into one tensor (string and object arrays are refused, as torch)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return _stack_arrays(batch)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars keep their dtype (``np.float32`` gives a float32 tensor)."""
    return ember.as_tensor(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Python floats become a float64 tensor (torch's rule, not the default dtype)."""
    return ember.tensor(batch, dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Python ints become int64 (all-bool batches bool), as ``torch.tensor(batch)``."""
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map: dict = {ember.Tensor: collate_tensor_fn}
default_collate_fn_map[np.ndarray] = collate_numpy_array_fn
default_collate_fn_map[(np.bool_, np.number, np.object_)] = collate_numpy_scalar_fn
default_collate_fn_map[float] = collate_float_fn
default_collate_fn_map[int] = collate_int_fn
default_collate_fn_map[str] = collate_str_fn
default_collate_fn_map[bytes] = collate_str_fn


# --- the recursion -----------------------------------------------------------------------


def _collate_field(samples, collate_fn_map, segment):
    try:
        return collate(samples, collate_fn_map=collate_fn_map)
    except CollateError as e:
        e.prepend(segment)
        raise


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate a list of samples, dispatching on the type of the first one.

    Args:
        batch: a list of samples.
        collate_fn_map: maps a type (or a tuple of types) to a function
            ``fn(batch, *, collate_fn_map)``; an exact type match wins, then the first
            ``isinstance`` match in insertion order. Containers (mappings, namedtuples,
            sequences) not in the map are collated field by field.

    Raises:
        CollateError: (a ``RuntimeError``) when fields differ in shape or length.
        TypeError: when an element type has no collate function.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(elem_type)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, Mapping):
        fields = {key: _collate_field([d[key] for d in batch], collate_fn_map, _key_str(key))
                  for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:  # a mapping type that cannot be built from a dict
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(_collate_field(samples, collate_fn_map, f".{name}")
                           for name, samples in zip(elem._fields, zip(*batch))))
    if isinstance(elem, Sequence):
        if len(set(map(len, batch))) > 1:
            raise CollateError("each element in list of batch should be of equal size",
                               [len(e) for e in batch], what="length")
        transposed = list(zip(*batch))  # tuples: string fields stay tuples, as in torch
        fields = [_collate_field(samples, collate_fn_map, f"[{i}]")
                  for i, samples in enumerate(transposed)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuples (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, f in enumerate(fields):
                    clone[i] = f
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch):
    """Stack a list of samples into a batch, with torch's rules.

    * ember Tensor -> Tensor with a new first (batch) dimension
    * NumPy array -> Tensor (string and object arrays raise TypeError)
    * NumPy scalar -> Tensor of its dtype
    * ``float`` -> float64 Tensor; ``int`` -> int64 Tensor; ``bool`` -> bool Tensor
    * ``str`` / ``bytes`` -> unchanged list
    * ``Mapping[K, V_i]`` -> ``Mapping[K, default_collate([V_1, V_2, ...])]``
    * ``NamedTuple`` -> the same namedtuple of collated fields
    * ``Sequence[V1_i, V2_i, ...]`` -> ``[default_collate([V1_1, ...]), ...]`` (tuples
      become lists, as in torch)

    A batch of same-shape tensors or arrays costs one ``np.concatenate``. In a DataLoader
    worker the stacked arrays are built in the worker's shared-memory ring, which is
    reused once the batch has been delivered: a ``collate_fn`` that keeps this output
    around in the worker (a cache across batches) must keep a copy.

    Args:
        batch: a list of samples.

    Returns:
        The collated batch.

    Raises:
        CollateError: (a ``RuntimeError``) when samples differ in shape or length; the
            message keeps torch's first line and adds where and how to fix it.
        TypeError: for element types it does not know.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Turn NumPy arrays and scalars into tensors, recursing into containers; the rest as is.

    The collate function of a DataLoader with ``batch_size=None`` (no batching).
    Tuples become lists (as in torch); string and object arrays stay arrays.

    Args:
        data: one sample.

    Returns:
        ``data`` with every NumPy array or scalar replaced by a Tensor.
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_",
                                                                     "bytes_"):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(
                data.dtype.str) is not None:
            return data
        return ember.as_tensor(data)
    if isinstance(data, Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# --- padding collate ---------------------------------------------------------------------


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
