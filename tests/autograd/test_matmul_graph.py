"""``matmul`` as torch's composite (``ember/ops/matmul_graph.py``), without torch: finite
differences of first and second derivatives through every path (folded ``mm``/``mv``,
``bmm`` over expanded batches, the copy of a layout that cannot be viewed, a squeezed batch
of one), the nodes each path records, and the errors that depend on the path."""
from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck


def _t(shape, seed, rg=True):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64, requires_grad=rg)


def _names(fn):
    """The graph under ``fn``: each node's name and its edges, leaves as ``A``."""
    if fn is None:
        return None
    name = type(fn).__name__
    if name == "AccumulateGrad":
        return "A"
    return (name.replace("Backward", "B"),) + tuple(_names(f) for f, _ in fn.next_functions)


def _swap01(t):
    return t.transpose(0, 1)


# (x shape, y shape, transform of x, transform of y): x is stored as shape, then transformed
PATHS = {
    "1-D @ 2-D": ((5,), (5, 4), None, None),
    "3-D @ 2-D folded": ((2, 3, 5), (5, 4), None, None),
    "strided 3-D @ 2-D copied, folded": ((3, 2, 5), (5, 4), _swap01, None),
    "3-D @ 1-D folded": ((2, 3, 5), (5,), None, None),
    "1-D @ 3-D folded": ((5,), (2, 5, 4), None, None),
    "2-D @ 3-D folded, transposed back": ((3, 5), (2, 5, 4), None, None),
    "2-D @ 4-D folded": ((3, 5), (2, 2, 5, 4), None, None),
    "3-D @ 3-D bmm": ((2, 3, 5), (2, 5, 4), None, None),
    "3-D @ 4-D broadcast bmm": ((2, 3, 5), (2, 2, 5, 4), None, None),
    "4-D @ 3-D broadcast bmm": ((2, 2, 3, 5), (1, 5, 4), None, None),
    "3-D @ batch of one squeezed": ((2, 3, 5), (1, 5, 4), None, None),
    "batch of one @ 3-D squeezed": ((1, 3, 5), (2, 5, 4), None, None),
    "strided 3-D @ 3-D": ((3, 2, 5), (2, 5, 4), _swap01, None),
    "4-D @ 1-D": ((2, 2, 3, 5), (5,), None, None),
}


@pytest.mark.parametrize("name", list(PATHS))
@pytest.mark.parametrize("rg", [(True, True), (True, False), (False, True)],
                         ids=["both", "x", "y"])
def test_gradients_match_finite_differences(name, rg):
    xs, ys, fx, fy = PATHS[name]
    x, y = _t(xs, 1, rg[0]), _t(ys, 2, rg[1])

    def f(a, b):
        return ember.matmul(fx(a) if fx else a, fy(b) if fy else b)

    assert gradcheck(f, (x, y))


def _small(shape):
    return tuple({3: 2, 4: 2, 5: 3}.get(s, s) if i >= len(shape) - 2 else s
                 for i, s in enumerate(shape))


@pytest.mark.parametrize("name", ["3-D @ 2-D folded", "2-D @ 3-D folded, transposed back",
                                  "3-D @ 4-D broadcast bmm", "strided 3-D @ 3-D",
                                  "1-D @ 2-D", "3-D @ 1-D folded", "3-D @ batch of one squeezed"])
def test_second_derivatives_match_finite_differences(name):
    xs, ys, fx, fy = PATHS[name]
    xs, ys = _small(xs), _small(ys)  # the same paths, on fewer elements

    def f(a, b):
        return ember.matmul(fx(a) if fx else a, fy(b) if fy else b)

    assert gradgradcheck(f, (_t(xs, 3), _t(ys, 4)))


# torch 2.13's graphs (ATen's _matmul_impl), B = Backward, A = AccumulateGrad
GRAPHS = {
    ((5,), (5, 4)): ("SqueezeB4", ("MmB0", ("UnsqueezeB0", "A"), "A")),
    ((2, 3, 5), (5, 4)): ("UnsafeViewB0", ("MmB0", ("ViewB0", "A"), "A")),
    ((2, 3, 5), (5,)): ("UnsafeViewB0", ("MvB0", ("ViewB0", "A"), "A")),
    ((5,), (2, 5, 4)): ("UnsafeViewB0", ("MvB0", ("UnsafeViewB0", ("CloneB0", (
        "TransposeB0", "A"))), "A")),
    ((3, 5), (2, 5, 4)): ("CloneB0", ("TransposeB0", ("UnsafeViewB0", ("MmB0", (
        "UnsafeViewB0", ("CloneB0", ("TransposeB0", "A"))), ("TB0", "A"))))),
    ((2, 3, 5), (2, 5, 4)): ("UnsafeViewB0", ("BmmB0", ("ViewB0", ("ExpandB0", "A")),
                                              ("ViewB0", ("ExpandB0", "A")))),
    ((2, 3, 5), (2, 2, 5, 4)): ("UnsafeViewB0", ("BmmB0", ("UnsafeViewB0", ("CloneB0", (
        "ExpandB0", "A"))), ("ViewB0", ("ExpandB0", "A")))),
    ((2, 3, 5), (1, 5, 4)): ("UnsafeViewB0", ("MmB0", ("ViewB0", "A"), ("SqueezeB1", "A"))),
    ((2, 2, 3, 5), (1, 5, 4)): ("UnsafeViewB0", ("BmmB0", ("ViewB0", ("ExpandB0", "A")), (
        "ReshapeAliasB0", ("ExpandB0", "A")))),
    ((5,), (5,)): ("DotB0", "A", "A"),
    ((3, 5), (5,)): ("MvB0", "A", "A"),
    ((3, 5), (5, 4)): ("MmB0", "A", "A"),
}


