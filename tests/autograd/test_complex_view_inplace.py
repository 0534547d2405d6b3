"""In-place writes through dtype-changing views of complex tensors (``z.real``, ``z.imag``,
``view_as_real(z)`` and views of those; ``view_as_complex(r)`` of a real ``r``), without torch:
gradients against finite differences and against the same computation written out of place
(``z = ember.complex(3 * z.real, z.imag)``), node names, versions and errors."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.copy_slices import PairRegion, Region, region_of
from tests.helpers import assert_close

_RNG = np.random.default_rng(3)
C = _RNG.standard_normal((2, 3)) + 1j * _RNG.standard_normal((2, 3))
X = _RNG.standard_normal((2, 3))


def _pairs(t):
    a = np.array(t.detach().numpy())
    return np.stack((a.real, a.imag), -1) if a.dtype.kind == "c" else a


def _leaves():
    return (ember.tensor(C, dtype=ember.complex128, requires_grad=True),
            ember.tensor(X, dtype=ember.float64, requires_grad=True))


def _loss(z):
    """A real loss that weighs every part differently (a real ``z`` as (real, imag) pairs)."""
    if not z.is_complex():
        z = ember.view_as_complex(z.contiguous())
    w = ember.tensor(np.linspace(0.5, 2.0, z.numel()).reshape(z.shape) * (1 - 0.5j))
    return (z * w).abs().sum() + (z.real ** 3).sum() + (z.imag * z.real).sum()


# --- writes, each with its out-of-place twin ----------------------------------------------------
def scale_real(c, x, inplace):
    z = c * 1
    if inplace:
        z.real.mul_(3)
        return z
    return ember.complex(3 * z.real, z.imag)


def source_into_imag(c, x, inplace):
    z = c * 1
    if inplace:
        z.imag.copy_(x.sin())
        return z
    return ember.complex(z.real, x.sin())


def view_as_real_column(c, x, inplace):
    z = c * 1
    if inplace:
        ember.view_as_real(z)[:, 1:, 0].mul_(x[:, 1:])
        return z
    re = ember.cat((z.real[:, :1], z.real[:, 1:] * x[:, 1:]), 1)
    return ember.complex(re, z.imag)


def imag_transposed_row(c, x, inplace):
    z = c * 1
    if inplace:
        z.imag.t()[2].add_(x[0, :2])
        return z
    im = ember.cat((z.imag[:, :2], z.imag[:, 2:] + x[0, :2].unsqueeze(1)), 1)
    return ember.complex(z.real, im)


def single_item(c, x, inplace):
    z = c * 1
    if inplace:
        ember.view_as_real(z)[1, 0, 1] = x[0, 0] ** 2
        return z
    mask = ember.zeros(2, 3, dtype=ember.bool)
    mask[1, 0] = True
    return ember.complex(z.real, ember.where(mask, x[0, 0] ** 2, z.imag))


def complex_view_of_real_base(c, x, inplace):
    q = ember.cat((x, x * 2), 1).reshape(2, 3, 2)
    if inplace:
        q = q * 1
        ember.view_as_complex(q).mul_(c)
        return q
    return ember.view_as_real(ember.complex(q[..., 0], q[..., 1]) * c)


TWINS = [scale_real, source_into_imag, view_as_real_column, imag_transposed_row, single_item,
         complex_view_of_real_base]


@pytest.mark.parametrize("fn", TWINS, ids=[f.__name__ for f in TWINS])
def test_gradients_equal_the_out_of_place_formulation(fn):
    """The written base and the gradients of every leaf equal those of the out-of-place twin."""
    results = []
    for inplace in (True, False):
        c, x = _leaves()
        z = fn(c, x, inplace)
        _loss(z).backward()
        results.append([_pairs(z), *(None if g is None else _pairs(g) for g in (c.grad, x.grad))])
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", TWINS, ids=[f.__name__ for f in TWINS])
def test_gradients_match_finite_differences(fn):
    """gradcheck (each complex input two real variables) and gradgradcheck of the writes."""
    c, x = _leaves()

    def run(c, x):
        return fn(c, x, True) * 1

    assert gradcheck(run, (c, x))
    assert gradgradcheck(run, (c, x))


def _chain(c, x):
    z = c * 1
    z.real[1:].mul_(x[1:])
    ember.view_as_real(z)[:, 0].add_(x[:, :2])
    z.imag.t()[1:].mul_(x.t()[1:])
    ember.view_as_real(z).transpose(0, 2)[1].t().sub_(x)
    ember.view_as_real(z[1]).mul_(x[0].unsqueeze(1))
    ember.view_as_real(z).reshape(12)[::5].mul_(3)
    z.imag.exp_()
    return z


def test_chains_of_views_match_finite_differences():
    """Views of views of the parts, written one after the other."""
    assert gradcheck(_chain, _leaves())
    assert gradgradcheck(_chain, _leaves())


def test_brief_example_gradient():
    """|z|^2 after writes to both parts and one element of the real view."""
    w = ember.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    z = w * 1
    z.real.mul_(3)
    z.imag.add_(1)
    v = ember.view_as_real(z)
    v[0, 1] = 5
    (z.abs() ** 2).sum().backward()
    assert_close(_pairs(z), np.array([[3.0, 5.0], [9.0, 0.0]]))
    assert_close(_pairs(w.grad), np.array([[18.0, 0.0], [54.0, 0.0]]))
    assert z._version == 3
    assert type(z.grad_fn).__name__ == "CopySlices"


def test_written_region_gets_no_gradient_and_source_gets_its_part():
    """The overwritten parts of the old base get zero; the source gets the real (or
    imaginary) part of the incoming gradient."""
    c, x = _leaves()
    z = c * 1
    z.real.copy_(x)
    z.imag[0] = x[1] * 2
    g = ember.tensor(np.arange(6).reshape(2, 3) * (1 + 2j))
    z.backward(g)
    want_c = np.zeros((2, 3), complex)
    want_c[1] = 1j * g.numpy()[1].imag
    assert_close(_pairs(c.grad), _pairs(ember.tensor(want_c)))
    want_x = g.numpy().real.copy()
    want_x[1] += 2 * g.numpy()[0].imag
    assert_close(x.grad, want_x)


def test_node_names_of_views_made_before_the_write():
    """A view made by view_as_real/view_as_complex itself is named after that op once its
    base changed; other views are ``AsStridedBackward0``; new ones keep their op's name."""
    c, x = _leaves()
    z = c * 1
    r, v, v0 = z.real, ember.view_as_real(z), ember.view_as_real(z)[..., 0]
    r.mul_(2)
    names = [type(t.grad_fn).__name__ for t in (z, r, v, v0, z.real, z.imag.t())]
    assert names == ["CopySlices", "AsStridedBackward0", "ViewAsRealBackward0",
                     "AsStridedBackward0", "SelectBackward0", "TBackward0"]
    q = x * 1
    qc = ember.view_as_complex(q.reshape(2, 3, 1).expand(2, 3, 2).contiguous())
    assert type(qc.grad_fn).__name__ == "ViewAsComplexBackward0"
    q = x.reshape(3, 2) * 1
    qc, q0 = ember.view_as_complex(q), ember.view_as_complex(q)[0]
    qc.mul_(1j)
    assert [type(t.grad_fn).__name__ for t in (q, qc, q0)] == [
        "CopySlices", "ViewAsComplexBackward0", "AsStridedBackward0"]


