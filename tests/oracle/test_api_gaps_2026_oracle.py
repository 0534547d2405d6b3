"""Top-level API gaps against torch (CPU build): ``accelerator``, ``version``/``__version__``,
``functional``, the autocast state functions, ``mps``/``xpu``/``get_device_module``,
``set_default_tensor_type`` and ``from_file``. Each case runs the same source on both
libraries and compares the result, or the exception type and message, and the warnings.

geqrf/ormqr and the ``*_copy`` views are in ``test_api_gaps_2026_linalg_oracle.py``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

_TRIGGERED = re.compile(r" \(Triggered internally at .*\)$", re.S)


def _norm(text: str) -> str:
    """Library-neutral text: module names and object addresses dropped."""
    text = _TRIGGERED.sub("", str(text))
    text = re.sub(r" at 0x[0-9a-f]+", "", text)
    return text.replace("ember", "torch")


def outcome(lib, src, env=None):
    """(``repr`` of the value or (exception type, message), [(warning type, message)])."""
    scope = {"L": lib, "np": np, **(env or {})}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", _norm(repr(eval(src, scope))))
        except Exception as e:  # noqa: BLE001  (the exception is the outcome)
            result = (type(e).__name__, _norm(str(e)))
    ours = [w for w in caught if "ember.autocast: ops run at full precision" not in str(w.message)]
    return result, [(w.category.__name__, _norm(w.message)) for w in ours]


def assert_same(src, env=None):
    got, want = outcome(ember, src, env), outcome(torch, src, env)
    assert got == want, f"{src}\n ember: {got}\n torch: {want}"


# --- accelerator ---------------------------------------------------------------------------
ACCELERATOR = [
    "L.accelerator.is_available()", "L.accelerator.current_accelerator()",
    "L.accelerator.current_accelerator(True)", "L.accelerator.device_count()",
    "L.accelerator.current_device_index()", "L.accelerator.current_device_idx()",
    "L.accelerator.set_device_index(0)", "L.accelerator.set_device_index(-1)",
    "L.accelerator.set_device_index('cpu')", "L.accelerator.set_device_index('cuda:0')",
    "L.accelerator.set_device_index(None)", "L.accelerator.set_device_index(1.5)",
    "L.accelerator.set_device_idx(0)", "L.accelerator.set_device_idx(-2)",
    "L.accelerator.synchronize()", "L.accelerator.synchronize(0)",
    "L.accelerator.synchronize('cpu')", "L.accelerator.synchronize(L.device('cuda'))",
    "L.accelerator.current_stream()", "L.accelerator.current_stream(-1)",
    "L.accelerator.set_stream(None)", "L.accelerator.device_index(0).__enter__()",
    "L.accelerator.device_index(None).__enter__()",
    "L.accelerator.device_index(None).__exit__(None, None, None)",
    "L.accelerator.empty_cache()", "L.accelerator.empty_host_cache()",
    "L.accelerator.memory_stats()", "L.accelerator.memory_stats(L.device('cuda', 0))",
    "L.accelerator.memory_allocated()", "L.accelerator.max_memory_allocated()",
    "L.accelerator.memory_reserved()", "L.accelerator.max_memory_reserved()",
    "L.accelerator.reset_accumulated_memory_stats()", "L.accelerator.reset_peak_memory_stats()",
    "L.accelerator.get_memory_info()", "L.accelerator.get_memory_info('cpu')",
    "L.accelerator.get_device_capability()", "L.accelerator.get_device_capability('cpu')",
    "L.accelerator.Graph()",
    "L.accelerator.current_accelerator().type if L.accelerator.is_available() else 'cpu'",
    "sorted(L.accelerator.__all__)",
]


@pytest.mark.parametrize("src", ACCELERATOR)
def test_accelerator_answers_as_a_cpu_build(src):
    assert_same(src)


# --- version -------------------------------------------------------------------------------
def test_version_module_has_torchs_fields_and_no_gpu():
    import ember.version as ev

    assert sorted(ev.__all__) == sorted(torch.version.__all__)
    for name in ("cuda", "hip", "rocm", "xpu", "debug"):
        assert getattr(ev, name) == getattr(torch.version, name), name
    assert isinstance(ev.git_version, str)
    assert ember.__version__ == ev.__version__ and isinstance(ember.__version__, str)
    assert type(ember.__version__) is ember.torch_version.TorchVersion


VERSIONS = ["2.13.0+cpu", "2.13.0", "2.13", "2.13.0rc1", "2.13.0.dev20240101", "2.13.0.post1",
            "2.13.0a1.dev2", "1.0", "1.0.0.0", "parrot", "2.13.0+cu121", "0!1.0", "1.0-1",
            "2.1.0a0+git123", "2.1.0a0", "0.1.0", "1.10", "1.9.1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_torch_version_compares_as_torchs(version):
    from torch.torch_version import TorchVersion as TV

    EV = ember.torch_version.TorchVersion
    for other in [*VERSIONS, (2, 13), (2, 13, 0), (2, 12, 1), (1,), (0, 1)]:
        for op in ("__gt__", "__lt__", "__eq__", "__ge__", "__le__"):
            assert getattr(EV(version), op)(other) == getattr(TV(version), op)(other), \
                (version, other, op)


# --- functional ----------------------------------------------------------------------------
def test_functional_module_has_torchs_names_as_the_top_level_functions():
    import ember.functional as ef

    assert sorted(ef.__all__) == sorted(torch.functional.__all__)
    for name in torch.functional.__all__:
        assert getattr(ef, name) is getattr(ember, name), name


@pytest.mark.parametrize("src", [
    "L.functional.einsum('ij,jk->ik', L.arange(6.).reshape(2, 3), L.arange(12.).reshape(3, 4))",
    "L.functional.cartesian_prod(L.tensor([1, 2]), L.tensor([3, 4, 5]))",
    "L.functional.unravel_index(L.tensor([7, 3]), (2, 4))",
    "L.functional.broadcast_shapes((2, 1), (1, 3))",
    "L.functional.block_diag(L.ones(1, 2), L.ones(2, 1))",
    "L.functional.atleast_2d(L.tensor(1.))",
    "L.functional.unique(L.tensor([3, 1, 3, 2]), return_counts=True)",
    "L.functional.tensordot(L.arange(6.).reshape(2, 3), L.arange(6.).reshape(3, 2), dims=1)",
    "L.functional.split(L.arange(5), 2)",
])
def test_functional_functions_compute_as_torchs(src):
    assert_same(src)


# --- autocast state ------------------------------------------------------------------------
@pytest.fixture
def restore_autocast():
    """Both libraries' autocast state put back after the test."""
    saved = {L: ({d: L.get_autocast_dtype(d) for d in ("cpu", "cuda", "xla", "ipu", "mps")},
                 L.is_autocast_cache_enabled()) for L in (torch, ember)}
    yield
    for L, (dtypes, cache) in saved.items():
        for d, dt in dtypes.items():
            L.set_autocast_dtype(d, dt)
        for d in ("cpu", "cuda", "xla", "ipu", "mps"):
            L.set_autocast_enabled(d, False)
        L.set_autocast_cache_enabled(cache)