@pytest.mark.parametrize("shapes", list(GRAPHS), ids=str)
def test_each_shape_records_torchs_nodes(shapes):
    xs, ys = shapes
    out = ember.matmul(_t(xs, 0), _t(ys, 1))
    assert _names(out.grad_fn) == GRAPHS[shapes]


def test_an_operand_without_grad_records_no_node_on_its_path():
    x, y = _t((3, 5), 0, rg=False), _t((2, 5, 4), 1)
    # x needs no gradient, and torch never folds for a 2-D x then: bmm
    assert _names(ember.matmul(x, y).grad_fn) == (
        "UnsafeViewB0", ("BmmB0", None, ("ViewB0", ("ExpandB0", "A"))))
    x, y = _t((3, 2, 5), 0), _t((5, 4), 1, rg=False)
    assert _names(ember.matmul(x.transpose(0, 1), y).grad_fn) == (
        "UnsafeViewB0", ("BmmB0", ("ReshapeAliasB0", ("ExpandB0", ("TransposeB0", "A"))),
                         None))


def test_results_are_not_views_and_one_d_at_two_d_is_squeezed_in_place():
    x, y = _t((5,), 0), _t((5, 4), 1)
    out = x @ y
    assert out._version == 1 and out._base is None  # torch's squeeze_(0)
    out = _t((2, 3, 5), 0) @ y
    assert out._version == 0 and out._base is None and out.is_contiguous()


def test_values_match_numpy_with_and_without_a_graph():
    rng = np.random.default_rng(7)
    for xs, ys in [((2, 3, 5), (5, 4)), ((3, 5), (2, 5, 4)), ((5,), (2, 2, 5, 4)),
                   ((2, 1, 3, 5), (3, 5, 4)), ((0, 3, 5), (5, 2)), ((2, 3, 0), (0, 4))]:
        a, b = rng.standard_normal(xs), rng.standard_normal(ys)
        x, y = ember.tensor(a, requires_grad=True), ember.tensor(b)
        with ember.no_grad():
            plain = x @ y
        tracked = x @ y
        assert plain.grad_fn is None and tracked.grad_fn is not None
        np.testing.assert_allclose(plain.numpy(), a @ b, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(tracked.detach().numpy(), a @ b, rtol=1e-12, atol=1e-12)


def test_errors_follow_the_path_torch_takes():
    x = ember.randn(3, 2, 5).transpose(0, 1)  # cannot be folded without a copy
    y = ember.randn(4, 4)
    with pytest.raises(RuntimeError, match=r"^Expected size for first two dimensions of batch2 "
                                           r"tensor to be: \[2, 5\] but got: \[2, 4\]\.$"):
        x @ y  # nothing requires grad: bmm
    y.requires_grad_()
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied "
                                           r"\(6x5 and 4x4\)$"):
        x @ y  # y requires grad: folded, then mm
    a, b = ember.randn(4, 4), ember.randn(2, 5, 3)
    with pytest.raises(RuntimeError, match=r"^Expected size .* \[2, 4\] but got: \[2, 5\]\.$"):
        a @ b
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied "
                                           r"\(6x5 and 4x4\)$"):
        a.requires_grad_() @ b  # folded as b.mT @ a.t()
    with pytest.raises(RuntimeError, match=r"^size mismatch, got input \(6\), mat \(6x5\), "
                                           r"vec \(4\)$"):
        ember.randn(4, requires_grad=True) @ b


def test_changing_an_operand_in_place_is_caught_at_backward():
    a = _t((2, 3, 5), 0)
    x = a * 1
    out = x @ _t((5, 4), 1)
    x.mul_(2)  # the folded view x.view(6, 5) that mm saved shares x's version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_expand_keeps_the_stride_of_size_one_dims():
    # torch's strides (NumPy's broadcast_to would give 0): matmul's fold choice reads them
    assert ember.zeros(1, 5, 1).expand(2, 5, 1).stride() == (0, 1, 1)
    assert ember.zeros(5, 1).expand(1, 5, 1).stride() == (5, 1, 1)
    assert ember.zeros(3).expand(1, 2, 3).stride() == (0, 0, 1)
    y = ember.zeros(1, 5, 1).expand(2, 5, 1).detach().requires_grad_()
    out = ember.randn(5) @ y  # y.mT's rows cannot be folded (strides (0, 1, 1)): bmm
    assert _names(out.grad_fn)[1][0] == "BmmB0"
