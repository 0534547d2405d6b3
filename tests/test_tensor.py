"""Tensor basics: creation, dtypes, attributes, conversion, repr, in-place ops."""
import numpy as np
import pytest

import ember


def test_default_dtypes_follow_torch():
    assert ember.tensor([1.0, 2.0]).dtype is ember.float32
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([True]).dtype is ember.bool
    assert ember.tensor(np.zeros(2, np.float64)).dtype is ember.float64
    assert ember.zeros(2).dtype is ember.float32
    assert ember.arange(3).dtype is ember.int64
    assert ember.arange(0, 1, 0.5).dtype is ember.float32


def test_promotion_rules():
    i = ember.tensor([1, 2])
    f = ember.tensor([1.0, 2.0])
    assert (i / i).dtype is ember.float32
    assert (i * 2.5).dtype is ember.float32
    assert (i * 2).dtype is ember.int64
    assert (f * 2).dtype is ember.float32
    assert (f + ember.tensor(1.0, dtype=ember.float64)).dtype is ember.float32
    assert (f < 1.5).dtype is ember.bool
    assert (f + f.double()).dtype is ember.float64


def test_as_tensor_and_from_numpy_share_memory():
    a = np.arange(4, dtype=np.float32)
    t = ember.as_tensor(a)
    u = ember.from_numpy(a)
    a[0] = 10
    assert t[0].item() == 10 and u[0].item() == 10
    c = ember.as_tensor(a, dtype=ember.float64)
    a[1] = 20
    assert c[1].item() == 1.0


def test_tensor_copies():
    a = np.arange(3)
    t = ember.tensor(a)
    a[0] = 7
    assert t[0].item() == 0


def test_attributes():
    t = ember.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, ember.Size)
    assert t.size(1) == 3 and t.size(-1) == 4 and t.dim() == 3 and t.ndim == 3
    assert t.numel() == 24 and len(t) == 2
    assert str(t.device) == "cpu"
    assert t.T.shape == (4, 3, 2)
    assert repr(t.shape) == "ember.Size([2, 3, 4])"


def test_item_tolist_numpy():
    t = ember.tensor([[1.0, 2.0]])
    assert t.tolist() == [[1.0, 2.0]]
    assert ember.tensor([3.5]).item() == 3.5
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    r = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        r.numpy()
    assert isinstance(r.detach().numpy(), np.ndarray)
    assert np.asarray(t).shape == (1, 2)


def test_conversions():
    t = ember.tensor([1.7, -2.2])
    assert t.long().tolist() == [1, -2]
    assert t.int().dtype is ember.int32
    assert t.double().dtype is ember.float64
    assert t.bool().tolist() == [True, True]
    assert t.to(ember.float16).dtype is ember.float16
    assert t.to("cpu") is t


def test_set_default_dtype():
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.tensor([1.0]).dtype is ember.float64
        assert ember.zeros(1).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


def test_repr_like_torch():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ember.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = ember.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(ember.tensor([1.0], dtype=ember.float64)) == "tensor([1.], dtype=ember.float64)"
    assert repr(ember.tensor([True, False])) == "tensor([ True, False])"


def test_str_and_format_like_torch():
    # print(param) shows "Parameter containing:" (str goes through the subclass's repr)
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    assert str(p) == repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert f"{p}" == str(p)
    # a plain 0-d tensor formats as its number, other tensors (a 0-d Parameter too) as str
    loss = ember.tensor(0.1234567, requires_grad=True) * 1
    assert f"{loss:>7f}" == "0.123457" and f"{ember.tensor(3):5d}" == "    3"
    assert f"{ember.tensor(2.5)}" == "2.5" and f"{ember.tensor([1.5])}" == "tensor([1.5000])"
    a = ember.nn.Parameter(ember.tensor(1.5))
    assert f"{a}" == "Parameter containing:\ntensor(1.5000, requires_grad=True)"
    with pytest.raises(TypeError, match="passed to Tensor.__format__"):
        f"{ember.ones(2):.2f}"


def test_deprecated_alpha_first_add_warns_once_and_adds():
    from ember import _tensor_methods

    _tensor_methods._ALPHA_FIRST_WARNED.clear()
    from ember import _user_warning

    _user_warning._warned_once.clear()
    p, g = ember.ones(3), ember.tensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match=r"This overload of add_ is deprecated"):
        p.add_(-0.5, g)  # the old tutorials' p.data.add_(-lr, p.grad.data)
    assert p.tolist() == [0.5, 0.0, -0.5]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per process, for every deprecated overload
        assert p.sub_(2, g).tolist() == [-1.5, -4.0, -6.5]


