"""ember.save / ember.load: round trips, atomic writes, clear errors, no pickle."""
import builtins
import contextlib
import io
import json
import math
import os
import pickle
import struct
import zlib
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy

import ember
from ember import serialization
from ember.serialization import load, save

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
SHAPES = [(), (0,), (0, 3), (5,), (2, 3), (2, 1, 4)]


def make_array(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, dtype=dtype)


def make_tensor(dtype="float32", shape=(2, 3), seed=0):
    return ember.from_numpy(make_array(dtype, shape, seed))


def assert_same(got, want, where="obj"):
    """Equal values and exactly the same types, recursively (tensors: dtype, shape, data)."""
    if isinstance(want, ember.Tensor):
        assert type(got) is type(want), f"{where}: {type(got)} vs {type(want)}"
        assert got.dtype == want.dtype, f"{where}: {got.dtype} vs {want.dtype}"
        assert tuple(got.shape) == tuple(want.shape), f"{where}: {got.shape} vs {want.shape}"
        assert got.requires_grad == want.requires_grad, where
        g, w = got.detach().numpy(), want.detach().numpy()
        assert np.array_equal(g, w, equal_nan=g.dtype.kind == "f"), where
        return
    assert type(got) is type(want), f"{where}: {type(got)} vs {type(want)}"
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape, where
        assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), where
    elif isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} vs {list(want)}"
        for (kg, vg), (kw, vw) in zip(got.items(), want.items()):
            assert_same(kg, kw, f"{where} key {kw!r}")
            assert_same(vg, vw, f"{where}[{kw!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), where
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want), where
    elif isinstance(want, np.generic):
        assert got.dtype == want.dtype, where
        assert got == want or (np.isnan(got) and np.isnan(want)), where
    else:
        assert got == want, where


def round_trip(obj, tmp_path, name="ckpt.pt"):
    path = tmp_path / name
    save(obj, path)
    return load(path)


def checkpoint():
    model = OrderedDict([("embed.weight", make_tensor("float32", (10, 4), 1)),
                         ("fc.weight", make_tensor("float32", (3, 8), 2)),
                         ("fc.bias", make_tensor("float32", (3,), 3)),
                         ("bn.running_mean", make_tensor("float32", (3,), 4)),
                         ("bn.num_batches_tracked", ember.tensor(7))])
    optimizer = {
        "state": {0: {"step": ember.tensor(3.0), "exp_avg": make_tensor("float32", (10, 4), 5),
                      "exp_avg_sq": make_tensor("float32", (10, 4), 6)},
                  2: {"momentum_buffer": None}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                          "amsgrad": False, "foreach": None, "params": [0, 1, 2]}],
    }
    return {"model": model, "optimizer": optimizer, "epoch": 3,
            "config": {"name": "char-lm", "seq_len": 32, "dims": [64, 128], "dropout": 0.1,
                       "unicode": "字符 ✓", "empty": {}, "nested": [[], (), [()]]}}


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_tensor_round_trip_keeps_dtype_shape_and_values(tmp_path, dtype, shape):
    t = make_tensor(dtype, shape)
    got = round_trip(t, tmp_path)
    assert_same(got, t)


def test_flat_state_dict_round_trip_keeps_order(tmp_path):
    sd = OrderedDict((f"layer{i}.{dt}", make_tensor(dt, (i + 1, 2), i))
                     for i, dt in enumerate(DTYPES))
    got = round_trip(sd, tmp_path)
    assert_same(got, sd)


def test_nested_checkpoint_round_trip_keeps_types_and_int_keys(tmp_path):
    ckpt = checkpoint()
    got = round_trip(ckpt, tmp_path)
    assert_same(got, ckpt)
    assert list(got["optimizer"]["state"]) == [0, 2]
    assert all(type(k) is int for k in got["optimizer"]["state"])
    assert type(got["optimizer"]["param_groups"][0]["betas"]) is tuple
    assert type(got["model"]) is OrderedDict and type(got["config"]) is dict


def test_scalar_values_round_trip_exactly(tmp_path):
    obj = [0, -1, 2**100, -(2**70), True, False, None, 0.1, -0.0, 1e-310, 1e308,
           float("inf"), float("-inf"), float("nan"), "", "text", "\u0000\n\"'\\", "\ud800x"]
    assert_same(round_trip(obj, tmp_path), obj)


