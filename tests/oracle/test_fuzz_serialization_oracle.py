"""Seeded fuzzing of ``ember.save`` / ``ember.load`` against torch.

- A random model's ``state_dict`` saved by ember loads in torch (``safetensors.torch.load_file``
  + ``load_state_dict(strict=True)``) and gives the outputs ember gives; one saved by torch
  (``safetensors.torch.save_file``) loads in ember and gives torch's outputs.
- Every tensor of a random nested checkpoint saved by ember is readable by torch under its
  dotted path, bitwise.
- Files written by ``torch.save`` (zip or legacy pickle) are refused with a clear error and
  never unpickled, malicious ones included. torch.load(weights_only=True) reads the
  harmless ones through its restricted unpickler; ember has no unpickler at all (a
  documented difference: convert with ``safetensors.torch.save_file``).
- Sharing and ``requires_grad`` after a round trip, compared with torch.save / torch.load.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import pickle
import struct
from collections import Counter, OrderedDict

import numpy as np
import pytest

import ember
from tests import _fuzz_checkpoints as fz

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")

SEEDS = range(6)


# --- random models ----------------------------------------------------------------------------

def random_spec(rng):
    """Layers (name, *args) that ember.nn and torch.nn build alike, and the input kind."""
    embed = bool(rng.random() < 0.5)
    width = int(rng.integers(2, 7))
    layers = [("Embedding", 9, width), ("Flatten",)] if embed else []
    features = 2 * width if embed else width
    for _ in range(int(rng.integers(1, 5))):
        r = rng.random()
        if r < 0.4:
            out = int(rng.integers(1, 8))
            layers.append(("Linear", features, out, bool(rng.random() < 0.8)))
            features = out
        elif r < 0.6:
            layers.append(("BatchNorm1d", features))
        elif r < 0.75:
            layers.append(("LayerNorm", features, 1e-5, bool(rng.random() < 0.7)))
        else:
            layers.append((fz._pick(rng, ["ReLU", "Tanh", "GELU", "Dropout"]),))
    return layers, embed, width


def build(lib, layers):
    """The Sequential of ``layers`` in ``lib`` (ember or torch)."""
    return lib.nn.Sequential(*(getattr(lib.nn, name)(*args) for name, *args in layers))


def model_input(rng, embed, width):
    """A batch of 4: ids for a model that starts with an Embedding, else features."""
    if embed:
        return rng.integers(0, 9, (4, 2))
    return rng.standard_normal((4, width)).astype(np.float32)


def train_batchnorm(lib, model, x):
    """One forward in train mode, so BatchNorm's running statistics leave their defaults."""
    model.train()
    with lib.no_grad():
        model(x)
    return model.eval()


def outputs(lib, model, x):
    """The model's output on ``x`` as an array, without recording a graph."""
    with lib.no_grad():
        return model(x).numpy()


