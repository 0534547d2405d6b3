"""Seeded fuzzing of ``ember.save`` / ``ember.load`` (no torch needed).

Random nested checkpoints (see ``tests/_fuzz_checkpoints.py``) must come back bitwise, with
their container types, key order and key types; training resumed from a loaded checkpoint
must continue bit-identically; damaged files (truncated, flipped bytes, a cut or edited
JSON description, a missing path, a folder) must raise a clear error naming the file; and
a save that fails (an object it cannot store, planted anywhere, or an exception mid-write)
must leave the old file as it was and no temporary file behind; a save through a symlink
writes the file it points to and keeps its permissions, as torch.save does.

Sharing and ``requires_grad`` (decided here; torch.save differs on sharing, see the oracle
fuzzer): every loaded tensor owns its memory, so the same tensor saved twice, or two views
of one storage, load as independent tensors with equal values (torch.load restores the
sharing). ``requires_grad`` and ``nn.Parameter`` are kept and every loaded tensor is a
leaf without ``.grad``, as with torch.load (a non-leaf loads as a leaf that requires grad).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import struct
import time
import zlib

import numpy as np
import pytest
import safetensors.numpy

import ember
from ember import serialization
from tests import _fuzz_checkpoints as fz

SEEDS = range(8)


def saved(obj) -> bytes:
    """The bytes ``ember.save`` writes for ``obj``."""
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def tensors_in(obj):
    """Every tensor inside a loaded object, in order."""
    if isinstance(obj, ember.Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in tensors_in(v)]
    return []


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_random_checkpoint_round_trips_bitwise(tmp_path, seed):
    ckpt = fz.random_checkpoint(np.random.default_rng(seed))
    want = fz.expected(ckpt)
    ember.save(ckpt, tmp_path / "c.pt")
    got = ember.load(tmp_path / "c.pt")
    fz.assert_same(got, want)
    # a file object works as a path does, and what was loaded saves again the same
    # (not byte for byte: safetensors writes __metadata__'s keys in a random order)
    fz.assert_same(ember.load(io.BytesIO(saved(ckpt))), want)
    fz.assert_same(ember.load(io.BytesIO(saved(got))), want)
    # every loaded tensor owns its memory (sharing is not restored, unlike torch.load)
    arrays = [t.detach().numpy() for t in tensors_in(got)]
    for i, a in enumerate(arrays):
        assert a.flags.writeable and a.flags.c_contiguous
        assert not any(np.shares_memory(a, b) for b in arrays[i + 1:] if a.size and b.size)


def test_shared_tensors_load_independent_with_requires_grad_kept(tmp_path):
    base = ember.arange(12.0).reshape(3, 4).requires_grad_()
    p = ember.nn.Parameter(ember.ones(2))
    obj = {"a": base, "again": base, "row": base[1], "t": base.t(), "data": base.data,
           "p": p, "p_frozen": ember.nn.Parameter(ember.ones(2), requires_grad=False),
           "non_leaf": base * 2}
    (base.sum() + p.sum()).backward()
    ember.save(obj, tmp_path / "c.pt")
    got = ember.load(tmp_path / "c.pt")
    fz.assert_same(got, fz.expected(obj))
    assert [got[k].requires_grad for k in obj] == [True, True, True, True, False, True, False,
                                                   True]
    assert type(got["p"]) is ember.nn.Parameter and type(got["non_leaf"]) is ember.Tensor
    assert all(t.is_leaf and t.grad is None for t in got.values())
    with ember.no_grad():
        got["a"].zero_()
    assert got["again"].detach().numpy().sum() == 66 and got["row"].detach().numpy().sum() == 22


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
def test_training_resumes_bit_identically(tmp_path, kind):
    model, opt, sched = fz.make_training(0, kind)
    for step in range(3):
        fz.train_step(model, opt, sched, step)
    ember.save({"model": model.state_dict(), "optim": opt.state_dict(),
                "sched": sched.state_dict(), "rng": ember.get_rng_state(), "step": 3},
               tmp_path / "ckpt.pt")
    losses = [fz.train_step(model, opt, sched, step).item() for step in range(3, 7)]

    ckpt = ember.load(tmp_path / "ckpt.pt")
    fresh, fresh_opt, fresh_sched = fz.make_training(1, kind)  # other weights until loaded
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["optim"])
    fresh_sched.load_state_dict(ckpt["sched"])
    ember.set_rng_state(ckpt["rng"])  # Dropout draws the same masks
    assert [fz.train_step(fresh, fresh_opt, fresh_sched, step).item()
            for step in range(ckpt["step"], 7)] == losses
    fz.assert_same(fresh.state_dict(), model.state_dict())
    fz.assert_same(fresh_opt.state_dict(), opt.state_dict())
    assert fresh_sched.state_dict() == sched.state_dict()
    assert all(type(p) is ember.nn.Parameter and p.requires_grad for p in fresh.parameters())


def test_multisteplr_milestones_load_as_a_counter(tmp_path):
    # regression: a Counter loaded as a dict, and MultiStepLR.step(epoch) then failed
    p = ember.nn.Parameter(ember.ones(1))
    opt = ember.optim.SGD([p], lr=1.0)
    sched = ember.optim.lr_scheduler.MultiStepLR(opt, [2, 2, 5], gamma=0.5)
    ember.save(sched.state_dict(), tmp_path / "s.pt")
    state = ember.load(tmp_path / "s.pt")
    assert type(state["milestones"]) is type(sched.milestones)
    assert list(state["milestones"].items()) == [(2, 2), (5, 1)]
    fresh = ember.optim.lr_scheduler.MultiStepLR(ember.optim.SGD([p], lr=1.0), [9])
    fresh.load_state_dict(state)
    with pytest.warns(UserWarning):
        fresh.step(6)  # the closed form walks milestones.elements()
    assert fresh.get_last_lr() == [0.125]


def test_huge_ints_round_trip(tmp_path):
    # regression: ints beyond Python's 4300-digit str limit raised ValueError from json
    obj = {10**5000: [-(7**6000), 2**6643, 2**6644 - 1], "n": -(2**2001), "small": 2**2000}
    ember.save(obj, tmp_path / "c.pt")
    fz.assert_same(ember.load(tmp_path / "c.pt"), obj)


def test_numpy_scalar_dict_keys_round_trip(tmp_path):
    # regression: np.float64 keys saved (a float subclass) but np.int64 keys raised TypeError
    obj = {np.int64(3): "a", np.uint8(200): [1], np.float32(0.5): None, np.bool_(False): 2,
           (np.int16(-1), "x"): 3, np.float64(2.5): 4}
    ember.save(obj, tmp_path / "c.pt")
    got = ember.load(tmp_path / "c.pt")
    fz.assert_same(got, obj)
    assert [type(k) for k in got] == [type(k) for k in obj]


def _nest(kind, depth):
    obj = 1
    for _ in range(depth):
        obj = {"k": obj} if kind == "dict" else [obj] if kind == "list" else (obj,)
    return obj


@pytest.mark.parametrize("kind", ["dict", "list", "tuple"])
def test_nesting_200_deep_round_trips_and_deeper_is_refused(tmp_path, kind):
    # regression: nesting just under the recursion limit saved but did not load (json's
    # parser runs a few frames deeper at load time than its encoder at save time)
    ember.save(_nest(kind, 200), tmp_path / "c.pt")
    assert ember.load(tmp_path / "c.pt") == _nest(kind, 200)
    where = "obj" + ('["k"]' if kind == "dict" else "[0]") * 200
    with pytest.raises(ValueError, match=re.escape(f"{where}: cannot save containers nested "
                                                   "more than 200 deep")):
        ember.save(_nest(kind, 201), tmp_path / "c.pt")
    assert os.listdir(tmp_path) == ["c.pt"]


def test_nesting_200_deep_loads_from_a_deep_call_stack(tmp_path):
    obj = [_nest("dict", 199)]
    ember.save(obj, tmp_path / "c.pt")

    def load_at(depth):  # as when a loader runs under 200 frames of other code
        return ember.load(tmp_path / "c.pt") if depth == 0 else load_at(depth - 1)

    assert load_at(200) == obj


# --- damaged files ----------------------------------------------------------------------------

def _assert_load_fails_clearly(path, want=None):
    """Loading ``path`` raises RuntimeError naming it, fast; or (a harmless change, e.g. in
    the header's padding) gives exactly ``want``."""
    start = time.perf_counter()
    try:
        got = ember.load(path)
    except RuntimeError as e:
        assert str(e).startswith(f"ember.load: cannot load {str(path)!r}: "), str(e)
    else:
        assert want is not None, f"{path.name} loaded"
        fz.assert_same(got, want)
    assert time.perf_counter() - start < 2.0


def _header(data):
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8:8 + n])


