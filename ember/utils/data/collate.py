"""Merging samples into batches: ``default_collate``, ``default_convert`` and ``PadCollate``.

``default_collate`` follows torch's rules (tensors and arrays stack, floats become float64
tensors, ints int64, bools bool, strings stay lists, mappings and namedtuples collate per
field, sequences are transposed). Where torch stops at "stack expects each tensor to be
equal size", ember says which sample, where inside it, which dataset index, which shapes,
and what to do about it (:class:`CollateError`).

``PadCollate`` (in ``pad_collate.py``, re-exported here) is the ready-made collate for
samples of different lengths: it pads to the longest sample in the batch and returns the
lengths and an attention mask.
"""
from __future__ import annotations

import collections
import copy
import re
from collections.abc import Mapping, Sequence

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


def _type_name(t: type) -> str:
    """The type's name as CPython's ``tp_name`` spells it in torch's messages: classes
    defined in Python and builtins by name, extension types with their module
    (``numpy.float32``)."""
    if t.__flags__ & (1 << 9) or t.__module__ == "builtins":  # Py_TPFLAGS_HEAPTYPE
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack ember Tensors along a new first dimension (the batch dimension).

    Raises:
        TypeError: an element is not a Tensor (torch.stack's message).
    """
    try:
        arrays = list(map(ember.Tensor.numpy, batch))
    except (AttributeError, TypeError, RuntimeError) as e:
        for i, x in enumerate(batch):
            if not isinstance(x, ember.Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                                f"{_type_name(type(x))}") from None
        if not isinstance(e, RuntimeError):
            raise
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
    if not all(isinstance(a, np.ndarray) and a.dtype == elem.dtype for a in batch):
        # other elements (lists, numbers, tensors, other dtypes): torch converts each with
        # as_tensor and collates the tensors, so its errors and dtype promotion apply
        return collate([ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)
    return _stack_arrays(batch)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars keep their dtype (``np.float32`` gives a float32 tensor); mixed with
    Python numbers they promote as in ``torch.as_tensor(batch)``."""
    return ember.as_tensor(batch)


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


from .pad_collate import PadCollate, PaddedBatch  # noqa: E402  (re-exported here)
