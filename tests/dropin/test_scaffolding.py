"""The CPU scaffolding training scripts touch: cuda, backends, amp, distributed, compile,
threads, matmul precision, finfo/iinfo, histogram, jit; checked against torch's answers."""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")


# --- cuda ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["is_available", "device_count", "is_initialized",
                                  "is_bf16_supported", "memory_allocated",
                                  "max_memory_allocated"])
def test_cuda_queries_answer_like_a_cpu_build(call):
    assert getattr(ember.cuda, call)() == getattr(torch.cuda, call)()


def test_cuda_seeding_and_cache_calls_are_no_ops():
    assert ember.cuda.manual_seed(1) is None
    assert ember.cuda.manual_seed_all(1) is None
    assert ember.cuda.empty_cache() is None
    assert ember.cuda.synchronize() is None


@pytest.mark.parametrize("call", ["get_device_name", "current_device", "init",
                                  "get_device_capability"])
def test_cuda_device_calls_raise_clearly(call):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        getattr(ember.cuda, call)()


def test_cuda_amp_gradscaler_disables_itself_with_torchs_warning():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled()


# --- backends -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic",
                                  "cudnn.allow_tf32", "cuda.matmul.allow_tf32"])
def test_backend_flags_start_as_torchs(path):
    e, t = ember.backends, torch.backends
    for part in path.split("."):
        e, t = getattr(e, part), getattr(t, part)
    assert e == t


@pytest.mark.parametrize("call", ["cudnn.is_available", "mps.is_available", "mps.is_built",
                                  "cuda.is_built", "cuda.flash_sdp_enabled",
                                  "cuda.math_sdp_enabled"])
def test_backend_queries_answer_like_torch(call):
    e, t = ember.backends, torch.backends
    for part in call.split("."):
        e, t = getattr(e, part), getattr(t, part)
    assert e() == t()


def test_backend_flags_can_be_assigned_and_restored():
    old = ember.backends.cudnn.benchmark
    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.deterministic = True
    assert ember.backends.cudnn.benchmark is True
    with ember.backends.cudnn.flags(enabled=False):
        assert ember.backends.cudnn.enabled is False
    assert ember.backends.cudnn.enabled is True
    ember.backends.cudnn.benchmark = old
    ember.backends.cudnn.deterministic = False


def test_allow_tf32_is_tied_to_matmul_precision_as_in_torch():
    try:
        for lib in (ember, torch):
            lib.backends.cuda.matmul.allow_tf32 = True
        assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("medium")
        assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32
        with pytest.raises(AttributeError, match="Unknown attribute"):
            ember.backends.cuda.matmul.not_a_flag = 1
    finally:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("highest")


def test_bad_matmul_precision_warns_and_changes_nothing():
    with pytest.warns(UserWarning, match="has no effect"):
        ember.set_float32_matmul_precision("bad")
    assert ember.get_float32_matmul_precision() == "highest"


# --- threads ------------------------------------------------------------------------------------
def test_set_num_threads_round_trips():
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(before)
    assert ember.get_num_threads() == before


@pytest.mark.parametrize("bad, message", [(0, "positive integer"), (2.5, "expects an int")])
def test_set_num_threads_rejects_what_torch_rejects(bad, message):
    with pytest.raises(RuntimeError, match=message):
        ember.set_num_threads(bad)
    with pytest.raises(RuntimeError, match=message):
        torch.set_num_threads(bad)


# --- compile / jit ---------------------------------------------------------------------------
def test_compile_returns_the_function_unchanged_and_notes_it_once():
    def f(x):
        return x * 2

    ember._compat._compile_noted[0] = False
    with pytest.warns(UserWarning, match="no compiler"):
        assert ember.compile(f) is f
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.compile(f, mode="max-autotune") is f
        assert ember.compile(mode="reduce-overhead")(f) is f


def test_jit_script_and_trace_pass_through():
    def f(x):
        return x + 1

    assert ember.jit.script(f) is f
    assert ember.jit.trace(f, (ember.ones(2),)) is f
    assert ember.jit.is_scripting() is False
    assert ember.jit.ignore(f) is f and ember.jit.ignore(drop=True)(f) is f


# --- amp ----------------------------------------------------------------------------------------
def test_autocast_signature_matches_torch():
    assert list(inspect.signature(ember.autocast).parameters) == \
        list(inspect.signature(torch.autocast).parameters)
    assert list(inspect.signature(ember.amp.GradScaler).parameters) == \
        list(inspect.signature(torch.amp.GradScaler).parameters)


def test_autocast_cuda_disables_itself_with_torchs_warning():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        ctx = ember.autocast("cuda", dtype=ember.bfloat16)
    with ctx:
        assert not ember.is_autocast_enabled("cuda")


