"""The scaffolding idioms training scripts wrap around a model, run as ember and as torch.

Each snippet is a function of ``T`` using only ``T.`` names, run with ``T = ember`` and
``T = torch``: values (to float32 tolerance), dtypes, shapes, exception types, printed forms
and returned types must agree. Seeded draws are torch's own (so a seeded DataLoader shuffles,
splits and initialises models as torch does); devices, switches, amp, data pipeline,
checkpoints, optimizers, schedulers, tensor conveniences and reprs follow.
"""
from __future__ import annotations

import inspect
import io
import math
import os
import warnings

import numpy as np
import pytest

import ember
from ember.utils import data as edata

torch = pytest.importorskip("torch")


# --- comparing the two runs ---------------------------------------------------------------------
def _run(fn, T):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(T)
    except Exception as exc:  # the exception type is part of the contract
        return exc


def _text(s):
    return s.replace("torch.", "T.").replace("ember.", "T.")


def _assert_same(e, t, where="result"):
    """``e`` (ember's) matches ``t`` (torch's): recursively, tensors to float32 tolerance."""
    if isinstance(t, BaseException) or isinstance(e, BaseException):
        assert isinstance(e, type(t)), f"{where}: ember gave {e!r}, torch {t!r}"
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{where}: {type(e).__name__} is not a Tensor"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], where
        a, b = e.detach().numpy(), t.detach().numpy()
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=1.3e-6, atol=1e-5, err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(t, (str, torch.Size, torch.dtype, torch.device, torch.Generator)):
        assert type(e).__name__ == type(t).__name__, f"{where}: {e!r} vs {t!r}"
        assert _text(str(e)) == _text(str(t)), f"{where}:\n{e}\n!=\n{t}"
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t), f"{where}: keys {list(e)} {list(t)}"
        for k in t:
            _assert_same(e[k], t[k], f"{where}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and isinstance(e, tuple) == isinstance(t, tuple), \
            f"{where}: {type(e).__name__} vs {type(t).__name__}"
        assert len(e) == len(t), f"{where}: length {len(e)} != {len(t)}"
        for i, (x, y) in enumerate(zip(e, t)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(t, float):
        assert type(e) is type(t) and (e == t or math.isclose(e, t, rel_tol=1e-6)), \
            f"{where}: {e!r} != {t!r}"
    else:
        assert type(e) is type(t) and e == t, f"{where}: {e!r} != {t!r}"


def same(fn):
    """Run ``fn`` as ember and as torch; assert the results agree; return both."""
    e, t = _run(fn, ember), _run(fn, torch)
    _assert_same(e, t)
    return e, t


def D(T):
    """``T.utils.data``."""
    return edata if T is ember else torch.utils.data


def G(T, seed=0):
    """A seeded ``T.Generator``."""
    return T.Generator().manual_seed(seed)


# --- seeding: torch's exact random streams ------------------------------------------------------
def _seeded(draw):
    return lambda T: (T.manual_seed(0), draw(T))[1]


RANDOM = {
    "rand": _seeded(lambda T: T.rand(5)),
    "rand_f64": lambda T: T.rand(2, 3, dtype=T.float64, generator=G(T, 7)),
    "randn_small_and_fill16": _seeded(lambda T: (T.randn(3), T.randn(4, 9))),
    "randn_f64": lambda T: T.randn(37, dtype=T.float64, generator=G(T, 3)),
    "randn_cache_spans_calls": _seeded(lambda T: [T.randn(3), T.randn(3)]),
    "randn_like": _seeded(lambda T: T.randn_like(T.zeros(2, 20))),
    "randint": _seeded(lambda T: (T.randint(0, 10, (8,)), T.randint(-5, 2**40, (4,)),
                                  T.randint(3, (6,), dtype=T.int32))),
    "randperm": lambda T: T.randperm(20, generator=G(T, 42)),
    "normal": _seeded(lambda T: (T.normal(T.zeros(20), T.full((20,), 2.)), T.normal(2., 3., (5,)))),
    "bernoulli_probs": _seeded(lambda T: T.bernoulli(T.full((12,), 0.3))),
    "multinomial_replacement": _seeded(lambda T: T.multinomial(T.tensor([0.1, 0.9, 0.4]), 8, True)),
    "multinomial_2d": _seeded(lambda T: T.multinomial(T.tensor([[1., 2, 3], [3, 0, 1]]), 2)),
    "uniform_": _seeded(lambda T: T.empty(3, 4).uniform_(-2, 2)),
    "normal_": _seeded(lambda T: T.empty(40).normal_(1.0, 0.5)),
    "normal_transposed": _seeded(lambda T: T.empty(4, 8).t().normal_()),
    "exponential_": _seeded(lambda T: T.empty(6).exponential_(2.0)),
    "random_": _seeded(lambda T: (T.empty(3, dtype=T.int64).random_(), T.empty(3).random_(),
                                  T.empty(4, dtype=T.bool).random_(), T.empty(5).random_(2, 9),
                                  T.empty(5, dtype=T.uint8).random_(7))),
    "bernoulli_tensor_p_": _seeded(lambda T: T.empty(6).bernoulli_(T.full((6,), 0.5))),
    "seeds": lambda T: (type(T.manual_seed(3)).__name__, T.initial_seed(),
                        T.Generator().initial_seed(), T.Generator().device),
    "rng_state_shape": lambda T: (T.get_rng_state().dtype, T.get_rng_state().shape),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_seeded_draws_are_torchs(name):
    same(RANDOM[name])


INIT = {
    "linear": lambda T: T.nn.Linear(5, 3),
    "mlp": lambda T: T.nn.Sequential(T.nn.Linear(4, 8), T.nn.ReLU(), T.nn.Linear(8, 2)),
    "conv": lambda T: T.nn.Conv2d(3, 4, 3),
    "embedding": lambda T: T.nn.Embedding(10, 4, padding_idx=0),
    "lstm": lambda T: T.nn.LSTM(4, 5, num_layers=2),
    "encoder_layer": lambda T: T.nn.TransformerEncoderLayer(8, 2, 16),
    "init_functions": lambda T: (T.nn.init.xavier_uniform_(T.empty(4, 5)),
                                 T.nn.init.kaiming_normal_(T.empty(40, 5)),
                                 T.nn.init.orthogonal_(T.empty(4, 6)),
                                 T.nn.init.sparse_(T.empty(5, 4), 0.4)),
    "trunc_normal_wide": lambda T: T.nn.init.trunc_normal_(T.empty(8, 40), std=0.02),
    "trunc_normal_narrow": lambda T: T.nn.init.trunc_normal_(T.empty(8, 40), a=0.5, b=3.0),
}


@pytest.mark.parametrize("name", list(INIT))
def test_manual_seed_then_building_a_model_gives_torchs_weights(name):
    def build(T):
        T.manual_seed(0)
        made = INIT[name](T)
        return [p.detach() for p in made.parameters()] if hasattr(made, "parameters") else made

    same(build)


def test_rng_state_is_torchs_bytes_and_round_trips_both_ways():
    for lib in (ember, torch):
        lib.manual_seed(5)
        lib.randn(3)  # leaves a cached normal in the state
    assert np.array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())
    state = ember.get_rng_state()
    first = ember.rand(4)
    ember.set_rng_state(state)
    assert ember.equal(ember.rand(4), first)
    g = ember.Generator().set_state(ember.tensor(torch.get_rng_state().numpy()))
    np.testing.assert_allclose(ember.randn(5, generator=g).numpy(), torch.randn(5).numpy())
    with pytest.raises(RuntimeError, match="RNG state size"):
        ember.set_rng_state(ember.zeros(10, dtype=ember.uint8))
    same(lambda T: T.set_rng_state(T.zeros(10, dtype=T.uint8)))


def test_fork_rng_restores_the_stream():
    def run(T):
        T.manual_seed(0)
        with T.random.fork_rng():
            inside = T.rand(2)
        after = T.rand(2)
        with T.random.fork_rng(enabled=False):
            T.rand(1)
        return inside, after, T.rand(1), T.random.initial_seed()

    same(run)


# --- data pipeline --------------------------------------------------------------------------------
class _DictSet:
    def __init__(self, T):
        self.T = T

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {"x": self.T.full((2,), float(i)), "y": i, "name": f"s{i}"}


def _epochs(loader, n=2):
    return [[b.tolist() if hasattr(b, "tolist") else b for b in loader] for _ in range(n)]


DATA = {
    "shuffle_with_generator": lambda T: _epochs(D(T).DataLoader(
        T.arange(10), batch_size=3, shuffle=True, generator=G(T))),
    "shuffle_after_manual_seed": lambda T: (T.manual_seed(5), _epochs(D(T).DataLoader(
        T.arange(10), batch_size=4, shuffle=True)))[1],
    "kaggle_loader_options": lambda T: (lambda dl: (len(dl), [
        (b["x"].shape, b["y"].tolist(), b["name"]) for b in dl]))(D(T).DataLoader(
            _DictSet(T), batch_size=4, shuffle=True, num_workers=0, pin_memory=True,
            drop_last=True, persistent_workers=False, worker_init_fn=lambda i: None,
            generator=G(T))),
    "tensor_dataset": lambda T: (lambda ds: (ds[1], [[x, y] for x, y in D(T).DataLoader(
        ds, batch_size=2)]))(D(T).TensorDataset(T.arange(6.).view(3, 2), T.arange(3))),
    "len_loader": lambda T: (len(D(T).DataLoader(range(10), batch_size=3)),
                             len(D(T).DataLoader(range(10), batch_size=3, drop_last=True))),
    "random_split_lengths": lambda T: [list(s.indices) for s in D(T).random_split(
        range(10), [7, 3], generator=G(T, 42))],
    "random_split_fractions": lambda T: [list(s.indices) for s in D(T).random_split(
        range(10), [0.8, 0.2], generator=G(T, 42))],
    "random_split_then_loader": lambda T: (lambda tr: [b.tolist() for b in D(T).DataLoader(
        tr, batch_size=3, shuffle=True, generator=G(T, 1))])(D(T).random_split(
            T.arange(100, 112), [8, 4], generator=G(T))[0]),
    "subset_and_concat": lambda T: (lambda s, c: (len(s), s[1], len(c), c[4], c.cumulative_sizes))(
        D(T).Subset(range(10), [1, 3]), D(T).ConcatDataset([range(3), range(5)])),
    "weighted_sampler": lambda T: list(D(T).WeightedRandomSampler(
        [0.1, 0.9, 0.4, 0.5], 6, generator=G(T))),
    "weighted_sampler_no_replacement": lambda T: list(D(T).WeightedRandomSampler(
        [0.1, 0.9, 0.4, 0.5], 3, replacement=False, generator=G(T))),
    "weighted_sampler_in_loader": lambda T: (T.manual_seed(3), [b.tolist() for b in D(T).DataLoader(
        T.arange(8), batch_size=4, sampler=D(T).WeightedRandomSampler([1.0, 3.0] * 4, 8))])[1],
    "subset_random_sampler": lambda T: list(D(T).SubsetRandomSampler([5, 6, 7, 8], generator=G(T))),
    "random_and_distributed_samplers": lambda T: (list(D(T).RandomSampler(
        range(5), replacement=True, num_samples=7, generator=G(T))), list(D(T).DistributedSampler(
            range(10), num_replicas=2, rank=1, seed=3))),
    "batch_sampler": lambda T: list(D(T).BatchSampler(D(T).SequentialSampler(range(7)), 3, False)),
    "batch_sampler_random": lambda T: list(D(T).BatchSampler(
        D(T).RandomSampler(range(7), generator=G(T, 1)), 3, drop_last=True)),
    "collate_dicts": lambda T: D(T).default_collate([{"x": np.ones(2), "y": 1, "w": 0.5},
                                                     {"x": np.zeros(2), "y": 2, "w": 1.5}]),
    "collate_lists": lambda T: D(T).default_collate([[1, 2.0, "a", T.ones(2)], [3, 4.0, "b",
                                                                            T.zeros(2)]]),
    "collate_numpy": lambda T: (D(T).default_collate([np.float64(1.5), np.float64(2)]),
                                D(T).default_collate([np.arange(3), np.arange(3)])),
    "tqdm_over_loader": lambda T: (lambda bar: (len(bar), [x.tolist() for (x,) in bar]))(
        pytest.importorskip("tqdm").tqdm(D(T).DataLoader(D(T).TensorDataset(T.arange(10.)),
                                                        batch_size=4), disable=True)),
}


@pytest.mark.parametrize("name", list(DATA))
def test_data_pipeline_matches_torch(name):
    same(DATA[name])


# --- devices --------------------------------------------------------------------------------------
DEVICES = {
    "pick_device": lambda T: T.device("cuda" if T.cuda.is_available() else "cpu"),
    "mps_check": lambda T: (T.backends.mps.is_available(), T.backends.mps.is_built()),
    "device_parts": lambda T: (T.device("cuda:1").index, T.device("cpu").index,
                               str(T.device("cuda", 1)), repr(T.device("cuda:0"))),
    "device_equality": lambda T: (T.device(T.device("cpu")) == T.device("cpu"),
                                  T.device("cpu") == "cpu",
                                  T.zeros(1).device == T.device("cpu"),
                                  {T.device("cpu"): 1}[T.device("cpu")]),
    "bad_device": lambda T: T.device("gpu"),
    "to_non_blocking": lambda T: T.ones(2).to(T.device("cpu"), non_blocking=True).device.type,
    "model_to_device": lambda T: (lambda m: (m.to("cpu") is m, m.cpu() is m,
                                             next(m.parameters()).device.type))(T.nn.Linear(1, 1)),
    "default_device": lambda T: (T.set_default_device("cpu"), T.get_default_device(),
                                 T.set_default_device(None)),  # None: torch's mode goes again
    "cpu_module": lambda T: (T.cpu.is_available(), T.cpu.device_count(), T.cpu.current_device()),
    "is_cuda": lambda T: (T.zeros(1).is_cuda, T.zeros(1).is_pinned()),
}


@pytest.mark.parametrize("name", list(DEVICES))
def test_device_idioms_match_torch(name):
    same(DEVICES[name])


@pytest.mark.parametrize("call", [lambda T: T.zeros(2).cuda(), lambda T: T.zeros(2).to("cuda"),
                                  lambda T: T.zeros(2, device="cuda:1"),
                                  lambda T: T.nn.Linear(1, 1).cuda(),
                                  lambda T: T.cuda.current_device(),
                                  lambda T: T.ones(2).type("torch.cuda.FloatTensor")],
                         ids=["tensor_cuda", "to_cuda", "factory", "module_cuda",
                              "current_device", "cuda_type_name"])
def test_cuda_on_a_cpu_build_raises_torchs_assertion_error(call):
    for T in (ember, torch):
        with pytest.raises((AssertionError, RuntimeError)) as info:
            call(T)
        if call.__code__.co_names[-1] != "type":  # torch's cuda-type error differs in kind
            assert isinstance(info.value, AssertionError)
            assert "Torch not compiled with CUDA enabled" in str(info.value)
    with pytest.raises(RuntimeError):  # ember's is a RuntimeError too, saying why
        call(ember)


# --- global switches, compile, amp ---------------------------------------------------------------
def _restore(T):
    # torch's use_deterministic_algorithms imports its compiler (seconds): call it only if on
    T.set_float32_matmul_precision("highest")
    T.backends.cudnn.benchmark = False
    if T.are_deterministic_algorithms_enabled():
        T.use_deterministic_algorithms(False)


SWITCHES = {
    "precision_and_cudnn": lambda T: (T.set_float32_matmul_precision("high"),
                                      setattr(T.backends.cudnn, "benchmark", True),
                                      T.get_float32_matmul_precision(), T.backends.cudnn.benchmark,
                                      _restore(T), T.backends.cudnn.benchmark)[2:],
    "deterministic": lambda T: (T.use_deterministic_algorithms(True),
                                T.are_deterministic_algorithms_enabled(),
                                T.is_deterministic_algorithms_warn_only_enabled(),
                                T.get_deterministic_debug_mode(), _restore(T),
                                T.are_deterministic_algorithms_enabled()),
    "deterministic_warn_only": lambda T: (T.use_deterministic_algorithms(True, warn_only=True),
                                          T.is_deterministic_algorithms_warn_only_enabled(),
                                          T.get_deterministic_debug_mode(), _restore(T)),
    "debug_mode": lambda T: (T.set_deterministic_debug_mode("error"),
                             T.are_deterministic_algorithms_enabled(), _restore(T)),
    "bad_debug_mode": lambda T: T.set_deterministic_debug_mode("loud"),
    "jit_script_runs": lambda T: (T.manual_seed(0),
                                  T.jit.script(T.nn.Linear(2, 2))(T.ones(1, 2)))[1],
    "autocast_cpu_region": lambda T: (lambda ctx: (ctx.__enter__(),
                                                   T.is_autocast_enabled("cpu"),
                                                   ctx.__exit__(None, None, None),
                                                   T.is_autocast_enabled("cpu"))[1:])(
        T.autocast(device_type="cpu", dtype=T.bfloat16)),
    "cpu_amp_autocast": lambda T: (lambda ctx: (ctx.__enter__(), T.is_autocast_enabled("cpu"),
                                                ctx.__exit__(None, None, None))[1])(
        T.cpu.amp.autocast()),
}


@pytest.mark.parametrize("name", list(SWITCHES))
def test_global_switches_and_wrappers_match_torch(name):
    same(SWITCHES[name])


def test_compiled_model_is_called_like_the_model():
    # torch.compile itself takes seconds to trace, so only its signature is compared here
    model, x = ember.nn.Linear(2, 2), ember.ones(1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = ember.compile(model, mode="max-autotune", fullgraph=False, dynamic=None)
    assert ember.equal(compiled(x), model(x))
    theirs = list(inspect.signature(torch.compile).parameters)  # newer options go to **kwargs
    assert set(theirs[:8]) | {"kwargs"} <= set(inspect.signature(ember.compile).parameters)


def test_cpu_amp_spellings_warn_as_deprecated():
    for T in (ember, torch):
        with pytest.warns(FutureWarning, match="torch.amp.autocast"):
            T.cpu.amp.autocast()
        with pytest.warns(FutureWarning, match="torch.amp.GradScaler"):
            assert T.cpu.amp.GradScaler().is_enabled()


@pytest.mark.parametrize("make", [lambda T: T.amp.GradScaler(enabled=False),
                                  lambda T: T.cuda.amp.GradScaler(enabled=False),
                                  lambda T: T.amp.GradScaler("cuda", enabled=False)])
def test_disabled_grad_scaler_loop_is_a_plain_training_step(make):
    def step(T):
        T.manual_seed(0)
        model = T.nn.Linear(3, 1)
        opt = T.optim.SGD(model.parameters(), lr=0.1)
        scaler = make(T)
        for _ in range(2):
            opt.zero_grad(set_to_none=True)
            with T.autocast(device_type="cpu", dtype=T.bfloat16, enabled=False):
                loss = model(T.ones(2, 3)).pow(2).mean()
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            T.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt)
            scaler.update()
        return scaler.is_enabled(), scaler.get_scale(), scaler.scale(loss) is loss, \
            [p.detach() for p in model.parameters()]

    same(step)


# --- checkpoints, state dicts, optimizers, schedulers ------------------------------------------
def _saved_and_loaded(T, obj, **kwargs):
    f = io.BytesIO()
    T.save(obj, f)
    f.seek(0)
    return T.load(f, **kwargs)


def _net(T):
    T.manual_seed(0)
    return T.nn.Sequential(T.nn.Linear(2, 3), T.nn.ReLU(), T.nn.Linear(3, 1))


def _lr_trace(make_sched, opt="SGD", metrics=(None,) * 5, **opt_kw):
    def run(T):
        model = T.nn.Linear(2, 2)
        o = getattr(T.optim, opt)(model.parameters(), lr=0.1, **opt_kw)
        s = make_sched(T, o)
        out = [s.get_last_lr()]
        for m in metrics:  # ReduceLROnPlateau steps on a validation loss
            o.step()
            s.step(*(() if m is None else (m,)))
            out.append([round(v, 10) for v in s.get_last_lr()])
        return out, o.param_groups[0]["lr"] == s.get_last_lr()[0]

    return run


def _set_lr(T):
    o = T.optim.AdamW(_net(T).parameters(), lr=1e-3, weight_decay=0.01)
    for g in o.param_groups:
        g["lr"] = g["lr"] * 0.5
    return o.param_groups[0]["lr"], sorted(o.param_groups[0]), len(o.param_groups), \
        o.state_dict()["param_groups"][0]["lr"]


STATE = {
    "save_nested_lists_and_tuples": lambda T: _saved_and_loaded(
        T, [T.ones(2), (T.zeros(1, dtype=T.long), {"a": T.tensor(3.0)}), 4],
        map_location="cpu", weights_only=True),
    "load_map_location_device": lambda T: _saved_and_loaded(T, {"w": T.ones(2)},
                                                            map_location=T.device("cpu")),
    "load_map_location_callable": lambda T: _saved_and_loaded(
        T, {"w": T.ones(2)}, map_location=lambda storage, loc: storage),
    "load_map_location_dict": lambda T: _saved_and_loaded(T, T.ones(2),
                                                          map_location={"cuda:0": "cpu"}),
    "strict_false": lambda T: (lambda r: (r.missing_keys, r.unexpected_keys, str(r)))(
        _net(T).load_state_dict({"0.weight": T.zeros(3, 2), "extra": T.ones(1)}, strict=False)),
    "strict_ok": lambda T: str(_net(T).load_state_dict(_net(T).state_dict())),
    "strict_missing": lambda T: _net(T).load_state_dict({"0.weight": T.zeros(3, 2)}),
    "shape_mismatch": lambda T: T.nn.Linear(2, 3).load_state_dict({"weight": T.zeros(3, 3),
                                                                   "bias": T.zeros(3)}),
    "count_trainable": lambda T: sum(p.numel() for p in _net(T).parameters() if p.requires_grad),
    "freeze": lambda T: (lambda m: (m[0].requires_grad_(False) is m[0],
                                    [p.requires_grad for p in m.parameters()],
                                    sum(p.numel() for p in m.parameters() if p.requires_grad)))(
        _net(T)),
    "state_dict_keys": lambda T: list(T.nn.Sequential(T.nn.Linear(2, 3),
                                                      T.nn.BatchNorm1d(3)).state_dict()),
    "param_groups_lr": _set_lr,
    "step_lr": _lr_trace(lambda T, o: T.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "cosine": _lr_trace(lambda T, o: T.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4),
                        opt="AdamW"),
    "one_cycle": _lr_trace(lambda T, o: T.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=6), momentum=0.9),
    "lambda_lr": _lr_trace(lambda T, o: T.optim.lr_scheduler.LambdaLR(o, lambda ep: 0.9 ** ep)),
    "plateau": _lr_trace(lambda T, o: T.optim.lr_scheduler.ReduceLROnPlateau(
        o, mode="min", patience=1, factor=0.5), metrics=[1.0, 1.0, 1.0, 1.0, 0.5]),
}


@pytest.mark.parametrize("name", list(STATE))
def test_checkpoint_and_optimizer_idioms_match_torch(name):
    same(STATE[name])


def test_checkpoint_file_round_trip(tmp_path):
    def run(T):
        path = os.path.join(tmp_path, f"{T.__name__}.pt")
        model = _net(T)
        opt = T.optim.Adam(model.parameters(), lr=3e-4)
        T.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
        ckpt = T.load(path, map_location="cpu", weights_only=True)
        fresh = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.ReLU(), T.nn.Linear(3, 1))
        result = fresh.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        return sorted(ckpt), ckpt["epoch"], str(result), T.equal(fresh[0].weight, model[0].weight)

    same(run)


