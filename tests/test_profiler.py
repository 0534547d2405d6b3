"""The profiler: events for a small MLP's forward and backward with torch's names, nesting and
self time from the intervals, record_function ranges, schedules, the Chrome trace, and every
patched object put back afterwards (also when the profiled block raises)."""
from __future__ import annotations

import gzip
import json
import os
import sys
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.autograd import _double_backward, engine
from ember.autograd.function import Function, Op
from ember.nn import functional as F
from ember.ops import elementwise
from ember.profiler import (
    ProfilerAction,
    ProfilerActivity,
    _record,
    profile,
    record_function,
    schedule,
)

EVAL = "autograd::engine::evaluate_function: "
ACC = "torch::autograd::AccumulateGrad"


def _mlp():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = ember.randn(5, 4)
    y = ember.tensor([0, 1, 2, 0, 1])
    return model, x, y


def _step(model, x, y):
    with record_function("forward"):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss


def _profiled_step(**options):
    model, x, y = _mlp()
    with profile(**options) as prof:
        _step(model, x, y)
    return prof


def _counts(prof):
    return {a.key: a.count for a in prof.key_averages()}


def _snapshot():
    """Every object the profiler may replace, by where it lives."""
    from ember.ops import linalg
    from ember.optim import optimizer

    subs, stack = {}, [Function]
    while stack:
        for c in stack.pop().__subclasses__():
            if c not in subs:
                subs[c] = vars(c).get("backward")
                stack.append(c)
    return {"op_apply": vars(Op)["apply"], "fn_apply": vars(Function)["apply"],
            "accumulate": vars(engine)["_accumulate"],
            "graph_accumulate": vars(_double_backward)["_accumulate"],
            "graph_call": vars(_double_backward)["_call"], "fast": vars(elementwise)["_fast"],
            "matmul": (ember.matmul, linalg.matmul, vars(ember.Tensor)["__matmul__"]),
            "zero_grad": vars(optimizer.Optimizer)["zero_grad"],
            "hooks": (dict(optimizer._global_optimizer_pre_hooks),
                      dict(optimizer._global_optimizer_post_hooks)),
            "backwards": subs}


def _assert_restored(before):
    after = _snapshot()
    for key, value in before.items():
        if key == "backwards":
            for cls, raw in value.items():
                assert vars(cls).get("backward") is raw, cls
        elif isinstance(value, tuple):
            assert all(a is b or a == b for a, b in zip(after[key], value)), key
        else:
            assert after[key] is value, key
    assert not _record._active and not _record._saved and not _record._log


# --- names and counts ---------------------------------------------------------------------
def test_mlp_events_have_torch_names_and_counts():
    counts = _counts(_profiled_step())
    assert counts["forward"] == 1
    assert counts["aten::linear"] == 2
    assert counts["aten::relu"] == 1
    assert counts["aten::cross_entropy_loss"] == 1
    for node, n in (("AddmmBackward0", 2), ("ReluBackward0", 1), ("NllLossBackward0", 1),
                    (ACC, 4)):
        assert counts[node] == n
        assert counts[EVAL + node] == n


def test_backward_events_are_the_graphs_nodes():
    model, x, y = _mlp()
    loss = F.cross_entropy(model(x), y)
    names, seen, stack = set(), set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node).__name__)
        stack += [n for n, _ in node.next_functions]
    with profile() as prof:
        loss.backward()
    recorded = {e.name[len(EVAL):] for e in prof.events() if e.name.startswith(EVAL)}
    assert recorded == {ACC if n == "AccumulateGrad" else n for n in names}
    assert all(e.scope == 1 for e in prof.events())


def test_user_function_forward_and_backward_are_named_after_it():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = ember.ones(3, requires_grad=True)
    with profile() as prof:
        Twice.apply(x).sum().backward()
    events = {e.name: e for e in prof.events()}
    assert [c.name for c in events["Twice"].cpu_children] == ["aten::mul"]
    assert events["TwiceBackward"].cpu_parent.name == EVAL + "TwiceBackward"
    assert [c.name for c in events["TwiceBackward"].cpu_children] == ["aten::mul"]
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_fast_paths_and_no_grad_ops_are_recorded():
    a, b = ember.randn(3, 3), ember.randn(3, 3)
    with profile() as prof, ember.no_grad():
        _ = a + b, a - 1, a * b, a / 2, a @ b, ember.matmul(a, b[0])
    counts = _counts(prof)
    for name in ("aten::add", "aten::sub", "aten::mul", "aten::div"):
        assert counts[name] == 1, name
    assert counts["aten::matmul"] == 2  # MatMul's own event folds into the outer one


