"""The vision layers the workload audit added, against torch: group and instance norm, pixel
(un)shuffle, affine_grid / grid_sample, unfold / fold, bicubic and area interpolation,
Adadelta and parameters_to_vector. Values and gradients match torch's; float64 finite
differences (``ember.autograd.gradcheck``) check each backward; errors match torch's.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def _close(actual, expected, msg="", rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol,
                               err_msg=msg)


def _close_states(e_state, t_state, rtol=1e-4, atol=1e-5):
    assert list(e_state) == list(t_state)
    for k in t_state:
        _close(e_state[k].detach().numpy(), t_state[k].detach().numpy(), k, rtol, atol)


def _run_both(fn, arrays, *args, **kwargs):
    """``fn(T, *tensors)`` for torch and ember on the same arrays (all requiring grad); the
    output is weighted by a fixed ramp and summed, then backpropagated. Returns, per
    library, the output and every input's gradient as arrays."""
    results = {}
    for T in (torch, ember):
        inputs = [T.tensor(a, requires_grad=True) for a in arrays]
        out = fn(T, *inputs, *args, **kwargs)
        ramp = np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(arrays[0].dtype)
        (out * T.tensor(ramp)).sum().backward()
        results[T.__name__] = [out.detach().numpy()] + [
            x.grad.numpy() if x.grad is not None else None for x in inputs]
    return results["ember"], results["torch"]


def _same_error(case):
    """``case(T)`` raises the same exception type and message under torch and ember."""
    with pytest.raises(Exception) as t_err:
        case(torch)
    with pytest.raises(Exception) as e_err:
        case(ember)
    assert type(e_err.value) is type(t_err.value)
    assert str(e_err.value) == str(t_err.value)


# --- group_norm / instance_norm against torch -----------------------------------------------
def _norm_case(T, kind, x_np, w_np, b_np, **kw):
    x = T.tensor(x_np, requires_grad=True)
    w = T.tensor(w_np, requires_grad=True)
    b = T.tensor(b_np, requires_grad=True)
    F = T.nn.functional
    if kind == "group":
        out = F.group_norm(x, kw["groups"], w, b, eps=1e-5)
    else:
        out = F.instance_norm(x, weight=w, bias=b, eps=1e-3)
    (out * T.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape)
                    .astype(x_np.dtype))).sum().backward()
    return [a.detach().numpy() for a in (out, x.grad, w.grad, b.grad)]


@pytest.mark.parametrize("kind, shape, groups", [
    ("group", (2, 6, 3, 4), 3), ("group", (3, 4), 2), ("group", (2, 4, 5), 4),
    ("group", (2, 6, 2, 2, 2), 1), ("instance", (2, 3, 5), None), ("instance", (2, 3, 4, 3), None),
])
def test_group_and_instance_norm_match_torch(kind, shape, groups):
    rs = np.random.RandomState(0)
    x = (rs.randn(*shape) * 2 + 1).astype(np.float32)
    w, b = rs.randn(shape[1]).astype(np.float32), rs.randn(shape[1]).astype(np.float32)
    t = _norm_case(torch, kind, x, w, b, groups=groups)
    e = _norm_case(ember, kind, x, w, b, groups=groups)
    for name, ea, ta in zip(("out", "x.grad", "weight.grad", "bias.grad"), e, t):
        _close(ea, ta, name, atol=1e-5)


def test_group_and_instance_norm_gradcheck():
    rs = np.random.RandomState(0)
    F = ember.nn.functional
    x = ember.tensor(rs.randn(2, 4, 3), dtype=ember.float64, requires_grad=True)
    w = ember.tensor(rs.randn(4), dtype=ember.float64, requires_grad=True)
    b = ember.tensor(rs.randn(4), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                                    (x, w, b))
    rm, rv = ember.zeros(4, dtype=ember.float64), ember.ones(4, dtype=ember.float64)
    assert ember.autograd.gradcheck(
        lambda x, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False), (x, w, b))