def _with_description(data, text, fix_crc=True):
    """The file with its JSON description replaced (the checksum updated or not)."""
    meta = dict(_header(data)[1]["__metadata__"], ember=text)
    if fix_crc:
        meta["ember.crc32"] = str(zlib.crc32(text.encode("utf-8", "surrogatepass")))
    return safetensors.numpy.save(safetensors.numpy.load(data), metadata=meta)


@pytest.mark.parametrize("seed", SEEDS)
def test_truncated_files_raise(tmp_path, seed):
    rng = np.random.default_rng(seed)
    data = saved(fz.random_checkpoint(rng))
    n = _header(data)[0]
    cuts = {0, 1, 7, 8, 9, 8 + n - 1, 8 + n, 8 + n + 1, len(data) - 1}
    cuts |= {int(c) for c in rng.integers(0, len(data), 12)}
    path = tmp_path / "cut.pt"
    for cut in sorted(cuts):
        path.write_bytes(data[:cut])
        _assert_load_fails_clearly(path)
    # a plain safetensors file (no ember description) cut short
    arrays = {f"w{i}": fz.random_array(rng, dt, (3, 2)) for i, dt in enumerate(fz.DTYPES[:9])}
    plain = safetensors.numpy.save(arrays)
    for cut in rng.integers(0, len(plain), 6):
        path.write_bytes(plain[:cut])
        _assert_load_fails_clearly(path)


