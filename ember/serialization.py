"""Saving and loading: ``ember.save`` / ``ember.load`` in the safetensors format, never pickle.

A file is ONE safetensors file (https://huggingface.co/docs/safetensors). Its tensors are
the tensors of the saved object; the safetensors header's ``__metadata__`` holds, under the
key ``"ember"``, a JSON description of everything else: the dicts, lists, tuples, numbers,
strings and ``None`` around the tensors, with each tensor leaf referring to a tensor by name.
So the file is readable by every safetensors reader, and loading it only parses JSON and
copies bytes: no code from the file ever runs (there is no pickle anywhere).

Tensor names:
    A flat state dict (``{str: Tensor}``) is stored under exactly its keys, so
    ``safetensors.torch.load_file(path)`` + ``model.load_state_dict`` works in torch. In a
    nested object a tensor is named by its path joined with dots (``"model.fc.weight"``,
    ``"optimizer.state.0.exp_avg"``); a clash gets a ``#1``, ``#2``... suffix. A plain
    safetensors file (``safetensors.torch.save_file(model.state_dict(), path)``) loads as a
    dict of ember tensors in the file's order.

What round-trips exactly:
    tensors (every ember dtype, any shape including 0-d and empty; ``requires_grad`` and
    ``nn.Parameter`` are kept, ``.grad`` is not, as in torch), ``int`` (any size), ``float``
    (including nan, inf and -0.0), ``bool``, ``None``, ``str``, ``list``, ``tuple``,
    ``dict``, ``OrderedDict`` and ``Counter`` (a MultiStepLR's milestones; insertion order
    and key types: str, int, float, bool, None, NumPy scalars and tuples of them, so an
    optimizer's integer state keys stay integers), NumPy
    arrays and NumPy scalars of numeric or bool dtype. complex128, which safetensors lacks,
    is stored as float64 pairs (a trailing dim of 2: ``torch.view_as_complex`` reads it).

Differences from ``torch.save`` (which pickles):
    - Tensors that share storage (views, ``t.data``, the same tensor twice) are each saved
      as their own copy and load as independent tensors; a container referenced twice
      loads as two equal containers. A circular reference raises ValueError, and so does
      nesting deeper than 200 containers (torch.save goes on to Python's recursion limit):
      json's parser, at load time, must stay within that limit.
    - Other dict subclasses load as ``dict``, tuple subclasses (``ember.Size``,
      namedtuples) as ``tuple``; any other object raises TypeError naming its path.
    - The file holds a CRC-32 of every tensor and of the JSON description, so a damaged
      file is reported instead of loading wrong numbers.
"""
from __future__ import annotations

import json
import math
import os
import reprlib
import struct
import zlib
from collections import Counter, OrderedDict

import numpy as np
import safetensors
import safetensors.numpy

from ._io import atomic_write

__all__ = ["save", "load"]

_FORMAT_VERSION = 1
_META_KEY = "ember"              # __metadata__ key of the JSON description
_META_CRC_KEY = "ember.crc32"    # CRC-32 of that JSON text
_MAX_HEADER = 100_000_000        # safetensors' own limit on the header size
# Larger ints are stored in hex: Python limits decimal conversions to 4300 (at least 640) digits
_MAX_DECIMAL_BITS = 2000
# Containers nested deeper are refused on saving: a dict is 3 levels of JSON, and json's
# parser must stay within Python's recursion limit (1000) when the file is loaded.
_MAX_DEPTH = 200

# Element types an ember tensor can have (ember._dtype.ALL) as safetensors spells them.
_TENSOR_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
                  "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
                  "C64": "complex64"}
# complex128, which safetensors lacks, is stored as float64 pairs (a trailing dim of 2, real
# then imaginary: its own bytes) and marked complex128 in ember's description
_PAIRED = {"complex128": np.float64}
_TENSOR_DTYPE_NAMES = frozenset(list(_TENSOR_DTYPES.values()) + list(_PAIRED))
# Element types NumPy leaves (arrays and scalars) may have: the above plus unsigned ints.
_NUMPY_DTYPES = frozenset(list(_TENSOR_DTYPE_NAMES) + ["uint16", "uint32", "uint64"])
_SAFETENSORS_NUMPY = frozenset(list(_TENSOR_DTYPES) + ["U16", "U32", "U64"])