def test_instance_norm_running_stats_and_modules_match_torch():
    x = np.random.RandomState(0).randn(3, 4, 5, 5).astype(np.float32) * 3 + 2
    mods = {}
    for T in (torch, ember):
        m = T.nn.InstanceNorm2d(4, momentum=0.3, track_running_stats=True)
        out = [m(T.tensor(x)), m(T.tensor(x[:1] * 2))]
        m.eval()
        out.append(m(T.tensor(x)))
        out.append(m(T.tensor(x[0])))  # an unbatched (C, H, W) input
        mods[T.__name__] = (m, [o.detach().numpy() for o in out])
    (em, eo), (tm, to) = mods["ember"], mods["torch"]
    for i, (a, b) in enumerate(zip(eo, to)):
        _close(a, b, f"output {i}", atol=1e-5)
    _close_states(em.state_dict(), tm.state_dict())
    assert int(em.num_batches_tracked) == int(tm.num_batches_tracked) == 0
    assert repr(em) == repr(tm)
    gn_e, gn_t = ember.nn.GroupNorm(2, 4, eps=1e-3), torch.nn.GroupNorm(2, 4, eps=1e-3)
    assert repr(gn_e) == repr(gn_t)
    assert list(gn_e.state_dict()) == list(gn_t.state_dict()) == ["weight", "bias"]
    assert list(ember.nn.GroupNorm(2, 4, affine=False).state_dict()) == []
    assert ember.nn.InstanceNorm1d(3, affine=True).weight.shape == (3,)
    assert ember.nn.InstanceNorm3d(3)(ember.randn(2, 3, 2, 2, 2)).shape == (2, 3, 2, 2, 2)


def test_group_and_instance_norm_errors_match_torch():
    cases = [
        lambda T: T.nn.GroupNorm(3, 4),
        lambda T: T.nn.functional.group_norm(T.ones(2, 6, 3), 4),
        lambda T: T.nn.functional.group_norm(T.ones(6), 2),
        lambda T: T.nn.functional.group_norm(T.ones(1, 2), 2),
        lambda T: T.nn.functional.group_norm(T.ones(2, 4, 3), 2, T.ones(3)),
        lambda T: T.nn.InstanceNorm2d(3)(T.ones(2, 3, 4)[0, 0]),
        lambda T: T.nn.InstanceNorm2d(3, affine=True)(T.ones(2, 4, 3, 3)),
        lambda T: T.nn.functional.instance_norm(T.ones(2, 3, 1, 1)),
        lambda T: T.nn.functional.instance_norm(T.ones(2, 3, 4), use_input_stats=False),
    ]
    for case in cases:
        _same_error(case)
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(3)(ember.ones(2, 4, 5))




# --- pixel shuffle ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, r", [((2, 8, 3, 5), 2), ((18, 2, 2), 3), ((2, 1, 4, 3, 3), 2)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, r):
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    e, t = _run_both(lambda T, a: T.nn.PixelUnshuffle(r)(T.nn.PixelShuffle(r)(a) * 2), [x])
    _close(e[0], t[0])
    _close(e[1], t[1])
    e, t = _run_both(lambda T, a: T.nn.functional.pixel_shuffle(a, r), [x])
    assert e[0].shape == t[0].shape
    _close(e[0], t[0])
    x64 = ember.tensor(x.astype(np.float64), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.pixel_shuffle(a, r), (x64,))
    y = ember.nn.functional.pixel_shuffle(x64, r)
    assert y.grad_fn.name() == "PixelShuffleBackward0"
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.pixel_unshuffle(a, r),
                                    (y.detach().requires_grad_(),))
    assert repr(ember.nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(ember.nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.pixel_shuffle(T.ones(4, 4), 2),
    lambda T: T.nn.functional.pixel_shuffle(T.ones(5, 2, 2), 2),
    lambda T: T.nn.functional.pixel_shuffle(T.ones(4, 2, 2), 0),
    lambda T: T.nn.functional.pixel_shuffle(T.ones(4, 2, 2), 2.0),
    lambda T: T.nn.functional.pixel_unshuffle(T.ones(1, 5, 4), 2),
    lambda T: T.nn.functional.pixel_unshuffle(T.ones(1, 4, 5), 2),
    lambda T: T.nn.functional.pixel_unshuffle(T.ones(1, 4, 4), -1),
])
def test_pixel_shuffle_errors_match_torch(case):
    _same_error(case)


# --- affine_grid and grid_sample --------------------------------------------------------------
@pytest.mark.parametrize("size", [[2, 3, 4, 5], [2, 1, 3, 4, 5], [1, 1, 1, 3]])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    nd = len(size) - 2
    theta = np.random.RandomState(0).randn(size[0], nd, nd + 1).astype(np.float32)
    if align_corners and min(size[2:]) == 1:  # both warn that this grid is degenerate
        warnings.simplefilter("ignore")
    e, t = _run_both(lambda T, th: T.nn.functional.affine_grid(th, size, align_corners), [theta])
    assert e[0].shape == t[0].shape
    _close(e[0], t[0])
    _close(e[1], t[1], atol=1e-4)
    th64 = ember.tensor(theta.astype(np.float64), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda th: ember.nn.functional.affine_grid(th, size, align_corners), (th64,))


