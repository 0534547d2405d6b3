"""Sparse COO tensors and sparse embedding gradients against torch: 20-step optimizer
trajectories from identical weights (SGD, SGD with momentum, Adagrad, SparseAdam), the
gradients' indices and values, the sparse ops, reprs and errors."""
import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

V, D, STEPS = 11, 4, 20


def _batches(seed=0):
    rs = np.random.RandomState(seed)
    # (3, 5) ids with repeats, some equal to the padding id 3
    return [rs.randint(0, V, (3, 5)) for _ in range(STEPS)]


def _model(lib, padding_idx=None, bag=False):
    w0 = np.random.RandomState(7).randn(V, D).astype(np.float32)
    head = np.random.RandomState(8).randn(D).astype(np.float32)
    if bag:
        emb = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(w0), freeze=False, mode="mean",
                                                  sparse=True, padding_idx=padding_idx)
    else:
        emb = lib.nn.Embedding.from_pretrained(lib.tensor(w0), freeze=False, sparse=True,
                                               padding_idx=padding_idx)
    return emb, lib.tensor(head)


def _trajectory(lib, opt_name, kwargs, padding_idx=None, bag=False):
    emb, head = _model(lib, padding_idx, bag)
    opt = getattr(lib.optim, opt_name)(emb.parameters(), **kwargs)
    weights, grads = [], []
    for ids in _batches():
        opt.zero_grad()
        out = emb(lib.tensor(ids))
        # elementwise only: the gradient is the same float32 arithmetic in both libraries, so
        # any difference comes from the optimizers
        loss = (out * out * head).sum() + (out * head.flip(0)).sum()
        loss.backward()
        g = emb.weight.grad
        grads.append((g._indices().numpy().copy(), g._values().detach().numpy().copy(),
                      g.is_coalesced()))
        opt.step()
        weights.append(emb.weight.detach().numpy().copy())
    return weights, grads


CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.03, "momentum": 0.8, "dampening": 0.2, "maximize": True}),
    ("SGD", {"lr": 0.03, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1}),
    ("SparseAdam", {"lr": 0.05}),
    ("SparseAdam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "maximize": True}),
]


@pytest.mark.parametrize("padding_idx", [None, 3])
@pytest.mark.parametrize("opt_name, kwargs", CASES, ids=lambda c: str(c))
def test_trajectories_match_torch(opt_name, kwargs, padding_idx):
    want_w, want_g = _trajectory(torch, opt_name, kwargs, padding_idx)
    got_w, got_g = _trajectory(ember, opt_name, kwargs, padding_idx)
    for step, (gw, ww, gg, wg) in enumerate(zip(got_w, want_w, got_g, want_g)):
        np.testing.assert_array_equal(gg[0], wg[0], err_msg=f"indices, step {step}")
        assert gg[2] == wg[2], f"coalesced flag, step {step}"
        assert_close(gg[1], wg[1], rtol=2e-5, atol=1e-6, msg=f"grad values, step {step}")
        # torch's float32 sqrt is not always correctly rounded: allow a few ulps to build up
        assert_close(gw, ww, rtol=2e-5, atol=2e-6, msg=f"{opt_name} weights, step {step}")


def test_sgd_trajectory_is_bitwise_torch():
    for kwargs in ({"lr": 0.05}, {"lr": 0.05, "momentum": 0.9}):
        want, _ = _trajectory(torch, "SGD", kwargs, padding_idx=3)
        got, _ = _trajectory(ember, "SGD", kwargs, padding_idx=3)
        np.testing.assert_array_equal(got[-1], want[-1])


def test_embedding_bag_trajectory_matches_torch():
    want_w, want_g = _trajectory(torch, "SGD", {"lr": 0.05, "momentum": 0.9}, 3, bag=True)
    got_w, got_g = _trajectory(ember, "SGD", {"lr": 0.05, "momentum": 0.9}, 3, bag=True)
    for gw, ww, gg, wg in zip(got_w, want_w, got_g, want_g):
        np.testing.assert_array_equal(gg[0], wg[0])
        assert_close(gg[1], wg[1], rtol=1e-5, atol=1e-7)
        assert_close(gw, ww, rtol=1e-5, atol=1e-6)


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001  (the outcome is compared)
        return type(e).__name__, str(e).split("\n")[0]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam",
                                  "RAdam", "ASGD", "Rprop", "Adafactor"])
def test_refusals_match_torch(name):
    def run(lib):
        emb, _ = _model(lib)
        emb(lib.tensor([[1, 2, 1]])).sum().backward()
        getattr(lib.optim, name)(emb.parameters()).step()

    assert _outcome(lambda: run(ember)) == _outcome(lambda: run(torch))


@pytest.mark.parametrize("case", ["sgd_wd", "adagrad_wd", "sparse_adam_dense", "freq",
                                  "clip_norm", "clip_value", "bag_max"])
