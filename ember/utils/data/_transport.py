"""Moving batches from a worker process to the main process without needless copies.

A batch is pickled with protocol 5: the pickle stream itself is small (structure, dtypes,
shapes) and every contiguous array buffer is handed over *out of band*. The buffers then
travel one of two ways:

``"shm"``   (default) through a ring buffer in shared memory that the worker owns.
            ``default_collate`` in a worker builds the stacked arrays directly in the
            ring (``worker_empty``), so sending costs no copy; other buffers are copied in.
            Only a small header goes down the pipe. The main process then copies the
            batch out of the ring once, into memory of its own, and hands the space
            back at once; batches of ``_MAP_MIN`` bytes or more are not copied at all:
            the main process maps that stretch of the ring and builds the arrays on the
            shared pages, and hands it back when the last of them is garbage collected.
``"pipe"``  straight down the pipe after the header, written with ``os.writev`` from the
            arrays' own memory and read with ``os.readv`` into one fresh array.

Either way the main process gets ordinary, writable NumPy arrays (64-byte aligned) that
stay valid for as long as it keeps them. When a batch does not fit in the ring's free
space (the program holds on to many mapped batches), it goes down the pipe instead.
``benchmarks/bench_dataloader.py --part transport`` measures the two against each other.

Ring file layout: one page of control block (``int64[0]`` the tail: bytes handed back by
the main process; ``int64[1]``: 1 once the main process has opened and unlinked the file,
so that the worker need not unlink it itself), then ``size`` bytes of data.
"""
from __future__ import annotations

import collections
import io
import itertools
import mmap
import os
import pickle
import struct
import threading
import weakref

import numpy as np

_ALIGN = 64
_PAGE = mmap.ALLOCATIONGRANULARITY
_CTL = _PAGE  # the data starts one page in, so that batch mappings can start on a page
# Frame: pickle length, buffer count, ring path length, inline payload bytes, ring start,
# ring end (absolute byte counts); then the ring path, one _LOC per buffer, the pickle,
# and the inline payload.
_FRAME = struct.Struct("<IIIQQQ")
_LOC = struct.Struct("<QQ")  # offset (in the ring stretch or inline payload), bytes
_IN_RING = 1 << 63  # flag in a _LOC offset
_SHM_DIR = "/dev/shm"
_MIN_RING = 4 << 20
# Batches of at least _MAP_MIN bytes are mapped, not copied, in the main process. Mapping
# costs page-table work per 4 KiB page, which in a VM costs more than copying warm memory
# into a malloc'ed buffer up to tens of MB (measured: 256 KB map 70 us vs copy 18 us;
# 16 MB 2.1 ms vs 1.6 ms); from 32 MB on, malloc maps fresh pages for every copy anyway.
_MAP_MIN = 32 << 20
_MAX_LIVE = 64  # batches per worker that may map the ring at once before copying instead
_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux fcntl: grow a pipe's kernel buffer
_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
_counter = itertools.count()
_FENCE = threading.Lock()

DEFAULT = "shm" if os.path.isdir(_SHM_DIR) else "pipe"


def _aligned(n: int, to: int = _ALIGN) -> int:
    return (n + to - 1) & ~(to - 1)


def grow_pipe(fd: int) -> None:
    """Ask Linux for a 1 MiB pipe buffer (64 KiB by default); harmless where it fails."""
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, OSError):
        pass


