"""ember.profiler against torch.profiler: the same MLP step records the same backward nodes (up
to ember's documented fused ops), the same labels and counts, schedules give the same action
sequences and call ``on_trace_ready`` at the same steps, and tables have the same columns.

The documented difference: ember's cross-entropy is one ``NllLossBackward0`` (torch's
``NllLossBackward0`` comes after a ``LogSoftmaxBackward0``), one event where torch's lists
its parts.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

EVAL = "autograd::engine::evaluate_function: "
TORCH_ONLY = {"LogSoftmaxBackward0"}
EMBER_ONLY = set()

_RNG = np.random.default_rng(0)
W1, B1 = _RNG.standard_normal((8, 4)), _RNG.standard_normal(8)
W2, B2 = _RNG.standard_normal((3, 8)), _RNG.standard_normal(3)
X, Y = _RNG.standard_normal((5, 4)), np.array([0, 1, 2, 0, 1])


def _mlp(T):
    model = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.ReLU(), T.nn.Linear(8, 3))
    with T.no_grad():
        for p, v in zip(model.parameters(), (W1, B1, W2, B2)):
            p.copy_(T.tensor(v, dtype=T.float32))
    return model, T.tensor(X, dtype=T.float32), T.tensor(Y)


def _profile_step(T, **options):
    model, x, y = _mlp(T)
    with T.profiler.profile(activities=[T.profiler.ProfilerActivity.CPU], **options) as prof:
        with T.profiler.record_function("model_forward"):
            loss = T.nn.functional.cross_entropy(model(x), y)
        with T.autograd.profiler.record_function("model_backward"):
            loss.backward()
    return prof, loss


def _graph_names(loss):
    names, seen, stack = set(), set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.name().split("::")[-1])
        stack += [n for n, _ in node.next_functions]
    return names


def _backward_nodes(prof):
    return {e.name[len(EVAL):] for e in prof.events() if e.name.startswith(EVAL)}


def test_same_backward_node_names_as_torch():
    mine, my_loss = _profile_step(ember)
    theirs, their_loss = _profile_step(torch)
    mine_nodes, their_nodes = _backward_nodes(mine), _backward_nodes(theirs)
    assert mine_nodes - EMBER_ONLY == their_nodes - TORCH_ONLY
    assert "torch::autograd::AccumulateGrad" in mine_nodes & their_nodes
    # each profiler records exactly its own framework's graph
    for nodes, loss in ((mine_nodes, my_loss), (their_nodes, their_loss)):
        assert {n.replace("torch::autograd::", "") for n in nodes} == _graph_names(loss)
    np.testing.assert_allclose(my_loss.item(), their_loss.item(), rtol=1e-5)


def test_same_counts_for_nodes_labels_and_accumulation():
    counts = []
    for T in (ember, torch):
        prof, _ = _profile_step(T)
        counts.append({a.key: a.count for a in prof.key_averages()})
    mine, theirs = counts
    for key in ("model_forward", "model_backward", "aten::linear", "aten::addmm",
                "TBackward0", EVAL + "TBackward0", "aten::relu",
                "aten::cross_entropy_loss", "AddmmBackward0", EVAL + "AddmmBackward0",
                "ReluBackward0", "torch::autograd::AccumulateGrad",
                EVAL + "torch::autograd::AccumulateGrad"):
        assert mine[key] == theirs[key], key
    assert set(k for k in mine if not k.startswith("aten::")) - {
        n for n in mine if "CrossEntropy" in n} <= set(theirs)


def test_backward_events_nest_like_torchs():
    for T in (ember, torch):
        prof, _ = _profile_step(T)
        for e in prof.events():
            if e.name.startswith(EVAL) and e.name != EVAL + "AddmmBackward0":
                assert e.cpu_children[0].name == e.name[len(EVAL):]
            if e.name in ("aten::linear", "aten::relu"):
                assert e.cpu_parent.name == "model_forward"
            assert e.self_cpu_time_total <= e.cpu_time_total + 1e-6


SCHEDULES = [dict(wait=1, warmup=1, active=2),
             dict(wait=2, warmup=1, active=3, repeat=2, skip_first=3),
             dict(wait=1, warmup=0, active=1, repeat=3),
             dict(wait=5, warmup=1, active=1, skip_first=2, skip_first_wait=1)]


@pytest.mark.parametrize("args", SCHEDULES, ids=str)
def test_schedule_actions_match_torch(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = ember.profiler.schedule(**args), torch.profiler.schedule(**args)
    assert [mine(i).name for i in range(30)] == [theirs(i).name for i in range(30)]
    assert [(a.name, a.value) for a in ember.profiler.ProfilerAction] == [
        (a.name, a.value) for a in torch.profiler.ProfilerAction]


def test_schedule_drives_the_same_recording_as_torch():
    seen = []
    for T in (ember, torch):
        ready = []

        def on_ready(p, ready=ready):
            counts = {a.key: a.count for a in p.key_averages()}
            ready.append((p.step_num, counts["ProfilerStep*"], counts["aten::mul"]))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with T.profiler.profile(schedule=T.profiler.schedule(wait=1, warmup=1, active=2,
                                                                 repeat=2),
                                    on_trace_ready=on_ready) as prof:
                for _ in range(10):
                    T.ones(3).mul(2)
                    prof.step()
        steps = sorted(e.trace_name for e in prof.events() if e.name == "ProfilerStep*")
        seen.append((ready, steps))
    assert seen[0] == seen[1]


def test_table_has_torchs_columns():
    for options in ({}, {"profile_memory": True}, {"record_shapes": True}):
        headers = []
        for T in (ember, torch):
            prof, _ = _profile_step(T, **options)
            avgs = prof.key_averages(group_by_input_shape=options.get("record_shapes", False))
            lines = avgs.table(sort_by="self_cpu_time_total", row_limit=5).splitlines()
            headers.append((lines[1].split(), len(lines), lines[-1].split(":")[0]))
        assert headers[0] == headers[1], options


def test_activities_and_cuda_handling_match_torch():
    assert [(a.name, a.value) for a in ember.profiler.ProfilerActivity] == sorted(
        ((a, v.value) for a, v in torch.profiler.ProfilerActivity.__members__.items()),
        key=lambda p: p[1])
    assert {a.name for a in ember.profiler.supported_activities()} == {
        a.name for a in torch.profiler.supported_activities()}
    messages = []
    for T in (ember, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            act = T.profiler.ProfilerActivity
            with T.profiler.profile(activities=[act.CPU, act.CUDA]) as prof:
                T.ones(2).mul(2)
        messages.append(sorted({str(m.message) for m in w}))
        assert "aten::mul" in {a.key for a in prof.key_averages()}
    assert messages[0] == messages[1]
