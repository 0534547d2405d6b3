"""Seeded differential fuzzer: ember's stateful ``nn`` layer modules against torch's.

A generator (``_fuzz_layer_cases.py``) draws a module with random constructor options (now and
then invalid ones: the errors must agree). Both libraries build it, ember takes torch's weights,
and a random sequence of 3-6 steps runs on both: ``train()``/``eval()``, forward + backward with
a random upstream gradient (or a forward under ``no_grad``), a plain SGD update by hand,
``zero_grad()``, a ``state_dict`` round trip (torch's into ember, ember's back into torch;
sometimes a key short or extra or of a wrong shape, ``strict``, ``assign``, no metadata), a
dtype cast, a ``deepcopy`` or a parameter's ``requires_grad_``. After every step the outputs, the
input gradients, the parameters and their gradients, the buffers (running statistics,
``num_batches_tracked``, with dtypes), the ``state_dict`` keys and its versions must agree;
``repr(module)`` too. A forward's backward may wait for later steps (an in-place update in
between must raise torch's error), and may run twice (with or without ``retain_graph``).

Known differences, not fixed yet (the runner leaves these sequences out, where marked):
  U1: (fixed since, and generated) a parameter frozen after the forward got the pending
      backward's gradient; torch's AccumulateGrad skips it, and so does ember's now.
  U2: a graph recorded before ``.double()``/``.float()`` backpropagates into the cast
      parameters in ember; torch's kernels raise "expected scalar type Double but found Float".
  U3: (fixed since, and generated) GroupNorm was several nodes in ember; it is torch's one
      NativeGroupNormBackward0 now.
  U4: Bilinear is composite in ember (torch: TrilinearBackward0 saving the weight): an in-place
      update of the weight before backward raises with another tensor named, or not at all.
  U5: NLLLoss/CrossEntropyLoss/BCEWithLogitsLoss do not check the versions of their weight and
      pos_weight buffers at backward (loading a state_dict in between raises in torch).
  U6: BatchNorm/InstanceNorm do not check the running statistics' versions at backward (torch
      saves them: loading a state_dict between forward and backward raises there). (Fixed
      since: a training forward bumped their ``_version``; torch's kernel does not.)
"""
from __future__ import annotations

import copy
import warnings
import zlib
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.oracle import _fuzz_layer_cases as cases
from tests.oracle._fuzz_functional_cases import Arr, ch, first_line, np_of, tol

torch = pytest.importorskip("torch")

SEEDS = 60


def _intel_mkl() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            intel = "GenuineIntel" in f.read(4096)
    except OSError:
        intel = False
    return intel and torch.backends.mkl.is_available()


# torch with MKL on Intel draws Bernoulli masks from MKL's stream, not the one ember follows:
# dropout with 0 < p < 1 in training is then not comparable draw for draw
SAME_STREAM = not _intel_mkl()


# ---------------------------------------------------------------- comparing

def _same_error(e, t, what, full=False):
    if not isinstance(e, Exception):
        return [f"{what}: torch raised {type(t).__name__}: {first_line(t)!r}; ember did not"]
    el, tl = (str(e), str(t)) if full else (first_line(e), first_line(t))
    # ember's in-place error explains on lines of its own what torch's one-line hint says
    tl = tl.split(" Hint: enable anomaly detection")[0]
    # ember may add the values that explain a failure after torch's words: "(got -1, ...)"
    if not isinstance(e, type(t)) or (el != tl and not el.startswith(tl + " (")):
        return [f"{what}: torch raised {type(t).__name__}: {first_line(t)!r}; ember raised "
                f"{type(e).__name__}: {first_line(e)!r}"]
    return []