def _rebuild_tensor(array, requires_grad):
    import ember

    t = ember.from_numpy(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


class _Pickler(pickle.Pickler):
    """Protocol-5 pickler that sends an ember Tensor as its array (out of band)."""

    tensor_type = None

    def reducer_override(self, obj):
        if type(obj) is self.tensor_type:
            rg = obj.requires_grad
            return _rebuild_tensor, ((obj.detach() if rg else obj).numpy(), rg)
        return NotImplemented


def dumps(obj):
    """``(pickle bytes, [contiguous memoryviews of the out-of-band buffers])``."""
    if _Pickler.tensor_type is None:
        import ember

        _Pickler.tensor_type = ember.Tensor
    buffers = []
    f = io.BytesIO()
    _Pickler(f, protocol=5, buffer_callback=buffers.append).dump(obj)
    return f.getvalue(), [b.raw() for b in buffers]


def _write_all(fd: int, parts) -> None:
    views = [memoryview(p).cast("B") for p in parts]
    views = [v for v in views if v.nbytes]
    while views:
        n = os.writev(fd, views[:1024])
        while n:
            if n >= views[0].nbytes:
                n -= views[0].nbytes
                views.pop(0)
            else:
                views[0] = views[0][n:]
                n = 0


def _read_into(fd: int, view) -> None:
    view = memoryview(view).cast("B")
    while view.nbytes:
        n = os.readv(fd, [view])
        if n == 0:
            raise EOFError("the worker closed its end of the pipe")
        view = view[n:]


# --- worker side -------------------------------------------------------------------------


class _Ring:
    """Worker side: a shared-memory file mapped once, written as a circular buffer.

    Each batch takes one stretch ``[start, end)`` (absolute byte counts, not wrapping
    round the end): first what ``alloc`` hands to the collate function, then the buffers
    ``finish`` copies in. The main process hands stretches back in order (``ctl[0]``).
    """

    def __init__(self, size: int):
        self.size = size
        self.path = os.path.join(_SHM_DIR, f"ember-dl-{os.getpid()}-{next(_counter)}")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, _CTL + size)
            self.mm = mmap.mmap(fd, _CTL + size)
        finally:
            os.close(fd)
        self.ctl = np.frombuffer(self.mm, np.int64, 2, 0)
        self.data = np.frombuffer(self.mm, np.uint8, size, _CTL)
        self.addr = self.data.__array_interface__["data"][0]
        self.head = 0  # bytes ever used (positions are head % size)
        self.start = None  # where the batch being built starts, once it has one

    def _reserve(self, nbytes: int):
        """Ring position for ``nbytes`` more of the current batch, or None (no room)."""
        n = _aligned(nbytes)
        tail = int(self.ctl[0])
        if self.start is None:
            head = _aligned(self.head, _PAGE)
            pos = head % self.size
            if pos + n > self.size:  # no room before the end: wrap to the start
                head += self.size - pos
                pos = 0
            if head + n - tail > self.size:
                return None
            self.start = head
        else:
            head = self.head
            pos = head % self.size
            if pos + n > self.size or head + n - tail > self.size:
                return None  # a batch's stretch never wraps
        self.head = head + n
        return pos

    def alloc(self, nbytes: int):
        """``nbytes`` of ring memory for the current batch (a uint8 array), or None."""
        pos = self._reserve(nbytes)
        return None if pos is None else self.data[pos:pos + nbytes]

    def finish(self, raws):
        """Close the current batch: ``(start, end, [offset from start or None per buffer])``.

        Buffers already in the batch's stretch (built there by ``alloc``) stay where they
        are; the others are copied in while there is room; None marks those left for the
        pipe. Returns None when nothing of the batch is in the ring.
        """
        placed = []
        lo = hi = 0
        if self.start is not None:  # the stretch alloc() has handed out for this batch
            lo = self.start % self.size
            hi = lo + self.head - self.start
        for r in raws:
            pos = -1
            if r.nbytes:
                pos = np.frombuffer(r, np.uint8).__array_interface__["data"][0] - self.addr
            if not lo <= pos < hi:
                pos = self._reserve(r.nbytes)
                if pos is not None:
                    self.data[pos:pos + r.nbytes] = np.frombuffer(r, np.uint8)
            placed.append(pos)
        start, self.start = self.start, None
        if start is None:
            return None
        base = start % self.size
        return start, self.head, [None if p is None else p - base for p in placed]

    def close(self):
        if not self.ctl[1]:  # the main process never opened it: remove the name ourselves
            try:
                os.unlink(self.path)
            except OSError:
                pass
        del self.ctl, self.data
        try:
            self.mm.close()
        except BufferError:  # a batch built here is still referenced: unmapped at exit
            pass


