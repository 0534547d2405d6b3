"""Tensors passed as sizes, against torch: a one-element integer tensor counts as an int (it
converts with ``__index__``), a tensor of several sizes is refused with torch's TypeError."""
import pytest

import ember

CALLS = {
    "zeros(t)": lambda L, t: L.zeros(t), "zeros(t, t)": lambda L, t: L.zeros(t, t),
    "ones((t, 2))": lambda L, t: L.ones((t, 2)), "empty(t)": lambda L, t: L.empty(t),
    "rand(t)": lambda L, t: L.rand(t), "randn(t)": lambda L, t: L.randn(t),
    "full((t,), 1.0)": lambda L, t: L.full((t,), 1.0),
    "view(t, -1)": lambda L, t: L.ones(6).view(t, -1), "view(t)": lambda L, t: L.ones(3).view(t),
    "reshape(t)": lambda L, t: L.ones(3).reshape(t), "expand(t)": lambda L, t: L.ones(1).expand(t),
    "repeat(t)": lambda L, t: L.ones(2).repeat(t),
    "new_zeros(t)": lambda L, t: L.ones(2).new_zeros(t),
    "new_ones(t)": lambda L, t: L.ones(2).new_ones(t), "tile(t)": lambda L, t: L.ones(2).tile(t),
    "permute(t)": lambda L, t: L.ones(1, 2, 3).permute(t),
    "sum_to_size(t)": lambda L, t: L.ones(3, 3).sum_to_size(t),
    "zeros(t, 2)": lambda L, t: L.zeros(t, 2), "zeros(2, t)": lambda L, t: L.zeros(2, t),
    "zeros((2, t))": lambda L, t: L.zeros((2, t)),
}
SIZES = {"0-d": lambda L: L.tensor(3), "1 element": lambda L: L.tensor([3]),
         "2 elements": lambda L: L.tensor([2, 3])}


def _outcome(lib, call, size):
    try:
        return tuple(call(lib, size(lib)).shape)
    except Exception as e:  # noqa: BLE001 (the exception is what is compared)
        return type(e).__name__, str(e).split("\n")[0]


@pytest.mark.parametrize("size", SIZES.values(), ids=list(SIZES))
@pytest.mark.parametrize("call", CALLS.values(), ids=list(CALLS))
def test_tensor_sizes_as_torch(torch, call, size):
    ours, theirs = _outcome(ember, call, size), _outcome(torch, call, size)
    if isinstance(theirs, tuple) and theirs and isinstance(theirs[0], str):
        assert ours[0] == theirs[0]
        if "must be tuple of ints" in theirs[1]:
            assert ours[1] == theirs[1]
    else:
        assert ours == theirs
