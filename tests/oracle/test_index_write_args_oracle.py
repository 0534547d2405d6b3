"""scatter, index_add, index_copy and movedim with arguments torch refuses (an index larger
than src or self, sources of the wrong shape or rank, repeated dims) and with 0-d tensors:
each call compared with torch, the same result or the same exception type and first line."""
import warnings

import numpy as np
import pytest

import ember


def _ix(lib, v):
    return lib.tensor(v)


CALLS = {
    "scatter value index too big": lambda m, x: x.scatter(1, _ix(m, [[0]] * 4), 1.0),
    "scatter src index too big": lambda m, x: x.scatter(1, _ix(m, [[0]] * 4), m.ones(4, 1)),
    "scatter_add index too big": lambda m, x: x.scatter_add(1, _ix(m, [[0]] * 4), m.ones(4, 1)),
    "gather index too big": lambda m, x: x.gather(1, _ix(m, [[0]] * 4)),
    "scatter 1-d src": lambda m, x: x.scatter(1, _ix(m, [[0, 1]]), m.ones(1)),
    "scatter_add 1-d src": lambda m, x: x.scatter_add(1, _ix(m, [[0, 1]]), m.ones(1)),
    "scatter 3-d src": lambda m, x: x.scatter(1, _ix(m, [[0, 1]]), m.ones(1, 1, 1)),
    "scatter src smaller": lambda m, x: x.scatter(0, _ix(m, [[0, 1]]), m.ones(1, 1)),
    "scatter add src smaller": lambda m, x: x.scatter(0, _ix(m, [[0, 1]]), m.ones(1, 1),
                                                      reduce="add"),
    "scatter src larger": lambda m, x: x.scatter(0, _ix(m, [[0, 1]]), m.ones(2, 3)),
    "scatter_add src larger": lambda m, x: x.scatter_add(0, _ix(m, [[2, 1]]), m.ones(2, 3)),
    "scatter index longer on dim": lambda m, x: x.scatter(0, _ix(m, [[2], [1], [0], [1]]), 5.0),
    "scatter_reduce src smaller": lambda m, x: x.scatter_reduce(0, _ix(m, [[0, 1]]),
                                                                m.ones(1, 1), "sum"),
    "scatter 0-d": lambda m, x: m.tensor(1.0).scatter(0, _ix(m, 0), m.tensor(5.0)),
    "scatter 0-d value": lambda m, x: m.tensor(1.0).scatter(0, _ix(m, 0), 3.0),
    "scatter 0-d multiply": lambda m, x: m.tensor(2.0).scatter(0, _ix(m, 0), m.tensor(5.0),
                                                               reduce="multiply"),
    "scatter_add 0-d": lambda m, x: m.tensor(1.0).scatter_add(0, _ix(m, 0), m.tensor(5.0)),
    "scatter 1-d from 0-d src": lambda m, x: m.ones(3).scatter(0, _ix(m, [1]), m.tensor(5.0)),
    # a 0-d index into a vector (the transforms tutorial's one-hot ``scatter_``)
    "scatter_ 0-d index value": lambda m, x: m.zeros(10).scatter_(0, _ix(m, 7), value=1),
    "scatter 0-d index src": lambda m, x: m.arange(5.0).scatter(0, _ix(m, 3), m.tensor([9., 8])),
    "scatter 0-d index 0-d src": lambda m, x: m.arange(5.0).scatter(-1, _ix(m, 3), m.tensor(9.)),
    "scatter 0-d index add": lambda m, x: m.arange(5.0).scatter(0, _ix(m, 3), 5.0, reduce="add"),
    "scatter 0-d index multiply": lambda m, x: m.arange(5.0).scatter(0, _ix(m, 3), 5.0,
                                                                     reduce="multiply"),
    "scatter_add 0-d index": lambda m, x: m.arange(5.0).scatter_add(0, _ix(m, 3), m.tensor(9.)),
    "gather 0-d index": lambda m, x: m.arange(5.0).gather(0, _ix(m, 2)),
    "gather 0-d index out of range": lambda m, x: m.arange(5.0).gather(0, _ix(m, 5)),
    "scatter 0-d index into matrix": lambda m, x: x.scatter(0, _ix(m, 1), 1.0),
    "index_add slice shape": lambda m, x: x.index_add(0, _ix(m, [0]), m.ones(1, 3)),
    "index_add rank": lambda m, x: x.index_add(0, _ix(m, [0]), m.ones(4)),
    "index_add count": lambda m, x: x.index_add(0, _ix(m, [0, 1]), m.ones(1, 4)),
    "index_add 2-d index": lambda m, x: x.index_add(0, _ix(m, [[0]]), m.ones(1, 4)),
    "index_add dim 1": lambda m, x: x.index_add(1, _ix(m, [0, 0]), m.ones(3, 2), alpha=2),
    "index_add dim 1 wrong rows": lambda m, x: x.index_add(1, _ix(m, [0, 1]), m.ones(2, 2)),
    "index_add 0-d index": lambda m, x: x.index_add(0, _ix(m, 0), m.ones(1, 4)),
    "index_add 0-d source": lambda m, x: m.ones(3).index_add(0, _ix(m, [0]), m.tensor(2.0)),
    "index_add 0-d self": lambda m, x: m.tensor(1.0).index_add(0, _ix(m, [0]), m.tensor(2.0)),
    "index_copy slice shape": lambda m, x: x.index_copy(0, _ix(m, [0]), m.ones(1, 3)),
    "index_copy rank": lambda m, x: x.index_copy(0, _ix(m, [0]), m.ones(4)),
    "index_copy count": lambda m, x: x.index_copy(0, _ix(m, [0, 1]), m.ones(1, 4)),
    "index_copy dim 1": lambda m, x: x.index_copy(1, _ix(m, [0, 1]), m.ones(3, 2)),
    "index_copy dim 1 wrong rows": lambda m, x: x.index_copy(1, _ix(m, [0, 1]), m.ones(2, 2)),
    "index_copy 3-d slices": lambda m, x: m.zeros(2, 3, 4).index_copy(1, _ix(m, [0]),
                                                                      m.ones(2, 1, 5)),
    "index_copy int32 index": lambda m, x: x.index_copy(0, m.tensor([0], dtype=m.int32),
                                                        m.ones(1, 4)),
    "index_copy 2-d index": lambda m, x: x.index_copy(0, _ix(m, [[0]]), m.ones(1, 4)),
    "index_copy scalar source": lambda m, x: m.zeros(3).index_copy(0, _ix(m, [0, 1]),
                                                                   m.tensor(1.0)),
    "index_copy dtypes": lambda m, x: x.index_copy(0, _ix(m, [0]), m.ones(1, 4,
                                                                         dtype=m.float64)),
    "movedim repeated destination": lambda m, x: x.movedim((0, 1), (0, 0)),
    "movedim repeated source": lambda m, x: x.movedim((0, 0), (0, 1)),
    "movedim repeated after wrapping": lambda m, x: x.moveaxis((0, -2), (1, 0)),
    "movedim counts differ": lambda m, x: x.movedim((0,), (0, 1)),
    "movedim swap": lambda m, x: x.movedim((1, 0), (0, 1)),
    "movedim 3-d": lambda m, x: m.arange(24.0).reshape(2, 3, 4).movedim((0, 2), (2, 0)),
}