def test_create_graph_backward_is_profiled():
    x = ember.randn(3, requires_grad=True)
    with profile() as prof:
        (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
        g.sum().backward()
    counts = _counts(prof)
    assert counts["PowBackward0"] >= 2  # in the first backward, and its own backward
    assert counts[ACC] == 1
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy(), rtol=1e-6)


def test_optimizer_step_and_zero_grad_are_labelled():
    model, x, y = _mlp()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    with profile() as prof:
        opt.zero_grad()
        _step(model, x, y)
        opt.step()
    counts = _counts(prof)
    assert counts["Optimizer.step#SGD.step"] == 1
    assert counts["Optimizer.zero_grad#SGD.zero_grad"] == 1


# --- nesting, self time, record_function -----------------------------------------------------
def test_nesting_and_self_time_follow_the_intervals():
    prof = _profiled_step()
    events = prof.events()
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        for c in e.cpu_children:
            assert c.cpu_parent is e and c.thread == e.thread
            assert e.time_range.start <= c.time_range.start <= c.time_range.end \
                <= e.time_range.end
        if e.name.startswith(EVAL):
            assert [c.name for c in e.cpu_children] == [e.name[len(EVAL):]]
    fwd = next(e for e in events if e.name == "forward")
    assert [c.name for c in fwd.cpu_children] == ["aten::linear", "aten::relu", "aten::linear",
                                                  "aten::cross_entropy_loss"]
    assert fwd.self_cpu_time_total == pytest.approx(
        fwd.cpu_time_total - sum(c.cpu_time_total for c in fwd.cpu_children))
    assert events.self_cpu_time_total == pytest.approx(
        sum(e.cpu_time_total for e in events if e.cpu_parent is None))
    starts = [e.time_range.start for e in events]
    assert starts == sorted(starts) and [e.id for e in events] == list(range(1, len(events) + 1))


def test_record_function_as_context_manager_and_decorator():
    @record_function("double")
    def double(t):
        return t * 2

    with profile() as prof:
        with record_function("outer") as rf:
            with record_function("inner"):
                double(ember.ones(2))
            double(ember.ones(2))
    assert rf.name == "outer"
    events = {e.name: e for e in prof.events()}
    assert events["inner"].cpu_parent is events["outer"]
    assert _counts(prof)["double"] == 2
    assert all(e.is_user_annotation for e in prof.events() if not e.name.startswith("aten"))
    with record_function("nothing recording") as rf:  # costs one check, records nothing
        double(ember.ones(2))
    assert rf._rec is None


def test_nested_profilers_both_record_and_wrappers_stay_until_the_last_stops():
    before = _snapshot()
    with profile() as outer:
        ember.ones(2) * 2
        with profile() as inner:
            ember.ones(2) + 2
        assert _record._saved  # the outer one still records
        ember.ones(2) - 2
    assert set(_counts(inner)) == {"aten::add"}
    assert set(_counts(outer)) == {"aten::mul", "aten::add", "aten::sub"}
    _assert_restored(before)


# --- averages, table, memory, shapes ----------------------------------------------------------
def test_key_averages_sum_and_average_the_events():
    prof = _profiled_step(record_shapes=True)
    avgs = {a.key: a for a in prof.key_averages()}
    linears = [e for e in prof.events() if e.name == "aten::linear"]
    a = avgs["aten::linear"]
    assert a.count == 2
    assert a.cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in linears))
    assert a.cpu_time == pytest.approx(a.cpu_time_total / 2)
    assert a.self_cpu_time_total <= a.cpu_time_total
    assert a.input_shapes == ""
    assert [e.input_shapes for e in linears] == [[[5, 4], [8, 4], [8]], [[5, 8], [3, 8], [3]]]
    by_shape = [k for k in prof.key_averages(group_by_input_shape=True) if k.key == "aten::linear"]
    assert [k.count for k in by_shape] == [1, 1]
    total = prof.key_averages().total_average()
    assert total.key == "Total" and total.count == len(prof.events())


def test_table_lays_out_torchs_columns():
    prof = _profiled_step(profile_memory=True)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%",
                                "CPU", "total", "CPU", "time", "avg", "CPU", "Mem", "Self", "CPU",
                                "Mem", "#", "of", "Calls"]
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    assert len(lines) == 3 + 3 + 2 and lines[-1].startswith("Self CPU time total: ")
    assert "Mem" not in _profiled_step().key_averages().table()
    assert str(prof.events()) == prof.events().table()


