"""``ember.from_file``: a 1-D tensor over the raw bytes of a file, memory-mapped as torch maps it
(``shared=True``: writes reach the file; otherwise a private copy-on-write mapping)."""
from __future__ import annotations

import errno
import os

import numpy as np


def _type_error(arg: str, want: str, value, pos: int | None = None) -> TypeError:
    where = f" (position {pos})" if pos else ""
    return TypeError(f"from_file(): argument '{arg}'{where} must be {want}, not "
                     f"{type(value).__name__}")


def _map(filename: str, shared: bool, nbytes: int, np_dtype, size: int) -> np.ndarray:
    """The file's first ``size`` items: a shared (``r+``) or private (``c``) NumPy memmap."""
    if not shared:
        if not os.path.exists(filename):
            raise RuntimeError(f"unable to open file <{filename}> in read-only mode: "
                               f"{os.strerror(errno.ENOENT)} ({errno.ENOENT})")
        if os.path.isfile(filename) and os.path.getsize(filename) < nbytes:
            raise RuntimeError(f"file <{filename}> size <{os.path.getsize(filename)}> is smaller "
                               f"than the required mapping size <{nbytes}>")
    elif not os.path.exists(filename):
        open(filename, "wb").close()  # torch creates the file, then grows it to the mapping
    try:
        # "r+" grows a short file to the mapping's size, as torch's shared mapping does
        mapped = np.memmap(filename, dtype=np_dtype, mode="r+" if shared else "c",
                           shape=(size,))
    except OSError as e:
        code = e.errno or errno.ENODEV
        raise RuntimeError(f"unable to mmap {nbytes} bytes from file <{filename}>: "
                           f"{os.strerror(code)} ({code})") from None
    return np.asarray(mapped)  # a plain ndarray over the same memory


def from_file(filename, shared: bool | None = None, size: int = 0, *, dtype=None, layout=None,
              device=None, pin_memory: bool = False, requires_grad: bool = False):
    """A 1-D CPU tensor of ``size`` items read from the bytes of ``filename`` (``torch.from_file``).

    Args:
        filename: the file to map (``str`` or ``bytes``).
        shared: True maps it shared: writes to the tensor reach the file, which is created
            and grown as needed. False or None: a private copy-on-write mapping, and the file
            must hold ``size * itemsize`` bytes.
        size: the number of items (0 maps nothing and needs no file).
        dtype: the items' dtype; the default dtype when None.
        layout: ``ember.strided`` or None.
        device: the CPU (or None).
        pin_memory: must be False, as in torch.
        requires_grad: whether the result records operations.

    Differs from PyTorch: ``bfloat16`` items are decoded into a copy (ember keeps bfloat16 in
    float32 arrays), so that mapping is never shared.

    Raises:
        RuntimeError: a missing or too small file, a negative size, ``pin_memory=True``.
        TypeError: arguments of the wrong type (torch's messages).
    """
    from . import _dtype
    from ._backend import check_device
    from ._tensor import _wrap

    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if not isinstance(filename, str):
        raise _type_error("filename", "str", filename, 1)
    if shared is not None and not isinstance(shared, bool):
        raise _type_error("shared", "bool", shared)
    if isinstance(size, bool) or not isinstance(size, int):
        raise _type_error("size", "int", size)
    check_device(device)
    if pin_memory:
        raise RuntimeError("tensors constructed from a file cannot be pinned")
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.convert(dtype)
    bf16 = dt.name == "bfloat16"
    np_dtype = np.dtype(np.uint16) if bf16 else _dtype.to_numpy(dt)
    nbytes = size * np_dtype.itemsize
    if size < 0:
        raise RuntimeError(f"unable to mmap {nbytes} bytes from file <{filename}>: "
                           f"{os.strerror(errno.ENOMEM)} ({errno.ENOMEM})")
    if size == 0:
        arr = np.empty(0, np_dtype)
    else:
        arr = _map(filename, bool(shared), nbytes, np_dtype, size)
    if bf16:  # a bfloat16 is the high half of a float32
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    result = _wrap(arr, requires_grad=bool(requires_grad))
    return result.to(dt) if bf16 else result
