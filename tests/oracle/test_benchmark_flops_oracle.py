"""ember's FlopCounterMode, ModuleTracker and benchmark Measurement/Compare against torch's:
the same model and ops give the same counts per module and op, the same parents sequence
forward and backward, and the same raw times print the same way."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils import benchmark as ember_bm
from ember.utils.flop_counter import FlopCounterMode as EmberCounter
from ember.utils.module_tracker import ModuleTracker as EmberTracker


def _counter(lib):
    if lib is ember:
        return EmberCounter
    from torch.utils.flop_counter import FlopCounterMode

    return FlopCounterMode


def _counts(lib, run):
    lib.manual_seed(0)
    with _counter(lib)(display=False) as counter:
        run(lib)
    counts = {mod: {str(op): n for op, n in ops.items()}
              for mod, ops in counter.get_flop_counts().items()}
    return counts, counter.get_total_flops()


def _model(lib):
    nn = lib.nn

    class Mix(nn.Module):
        def forward(self, h):
            return lib.bmm(h.unsqueeze(2), h.unsqueeze(1))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 8)
            self.fc2 = nn.Linear(8, 6, bias=False)

        def forward(self, x):
            return x + self.fc2(lib.relu(self.fc1(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1, stride=2)
            self.proj = nn.Linear(4 * 4 * 4, 6)
            self.blocks = nn.Sequential(Block(), Block())
            self.mix = Mix()

        def forward(self, x):
            h = self.blocks(self.proj(self.conv(x).flatten(1)))
            return self.mix(h)

    return Net()


def test_model_counts_per_module_match_torch(torch):
    def run(lib):
        net = _model(lib)
        x = lib.randn(2, 3, 8, 8, requires_grad=True)
        net(x).sum().backward()
        net(x.detach())  # a forward only, and an input needing no gradient

    got, want = _counts(ember, run), _counts(torch, run)
    assert got == want
    assert {"Global", "Net", "Net.conv", "Net.blocks.0.fc1", "Net.mix"} <= set(got[0])


def _r(lib, *shape, grad=True):
    return lib.randn(*shape, dtype=lib.float64).requires_grad_(grad)


def _F(lib):
    return lib.nn.functional


def _grad_of_input(lib):
    x, w = _r(lib, 2, 3, 6, 6), _r(lib, 4, 3, 3, 3)
    return lib.autograd.grad(_F(lib).conv2d(x, w).sum(), [x])  # no weight gradient


OPS = {
    "mm": lambda t: (_r(t, 3, 4) @ _r(t, 4, 5)).sum().backward(),
    "mm_3d_2d": lambda t: (_r(t, 2, 3, 4) @ _r(t, 4, 5)).sum().backward(),
    "mm_2d_3d_no_grad": lambda t: _r(t, 3, 4, grad=False) @ _r(t, 2, 4, 5, grad=False),
    "bmm_broadcast": lambda t: (_r(t, 2, 1, 3, 4) @ _r(t, 3, 4, 5)).sum().backward(),
    "matmul_1d_3d_no_grad": lambda t: _r(t, 4, grad=False) @ _r(t, 2, 4, 5, grad=False),
    "matmul_noncontiguous": lambda t: _r(t, 3, 2, 4, grad=False).transpose(0, 1)
    @ _r(t, 4, 5, grad=False),
    "mv": lambda t: (_r(t, 3, 4) @ _r(t, 4)).sum().backward(),
    "linear_3d": lambda t: _F(t).linear(_r(t, 2, 3, 4), _r(t, 5, 4), _r(t, 5)).sum().backward(),
    "linear_1d": lambda t: _F(t).linear(_r(t, 4), _r(t, 5, 4), _r(t, 5)).sum().backward(),
    "linear_x_no_grad": lambda t: _F(t).linear(_r(t, 3, 4, grad=False), _r(t, 5, 4),
                                               _r(t, 5)).sum().backward(),
    "addmm": lambda t: t.addmm(_r(t, 5), _r(t, 3, 4), _r(t, 4, 5), alpha=2.0).sum().backward(),
    "baddbmm": lambda t: t.baddbmm(_r(t, 2, 3, 5), _r(t, 2, 3, 4),
                                   _r(t, 2, 4, 5)).sum().backward(),
    "addbmm": lambda t: t.addbmm(_r(t, 3, 5), _r(t, 2, 3, 4), _r(t, 2, 4, 5)).sum().backward(),
    "conv1d_groups": lambda t: _F(t).conv1d(_r(t, 2, 4, 8), _r(t, 6, 2, 3),
                                            groups=2).sum().backward(),
    "conv2d_unbatched_same": lambda t: _F(t).conv2d(_r(t, 3, 8, 8), _r(t, 4, 3, 3, 3),
                                                    padding="same", dilation=2).sum().backward(),
    "conv_transpose2d": lambda t: _F(t).conv_transpose2d(
        _r(t, 2, 3, 5, 5), _r(t, 3, 4, 3, 3), stride=2, padding=1,
        output_padding=1).sum().backward(),
    "conv3d": lambda t: _F(t).conv3d(_r(t, 1, 2, 4, 4, 4), _r(t, 3, 2, 2, 2, 2)).sum().backward(),
    "sdpa": lambda t: _F(t).scaled_dot_product_attention(
        _r(t, 2, 3, 5, 8), _r(t, 2, 3, 6, 8), _r(t, 2, 3, 6, 7), is_causal=True).sum().backward(),
    "sdpa_value_grad_only": lambda t: _F(t).scaled_dot_product_attention(
        _r(t, 2, 3, 5, 8, grad=False), _r(t, 3, 6, 8, grad=False),
        _r(t, 3, 6, 7)).sum().backward(),
    "sdpa_gqa": lambda t: _F(t).scaled_dot_product_attention(
        _r(t, 2, 4, 5, 8), _r(t, 2, 2, 6, 8), _r(t, 2, 2, 6, 7),
        enable_gqa=True).sum().backward(),
    "einsum_chain": lambda t: t.einsum("ij,jk,kl->il", _r(t, 3, 4), _r(t, 4, 5),
                                       _r(t, 5, 2)).sum().backward(),
    "einsum_batched": lambda t: t.einsum("bhqd,bhkd->bhqk", _r(t, 2, 3, 5, 8),
                                         _r(t, 2, 3, 6, 8, grad=False)).sum().backward(),
    "lstm_bidirectional": lambda t: t.nn.LSTM(4, 5, num_layers=2, bidirectional=True,
                                              dtype=t.float64)(_r(t, 3, 2, 4))[0].sum()
    .backward(),
    "gru_no_bias": lambda t: t.nn.GRU(4, 5, bias=False, dtype=t.float64)(
        _r(t, 3, 2, 4), _r(t, 1, 2, 5))[0].sum().backward(),
    "rnn_batch_first": lambda t: t.nn.RNN(4, 5, batch_first=True, dtype=t.float64)(
        _r(t, 2, 3, 4))[0].sum().backward(),
    "multihead_attention": lambda t: t.nn.MultiheadAttention(8, 2, batch_first=True,
                                                             dtype=t.float64)(
        _r(t, 2, 5, 8), _r(t, 2, 5, 8), _r(t, 2, 5, 8))[0].sum().backward(),
    "grad_of_input_only": lambda t: _grad_of_input(t),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_counts_match_torch(torch, name):
    assert _counts(ember, OPS[name]) == _counts(torch, OPS[name])


def _tracked(lib, tracker_cls):
    nn = lib.nn
    log = []

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, tag):
            ctx.tag = tag
            log.append(("fw", tag, sorted(tracker.parents), tracker.is_bw))
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            log.append(("bw", ctx.tag, sorted(tracker.parents), tracker.is_bw))
            return g, None

    class Leaf(nn.Module):
        def __init__(self, tag):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.tag = tag

        def forward(self, x):
            return Probe.apply(self.lin(x), self.tag)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Leaf("a"), Leaf("b")

        def forward(self, x):
            return self.b(lib.relu(self.a(x))) + x

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(Block(), Block())
            self.head = Leaf("h")

        def forward(self, x):
            return self.head(self.blocks(x))

    lib.manual_seed(0)
    net, x = Net(), lib.randn(2, 3)
    with tracker_cls() as tracker:
        net(x).sum().backward()
        log.append(("after", sorted(tracker.parents), tracker.is_bw))
        net(x.requires_grad_()).sum().backward()
        log.append(("after", sorted(tracker.parents), tracker.is_bw))
    return log


def test_module_tracker_parents_match_torch(torch):
    from torch.utils.module_tracker import ModuleTracker

    got, want = _tracked(ember, EmberTracker), _tracked(torch, ModuleTracker)
    assert got == want
    assert ("bw", "a", ["Global", "Net", "Net.blocks", "Net.blocks.1", "Net.blocks.1.a"],
            True) in got


RAW_TIMES = [
    [1e-3, 2e-3, 1.5e-3, 1.2e-3, 5e-3],
    [1.234e-6],
    [3e-9, 3.1e-9],
    [2.0] * 7,
    list(np.random.default_rng(0).uniform(1e-5, 1.1e-5, 50)),
    list(np.random.default_rng(1).lognormal(-7, 0.3, 20)),
    [1e-6, 1e-6, 1e-6, 1.0000001e-6],
]
SPECS = [dict(stmt="x + 1", setup="pass"),
         dict(stmt="x + 1", setup="pass", label="L", sub_label="s", description="d",
              num_threads=4),
         dict(stmt="a = 1\nb = 2", setup="y = 1\nz = 2", sub_label="q"),
         dict(stmt="f(x)", setup="y = 2", env="e1")]


@pytest.mark.parametrize("raw", RAW_TIMES, ids=lambda r: f"n{len(r)}")
@pytest.mark.parametrize("number", [1, 1000])
def test_measurement_repr_and_statistics_match_torch(torch, raw, number):
    from torch.utils import benchmark as torch_bm

    for spec in SPECS:
        got = ember_bm.Measurement(number, raw, ember_bm.TaskSpec(**spec))
        want = torch_bm.Measurement(number, raw, torch_bm.TaskSpec(**spec))
        assert repr(got).splitlines()[1:] == repr(want).splitlines()[1:]
        for attr in ("median", "iqr", "significant_figures", "has_warnings", "times", "title",
                     "env", "as_row_name", "num_threads"):
            assert getattr(got, attr) == getattr(want, attr), attr
        assert got.mean == pytest.approx(want.mean, rel=1e-12)


def _compare_inputs(bm):
    rng = np.random.default_rng(1)
    out = []
    for label in ("add", "mul"):
        for threads in (1, 4):
            for sub in ("float", "int", None):
                for desc in ("n=1", "n=100", "n=10000"):
                    for rep in range(2):
                        raw = list(rng.lognormal(-12 + len(desc), 0.4 if sub == "int" else 0.05,
                                                 12))
                        env = "A" if (rep, sub, threads, label) == (0, "float", 1, "mul") else "B"
                        out.append(bm.Measurement(100, raw, bm.TaskSpec(
                            "x + y" if label == "add" else "x * y", "pass", label=label,
                            sub_label=sub, description=desc, num_threads=threads, env=env)))
    return out


@pytest.mark.parametrize("options", [(), ("trim_significant_figures",), ("colorize",),
                                     ("highlight_warnings",),
                                     ("trim_significant_figures", "highlight_warnings")])
def test_compare_tables_match_torch(torch, options):
    from torch.utils import benchmark as torch_bm

    got = ember_bm.Compare(_compare_inputs(ember_bm))
    want = torch_bm.Compare(_compare_inputs(torch_bm))
    for option in options:
        getattr(got, option)()
        getattr(want, option)()
    assert str(got) == str(want)