def test_missing_key_error_message_matches_torch():
    for message in (str(_run(STATE["strict_missing"], T)) for T in (ember, torch)):
        assert "Error(s) in loading state_dict for Sequential" in message
        assert "Missing key(s)" in message and '"0.bias"' in message


# --- tensor conveniences --------------------------------------------------------------------------
TENSORS = {
    "tolist": lambda T: (T.tensor(2.5).tolist(), T.arange(4).view(2, 2).tolist(),
                         T.tensor([True]).tolist()),
    "numpy_after_detach": lambda T: T.ones(2, requires_grad=True).detach().cpu().numpy().tolist(),
    "fstring_loss": lambda T: f"loss {(T.ones(2, requires_grad=True) ** 2).mean():.4f}",
    "fstring_formats": lambda T: (f"{T.tensor(0.5):.2%}", f"{T.tensor(12345.678):.3e}",
                                  f"{T.tensor(7):5d}", f"{T.tensor(1234567):,}",
                                  f"{T.tensor(True)}", f"{T.tensor(3)}"),
    "shape_idioms": lambda T: (lambda x: (x.shape[0], len(x), x.size(), x.size(-1), x.dim(),
                                          x.ndim, x.numel(), T.numel(x)))(T.ones(3, 2)),
    "dtype_checks": lambda T: (T.ones(1).dtype == T.float32, T.ones(1).dtype == T.float,
                               T.float64 == T.double, T.long is T.int64,
                               T.ones(1, dtype=T.long).dtype in (T.int32, T.int64)),
    "type_tests": lambda T: (T.is_tensor(T.ones(1)), T.is_tensor(np.ones(1)),
                             isinstance(T.ones(1), T.Tensor),
                             isinstance(T.nn.Parameter(T.ones(1)), T.Tensor),
                             T.ones(1).is_floating_point(), T.is_floating_point(T.ones(1)),
                             T.ones(1, dtype=T.long).is_floating_point()),
    "type_strings": lambda T: (T.ones(2).type(), T.zeros(2, dtype=T.long).type(),
                               T.zeros(2, dtype=T.bool).type(), T.zeros(2, dtype=T.uint8).type()),
    "type_conversions": lambda T: (T.ones(2).type(T.float64), T.ones(2).type("torch.LongTensor"),
                                   T.ones(2).type(T.IntTensor)),
    "type_bad_name": lambda T: T.ones(2).type("FloatTensor"),
    "legacy_constructors": lambda T: (T.LongTensor([1, 2]), T.FloatTensor(2, 3).shape,
                                      T.ByteTensor([1]), T.LongTensor().shape),
    "legacy_isinstance": lambda T: (isinstance(T.ones(1), T.FloatTensor),
                                    isinstance(T.nn.Parameter(T.ones(1)), T.LongTensor),
                                    T.FloatTensor.dtype, T.LongTensor.is_cuda,
                                    repr(T.FloatTensor)),
    "legacy_from_wrong_tensor": lambda T: T.FloatTensor(T.tensor([1, 2])),
    "tensor_constructor": lambda T: (T.Tensor([1, 2]), T.Tensor(2, 3).shape, T.Tensor().shape),
    "new_factories": lambda T: (lambda x: (x.new_zeros(2, 3), x.new_ones((2,)),
                                           x.new_tensor([1, 2]), x.new_full((2,), 7),
                                           x.new_empty(3).shape))(T.ones(2, dtype=T.float64)),
    "numpy_float64_lists": lambda T: (T.tensor([np.float64(1.5), np.float64(2)]),
                                      T.tensor(np.float64(1.0)), T.tensor([np.int32(1), 2]),
                                      T.tensor(np.array([1, 2], dtype=np.int32))),
    "as_tensor": lambda T: (T.as_tensor(np.array([1.5, 2])), T.as_tensor([1, 2], dtype=T.float),
                            T.from_numpy(np.arange(3)).float(), T.from_numpy(np.ones(2)).dtype),
    "as_tensor_shares_memory": lambda T: (lambda a: (T.as_tensor(a).__setitem__(0, 9.0),
                                                     a[0])[1])(np.array([1.0, 2.0])),
    "stack_and_cat": lambda T: (T.stack([T.tensor(1.0), T.tensor(2.0)]),
                                T.tensor([T.tensor(1.5).item(), T.tensor(2).item()]),
                                T.tensor([T.tensor(1.5), T.tensor(2.0)]),
                                T.cat([T.ones(2, 1), T.zeros(3, 1)])),
    "cat_empty_list": lambda T: T.cat([]),
    "stack_mismatch": lambda T: T.stack([T.ones(2), T.ones(3)]),
    "accuracy": lambda T: (lambda out, y: ((out.argmax(1) == y).sum().item(),
                                           (out.argmax(dim=1) == y).float().mean().item(),
                                           out.max(1)[1].eq(y).sum().item(),
                                           type((out.argmax(1) == y).sum().item()).__name__))(
        T.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), T.tensor([1, 1, 1])),
    "running_loss": lambda T: (lambda losses: sum(v.item() for v in losses) / len(losses))(
        [T.tensor(0.5), T.tensor(0.25)]),
    "default_dtype": lambda T: (T.get_default_dtype(), T.set_default_dtype(T.float64),
                                T.ones(1).dtype, T.tensor([1.0]).dtype,
                                T.set_default_dtype(T.float32), T.tensor([1.0]).dtype),
}


