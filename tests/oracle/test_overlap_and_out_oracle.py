"""Writes into shared memory, against torch: in-place ops whose argument overlaps the tensor
written, writes into expanded views, and ``out=``. Each scenario ``fn(T)`` runs with ember and
with torch; the values it returns, the error it raises (type and message) and the warnings
it gives must be the same."""
from __future__ import annotations

import warnings

import pytest

import ember


def _expanded(T):
    return T.ones(1, 4).expand(3, 4)


# --- in-place ops whose argument shares the written memory -----------------------------
def add_a_row_of_itself(T):
    x = T.ones(3, 4)
    x.add_(x[0])
    return x


def add_itself(T):
    x = T.arange(12.).reshape(3, 4)
    x.add_(x)
    return x


def add_shifted_self(T):
    x = T.arange(6.)
    x[1:].add_(x[:-1])
    return x


def add_interleaved_columns(T):
    x = T.arange(12.).reshape(3, 4)
    x[:, 0].add_(x[:, 1])  # not dense: torch cannot tell, and computes
    return x


def add_own_transpose_of_square(T):
    x = T.arange(9.).reshape(3, 3)
    x.add_(x.t())
    return x


def transposes_in_the_same_layout(T):
    x = T.arange(6.).reshape(2, 3)
    x.t().add_(x.t())
    return x


def copy_disjoint_halves(T):
    x = T.arange(6.)
    x[:3].copy_(x[3:])
    return x


def copy_shifted_self(T):
    x = T.arange(6.)
    x[1:].copy_(x[:-1])
    return x


def setitem_shifted_self(T):
    x = T.arange(6.)
    x[1:] = x[:-1]
    return x


def mul_by_an_element_of_itself(T):
    x = T.arange(1., 7.)
    x[1:].mul_(x[0])  # a 0-d argument is read as a number first
    return x


def recorded_add_of_a_row_of_itself(T):
    w = T.ones(3, 4, requires_grad=True)
    x = w * 2
    x.add_(x[1])
    return x


# --- writes into expanded views --------------------------------------------------------
def fill_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4).fill_(2.)
    return a


def zero_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4).zero_()
    return a


def setitem_a_row_of_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4)[0] = 5.
    return a


def setitem_an_element_of_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4)[0, 1] = 5.
    return a


def setitem_a_column_of_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4)[:, 1] = 5.
    return a


def setitem_all_of_expanded(T):
    e = _expanded(T)
    e[...] = 3.
    return e


def setitem_tensor_into_a_row(T):
    a = T.ones(1, 4)
    a.expand(3, 4)[0, :] = T.arange(4.)
    return a


def iadd_a_row_of_expanded(T):
    a = T.ones(1, 4)
    e = a.expand(3, 4)
    e[1] += 1
    return a


def add_into_expanded(T):
    _expanded(T).add_(1)


def copy_into_expanded(T):
    _expanded(T).copy_(T.ones(3, 4))


def exp_into_expanded(T):
    _expanded(T).exp_()


def clamp_expanded(T):
    _expanded(T).clamp_(0, 0.5)


def normal_expanded(T):
    _expanded(T).normal_()


def masked_fill_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4).masked_fill_(T.ones(3, 4).bool(), 2.)
    return a


def index_put_expanded(T):
    a = T.ones(1, 4)
    a.expand(3, 4)[T.tensor([0, 1])] = 5.
    return a


def select_of_transposed_expanded(T):
    e = T.ones(4).expand(3, 4)
    e.t()[0] = 2.


def recorded_setitem_through_expanded(T):
    w = T.ones(1, 4, requires_grad=True)
    a = w * 1
    a.expand(3, 4)[1] = 5.
    (a * w).sum().backward()
    return a, w.grad


def recorded_setitem_of_a_tensor_through_expanded(T):
    w = T.ones(4, requires_grad=True)
    a = (w * 1).reshape(1, 4)
    a.expand(3, 4)[1] = w * 3
    (a * 2).sum().backward()
    return a, w.grad


# --- out= -------------------------------------------------------------------------------
def add_out_into_a_view(T):
    x = T.arange(6.)
    r = T.add(x[3:], x[:3], out=x[:3])
    return x, r


def add_out_overlapping_an_input(T):
    x = T.arange(6.)
    T.add(x[1:], x[:-1], out=x[:-1])


def exp_out_overlapping_its_input(T):
    x = T.arange(6.)
    T.exp(x[1:], out=x[:-1])


def add_out_resized(T):
    x = T.zeros(2)
    r = T.add(T.ones(3), 1, out=x)
    return x, r


def add_out_keeps_the_out_dtype(T):
    x = T.zeros(3, dtype=T.float64)
    T.add(T.ones(3), 1, out=x)
    return x


def add_out_float_into_int(T):
    T.add(T.ones(3), 1, out=T.zeros(3, dtype=T.int64))


def mul_out_with_grad(T):
    T.mul(T.ones(3, requires_grad=True), 2, out=T.zeros(3))


def add_out_requiring_grad(T):
    T.add(T.ones(3), 1, out=T.zeros(3, requires_grad=True))


def add_out_into_expanded(T):
    T.add(T.ones(2, 3), 1, out=T.zeros(1, 3).expand(2, 3))


def sub_and_div_out_into_views(T):
    x = T.ones(2, 3)
    T.sub(T.ones(3), 3, out=x[0])
    T.div(T.ones(3), 4, out=x[1])
    return x


def cat_out_into_a_view(T):
    x = T.zeros(2, 6)
    T.cat([T.ones(3), T.arange(3.)], out=x[1])
    return x


def stack_out_resized_in_place(T):
    x = T.zeros(2, 3)
    T.stack([T.ones(3)], out=x[0])
    return x


def matmul_out_into_a_block(T):
    x = T.zeros(4, 4)
    T.matmul(T.ones(2, 3), T.arange(6.).reshape(3, 2), out=x[:2, 1:3])
    return x


def zeros_and_ones_out(T):
    x = T.full((3,), 7, dtype=T.int64)
    T.ones(2, out=x)
    y = T.ones(4)
    T.zeros(2, 2, out=y)
    return x, y


def empty_out_resizes_silently(T):
    x = T.zeros(2)
    T.empty(3, out=x)
    return x.shape


def ones_out_dtype_mismatch(T):
    T.ones(3, dtype=T.float64, out=T.zeros(3))


def ones_out_requiring_grad(T):
    T.ones(3, out=T.zeros(3, requires_grad=True))


def normalize_out(T):
    x = T.zeros(2, 3)
    T.nn.functional.normalize(T.arange(6.).reshape(2, 3), out=x)
    return x


CASES = [v for k, v in list(globals().items()) if callable(v) and not k.startswith("_")
         and getattr(v, "__module__", None) == __name__ and not k.startswith("test")]


def _outcome(T, fn):
    """(values or (error type, message), warning messages) of ``fn`` run with ``T``."""
    T.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(T)
        except Exception as e:  # noqa: BLE001 - the error is what we compare
            result = (type(e).__name__, str(e))
    messages = sorted(str(w.message).split(" (Triggered internally")[0] for w in caught)
    return result, messages


def _plain(value):
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, str):
        return (str(value.dtype).split(".")[-1], value.tolist())
    if value is not None and type(value).__name__ == "Size":
        return tuple(value)
    return value


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_same_values_errors_and_warnings_as_torch(fn, torch):
    """Values (with dtypes), errors and warnings match torch's."""
    mine, my_warnings = _outcome(ember, fn)
    theirs, their_warnings = _outcome(torch, fn)
    assert _plain(mine) == _plain(theirs)
    assert my_warnings == their_warnings
