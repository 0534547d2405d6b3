"""ember.autograd.forward_ad without torch: levels, dual tensors, in-place ops, custom
Functions, the double-vjp fallback, and ember.func's forward-mode transforms."""
from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwAD
from ember.autograd.function import Function, Op
from tests.helpers import assert_close

D = ember.float64


def _rand(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape))


# --- levels ----------------------------------------------------------------------------------
def test_make_dual_needs_a_level():
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(ember.ones(2), ember.ones(2))


def test_levels_enter_at_zero_and_do_not_nest():
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="not the last one that was created"):
            fwAD.exit_dual_level(level=3)
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level(level=0)


def test_leaving_the_level_drops_every_tangent():
    x = _rand(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.ones(3, dtype=D))
        y = d.sin() * 2
        assert fwAD.unpack_dual(y).tangent is not None
    assert fwAD.unpack_dual(d).tangent is None and fwAD.unpack_dual(y).tangent is None
    assert "tangent" not in repr(y)
    with fwAD.dual_level():
        assert fwAD.unpack_dual(y).tangent is None  # a new level starts clean


def test_wrappers_go_in_with_the_level_and_come_out_even_after_an_error():
    apply, getitem, add_ = vars(Op)["apply"], ember.Tensor.__getitem__, ember.Tensor.add_
    sum_, reshape = ember.sum, ember.reshape

    def closed_over():  # what the method closures call (Tensor.sum calls ops.sum)
        return [c.cell_contents for c in ember.Tensor.sum.__closure__ or ()]

    cells = closed_over()
    with pytest.raises(ValueError, match="boom"):
        with fwAD.dual_level():
            assert vars(Op)["apply"] is not apply
            raise ValueError("boom")
    assert vars(Op)["apply"] is apply and ember.Tensor.__getitem__ is getitem
    assert ember.Tensor.add_ is add_ and ember.sum is sum_ and ember.reshape is reshape
    assert all(a is b for a, b in zip(closed_over(), cells))
    assert not hasattr(ember.Tensor, "_fw_grad")


def test_dual_level_decorates_a_function():
    @fwAD.dual_level()
    def tangent_of_square(x, t):
        return fwAD.unpack_dual(fwAD.make_dual(x, t) ** 2).tangent

    x, t = _rand(3), _rand(3, seed=1)
    assert_close(tangent_of_square(x, t), 2 * x * t)
    assert fwAD._current_level == -1


# --- make_dual and unpack_dual ---------------------------------------------------------------
def test_make_dual_checks_shapes_dtypes_and_levels():
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3\] while the given forward "
                                               r"gradient is of size \[4\]"):
            fwAD.make_dual(ember.ones(3), ember.ones(4))
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex, "
                                             "but got: ember.int64"):
            fwAD.make_dual(ember.arange(3), ember.ones(3))
        with pytest.raises(ValueError, match="Expected tangent to be floating point"):
            fwAD.make_dual(ember.ones(3), ember.arange(3))
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(ember.ones(3), ember.ones(3), level=1)
        d = fwAD.make_dual(ember.ones(3), ember.ones(3))
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same level"):
            fwAD.make_dual(d, ember.ones(3))


def test_unpack_dual_gives_a_plain_view_and_the_tangent_itself():
    x, t = _rand(2, 3), _rand(2, 3, seed=1)
    assert fwAD.unpack_dual(x) == (x, None)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, t)
        assert d is not x and d._base is x and d.data_ptr() == x.data_ptr()
        unpacked = fwAD.unpack_dual(d)
        assert isinstance(unpacked, fwAD.UnpackedDualTensor) and unpacked._fields == (
            "primal", "tangent")
        assert unpacked.tangent is t  # kept as it is (same layout)
        assert fwAD.unpack_dual(unpacked.primal).tangent is None
        assert unpacked.primal.data_ptr() == x.data_ptr()
        assert fwAD.unpack_dual(x).tangent is None
        # another layout is copied into the primal's
        t_strided = _rand(3, 2, seed=2).T
        u = fwAD.unpack_dual(fwAD.make_dual(x, t_strided)).tangent
        assert u is not t_strided and u.is_contiguous()
        assert_close(u, t_strided)