def remove_orphans(pids) -> None:
    """Unlink rings that exited workers created but the main process never opened."""
    if not pids or not os.path.isdir(_SHM_DIR):
        return
    prefixes = tuple(f"ember-dl-{pid}-" for pid in pids)
    try:
        names = [n for n in os.listdir(_SHM_DIR) if n.startswith(prefixes)]
    except OSError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(_SHM_DIR, name))
        except OSError:
            pass


# The worker's Sender while it fetches a batch (None in the main process): default_collate
# asks it for the batch's memory, so that the stacked arrays are built in the ring.
active = None


def worker_empty(shape, dtype):
    """An uninitialised array in the worker's shared-memory ring, or None.

    None in the main process, with the pipe transport, or when the ring has no room:
    the caller then allocates ordinary memory (and the batch is copied when sent).
    """
    sender = active
    if sender is None or sender.mode != "shm":
        return None
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d
    if not nbytes:
        return None
    ring = sender.ring_for_alloc(nbytes)
    buf = ring.alloc(nbytes) if ring is not None else None
    return None if buf is None else buf.view(dtype).reshape(shape)


class Sender:
    """Worker side of one worker's result channel.

    Args:
        fd: the write end of the worker's result pipe.
        mode: ``"shm"`` or ``"pipe"``.
        ring_bytes: the ring's minimum size.
        slots: batches the ring should hold at once (it grows to fit).
    """

    def __init__(self, fd: int, mode: str = DEFAULT, ring_bytes: int = _MIN_RING,
                 slots: int = 4):
        self.fd = fd
        self.mode = mode
        self.ring_bytes = ring_bytes
        self.slots = slots
        self.ring = None
        self.old_rings = []
        self.batch_bytes = 0  # the largest batch seen, to size the ring

    def _new_ring(self, need: int):
        for old in [r for r in self.old_rings if int(r.ctl[0]) >= r.head]:
            old.close()  # all handed back by the main process: give the memory back
            self.old_rings.remove(old)
        size = max(self.ring_bytes, _aligned(need, _PAGE) * self.slots)
        try:
            ring = _Ring(size)
        except OSError:  # /dev/shm full or missing: use the pipe from now on
            self.mode = "pipe"
            return None
        if self.ring is not None:
            self.old_rings.append(self.ring)  # its batches may still be in use
        self.ring = ring
        return ring

    def ring_for_alloc(self, nbytes: int):
        """The ring the collate function may allocate ``nbytes`` in (new or grown if need be)."""
        ring = self.ring
        if ring is not None and ring.start is not None:
            return ring  # the batch has started here: it stays in this ring
        need = max(nbytes, self.batch_bytes)
        if ring is None or need * self.slots > ring.size:
            ring = self._new_ring(need)
        return ring

    def send(self, obj) -> None:
        """Pickle ``obj`` and send it; nothing is written unless pickling succeeded."""
        try:
            head, raws = dumps(obj)
        except BaseException:
            if self.ring is not None:
                self.ring.start = None  # give up this batch's reservations
            raise
        path = b""
        start = end = 0
        locs = []
        inline = []
        inline_bytes = 0
        if not (raws and self.mode == "shm"):
            if self.ring is not None:
                self.ring.start = None  # reservations nothing refers to: skip them
        else:
            total = sum(_aligned(r.nbytes) for r in raws)
            self.batch_bytes = max(self.batch_bytes, total)
            ring = self.ring
            if ring is None or (ring.start is None and total * self.slots > ring.size):
                ring = self._new_ring(total)
            placed = ring.finish(raws) if ring is not None else None
            if placed is not None:
                start, end, offsets = placed
                path = ring.path.encode()
                rest = []
                for r, off in zip(raws, offsets):
                    if off is None:
                        rest.append(r)
                        locs.append(None)
                    else:
                        locs.append(_LOC.pack(off | _IN_RING, r.nbytes))
                raws = rest
        slots = iter([i for i, loc in enumerate(locs) if loc is None]) if locs else None
        for r in raws:
            pad = _aligned(inline_bytes) - inline_bytes
            if pad:
                inline.append(bytes(pad))
                inline_bytes += pad
            loc = _LOC.pack(inline_bytes, r.nbytes)
            if slots is None:
                locs.append(loc)
            else:
                locs[next(slots)] = loc
            inline.append(r)
            inline_bytes += r.nbytes
        frame = _FRAME.pack(len(head), len(locs), len(path), inline_bytes, start, end)
        _write_all(self.fd, [frame + path + b"".join(locs) + head, *inline])

    def close(self) -> None:
        """Unmap the rings (and unlink any the main process never opened)."""
        for ring in self.old_rings + ([self.ring] if self.ring is not None else []):
            try:
                ring.close()
            except Exception:
                pass
        self.ring, self.old_rings = None, []


