"""The transforms of ``transforms_more``, ``biject_to``/``transform_to``, ``FisherSnedecor`` and
``LogisticNormal`` against torch.

Every transform runs forward, inverse and ``log_abs_det_jacobian`` (values and the gradient
of a weighted sum of them) on inputs of several batch shapes, with its shape inference,
event dims, ``bijective``, ``sign`` and reprs of domain and codomain; every constraint the
registries know maps the same inputs to the same outputs; the two distributions match
torch's densities, moments, samples (after the same ``manual_seed``), rsample gradients,
shapes and errors. Each check is a plain function ``fn(T, *arrays)`` run with ``T = ember``
and ``T = torch``.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember

BATCHES = [(), (3,), (2, 4)]


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _weights(o, T):
    return T.tensor(np.linspace(-1, 1, o.numel()), dtype=o.dtype).reshape(o.shape)


def _run(T, fn, arrays, seed=0, grads=True):
    """``fn``'s outputs after ``manual_seed(seed)``, then (when ``grads``) the gradient of a
    weighted sum of its tensor outputs for each input array."""
    T.manual_seed(seed)
    xs = [T.tensor(a, requires_grad=grads) for a in arrays]
    outs = fn(T, *xs)
    res = [o.detach() if hasattr(o, "detach") else o for o in outs]
    if grads:
        total = sum((o * _weights(o, T)).sum() for o in outs
                    if hasattr(o, "requires_grad") and o.requires_grad)
        if not isinstance(total, int):
            total.backward()
        res += [x.grad if x.grad is not None else T.zeros(()) for x in xs]
    return res


def _same(torch, fn, *arrays, rtol=2e-5, atol=2e-5, seed=0, grads=True):
    got = _run(ember, fn, arrays, seed, grads)
    want = _run(torch, fn, arrays, seed, grads)
    assert len(got) == len(want)
    for i, (e, t) in enumerate(zip(got, want)):
        if not hasattr(t, "detach"):
            if isinstance(t, str):
                e, t = e.replace("ember.", ""), t.replace("torch.", "")
            assert tuple(e) == tuple(t) if isinstance(t, tuple) else e == t, (i, e, t)
            continue
        assert tuple(e.shape) == tuple(t.shape), (i, e.shape, t.shape)
        assert str(e.dtype)[6:] == str(t.dtype)[6:], (i, e.dtype, t.dtype)
        np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=f"output {i}")


def _raises_same(torch, fn, exc):
    """``fn(T)`` raises ``exc`` with the same message under ember and torch."""
    msgs = []
    for T in (ember, torch):
        with pytest.raises(exc) as info:
            fn(T)
        msgs.append(str(info.value).replace("ember.", "").replace("torch.", ""))
    assert msgs[0] == msgs[1]


# --- transforms ----------------------------------------------------------------------------
def _D(T):
    return T.distributions


def _cat(T):
    return T.distributions.constraints.cat


def _stack(T):
    return T.distributions.constraints.stack


def _normal_in(event, low=-2.0, high=2.0):
    def make(rs, batch):
        return rs.uniform(low, high, batch + event).astype(np.float32)
    return make


def _simplex_in(k):
    def make(rs, batch):
        return rs.dirichlet(np.arange(1.0, k + 1), size=batch).astype(np.float32)
    return make


# (id, build(T) -> transform, make(rs, batch) -> input array[, tolerance])
TRANSFORMS = [
    ("reshape", lambda T: _D(T).ReshapeTransform((2, 3), (3, 2)), _normal_in((2, 3))),
    ("reshape_flatten", lambda T: _D(T).ReshapeTransform((6,), (1, 2, 3)), _normal_in((6,))),
    ("softplus", lambda T: _D(T).SoftplusTransform(), _normal_in((5,), -30.0, 30.0)),
    ("softplus_elementwise", lambda T: _D(T).SoftplusTransform(), _normal_in(())),
    ("stick_breaking", lambda T: _D(T).StickBreakingTransform(), _normal_in((4,), -3.0, 3.0)),
    ("stick_breaking_k1", lambda T: _D(T).StickBreakingTransform(), _normal_in((1,))),
    ("stick_breaking_inv", lambda T: _D(T).StickBreakingTransform().inv, _simplex_in(4)),
    ("corr_cholesky_2", lambda T: _D(T).CorrCholeskyTransform(), _normal_in((1,))),
    ("corr_cholesky_3", lambda T: _D(T).CorrCholeskyTransform(), _normal_in((3,))),
    ("corr_cholesky_4", lambda T: _D(T).CorrCholeskyTransform(), _normal_in((6,), -1.5, 1.5)),
    ("lower_cholesky", lambda T: _D(T).LowerCholeskyTransform(), _normal_in((3, 3))),
    ("lower_cholesky_2", lambda T: _D(T).LowerCholeskyTransform(), _normal_in((2, 2))),
    # its inverse's gradient goes through a float32 cholesky backward: a looser tolerance
    ("positive_definite", lambda T: _D(T).PositiveDefiniteTransform(), _normal_in((3, 3)),
     5e-4),
    ("cat_last", lambda T: _D(T).CatTransform(
        [_D(T).ExpTransform(), _D(T).AffineTransform(1.0, -2.0), _D(T).SoftplusTransform()],
        dim=-1, lengths=[2, 1, 3]), _normal_in((6,))),
    ("cat_event_summed", lambda T: _D(T).CatTransform(
        [_D(T).IndependentTransform(_D(T).ExpTransform(), 1), _D(T).SoftplusTransform()],
        dim=-1, lengths=[2, 3]), _normal_in((5,))),
    ("cat_event_joined", lambda T: _D(T).CatTransform(
        [_D(T).IndependentTransform(_D(T).ExpTransform(), 1),
         _D(T).AffineTransform(0.5, 3.0, event_dim=1)], dim=-2, lengths=[1, 2]),
     _normal_in((3, 4))),
    ("stack_last", lambda T: _D(T).StackTransform(
        [_D(T).ExpTransform(), _D(T).AffineTransform(1.0, 2.0), _D(T).SigmoidTransform()],
        dim=-1), _normal_in((3,))),
    ("stack_middle", lambda T: _D(T).StackTransform(
        [_D(T).ExpTransform(), _D(T).TanhTransform()], dim=-2), _normal_in((2, 4))),
    ("cdf_normal", lambda T: _D(T).CumulativeDistributionTransform(_D(T).Normal(0.5, 2.0)),
     _normal_in((5,), -4.0, 4.0)),
    ("cdf_exponential", lambda T: _D(T).CumulativeDistributionTransform(
        _D(T).Exponential(T.tensor([0.5, 2.0]))), _normal_in((2,), 0.1, 3.0)),
]


def _sign(t):
    try:
        return t.sign
    except NotImplementedError:
        return "none"


def _transform_fn(build):
    def fn(T, x):
        t = build(T)
        y = t(x)
        out = [y, t.inv(y), tuple(t.forward_shape(x.shape)), tuple(t.inverse_shape(y.shape)),
               t.bijective, t.domain.event_dim, t.codomain.event_dim, repr(t.domain),
               repr(t.codomain), repr(t), _sign(t)]
        if t.bijective:
            out.append(t.log_abs_det_jacobian(x, y))
        return out
    return fn


@pytest.mark.parametrize("batch", BATCHES, ids=str)
@pytest.mark.parametrize("case", TRANSFORMS, ids=lambda c: c[0])
def test_transform_matches_torch(torch, case, batch):
    _, build, make, *tol = case
    x = make(np.random.RandomState(len(batch)), batch)
    tol = tol[0] if tol else 2e-5
    _same(torch, _transform_fn(build), x, rtol=tol, atol=tol)


def test_transform_inverse_of_given_output_matches_torch(torch):
    """``inv`` applied to points of the codomain that no forward call made."""
    rs = np.random.RandomState(1)
    a = rs.randn(4, 3, 3)
    spd = (a @ a.transpose(0, 2, 1) + np.eye(3)).astype(np.float32)
    lower = np.tril(rs.randn(4, 3, 3)).astype(np.float32)
    lower[:, range(3), range(3)] = rs.uniform(0.5, 2.0, (4, 3))
    _same(torch, lambda T, s, lo: [_D(T).PositiveDefiniteTransform().inv(s),
                                   _D(T).LowerCholeskyTransform().inv(lo)], spd, lower)
    _same(torch, lambda T, y: [_D(T).SoftplusTransform().inv(y)],
          rs.uniform(0.01, 30.0, (3, 4)).astype(np.float32))


def test_transform_equality_and_sign_match_torch(torch):
    def fn(T):
        D = _D(T)
        return [D.SoftplusTransform() == D.SoftplusTransform(),
                D.StickBreakingTransform() == D.StickBreakingTransform(),
                D.StickBreakingTransform() == D.SoftplusTransform(),
                D.LowerCholeskyTransform() == D.LowerCholeskyTransform(),
                D.PositiveDefiniteTransform() == D.PositiveDefiniteTransform(),
                D.CorrCholeskyTransform() == D.CorrCholeskyTransform(),
                D.ReshapeTransform((2,), (2,)) == D.ReshapeTransform((2,), (2,)),
                D.StickBreakingTransform().inv == D.StickBreakingTransform().inv,
                D.SoftplusTransform().sign, D.SoftplusTransform().inv.sign,
                D.CumulativeDistributionTransform(D.Normal(0.0, 1.0)).sign,
                D.CatTransform([D.ExpTransform()]).event_dim,
                D.CatTransform([D.ExpTransform(), D.SoftmaxTransform()]).bijective,
                D.StackTransform([D.ExpTransform(), D.SigmoidTransform()]).bijective,
                D.CatTransform([D.ExpTransform()], lengths=[3]).length,
                repr(D.StackTransform([D.ExpTransform()], dim=1).domain)]
    assert fn(ember) == fn(torch)


@pytest.mark.parametrize("fn, exc", [
    (lambda T: _D(T).ReshapeTransform((2, 3), (4,)), ValueError),
    (lambda T: _D(T).ReshapeTransform((2, 3), (6,)).forward_shape((3, 2)), ValueError),
    (lambda T: _D(T).ReshapeTransform((2, 3), (6,)).inverse_shape((5,)), ValueError),
    (lambda T: _D(T).ReshapeTransform((2, 3), (6,)).forward_shape((3,)), ValueError),
    (lambda T: _D(T).CorrCholeskyTransform().forward_shape((4,)), ValueError),
    (lambda T: _D(T).CorrCholeskyTransform().inverse_shape((3, 2)), ValueError),
    (lambda T: _D(T).CorrCholeskyTransform().inverse_shape((3,)), ValueError),
    (lambda T: _D(T).StickBreakingTransform().forward_shape(()), ValueError),
    (lambda T: _D(T).StickBreakingTransform().inverse_shape(()), ValueError),
    (lambda T: _D(T).CorrCholeskyTransform()(T.zeros(2, 5)), ValueError),
    (lambda T: _D(T).CatTransform([_D(T).ExpTransform()], lengths=[2])(T.zeros(3)),
     AssertionError),
    (lambda T: _D(T).CatTransform([_D(T).ExpTransform()], dim=2)(T.zeros(3)), AssertionError),
    (lambda T: _D(T).CatTransform([_D(T).ExpTransform()], lengths=[1, 2]), AssertionError),
    (lambda T: _D(T).CatTransform([_D(T).ExpTransform()], lengths=[2]).inv(T.zeros(3)),
     AssertionError),
    (lambda T: _D(T).StackTransform([_D(T).ExpTransform()])(T.zeros(2, 3)), AssertionError),
    (lambda T: _D(T).StackTransform([_D(T).ExpTransform()], dim=-3)(T.zeros(1, 3)),
     AssertionError),
    (lambda T: _D(T).StackTransform([_D(T).ExpTransform()]).log_abs_det_jacobian(
        T.zeros(1, 3), T.zeros(2, 3)), AssertionError),
    (lambda T: _D(T).CatTransform([3]), AssertionError),
    (lambda T: _D(T).SoftplusTransform(cache_size=2), ValueError),
])
def test_transform_errors_match_torch(torch, fn, exc):
    _raises_same(torch, fn, exc)


# --- biject_to / transform_to --------------------------------------------------------------
def _C(T):
    return T.distributions.constraints


# (id, build(T) -> constraint, input event shape)
CONSTRAINTS = [
    ("real", lambda T: _C(T).real, ()),
    ("real_vector", lambda T: _C(T).real_vector, (3,)),
    ("independent_positive", lambda T: _C(T).independent(_C(T).positive, 2), (2, 3)),
    ("positive", lambda T: _C(T).positive, ()),
    ("nonnegative", lambda T: _C(T).nonnegative, (2,)),
    ("greater_than", lambda T: _C(T).greater_than(-1.5), (2,)),
    ("greater_than_eq", lambda T: _C(T).greater_than_eq(2.0), ()),
    ("less_than", lambda T: _C(T).less_than(3.0), (2,)),
    ("interval", lambda T: _C(T).interval(-2.0, 5.0), (2,)),
    ("unit_interval", lambda T: _C(T).unit_interval, (2,)),
    ("interval_tensor", lambda T: _C(T).interval(T.tensor([-1.0, 0.0, 2.0]),
                                                 T.tensor([1.0, 0.5, 7.0])), (3,)),
    ("simplex", lambda T: _C(T).simplex, (3,)),
    ("lower_cholesky", lambda T: _C(T).lower_cholesky, (3, 3)),
    ("positive_definite", lambda T: _C(T).positive_definite, (3, 3)),
    ("positive_semidefinite", lambda T: _C(T).positive_semidefinite, (2, 2)),
    ("corr_cholesky", lambda T: _C(T).corr_cholesky, (6,)),
    ("cat", lambda T: _cat(T)([_C(T).positive, _C(T).real, _C(T).unit_interval], -1,
                              [2, 1, 2]), (5,)),
    ("stack", lambda T: _stack(T)([_C(T).positive, _C(T).less_than(2.0)], -1), (2,)),
    ("half_open_interval", lambda T: _C(T).half_open_interval(-1.0, 2.5), (3,)),
    ("boolean", lambda T: _C(T).boolean, ()),
    ("integer_interval", lambda T: _C(T).integer_interval(0, 3), ()),
    ("one_hot", lambda T: _C(T).one_hot, (3,)),
]


def _registry_fn(name, build):
    def fn(T, x):
        try:
            t = getattr(T.distributions, name)(build(T))
        except NotImplementedError as e:
            return [str(e)]
        y = t(x)
        out = [type(t).__name__, repr(t), t.bijective, y, t.inv(y),
               bool(build(T).check(y).all())]
        if t.bijective:
            out.append(t.log_abs_det_jacobian(x, y))
        return out
    return fn


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("case", CONSTRAINTS, ids=lambda c: c[0])
def test_registry_transform_matches_torch(torch, case, registry):
    name, build, event = case
    x = np.random.RandomState(0).uniform(-1.5, 1.5, (2,) + event).astype(np.float32)
    _same(torch, _registry_fn(registry, build), x)


def test_registry_register_matches_torch(torch):
    def fn(T):
        D = T.distributions
        registry = D.constraint_registry.ConstraintRegistry()
        registry.register(D.constraints.positive, lambda c: D.ExpTransform())

        @registry.register(D.constraints.interval)
        def _factory(constraint):
            return D.AffineTransform(constraint.lower_bound, 2.0)

        out = [type(registry(D.constraints.greater_than(3.0))).__name__,
               registry(D.constraints.interval(1.0, 4.0)).loc]
        with pytest.raises(NotImplementedError) as info:
            registry(D.constraints.real)
        with pytest.raises(TypeError) as type_info:
            registry.register(3, lambda c: c)
        return out + [str(info.value), str(type_info.value)]
    assert fn(ember) == fn(torch)


def test_half_open_interval_constraint_matches_torch(torch):
    def fn(T):
        c = _C(T).half_open_interval(0.0, 1.0)
        return [repr(c), c.check(T.tensor([-0.1, 0.0, 0.5, 1.0])).tolist(), c.is_discrete,
                c.event_dim]
    assert fn(ember) == fn(torch)


def test_new_transforms_are_found_in_the_transforms_module(torch):
    for name in ("StickBreakingTransform", "CatTransform", "SoftplusTransform"):
        assert getattr(ember.distributions.transforms, name).__name__ == name
        assert hasattr(torch.distributions.transforms, name)
    with pytest.raises(AttributeError):
        ember.distributions.transforms.NoSuchTransform  # noqa: B018


@pytest.mark.parametrize("diag", [0, -1, 1])
def test_tril_vector_helpers_match_torch(torch, diag):
    mat = np.random.RandomState(1).standard_normal((2, 4, 4)).astype(np.float32)

    def fn(T, m):
        U = T.distributions.utils
        vec = U.tril_matrix_to_vec(m, diag)
        return [vec, U.vec_to_tril_matrix(vec, diag)]
    _same(torch, fn, mat)


# --- FisherSnedecor ------------------------------------------------------------------------
RS = np.random.RandomState(0)
DF1 = np.array([0.5, 3.0, 7.0], np.float32)
DF2 = np.array([[1.5], [4.5], [9.0]], np.float32)
FVAL = RS.uniform(0.05, 4.0, (4, 3, 3)).astype(np.float32)
BIG1 = RS.uniform(2.5, 9.0, (2, 3)).astype(np.float32)
BIG2 = RS.uniform(4.5, 12.0, (3,)).astype(np.float32)


def test_fisher_snedecor_values_and_gradients_match_torch(torch):
    _same(torch, lambda T, a, b, v: [_D(T).FisherSnedecor(a, b).log_prob(v)], DF1, DF2, FVAL)
    _same(torch, lambda T, a, b: [_D(T).FisherSnedecor(a, b).mean, _D(T).FisherSnedecor(a, b)
                                  .variance, _D(T).FisherSnedecor(a, b).mode], BIG1, BIG2)


def test_fisher_snedecor_moments_with_nan_match_torch(torch):
    def fn(T, a, b):
        d = _D(T).FisherSnedecor(a, b)
        return [d.mean, d.variance, d.mode, d.stddev]
    _same(torch, fn, DF1, DF2, grads=False)


def test_fisher_snedecor_samples_match_torch(torch):
    def fn(T, a, b):
        d = _D(T).FisherSnedecor(a, b)
        return [d.sample(), d.sample((5,)), d.rsample((2,)), d.expand((4, 3, 3)).sample(),
                tuple(d.batch_shape), tuple(d.event_shape)]
    _same(torch, fn, DF1, DF2, seed=3, rtol=1e-4)


def test_fisher_snedecor_scalar_and_expand_match_torch(torch):
    def fn(T):
        d = _D(T).FisherSnedecor(2.0, 6.0)
        e = d.expand((2, 3))
        return [tuple(d.batch_shape), tuple(e.batch_shape), repr(d), repr(d.support),
                sorted((k, repr(v)) for k, v in d.arg_constraints.items()), d.has_rsample,
                float(e.df1.sum()), pytest.approx(float(d.log_prob(T.tensor(1.5))), rel=1e-6)]
    assert fn(ember) == fn(torch)


def test_fisher_snedecor_sample_statistics_match_torch_moments(torch):
    ember.manual_seed(0)
    a, b = [2.0, 10.0], [20.0, 12.0]
    samples = ember.distributions.FisherSnedecor(ember.tensor(a), ember.tensor(b)).sample(
        (40000,)).numpy().astype(np.float64)
    ref = torch.distributions.FisherSnedecor(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(samples.mean(0), ref.mean.numpy(), rtol=0.02)
    np.testing.assert_allclose(samples.var(0), ref.variance.numpy(), rtol=0.1)


@pytest.mark.parametrize("fn, exc", [
    (lambda T: _D(T).FisherSnedecor(T.tensor([-1.0, 2.0]), 2.0, validate_args=True),
     ValueError),
    (lambda T: _D(T).FisherSnedecor(1.0, 2.0, validate_args=True).log_prob(T.tensor([-1.0])),
     ValueError),
    (lambda T: _D(T).FisherSnedecor(1.0, 2.0).entropy(), NotImplementedError),
    (lambda T: _D(T).LogisticNormal(T.zeros(2), 1.0).entropy(), NotImplementedError),
    (lambda T: _D(T).LogisticNormal(T.zeros(2), 1.0).mean, NotImplementedError),
    (lambda T: _D(T).LogisticNormal(T.zeros(2), 1.0).variance, NotImplementedError),
    (lambda T: _D(T).LogisticNormal(T.zeros(2), -1.0, validate_args=True), ValueError),
    (lambda T: _D(T).LogisticNormal(T.zeros(2), 1.0, validate_args=True).log_prob(
        T.tensor([0.5, 0.6, 0.2])), ValueError),
])
def test_distribution_errors_match_torch(torch, fn, exc):
    _raises_same(torch, fn, exc)


# --- LogisticNormal ------------------------------------------------------------------------
LLOC = RS.randn(2, 3).astype(np.float32)
LSCALE = RS.uniform(0.5, 2.0, (3,)).astype(np.float32)
LVAL = RS.dirichlet([1.0, 2.0, 3.0, 4.0], size=(5, 2)).astype(np.float32)


def test_logistic_normal_log_prob_matches_torch(torch):
    _same(torch, lambda T, loc, scale, v: [_D(T).LogisticNormal(loc, scale).log_prob(v)],
          LLOC, LSCALE, LVAL)


def test_logistic_normal_samples_match_torch(torch):
    def fn(T, loc, scale):
        d = _D(T).LogisticNormal(loc, scale)
        return [d.sample((4,)), d.rsample((3,)), d.expand((5, 2)).sample(), d.loc, d.scale,
                tuple(d.batch_shape), tuple(d.event_shape), repr(d.support), d.has_rsample,
                tuple(d.expand((5, 2)).batch_shape)]
    _same(torch, fn, LLOC, LSCALE, seed=5)


def test_logistic_normal_scalar_parameters_match_torch(torch):
    def fn(T):
        d = _D(T).LogisticNormal(0.3, 1.5)
        v = T.tensor([0.2, 0.8])
        return [tuple(d.batch_shape), tuple(d.event_shape), repr(d),
                pytest.approx(float(d.log_prob(v)), rel=1e-6),
                tuple(d.loc.shape), type(d.base_dist).__name__]
    assert fn(ember) == fn(torch)