def test_autocast_cpu_tracks_state_but_computes_at_full_precision():
    x = ember.randn(3, 4)
    w = ember.randn(4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autocast(device_type="cpu", dtype=ember.bfloat16):
            assert ember.is_autocast_enabled("cpu") == True  # noqa: E712
            y = x @ w
    assert not ember.is_autocast_enabled("cpu")
    assert y.dtype == ember.float32
    assert_close(y, x.numpy() @ w.numpy())


def test_autocast_works_as_a_decorator():
    @ember.autocast("cpu", enabled=False)
    def f(x):
        return x + 1

    assert_close(f(ember.ones(2)), np.full(2, 2.0, np.float32))


def test_disabled_gradscaler_passes_through():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler(enabled=False)
    loss = (p * 2).sum()
    assert scaler.scale(loss) is loss
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert_close(p, np.full(2, 0.8, np.float32))
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def _scaler_run(lib, grads_scale, steps):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    scales = []
    for k in range(steps):
        opt.zero_grad()
        loss = (p * grads_scale[k]).sum()
        scaled = scaler.scale(loss)
        scaled.backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return p.detach().numpy().copy(), scales, scaler.state_dict()


def test_enabled_gradscaler_matches_torch_including_skipped_steps():
    factors = [2.0, float("inf"), 1.0, 3.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = _scaler_run(ember, factors, len(factors))
        t = _scaler_run(torch, factors, len(factors))
    assert_close(e[0], t[0])
    assert e[1] == t[1]
    assert e[2] == t[2]


def test_gradscaler_misuse_raises_torchs_errors():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    scaler = ember.amp.GradScaler("cpu")
    scaler.scale((p * 1).sum()).backward()
    with pytest.raises(RuntimeError, match="No inf checks"):
        scaler.update()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="empty"):
        scaler.load_state_dict({})


# --- distributed / parallel ------------------------------------------------------------------
def test_distributed_is_importable_and_uninitialised():
    from ember.distributed import destroy_process_group, init_process_group  # noqa: F401

    assert ember.distributed.is_available() is False
    assert ember.distributed.is_initialized() is torch.distributed.is_initialized()
    with pytest.raises(RuntimeError, match="no distributed backend"):
        init_process_group(backend="nccl")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        ember.distributed.get_rank()


def test_distributed_data_parallel_raises_when_constructed():
    from ember.nn.parallel import DistributedDataParallel as DDP

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DDP(ember.nn.Linear(2, 2))


def test_data_parallel_is_a_pass_through_with_torchs_state_dict_keys():
    from ember.nn.parallel import DataParallel

    inner = ember.nn.Linear(3, 2)
    model = DataParallel(inner)
    x = ember.randn(4, 3)
    assert_close(model(x), inner(x))
    assert list(model.state_dict()) == list(torch.nn.DataParallel(torch.nn.Linear(3, 2))
                                            .state_dict())


# --- finfo / iinfo / histogram ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16"])
def test_finfo_matches_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    assert repr(e) == repr(t)
    assert e.dtype == t.dtype
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(e, attr) == pytest.approx(getattr(t, attr), rel=1e-6), attr


@pytest.mark.parametrize("name", ["int64", "int32", "int16", "int8", "uint8"])
def test_iinfo_matches_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert repr(e) == repr(t)
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


def test_finfo_default_and_type_errors():
    assert ember.finfo().dtype == "float32"
    with pytest.raises(TypeError, match="floating point"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="not supported"):
        ember.iinfo(ember.bool)


@pytest.mark.parametrize("kwargs", [dict(bins=4), dict(bins=4, range=(0.0, 3.0)),
                                    dict(bins=3, density=True),
                                    dict(bins=3, weight=[1.0, 2.0, 3.0, 0.5, 1.0])])
def test_histogram_matches_torch(kwargs):
    data = [1.0, 2.0, 1.0, 0.25, 2.5]
    ek, tk = dict(kwargs), dict(kwargs)
    if "weight" in kwargs:
        ek["weight"], tk["weight"] = ember.tensor(kwargs["weight"]), torch.tensor(kwargs["weight"])
    e = ember.histogram(ember.tensor(data), **ek)
    t = torch.histogram(torch.tensor(data), **tk)
    assert_close(e.hist, t.hist)
    assert_close(e.bin_edges, t.bin_edges)


def test_histc_matches_torch():
    data = [1.0, 2.0, 1.0, 0.25, 5.0]
    assert_close(ember.histc(ember.tensor(data), bins=4),
                 torch.histc(torch.tensor(data), bins=4))
    assert_close(ember.histc(ember.tensor(data), bins=4, min=0, max=3),
                 torch.histc(torch.tensor(data), bins=4, min=0, max=3))
    with pytest.raises(NotImplementedError):
        ember.histc(ember.tensor([1, 2]))
