"""The worker -> main transport: shared-memory ring and pickle-5 pipe, both ways round."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import ember
from ember.utils.data import _transport

MODES = ["pipe"] + (["shm"] if os.path.isdir("/dev/shm") else [])


@pytest.fixture
def channel():
    r, w = os.pipe()
    _transport.grow_pipe(w)
    yield r, w
    os.close(r)
    os.close(w)


def _roundtrip(sender, receiver, objs):
    """Send ``objs`` from a thread (a big message would fill the pipe) and receive them."""
    errors = []

    def send():
        try:
            for o in objs:
                sender.send(o)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=send)
    t.start()
    out = [receiver.recv() for _ in objs]
    t.join()
    assert not errors
    return out


@pytest.mark.parametrize("mode", MODES)
def test_structures_and_dtypes_survive(channel, mode):
    r, w = channel
    sender, receiver = _transport.Sender(w, mode=mode), _transport.Receiver(r)
    arrays = {str(d): np.arange(6).astype(d).reshape(2, 3) for d in
              (np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8,
               np.bool_)}
    obj = {
        "tensors": {k: ember.from_numpy(v) for k, v in arrays.items()},
        "scalar": ember.tensor(3.5),
        "strided": np.arange(20)[::3],
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "text": ["a", "b"],
        "none": None,
        "grad": ember.ones(2, requires_grad=True),
    }
    (got,) = _roundtrip(sender, receiver, [obj])
    for k, v in arrays.items():
        t = got["tensors"][k]
        assert isinstance(t, ember.Tensor) and np.array_equal(t.numpy(), v)
        assert t.numpy().flags.writeable
    assert got["scalar"].item() == 3.5
    assert np.array_equal(got["strided"], np.arange(20)[::3])
    assert np.array_equal(got["fortran"], np.arange(12.0).reshape(3, 4))
    assert got["text"] == ["a", "b"] and got["none"] is None
    assert got["grad"].requires_grad
    sender.close()
    receiver.close()


@pytest.mark.parametrize("mode", MODES)
def test_many_messages_wrap_around_the_ring(channel, mode):
    r, w = channel
    sender = _transport.Sender(w, mode=mode, ring_bytes=1 << 16)
    receiver = _transport.Receiver(r)
    objs = [np.full(3000, i, dtype=np.int64) for i in range(40)]  # 24 KB each, 64 KB ring
    got = _roundtrip(sender, receiver, objs)
    assert all(np.array_equal(a, b) for a, b in zip(got, objs))
    sender.close()
    receiver.close()


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
def test_ring_grows_for_big_batches_and_leaves_no_files(channel):
    r, w = channel
    before = {n for n in os.listdir("/dev/shm") if n.startswith("ember-dl-")}
    sender = _transport.Sender(w, mode="shm", ring_bytes=1 << 16, slots=2)
    receiver = _transport.Receiver(r)
    objs = [np.ones(1000), np.ones(200_000), np.ones(10), np.ones(500_000)]
    got = _roundtrip(sender, receiver, objs)
    assert [len(g) for g in got] == [1000, 200_000, 10, 500_000]
    assert sender.ring.size >= 2 * 8 * 500_000
    now = {n for n in os.listdir("/dev/shm") if n.startswith("ember-dl-")}
    assert now <= before  # the main side unlinks each ring as soon as it maps it
    sender.close()
    receiver.close()


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
def test_full_ring_falls_back_to_the_pipe(channel):
    r, w = channel
    sender = _transport.Sender(w, mode="shm", ring_bytes=1 << 16, slots=1)
    receiver = _transport.Receiver(r)
    for i in range(6):  # 6 x 24 KB without reading: the ring (64 KB) fills up
        sender.send(np.full(3000, i, dtype=np.int64))
    got = [receiver.recv() for _ in range(6)]
    assert [int(g[0]) for g in got] == list(range(6))
    sender.close()
    receiver.close()


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
def test_unread_ring_is_unlinked_by_its_owner(channel):
    r, w = channel
    sender = _transport.Sender(w, mode="shm")
    sender.send(np.ones(10))
    path = sender.ring.path
    assert os.path.exists(path)
    sender.close()  # the main process never mapped it
    assert not os.path.exists(path)


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
def test_remove_orphans_unlinks_by_pid():
    path = f"/dev/shm/ember-dl-{2**22 + 12345}-0"
    with open(path, "wb") as f:
        f.write(b"x")
    _transport.remove_orphans([2**22 + 12345])
    assert not os.path.exists(path)


def test_eof_when_the_sender_is_gone():
    r, w = os.pipe()
    os.close(w)
    with pytest.raises(EOFError):
        _transport.Receiver(r).recv()
    os.close(r)


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
@pytest.mark.parametrize("map_min", [0, 1 << 40], ids=["mapped", "copied"])
def test_batches_on_the_ring_stay_valid_while_held(channel, monkeypatch, map_min):
    monkeypatch.setattr(_transport, "_MAP_MIN", map_min)
    r, w = channel
    sender = _transport.Sender(w, mode="shm", ring_bytes=1 << 16, slots=1)
    receiver = _transport.Receiver(r)
    kept = []
    for i in range(60):  # 16 KB each through a 64 KB ring: it wraps many times
        sender.send(np.full(2000, i, dtype=np.int64))
        a = receiver.recv()
        if i % 7 == 0:
            kept.append((i, a))  # holding a batch holds its stretch of the ring
    assert receiver.ring.live <= len(kept) + 1
    for i, a in kept:
        assert (a == i).all()
    kept[0][1][0] = -1  # writable, and private to the main process until released
    assert kept[0][1][0] == -1
    sender.close()
    receiver.close()
    assert (kept[1][1] == 7).all()  # still valid after both sides closed the ring


@pytest.mark.skipif("shm" not in MODES, reason="needs /dev/shm")
def test_default_collate_builds_batches_in_the_ring(channel, monkeypatch):
    from ember.utils.data import default_collate

    r, w = channel
    sender, receiver = _transport.Sender(w, mode="shm"), _transport.Receiver(r)
    monkeypatch.setattr(_transport, "active", sender)  # as inside a worker
    copies = []
    real_reserve = _transport._Ring._reserve
    monkeypatch.setattr(_transport._Ring, "_reserve",
                        lambda self, n: copies.append(n) or real_reserve(self, n))
    for step in range(3):
        batch = default_collate([(np.full(100, i + step, np.int64), float(i)) for i in range(8)])
        x = batch[0].numpy()
        addr = x.__array_interface__["data"][0]
        assert sender.ring.addr <= addr < sender.ring.addr + sender.ring.size
        copies.clear()
        sender.send(batch)
        assert copies == [8 * 8]  # only the small float64 column is copied in at send
        got = receiver.recv()
        assert got[0].tolist() == [[i + step] * 100 for i in range(8)]
        assert got[1].tolist() == [float(i) for i in range(8)]
    sender.close()
    receiver.close()
