"""Matrix products of bool tensors as torch: refused in the words of the kernel each shape
pair reaches (dot, addmv, addmm, bmm), computed when there is nothing to sum or fill."""
import pytest

import ember

SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 2)),
          ((4, 2, 3), (4, 3, 2)), ((4, 2, 3), (3, 2)), ((2, 3), (4, 3, 2)), ((3,), (4, 3, 2)),
          ((4, 2, 3), (3,)), ((0, 3), (3, 2)), ((2, 0), (0, 2)), ((0, 2, 3), (3, 2))]
def _matmul(a, b):
    return lambda m: m.matmul(_ones(m, a), _ones(m, b))


CALLS = {
    **{f"matmul{a}{b}": _matmul(a, b) for a, b in SHAPES},
    "mm": lambda m: m.mm(_ones(m, (2, 3)), _ones(m, (3, 2))),
    "mv": lambda m: m.mv(_ones(m, (2, 3)), _ones(m, (3,))),
    "bmm": lambda m: m.bmm(_ones(m, (4, 2, 3)), _ones(m, (4, 3, 2))),
    "addmm": lambda m: m.addmm(_ones(m, (2, 2)), _ones(m, (2, 3)), _ones(m, (3, 2))),
    "operator": lambda m: _ones(m, (2, 3)) @ _ones(m, (3, 2)),
}


def _ones(lib, shape):
    return lib.ones(*shape, dtype=lib.bool)


def _outcome(lib, call):
    try:
        r = call(lib)
    except Exception as e:  # noqa: BLE001  (the exception is what is compared)
        return type(e).__name__, str(e).splitlines()[0]
    return "ok", str(r.dtype).split(".")[-1], tuple(r.shape), r.tolist()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bool_products_match_torch(torch, name):
    assert _outcome(ember, CALLS[name]) == _outcome(torch, CALLS[name])