@pytest.mark.parametrize("seed", SEEDS)
def test_flipped_bytes_raise_or_are_harmless(tmp_path, seed):
    rng = np.random.default_rng(seed)
    ckpt = fz.random_checkpoint(rng)
    want, data = fz.expected(ckpt), saved(ckpt)
    n = _header(data)[0]
    path = tmp_path / "flip.pt"
    for trial in range(24):
        bad = bytearray(data)
        # half the trials hit the 8-byte length and the JSON header, the rest anywhere
        high = 8 + n if trial % 2 else len(data)
        for i in rng.integers(0, high, int(rng.integers(1, 4))):
            bad[i] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(bad))
        _assert_load_fails_clearly(path, want)
    # a plain safetensors file has no checksums: a flip in its header raises or leaves a
    # dict of tensors (a flip in its data goes unnoticed, as with every safetensors reader)
    plain = safetensors.numpy.save({f"layer.{i}.w": fz.random_array(rng, dt, (3, 2))
                                    for i, dt in enumerate(fz.DTYPES[:9])})
    for _ in range(12):
        bad = bytearray(plain)
        bad[int(rng.integers(0, 8 + _header(plain)[0]))] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(bad))
        try:
            got = ember.load(path)
        except RuntimeError as e:
            assert str(e).startswith(f"ember.load: cannot load {str(path)!r}: "), str(e)
        else:
            assert all(type(v) is ember.Tensor for v in got.values())