def test_versions_are_shared_by_base_and_parts():
    c, x = _leaves()
    z = c * 1
    r = z.real
    z.imag.mul_(2)
    ember.view_as_real(z)[0, 0, 0] = 1.0
    z.real = x
    assert z._version == r._version == z.imag._version == 3


def test_retain_grad_on_the_base_keeps_the_gradient_of_its_new_value():
    c, x = _leaves()
    z = c * 1
    z.retain_grad()
    z.real.mul_(3)
    (z.abs() ** 2).sum().backward()
    assert_close(_pairs(z.grad), _pairs(2 * z.detach()))
    want = 2 * z.detach().numpy()
    want.real *= 3
    assert_close(_pairs(c.grad), _pairs(ember.tensor(want)))


@pytest.mark.parametrize("write", [
    lambda c: c.real.mul_(2),
    lambda c: c.imag.zero_(),
    lambda c: ember.view_as_real(c)[0].fill_(1),
    lambda c: setattr(c, "imag", 1.0),
    lambda c: ember.view_as_complex(ember.view_as_real(c)).mul_(1j),
    lambda c: ember.view_as_complex(ember.arange(6.).reshape(3, 2).requires_grad_()).mul_(1j),
], ids=["real", "imag", "view_as_real", "setter", "round_trip", "view_as_complex"])
def test_parts_of_a_leaf_that_requires_grad_refuse_in_place_changes(write):
    c, _ = _leaves()
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation.$"):
        write(c)


def test_outputs_of_unbind_refuse_in_place_changes():
    c, _ = _leaves()
    with pytest.raises(RuntimeError, match="Output 1 of Unbind is a view"):
        ember.view_as_real(c * 1).unbind(-1)[1].mul_(2)


def test_writes_under_no_grad_change_a_leaf_without_history():
    c, _ = _leaves()
    with ember.no_grad():
        c.real.mul_(2)
        ember.view_as_real(c)[0, 0, 1] = 7.0
    want = C * 1
    want.real *= 2
    want[0, 0] = want[0, 0].real + 7j
    assert_close(_pairs(c), _pairs(ember.tensor(want)))
    assert c.grad_fn is None and c.requires_grad and c._version == 2


def test_region_between_a_complex_base_and_a_real_part_moves_pairs():
    """``region_of`` picks ``PairRegion`` only when the dtypes differ; take, without and
    scatter see complex numbers as (real, imaginary) pairs."""
    base = np.arange(6).reshape(2, 3) * (1 + 2j)
    assert type(region_of(base, base[0])) is Region
    region = region_of(base, base.imag[:, 1:])
    assert type(region) is PairRegion
    grad = np.arange(6).reshape(2, 3) * (1 - 1j) + 0.5
    assert_close(region.take(grad), grad.imag[:, 1:])
    kept = region.without(grad)
    assert_close(kept.real, grad.real)
    assert_close(kept.imag, np.where([[1, 0, 0]] * 2, grad.imag, 0))
    spread = region.scatter(np.ones((2, 2)))
    assert spread.dtype == base.dtype
    assert_close(spread.imag, [[0, 1, 1], [0, 1, 1]])
    assert_close(spread.real, np.zeros((2, 3)))


def test_retain_grad_follows_a_write_through_an_ordinary_view():
    """The same for a real base written through a slice."""
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    z = a * 1
    z.retain_grad()
    z[0:1].mul_(3)
    (z ** 2).sum().backward()
    assert_close(z.grad, [6.0, 4.0])
    assert_close(a.grad, [18.0, 4.0])


def test_empty_views_can_be_written():
    """An empty view has no elements to share, whatever NumPy's strides say."""
    a = ember.zeros(0, 3, 2, requires_grad=True)
    z = a * 1
    z[..., 1].zero_()
    z.sum().backward()
    assert type(z.grad_fn).__name__ == "CopySlices" and a.grad.shape == (0, 3, 2)
