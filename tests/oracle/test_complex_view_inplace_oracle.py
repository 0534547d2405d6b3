"""In-place writes through dtype-changing views of complex tensors, against torch: ``z.real``,
``z.imag``, ``view_as_real(z)`` (and views of those) written in place, and the reverse,
``view_as_complex(r)`` of a real ``r``. The same code run with ember and with torch must give
the same values, gradients (of the leaves and of the written sources), node names, versions
and errors. Scenarios are ``fn(T, c, x) -> (loss, base)`` with a complex128 leaf ``c`` (3, 4)
and a float64 leaf ``x`` (3, 4)."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

_RNG = np.random.default_rng(11)
C = _RNG.standard_normal((3, 4)) + 1j * _RNG.standard_normal((3, 4))
X = _RNG.standard_normal((3, 4))
_WEIGHT = np.linspace(0.5, 2.0, 12).reshape(3, 4) * (1 - 0.5j)


def _pairs(t):
    """A tensor (ember or torch) as a NumPy array; complex numbers as (real, imag) pairs."""
    a = np.array(t.detach().numpy())
    return np.stack((a.real, a.imag), -1) if a.dtype.kind == "c" else a


def _loss(T, z):
    """A real loss that weighs every real and imaginary part differently."""
    return (z * T.tensor(_WEIGHT)).abs().sum() + (z.real ** 3).sum() + (z.imag * z.real).sum()


# --- scenarios -------------------------------------------------------------------------------
def real_and_imag_parts(T, c, x):
    z = c * 1
    z.real.mul_(3)
    z.imag.add_(x)
    return _loss(T, z), z


def view_as_real_items(T, c, x):
    z = c * 1
    v = T.view_as_real(z)
    v[0, 1] = 5.0
    v[1, 2, 0] = x[1, 2] * 2
    v[..., 1][2].mul_(x[2])
    return _loss(T, z), z


def written_sources_require_grad(T, c, x):
    z = c * 1
    z.real.copy_(x.sin())
    z.imag[1:].mul_(x[1:] ** 2)
    return _loss(T, z), z


def base_without_grad_takes_a_source(T, c, x):
    z = T.zeros(3, 4, dtype=T.complex128)
    z.real.copy_(x)
    T.view_as_real(z)[:, 1:, 1] = x[:, :3] * 2
    return _loss(T, z), z


def fills_and_zeros(T, c, x):
    z = c * 1
    z.imag[1].zero_()
    z.real[:, 0].fill_(2.0)
    T.view_as_real(z)[2, :, 1].fill_(-1.0)
    return _loss(T, z), z


def views_of_views(T, c, x):
    z = c * 1
    z.real[1:].mul_(x[1:])
    T.view_as_real(z)[:, 0].add_(x[:, :2])
    z.imag.t()[1:].mul_(x.t()[1:])
    T.view_as_real(z).transpose(0, 2)[1].t().sub_(x)
    z[::2].real.mul_(-2)
    T.view_as_real(z[1]).mul_(x[0].unsqueeze(1))
    return _loss(T, z), z


def reshaped_and_diagonal_parts(T, c, x):
    z = c * 1
    T.view_as_real(z).reshape(24)[::5].mul_(3)
    z.real.diagonal().mul_(x[0, :3])
    z.imag.flatten()[2:7].add_(x[1, :1])
    z.imag.unsqueeze(0)[0, :, 3].mul_(x[:, 0])
    return _loss(T, z), z


def property_setters(T, c, x):
    z = c * 1
    z.real = x
    z.imag = 0.5
    z.imag[0] = x[1] * x[2]
    return _loss(T, z), z


def pointwise_ops_that_save_results(T, c, x):
    z = c * 1
    z.real[0].tanh_()
    y = z * 1
    y.imag.exp_()
    w = y * 1
    w.real[1:].sigmoid_()
    return _loss(T, w) + _loss(T, z).detach(), w


def masked_and_indexed_writes(T, c, x):
    z = c * 1
    z.real[z.real > 0.3] = 0.0
    z.imag.masked_fill_(x > 0.5, 1.0)
    z.imag[x < -0.5] = x[x < -0.5] * 3
    z.real.index_fill_(1, T.tensor([1, 3]), -1.0)
    z.real.clamp_(-1.0, 0.8)
    return _loss(T, z), z


def views_made_before_the_writes(T, c, x):
    z = c * 1
    r, i, v = z.real, z.imag[0], T.view_as_real(z)[1]
    z.real.mul_(2)
    z.imag[:, 1].add_(x[:, 1])
    extra = (r ** 2).sum() + (i * x[0]).sum() + v.sum()
    return _loss(T, z) + extra, z


def complex_view_of_complex_base(T, c, x):
    z = c * 1
    T.view_as_complex(T.view_as_real(z)).mul_(1j)
    T.view_as_complex(T.view_as_real(z)[1:])[0].mul_(c[0])
    return _loss(T, z), z


def view_as_complex_of_real_base(T, c, x):
    q = (x * 1).reshape(3, 2, 2)
    T.view_as_complex(q).mul_(1j)
    T.view_as_complex(q)[1].mul_(c[0, :2])
    T.view_as_complex(q)[2, 1] = c[2, 3] * 2
    T.view_as_complex(q).real[0].add_(3)
    return (q ** 3).sum() + (q * x.reshape(3, 2, 2)).sum(), q


def many_writes_in_a_row(T, c, x):
    z = (c * c).conj() * 1
    for k in range(4):
        z.real[k % 3].mul_(x[k % 3])
        z.imag[:, k].add_(z.real[:, k].detach())
        T.view_as_real(z)[..., k % 2][1:].mul_(1.5)
    return _loss(T, z), z


def float32_parts(T, c, x):
    z = c.to(T.complex64) * 1
    z.real.mul_(x.float())
    T.view_as_real(z)[..., 1].add_(1)
    return _loss(T, z).double(), z


CASES = [real_and_imag_parts, view_as_real_items, written_sources_require_grad,
         base_without_grad_takes_a_source, fills_and_zeros, views_of_views,
         reshaped_and_diagonal_parts, property_setters, pointwise_ops_that_save_results,
         masked_and_indexed_writes, views_made_before_the_writes, complex_view_of_complex_base,
         view_as_complex_of_real_base, many_writes_in_a_row, float32_parts]


def _leaves(T):
    return (T.tensor(C, dtype=T.complex128, requires_grad=True),
            T.tensor(X, dtype=T.float64, requires_grad=True))


def _run(T, fn):
    c, x = _leaves(T)
    loss, base = fn(T, c, x)
    loss.backward()
    return loss, base, [c.grad, x.grad]


@pytest.mark.parametrize("fn", CASES, ids=[f.__name__ for f in CASES])
def test_values_gradients_and_node_names_match_torch(fn, torch):
    """Loss, base values, the gradients of both leaves and the base's node name match torch."""
    e_loss, e_base, e_grads = _run(ember, fn)
    t_loss, t_base, t_grads = _run(torch, fn)
    tol = 1e-5 if fn is float32_parts else 1e-10
    assert_close(_pairs(e_loss), _pairs(t_loss), rtol=tol, atol=tol)
    assert_close(_pairs(e_base), _pairs(t_base), rtol=tol, atol=tol)
    for eg, tg in zip(e_grads, t_grads):
        assert (eg is None) == (tg is None)
        if eg is not None:
            assert_close(_pairs(eg), _pairs(tg), rtol=tol, atol=tol)
    assert type(e_base.grad_fn).__name__ == type(t_base.grad_fn).__name__
    assert e_base._version == t_base._version


