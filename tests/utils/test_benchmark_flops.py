"""ember.utils.benchmark, ember.utils.flop_counter and ember.utils.module_tracker, without
torch: timers against known waits, statistics against hand-computed ones, FLOP counts
against the formulas written out, module attribution, and nothing left patched."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd.function import Function, Op
from ember.utils import _flop_ops
from ember.utils import benchmark as bm
from ember.utils.flop_counter import FlopCounterMode, aten, register_flop_formula
from ember.utils.module_tracker import ModuleTracker


# --- Timer ---------------------------------------------------------------------------------
def test_timeit_measures_a_sleep():
    m = bm.Timer("time.sleep(0.002)", setup="import time").timeit(5)
    assert m.number_per_run == 5 and len(m.raw_times) == 1
    assert 0.002 <= m.median < 0.05
    assert m.times == [m.raw_times[0] / 5]


def test_blocked_autorange_spends_min_run_time_in_blocks():
    calls = []
    m = bm.Timer("sum(range(200))").blocked_autorange(
        callback=lambda number, t: calls.append((number, t)), min_run_time=0.05)
    assert sum(m.raw_times) >= 0.05
    assert calls == [(m.number_per_run, t) for t in m.raw_times]
    assert m.number_per_run >= 10  # a block is long enough for the clock not to matter
    assert 1e-8 < m.median < 1e-3


def test_adaptive_autorange_stops_when_confident_or_out_of_time():
    start = time.perf_counter()
    m = bm.Timer("sum(range(100))").adaptive_autorange(threshold=0.5, max_run_time=0.3)
    assert time.perf_counter() - start < 5
    assert (len(m.raw_times) > 3 and m.meets_confidence(0.5)) or sum(m.raw_times) > 0.3


def test_timer_globals_are_copied_and_torch_is_ember():
    g = {"x": ember.ones(3)}
    m = bm.Timer("y = torch.add(x, 1)", globals=g).timeit(3)
    assert set(g) == {"x"} and m.stmt == "y = torch.add(x, 1)"


def test_timer_dedents_block_strings():
    t = bm.Timer("""
        a = 1
        b = a + 1
    """, setup="""
        c = 2
    """)
    assert t._task_spec.stmt == "a = 1\nb = a + 1" and t._task_spec.setup == "c = 2"
    t.timeit(2)


def test_num_threads_limits_blas_while_timing_only():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p.get("user_api") == "blas"]

    before, before_ember = blas_threads(), ember.get_num_threads()
    seen = []
    stmt = "seen.append((torch.get_num_threads(), blas_threads()))"
    bm.Timer(stmt, globals={"seen": seen, "blas_threads": blas_threads},
             num_threads=1).timeit(2)
    assert seen and all(n == 1 and all(b == 1 for b in blas) for n, blas in seen)
    assert blas_threads() == before and ember.get_num_threads() == before_ember


def test_timer_unsupported_paths_raise():
    t = bm.Timer("pass")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        t.repeat()
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        t.autorange()
    with pytest.raises(NotImplementedError, match="Callgrind"):
        t.collect_callgrind()
    with pytest.raises(ValueError, match="repeats"):
        t.collect_callgrind(repeats=0)
    with pytest.raises(NotImplementedError):
        bm.Timer("x", language="c++")
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        bm.Timer("pass", global_setup="#include <x>")
    with pytest.raises(ValueError, match="only a `str` stmt"):
        bm.Timer(lambda: None)
    with pytest.raises(ValueError, match="Invalid language"):
        bm.Timer("pass", language="rust")


# --- Measurement ---------------------------------------------------------------------------
def _measurement(raw, number=1, **spec):
    return bm.Measurement(number, list(raw), bm.TaskSpec(spec.pop("stmt", "x + 1"),
                                                         spec.pop("setup", "pass"), **spec))


def _quantile(sorted_values, q):  # linear interpolation between closest ranks
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def test_measurement_statistics_from_raw_times():
    raw = [8e-3, 2e-3, 6e-3, 4e-3, 20e-3, 5e-3]
    m = _measurement(raw, number=2)
    times = sorted(t / 2 for t in raw)
    assert m.times == [t / 2 for t in raw]
    assert m.median == pytest.approx(_quantile(times, 0.5))
    assert m.mean == pytest.approx(sum(times) / len(times))
    assert m.iqr == pytest.approx(_quantile(times, 0.75) - _quantile(times, 0.25))
    assert m.has_warnings and not m.meets_confidence(0.25)


def test_significant_figures_from_the_interquartile_spread():
    raw = [1.0, 1.001, 1.002, 1.003, 1.0005, 1.0015, 1.0025, 1.0035]
    m = _measurement(raw)
    inner = sorted(raw)[len(raw) // 4:math.ceil(3 * len(raw) / 4)]
    mean = sum(inner) / len(inner)
    std = math.sqrt(sum((v - mean) ** 2 for v in inner) / len(inner))
    ci = 1.645 * std / math.sqrt(len(inner))
    assert m.significant_figures == min(max(math.floor(math.log10(m.median / ci)), 1), 4)
    assert m.significant_figures == 3
    assert _measurement([5.0] * 5).significant_figures == 4  # no spread: the cap
    assert not _measurement(raw).has_warnings


def test_measurement_repr_layout():
    lines = repr(_measurement([1.5e-3, 1.0e-3, 2.0e-3, 1.2e-3, 5.0e-3], label="L",
                              sub_label="s", description="d", num_threads=4)).splitlines()
    assert lines[0].startswith("<ember.utils.benchmark.common.Measurement object at 0x")
    assert lines[1:6] == ["L: s", "d", "  Median: 1.50 ms", "  IQR:    0.80 ms (1.20 to 2.00)",
                          "  5 measurements, 1 runs per measurement, 4 threads"]
    assert lines[6].startswith("  WARNING: Interquartile range is 53.3% of the median")
    one = repr(_measurement([2.5e-6], number=10, setup="a = 1")).splitlines()
    assert one[1:] == ["x + 1", "setup: a = 1", "  250.00 ns",
                       "  1 measurement, 10 runs , 1 thread"]


def test_measurement_merge_normalizes_runs():
    spec = bm.TaskSpec("x", "pass")
    merged = bm.Measurement.merge([bm.Measurement(2, [4.0, 6.0], spec),
                                   bm.Measurement(4, [4.0], spec),
                                   bm.Measurement(1, [9.0], bm.TaskSpec("y", "pass"))])
    assert [(m.stmt, m.number_per_run, m.raw_times) for m in merged] == [
        ("x", 1, [2.0, 3.0, 1.0]), ("y", 1, [9.0])]


def test_units_and_trimming():
    assert [bm.select_unit(t)[0] for t in (3e-9, 4e-6, 5e-3, 2.0)] == ["ns", "us", "ms", "s"]
    assert bm.unit_to_english("us") == "microsecond"
    assert bm.trim_sigfig(3.14159, 2) == pytest.approx(3.1)
    assert bm.trim_sigfig(123456, 2) == pytest.approx(120000)
    assert bm.ordered_unique([3, 1, 3, 2, 1]) == [3, 1, 2]


# --- Compare -----------------------------------------------------------------------------
def _results():
    rng = np.random.default_rng(0)
    out = []
    for threads in (1, 4):
        for sub in ("float", "int"):
            for desc, scale in (("n=1", 1e-6), ("n=1000", 1e-4)):
                spread = 0.3 if sub == "int" else 0.01
                raw = list(scale * (1 + spread * rng.random(8)))
                out.append(bm.Measurement(1, raw, bm.TaskSpec(
                    "x + 1", "pass", label="add", sub_label=sub, description=desc,
                    num_threads=threads)))
    return out


def test_compare_table_has_rows_columns_and_groups():
    text = str(bm.Compare(_results()))
    lines = text.splitlines()
    assert lines[0].startswith("[") and " add " in lines[0] and lines[0].endswith("]")
    assert "n=1" in lines[1] and "n=1000" in lines[1]
    assert lines[2].startswith("1 threads: ") and any(ln.startswith("4 threads: ")
                                                      for ln in lines)
    assert sum("float" in ln for ln in lines) == 2 and sum("int" in ln for ln in lines) == 2
    assert "Times are in microseconds (us)." in text
    row = next(ln for ln in lines if "float" in ln).split("|")
    assert float(row[1]) == pytest.approx(1.0, abs=0.1)    # medians in us
    assert float(row[2]) == pytest.approx(100.0, abs=5)


def test_compare_options_change_the_cells():
    plain, trimmed, colored, warned = (bm.Compare(_results()) for _ in range(4))
    trimmed.trim_significant_figures()
    colored.colorize()
    warned.highlight_warnings()
    assert "\033[" not in str(plain) and "\033[92m" in str(colored)
    assert "(! " in str(warned) and "Measurement has high variance" in str(warned)
    assert str(trimmed) != str(plain)
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        bm.Compare([1.0])


def test_compare_print(capsys):
    bm.Compare(_results()[:2]).print()
    assert "float" in capsys.readouterr().out


# --- FlopCounterMode -------------------------------------------------------------------------
class Mix(nn.Module):
    def forward(self, h):
        return ember.bmm(h.unsqueeze(2), h.unsqueeze(1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 5)
        self.mix = Mix()

    def forward(self, x):
        return self.mix(self.fc(self.conv(x).flatten(1)))


def test_counts_of_a_conv_linear_bmm_model_forward_and_backward():
    net, x = Net(), ember.randn(2, 3, 8, 8)
    with FlopCounterMode(display=False) as counter:
        net(x).sum().backward()
    conv = 2 * 2 * 4 * 3 * 3 * 3 * 8 * 8     # 2 N Cout Cin K K H W
    fc = 2 * 2 * 256 * 5                     # 2 N in out
    mix = 2 * 2 * 5 * 5 * 1                  # 2 B n p k
    counts = counter.get_flop_counts()
    # the input needs no gradient: the convolution's backward is the weight's only
    assert counts["Net.conv"] == {aten.convolution: conv, aten.convolution_backward: conv}
    assert counts["Net.fc"] == {aten.addmm: fc, aten.mm: 2 * fc}
    assert counts["Net.mix"] == {aten.bmm: 3 * mix}
    assert counts["Global"] == counts["Net"] == {**counts["Net.conv"], **counts["Net.fc"],
                                                 **counts["Net.mix"]}
    assert counter.get_total_flops() == 2 * conv + 3 * fc + 3 * mix


@pytest.mark.parametrize("shapes, grad, key, flops", [
    (((3, 4), (4, 5)), True, "aten.mm", 3 * 2 * 3 * 4 * 5),
    (((2, 3, 4), (4, 5)), True, "aten.mm", 3 * 2 * 6 * 4 * 5),          # batch folded into rows
    (((2, 3, 4), (4, 5)), False, "aten.mm", 2 * 6 * 4 * 5),
    (((2, 1, 3, 4), (3, 4, 5)), True, "aten.bmm", 3 * 2 * 6 * 3 * 4 * 5),  # broadcast batch
    (((3, 4), (2, 4, 5)), False, "aten.bmm", 2 * 2 * 3 * 4 * 5),         # no grad: not folded
    (((4,), (4, 5)), True, "aten.mm", 3 * 2 * 4 * 5),
    (((3, 4), (4,)), True, None, 0),                                     # mv: not counted
])
def test_matmul_is_counted_as_the_kernel_torch_runs(shapes, grad, key, flops):
    a, b = (ember.randn(*s, requires_grad=grad) for s in shapes)
    with FlopCounterMode(display=False) as counter:
        out = a @ b
        if grad:
            out.sum().backward()
    assert counter.get_flop_counts().get("Global", {}) == ({key: flops} if key else {})


def test_non_contiguous_batch_without_grad_is_a_bmm():
    a = ember.randn(3, 2, 4).transpose(0, 1)
    with FlopCounterMode(display=False) as counter:
        a @ ember.randn(4, 5)
    assert counter.get_flop_counts()["Global"] == {aten.bmm: 2 * 2 * 3 * 4 * 5}


def test_attention_addmm_baddbmm_and_einsum():
    q, k, v = ember.randn(2, 3, 5, 8), ember.randn(2, 3, 6, 8), ember.randn(2, 3, 6, 7)
    c = ember.randn(4, 5)
    with FlopCounterMode(display=False) as counter:
        nn.functional.scaled_dot_product_attention(q, k, v)
        ember.addmm(ember.randn(5), ember.randn(4, 3), ember.randn(3, 5))
        ember.baddbmm(ember.randn(2, 4, 5), ember.randn(2, 4, 3), ember.randn(2, 3, 5))
        ember.einsum("ij,jk,kl->il", ember.randn(4, 3), ember.randn(3, 5), c.t())
    counts = counter.get_flop_counts()["Global"]
    attention = 2 * 6 * 5 * 6 * 8 + 2 * 6 * 5 * 7 * 6
    assert counts == {aten.bmm: attention + 2 * 4 * 3 * 5 + 2 * 4 * 5 * 4,
                      aten.addmm: 2 * 4 * 3 * 5, aten.baddbmm: 2 * 2 * 4 * 3 * 5}


def test_recurrent_layers_count_every_step():
    lstm = nn.LSTM(4, 5)
    with FlopCounterMode(display=False) as counter:
        lstm(ember.randn(3, 2, 4))[0].sum().backward()
    gates = 4 * 5
    proj, step = 2 * 3 * 2 * 4 * gates, 2 * 2 * 5 * gates
    # neither the input nor the initial state needs a gradient: the input projection's
    # backward is W_ih's gradient only, the first step's W_hh's only
    assert counter.get_flop_counts()["LSTM"] == {aten.addmm: proj + 3 * step,
                                                 aten.mm: proj + 3 * step + 2 * step}


def test_only_the_gradients_asked_for_are_counted():
    x, w = ember.randn(3, 4, requires_grad=True), ember.randn(5, 4, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        ember.autograd.grad(nn.functional.linear(x, w).sum(), [x])
    assert counter.get_flop_counts()["Global"] == {aten.mm: 2 * 2 * 3 * 4 * 5}


def test_op_keys_are_torch_names():
    assert aten.mm == "aten.mm" and aten.convolution_backward == "aten.convolution_backward"
    with FlopCounterMode(display=False) as counter:
        ember.mm(ember.randn(2, 3), ember.randn(3, 4))
    (key,) = counter.get_flop_counts()["Global"]
    assert key == "aten.mm" and str(key) == "aten.mm"


def _patch_points():
    from ember.nn._attention import ScaledDotProductAttention
    from ember.nn.modules.rnn import RNNBase
    from ember.ops import linalg

    return {"Op.apply": vars(Op)["apply"], "Function.apply": vars(Function)["apply"],
            "ember.matmul": ember.matmul, "linalg.matmul": linalg.matmul,
            "__matmul__": ember.Tensor.__matmul__,
            "MatMul.backward": vars(linalg.MatMul)["backward"],
            "Linear.backward": vars(linalg.Linear)["backward"],
            "SDPA.backward": vars(ScaledDotProductAttention)["backward"],
            "RNNBase._run": vars(RNNBase)["_run"]}


def test_nothing_stays_patched_after_exit_even_on_error():
    before = _patch_points()
    with FlopCounterMode(display=False):
        inside = _patch_points()
        with FlopCounterMode(display=False):
            pass
        assert _patch_points() == inside
    assert all(inside[k] is not before[k] for k in before)  # they were wrapped inside
    with pytest.raises(ZeroDivisionError), FlopCounterMode(display=False):
        ember.randn(2, 2) @ ember.randn(2, 2)
        raise ZeroDivisionError
    after = _patch_points()
    assert all(after[k] is before[k] for k in before)
    assert not _flop_ops._saved and not _flop_ops._counters


def test_nested_counters_both_count():
    with FlopCounterMode(display=False) as outer:
        ember.randn(2, 3) @ ember.randn(3, 4)
        with FlopCounterMode(display=False) as inner:
            ember.randn(2, 3) @ ember.randn(3, 4)
    assert outer.get_total_flops() == 2 * inner.get_total_flops() == 2 * 48


def test_table_display_and_depth(capsys):
    net = Net()
    with FlopCounterMode(depth=1):
        net(ember.randn(2, 3, 8, 8))
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["Module", "FLOP", "%", "Total"]
    assert set(out[1]) == {"-", " "}
    total = 2 * 2 * 4 * 3 * 3 * 3 * 8 * 8 + 2 * 2 * 256 * 5 + 2 * 2 * 5 * 5
    # Net holds it all: no Global row
    assert out[2].split() == ["Net", f"{total / 1000:.3f}K", "100.00%"]
    assert not any("Net.fc" in line for line in out)
    with FlopCounterMode(display=False) as counter:
        net(ember.randn(2, 3, 8, 8))
        ember.randn(2, 3) @ ember.randn(3, 4)
    table = counter.get_table(depth=2).splitlines()
    assert table[2].split()[0] == "Global" and " Net.fc" in "\n".join(table)
    with FlopCounterMode(display=False) as empty:
        pass
    assert empty.get_table().splitlines()[2].split() == ["Global", "0", "0%"]


def test_register_flop_formula_and_custom_mapping():
    class Twice(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    @register_flop_formula(Twice)
    def twice_flop(x_shape, out_shape=None, **kwargs):
        return math.prod(x_shape)

    try:
        with pytest.raises(RuntimeError, match="duplicate registrations"):
            register_flop_formula(Twice)(twice_flop)
        with pytest.raises(ValueError, match="expected each target"):
            register_flop_formula(3)(twice_flop)
        with FlopCounterMode(display=False) as counter:
            Twice.apply(ember.randn(3, 4))
        assert counter.get_flop_counts()["Global"] == {Twice: 12}
    finally:
        from ember.utils import flop_counter
        del flop_counter.flop_registry[Twice]
    mapping = {aten.mm: lambda a, b, out_shape=None, **kw: 1,
               "aten.relu": lambda x, out_shape=None, **kw: out_shape[0]}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        ember.relu(ember.randn(7, 2) @ ember.randn(2, 2))
    assert counter.get_flop_counts()["Global"] == {aten.mm: 1, "aten.relu": 7}


def test_mods_argument_warns():
    with pytest.warns(UserWarning, match="mods argument is not needed"):
        FlopCounterMode(nn.Linear(2, 2))


# --- ModuleTracker -----------------------------------------------------------------------------
def test_module_tracker_parents_forward_and_backward():
    log = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            log.append(("fw", sorted(tracker.parents), tracker.is_bw))
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            log.append(("bw", sorted(tracker.parents), tracker.is_bw))
            return g

    class Leaf(nn.Module):
        def forward(self, x):
            return Probe.apply(x * 2)

    net = nn.Sequential(Leaf(), nn.Sequential(Leaf()))
    x = ember.randn(2, requires_grad=True)
    global_hooks = _global_hook_counts()
    with ModuleTracker() as tracker:
        y = net(x)
        assert tracker.parents == {"Global"} and not tracker.is_bw
        y.sum().backward()
        assert tracker.parents == {"Global"} and not tracker.is_bw
    assert _global_hook_counts() == global_hooks and not tracker._hooks
    assert log == [
        ("fw", ["Global", "Sequential", "Sequential.0"], False),
        ("fw", ["Global", "Sequential", "Sequential.1", "Sequential.1.0"], False),
        ("bw", ["Global", "Sequential", "Sequential.1", "Sequential.1.0"], True),
        ("bw", ["Global", "Sequential", "Sequential.0"], True),
    ]


def _global_hook_counts():
    from ember.nn.modules import _hooks

    return len(_hooks._global_forward_pre_hooks), len(_hooks._global_forward_hooks)