@pytest.mark.parametrize("seed", SEEDS)
def test_ember_model_loads_in_torch_with_equal_outputs(tmp_path, seed):
    rng = np.random.default_rng(seed)
    layers, embed, width = random_spec(rng)
    x = model_input(rng, embed, width)
    ember.manual_seed(seed)
    model = train_batchnorm(ember, build(ember, layers), ember.from_numpy(x))
    ember.save(model.state_dict(), tmp_path / "m.safetensors")
    twin = build(torch, layers)
    twin.load_state_dict(st.load_file(tmp_path / "m.safetensors"), strict=True)
    twin.eval()
    for k, v in model.state_dict().items():
        assert str(twin.state_dict()[k].dtype) == str(v.dtype).replace("ember", "torch"), k
        np.testing.assert_array_equal(twin.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    np.testing.assert_allclose(outputs(ember, model, ember.from_numpy(x)),
                               outputs(torch, twin, torch.from_numpy(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_torch_model_loads_in_ember_with_equal_outputs(tmp_path, seed):
    rng = np.random.default_rng(seed)
    layers, embed, width = random_spec(rng)
    x = model_input(rng, embed, width)
    torch.manual_seed(seed)
    twin = train_batchnorm(torch, build(torch, layers), torch.from_numpy(x))
    st.save_file(twin.state_dict(), tmp_path / "t.safetensors")
    ember.manual_seed(seed + 100)
    model = build(ember, layers)
    model.load_state_dict(ember.load(tmp_path / "t.safetensors"), strict=True)
    model.eval()
    for k, v in twin.state_dict().items():
        assert model.state_dict()[k].dtype == getattr(ember, str(v.dtype)[len("torch."):])
        np.testing.assert_array_equal(model.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    np.testing.assert_allclose(outputs(ember, model, ember.from_numpy(x)),
                               outputs(torch, twin, torch.from_numpy(x)), rtol=1e-5, atol=1e-6)


# modules whose state_dict layout (names, shapes, dtypes) must be torch's: (name, args, kwargs,
# input shapes; an int dtype marks index inputs); a lone MultiheadAttention input is q, k and v
MODULES = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, [(2, 3, 9)]),
    ("Conv2d", (2, 3, (3, 2)), {"bias": False}, [(2, 2, 6, 5)]),
    ("ConvTranspose2d", (2, 4, 3), {"stride": 2}, [(1, 2, 4, 4)]),
    ("LSTM", (3, 5), {"num_layers": 2, "bidirectional": True, "batch_first": True}, [(2, 4, 3)]),
    ("LSTM", (3, 5), {"proj_size": 2}, [(4, 2, 3)]),
    ("GRU", (3, 4), {"num_layers": 2}, [(4, 2, 3)]),
    ("RNN", (3, 4), {"nonlinearity": "relu", "bias": False}, [(4, 2, 3)]),
    ("MultiheadAttention", (8, 2), {"batch_first": True}, [(2, 3, 8)]),
    ("MultiheadAttention", (8, 2), {"kdim": 4, "vdim": 6, "bias": False},
     [(3, 2, 8), (5, 2, 4), (5, 2, 6)]),
    ("TransformerEncoderLayer", (8, 2), {"dim_feedforward": 16, "dropout": 0.0}, [(3, 2, 8)]),
    ("TransformerDecoderLayer", (8, 2), {"dim_feedforward": 16, "dropout": 0.0},
     [(3, 2, 8), (4, 2, 8)]),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3)]),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 5)]),
    ("BatchNorm2d", (3,), {}, [(2, 3, 4, 4)]),
    ("Bilinear", (3, 4, 2), {}, [(2, 3), (2, 4)]),
    ("PReLU", (3,), {}, [(2, 3)]),
    ("EmbeddingBag", (10, 3), {"mode": "mean"}, [("int", 6, 10), ("offsets", 0, 2, 5)]),
    ("LayerNorm", ((4,),), {"bias": False}, [(2, 4)]),
    ("RMSNorm", (4,), {}, [(2, 4)]),
    ("LSTMCell", (3, 4), {}, [(2, 3)]),
]


def module_inputs(rng, shapes):
    """Arrays for a MODULES row: float32 normals, ids or fixed offsets."""
    out = []
    for shape in shapes:
        if shape[0] == "int":
            out.append(rng.integers(0, shape[2], shape[1]))
        elif shape[0] == "offsets":
            out.append(np.array(shape[1:]))
        else:
            out.append(rng.standard_normal(shape).astype(np.float32))
    return out


def module_output(lib, module, arrays):
    """The module's (first) output on ``arrays``, as an array."""
    args = [(torch.from_numpy if lib is torch else ember.from_numpy)(a) for a in arrays]
    if isinstance(module, lib.nn.MultiheadAttention) and len(args) == 1:
        args *= 3
    with lib.no_grad():
        out = module(*args)
    while isinstance(out, tuple):
        out = out[0]
    return out.numpy()


@pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")
@pytest.mark.parametrize("case", MODULES, ids=lambda c: c[0])
def test_module_state_dict_crosses_both_ways(tmp_path, case):
    name, args, kwargs, shapes = case
    arrays = module_inputs(np.random.default_rng(0), shapes)
    ember.manual_seed(1)
    mine = getattr(ember.nn, name)(*args, **kwargs).eval()
    ember.save(mine.state_dict(), tmp_path / "e.safetensors")
    twin = getattr(torch.nn, name)(*args, **kwargs).eval()
    twin.load_state_dict(st.load_file(tmp_path / "e.safetensors"), strict=True)
    np.testing.assert_allclose(module_output(ember, mine, arrays),
                               module_output(torch, twin, arrays), rtol=1e-5, atol=1e-6)
    torch.manual_seed(2)
    twin = getattr(torch.nn, name)(*args, **kwargs).eval()
    st.save_file(twin.state_dict(), tmp_path / "t.safetensors")
    mine.load_state_dict(ember.load(tmp_path / "t.safetensors"), strict=True)
    np.testing.assert_allclose(module_output(ember, mine, arrays),
                               module_output(torch, twin, arrays), rtol=1e-5, atol=1e-6)


# --- every tensor of a nested checkpoint, in torch ----------------------------------------------