def test_brief_example_matches_torch(torch):
    """The example from the report: values, version and the leaf's gradient."""
    out = []
    for T in (ember, torch):
        w = T.tensor([1 + 2j, 3 - 1j], requires_grad=True)
        z = w * 1
        z.real.mul_(3)
        z.imag.add_(1)
        v = T.view_as_real(z)
        v[0, 1] = 5
        (z.abs() ** 2).sum().backward()
        out.append((_pairs(z), _pairs(w.grad), z._version, type(z.grad_fn).__name__))
    assert_close(out[0][0], out[1][0])
    assert_close(out[0][1], out[1][1])
    assert_close(out[0][1], np.array([[18.0, 0.0], [54.0, 0.0]]))
    assert out[0][2:] == out[1][2:] == (3, "CopySlices")


def _names(T):
    """grad_fn names of views made before and after writes, in the order they are read."""
    c, x = _leaves(T)
    z = c * 1
    r, v, i, vc = z.real, T.view_as_real(z), z.imag.t(), T.view_as_complex(T.view_as_real(z))
    v0, v1 = v[:, :, 0], T.view_as_real(z[1])
    names = [r.grad_fn, v.grad_fn, i.grad_fn, vc.grad_fn, v0.grad_fn, v1.grad_fn]
    r.mul_(3)
    names += [r.grad_fn, z.grad_fn, v.grad_fn, i.grad_fn, vc.grad_fn, v0.grad_fn, v1.grad_fn]
    names += [z.real.grad_fn, z.imag.grad_fn, T.view_as_real(z).grad_fn, z.real[0].grad_fn]
    v.mul_(2)
    names += [v.grad_fn, r.grad_fn, vc.grad_fn]
    q = (x * 1).reshape(3, 2, 2)
    qc = T.view_as_complex(q)
    qr, q0 = qc.real, qc[0]
    names.append(qc.grad_fn)
    qc.mul_(1j)
    names += [qc.grad_fn, q.grad_fn, qr.grad_fn, q0.grad_fn]
    return [type(n).__name__ for n in names]