@pytest.mark.parametrize("mode, padding_mode, align_corners", list(itertools.product(
    ["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True])))
def test_grid_sample_matches_torch(mode, padding_mode, align_corners):
    rs = np.random.RandomState(0)
    x = rs.randn(2, 3, 5, 6)
    grid = rs.uniform(-1.3, 1.3, (2, 4, 7, 2))
    grid[0, 0, :3] = [[1.0, -1.0], [0.0, 0.2], [-1.0, 1.0]]  # corners and the centre
    e, t = _run_both(lambda T, a, g: T.nn.functional.grid_sample(
        a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners), [x, grid])
    for name, ea, ta in zip(("out", "input.grad", "grid.grad"), e, t):
        _close(ea, ta, name, rtol=1e-10, atol=1e-12)
    e32, t32 = _run_both(lambda T, a, g: T.nn.functional.grid_sample(
        a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners),
        [x.astype(np.float32), grid.astype(np.float32)])
    for ea, ta in zip(e32, t32):
        _close(ea, ta, atol=1e-5)
    if mode == "bilinear":  # away from the kinks at pixel centres and edges
        xs = ember.tensor(x[:1, :2], requires_grad=True)
        gs = ember.tensor(rs.uniform(-1.3, 1.3, (1, 3, 5, 2)), requires_grad=True)
        assert ember.autograd.gradcheck(lambda a, g: ember.nn.functional.grid_sample(
            a, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners), (xs, gs))


def test_grid_sample_identity_grid_and_checks():
    x = ember.randn(2, 3, 4, 5)
    theta = ember.tensor([[[1.0, 0, 0], [0, 1.0, 0]]] * 2)
    for ac in (False, True):
        grid = ember.nn.functional.affine_grid(theta, [2, 3, 4, 5], align_corners=ac)
        out = ember.nn.functional.grid_sample(x, grid, align_corners=ac)
        _close(out.numpy(), x.numpy(), atol=1e-6)
    assert out.grad_fn is None and x.requires_grad is False
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        ember.nn.functional.grid_sample(x, grid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in [
            lambda T: T.nn.functional.grid_sample(T.ones(1, 1, 2, 2), T.ones(1, 2, 2, 2),
                                                  mode="linear"),
            lambda T: T.nn.functional.grid_sample(T.ones(1, 1, 2, 2), T.ones(1, 2, 2, 2),
                                                  padding_mode="wrap"),
            lambda T: T.nn.functional.grid_sample(T.ones(1, 1, 2, 2), T.ones(2, 2, 2, 2)),
            lambda T: T.nn.functional.grid_sample(T.ones(1, 1, 2, 2), T.ones(1, 2, 2, 3)),
            lambda T: T.nn.functional.grid_sample(T.ones(1, 1, 2, 2), T.ones(1, 2, 2)),
            lambda T: T.nn.functional.affine_grid(T.ones(1, 2, 3), [1, 1, 2]),
            lambda T: T.nn.functional.affine_grid(T.ones(1, 3, 3), [1, 1, 2, 2]),
            lambda T: T.nn.functional.affine_grid(T.ones(1, 2, 3), [1, 1, 0, 2]),
            lambda T: T.nn.functional.affine_grid(T.ones(1, 2, 3, dtype=T.int64), [1, 1, 2, 2]),
        ]:
            _same_error(case)


# --- unfold and fold --------------------------------------------------------------------------
FOLD_CASES = [dict(kernel_size=3), dict(kernel_size=(2, 3), stride=2, padding=1),
              dict(kernel_size=2, dilation=2, padding=(1, 0), stride=(1, 2))]


@pytest.mark.parametrize("kw", FOLD_CASES)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_and_fold_match_torch(kw, batched):
    shape = (2, 3, 7, 6) if batched else (3, 7, 6)
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)

    def round_trip(T, a):
        cols = T.nn.Unfold(**kw)(a)
        return T.nn.Fold((7, 6), **kw)(cols * cols)

    e, t = _run_both(round_trip, [x])
    _close(e[0], t[0])
    _close(e[1], t[1])
    e, t = _run_both(lambda T, a: T.nn.functional.unfold(a, **kw), [x])
    assert e[0].shape == t[0].shape
    _close(e[0], t[0])
    x64 = ember.tensor(x.astype(np.float64)[..., :2, :, :], requires_grad=True)  # 2 channels
    if batched:
        x64 = x64[:1].detach().requires_grad_()
    cols = ember.nn.functional.unfold(x64, **kw)
    assert cols.grad_fn.name() == "Im2ColBackward0"
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.unfold(a, **kw), (x64,))
    assert ember.autograd.gradcheck(lambda c: ember.nn.functional.fold(c, (7, 6), **kw),
                                    (cols.detach().requires_grad_(),))
    assert repr(ember.nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))
    assert repr(ember.nn.Fold(7, **kw)) == repr(torch.nn.Fold(7, **kw))


@pytest.mark.parametrize("case", [
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3), 4),
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3), 0),
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3), 2, stride=0),
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3), 2, padding=-1),
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3), (2, 2, 2)),
    lambda T: T.nn.functional.unfold(T.ones(1, 2, 3, 3, 3), 2),
    lambda T: T.nn.functional.fold(T.ones(1, 5, 4), (3, 3), 2),
    lambda T: T.nn.functional.fold(T.ones(1, 8, 5), (3, 3), 2),
    lambda T: T.nn.functional.fold(T.ones(8, 4, 1, 1), (3, 3), 2),
    lambda T: T.nn.functional.fold(T.ones(1, 8, 4), 3, 2, dilation=0),
])
def test_unfold_and_fold_errors_match_torch(case):
    _same_error(case)