# --- main-process side ---------------------------------------------------------------------


class _MappedRing:
    """Main-process side of one worker's ring: maps batches, hands space back in order.

    A batch's stretch is handed back as soon as the last array viewing it is garbage
    collected (a finalizer on its mapping), in ring order: the tail only moves past
    stretches whose batches are all gone.
    """

    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size - _CTL
        self.ctl_mm = mmap.mmap(self.fd, _CTL)
        # Unlink at once: the memory lives while anyone maps it, and no name can leak.
        try:
            os.unlink(path)
        except OSError:
            pass
        self.ctl = np.frombuffer(self.ctl_mm, np.int64, 2, 0)
        self.ctl[1] = 1
        self.data_mm = mmap.mmap(self.fd, _CTL + self.size)  # for copying small batches out
        self.data = np.frombuffer(self.data_mm, np.uint8, self.size, _CTL)
        self.pending = collections.deque()  # [end, done] per batch, in ring order
        self.freed = collections.deque()  # entries whose mapping died (from finalizers)
        self.live = 0
        self.closed = False
        # Finalizers run wherever the last reference to a batch goes, possibly while this
        # ring is being updated (or in another thread): they only try the lock.
        self.lock = threading.Lock()

    def _on_free(self, entry) -> None:
        self.freed.append(entry)
        if self.lock.acquire(blocking=False):
            try:
                self._advance()
            finally:
                self.lock.release()

    def map(self, start: int, end: int):
        """Map the stretch ``[start, end)``; it is handed back when the mapping dies."""
        pos = start % self.size
        mm = mmap.mmap(self.fd, end - start, flags=_MAP_FLAGS, offset=_CTL + pos)
        entry = [end, False]
        with self.lock:
            self.pending.append(entry)
            self.live += 1
        weakref.finalize(mm, self._on_free, entry)
        return mm

    def copy(self, start: int, end: int, locs):
        """Copy the buffers of ``[start, end)`` out and hand the stretch back at once."""
        pos = start % self.size
        out = np.empty(end - start, np.uint8)
        src = self.data
        bufs = []
        for off, n in locs:
            dst = out[off:off + n]
            dst[...] = src[pos + off:pos + off + n]
            bufs.append(dst)
        with self.lock:
            self.pending.append([end, True])
            self._advance()
        return bufs

    def advance(self) -> None:
        """Hand back every stretch at the front of the ring whose batch is gone."""
        with self.lock:
            self._advance()

    def _advance(self) -> None:
        while self.freed:
            entry = self.freed.popleft()
            entry[1] = True
            self.live -= 1
        tail = None
        while self.pending and self.pending[0][1]:
            tail = self.pending.popleft()[0]
        if tail is not None and not self.closed:
            with _FENCE:  # NOTE: a full memory barrier: reads of the batch are done
                pass      # before the worker can see its space as free
            self.ctl[0] = tail

    def close(self) -> None:
        """Close the control mapping and the file (batch mappings stay valid)."""
        with self.lock:
            self.closed = True
            del self.ctl, self.data
            for mm in (self.ctl_mm, self.data_mm):
                try:
                    mm.close()
                except BufferError:
                    pass
            os.close(self.fd)