def test_view_node_names_match_torch(torch):
    """Views made before a write get torch's names: ``ViewAsRealBackward0`` and
    ``ViewAsComplexBackward0`` for those ops' own results (torch replays them from the base),
    ``AsStridedBackward0`` for the others; views made after it keep their ops' names."""
    assert _names(ember) == _names(torch)


def _versions(T):
    c, x = _leaves(T)
    z = c * 1
    r = z.real
    out = [z._version, r._version]
    z.real.mul_(2)
    out += [z._version, r._version, T.view_as_real(z)._version]
    T.view_as_real(z)[0, 0, 1] = 3.0
    z.imag = x
    out += [z._version, r._version, z.imag._version]
    q = x * 1
    T.view_as_complex(q.reshape(3, 2, 2)).mul_(2)
    out += [q._version]
    return out


def test_versions_match_torch(torch):
    """Every write through a part counts once, on the base and on all its views."""
    assert _versions(ember) == _versions(torch)


def _retained(T):
    c, x = _leaves(T)
    z = c * 1
    z.retain_grad()
    z.real.mul_(3)
    y = z * 1
    y.retain_grad()
    T.view_as_real(y)[1].mul_(x[1].unsqueeze(1))
    r = y.imag
    r.retain_grad()
    r[0].add_(1)
    _loss(T, y).backward()
    return [None if g is None else _pairs(g) for g in (z.grad, y.grad, r.grad, c.grad, x.grad)]


def test_retain_grad_follows_the_write_like_torch(torch):
    """``retain_grad`` on a base (or a view) written through a part keeps the gradient of its
    new value, as torch moves the hook to the new ``grad_fn``."""
    for e, t in zip(_retained(ember), _retained(torch)):
        assert (e is None) == (t is None)
        if e is not None:
            assert_close(e, t, rtol=1e-10, atol=1e-10)


def _error(T, write):
    c, x = _leaves(T)
    try:
        write(T, c, x)
    except Exception as e:  # the type is part of what is compared
        return type(e).__name__, str(e).splitlines()[0].split(" Hint:")[0]
    return None


def _real_leaf_view(T, c, x):
    x.view(3, 2, 2)