def test_dual_tensors_keep_working_in_reverse_mode():
    x = _rand(3).requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, _rand(3, seed=1))
        assert d.requires_grad and d.grad_fn.name() == "ViewBackward0"
        y = (d.sin() * d).sum()
        y.backward()
    assert_close(x.grad, x.detach().sin() + x.detach() * x.detach().cos())


def test_no_grad_does_not_stop_forward_mode():
    x, t = _rand(3), _rand(3, seed=1)
    with fwAD.dual_level(), ember.no_grad():
        assert_close(fwAD.unpack_dual(fwAD.make_dual(x, t).exp()).tangent, x.exp() * t)


def test_tangent_dtype_is_kept_and_integer_results_have_none():
    x = ember.tensor([1.0, -2.0, 3.0])
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.ones(3, dtype=D))
        assert fwAD.unpack_dual(d * 2).tangent.dtype == D
        assert fwAD.unpack_dual(d.argmax()).tangent is None
        assert fwAD.unpack_dual(d > 0).tangent is None
        assert fwAD.unpack_dual(d.detach()).tangent is None
        assert fwAD.unpack_dual(d.long()).tangent is None


def test_repr_shows_the_tangent():
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]))
        assert repr(d) == "tensor([1., 2.], tangent=tensor([3., 4.]))"
        assert repr(fwAD.make_dual(ember.tensor(1.0), ember.tensor(2.0))) == \
            "tensor(1., tangent=2.0)"


def test_out_arguments_refuse_dual_tensors():
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.ones(2), ember.ones(2))
        with pytest.raises(NotImplementedError, match="forward AD with add_out that does not "
                                                      "support it because it is an out= function"):
            ember.add(d, 1, out=ember.empty(2))


# --- the fallback ------------------------------------------------------------------------------
def test_op_without_formula_raises_torchs_error():
    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor([2.0, 3.0]), ember.ones(2))
        with pytest.raises(NotImplementedError, match=r"Trying to use forward AD with \w+ that "
                                                      "does not support it because it has not "
                                                      "been implemented yet"):
            ember.special.zeta(d, ember.tensor([1.5, 2.0]))  # its rule says so, as torch
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with cdist"):
            ember.cdist(d[None, :, None], d[None, :, None], p=3.0)  # the fallback finds none


def test_dropout_draws_its_mask_once():
    x, t = _rand(4, 5), _rand(4, 5, seed=1)
    ember.manual_seed(3)
    plain = ember.nn.functional.dropout(x, 0.4)
    after_plain = ember.rand(2)
    ember.manual_seed(3)
    with fwAD.dual_level():
        out, tangent = fwAD.unpack_dual(ember.nn.functional.dropout(fwAD.make_dual(x, t), 0.4))
    assert_close(out, plain)
    assert_close(ember.rand(2), after_plain)  # the generator moved on as much
    assert_close(tangent, t * (plain != 0) / 0.6)


def test_fallback_keeps_the_graph_to_inputs_that_require_grad_only():
    x, w = _rand(3, 4), _rand(4, seed=1).requires_grad_()
    with fwAD.dual_level():
        out = ember.nn.functional.layer_norm(fwAD.make_dual(x, _rand(3, 4, seed=2)), (4,), w)
        assert out.grad_fn.next_functions[0] == (None, 0)
        out.sum().backward()
    expected = ember.nn.functional.layer_norm(x, (4,)).sum(0)
    assert_close(w.grad, expected)


# --- in-place ops ------------------------------------------------------------------------------
def test_inplace_ops_change_the_tangent_in_place():
    user_tangent = ember.ones(3)
    with fwAD.dual_level():
        a = fwAD.make_dual(ember.tensor([1.0, 2.0, 3.0]), user_tangent)
        a.mul_(3)
        a += fwAD.make_dual(ember.ones(3), ember.full((3,), 0.5))
        assert fwAD.unpack_dual(a).tangent is user_tangent  # changed in place, as torch
        assert_close(user_tangent, ember.full((3,), 3.5))
        plain = ember.zeros(3)
        plain.sub_(a, alpha=2)  # a plain tensor gets a tangent
        assert_close(fwAD.unpack_dual(plain).tangent, ember.full((3,), -7.0))
        e = fwAD.make_dual(ember.zeros(3), ember.ones(3))
        e.exp_()
        assert_close(fwAD.unpack_dual(e).tangent, ember.ones(3))