def _compare(e, t, what, tol_dt=None, grad=False):
    if e is None or t is None:
        if e is None and t is None:
            return []
        return [f"{what}: {'ember' if e is None else 'torch'} has None, the other a value"]
    te, tt = str(e.dtype).split(".")[-1], str(t.dtype).split(".")[-1]
    if te != tt:
        return [f"{what}: dtype {te} != torch {tt}"]
    if tuple(e.shape) != tuple(t.shape):
        return [f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"]
    a, b = np_of(e), np_of(t)
    ok = (np.allclose(a, b, equal_nan=True, **tol(tol_dt or t.dtype, grad))
          if a.dtype.kind in "fc"
          else np.array_equal(a, b))
    return [] if ok else [f"{what}: values differ, max |diff| "
                          f"{np.nanmax(np.abs(a.astype(float) - b.astype(float)), initial=0)}"]


def _versions(sd):
    meta = getattr(sd, "_metadata", None) or {}
    return {k: v.get("version") for k, v in meta.items()}


def compare_state(e_mod, t_mod, what, tol_dt):
    """Parameters (values, grads, requires_grad), buffers, state_dict keys and versions, to the
    tolerance of ``tol_dt``."""
    problems = []
    if e_mod.training != t_mod.training:
        problems.append(f"{what}: training {e_mod.training} != torch {t_mod.training}")
    e_par, t_par = dict(e_mod.named_parameters()), dict(t_mod.named_parameters())
    if list(e_par) != list(t_par):
        return problems + [f"{what}: parameters {list(e_par)} != torch {list(t_par)}"]
    for name, tp in t_par.items():
        ep = e_par[name]
        if ep.requires_grad != tp.requires_grad:
            problems.append(f"{what}: {name}.requires_grad {ep.requires_grad}")
        problems += _compare(ep, tp, f"{what}: parameter {name}", tol_dt)
        problems += _compare(ep.grad, tp.grad, f"{what}: {name}.grad", tol_dt, grad=True)
    e_buf, t_buf = dict(e_mod.named_buffers()), dict(t_mod.named_buffers())
    if list(e_buf) != list(t_buf):
        return problems + [f"{what}: buffers {list(e_buf)} != torch {list(t_buf)}"]
    for name, tb in t_buf.items():
        problems += _compare(e_buf[name], tb, f"{what}: buffer {name}", tol_dt)
        if e_buf[name]._version != tb._version:  # (a training forward bumps none of them)
            problems.append(f"{what}: buffer {name}._version {e_buf[name]._version} != "
                            f"torch {tb._version}")
    e_sd, t_sd = e_mod.state_dict(), t_mod.state_dict()
    if list(e_sd) != list(t_sd):
        problems.append(f"{what}: state_dict keys {list(e_sd)} != torch {list(t_sd)}")
    if _versions(e_sd) != _versions(t_sd):
        problems.append(f"{what}: state_dict versions {_versions(e_sd)} != {_versions(t_sd)}")
    return problems


# ---------------------------------------------------------------- running

def _to(lib, v, leaves, passed, via_clone):
    if isinstance(v, Arr):
        t = lib.tensor(v.data.copy())
        if v.grad and v.data.dtype.kind == "f":
            t.requires_grad_(True)
            leaves.append(t)
            if via_clone:  # a non-leaf, so that in-place modules may write to it
                t = t.clone()
        passed.append(t)
        return t
    if isinstance(v, (list, tuple)):
        return type(v)(_to(lib, a, leaves, passed, via_clone) for a in v)
    if isinstance(v, dict):
        return {k: _to(lib, a, leaves, passed, via_clone) for k, a in v.items()}
    return v


def _call(lib, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - the exception is what is compared
            return exc


def _forward(lib, mod, args, via_clone, seed, grad_mode):
    leaves, passed = [], []
    built = _to(lib, args, leaves, passed, via_clone)
    pos = [a for a in built if not isinstance(a, dict)]
    kw = {k: v for a in built if isinstance(a, dict) for k, v in a.items()}
    lib.manual_seed(seed)
    with lib.set_grad_enabled(grad_mode):
        return _call(lib, lambda: mod(*pos, **kw)), leaves, passed


def _cast(v, dt):
    """Float arrays in ``dt`` (the module's dtype after a cast step)."""
    if isinstance(v, Arr) and v.data.dtype.kind == "f":
        return Arr(v.data.astype(dt), v.grad)
    if isinstance(v, (list, tuple)):
        return type(v)(_cast(a, dt) for a in v)
    if isinstance(v, dict):
        return {k: _cast(a, dt) for k, a in v.items()}
    return v


def step_forward(e_mod, t_mod, case, rng, seed, dt, tol_dt, pending, grad_mode=True):
    """Forward and backward with a random upstream gradient on both modules (or the backward
    left ``pending``)."""
    args = _cast(case.inputs(rng, dt), dt)
    via_clone = bool(rng.random() < 0.7)
    t_out, t_leaves, t_passed = _forward(torch, t_mod, args, via_clone, seed, grad_mode)
    e_out, e_leaves, e_passed = _forward(ember, e_mod, args, via_clone, seed, grad_mode)
    if isinstance(t_out, Exception):
        return _same_error(e_out, t_out, "forward")
    if isinstance(e_out, Exception):
        return [f"forward: ember raised {type(e_out).__name__}: {first_line(e_out)!r}"]
    problems = _compare(e_out, t_out, "output", tol_dt)
    for i, (e, t) in enumerate(zip(e_passed, t_passed)):
        problems += _compare(e, t, f"argument {i} after the call", tol_dt)
    if problems:
        return problems
    if e_out.requires_grad != t_out.requires_grad:
        return [f"output requires_grad {e_out.requires_grad} != torch {t_out.requires_grad}"]
    if not t_out.requires_grad:
        return []
    pend = (e_out, t_out, e_leaves, t_leaves)
    if rng.random() < 0.3:  # backward later, after other steps (which may change the weights)
        pending.append(pend)
        return []
    return step_backward(pend, rng, tol_dt, pending, case.one_node)


def step_backward(pend, rng, tol_dt, pending, again=True):
    """Backward from a forward's output with a random upstream gradient; sometimes keep the
    graph (``retain_graph``) and the output for another backward later."""
    e_out, t_out, e_leaves, t_leaves = pend
    retain = bool(rng.random() < 0.2)
    g = rng.standard_normal(tuple(t_out.shape)).astype(str(t_out.dtype).split(".")[-1])
    t_res = _call(torch, lambda: t_out.backward(torch.tensor(g), retain_graph=retain))
    e_res = _call(ember, lambda: e_out.backward(ember.tensor(g), retain_graph=retain))
    if isinstance(t_res, Exception):
        return _same_error(e_res, t_res, "backward")
    if isinstance(e_res, Exception):
        return [f"backward: ember raised {type(e_res).__name__}: {first_line(e_res)!r}"]
    if retain or (again and rng.random() < 0.1):  # (without retain_graph: it fails)
        pending.append(pend)
    problems = []
    for i, (e, t) in enumerate(zip(e_leaves, t_leaves)):
        problems += _compare(e.grad, t.grad, f"gradient of input {i}", tol_dt, grad=True)
    return problems


def _sgd(lib, mod, lr):
    with lib.no_grad():
        for p in mod.parameters():
            if p.grad is not None:
                p.sub_(p.grad, alpha=lr)


def _convert(lib, sd, keep_meta, drop=None, spoil=None):
    out = OrderedDict((k, lib.tensor(v.detach().numpy().copy())) for k, v in sd.items()
                      if k != drop)
    if spoil == "extra":
        out["extra.weight"] = lib.zeros(2)
    elif spoil is not None and spoil in out:
        out[spoil] = lib.zeros(tuple(out[spoil].shape) + (2,), dtype=out[spoil].dtype)
    if keep_meta and getattr(sd, "_metadata", None) is not None:
        out._metadata = copy.deepcopy(sd._metadata)
    return out


def _keys(res):
    return res if isinstance(res, Exception) else (list(res.missing_keys),
                                                   list(res.unexpected_keys))


def step_state_dict(e_mod, t_mod, rng):
    """torch's state_dict into ember, then ember's back into torch (sometimes one key short,
    one too many or of a wrong shape, sometimes without the version metadata)."""
    t_sd = t_mod.state_dict()
    keep_meta = bool(rng.random() < 0.7)
    key = list(t_sd)[int(rng.integers(len(t_sd)))] if t_sd else None
    drop = key if rng.random() < 0.2 else None
    spoil = None if rng.random() < 0.8 else ch(rng, "extra", key)
    kw = {"strict": bool(rng.random() < 0.5), "assign": bool(rng.random() < 0.2)}
    e_res = _call(ember, lambda: e_mod.load_state_dict(
        _convert(ember, t_sd, keep_meta, drop, spoil), **kw))
    t_res = _call(torch, lambda: t_mod.load_state_dict(
        _convert(torch, t_sd, keep_meta, drop, spoil), **kw))
    if isinstance(t_res, Exception):
        return _same_error(e_res, t_res, "load_state_dict", full=True)
    if isinstance(e_res, Exception):
        return [f"load_state_dict: ember raised {type(e_res).__name__}: {first_line(e_res)!r}"]
    if _keys(e_res) != _keys(t_res):
        return [f"load_state_dict: {_keys(e_res)} != torch {_keys(t_res)}"]
    e_sd = e_mod.state_dict()  # and back (each module loads twice: the same version bumps)
    t_mod.load_state_dict(_convert(torch, e_sd, True))
    e_mod.load_state_dict(_convert(ember, e_sd, True))
    return []


def run_case(case, seed, rng):
    """Build ``case`` in both libraries and run a random sequence of steps; the discrepancies."""
    torch.manual_seed(seed)  # torch's default initial weights are kept (or redrawn below)
    ember.manual_seed(seed)
    t_mod = _call(torch, lambda: case.build(torch))
    e_mod = _call(ember, lambda: case.build(ember))
    if isinstance(t_mod, Exception):
        return _same_error(e_mod, t_mod, "constructor")
    if isinstance(e_mod, Exception):
        return [f"constructor: ember raised {type(e_mod).__name__}: {first_line(e_mod)!r}"]
    if repr(e_mod) != repr(t_mod):
        return [f"repr {repr(e_mod)!r} != torch {repr(t_mod)!r}"]
    # random weights (the default ones are often all ones and zeros), and running statistics
    # seen before; every tensor is copied once in both libraries (the same version bumps)
    with torch.no_grad():
        for p in t_mod.parameters():
            new = rng.uniform(-1.5, 1.5, tuple(p.shape)) if rng.random() < 0.6 else np_of(p)
            p.copy_(torch.tensor(new))
        for name, b in t_mod.named_buffers():
            new = np_of(b).copy()
            if name in ("running_mean", "running_var") and rng.random() < 0.4:
                new = rng.uniform(0.3 if name == "running_var" else -1.0, 2.0, new.shape)
            elif name == "num_batches_tracked" and rng.random() < 0.4:
                new = np.array(int(rng.integers(1, 5)))
            b.copy_(torch.tensor(new))
    with ember.no_grad():
        e_par = dict(e_mod.named_parameters())
        for name, p in t_mod.named_parameters():
            e_par[name].copy_(ember.tensor(np_of(p).copy()))
        e_buf = dict(e_mod.named_buffers())
        for name, b in t_mod.named_buffers():
            e_buf[name].copy_(ember.tensor(np_of(b).copy()))
    dt = tol_dt = case.dtype
    pending = []  # forward outputs whose backward is still to run
    problems = compare_state(e_mod, t_mod, "built", tol_dt)
    for k in range(int(rng.integers(3, 7))):
        if problems:
            break
        kind = ch(rng, "train", "eval", "forward", "forward", "forward", "forward", "sgd",
                  "zero_grad", "state_dict", "no_grad_forward", "cast", "deepcopy", "freeze",
                  "backward", "backward")
        if kind in ("train", "eval"):
            getattr(e_mod, kind)()
            getattr(t_mod, kind)()
        elif kind in ("forward", "no_grad_forward"):
            problems += step_forward(e_mod, t_mod, case, rng, seed * 10 + k, dt, tol_dt,
                                     pending, grad_mode=kind == "forward")
        elif kind == "backward":
            if pending:
                problems += step_backward(pending.pop(0), rng, tol_dt, pending, case.one_node)
        elif kind == "cast":  # parameters, float buffers and gradients change dtype
            pending.clear()  # (U2)
            dt = np.float32 if dt == np.float64 else np.float64
            tol_dt = np.float32  # the state keeps the float32 rounding
            how = ch(rng, "float", "double", "to")
            for lib, mod in ((ember, e_mod), (torch, t_mod)):
                if how == "to":
                    mod.to(getattr(lib, np.dtype(dt).name))
                else:
                    getattr(mod, "double" if dt == np.float64 else "float")()
        elif kind == "deepcopy":
            e_mod, t_mod = copy.deepcopy(e_mod), copy.deepcopy(t_mod)
        elif kind == "freeze":
            names = [n for n, _ in t_mod.named_parameters()]
            if names:
                name = ch(rng, *names)
                flag = bool(rng.random() < 0.5)
                dict(e_mod.named_parameters())[name].requires_grad_(flag)
                dict(t_mod.named_parameters())[name].requires_grad_(flag)
        elif kind == "sgd":
            if not case.one_node:
                pending.clear()  # (U3-U5: an in-place update under a pending graph)
            lr = float(rng.choice([0.1, 0.5]))
            _sgd(ember, e_mod, lr)
            _sgd(torch, t_mod, lr)
        elif kind == "zero_grad":
            to_none = bool(rng.random() < 0.6)
            e_mod.zero_grad(set_to_none=to_none)
            t_mod.zero_grad(set_to_none=to_none)
        else:
            if not case.one_node or hasattr(t_mod, "running_mean"):
                pending.clear()  # (U3-U6: an in-place update under a pending graph)
            problems += step_state_dict(e_mod, t_mod, rng)
        problems = [f"step {k} ({kind}): {p}" for p in problems]
        problems += compare_state(e_mod, t_mod, f"after step {k} ({kind})", tol_dt)
    return problems


def case_for(name, seed):
    """The seeded case ``seed`` of generator ``name``, and the generator for its steps."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), seed])
    gen = cases.GENERATORS[name]
    if name == "dropout":
        return gen(rng, same_stream=SAME_STREAM), rng
    return gen(rng), rng


@pytest.mark.parametrize("name", sorted(cases.GENERATORS))
def test_layer_matches_torch(name):
    failures = []
    for seed in range(SEEDS):
        case, rng = case_for(name, seed)
        problems = run_case(case, seed, rng)
        if problems:
            failures.append(f"seed {seed}: {case.name} {case.options}: {problems}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- regressions (minimised cases)

def _bag_short_last_offset(lib):
    w = lib.tensor(np.arange(14.0).reshape(7, 2), requires_grad=True)
    out = lib.nn.functional.embedding_bag(lib.tensor([5, 2, 6, 6, 4]), w, lib.tensor([0, 0, 2]),
                                          mode="mean", include_last_offset=True)
    out.backward(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
    return out, w.grad


def _renorm_then_bad_id(lib):
    w = lib.tensor([[3.0, 4.0]] * 4)
    try:
        lib.nn.Embedding.from_pretrained(w, max_norm=1.0)(lib.tensor([[0, 2], [5, -1]]))
    except IndexError as exc:
        return first_line(exc).split(" (")[0], w
    return None, w


def _bag_step_then_backward(lib):
    bag = lib.nn.EmbeddingBag(5, 2, mode="max", max_norm=1.0)
    with lib.no_grad():
        bag.weight.copy_(lib.tensor(np.arange(10.0).reshape(5, 2) - 4))
    out = bag(lib.tensor([[0, 1], [3, 1]]))
    bag(lib.tensor([[4, 2]]))  # renormalises rows 2 and 4 in place
    out.backward(lib.ones(2, 2))
    return bag.weight.grad


def _second_backward(lib):
    x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = lib.nn.NLLLoss()(x.clone(), lib.tensor([2, 0]))
    y.backward()
    try:
        y.backward()
    except RuntimeError as exc:
        return first_line(exc)[:40], x.grad
    return None, x.grad


REGRESSIONS = {
    "embedding_bag_include_last_offset_short": _bag_short_last_offset,
    "embedding_max_norm_renorm_before_bad_id": _renorm_then_bad_id,
    "embedding_bag_backward_after_renorm": _bag_step_then_backward,
    "nll_loss_second_backward_raises": _second_backward,
}


def _same(e, t):
    if isinstance(t, (tuple, list)):
        return len(e) == len(t) and all(_same(a, b) for a, b in zip(e, t))
    if isinstance(t, torch.Tensor):
        return not _compare(e, t, "value")
    return e == t


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_matches_torch(name):
    fn = REGRESSIONS[name]
    e, t = fn(ember), fn(torch)
    assert _same(e, t), (e, t)