def test_profile_memory_counts_new_output_bytes_not_views():
    x = ember.randn(5, 8, requires_grad=True)
    with profile(profile_memory=True) as prof:
        r = x.relu()
        r.reshape(40)
        r.sum().backward()
    mem = {e.name: e.cpu_memory_usage for e in prof.events()}
    assert mem["aten::relu"] == 5 * 8 * 4
    assert mem["aten::reshape"] == 0
    assert mem["aten::sum"] == 4
    assert mem["ReluBackward0"] == 5 * 8 * 4
    eval_relu = next(e for e in prof.events() if e.name == EVAL + "ReluBackward0")
    assert eval_relu.self_cpu_memory_usage == 0
    with profile() as plain:
        x.relu()
    assert all(e.cpu_memory_usage == 0 for e in plain.events())


def test_with_stack_records_the_callers_line_and_export_stacks(tmp_path):
    x = ember.randn(3, requires_grad=True)
    with profile(with_stack=True) as prof:
        x.exp().sum().backward()
    exp = next(e for e in prof.events() if e.name == "aten::exp")
    assert exp.stack[0].startswith(__file__) and exp.stack[0].endswith("test_with_stack_records_"
                                                                       "the_callers_line_and_"
                                                                       "export_stacks")
    node = next(e for e in prof.events() if e.name == "ExpBackward0")
    assert node.stack == exp.stack  # a node's events get the stack of the op that made it
    prof.export_stacks(str(tmp_path / "stacks.txt"))
    assert (tmp_path / "stacks.txt").read_text().count("\n") >= 1


# --- schedule, start/stop/step ---------------------------------------------------------------
def test_schedule_gives_torchs_action_sequence():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = schedule(wait=1, warmup=1, active=2, repeat=2, skip_first=1)
    names = [s(i).name for i in range(12)]
    assert names == ["NONE", "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "WARMUP",
                     "RECORD", "RECORD_AND_SAVE", "NONE", "NONE", "NONE"]
    with pytest.warns(UserWarning, match="won't be using warmup"):
        s = schedule(wait=1, warmup=0, active=1)
    assert [s(i) for i in range(4)] == [ProfilerAction.NONE, ProfilerAction.RECORD_AND_SAVE] * 2
    with pytest.raises(AssertionError, match="active=0 \\(need > 0\\)"):
        schedule(wait=1, warmup=1, active=0)
    with pytest.raises(TypeError):
        schedule(1, 1, 1)


def test_schedule_records_only_active_steps_and_calls_on_trace_ready():
    ready = []

    def on_ready(p):
        ready.append((p.step_num, _counts(p)))

    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=2),
                 on_trace_ready=on_ready) as prof, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Profiler clears events at the end of each cycle"
        for _ in range(9):
            ember.ones(2) * 2
            assert bool(_record._active) == (prof.current_action in (
                ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE))
            prof.step()
    assert [step for step, _ in ready] == [4, 8]
    assert all(counts == {"ProfilerStep*": 2, "aten::mul": 2} for _, counts in ready)
    steps = [e.trace_name for e in prof.events() if e.name == "ProfilerStep*"]
    assert steps == ["ProfilerStep#6", "ProfilerStep#7"]
    assert not _record._active


def test_start_stop_and_acc_events():
    prof = profile(schedule=schedule(wait=0, warmup=1, active=1), acc_events=True)
    prof.start()
    for _ in range(4):
        ember.ones(2) + 1
        prof.step()
    prof.stop()
    assert _counts(prof)["aten::add"] == 2  # steps 1 and 3, kept across both cycles
    twice = profile()
    twice.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twice.start()  # the first window is closed, not left recording
    twice.stop()
    assert not _record._active and not _record._saved
    with pytest.raises(AssertionError, match="must be initialized"):
        profile().key_averages()


# --- activities and options ------------------------------------------------------------------
def test_activities_as_torch_without_cuda():
    assert ember.profiler.supported_activities() == {ProfilerActivity.CPU}
    with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            ember.ones(2) + 1
    assert _counts(prof) == {"aten::add": 1}
    with pytest.warns(UserWarning), pytest.raises(AssertionError, match="No activities"):
        with profile(activities=[ProfilerActivity.CUDA]):
            pass
    assert not _record._active
    with pytest.raises(AssertionError, match="No valid profiler activities found"):
        profile(activities=[])
    with pytest.raises(ValueError, match="more than once"):
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CPU])
    with pytest.raises(NotImplementedError, match="with_flops"):
        profile(with_flops=True)