def test_dict_keys_keep_their_types(tmp_path):
    obj = {"s": 1, 0: 2, 7: 3, -1: 4, 2.5: 5, float("inf"): 6, None: 7, True: 8,
           ("a", 1, (None, 2.0)): 9, "": 10}
    got = round_trip(obj, tmp_path)
    assert_same(got, obj)
    assert [type(k) for k in got] == [type(k) for k in obj]


def test_bare_values_round_trip(tmp_path):
    for obj in [3, 2.5, "x", None, True, [], {}, (), ember.tensor(1.5)]:
        assert_same(round_trip(obj, tmp_path), obj)


def test_non_contiguous_tensor_is_saved_by_value(tmp_path):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = ember.from_numpy(arr.T[::2])
    assert not t.numpy().flags.c_contiguous
    got = round_trip(t, tmp_path)
    np.testing.assert_array_equal(got.numpy(), arr.T[::2])


def test_tensors_sharing_storage_load_as_independent_copies(tmp_path):
    a = make_tensor("float32", (4,))
    obj = {"a": a, "same": a, "view": a.data}
    got = round_trip(obj, tmp_path)
    assert_same(got, obj)
    got["a"].add_(1.0)
    np.testing.assert_array_equal(got["same"].numpy(), a.numpy())
    np.testing.assert_array_equal(got["view"].numpy(), a.numpy())


def test_loaded_tensors_are_writable(tmp_path):
    got = round_trip({"w": make_tensor("float32", (3,))}, tmp_path)
    got["w"].mul_(2.0)
    got["w"].zero_()
    assert got["w"].numpy().sum() == 0


def test_requires_grad_is_kept_and_grad_is_not(tmp_path):
    t = make_tensor("float32", (3,)).requires_grad_()
    (t * 2).sum().backward()
    got = round_trip({"t": t, "plain": make_tensor()}, tmp_path)
    assert got["t"].requires_grad and got["t"].is_leaf and got["t"].grad is None
    assert not got["plain"].requires_grad


def test_parameter_is_kept():
    parameter = pytest.importorskip("ember.nn.parameter")
    p = parameter.Parameter(make_tensor("float32", (2, 2)))
    buf = io.BytesIO()
    save({"p": p}, buf)
    got = load(io.BytesIO(buf.getvalue()))["p"]
    assert type(got) is parameter.Parameter and got.requires_grad
    np.testing.assert_array_equal(got.detach().numpy(), p.detach().numpy())


def test_numpy_arrays_and_scalars_round_trip(tmp_path):
    obj = {"arr": np.arange(6, dtype=np.uint32).reshape(2, 3), "f32": np.float32(0.1),
           "i64": np.int64(-5), "u64": np.uint64(2**64 - 1), "b": np.bool_(True),
           "nan": np.float16("nan"), "str": np.str_("s")}
    got = round_trip(obj, tmp_path)
    assert_same({k: v for k, v in got.items() if k != "str"},
                {k: v for k, v in obj.items() if k != "str"})
    assert got["str"] == "s"


def test_path_like_and_str_paths_and_file_objects(tmp_path):
    sd = {"w": make_tensor()}
    save(sd, str(tmp_path / "a.pt"))
    assert_same(load(str(tmp_path / "a.pt")), sd)
    buf = io.BytesIO()
    save(sd, buf)
    assert_same(load(io.BytesIO(buf.getvalue())), sd)
    with open(tmp_path / "a.pt", "rb") as fh:
        assert_same(load(fh), sd)


def test_reexported_as_ember_save_and_load():
    if not hasattr(ember, "save"):
        pytest.skip("ember/__init__.py does not re-export save/load yet")
    assert ember.save is save and ember.load is load


def test_map_location_and_weights_only_are_accepted(tmp_path):
    sd = {"w": make_tensor()}
    save(sd, tmp_path / "a.pt")
    for kwargs in [{}, {"map_location": "cpu"}, {"map_location": None},
                   {"map_location": ember.device("cpu")}, {"map_location": {"cuda:0": "cpu"}},
                   {"weights_only": True}, {"weights_only": False}, {"mmap": False}]:
        assert_same(load(tmp_path / "a.pt", **kwargs), sd)
    assert_same(load(tmp_path / "a.pt", "cpu"), sd)


def test_unsupported_map_location_and_mmap_raise(tmp_path):
    save({"w": make_tensor()}, tmp_path / "a.pt")
    with pytest.raises(RuntimeError, match="CPU only"):
        load(tmp_path / "a.pt", map_location="cuda:0")
    # torch's idiom map_location=lambda storage, loc: storage loads as usual
    assert set(load(tmp_path / "a.pt", map_location=lambda storage, loc: storage)) == {"w"}
    with pytest.raises(NotImplementedError, match="mmap"):
        load(tmp_path / "a.pt", mmap=True)


