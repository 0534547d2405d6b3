"""``Tensor.grad`` as torch: assigning checks type, shape and dtype with torch's errors, and
reading it on a non-leaf that does not retain its gradient warns."""
import warnings

import pytest

import ember


def _assign(lib, value_of):
    x = lib.ones(2, 3, requires_grad=True)
    try:
        x.grad = value_of(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return "ok", None if x.grad is None else (tuple(x.grad.shape), str(x.grad.dtype)[-7:])


@pytest.mark.parametrize("value_of", [
    lambda lib: lib.zeros(2, 3), lambda lib: None, lambda lib: lib.zeros(3, 2),
    lambda lib: lib.zeros(6), lambda lib: lib.zeros(2, 3, dtype=lib.float64),
    lambda lib: lib.zeros(2, 3, dtype=lib.float16), lambda lib: lib.zeros(2, 3, dtype=lib.int64),
    lambda lib: lib.zeros(2, 3, dtype=lib.bool), lambda lib: 3.0, lambda lib: [[0.0] * 3] * 2,
], ids=["same", "none", "transposed", "flat", "float64", "float16", "int64", "bool", "number",
        "list"])
def test_assigning_grad_matches_torch(torch, value_of):
    assert _assign(ember, value_of) == _assign(torch, value_of)


def test_reading_a_non_leaf_grad_warns_like_torch(torch):
    messages = []
    for lib in (torch, ember):
        x = lib.ones(2, requires_grad=True)
        y, kept = x * 2, x * 3
        kept.retain_grad()
        (y * kept).sum().backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert y.grad is None and kept.grad is not None and x.grad is not None
        messages.append([str(w.message).split(" (Triggered")[0] for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1