def test_clone_detach_contiguous():
    x = ember.ones(2, 3, requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    d = x.detach()
    assert d.grad_fn is None and not d.requires_grad
    d[0, 0] = 5
    assert x[0, 0].item() == 5
    tt = ember.ones(2, 3).t()
    assert not tt.is_contiguous() and tt.contiguous().is_contiguous()


def test_in_place_ops_and_versions():
    t = ember.zeros(3)
    t.add_(1).mul_(3).sub_(1).div_(2)
    np.testing.assert_allclose(t.numpy(), [1.0, 1.0, 1.0])
    assert t._version == 4
    t.zero_()
    t.fill_(2.0)
    t.clamp_(max=1.5)
    np.testing.assert_allclose(t.numpy(), [1.5, 1.5, 1.5])
    t += 1
    t[0] = 0
    np.testing.assert_allclose(t.numpy(), [0.0, 2.5, 2.5])
    t.copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_random_in_place_and_seeding():
    ember.manual_seed(0)
    a = ember.empty(4).normal_()
    b = ember.empty(4).uniform_(-1, 1)
    ember.manual_seed(0)
    assert ember.equal(a, ember.empty(4).normal_())
    assert (b >= -1).all() and (b < 1).all()


def test_generator_argument_and_state():
    g = ember.Generator().manual_seed(42)
    x = ember.randn(5, generator=g)
    g.manual_seed(42)
    assert ember.equal(x, ember.randn(5, generator=g))
    state = g.get_state()
    y = ember.rand(3, generator=g)
    g.set_state(state)
    assert ember.equal(y, ember.rand(3, generator=g))


def test_random_creation_functions():
    ember.manual_seed(1)
    assert ember.randint(0, 5, (100,)).max().item() < 5
    p = ember.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    m = ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 4, replacement=True)
    assert m.tolist() == [1, 1, 1, 1]
    nr = ember.multinomial(ember.tensor([1.0, 1.0, 1.0]), 3)
    assert sorted(nr.tolist()) == [0, 1, 2]
    b = ember.bernoulli(ember.full((1000,), 0.3))
    assert 0.2 < b.mean().item() < 0.4
    n = ember.normal(2.0, 3.0, size=(5000,))
    assert abs(n.mean().item() - 2.0) < 0.2


def test_creation_helpers():
    assert ember.full((2, 2), 7).dtype is ember.int64
    assert ember.full((2,), 1.5).tolist() == [1.5, 1.5]
    assert ember.eye(2, 3).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert ember.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert ember.zeros_like(ember.ones(2, dtype=ember.int32)).dtype is ember.int32
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.ones(-1)
    with pytest.raises(RuntimeError, match="zeros: Dimension size must be non-negative"):
        ember.zeros(-1)


def test_numbers_protocols():
    t = ember.tensor(2.5)
    assert float(t) == 2.5 and int(ember.tensor(3)) == 3
    assert f"{t:.2f}" == "2.50"
    assert list(range(ember.tensor(3))) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.ones(2))


def test_requires_grad_only_for_floats():
    # torch's three wordings: factories (and Parameter), the setter, requires_grad_()
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype"):
        ember.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype"):
        ember.nn.Parameter(ember.tensor([1]))
    with pytest.raises(RuntimeError, match="^only Tensors of floating point and complex dtype"):
        ember.tensor([1, 2]).requires_grad = True
    with pytest.raises(RuntimeError, match="^only Tensors of floating point dtype can"):
        ember.tensor([1, 2]).requires_grad_()
    y = ember.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False


def test_integer_index_is_a_view_like_torch():
    b = ember.zeros(2, 3)
    b[1, 2].add_(1)
    b[0].fill_(5)
    v = ember.zeros(4)
    v[2].add_(3)
    assert b.tolist() == [[5, 5, 5], [0, 0, 1]] and v.tolist() == [0, 0, 3, 0]
    assert b._version == 2 and v._version == 1


@pytest.mark.parametrize("n", [1, 2, 3, 8, 257])
def test_randperm_swaps_match_the_sequential_fisher_yates(n):
    """randperm's vectorised swap sequence equals the plain loop, also when many steps aim at
    the same positions (targets drawn from a narrow range)."""
    from ember._sampling import _swapped_in_order

    rng = np.random.default_rng(n)
    for spread in (1, 3, n):
        targets = np.minimum(np.arange(n) + rng.integers(0, spread, n), n - 1)
        targets[-1] = n - 1
        expected = list(range(n))
        for i, j in enumerate(targets.tolist()):
            expected[i], expected[j] = expected[j], expected[i]
        assert _swapped_in_order(targets).tolist() == expected
    perm = ember.randperm(n)
    assert sorted(perm.tolist()) == list(range(n)) and perm.dtype == ember.int64


def test_storage_offset_of_strided_views_counts_from_the_owning_array():
    a = ember.arange(10.0)
    assert a.as_strided((2, 2), (1, 2), 3).storage_offset() == 3
    assert a[3:].as_strided((2, 2), (1, 2)).storage_offset() == 3
    assert a[3:].as_strided((2, 2), (1, 2), 1).storage_offset() == 1
    view = a.as_strided((2, 2), (1, 2), 3).as_strided((3,), (1,), 5)
    assert view.storage_offset() == 5 and view.tolist() == [5.0, 6.0, 7.0]
    assert a.unfold(0, 3, 2)[1:].storage_offset() == 2