# --- saving ---------------------------------------------------------------------------------

def save(obj, f) -> None:
    """Save a tensor or a nested state dict / checkpoint to one safetensors file.

    Mirrors ``torch.save`` for the objects training code saves (state dicts, optimizer
    state dicts, checkpoints holding both plus numbers, strings and lists), but writes the
    safetensors format instead of a pickle, so the file is safe to load and readable by
    torch and other frameworks (see the module docstring for the layout).

    Args:
        obj: a Tensor, or dicts / lists / tuples nesting tensors, ``int``, ``float``,
            ``bool``, ``None``, ``str`` and NumPy arrays or scalars.
        f: a path (``str`` or path-like), written atomically: the data goes to a temporary
            file in the same folder, is fsync'ed, then renamed over ``f``, so a crash leaves
            the old file (or none), never a partial one. A binary file object opened for
            writing is also accepted (written directly, without the atomic rename).

    Raises:
        TypeError: an object that cannot be stored, naming its path in ``obj``, e.g.
            ``obj["optimizer"]["state"][0]["fn"]: cannot save object of type function``.
        ValueError: ``obj`` contains itself (a circular reference), nests containers more
            than 200 deep, or its non-tensor part is too large for a safetensors header
            (100 MB as JSON).

    NOTE: tensors sharing storage are saved as separate copies (torch keeps one storage).
    """
    data = _serialize(obj)  # everything is checked before anything is written
    if hasattr(f, "write"):
        f.write(data)
        return
    with atomic_write(_fspath(f), "wb") as fh:
        fh.write(data)


