"""Atomic file writes: a temp file in the same folder, fsync, then rename."""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file next to ``path``; on success it replaces ``path`` atomically.

    A crash or KeyboardInterrupt inside the block leaves ``path`` untouched (the old
    version, or nothing) and removes the temporary file. As ``open(path, "w")`` does, a
    symlink is written through (the file it points to is replaced, the link kept) and an
    existing file keeps its permissions.
    """
    path = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            mode_bits = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:  # a new file: mkstemp makes 0600; give the mode open() would
            umask = os.umask(0)
            os.umask(umask)
            mode_bits = 0o666 & ~umask
        os.chmod(tmp, mode_bits)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
