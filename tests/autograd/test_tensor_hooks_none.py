"""A tensor hook on an output its node got no gradient for is called with None (torch's
rule for a split piece that was not used), and may not put a gradient there."""
import pytest

import ember


def test_hook_on_unused_split_piece_sees_none():
    x = ember.ones(4, requires_grad=True)
    a, b = x.split(2)
    seen = []
    b.register_hook(lambda g: seen.append(g))
    a.register_hook(lambda g: seen.append(g.tolist()))
    (a * 2).sum().backward()
    assert seen == [None, [2.0, 2.0]]  # b's hook was registered first
    assert x.grad.tolist() == [2.0, 2.0, 0.0, 0.0]


def test_hook_may_not_replace_a_missing_gradient():
    x = ember.ones(4, requires_grad=True)
    a, b = x.unbind()[:2]
    b.register_hook(lambda g: ember.ones(()) if g is None else g)
    with pytest.raises(RuntimeError, match="can't replace a None gradient with a non-None"):
        (a * 2).backward()


def test_retain_grad_on_unused_piece_keeps_none():
    x = ember.ones(4, requires_grad=True)
    a, b = x.split(2)
    b.retain_grad()
    a.sum().backward()
    assert b.grad is None


def test_unreached_node_runs_no_hooks():
    x = ember.ones(4, requires_grad=True)
    y = x * 2
    unused = y * 3
    seen = []
    unused.register_hook(lambda g: seen.append(g))
    y.sum().backward()
    assert seen == []