def _outcome(lib, call):
    x = lib.arange(12.0).reshape(3, 4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scatter's reduce= deprecation
            r = call(lib, x)
    except Exception as e:  # noqa: BLE001  (the exception is what is compared)
        return type(e).__name__, str(e).splitlines()[0]
    return "ok", tuple(r.shape), r.tolist()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_index_write_arguments_match_torch(torch, name):
    assert _outcome(ember, CALLS[name]) == _outcome(torch, CALLS[name])


def test_zero_dim_scatter_and_index_add_gradients():
    for write in (lambda t, s: t.scatter(0, ember.tensor(0), s),
                  lambda t, s: t.scatter_add(0, ember.tensor(0), s),
                  lambda t, s: t.index_add(0, ember.tensor([0]), s, alpha=3)):
        t = ember.tensor(1.5, dtype=ember.float64, requires_grad=True)
        s = ember.tensor(-2.0, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(write, (t, s))
        out = write(t, s)
        assert out.shape == () and np.isfinite(out.item())


def test_zero_dim_index_into_vector_gradients():
    idx = ember.tensor(2)
    for write in (lambda t, s: t.scatter(0, idx, s), lambda t, s: t.scatter_add(0, idx, s),
                  lambda t, s: t.gather(0, idx) * s):
        t = ember.tensor([1.5, -0.5, 2.0, 0.25], dtype=ember.float64, requires_grad=True)
        s = ember.tensor(-2.0, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(write, (t, s))
