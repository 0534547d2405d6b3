"""The first line of the "modified by an inplace operation" error, as torch words it: which
node's output the changed tensor is *now* (the in-place op's node when it was recorded, the
saving node for a saved output, nothing for a leaf), without the ``Backward0`` suffix."""
import pytest

import ember


def _inputs_then_inplace(lib, x):
    y = x * 2
    z = y * y
    y.add_(1)
    return z


def _saved_output(lib, x):
    y = x.exp()
    z = y * 2
    y.add_(1)
    return z


def _sum_then_mul_(lib, x):
    y = x.sum(0)
    z = y.log()
    y.mul_(2)
    return z


def _changed_under_no_grad(lib, x):
    y = x * 1
    z = y * y
    with lib.no_grad():
        y.mul_(2)
    return z


def _leaf_changed_under_no_grad(lib, x):
    z = x.exp() * x
    with lib.no_grad():
        x.mul_(2)
    return z


def _tensor_without_grad(lib, x):
    w = lib.tensor([1.0, 2.0])
    z = x * w
    w.mul_(2)
    return z


def _user_function_twice(lib, x):
    class Keep(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * a

    y = x * 1
    z = Keep.apply(y)
    y.mul_(3)
    y.add_(1)
    return z


def _saved_view_base_changed(lib, x):  # a view's grad_fn is regenerated: AsStrided
    y = x * 1
    v = y.t()
    z = v * v
    y.mul_(2)
    return z


def _saved_view_changed_under_no_grad(lib, x):
    y = x * 1
    v = y[1:]
    z = v * v
    with lib.no_grad():
        y.mul_(2)
    return z


def _saved_expand_changed(lib, x):
    y = x * 1
    v = y[:1].expand(2, 2)
    z = v * v
    y.add_(1)
    return z


CASES = [_inputs_then_inplace, _saved_output, _sum_then_mul_, _changed_under_no_grad,
         _leaf_changed_under_no_grad, _tensor_without_grad, _user_function_twice,
         _saved_view_base_changed, _saved_view_changed_under_no_grad, _saved_expand_changed]


@pytest.mark.parametrize("build", CASES, ids=lambda f: f.__name__.strip("_"))
def test_first_line_matches_torch(torch, build):
    lines = []
    for lib in (torch, ember):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        z = build(lib, x)
        with pytest.raises(RuntimeError) as info:
            z.sum().backward()
        lines.append(str(info.value).splitlines()[0].split(" Hint:")[0])
    assert lines[1] == lines[0]
