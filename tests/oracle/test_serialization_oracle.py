"""ember.save / ember.load against torch: files cross over through safetensors both ways."""
import numpy as np
import pytest

import ember
from ember.serialization import load, save

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")

# ember dtype name -> torch dtype
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "int64": torch.int64, "int32": torch.int32, "int16": torch.int16,
          "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool}


def make_array(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-100 if dtype != "uint8" else 0, 100, shape, dtype=dtype)


def torch_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3),
                               torch.nn.BatchNorm1d(3))


def ember_state_dict_like(model, seed=1):
    """An ember state dict with the model's keys, shapes and dtypes and fresh values."""
    sd = {}
    for i, (k, v) in enumerate(model.state_dict().items()):
        arr = make_array(str(v.dtype).removeprefix("torch."), tuple(v.shape), seed + i)
        if k.endswith("running_var"):
            arr = np.abs(arr) + 0.5
        sd[k] = ember.from_numpy(arr)
    return sd


def numpy_mlp(sd, x):
    """The forward pass of torch_mlp() in eval mode, in NumPy, from a state dict of arrays."""
    h = np.maximum(x @ sd["0.weight"].T + sd["0.bias"], 0)
    y = h @ sd["2.weight"].T + sd["2.bias"]
    return ((y - sd["3.running_mean"]) / np.sqrt(sd["3.running_var"] + 1e-5)
            * sd["3.weight"] + sd["3.bias"])


def test_ember_state_dict_loads_into_torch_model(tmp_path):
    model = torch_mlp().eval()
    sd = ember_state_dict_like(model)
    save(sd, tmp_path / "model.safetensors")
    model.load_state_dict(st.load_file(tmp_path / "model.safetensors"), strict=True)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), sd[k].numpy())
    x = make_array("float64", (4, 5), 9)
    with torch.no_grad():
        out = model.double()(torch.from_numpy(x)).numpy()
    want = numpy_mlp({k: t.numpy().astype(np.float64) for k, t in sd.items()}, x)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-12)


def test_torch_state_dict_loads_in_ember(tmp_path):
    model = torch_mlp()
    model.train()(torch.randn(6, 5))  # move the running statistics off their defaults
    sd = model.state_dict()
    st.save_file(sd, tmp_path / "model.safetensors")
    got = load(tmp_path / "model.safetensors")
    assert type(got) is dict and set(got) == set(sd)
    for k, v in sd.items():
        assert isinstance(got[k], ember.Tensor)
        assert str(got[k].dtype).removeprefix("ember.") == str(v.dtype).removeprefix("torch.")
        assert tuple(got[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(got[k].numpy(), v.numpy())
    model.eval()
    x = make_array("float32", (4, 5), 9)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    want = numpy_mlp({k: t.numpy() for k, t in got.items()}, x)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3)], ids=str)
def test_every_dtype_crosses_both_ways(tmp_path, shape):
    arrays = {name: make_array(name, shape, i) for i, name in enumerate(DTYPES)}
    save({k: ember.from_numpy(a) for k, a in arrays.items()}, tmp_path / "e.safetensors")
    in_torch = st.load_file(tmp_path / "e.safetensors")
    for k, arr in arrays.items():
        assert in_torch[k].dtype == DTYPES[k] and tuple(in_torch[k].shape) == shape
        np.testing.assert_array_equal(in_torch[k].numpy(), arr)
    st.save_file(in_torch, tmp_path / "t.safetensors")
    back = load(tmp_path / "t.safetensors")
    for k, arr in arrays.items():
        assert back[k].numpy().dtype == arr.dtype and tuple(back[k].shape) == shape
        np.testing.assert_array_equal(back[k].numpy(), arr)


def test_checkpoint_tensors_are_readable_by_torch(tmp_path):
    model = torch_mlp()
    sd = ember_state_dict_like(model)
    ckpt = {"model": sd, "optimizer": {"state": {0: {"exp_avg": ember.zeros(8, 5)}},
                                       "param_groups": [{"lr": 0.1, "params": [0]}]},
            "epoch": 3}
    save(ckpt, tmp_path / "ckpt.pt")
    raw = st.load_file(tmp_path / "ckpt.pt")
    assert set(raw) == {f"model.{k}" for k in sd} | {"optimizer.state.0.exp_avg"}
    model.load_state_dict({k[len("model."):]: v for k, v in raw.items()
                           if k.startswith("model.")})
    back = load(tmp_path / "ckpt.pt")
    assert back["epoch"] == 3 and list(back["optimizer"]["state"]) == [0]


def test_torch_save_checkpoints_are_rejected(tmp_path):
    sd = torch_mlp().state_dict()
    torch.save(sd, tmp_path / "zip.pt")
    torch.save(sd, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="zip.pt.*zip archive, the format of torch.save"):
        load(tmp_path / "zip.pt")
    with pytest.raises(RuntimeError, match="legacy.pt.*pickle"):
        load(tmp_path / "legacy.pt")


def test_bfloat16_file_raises_clearly(tmp_path):
    st.save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "bf16.safetensors")
    with pytest.raises(RuntimeError, match="tensor 'w' has dtype BF16, which ember does not"):
        load(tmp_path / "bf16.safetensors")


# --- with ember.nn (once it exists) -----------------------------------------------------------

def ember_nn():
    nn = pytest.importorskip("ember.nn")
    if not hasattr(nn, "Linear"):
        pytest.skip("ember.nn.Linear does not exist yet")
    return nn


def test_ember_linear_state_dict_gives_torch_the_same_outputs(tmp_path):
    nn = ember_nn()
    ember.manual_seed(0)
    layer = nn.Linear(5, 3)
    save(layer.state_dict(), tmp_path / "linear.safetensors")
    twin = torch.nn.Linear(5, 3)
    twin.load_state_dict(st.load_file(tmp_path / "linear.safetensors"), strict=True)
    x = make_array("float32", (4, 5), 2)
    with torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = layer(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_torch_linear_state_dict_gives_ember_the_same_outputs(tmp_path):
    nn = ember_nn()
    torch.manual_seed(0)
    twin = torch.nn.Linear(5, 3)
    st.save_file(twin.state_dict(), tmp_path / "linear.safetensors")
    layer = nn.Linear(5, 3)
    layer.load_state_dict(load(tmp_path / "linear.safetensors"), strict=True)
    x = make_array("float32", (4, 5), 2)
    with torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = layer(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_sequential_model_crosses_both_ways(tmp_path):
    nn = ember_nn()
    if not all(hasattr(nn, name) for name in ("Sequential", "ReLU", "BatchNorm1d")):
        pytest.skip("ember.nn.Sequential / ReLU / BatchNorm1d do not exist yet")
    twin = torch_mlp()
    twin.train()(torch.randn(6, 5))
    twin.eval()
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3), nn.BatchNorm1d(3)).eval()
    st.save_file(twin.state_dict(), tmp_path / "t.safetensors")
    model.load_state_dict(load(tmp_path / "t.safetensors"), strict=True)
    x = make_array("float32", (4, 5), 3)
    with torch.no_grad():
        want = twin(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = model(ember.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # and back: ember's state dict (its key names included) loads into a fresh torch model
    save(model.state_dict(), tmp_path / "e.safetensors")
    fresh = torch_mlp().eval()
    fresh.load_state_dict(st.load_file(tmp_path / "e.safetensors"), strict=True)
    with torch.no_grad():
        np.testing.assert_allclose(fresh(torch.from_numpy(x)).numpy(), want, rtol=1e-6)