# --- the file format --------------------------------------------------------------------------

def test_flat_state_dict_tensor_names_are_its_keys(tmp_path):
    sd = OrderedDict([("0.weight", make_tensor("float32", (4, 3))),
                      ("0.bias", make_tensor("float32", (4,))),
                      ("3.num_batches_tracked", ember.tensor(5))])
    save(sd, tmp_path / "m.safetensors")
    raw = safetensors.numpy.load_file(tmp_path / "m.safetensors")
    assert sorted(raw) == sorted(sd)
    for k, t in sd.items():
        assert raw[k].dtype == t.numpy().dtype
        np.testing.assert_array_equal(raw[k], t.numpy())


def test_nested_tensors_are_named_by_their_path(tmp_path):
    save(checkpoint(), tmp_path / "c.pt")
    raw = safetensors.numpy.load_file(tmp_path / "c.pt")
    assert {"model.fc.weight", "model.bn.num_batches_tracked", "optimizer.state.0.exp_avg",
            "optimizer.state.0.step"} <= set(raw)


def test_clashing_tensor_names_get_a_suffix(tmp_path):
    obj = {"a.b": make_tensor(seed=1), "a": {"b": make_tensor(seed=2)},
           "__metadata__": make_tensor(seed=3)}
    save(obj, tmp_path / "c.pt")
    assert set(safetensors.numpy.load_file(tmp_path / "c.pt")) == {"a.b", "a.b#1",
                                                                    "__metadata__#1"}
    assert_same(load(tmp_path / "c.pt"), obj)


def test_plain_safetensors_file_loads_as_dict_of_tensors(tmp_path):
    arrays = {name: make_array(dt, (2, 3), i) for i, (name, dt) in
              enumerate([("w", "float32"), ("d", "float64"), ("h", "float16"), ("i", "int64"),
                         ("b", "bool"), ("u", "uint8"), ("s", "int8"), ("z", "int32")])}
    arrays["scalar"] = np.array(4, dtype=np.int64)
    safetensors.numpy.save_file(arrays, tmp_path / "plain.safetensors",
                                metadata={"format": "pt"})
    got = load(tmp_path / "plain.safetensors")
    assert type(got) is dict and set(got) == set(arrays)
    for k, arr in arrays.items():
        assert isinstance(got[k], ember.Tensor)
        assert got[k].dtype == ember._dtype.from_numpy(arr.dtype)
        np.testing.assert_array_equal(got[k].numpy(), arr)


def test_file_is_valid_safetensors_with_json_description(tmp_path):
    save({"epoch": 3, "w": make_tensor()}, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    description = json.loads(meta["ember"])
    assert description["version"] == 1
    assert description["tree"] == {"dict": [["epoch", 3], ["w", {"tensor": "w"}]]}


# --- errors when saving -----------------------------------------------------------------------

def test_unsupported_object_raises_type_error_naming_its_path(tmp_path):
    ckpt = checkpoint()
    ckpt["optimizer"]["state"][0]["fn"] = lambda x: x
    with pytest.raises(TypeError) as info:
        save(ckpt, tmp_path / "c.pt")
    assert 'obj["optimizer"]["state"][0]["fn"]: cannot save object of type function' in str(
        info.value)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("obj, where, type_name", [
    ({"a": [1, {2}]}, 'obj["a"][1]', "set"),
    ({"a": (1, b"raw")}, 'obj["a"][1]', "bytes"),
    ([object()], "obj[0]", "object"),
    ({"c": 1j}, 'obj["c"]', "complex"),
    ({"a": {"b": np.array(["x"])}}, 'obj["a"]["b"]', "dtype <U1"),
    ({"a": np.arange(3).astype(">i4")}, 'obj["a"]', "dtype >i4"),
    ({"m": io.BytesIO()}, 'obj["m"]', "_io.BytesIO"),
])
def test_unsupported_values_raise_type_error(tmp_path, obj, where, type_name):
    with pytest.raises(TypeError) as info:
        save(obj, tmp_path / "c.pt")
    assert str(info.value).startswith(where + ": ") and type_name in str(info.value)


def test_unsupported_dict_key_raises_type_error(tmp_path):
    with pytest.raises(TypeError, match=r'^obj\["a"\]: cannot save a dict key of type object'):
        save({"a": {object(): 1}}, tmp_path / "c.pt")
    with pytest.raises(TypeError, match="dict key of type frozenset"):
        save({frozenset(): 1}, tmp_path / "c.pt")


def test_circular_reference_raises_value_error(tmp_path):
    obj = {"a": []}
    obj["a"].append(obj)
    with pytest.raises(ValueError, match=r'obj\["a"\]\[0\]: cannot save a circular reference'):
        save(obj, tmp_path / "c.pt")


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "c.pt"
    save({"v": 1}, path)
    with pytest.raises(TypeError):
        save({"v": 2, "bad": {1, 2}}, path)
    assert load(path) == {"v": 1}
    assert os.listdir(tmp_path) == ["c.pt"]


# --- atomic writes ----------------------------------------------------------------------------

class _FailingWriter:
    """Writes half of what it is given, then fails like a full disk (or a Ctrl-C)."""

    def __init__(self, fh, exc):
        self.fh, self.exc = fh, exc

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise self.exc


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "interrupt"])
def test_failure_mid_write_keeps_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch, exc):
    path = tmp_path / "c.pt"
    old = checkpoint()
    save(old, path)
    before = path.read_bytes()
    real_atomic_write = serialization.atomic_write

    @contextlib.contextmanager
    def failing_atomic_write(p, mode="wb"):
        with real_atomic_write(p, mode) as fh:
            yield _FailingWriter(fh, exc)

    monkeypatch.setattr(serialization, "atomic_write", failing_atomic_write)
    new = checkpoint()
    new["epoch"] = 4
    with pytest.raises(type(exc)):
        save(new, path)
    assert path.read_bytes() == before
    assert_same(load(path), old)
    assert os.listdir(tmp_path) == ["c.pt"]