@pytest.mark.parametrize("seed", SEEDS)
def test_cut_or_edited_description_raises(tmp_path, seed):
    rng = np.random.default_rng(seed)
    data = saved(fz.random_checkpoint(rng))
    text = _header(data)[1]["__metadata__"]["ember"]
    path = tmp_path / "cut.pt"
    for cut in rng.integers(0, len(text), 5):
        for fix_crc in (False, True):  # a checksum mismatch, or JSON that does not parse
            path.write_bytes(_with_description(data, text[:cut], fix_crc))
            _assert_load_fails_clearly(path)
    # the 8-byte length cut short: the header ends inside the JSON
    n = _header(data)[0]
    for short in rng.integers(1, n, 5):
        path.write_bytes(struct.pack("<Q", n - short) + data[8:])
        _assert_load_fails_clearly(path)


JUNK = [None, -1, 1.5, "x", [], {}, [1], {"a": 1}, {"tensor": "nope"}, {"tensor": [1]},
        {"numpy": "int8", "value": 1000}, {"numpy": "uint8", "value": -1},
        {"numpy": ["f4"], "value": 1}, {"numpy": "complex64", "value": [1, "a"]},
        {"int": 5}, {"int": "0xzz"}, {"float": None}, {"float": []}, {"tuple": {}},
        {"dict": {}}, {"dict": [[[1], 2]]}, {"counter": [[{"dict": []}, 1]]}, {"odict": [["a"]]},
        {"ndarray": 3}, True, {"tensor": "x", "requires_grad": True}]


def _nodes(tree, out):
    out.append(tree)
    for v in tree.values() if isinstance(tree, dict) else tree if isinstance(tree, list) else ():
        _nodes(v, out)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_edited_description_with_valid_checksum_raises_clearly(tmp_path, seed):
    # regression: unhashable JSON values and out-of-range NumPy scalars in a description
    # (as another tool might write it) raised TypeError / OverflowError from inside the loader
    rng = np.random.default_rng(seed)
    data = saved(fz.random_checkpoint(rng))
    description = json.loads(_header(data)[1]["__metadata__"]["ember"])
    path = tmp_path / "edited.pt"
    for _ in range(12):
        edited = json.loads(json.dumps(description))
        node = fz._pick(rng, [v for v in _nodes(edited, []) if isinstance(v, (dict, list)) and v])
        junk = json.loads(json.dumps(fz._pick(rng, JUNK)))
        keys = list(node) if isinstance(node, dict) else range(len(node))
        node[fz._pick(rng, list(keys))] = junk
        path.write_bytes(_with_description(data, json.dumps(edited)))
        try:
            ember.load(path)
        except RuntimeError as e:
            assert str(path) in str(e)


def test_deeply_nested_file_raises_clearly(tmp_path):
    # regression: a crafted description nested 100000 deep raised RecursionError
    text = '{"version":1,"tensors":{},"tree":' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "deep.pt"
    path.write_bytes(_with_description(saved({"a": 1}), text))
    with pytest.raises(RuntimeError, match="deep.pt'.*nested too deeply"):
        ember.load(path)


def test_missing_path_and_folder_raise_naming_the_path(tmp_path):
    (tmp_path / "file").write_bytes(saved({"a": 1}))
    for path, exc in [(tmp_path / "nope.pt", FileNotFoundError),
                      (tmp_path / "no" / "dir.pt", FileNotFoundError),
                      (tmp_path / "file" / "x.pt", NotADirectoryError),
                      (tmp_path, IsADirectoryError)]:
        with pytest.raises(exc) as info:
            ember.load(path)
        assert info.value.filename == str(path) and str(path) in str(info.value)
        with pytest.raises(exc):
            ember.load(str(path))
    with pytest.raises(IsADirectoryError):  # saving over a folder: nothing is left behind
        ember.save({"a": 1}, tmp_path)
    assert os.listdir(tmp_path) == ["file"]  # its temp file went next to the folder:
    assert not [n for n in os.listdir(tmp_path.parent) if n.startswith(f".{tmp_path.name}.")]