def tensor_names(node, obj, out):
    """Walk ember's JSON description beside the saved object: {tensor name: tensor}."""
    if isinstance(node, list):
        for n, v in zip(node, obj):
            tensor_names(n, v, out)
    elif isinstance(node, dict) and ("tensor" in node or "ndarray" in node):
        out[node.get("tensor", node.get("ndarray"))] = obj
    elif isinstance(node, dict) and "tuple" in node:
        tensor_names(node["tuple"], obj, out)
    elif isinstance(node, dict) and ({"dict", "odict", "counter"} & set(node)):
        items = next(node[k] for k in ("dict", "odict", "counter") if k in node)
        for (_, n), v in zip(items, obj.values()):
            tensor_names(n, v, out)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_every_checkpoint_tensor_is_readable_by_torch(tmp_path, seed):
    ckpt = fz.random_checkpoint(np.random.default_rng(seed))
    ember.save(ckpt, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    description = json.loads(json.loads(data[8:8 + n])["__metadata__"]["ember"])
    want = tensor_names(description["tree"], ckpt, {})
    got = st.load_file(tmp_path / "c.pt")
    assert set(got) == set(want)
    for name, t in want.items():
        arr = t.detach().numpy() if isinstance(t, ember.Tensor) else t
        g = got[name]
        if arr.dtype == np.complex128:  # stored as float64 (real, imaginary) pairs
            g = torch.view_as_complex(g) if g.numel() else g.reshape(arr.shape).to(torch.cdouble)
        assert tuple(g.shape) == arr.shape, name
        assert fz._bits(g.numpy()) == fz._bits(arr), name
    # the model part loads into a torch model of the same layout
    model = fz.make_model(0)
    twin = build(torch, [("Embedding", 7, 4), ("Flatten",), ("Linear", 8, 6),
                         ("BatchNorm1d", 6), ("ReLU",), ("Dropout", 0.25), ("Linear", 6, 3)])
    twin.load_state_dict({k[len("model."):]: v for k, v in got.items()
                          if k.startswith("model.")}, strict=True)
    x = np.random.default_rng(seed).integers(0, 7, (5, 2))
    model.load_state_dict(ember.load(tmp_path / "c.pt")["model"])
    np.testing.assert_allclose(outputs(ember, model.eval(), ember.from_numpy(x)),
                               outputs(torch, twin.eval(), torch.from_numpy(x)),
                               rtol=1e-5, atol=1e-6)


# --- files written by torch.save ----------------------------------------------------------------

def to_torch(obj):
    """The checkpoint with torch tensors (NumPy values kept), for torch.save."""
    if isinstance(obj, ember.Tensor):
        t = torch.from_numpy(obj.detach().numpy().copy())
        if isinstance(obj, ember.nn.Parameter):
            return torch.nn.Parameter(t, requires_grad=obj.requires_grad)
        return t.requires_grad_(obj.requires_grad)
    if isinstance(obj, dict):
        out = type(obj)() if type(obj) in (OrderedDict, Counter) else {}
        for k, v in obj.items():
            out[k] = to_torch(v)
        return out
    if isinstance(obj, (list, tuple)):
        values = [to_torch(v) for v in obj]
        return values if isinstance(obj, list) else tuple(values)
    return obj


class Evil:
    """Unpickling this runs code."""

    def __reduce__(self):
        return (exec, ("import builtins; builtins._ember_fuzz_pwned = True",))


@pytest.mark.parametrize("seed", SEEDS)
def test_torch_save_files_are_refused_and_never_unpickled(tmp_path, seed):
    rng = np.random.default_rng(seed)
    sd = to_torch(fz.trained_state(seed, fz._pick(rng, ["sgd", "adamw"]))["model"])
    cases = {"zip.pt": sd, "legacy.pt": sd, "evil.pt": {"w": torch.ones(2), "x": Evil()}}
    for name, obj in cases.items():
        torch.save(obj, tmp_path / name, _use_new_zipfile_serialization=name != "legacy.pt")
    for name in cases:
        path = tmp_path / name
        for weights_only in (True, False):
            with pytest.raises(RuntimeError) as info:
                ember.load(path, weights_only=weights_only)
            message = str(info.value)
            assert str(path) in message and "never unpickles" in message
            assert ("zip archive" if name != "legacy.pt" else "pickle") in message
    # torch's restricted unpickler reads the harmless files and refuses the malicious one
    for name in ("zip.pt", "legacy.pt"):
        back = torch.load(tmp_path / name, weights_only=True)
        assert list(back) == list(sd) and all(torch.equal(back[k], sd[k]) for k in sd)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(tmp_path / "evil.pt", weights_only=True)
    assert not hasattr(builtins, "_ember_fuzz_pwned")


def test_saving_through_a_symlink_as_torch_save(tmp_path):
    outcome = {}
    for lib in (torch, ember):
        folder = tmp_path / lib.__name__
        (folder / "run").mkdir(parents=True)
        lib.save({"step": 1}, folder / "run" / "ckpt.pt")
        os.chmod(folder / "run" / "ckpt.pt", 0o600)
        os.symlink(os.path.join("run", "ckpt.pt"), folder / "best.pt")
        lib.save({"step": 2}, folder / "best.pt")
        outcome[lib] = ((folder / "best.pt").is_symlink(),
                        lib.load(folder / "run" / "ckpt.pt", weights_only=True),
                        os.stat(folder / "run" / "ckpt.pt").st_mode & 0o777,
                        sorted(os.listdir(folder / "run")))
    assert outcome[ember] == outcome[torch] == (True, {"step": 2}, 0o600, ["ckpt.pt"])


# --- sharing and requires_grad, against torch.save / torch.load -----------------------------------

def test_sharing_and_requires_grad_against_torch_save(tmp_path):
    def make(lib):
        base = lib.arange(12.0).reshape(3, 4).requires_grad_()
        return {"a": base, "again": base, "row": base.detach()[1], "t": base.detach().t(),
                "p": lib.nn.Parameter(lib.ones(2)),
                "frozen": lib.nn.Parameter(lib.ones(2), requires_grad=False),
                "non_leaf": base * 2, "ints": lib.arange(3)}

    buf = io.BytesIO()
    torch.save(make(torch), buf)
    buf.seek(0)
    want = torch.load(buf, weights_only=True)
    ember.save(make(ember), tmp_path / "e.pt")
    got = ember.load(tmp_path / "e.pt")
    assert list(got) == list(want)
    for k in want:  # the same flags and types as torch's
        assert got[k].requires_grad == want[k].requires_grad, k
        assert got[k].is_leaf and want[k].is_leaf and got[k].grad is None, k
        assert (type(got[k]) is ember.nn.Parameter) == (type(want[k]) is torch.nn.Parameter), k
        np.testing.assert_array_equal(got[k].detach().numpy(), want[k].detach().numpy())
    # torch.load restores the sharing, ember.load gives each tensor its own memory
    assert want["again"] is want["a"]
    assert want["row"].untyped_storage().data_ptr() == want["a"].untyped_storage().data_ptr()
    assert got["again"] is not got["a"]
    with torch.no_grad(), ember.no_grad():
        want["a"].zero_()
        got["a"].zero_()
    assert float(want["row"].sum()) == 0 and float(got["row"].sum()) == 22


# --- optimizer and scheduler state dicts: what a round trip gives, against torch's ---------------

def signature(obj):
    """Container types, keys and leaf types (tensors: dtype, shape, requires_grad)."""
    if isinstance(obj, (ember.Tensor, torch.Tensor)):
        return ("tensor", str(obj.dtype).rpartition(".")[2], tuple(obj.shape), obj.requires_grad)
    if isinstance(obj, dict):
        return (type(obj).__name__, [(signature(k), signature(v)) for k, v in obj.items()])
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [signature(v) for v in obj])
    return type(obj).__name__