# --- interpolate: bicubic and area ------------------------------------------------------------
@pytest.mark.parametrize("mode, align_corners", [("bicubic", False), ("bicubic", True),
                                                 ("area", None)])
@pytest.mark.parametrize("kw", [dict(size=(9, 4)), dict(scale_factor=2.0),
                                dict(scale_factor=0.5), dict(scale_factor=(1.7, 0.6))])
def test_interpolate_bicubic_and_area_match_torch(mode, align_corners, kw):
    x = np.random.RandomState(0).rand(2, 3, 5, 7).astype(np.float32)
    e, t = _run_both(lambda T, a: T.nn.functional.interpolate(
        a, mode=mode, align_corners=align_corners, **kw), [x])
    assert e[0].shape == t[0].shape
    _close(e[0], t[0])
    _close(e[1], t[1])
    x64 = ember.tensor(x[:1, :1].astype(np.float64), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.interpolate(
        a, mode=mode, align_corners=align_corners, **kw), (x64,))


def test_interpolate_area_1d_and_bicubic_rank_check():
    x = np.random.RandomState(0).rand(2, 3, 7).astype(np.float32)
    e, t = _run_both(lambda T, a: T.nn.Upsample(size=3, mode="area")(a), [x])
    _close(e[0], t[0])
    _close(e[1], t[1])
    _same_error(lambda T: T.nn.functional.interpolate(T.ones(1, 2, 3), size=4, mode="bicubic"))


# --- Adadelta and parameters_to_vector --------------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4},
                                     {"weight_decay": 0.1, "maximize": True}])
def test_adadelta_matches_torch(options):
    rs = np.random.RandomState(0)
    w0, targets = rs.randn(4, 3).astype(np.float32), rs.randn(6, 4).astype(np.float32)
    inputs = rs.randn(6, 3).astype(np.float32)
    states = {}
    for T in (torch, ember):
        w = T.nn.Parameter(T.tensor(w0))
        opt = T.optim.Adadelta([w], **options)
        for _ in range(4):
            opt.zero_grad()
            loss = ((T.tensor(inputs) @ w.t() - T.tensor(targets)) ** 2).mean()
            loss.backward()
            opt.step()
        states[T.__name__] = (w.detach().numpy().copy(), opt.state_dict())
    (ew, es), (tw, ts) = states["ember"], states["torch"]
    _close(ew, tw, atol=1e-6)
    assert es["param_groups"] == ts["param_groups"]
    assert list(es["state"][0]) == list(ts["state"][0]) == ["step", "square_avg", "acc_delta"]
    for k in ("step", "square_avg", "acc_delta"):
        _close(es["state"][0][k].numpy(), ts["state"][0][k].numpy(), k, atol=1e-7)
    for bad in [dict(lr=-1.0), dict(rho=1.5), dict(eps=-1.0), dict(weight_decay=-1.0)]:
        _same_error(lambda T, bad=bad: T.optim.Adadelta([T.nn.Parameter(T.ones(1))], **bad))


def test_parameters_to_vector_round_trips_like_torch():
    results = {}
    for T in (torch, ember):
        T.manual_seed(0)
        model = T.nn.Sequential(T.nn.Conv2d(2, 3, 2), T.nn.Flatten(), T.nn.Linear(3, 2))
        vec = T.nn.utils.parameters_to_vector(model.parameters())
        vec.pow(2).sum().backward()  # differentiable: the gradient reaches each parameter
        T.nn.utils.vector_to_parameters(T.arange(vec.numel(), dtype=T.float32),
                                        model.parameters())
        results[T.__name__] = (vec.shape[0], model[0].weight.grad is not None,
                               model[2].bias.detach().numpy().tolist(),
                               model(T.ones(1, 2, 2, 2)).sum().item())
    assert results["ember"] == results["torch"]
    _same_error(lambda T: T.nn.utils.vector_to_parameters([1.0], T.nn.Linear(1, 1).parameters()))