AUTOCAST_QUERIES = [
    f"L.{fn}({d!r})" for fn in ("get_autocast_dtype", "is_autocast_enabled")
    for d in ("cpu", "cuda", "mps", "xpu", "ipu", "xla", "hpu", "mtia", "maia", "privateuseone",
              "hip", "meta", "lazy", "foo", "CPU", "cuda:0", "cpu:1")
] + [
    "L.is_autocast_enabled()", "L.get_autocast_dtype()", "L.is_autocast_enabled(None)",
    "L.get_autocast_dtype(None)", "L.is_autocast_enabled(L.device('cpu'))",
    "L.is_autocast_enabled(device_type='cpu')", "L.get_autocast_cpu_dtype()",
    "L.get_autocast_gpu_dtype()", "L.get_autocast_ipu_dtype()", "L.get_autocast_xla_dtype()",
    "L.is_autocast_cpu_enabled()", "L.is_autocast_ipu_enabled()", "L.is_autocast_xla_enabled()",
    "L.is_autocast_cache_enabled()", "L.clear_autocast_cache()",
    "L.amp.is_autocast_available('cpu')", "L.amp.is_autocast_available('meta')",
    "L.amp.is_autocast_available('lazy')", "L.amp.is_autocast_available('foo')",
]


@pytest.mark.parametrize("src", AUTOCAST_QUERIES)
def test_autocast_queries_answer_as_torchs(src):
    assert_same(src)