def test_failure_in_fsync_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save({"epoch": 1}, path)

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output"):
        save({"epoch": 2}, path)
    monkeypatch.undo()
    assert load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["c.pt"]


def test_failure_on_first_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_replace(src, dst):
        raise OSError("boom")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="boom"):
        save({"epoch": 1}, tmp_path / "c.pt")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_save_overwrites_existing_file(tmp_path):
    path = tmp_path / "c.pt"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}
    assert os.listdir(tmp_path) == ["c.pt"]


# --- errors when loading ----------------------------------------------------------------------

def saved_bytes(obj=None):
    buf = io.BytesIO()
    save(checkpoint() if obj is None else obj, buf)
    return buf.getvalue()


def load_bytes(tmp_path, data, name="bad.pt"):
    path = tmp_path / name
    path.write_bytes(data)
    return load(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.pt")


def test_empty_file_raises(tmp_path):
    with pytest.raises(RuntimeError, match=r"bad\.pt.*empty"):
        load_bytes(tmp_path, b"")


@pytest.mark.parametrize("fraction", [0.0001, 0.01, 0.3, 0.5, 0.9, 0.9999])
def test_truncated_file_raises(tmp_path, fraction):
    data = saved_bytes()
    cut = max(1, min(len(data) - 1, int(len(data) * fraction)))
    with pytest.raises(RuntimeError, match=r"ember\.load: cannot load '.*bad\.pt'"):
        load_bytes(tmp_path, data[:cut])


def test_every_truncation_of_a_small_file_raises(tmp_path):
    data = saved_bytes({"w": make_tensor("float32", (3,)), "n": 1})
    for cut in range(len(data)):
        with pytest.raises(RuntimeError, match="cannot load '<file object>'"):
            load(io.BytesIO(data[:cut]))


def test_trailing_garbage_raises(tmp_path):
    with pytest.raises(RuntimeError, match="corrupt or truncated"):
        load_bytes(tmp_path, saved_bytes() + b"\x00junk")


def test_garbage_file_raises(tmp_path):
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(RuntimeError, match="not a safetensors file"):
        load_bytes(tmp_path, garbage)
    with pytest.raises(RuntimeError, match="not a safetensors file"):
        load_bytes(tmp_path, b"hello world, this is text\n")


def test_flipped_byte_in_tensor_data_raises(tmp_path):
    data = bytearray(saved_bytes())
    data[-3] ^= 0x10
    with pytest.raises(RuntimeError, match="corrupt.*checksum"):
        load_bytes(tmp_path, bytes(data))


def test_every_flipped_byte_is_detected_or_harmless(tmp_path):
    obj = {"w": make_tensor("float32", (3,)), "n": [1, "a"], 2: None}
    data = saved_bytes(obj)
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01
        try:
            got = load(io.BytesIO(bytes(bad)))
        except RuntimeError:
            continue
        assert_same(got, obj)  # only padding or JSON whitespace may change unnoticed


def test_edited_description_raises(tmp_path):
    data = saved_bytes({"epoch": 3})
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    meta["ember"] = meta["ember"].replace("3", "4")
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        load_bytes(tmp_path, safetensors.numpy.save({}, metadata=meta))


def test_newer_format_version_raises(tmp_path):
    text = json.dumps({"version": 99, "tree": None, "tensors": {}})
    meta = {"ember": text, "ember.crc32": str(zlib.crc32(text.encode()))}
    with pytest.raises(RuntimeError, match="newer ember"):
        load_bytes(tmp_path, safetensors.numpy.save({}, metadata=meta))


@pytest.mark.parametrize("tree", [
    {"tensor": "missing"}, {"unknown": 1}, {}, {"dict": [[1]]}, {"dict": [[[1], 2]]},
    {"float": "huge"}, {"numpy": "object", "value": 1}, {"tuple": 5},
])
def test_malformed_description_raises(tmp_path, tree):
    text = json.dumps({"version": 1, "tree": tree, "tensors": {}})
    meta = {"ember": text, "ember.crc32": str(zlib.crc32(text.encode()))}
    with pytest.raises(RuntimeError, match="corrupt ember description|missing"):
        load_bytes(tmp_path, safetensors.numpy.save({}, metadata=meta))


def test_tensor_added_by_another_tool_raises(tmp_path):
    data = saved_bytes({"w": make_tensor()})
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    arrays = safetensors.numpy.load(data)
    arrays["extra"] = np.zeros(2, np.float32)
    with pytest.raises(RuntimeError, match="'extra' is not part of the saved object"):
        load_bytes(tmp_path, safetensors.numpy.save(arrays, metadata=meta))


def test_unsupported_dtype_in_plain_file_raises_naming_the_tensor(tmp_path):
    data = safetensors.numpy.save({"ok": np.zeros(2, np.float32), "u": np.zeros(2, np.uint16)})
    with pytest.raises(RuntimeError, match="tensor 'u' has dtype U16, which ember does not"):
        load_bytes(tmp_path, data)


def test_pickle_file_is_rejected_without_running_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("import builtins; builtins._ember_pwned = True",))

    path = tmp_path / "evil.pt"
    for protocol in (2, 4, 5):
        with open(path, "wb") as fh:
            pickle.dump({"w": Evil()}, fh, protocol=protocol)
        for weights_only in (True, False):
            with pytest.raises(RuntimeError, match="evil.pt.*pickle.*never unpickles"):
                load(path, weights_only=weights_only)
    assert not hasattr(builtins, "_ember_pwned")