def test_autograd_profiler_api():
    x = ember.ones(2, requires_grad=True)
    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        (x * 2).sum().backward()
    assert isinstance(prof, ember.autograd.profiler.profile)
    names = [e.name for e in prof.function_events]
    assert names[:2] == ["aten::mul", "aten::sum"] and EVAL + "MulBackward0" in names
    assert prof.self_cpu_time_total > 0 and "aten::mul" in str(prof)
    with pytest.raises(RuntimeError, match="not reentrant"):
        prof.__enter__()
    with ember.autograd.profiler.profile(enabled=False) as off:
        x * 2
    assert off is None
    with pytest.warns(FutureWarning, match="use_cuda"), pytest.warns(UserWarning, match="CUDA"):
        ember.autograd.profiler.profile(use_cuda=True)
    assert ember.autograd.profiler.record_function is record_function


# --- the Chrome trace ------------------------------------------------------------------------
def test_chrome_trace_is_valid_json_written_atomically(tmp_path):
    prof = _profiled_step(record_shapes=True, profile_memory=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    assert os.listdir(tmp_path) == ["trace.json"]  # no temporary file left behind
    trace = json.loads(path.read_text())
    assert trace["schemaVersion"] == 1 and trace["record_shapes"] == 1
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in spans] == [e.trace_name for e in prof.events()]
    assert {e["cat"] for e in spans} == {"cpu_op", "user_annotation"}
    assert all(e["dur"] >= 0 and e["tid"] == spans[0]["tid"] for e in spans)
    linear = next(e for e in spans if e["name"] == "aten::linear")
    assert linear["args"]["Input Dims"] == [[5, 4], [8, 4], [8]]
    flows = [e for e in trace["traceEvents"] if e.get("cat") == "fwdbwd"]
    # one arrow pair per backward node: two Linears' addmm and t, relu, cross_entropy
    assert len(flows) == 2 * 6 and {e["ph"] for e in flows} == {"s", "f"}
    assert any(e["name"] == "[memory]" for e in trace["traceEvents"])
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    assert json.loads(gzip.decompress(gz.read_bytes()))["traceEvents"] == trace["traceEvents"]
    prof.events().export_chrome_trace(str(tmp_path / "list.json"))
    assert len(json.loads((tmp_path / "list.json").read_text())) == len(prof.events())


def test_tensorboard_trace_handler_writes_a_trace(tmp_path):
    handler = ember.profiler.tensorboard_trace_handler(str(tmp_path / "tb"), worker_name="w")
    with profile(schedule=schedule(wait=0, warmup=1, active=1), on_trace_ready=handler) as p:
        for _ in range(2):
            ember.ones(1) + 1
            p.step()
    (name,) = os.listdir(tmp_path / "tb")
    assert name.startswith("w.") and name.endswith(".pt.trace.json")


# --- nothing left behind -----------------------------------------------------------------------
def test_everything_is_restored_after_profiling():
    import ember.optim  # noqa: F401  (its hooks are installed too)

    before = _snapshot()
    original_apply = Op.apply.__func__
    _profiled_step(record_shapes=True, profile_memory=True, with_stack=True)
    _assert_restored(before)
    assert Op.apply.__func__ is original_apply


def test_everything_is_restored_when_the_block_raises():
    import ember.optim  # noqa: F401

    before = _snapshot()
    model, x, y = _mlp()
    with pytest.raises(ValueError, match="in the block"):
        with profile():
            _step(model, x, y)
            raise ValueError("in the block")
    _assert_restored(before)

    class Failing(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise KeyError("in backward")

    with pytest.raises(KeyError):
        with profile() as prof:
            Failing.apply(ember.ones(2, requires_grad=True)).sum().backward()
    _assert_restored(before)
    assert _counts(prof)["FailingBackward"] == 1  # the failing call still has its event
    assert vars(Failing)["backward"].__name__ == "backward"
    assert not hasattr(vars(Failing)["backward"].__func__, "_ember_profiled")


def test_classes_made_while_profiling_are_restored_too():
    with profile() as prof:
        class Late(ember.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * 3

        raw = vars(Late)["backward"]
        Late.apply(ember.ones(2, requires_grad=True)).sum().backward()
    assert _counts(prof)["LateBackward"] == 1
    assert vars(Late)["backward"] is raw


def test_other_threads_are_recorded_on_their_own_thread():
    import threading

    def work():
        with record_function("worker"):
            ember.ones(2) * 3

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            t.join()
    events = {e.name: e for e in prof.events()}
    assert events["worker"].thread != events["main"].thread
    assert events["worker"].cpu_parent is None
    assert events["aten::mul"].cpu_parent is events["worker"]


def test_no_events_after_the_profiler_stops():
    with profile() as prof:
        ember.ones(2) * 2
    ember.ones(2) + 2
    assert set(_counts(prof)) == {"aten::mul"}
    assert "ember.profiler" in sys.modules and not _record.is_recording()