# each case: statements run in order, then the state read back
AUTOCAST_SETTERS = [
    "L.set_autocast_dtype('cpu', L.float16)", "L.set_autocast_dtype('cpu', L.float32)",
    "L.set_autocast_dtype('cpu', L.int64)", "L.set_autocast_dtype('cpu', 'x')",
    "L.set_autocast_dtype(1, L.float16)", "L.set_autocast_dtype('foo', L.float16)",
    "L.set_autocast_dtype('cpu', None)", "L.set_autocast_dtype('meta', L.float16)",
    "L.set_autocast_dtype('foo', 'x')",
    "L.set_autocast_dtype('hip', L.bfloat16)",
    "L.set_autocast_dtype(device_type='xla', dtype=L.float16)",
    "L.set_autocast_enabled('cpu', True)", "L.set_autocast_enabled(True)",
    "L.set_autocast_enabled('cuda', True)", "L.set_autocast_enabled('cpu')",
    "L.set_autocast_enabled('cpu', 1)", "L.set_autocast_enabled(1)",
    "L.set_autocast_enabled('cpu', None)", "L.set_autocast_enabled(1, True)",
    "L.set_autocast_enabled('foo', 1)", "L.set_autocast_enabled('meta', True)",
    "L.set_autocast_enabled(device_type='cpu', enabled=True)",
    "L.set_autocast_cpu_enabled(True)", "L.set_autocast_cpu_enabled(1)",
    "L.set_autocast_cpu_dtype(L.float16)", "L.set_autocast_cpu_dtype('x')",
    "L.set_autocast_gpu_dtype(L.bfloat16)", "L.set_autocast_ipu_dtype(L.bfloat16)",
    "L.set_autocast_ipu_enabled(True)", "L.set_autocast_xla_dtype(L.float16)",
    "L.set_autocast_xla_enabled(True)", "L.set_autocast_cache_enabled(False)",
    "L.set_autocast_cache_enabled(1)",
]
STATE = ("(L.is_autocast_enabled('cpu'), L.is_autocast_enabled(), L.is_autocast_enabled('ipu'), "
         "L.is_autocast_enabled('xla'), L.get_autocast_dtype('cpu'), "
         "L.get_autocast_dtype('cuda'), L.get_autocast_dtype('ipu'), "
         "L.get_autocast_dtype('xla'), L.get_autocast_dtype('hip'), "
         "L.is_autocast_cache_enabled())")


@pytest.mark.parametrize("src", AUTOCAST_SETTERS)
def test_autocast_setters_change_state_as_torchs(src, restore_autocast):
    assert_same(src)
    assert_same(STATE)