def test_errors_match_torch(case):
    def run(lib):
        emb, _ = _model(lib)
        ids = lib.tensor([[1, 2, 1]])
        if case == "freq":
            e = lib.nn.Embedding(5, 2, sparse=True, scale_grad_by_freq=True)
            e(ids).sum().backward()
        if case == "bag_max":
            lib.nn.functional.embedding_bag(ids, emb.weight, mode="max", sparse=True)
        if case == "sparse_adam_dense":
            emb.weight.sum().backward()
            lib.optim.SparseAdam(emb.parameters()).step()
        emb(ids).sum().backward()
        if case == "sgd_wd":
            lib.optim.SGD(emb.parameters(), lr=0.1, weight_decay=0.1).step()
        if case == "adagrad_wd":
            lib.optim.Adagrad(emb.parameters(), weight_decay=0.1).step()
        if case == "clip_norm":
            lib.nn.utils.clip_grad_norm_(emb.parameters(), 1.0)
        if case == "clip_value":
            lib.nn.utils.clip_grad_value_(emb.parameters(), 1.0)

    e, t = _outcome(lambda: run(ember)), _outcome(lambda: run(torch))
    assert e[0] == t[0] and e[1][:60] == t[1][:60]


def _sparse(lib, idx, vals, size, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(vals), size, **kw)


def _same_sparse(e, t):
    assert e.is_sparse and t.is_sparse and tuple(e.shape) == tuple(t.shape)
    assert e.is_coalesced() == t.is_coalesced() and e._nnz() == t._nnz()
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
    assert_close(e._values().detach().numpy(), t._values().detach().numpy())


IDX, VALS = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]], [3.0, 4.0, 5.0, 6.0, -1.0]


@pytest.mark.parametrize("op", ["coalesce", "mul", "rmul", "div", "neg", "add", "add_alpha",
                                "add_coalesced", "sub", "add_", "mul_", "clone", "sum1",
                                "sum0", "double", "to_sparse", "to_sparse1"])
def test_sparse_ops_match_torch(op):
    def run(lib):
        s = _sparse(lib, IDX, VALS, (3, 3))
        o = _sparse(lib, [[2, 0, 2], [1, 1, 1]], [1.0, 2.0, 3.0], (3, 3))
        return {
            "coalesce": lambda: s.coalesce(), "mul": lambda: s * 2.5, "rmul": lambda: 3 * s,
            "div": lambda: s / lib.tensor(4.0), "neg": lambda: -s, "add": lambda: s + o,
            "add_alpha": lambda: s.add(o, alpha=0.5),
            "add_coalesced": lambda: s.coalesce() + o.coalesce(), "sub": lambda: s - o,
            "add_": lambda: s.add_(o), "mul_": lambda: s.mul_(2.0), "clone": lambda: s.clone(),
            "sum1": lambda: lib.sparse.sum(s, 1), "sum0": lambda: lib.sparse.sum(s, 0),
            "double": lambda: s.double(),
            "to_sparse": lambda: lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(),
            "to_sparse1": lambda: lib.tensor([[0.0, 1.0], [0.0, 0.0]]).to_sparse(1),
        }[op]()

    _same_sparse(run(ember), run(torch))


def test_dense_results_and_gradients_match_torch():
    def run(lib):
        v = lib.tensor(VALS, dtype=lib.float64, requires_grad=True)
        d = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor(IDX), v, (3, 3), check_invariants=False)
        leaf = lib.sparse_coo_tensor(lib.tensor(IDX), lib.tensor(VALS, dtype=lib.float64),
                                     (3, 3), requires_grad=True, check_invariants=False)
        outs = [lib.sparse.mm(s, d), lib.mm(s, d), lib.sparse.addmm(lib.ones(3, 4).double(),
                                                                  s, d, beta=2, alpha=0.5),
                s.to_dense(), lib.sparse.sum(s), lib.ones(3, 3).double() + s.detach()]
        loss = sum((o ** 2).sum() for o in outs) + (lib.sparse.mm(leaf, d) ** 2).sum()
        loss.backward()
        return [o.detach().numpy() for o in outs], v.grad.numpy(), d.grad.numpy(), leaf.grad

    (eo, ev, ed, el), (to, tv, td, tl) = run(ember), run(torch)
    for a, b in zip(eo, to):
        assert_close(a, b)
    assert_close(ev, tv)
    assert_close(ed, td)
    _same_sparse(el, tl)


def test_repr_matches_torch():
    def run(lib):
        v = lib.tensor([[1.5, -2.0], [0.25, 3.0]], requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor([[2, 0]]), v, (3, 2), check_invariants=False)
        return [repr(x) for x in (s, s.detach().double(), s.detach().coalesce(),
                                  lib.zeros(2, 2, dtype=lib.int64).to_sparse(),
                                  lib.tensor([[1.0, 0.0]]).to_sparse())]

    want = [r.replace("torch.", "ember.") for r in run(torch)]
    assert run(ember) == want