@pytest.mark.parametrize("name", list(TENSORS))
def test_tensor_conveniences_match_torch(name):
    same(TENSORS[name])


def test_numpy_of_a_tensor_that_requires_grad_says_detach():
    for T in (ember, torch):
        with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
            T.ones(2, requires_grad=True).numpy()
        with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted"):
            T.ones(2).item()


# --- reprs ----------------------------------------------------------------------------------------
def _custom_net(T):
    class Net(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = T.nn.Sequential(T.nn.Conv2d(1, 4, 3, padding=1), T.nn.BatchNorm2d(4),
                                            T.nn.LeakyReLU(0.2), T.nn.MaxPool2d(2))
            self.layers = T.nn.ModuleList([T.nn.Linear(2, 2), T.nn.GELU(), T.nn.Dropout(0.25)])
            self.heads = T.nn.ModuleDict({"a": T.nn.Identity(), "b": T.nn.LayerNorm(4)})
            self.emb = T.nn.Embedding(10, 3, padding_idx=0)
            self.lstm = T.nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1)
            self.loss = T.nn.CrossEntropyLoss(label_smoothing=0.1)

    return Net()


def _with_printoptions(T, make, **options):
    T.set_printoptions(**options)
    try:
        return repr(make())
    finally:
        T.set_printoptions(profile="default")
        T.set_printoptions(sci_mode=None)


