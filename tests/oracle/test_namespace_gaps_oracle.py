"""The top-level gaps against torch: the in-place function forms, the ``*_copy`` twins of the
view ops, and the small and ATen-level functions of ``ember/_namespace_gaps*.py``: values,
dtypes, identity of in-place results, copies versus views, gradients and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")
LIBS = (ember, torch)


def _arr(shape, seed=0, low=None):
    a = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        a = np.abs(a) + low
    return a.astype(np.float32)


def _error(fn):
    """``(type name, message)`` of what ``fn`` raises (None when it returns)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001  (any type; the test compares it with torch's)
        return type(e).__name__, str(e).split("\n")[0]
    return None


def _same_error(fn, message=True):
    """``fn(lib)`` raises the same type (and first line of message) under ember and torch."""
    e, t = _error(lambda: fn(ember)), _error(lambda: fn(torch))
    assert t is not None, "torch did not raise"
    assert e is not None, f"ember did not raise; torch: {t}"
    assert (e if message else e[0]) == (t if message else t[0])


def _grads(fn, arrays):
    """``fn(lib, *tensors)`` under both libraries, backward of a weighted sum of its
    outputs; returns ``(outputs, input grads)`` per library."""
    results = []
    for lib in LIBS:
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(lib, *xs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        # (infinite outputs, as of an empty segment's max, are left out of the loss)
        loss = sum((lib.where(o.isfinite(), o, 0.0)
                    * lib.tensor(np.linspace(-1, 2, o.numel(), dtype=np.float32)
                                 .reshape(tuple(o.shape)))).sum()
                   for o in outs if o.requires_grad)
        loss.backward()
        results.append((outs, [x.grad for x in xs]))
    return results


def _check(fn, arrays, rtol=None, atol=None):
    (eo, eg), (to, tg) = _grads(fn, arrays)
    assert len(eo) == len(to)
    for a, b in zip(eo, to):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert a.requires_grad == b.requires_grad
        assert_close(a, b, rtol=rtol, atol=atol)
    for a, b in zip(eg, tg):
        assert (a is None) == (b is None)
        if b is not None:
            assert_close(a, b, rtol=rtol, atol=atol)
    return eo, to


# --- in-place function forms ------------------------------------------------------------------
POS = {"log_", "log10_", "log1p_", "log2_", "reciprocal_", "rsqrt_", "sqrt_"}
INPLACE = [("abs_", ()), ("ceil_", ()), ("celu_", (1.5,)), ("clamp_", (-0.5, 0.7)),
           ("clamp_max_", (0.3,)), ("clamp_min_", (-0.2,)), ("clip_", (-0.5, 0.5)),
           ("cos_", ()), ("exp_", ()), ("expm1_", ()), ("fix_", ()), ("floor_", ()),
           ("log_", ()), ("log10_", ()), ("log1p_", ()), ("log2_", ()), ("neg_", ()),
           ("negative_", ()), ("reciprocal_", ()), ("relu_", ()), ("round_", ()),
           ("rsqrt_", ()), ("selu_", ()), ("sigmoid_", ()), ("sin_", ()), ("sqrt_", ()),
           ("square_", ()), ("tan_", ()), ("tanh_", ()), ("trunc_", ()),
           ("threshold_", (0.1, 20.0)), ("conj_physical_", ()),
           ("fill_", (2.5,)), ("zero_", ()), ("nan_to_num_", (0.5, 2.0))]


@pytest.mark.parametrize("name, args", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_form_returns_input_with_torch_values_and_gradient(name, args):
    a = _arr((3, 4), low=0.2 if name in POS else None) * 1.7
    results = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        y = x * 1
        out = getattr(lib, name)(y, *args)
        assert out is y
        out.backward(lib.tensor(_arr((3, 4), seed=1)))
        results.append((y, y._version, x.grad))
    (ey, ev, eg), (ty, tv, tg) = results
    assert_close(ey, ty, msg=name)
    assert ev == tv
    assert_close(eg, tg, msg=f"grad of {name}")


def test_inplace_round_decimals_tensor_clamp_and_nan_to_num():
    a = _arr((3, 4), seed=2) * 3
    a[0, :3] = [np.nan, np.inf, -np.inf]
    for src in ("torch.round_(x, decimals=1)", "torch.clamp_(x, torch.zeros(4), torch.ones(4))",
                "torch.nan_to_num_(x, 1.5, 9.0)"):
        outs = []
        for lib in LIBS:
            x = lib.tensor(a)
            assert eval(src, {"torch": lib, "x": x}) is x  # noqa: S307
            outs.append(x)
        assert_close(outs[0], outs[1], msg=src)


def test_nan_to_num_gradient_is_zero_where_the_input_is_not_finite():
    a = _arr((3, 4), seed=3)
    a[0, :3] = [np.nan, np.inf, -np.inf]
    grads = []
    for lib in LIBS:
        x = lib.tensor(a, requires_grad=True)
        y = lib.nan_to_num(x, nan=0.5, posinf=2.0, neginf=-2.0)
        assert y.grad_fn.name() == "NanToNumBackward0"
        (y * lib.tensor(_arr((3, 4), seed=4))).sum().backward()
        grads.append(x.grad)
    assert_close(grads[0], grads[1])
    assert (grads[0][0, :3] == 0).all()


def test_inplace_forms_raise_torch_errors():
    _same_error(lambda T: T.abs_(3))
    _same_error(lambda T: T.sin_(T.ones(2, requires_grad=True)))
    _same_error(lambda T: T.relu_([1.0]))
    _same_error(lambda T: T.exp_(T.ones(1, 3).expand(2, 3)))


def test_index_put_fill_detach_and_layout_forms_match_torch():
    a = _arr((4, 3))
    idx = np.array([0, 2, 0])
    (eo, eg), (to, tg) = _grads(lambda T, x, v: T.index_put_(x * 1, (T.tensor(idx),), v * 2,
                                                           accumulate=True), [a, _arr((3, 3))])
    assert_close(eo[0], to[0])
    for e, t in zip(eg, tg):
        assert_close(e, t)
    for lib in LIBS:
        y = lib.tensor(a, requires_grad=True) * 1
        assert lib.detach_(y) is y and not y.requires_grad and y.grad_fn is None
        z = lib.zeros(6)
        assert lib.resize_as_(z, lib.ones(2, 3)) is z and tuple(z.shape) == (2, 3)
        w = lib.arange(6.0)
        assert lib.as_strided_(w, (2, 2), (1, 2), 1) is w
        assert w.tolist() == [[1.0, 3.0], [2.0, 4.0]] and w.stride() == (1, 2)


def test_embedding_renorm_matches_torch_and_has_no_derivative():
    a = _arr((5, 3)) * 3
    outs = []
    for lib in LIBS:
        w = lib.tensor(a)
        assert lib.embedding_renorm_(w, lib.tensor([[4, 1], [1, -5]]), 1.5, 1.0) is w
        outs.append(w)
    assert_close(outs[0], outs[1])
    _same_error(lambda T: T.embedding_renorm_(T.tensor(a), T.tensor([0.0]), 1.0, 2.0))
    _same_error(lambda T: T.embedding_renorm_(T.tensor(a), T.tensor([7]), 1.0, 2.0))
    _same_error(lambda T: T.embedding_renorm_(T.tensor(a[0]), T.tensor([0]), 1.0, 2.0))
    _same_error(lambda T: T.embedding_renorm_(T.tensor(a, requires_grad=True),
                                               T.tensor([0]), 1.0, 2.0))
    _same_error(lambda T: T.embedding_renorm_(T.tensor(a, requires_grad=True) * 1,
                                               T.tensor([0]), 1.0, 2.0).sum().backward())


@pytest.mark.parametrize("name", ["dropout_", "alpha_dropout_", "feature_dropout_",
                                  "feature_alpha_dropout_"])
def test_inplace_dropouts_keep_identity_and_torch_rules(name):
    a = _arr((4, 3, 5))
    for lib in LIBS:
        y = lib.tensor(a, requires_grad=True) * 1
        fn = getattr(lib, name)
        assert fn(y, 0.4, True) is y and y.grad_fn is not None
        before = y.detach().clone()
        assert fn(y, 0.4, False) is y
        assert (y.detach() == before).all()
    _same_error(lambda T: getattr(T, name)(T.ones(2, 3), 1.5, True))
    x = ember.ones(4, 6)
    ember.dropout_(x, 0.5, True)
    assert set(np.unique(x.numpy()).tolist()) <= {0.0, 2.0}


# --- *_copy ------------------------------------------------------------------------------------
COPIES = {
    "alias_copy": lambda T, x: T.alias_copy(x),
    "as_strided_copy": lambda T, x: T.as_strided_copy(x, (2, 3), (1, 4), 1),
    "diagonal_copy": lambda T, x: T.diagonal_copy(x, 1, 1, 0),
    "expand_copy": lambda T, x: T.expand_copy(x, (2, -1, 4)),
    "permute_copy": lambda T, x: T.permute_copy(x, (1, 0)),
    "select_copy": lambda T, x: T.select_copy(x, 1, -1),
    "slice_copy": lambda T, x: T.slice_copy(x, 1, -3, None, 2),
    "slice_copy_clamped": lambda T, x: T.slice_copy(x, 0, 1, 100),
    "split_copy": lambda T, x: T.split_copy(x, 3, 1),
    "split_with_sizes_copy": lambda T, x: T.split_with_sizes_copy(x, [1, 2], 0),
    "squeeze_copy": lambda T, x: T.squeeze_copy(x.reshape(3, 1, 4, 1), (1, 3)),
    "squeeze_copy_all": lambda T, x: T.squeeze_copy(x.reshape(1, 3, 1, 4)),
    "t_copy": lambda T, x: T.t_copy(x),
    "transpose_copy": lambda T, x: T.transpose_copy(x, 0, 1),
    "unbind_copy": lambda T, x: T.unbind_copy(x, 1),
    "unfold_copy": lambda T, x: T.unfold_copy(x, 1, 2, 1),
    "unsqueeze_copy": lambda T, x: T.unsqueeze_copy(x, 1),
    "view_copy": lambda T, x: T.view_copy(x.t(), (2, 6)),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copy_variant_is_a_fresh_contiguous_tensor_with_torch_grad(name):
    a = _arr((3, 4))
    eo, to = _check(lambda T, x: COPIES[name](T, x), [a])
    for e, t in zip(eo, to):
        assert e._base is None and t._base is None
        assert e.stride() == t.stride() and e.is_contiguous()
        assert e.grad_fn.name() == t.grad_fn.name()
    x = ember.tensor(a)
    for e in (lambda r: list(r) if isinstance(r, (list, tuple)) else [r])(COPIES[name](ember, x)):
        assert not np.shares_memory(e.numpy(), x.numpy())


def test_copy_variants_write_out_and_check_it():
    a = _arr((3, 4))
    for lib in LIBS:
        out = lib.empty(4, 3)
        assert lib.permute_copy(lib.tensor(a), (1, 0), out=out) is out
        assert_close(out, a.T)
        pieces = [lib.empty(2, 4), lib.empty(1, 4)]
        assert lib.split_copy(lib.tensor(a), 2, out=pieces) is None
        assert_close(pieces[1], a[2:])
    _same_error(lambda T: T.permute_copy(T.ones(2, 3), (1, 0), out=T.empty(3, 2).double()))
    _same_error(lambda T: T.t_copy(T.ones(2, 3), out=T.empty(3, 2, requires_grad=True)))
    _same_error(lambda T: T.split_copy(T.ones(3, 4), 2, out=[T.empty(2, 4)]))
    _same_error(lambda T: T.unbind_copy(T.ones(3, 4), 1, out=[T.empty(3)]))
    _same_error(lambda T: T.slice_copy(T.ones(3, 4), 1, 0, 4, 0))
    _same_error(lambda T: T.select_copy(T.ones(3, 4), 0, 5))
    _same_error(lambda T: T.view_copy(T.ones(3, 4), (5,)))
    _same_error(lambda T: T.alias_copy(3))


def test_copy_out_of_an_input_that_requires_grad_has_no_derivative():
    for lib in LIBS:
        out = lib.empty(3, 2)
        assert lib.t_copy(lib.ones(2, 3, requires_grad=True), out=out) is out
        assert out.requires_grad and out.grad_fn is not None
    _same_error(lambda T: T.t_copy(T.ones(2, 3, requires_grad=True), out=T.empty(3, 2))
                .sum().backward())


def test_view_copy_dtype_and_detach_copy_match_torch():
    a = _arr((3, 4))
    e, t = (lib.view_copy(lib.tensor(a), lib.int32) for lib in LIBS)
    assert e.dtype == ember.int32 and e.tolist() == t.tolist()
    for lib in LIBS:
        r = lib.detach_copy(lib.tensor(a, requires_grad=True))
        assert r.requires_grad and r.grad_fn is not None
    _same_error(lambda T: T.detach_copy(T.tensor(a, requires_grad=True)).sum().backward())


# --- small functions ---------------------------------------------------------------------------
def test_adjoint_is_a_transposed_view_with_torch_grad():
    (eo, _), (to, _) = _grads(lambda T, x: T.adjoint(x), [_arr((2, 3, 4))])
    assert eo[0].stride() == to[0].stride() and eo[0]._base is not None
    _check(lambda T, x: T.adjoint(x), [_arr((2, 3, 4))])
    _same_error(lambda T: T.adjoint(T.ones(3)))


RANGES = ["(1, 4)", "(0, 1, 0.3)", "(0, 0.9, 0.1)", "(0, 1, 0.1, dtype=torch.float64)",
          "(4, 1, -1)", "(0, 10, 3, dtype=torch.int32)", "(0.5, 3.7, dtype=torch.int64)",
          "(7, -3, -4, dtype=torch.int64)", "(start=1, end=3)", "(1.5, 4)"]


@pytest.mark.parametrize("args", RANGES)
def test_range_matches_torch_and_warns(args):
    outs = []
    for lib in LIBS:
        with pytest.warns(UserWarning, match="range is deprecated"):
            outs.append(eval(f"torch.range{args}", {"torch": lib}))  # noqa: S307
    assert outs[0].dtype.__str__().split(".")[-1] == str(outs[1].dtype).split(".")[-1]
    assert_close(outs[0], outs[1])


def test_range_errors_out_and_requires_grad():
    for args in ((1, 4, -1), (1, 4, 0), (1, float("inf"))):
        _same_error(lambda T, args=args: T.range(*args))
    _same_error(lambda T: T.range(4), message=False)
    for lib in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = lib.empty(2)
            assert lib.range(1, 4, out=out) is out and out.tolist() == [1, 2, 3, 4]
            assert lib.range(1, 3, requires_grad=True).requires_grad


def test_matrix_rank_and_native_norm_raise_as_torch():
    _same_error(lambda T: T.matrix_rank(T.ones(2, 2)))
    for call in (lambda T: T.native_norm(T.ones(2, 2)),
                 lambda T: T.native_norm(T.ones(2, 2), 2, [1], False, None)):
        _same_error(call, message=False)  # torch's goes on to list its dispatch keys
        assert _error(lambda call=call: call(ember))[1] in _error(lambda call=call: call(torch))[1]


NORMS = {
    "nuclear": lambda T, x: T.nuclear_norm(x),
    "nuclear_keepdim": lambda T, x: T.nuclear_norm(x, True),
    "nuclear_dims": lambda T, x: T.nuclear_norm(x, (0, 2), True),
    "frobenius": lambda T, x: T.frobenius_norm(x, (0, 2)),
    "frobenius_all": lambda T, x: T.frobenius_norm(x, (), True),
    "frobenius_one": lambda T, x: T.frobenius_norm(x, [1]),
    "except_dim0": lambda T, x: T.norm_except_dim(x),
    "except_dim1": lambda T, x: T.norm_except_dim(x, 3, 1),
    "except_last": lambda T, x: T.norm_except_dim(x, 1, 2),
    "except_all": lambda T, x: T.norm_except_dim(x, 2, -1),
    "except_neg": lambda T, x: T.norm_except_dim(x, 2, -2),
}


@pytest.mark.parametrize("name", sorted(NORMS))
def test_norm_functions_match_torch(name):
    _check(NORMS[name], [_arr((3, 4, 5))], rtol=1e-4, atol=1e-5)


def test_norm_function_errors_and_warnings():
    _same_error(lambda T: T.frobenius_norm(T.ones(2, 2, 2), (0, 1, 2)))
    _same_error(lambda T: T.frobenius_norm(T.ones(2, 2).long(), (0,)))
    _same_error(lambda T: T.norm_except_dim(T.ones(2, 2, 2), 2, 5))
    # torch warns once per process (an earlier test may have used it up); ember per call site
    with pytest.warns(UserWarning, match="frobenius_norm is deprecated"):
        ember.frobenius_norm(ember.ones(2, 2), (0,))
    with pytest.warns(UserWarning, match="nuclear_norm is deprecated"):
        ember.nuclear_norm(ember.ones(2, 2))


def test_empty_permuted_lays_out_like_torch():
    for size, layout in (((2, 3, 4, 5), (0, 2, 3, 1)), ((2, 3), (1, 0)), ((), ())):
        e, t = (lib.empty_permuted(size, layout, dtype=lib.int32) for lib in LIBS)
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
        assert e.dtype == ember.int32
    assert ember.empty_permuted((2, 3), (1, 0), requires_grad=True).requires_grad
    for size, layout in (((2, 3), (0, 0)), ((2, 3), (0,)), ((2, 3), (0, 2)), ((2, -1), (1, 0)),
                         ((2, 3), (-1, 0))):
        _same_error(lambda T, s=size, p=layout: T.empty_permuted(s, p))


def test_flags_and_predicates():
    assert ember.set_flush_denormal(True) is False  # NumPy cannot flush; torch's "unsupported"
    assert isinstance(torch.set_flush_denormal(False), bool)
    _same_error(lambda T: T.set_flush_denormal(1))
    _same_error(lambda T: T.set_flush_denormal(mode=False), message=False)
    for lib in LIBS:
        assert lib.is_distributed(lib.ones(2)) is False
    _same_error(lambda T: T.is_distributed(3))


def test_dlpack_shares_memory_both_ways():
    e = ember.arange(6.0).reshape(2, 3)
    t = torch.from_dlpack(e)
    t[0, 0] = -7.0
    assert e[0, 0].item() == -7.0 and tuple(t.shape) == (2, 3)
    back = ember.from_dlpack(torch.arange(4))
    assert back.dtype == ember.int64 and back.tolist() == [0, 1, 2, 3]
    src = torch.zeros(3)
    seen = ember.from_dlpack(torch.to_dlpack(src))
    src[1] = 5.0  # NumPy makes a bare capsule's memory read-only: shared, not writable
    assert seen[1].item() == 5.0
    assert torch.from_dlpack(ember.to_dlpack(ember.ones(2, dtype=ember.bool))).dtype == torch.bool
    assert e.__dlpack_device__() == tuple(torch.ones(1).__dlpack_device__())
    _same_error(lambda T: T.from_dlpack(T.ones(2, requires_grad=True)))
    _same_error(lambda T: T.from_dlpack(3))
