"""Sizes and shifts torch refuses: negative sizes other than -1 in reshape/view (NumPy takes
any negative as -1), roll's shifts without matching dims, negative section counts in the
NumPy-style splits, negative sizes in creation functions. Each call is compared with torch:
the same result, or the same exception type and first message line."""
import pytest

import ember

CALLS = {
    "reshape -2": lambda m, x: x.reshape(-2),
    "reshape 2,-2": lambda m, x: x.reshape(2, -2),
    "reshape -1,-2": lambda m, x: x.reshape(-1, -2),
    "reshape 2,3,-1": lambda m, x: x.reshape(2, 3, -1),
    "reshape tracked -3": lambda m, x: x.clone().requires_grad_().reshape(-3, 4),
    "view -2,12": lambda m, x: x.view(-2, 12),
    "roll tuple without dims": lambda m, x: x.roll((1, 2)),
    "roll one shift": lambda m, x: x.roll(1),
    "roll one-tuple": lambda m, x: x.roll((1,)),
    "roll list": lambda m, x: x.roll([1]),
    "roll 2 shifts 1 dim": lambda m, x: x.roll((1, 2), (0,)),
    "roll 1 shift 2 dims": lambda m, x: x.roll(1, (0, 1)),
    "roll negative dims": lambda m, x: x.roll((1, -1), (0, -1)),
    "roll dim out of range": lambda m, x: x.roll(1, 3),
    "roll nothing": lambda m, x: x.roll((), ()),
    "roll 0-D": lambda m, x: m.tensor(1.0).roll(1),
    "roll 0-D with dim": lambda m, x: m.tensor(1.0).roll(1, 0),
    "vsplit -2": lambda m, x: m.vsplit(x, -2),
    "hsplit -1": lambda m, x: m.hsplit(x, -1),
    "dsplit -4": lambda m, x: m.dsplit(x, -4),
    "zeros 2,-1": lambda m, x: m.zeros(2, -1),
    "zeros (-1,)": lambda m, x: m.zeros((-1,)),
    "zeros int64 -1": lambda m, x: m.zeros(-1, dtype=m.int64),
    "ones 2,-1": lambda m, x: m.ones(2, -1),
    "empty -3": lambda m, x: m.empty(-3),
}


def _outcome(lib, call):
    x = lib.arange(24.0).reshape(2, 3, 4)
    try:
        r = call(lib, x)
    except Exception as e:  # noqa: BLE001  (the exception is what is compared)
        return type(e).__name__, str(e).splitlines()[0]
    if isinstance(r, tuple):
        return "pieces", [p.tolist() for p in r]
    return "ok", r.tolist()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_shape_arguments_match_torch(torch, name):
    assert _outcome(ember, CALLS[name]) == _outcome(torch, CALLS[name])


def _rolled_grad(lib):
    x = lib.arange(6.0, requires_grad=True)
    y = x.reshape(2, 3).roll((1, -1), (0, 1))
    (y * lib.arange(6.0).reshape(2, 3)).sum().backward()
    return x.grad.tolist()


def test_roll_gradient_matches_torch(torch):
    assert _rolled_grad(ember) == _rolled_grad(torch)