def test_zip_checkpoint_is_rejected_with_a_hint(tmp_path):
    with pytest.raises(RuntimeError, match="zip archive, the format of torch.save.*"
                                           "safetensors.torch.save_file"):
        load_bytes(tmp_path, b"PK\x03\x04" + b"\x00" * 100)


def test_text_mode_file_object_raises(tmp_path):
    (tmp_path / "a.pt").write_bytes(saved_bytes({"a": 1}))
    with open(tmp_path / "a.pt", encoding="latin-1") as fh, pytest.raises(TypeError,
                                                                         match="binary"):
        load(fh)


# --- with ember.nn and ember.optim --------------------------------------------------------------

def test_resuming_from_a_checkpoint_continues_identically(tmp_path):
    nn = pytest.importorskip("ember.nn")
    optim = pytest.importorskip("ember.optim")

    def build():
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        return model, optim.Adam(model.parameters(), lr=1e-2)

    def step(model, opt, x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    ember.manual_seed(0)
    x, y = ember.randn(16, 4), ember.randn(16, 2)
    model, opt = build()
    for _ in range(3):
        step(model, opt, x, y)
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3},
         tmp_path / "ckpt.pt")
    want = [step(model, opt, x, y) for _ in range(3)]

    ckpt = load(tmp_path / "ckpt.pt")
    fresh, fresh_opt = build()
    fresh.load_state_dict(ckpt["model"])
    fresh_opt.load_state_dict(ckpt["optimizer"])
    assert ckpt["epoch"] == 3 and list(ckpt["optimizer"]["state"]) == list(range(6))
    assert [step(fresh, fresh_opt, x, y) for _ in range(3)] == want