def test_autocast_nesting_counts_as_torchs():
    for L in (torch, ember):
        counts = [L.autocast_increment_nesting(), L.autocast_increment_nesting(),
                  L.autocast_decrement_nesting(), L.autocast_decrement_nesting(),
                  L.autocast_decrement_nesting(), L.autocast_increment_nesting()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ember's note that it computes at full precision
            with L.autocast("cpu"):
                inside = [L.autocast_increment_nesting(), L.autocast_decrement_nesting()]
        after = [L.autocast_increment_nesting(), L.autocast_decrement_nesting()]
        assert counts == [1, 2, 1, 0, -1, 0] and inside == [2, 1] and after == [1, 0], L


@pytest.mark.parametrize("args", [
    "'cpu'", "'cpu', dtype=L.float16", "'cpu', dtype=L.float32", "'cpu', enabled=False",
    "'cpu', cache_enabled=False", "'cuda'", "'mps'", "'xpu', dtype=L.bfloat16",
    "'xla', dtype=L.float64", "'hpu'", "'meta'", "'meta', dtype=L.float16", "'foo'", "1",
    "'privateuseone'",
])
def test_autocast_region_sets_and_restores_torchs_state(args, restore_autocast):
    src = (f"(lambda ctx: (ctx.__enter__() and None, {STATE}, "
           f"ctx.__exit__(None, None, None), {STATE}))(L.autocast({args}))")
    assert_same(src)


def test_autocast_state_inside_nested_regions_matches_torch(restore_autocast):
    seen = {}
    for L in (torch, ember):
        rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with L.autocast("cpu", dtype=L.bfloat16, cache_enabled=False):
                rows.append((L.is_autocast_enabled("cpu"), str(L.get_autocast_dtype("cpu")),
                             L.is_autocast_cache_enabled()))
                with L.autocast("cpu", dtype=L.float16, enabled=False):
                    rows.append((L.is_autocast_enabled("cpu"),
                                 str(L.get_autocast_dtype("cpu")), L.is_autocast_cache_enabled()))
                rows.append((L.is_autocast_enabled("cpu"), str(L.get_autocast_dtype("cpu")),
                             L.is_autocast_cache_enabled()))
        rows.append((L.is_autocast_enabled("cpu"), str(L.get_autocast_dtype("cpu")),
                     L.is_autocast_cache_enabled()))
        seen[L] = [tuple(_norm(v) if isinstance(v, str) else v for v in r) for r in rows]
    assert seen[ember] == seen[torch]


# --- mps / xpu / get_device_module ---------------------------------------------------------
DEVICE_MODULES = [
    f"L.mps.{fn}()" for fn in ("is_available", "device_count", "synchronize", "empty_cache",
                               "current_allocated_memory", "driver_allocated_memory",
                               "recommended_max_memory", "get_rng_state", "seed")
] + [
    "L.mps.manual_seed(1)", "L.mps.set_per_process_memory_fraction(0.5)",
    "L.mps.compile_shader('x')", "L.mps.load_metallib('x')",
    "L.mps.profiler.start()", "L.mps.profiler.stop()", "L.mps.set_rng_state(L.zeros(3))",
    "L.backends.mps.is_available()",
] + [
    f"L.xpu.{fn}()" for fn in (
        "is_available", "device_count", "is_initialized", "is_bf16_supported",
        "is_tf32_supported", "get_arch_list", "get_gencode_flags", "init", "current_device",
        "get_device_name", "get_device_properties", "get_device_capability", "synchronize",
        "current_stream", "mem_get_info", "get_per_process_memory_fraction", "initial_seed",
        "get_rng_state", "get_rng_state_all", "seed", "seed_all", "empty_cache", "memory_stats",
        "memory_stats_as_nested_dict", "memory_snapshot", "memory_allocated",
        "max_memory_allocated", "memory_reserved", "max_memory_reserved", "Stream", "Event")
] + [
    "L.xpu.manual_seed(1)", "L.xpu.manual_seed_all(1)", "L.xpu.set_device(0)",
    "L.xpu.set_stream(None)", "L.xpu.set_rng_state(L.zeros(3))", "L.xpu.set_rng_state_all([])",
    "L.xpu.memory_allocated('xpu:0')", "L.xpu.memory_stats(0)", "L.xpu.default_generators",
    "L.xpu.can_device_access_peer(0, 1)", "L.xpu.set_per_process_memory_fraction(0.5)",
    "L.xpu.device(0).__enter__()", "L.xpu.device('xpu').__enter__()",
    "L.xpu.device(None).__enter__()", "L.xpu.device('cpu')",
    "L.xpu.device_of(L.zeros(1)).__enter__()", "L.xpu.stream(None).__enter__()",
    "L.xpu.is_bf16_supported(False)",
] + [
    f"L.get_device_module({d}).__name__"
    for d in ("'mps'", "'xpu'", "'cpu'", "'cuda'", "None", "L.device('xpu', 1)", "'cuda:0'",
              "1", "'meta'")
]


@pytest.mark.parametrize("src", DEVICE_MODULES)
def test_device_modules_answer_as_a_cpu_build(src):
    assert_same(src)


def test_device_modules_export_what_torchs_export():
    assert sorted(ember.mps.__all__) == sorted(torch.mps.__all__)
    missing = set(torch.xpu.__all__) - set(ember.xpu.__all__)
    # telemetry needing pyzes, graphs, pluggable allocators and memory pools are left out
    assert missing <= {"XPUPluggableAllocator", "XPUGraph", "change_current_allocator",
                       "clock_rate", "device_memory_used", "get_stream_from_external", "graph",
                       "graph_pool_handle", "is_current_stream_capturing",
                       "make_graphed_callables", "memory_usage", "MemPool", "power_draw",
                       "use_mem_pool", "streams", "temperature", "utilization"}, missing


# --- set_default_tensor_type ---------------------------------------------------------------
@pytest.fixture
def restore_default_dtype():
    yield
    for L in (torch, ember):
        L.set_default_dtype(L.float32)


@pytest.mark.parametrize("arg", [
    "L.DoubleTensor", "'torch.DoubleTensor'", "L.FloatTensor", "'torch.FloatTensor'",
    "L.HalfTensor", "L.LongTensor", "'torch.LongTensor'", "L.IntTensor",
    "'torch.cuda.FloatTensor'", "'torch.cuda.DoubleTensor'", "'float'", "'DoubleTensor'",
    "'torch.Foo'", "L.float64", "L.Tensor", "1", "None", "L.complex64",
])
def test_set_default_tensor_type_sets_the_default_dtype_or_raises_as_torch(
        arg, restore_default_dtype):
    src = (f"(L.set_default_tensor_type({arg}), L.get_default_dtype(), L.tensor([1.5]).dtype, "
           "L.Tensor([1]).dtype)")
    got, want = outcome(ember, src), outcome(torch, src)
    assert got[0] == want[0], (arg, got, want)  # torch warns once per process: see the next test


def test_set_default_tensor_type_warns_deprecation_once(restore_default_dtype):
    from ember import _default_tensor_type

    _default_tensor_type._warned[0] = False
    with pytest.raises(TypeError):  # a rejected type neither warns nor counts, as in torch
        ember.set_default_tensor_type(ember.LongTensor)
    with pytest.warns(UserWarning, match=r"torch.set_default_tensor_type\(\) is deprecated as "
                                         r"of PyTorch 2.1, please use torch.set_default_dtype"):
        ember.set_default_tensor_type(ember.DoubleTensor)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.set_default_tensor_type("torch.FloatTensor")
    assert ember.get_default_dtype() == ember.float32


def test_set_default_tensor_type_cuda_type_object_raises_type_error():
    with pytest.raises(TypeError, match="not available. Torch not compiled with CUDA enabled."):
        ember.set_default_tensor_type(ember.cuda.FloatTensor)


# --- from_file -----------------------------------------------------------------------------
FROM_FILE = [
    "L.from_file(f, size=10)", "L.from_file(f)", "L.from_file(f, size=4)",
    "L.from_file(f, size=11)", "L.from_file(f, size=3, dtype=L.int32)",
    "L.from_file(f, size=2, dtype=L.float64)", "L.from_file(f, size=5, dtype=L.int16)",
    "L.from_file(f, size=2, dtype=L.bool)", "L.from_file(f, size=2, dtype=L.complex64)",
    "L.from_file(f, size=2, dtype=L.float16)", "L.from_file(f, size=2, dtype=L.uint8)",
    "L.from_file(f, None, 3)", "L.from_file(f, False, 3)", "L.from_file(f.encode(), size=2)",
    "L.from_file(f, size=2, requires_grad=True)", "L.from_file(f, size=-1)",
    "L.from_file(1, size=2)", "L.from_file(f, size=2.0)", "L.from_file(f, shared=1, size=2)",
    "L.from_file(f, size=2, pin_memory=True)", "L.from_file(missing, size=2)",
    "L.from_file(missing, shared=False, size=2)", "L.from_file(missing, size=0)",
    "L.from_file(filename=f, size=2, layout=L.strided, device='cpu')",
]


@pytest.mark.parametrize("src", FROM_FILE)
def test_from_file_reads_the_bytes_as_torch(src, tmp_path):
    path = tmp_path / "data.bin"
    np.arange(10, dtype=np.float32).tofile(path)
    env = {"f": str(path), "missing": str(tmp_path / "missing.bin")}
    got, want = outcome(ember, src, env), outcome(torch, src, env)
    assert got == want, f"{src}\n ember: {got}\n torch: {want}"


def test_from_file_shared_writes_reach_the_file_and_private_ones_do_not(tmp_path):
    results = []
    for L in (torch, ember):
        path = tmp_path / f"{L.__name__}.bin"
        np.arange(10, dtype=np.float32).tofile(path)
        grown = L.from_file(str(path), shared=True, size=12)  # grows the file to 48 bytes
        grown[0] = 100.0
        grown.add_(1.0)
        private = L.from_file(str(path), shared=False, size=10)
        private[1] = 200.0
        created = L.from_file(str(tmp_path / f"{L.__name__}_new.bin"), shared=True, size=3)
        results.append((np.fromfile(path, np.float32).tolist(), private.tolist(),
                        created.tolist(), (tmp_path / f"{L.__name__}_new.bin").stat().st_size))
    assert results[0] == results[1]
    assert results[1][0][:3] == [101.0, 2.0, 3.0] and len(results[1][0]) == 12


def test_from_file_bfloat16_decodes_the_high_halves_as_torch(tmp_path):
    path = tmp_path / "bf.bin"
    np.array([1.5, -2.25, 3e38, 0.1], dtype=np.float32).tofile(path)
    got = ember.from_file(str(path), size=8, dtype=ember.bfloat16).float()
    want = torch.from_file(str(path), size=8, dtype=torch.bfloat16).float()
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("src", [
    "L.BoolTensor([True, False])", "L.BoolTensor(2, 3).shape", "L.ones(2).type(L.BoolTensor)",
    "L.ones(2).type('torch.BoolTensor')", "L.tensor([True]).type()",
    "isinstance(L.tensor([True]), L.BoolTensor)", "isinstance(L.tensor([1]), L.BoolTensor)",
    "L.BoolTensor(L.tensor([1.0]))", "repr(L.BoolTensor)",
])
def test_bool_tensor_legacy_type_as_torch(src):
    got, want = outcome(ember, src), outcome(torch, src)
    assert got == want, (src, got, want)