def _serialize(obj) -> bytes:
    enc = _Encoder()
    tree = enc.encode(obj, ())
    text = json.dumps({"version": _FORMAT_VERSION, "tree": tree, "tensors": enc.records},
                      ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    metadata = {"format": "pt", _META_KEY: text, _META_CRC_KEY: str(zlib.crc32(text.encode()))}
    try:
        return safetensors.numpy.save(enc.arrays, metadata=metadata)
    except safetensors.SafetensorError as e:  # "header too large": > 100 MB of JSON
        raise ValueError(f"ember.save: cannot save obj: safetensors refused it ({e}); its "
                         f"non-tensor part takes {len(json.dumps(text)):,} bytes of the header, "
                         f"which holds at most {_MAX_HEADER:,}: store long lists of numbers as "
                         "tensors") from None


class _Encoder:
    """Walks the object: collects the arrays to store and returns the JSON description."""

    def __init__(self):
        self.arrays = {}      # tensor name -> C-contiguous ndarray, in saving order
        self.records = {}     # tensor name -> {"dtype", "shape", "crc32"}
        self._open = set()    # ids of the containers on the current path (cycle check)
        self._tensor_types = _tensor_types()

    def encode(self, obj, path):
        tensor_cls, parameter_cls = self._tensor_types
        if isinstance(obj, tensor_cls):
            if obj.is_sparse:  # as safetensors.torch: refused, never densified silently
                raise TypeError(f"{_format_path(path)}: cannot save a sparse tensor (safetensors "
                                "stores dense tensors only); save .to_dense(), or its "
                                "._indices() and ._values()")
            node = {"tensor": self._store(obj.detach().numpy(), path)}
            if obj.requires_grad:
                node["requires_grad"] = True
            if parameter_cls is not None and isinstance(obj, parameter_cls):
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray):
            self._check_numpy_dtype(obj, path)
            return {"ndarray": self._store(obj, path)}
        if isinstance(obj, np.generic) and not isinstance(obj, str):
            self._check_numpy_dtype(obj, path)
            value = obj.item()
            if isinstance(value, complex):
                return {"numpy": obj.dtype.name,
                        "value": [_encode_float(value.real), _encode_float(value.imag)]}
            return {"numpy": obj.dtype.name, "value": _encode_float(value)}
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, int):
            if obj.bit_length() > _MAX_DECIMAL_BITS:
                return {"int": hex(obj)}
            return int(obj)
        if isinstance(obj, float):
            return _encode_float(float(obj))
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._open:
                raise ValueError(f"{_format_path(path)}: cannot save a circular reference "
                                 "(the object contains itself)")
            if len(self._open) >= _MAX_DEPTH:
                raise ValueError(f"{_format_path(path)}: cannot save containers nested more "
                                 f"than {_MAX_DEPTH} deep")
            self._open.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = [[self._encode_key(k, path), self.encode(v, path + (k,))]
                             for k, v in obj.items()]
                    kind = ("odict" if isinstance(obj, OrderedDict) else
                            "counter" if isinstance(obj, Counter) else "dict")
                    return {kind: items}
                elements = [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
                return elements if isinstance(obj, list) else {"tuple": elements}
            finally:
                self._open.discard(id(obj))
        raise TypeError(
            f"{_format_path(path)}: cannot save object of type {_type_name(obj)}; ember.save "
            "stores tensors, NumPy arrays, int, float, bool, None, str and dicts, lists and "
            "tuples of them")

    def _encode_key(self, key, path):
        if key is None or isinstance(key, (bool, str, int, float, np.number, np.bool_)):
            return self.encode(key, path)  # NumPy scalars stay NumPy scalars, as values do
        if isinstance(key, tuple):
            return {"tuple": [self._encode_key(k, path) for k in key]}
        raise TypeError(
            f"{_format_path(path)}: cannot save a dict key of type {_type_name(key)} "
            f"({reprlib.repr(key)}); keys must be str, int, float, bool, None, NumPy numbers "
            "or tuples of them")

    def _check_numpy_dtype(self, arr, path):
        if arr.dtype.name not in _NUMPY_DTYPES or not arr.dtype.isnative:
            raise TypeError(f"{_format_path(path)}: cannot save NumPy data of dtype "
                            f"{arr.dtype}; supported: {', '.join(sorted(_NUMPY_DTYPES))}")

    def _store(self, arr, path) -> str:
        if not arr.flags.c_contiguous:  # safetensors reads the raw buffer: row-major only
            arr = arr.copy(order="C")
        name = self._unique_name(path)
        stored = arr
        if arr.dtype.name in _PAIRED:
            stored = arr.reshape(-1).view(_PAIRED[arr.dtype.name]).reshape(arr.shape + (2,))
        self.arrays[name] = stored
        self.records[name] = {"dtype": arr.dtype.name, "shape": list(arr.shape),
                              "crc32": zlib.crc32(stored)}
        return name

    def _unique_name(self, path) -> str:
        name = ".".join(str(k) for k in path) if path else "tensor"
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the header must be valid UTF-8
            name = "tensor"
        if name not in self.arrays and name != "__metadata__":
            return name
        i = 1
        while f"{name}#{i}" in self.arrays:
            i += 1
        return f"{name}#{i}"


def _encode_float(x):
    if isinstance(x, float) and not math.isfinite(x):
        return {"float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
    return x


def _tensor_types():
    from ._tensor import Tensor

    try:
        from .nn.parameter import Parameter
    except ImportError:  # ember.nn not importable: no Parameter to mark
        Parameter = None  # noqa: N806
    return Tensor, Parameter


def _format_path(path) -> str:
    return "obj" + "".join(
        f"[{json.dumps(k, ensure_ascii=False) if isinstance(k, str) else repr(k)}]"
        for k in path)


def _type_name(obj) -> str:
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _fspath(f):
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(f"f must be a path (str or os.PathLike) or a binary file object, "
                        f"not {_type_name(f)}") from None


# --- loading --------------------------------------------------------------------------------

def load(f, map_location=None, *, weights_only=True, mmap=None):
    """Load an object saved by :func:`save`, or any safetensors file, with ember tensors.

    Loading reads the file, checks it completely, then builds the object: a damaged file
    raises and never yields a partial object. No code from the file is executed.

    Args:
        f: a path (``str`` or path-like) or a binary file object opened for reading.
        map_location: ``None``, ``"cpu"``, a CPU ``device``, or a dict mapping device names
            to ``"cpu"``: every tensor loads on the CPU, ember's only device. A callable is
            called as torch calls it, ``fn(storage, "cpu")``, with each tensor as the storage;
            what it returns (if a tensor) is loaded instead. Another device raises
            RuntimeError.
        weights_only: accepted for compatibility with ``torch.load``. ember never unpickles,
            so both values load the same restricted set of objects; ``False`` does not
            enable loading pickles.
        mmap: accepted for compatibility; ``True`` raises NotImplementedError.

    Returns:
        The saved object. A plain safetensors file (not written by ember) gives a ``dict``
        of tensor name -> Tensor in the file's order.

    Raises:
        FileNotFoundError: ``f`` does not exist.
        RuntimeError: naming the file and the problem, when it is empty, truncated,
            corrupt (checksum mismatch, malformed header or description), not a
            safetensors file (e.g. a pickle / zip checkpoint written by ``torch.save``),
            written by a newer ember, or holds a tensor dtype ember lacks (e.g. bfloat16).
    """
    _check_map_location(map_location)
    if mmap:
        raise NotImplementedError("ember.load: mmap=True is not supported; the file is read "
                                  "into memory")
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"ember.load: {name} must be opened in binary mode ('rb')")
        data = bytes(data)
    else:
        path = _fspath(f)
        name = os.fsdecode(path)
        with open(path, "rb") as fh:
            data = fh.read()
    return _deserialize(data, name, map_location if callable(map_location) else None)


class _FormatError(Exception):
    """Raised inside the loader; load() turns it into a RuntimeError naming the file."""


def _deserialize(data: bytes, name: str, map_fn=None):
    try:
        return _parse(data, map_fn)
    except _FormatError as e:
        raise RuntimeError(f"ember.load: cannot load {name!r}: {e}") from None
    except RecursionError:  # from json or the decoder: only a crafted file nests this deep
        raise RuntimeError(f"ember.load: cannot load {name!r}: corrupt file (its header or "
                           "description is nested too deeply)") from None


def _parse(data: bytes, map_fn=None):
    header = _read_header(data)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise _FormatError("corrupt safetensors header (__metadata__ is not a JSON object)")
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    # Either key marks an ember file: a damaged key must not turn it into a plain file.
    is_ember = _META_KEY in meta or _META_CRC_KEY in meta
    allowed = _SAFETENSORS_NUMPY if is_ember else _TENSOR_DTYPES
    for key, entry in entries:
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(dtype, str):
            raise _FormatError(f"corrupt safetensors header (bad entry for tensor {key!r})")
        if dtype not in allowed:
            raise _FormatError(f"tensor {key!r} has dtype {dtype}, which ember does not "
                               f"support (supported: {', '.join(_TENSOR_DTYPES)})")
    try:
        arrays = safetensors.numpy.load(data)
    except (safetensors.SafetensorError, ValueError, KeyError, TypeError) as e:
        raise _FormatError(f"corrupt or truncated safetensors file ({e})") from None
    arrays = {k: a if a.flags.writeable else a.copy() for k, a in arrays.items()}
    if not is_ember:  # a plain safetensors file, e.g. from safetensors.torch
        import ember

        return {key: _mapped(map_fn, ember.from_numpy(arrays[key])) for key, _ in entries}
    description = _read_description(meta)
    _unpair(arrays, description.get("tensors"))
    _verify_tensors(arrays, description.get("tensors"))
    decoder = _Decoder(arrays, map_fn)
    obj = decoder.decode(description.get("tree"))
    unused = [k for k in arrays if k not in decoder.used]
    if unused:
        raise _FormatError(f"tensor {unused[0]!r} is not part of the saved object (the file "
                           "was modified by another tool?)")
    return obj


def _read_header(data: bytes) -> dict:
    if not data:
        raise _FormatError("the file is empty")
    if len(data) < 8 or data[8:9] != b"{":
        raise _FormatError(_not_safetensors(data))
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        if n > _MAX_HEADER:
            raise _FormatError(_not_safetensors(data))
        raise _FormatError(f"the file is truncated: its header declares {n} bytes but only "
                           f"{len(data) - 8} follow")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise _FormatError(f"corrupt safetensors header (invalid JSON: {e})") from None
    if not isinstance(header, dict):
        raise _FormatError("corrupt safetensors header (not a JSON object)")
    return header


def _not_safetensors(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        kind = "a zip archive, the format of torch.save"
    elif data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        kind = "a pickle (legacy torch.save or pickle.dump)"
    else:
        return (f"not a safetensors file (it is {len(data)} bytes and does not start with a "
                "safetensors header); it may be truncated or of another format")
    return (f"this is {kind}, not a safetensors file. ember.load reads only safetensors "
            "files and never unpickles, because unpickling can run arbitrary code. Convert a "
            "state dict in torch with safetensors.torch.save_file(torch.load(path, "
            "weights_only=True), 'model.safetensors')")


def _read_description(meta: dict) -> dict:
    text = meta.get(_META_KEY)
    if not isinstance(text, str) or (
            meta.get(_META_CRC_KEY) != str(zlib.crc32(text.encode("utf-8", "surrogatepass")))):
        raise _FormatError("corrupt ember description (checksum mismatch)")
    try:
        description = json.loads(text)
    except ValueError as e:
        raise _FormatError(f"corrupt ember description (invalid JSON: {e})") from None
    if not isinstance(description, dict) or not isinstance(description.get("version"), int):
        raise _FormatError("corrupt ember description (no format version)")
    if description["version"] > _FORMAT_VERSION:
        raise _FormatError(f"written by a newer ember (format version {description['version']}"
                           f"; this ember reads version {_FORMAT_VERSION} and older)")
    return description


def _unpair(arrays: dict, records) -> None:
    """complex128 tensors back from their stored float64 pairs (see ``_PAIRED``); anything
    that does not fit is left for ``_verify_tensors`` to report."""
    if not isinstance(records, dict):
        return
    for key, rec in records.items():
        arr = arrays.get(key)
        if (not isinstance(rec, dict) or not isinstance(rec.get("dtype"), str)
                or rec["dtype"] not in _PAIRED or arr is None):
            continue
        shape = rec.get("shape")
        if (arr.dtype == _PAIRED[rec["dtype"]] and isinstance(shape, list)
                and list(arr.shape) == shape + [2]):
            arr = np.ascontiguousarray(arr).reshape(-1).view(rec["dtype"])
            arrays[key] = arr.reshape(tuple(shape))


def _verify_tensors(arrays: dict, records) -> None:
    if not isinstance(records, dict):
        raise _FormatError("corrupt ember description (no tensor records)")
    for key in arrays:
        if key not in records:
            raise _FormatError(f"tensor {key!r} is not part of the saved object (the file "
                               "was modified by another tool?)")
    for key, rec in records.items():
        arr = arrays.get(key)
        if arr is None:
            raise _FormatError(f"tensor {key!r} is missing")
        if not isinstance(rec, dict):
            raise _FormatError(f"corrupt ember description (bad record for tensor {key!r})")
        if rec.get("dtype") != arr.dtype.name or rec.get("shape") != list(arr.shape):
            raise _FormatError(f"tensor {key!r} has dtype {arr.dtype.name} and shape "
                               f"{list(arr.shape)} but was saved as {rec.get('dtype')} "
                               f"{rec.get('shape')} (the file is corrupt or was modified)")
        if rec.get("crc32") != zlib.crc32(arr):
            raise _FormatError(f"tensor {key!r} is corrupt: its data does not match the "
                               "checksum recorded when it was saved")


class _Decoder:
    """Turns the JSON description back into objects, with the file's arrays as tensors."""

    _NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

    def __init__(self, arrays, map_fn=None):
        self.arrays, self.map_fn = arrays, map_fn
        self.used = set()
        self._tensor_cls, self._parameter_cls = _tensor_types()

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            out = []  # a loop, not a comprehension: one frame per level
            for v in node:
                out.append(self.decode(v))
            return out
        if not isinstance(node, dict) or not node:
            raise _FormatError(f"corrupt ember description (unexpected {reprlib.repr(node)})")
        if "tensor" in node:
            return self._tensor(node)
        if "ndarray" in node:
            return self._array(node["ndarray"])
        if "numpy" in node:
            dtype, value = node["numpy"], self.decode(node.get("value"))
            if not isinstance(dtype, str) or dtype not in _NUMPY_DTYPES:
                raise _FormatError(f"corrupt ember description (bad NumPy scalar {node})")
            if (np.dtype(dtype).kind == "c" and isinstance(value, list) and len(value) == 2
                    and all(isinstance(v, (int, float)) for v in value)):
                value = complex(*value)
            elif not isinstance(value, (bool, int, float)):
                raise _FormatError(f"corrupt ember description (bad NumPy scalar {node})")
            try:
                return np.dtype(dtype).type(value)
            except (OverflowError, ValueError, TypeError):  # e.g. np.int8(1000)
                raise _FormatError(f"corrupt ember description (bad NumPy scalar "
                                   f"{node})") from None
        if "float" in node:
            if not isinstance(node["float"], str) or node["float"] not in self._NONFINITE:
                raise _FormatError(f"corrupt ember description (bad float {node})")
            return self._NONFINITE[node["float"]]
        if "tuple" in node:
            return tuple(self.decode(self._sequence(node["tuple"])))
        if "int" in node:
            if not isinstance(node["int"], str):
                raise _FormatError(f"corrupt ember description (bad int {reprlib.repr(node)})")
            try:
                return int(node["int"], 16)
            except ValueError:
                raise _FormatError(f"corrupt ember description (bad int "
                                   f"{reprlib.repr(node)})") from None
        kind = next((k for k in ("dict", "odict", "counter") if k in node), None)
        if kind is None:
            raise _FormatError(f"corrupt ember description (unknown node {reprlib.repr(node)})")
        out = {"dict": dict, "odict": OrderedDict, "counter": Counter}[kind]()
        for item in self._sequence(node[kind]):
            if not isinstance(item, list) or len(item) != 2:
                raise _FormatError("corrupt ember description (bad dict item)")
            key, value = self.decode(item[0]), self.decode(item[1])
            try:
                out[key] = value
            except TypeError:  # an unhashable key
                raise _FormatError(f"corrupt ember description (bad dict key {key!r})") from None
        return out

    def _sequence(self, value):
        if not isinstance(value, list):
            raise _FormatError("corrupt ember description (expected a JSON array)")
        return value

    def _array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise _FormatError(f"tensor {key!r} is missing")
        self.used.add(key)
        return self.arrays[key]

    def _tensor(self, node):
        arr = self._array(node["tensor"])
        if arr.dtype.name not in _TENSOR_DTYPE_NAMES:
            raise _FormatError(f"tensor {node['tensor']!r} has dtype {arr.dtype.name}, which "
                               "ember does not support")
        requires_grad = node.get("requires_grad", False) is True
        if requires_grad and arr.dtype.kind not in "fc":
            raise _FormatError(f"corrupt ember description (integer tensor "
                               f"{node['tensor']!r} marked as requiring grad)")
        import ember

        t = _mapped(self.map_fn, ember.from_numpy(arr))
        if node.get("parameter") is True and self._parameter_cls is not None:
            return self._parameter_cls(t, requires_grad=requires_grad)
        if requires_grad:
            t.requires_grad_(True)
        return t


def _mapped(map_fn, t):
    """``map_fn(t, "cpu")`` when it gives a tensor (torch's callable map_location), else t."""
    if map_fn is None:
        return t
    out = map_fn(t, "cpu")
    return out if isinstance(out, type(t)) else t


def _check_map_location(map_location) -> None:
    if map_location is None:
        return
    if isinstance(map_location, dict):
        for target in map_location.values():
            _check_map_location(target)
        return
    if callable(map_location) and not hasattr(map_location, "type"):
        return
    kind = getattr(map_location, "type", None)
    if kind is None:
        kind = str(map_location).partition(":")[0]
    if kind != "cpu":
        raise RuntimeError(f"ember.load: map_location={map_location!r}: ember tensors live on "
                           "the CPU only; use map_location='cpu' or None")