OPTIMIZERS = {"SGD": {"lr": 0.1, "momentum": 0.9, "nesterov": True},
              "AdamW": {"amsgrad": True}, "Adam": {}, "RMSprop": {"centered": True},
              "Adagrad": {}, "Adadelta": {}, "Adamax": {}, "NAdam": {}, "RAdam": {},
              "ASGD": {}, "Rprop": {}, "Adafactor": {}, "LBFGS": {}}
SCHEDULERS = {
    "StepLR": lambda L, o: L.StepLR(o, 2),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, [1, 3, 3]),
    "ConstantLR": lambda L, o: L.ConstantLR(o, total_iters=4),
    "LinearLR": lambda L, o: L.LinearLR(o, total_iters=5),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2),
    "CyclicLR": lambda L, o: L.CyclicLR(o, 0.01, 0.1, 2, mode="exp_range", gamma=0.9),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, 1.0, total_steps=10, three_phase=True),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, 5, power=2.0),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.9**e),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9),
    "ReduceLROnPlateau": lambda L, o: L.ReduceLROnPlateau(o, patience=0),
    "SequentialLR": lambda L, o: L.SequentialLR(o, [L.ConstantLR(o), L.ExponentialLR(o, 0.5)],
                                                [2]),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ConstantLR(o),
                                                         L.ExponentialLR(o, 0.7)]),
}


def stepped_state(lib, optimizer, scheduler):
    """{"optim": ..., "sched": ...} state dicts after three steps of a tiny problem."""
    params = [lib.nn.Parameter(lib.ones(3, 2)), lib.nn.Parameter(lib.ones(2))]
    opt = getattr(lib.optim, optimizer)(params, **OPTIMIZERS[optimizer])
    sched = SCHEDULERS[scheduler](lib.optim.lr_scheduler, opt)

    def closure():
        opt.zero_grad()
        loss = (params[0] ** 2).sum() + (params[1] ** 3).sum()
        loss.backward()
        return loss

    for i in range(3):
        opt.step(closure)
        sched.step([3.0, 2.0, 2.5][i]) if scheduler == "ReduceLROnPlateau" else sched.step()
    return {"optim": opt.state_dict(), "sched": sched.state_dict()}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("optimizer, scheduler",
                         list(zip(OPTIMIZERS, list(SCHEDULERS)[:len(OPTIMIZERS)]))
                         + [("SGD", name) for name in list(SCHEDULERS)[len(OPTIMIZERS):]])
def test_state_dicts_come_back_as_torch_load_gives_them(optimizer, scheduler):
    # regression: MultiStepLR's milestones (a Counter) came back as a plain dict
    want = stepped_state(torch, optimizer, scheduler)
    buf = io.BytesIO()
    torch.save(want, buf)
    buf.seek(0)
    want = torch.load(buf, weights_only=True)
    buf = io.BytesIO()
    ember.save(stepped_state(ember, optimizer, scheduler), buf)
    got = ember.load(io.BytesIO(buf.getvalue()))
    assert signature(got) == signature(want)