# --- failed saves -----------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_unsavable_object_raises_type_error_naming_its_path(tmp_path, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "c.pt"
    ember.save({"old": 1}, path)
    before = path.read_bytes()
    for _ in range(4):
        ckpt = fz.random_checkpoint(rng)
        message = fz.plant(rng, ckpt)
        with pytest.raises(TypeError) as info:
            ember.save(ckpt, path)
        assert str(info.value).startswith(message), (str(info.value), message)
        assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]


def test_optimizer_state_path_is_named(tmp_path):
    ckpt = fz.trained_state(0, "adamw")
    ckpt["optim"]["state"][0]["x"] = lambda: 0
    with pytest.raises(TypeError, match=r'^obj\["optim"\]\["state"\]\[0\]\["x"\]: cannot save '
                                        "object of type function"):
        ember.save(ckpt, tmp_path / "c.pt")
    assert os.listdir(tmp_path) == []


def test_too_large_description_raises_before_writing(tmp_path):
    # regression: safetensors' bare SafetensorError "header too large" (over 100 MB of JSON)
    path = tmp_path / "c.pt"
    ember.save({"old": 1}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"cannot save obj: .*header too large.*104,000,\d+ "
                                         "bytes of the header.*store long lists"):
        ember.save({"quotes": '"' * 26_000_000, "w": ember.ones(2)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]


def test_save_writes_through_a_symlink_and_keeps_permissions(tmp_path):
    # regression: the atomic rename replaced a symlink by a file (leaving its target stale)
    # and reset a 0600 file to 0644; torch.save (open(path, "wb")) does neither
    (tmp_path / "run").mkdir()
    target, link = tmp_path / "run" / "ckpt.pt", tmp_path / "best.pt"
    ember.save({"step": 1}, target)
    os.symlink(os.path.join("run", "ckpt.pt"), link)
    os.chmod(target, 0o600)
    ember.save({"step": 2}, link)
    assert link.is_symlink() and ember.load(target) == {"step": 2}
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path / "run")) == ["ckpt.pt"]
    os.symlink(os.path.join("run", "new.pt"), tmp_path / "dangling.pt")
    ember.save({"step": 3}, tmp_path / "dangling.pt")  # creates the file the link names
    assert ember.load(tmp_path / "run" / "new.pt") == {"step": 3}


class _Failing:
    """A file that accepts ``limit`` bytes, then raises ``exc`` (a full disk, a Ctrl-C)."""

    def __init__(self, fh, limit, exc):
        self.fh, self.limit, self.exc = fh, limit, exc

    def write(self, data):
        self.fh.write(bytes(data[:self.limit]))
        self.fh.flush()
        if len(data) > self.limit:
            raise self.exc
        return len(data)


@pytest.mark.parametrize("seed", SEEDS)
def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "c.pt"
    old = fz.random_checkpoint(rng)
    ember.save(old, path)
    before = path.read_bytes()
    real = serialization.atomic_write
    exc = fz._pick(rng, [OSError(28, "No space left on device"), KeyboardInterrupt(),
                         MemoryError(), RuntimeError("writer failed")])
    new = fz.random_checkpoint(rng)
    limit = int(rng.integers(0, len(saved(new))))

    @contextlib.contextmanager
    def failing_atomic_write(p, mode="wb"):
        with real(p, mode) as fh:
            yield _Failing(fh, limit, exc)

    monkeypatch.setattr(serialization, "atomic_write", failing_atomic_write)
    with pytest.raises(type(exc)):
        ember.save(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]
    fz.assert_same(ember.load(path), fz.expected(old))
    # the same through the real writer: fsync or the rename failing
    target = fz._pick(rng, ["fsync", "replace"])

    def fail(*args):
        raise OSError(5, f"{target} failed")

    monkeypatch.setattr(os, target, fail)
    with pytest.raises(OSError, match=f"{target} failed"):
        ember.save(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["c.pt"]