class Receiver:
    """Main-process side of one worker's result channel.

    Reads ahead into a small buffer, so that a frame and its pickle usually cost one
    ``read``; check :meth:`pending` before polling the pipe (buffered bytes do not make
    the pipe readable).
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.ring = None
        self.old_rings = []  # rings the worker has moved on from, while batches map them
        self.buf = b""
        self.pos = 0

    def pending(self) -> bool:
        """Whether read-ahead bytes of a message are waiting in the buffer."""
        return self.pos < len(self.buf)

    def _take(self, n: int) -> bytes:
        pos, buf = self.pos, self.buf
        if len(buf) - pos < n:
            parts = [buf[pos:]]
            have = len(buf) - pos
            while have < n:
                chunk = os.read(self.fd, max(65536, n - have))
                if not chunk:
                    raise EOFError("the worker closed its end of the pipe")
                parts.append(chunk)
                have += len(chunk)
            buf, pos = b"".join(parts), 0
        self.buf, self.pos = buf, pos + n
        return buf[pos:pos + n]

    def _take_into(self, view) -> None:
        view = memoryview(view).cast("B")
        k = min(len(self.buf) - self.pos, view.nbytes)
        if k:
            view[:k] = self.buf[self.pos:self.pos + k]
            self.pos += k
        if k < view.nbytes:
            _read_into(self.fd, view[k:])

    def recv(self):
        """Read one message; raises EOFError if the worker's end is closed."""
        head_len, nbufs, path_len, inline_bytes, start, end = _FRAME.unpack(
            self._take(_FRAME.size))
        rest = self._take(path_len + nbufs * _LOC.size + head_len)
        locs = list(_LOC.iter_unpack(rest[path_len:path_len + nbufs * _LOC.size]))
        head = rest[path_len + nbufs * _LOC.size:]
        inline = None
        if inline_bytes:
            inline = np.empty(inline_bytes, np.uint8)
            self._take_into(inline)
        if not path_len:
            return pickle.loads(head, buffers=[inline[off:off + n] for off, n in locs])
        ring = self._ring(rest[:path_len].decode())
        ring.advance()
        in_ring = [(off ^ _IN_RING, n) for off, n in locs if off & _IN_RING]
        if end - start >= _MAP_MIN and ring.live < _MAX_LIVE:
            region = np.frombuffer(ring.map(start, end), np.uint8)
            ring_bufs = iter([region[off:off + n] for off, n in in_ring])
        else:  # the program holds many batches: copy, so that the ring does not fill up
            ring_bufs = iter(ring.copy(start, end, in_ring))
        buffers = [next(ring_bufs) if off & _IN_RING else inline[off:off + n]
                   for off, n in locs]
        return pickle.loads(head, buffers=buffers)

    def _ring(self, path: str) -> _MappedRing:
        ring = self.ring
        if ring is None or ring.path != path:
            # A worker only moves on to a new (larger) ring, and messages arrive in order:
            # the old ring gets nothing more, but its batches may still be mapped.
            if ring is not None:
                self.old_rings.append(ring)
            ring = self.ring = _MappedRing(path)
        for old in list(self.old_rings):
            old.advance()
            if not old.pending:
                old.close()
                self.old_rings.remove(old)
        return ring

    def close(self) -> None:
        """Close the rings' files (batches already delivered stay valid)."""
        for ring in self.old_rings + ([self.ring] if self.ring is not None else []):
            ring.close()
        self.ring, self.old_rings = None, []
        self.buf, self.pos = b"", 0