def test_inplace_on_a_view_reaches_the_base_tangent():
    with fwAD.dual_level():
        base = fwAD.make_dual(ember.zeros(2, 3), ember.zeros(2, 3))
        base[1].add_(fwAD.make_dual(ember.zeros(3), ember.arange(3.0)))
        assert_close(fwAD.unpack_dual(base).tangent, [[0, 0, 0], [0, 1, 2]])
        plain = ember.zeros(2, 3)
        plain[:, 1].copy_(fwAD.make_dual(ember.zeros(2), ember.ones(2)))
        assert_close(fwAD.unpack_dual(plain).tangent, [[0, 1, 0], [0, 1, 0]])


def test_setitem_zero_fill_copy_and_view_methods():
    with fwAD.dual_level():
        p = ember.zeros(2, 3)
        p[0] = fwAD.make_dual(ember.zeros(3), ember.full((3,), 4.0))
        assert_close(fwAD.unpack_dual(p).tangent, [[4, 4, 4], [0, 0, 0]])
        d = fwAD.make_dual(ember.zeros(3), ember.ones(3))
        d[1] = 5.0
        assert_close(fwAD.unpack_dual(d).tangent, [1, 0, 1])
        d.fill_(fwAD.make_dual(ember.tensor(1.0), ember.tensor(5.0)))
        assert_close(fwAD.unpack_dual(d).tangent, [5, 5, 5])
        d.copy_(ember.ones(3))
        assert_close(fwAD.unpack_dual(d).tangent, [0, 0, 0])
        m = fwAD.make_dual(ember.ones(2, 3), ember.arange(6.0).reshape(2, 3))
        m.t_()
        assert_close(fwAD.unpack_dual(m).tangent, ember.arange(6.0).reshape(2, 3).T)
        m.zero_()
        assert_close(fwAD.unpack_dual(m).tangent, ember.zeros(3, 2))


# --- custom Functions --------------------------------------------------------------------------
class _ScaledProduct(Function):
    @staticmethod
    def forward(ctx, x, y, c):
        assert fwAD.unpack_dual(x).tangent is None  # forward sees primal values
        ctx.save_for_forward(x, y)
        ctx.c = c
        return x * y * c, x.argmax()

    @staticmethod
    def jvp(ctx, xt, yt, ct):
        assert ct is None
        x, y = ctx.saved_tensors
        return ctx.c * (xt * y + x * yt), None

    @staticmethod
    def backward(ctx, grad, grad_index):
        return grad, grad, None


def test_custom_function_jvp_gets_zeros_for_plain_tensors():
    x, y, t = _rand(3), _rand(3, seed=1), _rand(3, seed=2)
    with fwAD.dual_level():
        out, index = _ScaledProduct.apply(fwAD.make_dual(x, t), y, 2.0)
        assert_close(fwAD.unpack_dual(out).tangent, 2 * t * y)
        assert fwAD.unpack_dual(index).tangent is None