REPRS = {
    "nested_sequential": lambda T: repr(T.nn.Sequential(
        T.nn.Linear(2, 3), T.nn.ReLU(), T.nn.Sequential(T.nn.Dropout(0.1),
                                                        T.nn.Linear(3, 1, bias=False)),
        T.nn.Softmax(dim=1))),
    "custom_module": lambda T: str(_custom_net(T)),
    "named_parameters": lambda T: [(n, p.shape) for n, p in _custom_net(T).named_parameters()],
    "grad_fn_reprs": lambda T: (repr(T.ones(2, requires_grad=True) * 2),
                                repr((T.ones(2, requires_grad=True) * 2).sum()),
                                repr(T.nn.Parameter(T.ones(2)))),
    "precision": lambda T: _with_printoptions(T, lambda: T.tensor([1.23456, 2.5]), precision=2),
    "sci_mode_off": lambda T: _with_printoptions(T, lambda: T.tensor([1e-8, 1.0, 123.5]),
                                                 sci_mode=False),
    "sci_mode_on_and_ints": lambda T: (
        _with_printoptions(T, lambda: T.tensor([1.5, 2.0]), sci_mode=True),
        _with_printoptions(T, lambda: T.tensor([1.0, 1e9]), sci_mode=False)),
}


@pytest.mark.parametrize("name", list(REPRS))
def test_printed_forms_match_torch(name):
    same(REPRS[name])