WRITES = [
    lambda T, c, x: c.real.mul_(2),
    lambda T, c, x: c.imag.zero_(),
    lambda T, c, x: T.view_as_real(c).mul_(2),
    lambda T, c, x: T.view_as_real(c)[0, 1].fill_(1),
    lambda T, c, x: setattr(c, "real", x),
    lambda T, c, x: c.real.__setitem__(0, 1.0),
    lambda T, c, x: c.imag.t()[1].add_(1),
    lambda T, c, x: T.view_as_complex(x.view(3, 2, 2)).mul_(1j),
    lambda T, c, x: T.view_as_complex((x * 1).view(3, 2, 2).requires_grad_()),
    lambda T, c, x: T.view_as_complex(x.detach().view(3, 2, 2).requires_grad_()).mul_(1j),
    lambda T, c, x: T.view_as_real(c * 1).unbind(-1)[1].mul_(2),
    lambda T, c, x: (c * 1).real.unbind(0)[1].mul_(2),
    lambda T, c, x: (c * 1).real.split(1)[0].zero_(),
    lambda T, c, x: (c * 1).real.copy_(c),
    lambda T, c, x: _saved_result_changed(T, c),
]


def _saved_result_changed(T, c):
    z = c * 1
    z.real.sigmoid_()
    z.imag[0].tanh_()  # the same memory as sigmoid_'s saved result: a newer version
    z.abs().sum().backward()


@pytest.mark.filterwarnings("ignore:Casting complex values to real discards")
@pytest.mark.parametrize("write", WRITES, ids=[str(i) for i in range(len(WRITES))])
def test_errors_match_torch(write, torch):
    """The same error (type, first line) or, like torch, none: a part of a leaf that requires
    grad, outputs of ops returning several views, complex values into a real part."""
    assert _error(ember, write) == _error(torch, write)


def _no_grad(T):
    c, x = _leaves(T)
    with T.no_grad():
        c.real.mul_(2)
        T.view_as_real(c)[0, 0, 1] = 7.0
    z = c * 1
    with T.no_grad():
        z.imag.add_(1)
    (z.abs() ** 2).sum().backward()
    return _pairs(c), c._version, _pairs(c.grad), type(z.grad_fn).__name__


def test_writes_under_no_grad_match_torch(torch):
    """Under no_grad, a leaf's parts change without history; a non-leaf keeps its node."""
    e, t = _no_grad(ember), _no_grad(torch)
    assert_close(e[0], t[0])
    assert_close(e[2], t[2])
    assert e[1] == t[1] and e[3] == t[3]


def _double(T):
    c, x = _leaves(T)
    z = c * 1
    z.real.mul_(x)
    T.view_as_real(z)[1:, :, 1] = x[1:] ** 2
    z.imag.t()[0].mul_(x[0, 0])
    gc, gx = T.autograd.grad(_loss(T, z), (c, x), create_graph=True)
    second = T.autograd.grad((gc.abs() ** 2).sum() + (gx ** 3).sum(), (c, x))
    return [_pairs(g) for g in (gc, gx, *second)]


def test_double_backward_matches_torch(torch):
    """create_graph=True through the writes, then a gradient of those gradients."""
    for e, t in zip(_double(ember), _double(torch)):
        assert_close(e, t, rtol=1e-9, atol=1e-9)


def _grad_of_parts(T):
    c, x = _leaves(T)
    z = c * 1
    old = z
    z.real.mul_(2)
    src = x * 3
    T.view_as_real(z)[1, :, 1] = src[0]
    loss = _loss(T, z)
    return [_pairs(g) for g in T.autograd.grad(loss, (c, x, src, old), allow_unused=True)]


def test_autograd_grad_of_written_source_matches_torch(torch):
    """``autograd.grad`` with respect to the leaves and the written source."""
    for e, t in zip(_grad_of_parts(ember), _grad_of_parts(torch)):
        assert_close(e, t, rtol=1e-10, atol=1e-10)