def test_custom_function_errors():
    class NoJvp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    class Short(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def jvp(ctx, xt):
            return xt

    with fwAD.dual_level():
        d = fwAD.make_dual(_rand(2), _rand(2, seed=1))
        assert fwAD.unpack_dual(NoJvp.apply(_rand(2))).tangent is None  # no tangent: no jvp
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            NoJvp.apply(d)
        with pytest.raises(RuntimeError, match=r"invalid number of forward gradients "
                                               r"\(expected 2 but got 1\)"):
            Short.apply(d)
    with pytest.raises(AssertionError, match="save_for_forward expects all arguments"):
        _ScaledProduct._node_cls().save_for_forward(3)


# --- ember.func --------------------------------------------------------------------------------
def test_func_jvp_runs_the_function_once():
    calls = []

    def f(a, b):
        calls.append(1)
        return (a.sin() * b).sum(0), a @ b.T

    a, b, ta, tb = _rand(2, 3), _rand(2, 3, seed=1), _rand(2, 3, seed=2), _rand(2, 3, seed=3)
    out, tangent = ember.func.jvp(f, (a, b), (ta, tb))
    assert len(calls) == 1 and not tangent[0].requires_grad
    eps = 1e-6
    plus, minus = f(a + eps * ta, b + eps * tb), f(a - eps * ta, b - eps * tb)
    for o, t, p, m in zip(out, tangent, plus, minus):
        assert_close(o, (p + m) / 2, rtol=1e-9, atol=1e-9)
        assert_close(t, (p - m) / (2 * eps), rtol=1e-6, atol=1e-8)


def test_jacfwd_runs_once_per_input_element_and_matches_jacrev():
    calls = []

    def f(x):
        calls.append(1)
        return ember.stack([x[0] * x[1], x.sin().sum(), (x ** 2)[2:].sum()])

    x = _rand(4)
    assert_close(ember.func.jacfwd(f)(x), ember.func.jacrev(f)(x), rtol=1e-12, atol=1e-12)
    assert len(calls) == 4 + 1  # jacfwd's four, jacrev's one


def test_nested_forward_transforms_and_hessian():
    def f(x):
        return (x ** 3).sum() + x[0] * x[1] + x.softmax(0)[1]

    x = _rand(3, seed=4)
    forward_over_reverse = ember.func.hessian(f)(x)
    forward_over_forward = ember.func.jacfwd(ember.func.jacfwd(f))(x)
    reverse_over_reverse = ember.func.jacrev(ember.func.jacrev(f))(x)
    assert_close(forward_over_reverse, reverse_over_reverse, rtol=1e-10, atol=1e-12)
    assert_close(forward_over_forward, reverse_over_reverse, rtol=1e-10, atol=1e-12)
    v = _rand(3, seed=5)
    inner = ember.func.jvp(lambda a: ember.func.jvp(f, (a,), (v,))[1], (x,), (v,))[1]
    assert_close(inner, v @ reverse_over_reverse @ v, rtol=1e-10, atol=1e-12)


def test_reverse_over_forward_through_func_jvp():
    def f(x):
        return ember.nn.functional.layer_norm(x.reshape(2, 3), (3,))[0].sum() * x.exp().sum()

    x, v = _rand(6), _rand(6, seed=1)

    def directional(a):
        return ember.func.jvp(f, (a,), (v,))[1]

    g = ember.func.grad(directional)(x)
    h = ember.func.jacrev(ember.func.jacrev(f))(x)
    assert_close(g, h @ v, rtol=1e-8, atol=1e-10)


def test_linearize_gives_the_same_products_as_jvp():
    x = _rand(3)
    out, jvp_fn = ember.func.linearize(lambda a: a.tanh() * a, x)
    assert_close(out, x.tanh() * x)
    t = _rand(3, seed=1)
    assert_close(jvp_fn(t), ember.func.jvp(lambda a: a.tanh() * a, (x,), (t,))[1])


# every public spelling of an op reaches its tangent rule, including the top-level out=
# wrappers (``ember.sum`` closes over ``ops.reduce.sum``) and the no-grad fast paths
UNARY_SPELLINGS = ["abs", "cos", "exp", "expm1", "log1p", "neg", "sigmoid", "sin", "square",
                   "tanh", "sum", "mean", "std", "var", "logsumexp", "amax", "cumsum",
                   "prod", "norm", "trunc", "sign"]


@pytest.mark.parametrize("name", UNARY_SPELLINGS)
def test_every_spelling_carries_the_tangent(name):
    x, t = _rand(2, 3, seed=1) + 3, _rand(2, 3, seed=2)
    args = {"logsumexp": (1,), "amax": (1,), "cumsum": (1,)}.get(name, ())

    def f(a):
        return getattr(ember, name)(a, *args)

    expected = ember.autograd.functional.jvp(f, x, t)[1]  # reverse mode, twice
    for spelling in (f, lambda a: getattr(a, name)(*args)):
        with fwAD.dual_level():
            tangent = fwAD.unpack_dual(spelling(fwAD.make_dual(x, t))).tangent
        assert tangent is not None, name
        assert_close(tangent, expected)
