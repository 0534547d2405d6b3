"""ember's ops against torch: values, dtypes, gradients, type promotion and error types.

Every row of ``tests/ops/op_table.py`` runs in float32 on the same inputs in both libraries;
the gradients compared are those of a random weighted sum of the outputs. Skipped without
torch.
"""
from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from tests.helpers import assert_close, make_inputs, to_numpy
from tests.ops.op_table import OPS, F
from tests.ops.test_errors import ERRORS

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _dtype_name(t):
    """'float32' for ember.float32 and torch.float32 alike."""
    return str(t.dtype).rsplit(".", 1)[-1]


def _run_both(case, torch, dtype=np.float32):
    inputs = make_inputs(case, dtype=dtype, seed=1)
    t_inputs = [torch.tensor(to_numpy(x), requires_grad=True) for x in inputs]
    return inputs, t_inputs, _outputs(case.fn(*inputs)), _outputs(case.torch_fn(*t_inputs))


ORACLE_OPS = [c for c in OPS if c.torch_fn is not None]


@pytest.mark.parametrize("case", ORACLE_OPS, ids=lambda c: c.name)
def test_forward_matches_torch(case, torch):
    _, _, outs, t_outs = _run_both(case, torch)
    assert len(outs) == len(t_outs), f"{case.name}: {len(outs)} outputs, torch {len(t_outs)}"
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert _dtype_name(o) == _dtype_name(t), f"{case.name} output {k}: dtype"
        assert tuple(o.shape) == tuple(t.shape), f"{case.name} output {k}: shape"
        assert o.requires_grad == t.requires_grad, f"{case.name} output {k}: requires_grad"
        assert_close(o, t, rtol=case.rtol, atol=case.atol, msg=f"{case.name} output {k}")


@pytest.mark.parametrize("case", ORACLE_OPS, ids=lambda c: c.name)
def test_float64_forward_matches_torch(case, torch):
    # catches float32 constants or casts that silently lower float64 results
    _, _, outs, t_outs = _run_both(case, torch, np.float64)
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        assert _dtype_name(o) == _dtype_name(t), f"{case.name} output {k}: dtype"
        # atol allows gelu's erf fallback (absolute error 1.5e-7) when SciPy is missing
        assert_close(o, t, rtol=1e-7, atol=1e-6, msg=f"{case.name} output {k}")


@pytest.mark.parametrize("case", [c for c in ORACLE_OPS if c.torch_grad], ids=lambda c: c.name)
def test_gradients_match_torch(case, torch):
    inputs, t_inputs, outs, t_outs = _run_both(case, torch)
    rng = np.random.default_rng(2)
    loss, t_loss = 0, 0
    for o, t in zip(outs, t_outs):
        if t.requires_grad:
            w = rng.standard_normal(tuple(t.shape)).astype(np.float32)
            loss = loss + (o * ember.tensor(w)).sum()
            t_loss = t_loss + (t * torch.tensor(w)).sum()
    loss.backward()
    t_loss.backward()
    for i, (x, tx) in enumerate(zip(inputs, t_inputs)):
        if tx.grad is None:
            assert x.grad is None or not to_numpy(x.grad).any(), f"{case.name} input {i}"
            continue
        assert x.grad is not None, f"{case.name}: no gradient for input {i}"
        assert _dtype_name(x.grad) == _dtype_name(tx.grad)
        assert_close(x.grad, tx.grad, rtol=max(case.rtol, 1e-5), atol=max(case.atol, 1e-5),
                     msg=f"{case.name} grad of input {i}")


# --- dtype promotion ---------------------------------------------------------------------
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "rdiv": lambda m, a, b: b / a,
    "eq": lambda m, a, b: a == b,
    "lt": lambda m, a, b: a < b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "where": lambda m, a, b: m.where(m.tensor([True, False, True, False]), a, b),
}
SCALARS = [2, -3, 2.5, True]


def _values(m, dtype, shape=(4,)):
    v = np.array([1, 2, 3, 1][:math.prod(shape) or 1]).reshape(shape)
    return m.tensor(v.astype(bool) if dtype == "bool" else v, dtype=getattr(m, dtype))


def _compare(f, mismatches, label):
    """Run ``f(m)`` in both libraries: same exception type, or same dtype and values."""
    import torch

    try:
        expected = f(torch)
    except Exception as e:  # torch refuses: ember must refuse with the same type
        try:
            f(ember)
        except type(e):
            return
        except Exception as e2:  # noqa: BLE001
            mismatches.append(f"{label}: torch {type(e).__name__}, ember {type(e2).__name__}")
            return
        mismatches.append(f"{label}: torch raises {type(e).__name__}, ember does not")
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            got = f(ember)
    except Exception as e:  # noqa: BLE001
        mismatches.append(f"{label}: ember raises {type(e).__name__}: {e}")
        return
    if _dtype_name(got) != _dtype_name(expected):
        mismatches.append(f"{label}: dtype {_dtype_name(got)}, torch {_dtype_name(expected)}")
        return
    try:
        assert_close(got, expected.float() if expected.dtype == torch.bfloat16 else expected,
                     rtol=1e-3, atol=1e-3)
    except AssertionError as e:
        mismatches.append(f"{label}: {e}")


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("other", ["tensor", "0d_tensor"])
def test_binary_dtype_promotion_matches_torch(op, other, torch):
    f = BINARY[op]
    mismatches = []
    for da, db in itertools.product(DTYPES, DTYPES):
        shape_b = (4,) if other == "tensor" else ()
        _compare(lambda m, da=da, db=db, sb=shape_b: f(m, _values(m, da), _values(m, db, sb)),
                 mismatches, f"{da} {op} {db}{' 0-d' if shape_b == () else ''}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "rdiv", "eq", "lt", "pow", "rpow"])
def test_scalar_dtype_promotion_matches_torch(op, torch):
    fns = dict(BINARY, pow=lambda m, a, b: a ** b, rpow=lambda m, a, b: b ** a)
    f = fns[op]
    mismatches = []
    for d, s in itertools.product(DTYPES, SCALARS):
        _compare(lambda m, d=d, s=s: f(m, _values(m, d), s), mismatches, f"{d} {op} {s!r}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("zero_d", [False, True])
def test_result_type_matches_torch(zero_d, torch):
    mismatches = []
    for da, db in itertools.product(DTYPES, DTYPES):
        a, b = _values(ember, da), _values(ember, db, () if zero_d else (4,))
        ta, tb = _values(torch, da), _values(torch, db, () if zero_d else (4,))
        got, want = ember.result_type(a, b), torch.result_type(ta, tb)
        if got.name != _dtype_name(ember.empty(0, dtype=got)) or got.name != str(want)[6:]:
            mismatches.append(f"{da}, {db}: {got.name} vs {want}")
    for da, s in itertools.product(DTYPES, SCALARS):
        got = ember.result_type(_values(ember, da), s)
        want = torch.result_type(_values(torch, da), s)
        if got.name != str(want)[6:]:
            mismatches.append(f"{da}, {s!r}: {got.name} vs {want}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("label, f", [
    ("int_tensor_div_int_tensor", lambda m: m.tensor([1, 2]) / m.tensor([2, 4])),
    ("int_tensor_times_float", lambda m: m.tensor([1, 2]) * 2.5),
    ("float32_times_float64_0d", lambda m: m.ones(2) * m.tensor(2.0, dtype=m.float64)),
    ("int32_plus_int64_0d", lambda m: m.ones(2, dtype=m.int32) + m.tensor(3)),
    ("int_tensor_times_float64_0d", lambda m: m.tensor([1, 2]) * m.tensor(2.5, dtype=m.float64)),
    ("float16_plus_float", lambda m: m.ones(2, dtype=m.float16) + 2.5),
    ("bool_plus_int", lambda m: m.tensor([True, False]) + 2),
    ("uint8_plus_negative_int", lambda m: m.tensor([1, 5], dtype=m.uint8) + (-3)),
    ("int8_times_big_int", lambda m: m.tensor([1, 2], dtype=m.int8) * 300),
    ("int_pow_float", lambda m: m.tensor([1, 4]) ** 0.5),
    ("float_base_int_exponent", lambda m: 2.5 ** m.tensor([1, 2])),
    ("int_base_int_exponent", lambda m: 2 ** m.tensor([1, 2])),
    ("int_floor_divide", lambda m: m.tensor([-7, 7]) // 2),
    ("int_remainder", lambda m: m.tensor([-7, 7]) % 3),
    ("float_remainder", lambda m: m.tensor([-7.5, 7.5]) % 2),
    ("fmod", lambda m: m.fmod(m.tensor([-7.5, 7.5]), 2)),
    ("div_floor", lambda m: m.div(m.tensor([-7, 7]), 2, rounding_mode="floor")),
    ("div_trunc", lambda m: m.div(m.tensor([-7.0, 7.0]), 2, rounding_mode="trunc")),
    ("exp_of_int", lambda m: m.exp(m.tensor([0, 1]))),
    ("sqrt_of_int", lambda m: m.tensor([4, 9]).sqrt()),
    ("sigmoid_of_int", lambda m: m.sigmoid(m.tensor([0, 1]))),
    ("abs_of_int", lambda m: m.tensor([-3, 2]).abs()),
    ("neg_of_int", lambda m: -m.tensor([-3, 2], dtype=m.int32)),
    ("clamp_int_int_bounds", lambda m: m.tensor([-3, 2, 9]).clamp(0, 5)),
    ("clamp_int_float_bound", lambda m: m.tensor([-3, 2, 9]).clamp(min=0.5)),
    ("where_int_and_float_scalar", lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]),
                                                     2.5)),
    ("maximum_int_float", lambda m: m.maximum(m.tensor([1, 5]), m.tensor([2.5, 0.5]))),
    ("cat_int_float", lambda m: m.cat([m.tensor([1, 2]), m.tensor([2.5])])),
    ("stack_int32_int64", lambda m: m.stack([m.ones(2, dtype=m.int32), m.ones(2, dtype=m.int64)])),
    ("sum_int32", lambda m: m.ones(3, dtype=m.int32).sum()),
    ("sum_bool", lambda m: m.tensor([True, True, False]).sum()),
    ("sum_uint8_dim", lambda m: m.ones(2, 3, dtype=m.uint8).sum(1)),
    ("sum_dtype_arg", lambda m: m.ones(3, dtype=m.int32).sum(dtype=m.float64)),
    ("prod_int32", lambda m: m.tensor([2, 3], dtype=m.int32).prod()),
    ("prod_uint8", lambda m: m.tensor([2, 3], dtype=m.uint8).prod()),
    ("prod_bool", lambda m: m.tensor([True, True]).prod()),
    ("cumsum_int32", lambda m: m.ones(3, dtype=m.int32).cumsum(0)),
    ("cumsum_bool", lambda m: m.tensor([True, True]).cumsum(0)),
    ("cumsum_uint8", lambda m: m.tensor([200, 100], dtype=m.uint8).cumsum(0)),
    ("cumsum_dtype_arg_int32", lambda m: m.tensor([1.5, 2.5]).cumsum(0, dtype=m.int32)),
    ("tril_indices_int32", lambda m: m.tril_indices(3, 4, 1, dtype=m.int32)),
    ("triu_indices_default", lambda m: m.triu_indices(4, 3, -1)),
    ("cumprod_int32", lambda m: m.tensor([2, 3, 4], dtype=m.int32).cumprod(0)),
    ("cumprod_uint8", lambda m: m.tensor([20, 30], dtype=m.uint8).cumprod(0)),
    ("cumprod_bool", lambda m: m.tensor([True, False, True]).cumprod(0)),
    ("cumprod_dtype_arg", lambda m: m.cumprod(m.tensor([1.5, 2.0]), 0, dtype=m.float64)),
    ("cumprod_int8_dtype_arg", lambda m: m.tensor([100, 3], dtype=m.int8).cumprod(
        0, dtype=m.int8)),
    ("mean_float64", lambda m: m.ones(3, dtype=m.float64).mean()),
    ("max_int", lambda m: m.tensor([3, 7, 1]).max()),
    ("max_int_dim", lambda m: m.tensor([[3, 7], [1, 0]]).max(dim=1)),
    ("amax_int", lambda m: m.tensor([[3, 7], [1, 0]]).amax(0)),
    ("logsumexp_int", lambda m: m.logsumexp(m.tensor([1, 2]), 0)),
    ("softmax_dtype_arg", lambda m: m.softmax(m.tensor([1, 2]), 0, dtype=m.float64)),
    ("masked_fill_int_with_float", lambda m: m.tensor([1, 2]).masked_fill(
        m.tensor([True, False]), 3.7)),
    ("float64_to_float32_mean", lambda m: m.ones(2, dtype=m.float64).float().mean()),
])
def test_dtype_rules_match_torch(label, f, torch):
    mismatches = []
    _compare(lambda m: _outputs(f(m))[0], mismatches, label)
    _compare(lambda m: _outputs(f(m))[-1], mismatches, label + " (last output)")
    assert not mismatches, "\n".join(mismatches)


# --- non-differentiable ops ----------------------------------------------------------------
X = np.array([[0.5, -1.5, 2.5, 0.0], [-0.5, 1.5, 2.5, -2.5], [3.0, 0.0, -0.25, 1.0]],
             np.float32)
I = np.array([[1, 0, 3], [2, 2, 0]])  # noqa: E741


def _x(m):
    return m.tensor(X)


NONDIFF = {
    "eq": lambda m: _x(m) == m.tensor(X[0]),
    "ne_scalar": lambda m: _x(m) != 0,
    "lt_broadcast": lambda m: _x(m) < m.tensor(X[:, :1]),
    "le_scalar_float": lambda m: m.tensor(I) <= 1.5,
    "gt_int_float": lambda m: m.tensor(I[0]) > m.tensor([0.5, 0.5, 3.5]),
    "ge_0d": lambda m: _x(m) >= m.tensor(0.5),
    "eq_method": lambda m: _x(m).eq(2.5),
    "logical_and": lambda m: m.logical_and(_x(m), m.tensor(X[0] > 0)),
    "logical_or_int": lambda m: m.logical_or(m.tensor(I), m.tensor(I[::-1].copy())),
    "logical_xor": lambda m: m.logical_xor(_x(m) > 0, _x(m) < 1),
    "logical_not": lambda m: m.logical_not(_x(m)),
    "bitwise_and_bool": lambda m: (_x(m) > 0) & (_x(m) < 2),
    "invert_bool": lambda m: ~(_x(m) > 0),
    "all": lambda m: m.all(_x(m)),
    "all_dim": lambda m: (_x(m) != 0).all(dim=1),
    "any_dim_keepdim": lambda m: m.any(_x(m) > 2, dim=0, keepdim=True),
    "any_float": lambda m: _x(m).any(),
    "all_uint8": lambda m: m.tensor(I, dtype=m.uint8).all(),
    "argmax": lambda m: _x(m).argmax(),
    "argmax_dim": lambda m: m.argmax(_x(m), dim=1),
    "argmin_dim_keepdim": lambda m: _x(m).argmin(dim=0, keepdim=True),
    "argmax_ties_first": lambda m: m.tensor([1.0, 3.0, 3.0, 0.0]).argmax(),
    "argmin_int": lambda m: m.tensor(I).argmin(1),
    "one_hot": lambda m: F(m).one_hot(m.tensor([0, 2, 1])),
    "one_hot_num_classes_2d": lambda m: F(m).one_hot(m.tensor(I), num_classes=5),
    "nonzero": lambda m: m.nonzero(_x(m)),
    "nonzero_as_tuple": lambda m: m.nonzero(m.tensor(I), as_tuple=True)[1],
    "floor": lambda m: m.floor(_x(m)),
    "ceil": lambda m: _x(m).ceil(),
    "round_half_even": lambda m: m.round(m.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.49])),
    "round_decimals": lambda m: m.round(m.tensor([1.234, -5.678]), decimals=1),
    "trunc": lambda m: m.trunc(_x(m)),
    "sign": lambda m: m.sign(_x(m)),
    "floor_int": lambda m: m.floor(m.tensor(I)),
    "isnan_isinf": lambda m: m.isnan(m.tensor([1.0, float("nan")])) | m.isinf(
        m.tensor([float("inf"), 0.0])),
    "sort_indices": lambda m: _x(m).sort(dim=1).indices,
    "sort_stable_ties": lambda m: m.sort(m.tensor([2.0, 1.0, 2.0, 1.0]), stable=True).indices,
    "argsort_descending": lambda m: m.argsort(_x(m), dim=0, descending=True),
    "topk_indices": lambda m: m.topk(m.tensor(X[1]), 2).indices,
    "max_dim_indices": lambda m: _x(m).max(dim=0).indices,
    "gather_int": lambda m: m.tensor(I).gather(1, m.tensor([[0, 0], [2, 1]])),
    "index_int_tensor_with_mask": lambda m: m.tensor(I)[m.tensor(I) > 0],
    "cumsum_int": lambda m: m.tensor(I).cumsum(1),
    "tril_int": lambda m: m.tril(m.tensor(I)),
    "count_nonzero": lambda m: m.count_nonzero(_x(m), dim=0),
    "isclose": lambda m: m.isclose(_x(m), _x(m) + 1e-7),
}


@pytest.mark.parametrize("name", sorted(NONDIFF))
def test_non_differentiable_op_matches_torch(name, torch):
    mismatches = []
    _compare(NONDIFF[name], mismatches, name)
    assert not mismatches, "\n".join(mismatches)


def test_comparisons_never_require_grad(torch):
    x = ember.tensor(X, requires_grad=True)
    for out in (x > 0, x == x, x.argmax(), x.sort().indices, x.max(dim=0).indices):
        assert not out.requires_grad and out.grad_fn is None


# --- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c.name)
def test_error_type_and_wording_match_torch(case, torch):
    with pytest.raises(Exception) as t_info:
        case.f(torch)
    with pytest.raises(Exception) as e_info:
        case.f(ember)
    t_exc, e_exc = t_info.value, e_info.value
    assert isinstance(e_exc, type(t_exc)) or type(e_exc).__name__ == type(t_exc).__name__, (
        f"torch raises {type(t_exc).__name__}: {t_exc}\nember raises "
        f"{type(e_exc).__name__}: {e_exc}")
    assert re.search(case.match, str(t_exc)), f"torch's wording changed: {t_exc}"


# --- property-based: random broadcast shapes and reduction dims ------------------------------
_FAST = settings(max_examples=25, deadline=None, derandomize=True)
BROADCAST_OPS = {
    "add": lambda m, a, b: m.add(a, b, alpha=0.5),
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1),
    "pow": lambda m, a, b: (a * a + 0.5) ** b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "where": lambda m, a, b: m.where(a > b, a, b),
}


def _check_against_torch(f, arrays):
    import torch

    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = f(ember, *xs), f(torch, *ts)
    assert_close(out, t_out, rtol=1e-5, atol=1e-5)
    w = np.random.default_rng(0).standard_normal(tuple(t_out.shape)).astype(np.float32)
    (out * ember.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert_close(x.grad, t.grad, rtol=1e-4, atol=1e-5, msg=f"grad of input {i}")


@pytest.mark.parametrize("op", sorted(BROADCAST_OPS))
@_FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcast_gradients_match_torch(op, shapes, seed, torch):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, s).astype(np.float32) for s in shapes.input_shapes]
    _check_against_torch(BROADCAST_OPS[op], arrays)


@_FAST
@given(batch=mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3),
       n=st.integers(1, 3), k=st.integers(1, 3), p=st.integers(1, 3),
       vec=st.sampled_from(["none", "left", "right"]))
def test_matmul_shapes_match_torch(batch, n, k, p, vec, torch):
    rng = np.random.default_rng(n * 100 + k * 10 + p)
    a_shape = (k,) if vec == "left" else batch.input_shapes[0] + (n, k)
    b_shape = (k,) if vec == "right" else batch.input_shapes[1] + (k, p)
    arrays = [rng.standard_normal(a_shape).astype(np.float32),
              rng.standard_normal(b_shape).astype(np.float32)]
    _check_against_torch(lambda m, a, b: a @ b, arrays)


REDUCTIONS = {
    "sum": lambda m, a, d, k: a.sum(dim=d, keepdim=k),
    "mean": lambda m, a, d, k: a.mean(dim=d, keepdim=k),
    "var": lambda m, a, d, k: a.var(dim=d, keepdim=k, correction=0),
    "amax": lambda m, a, d, k: a.amax(dim=d, keepdim=k),
    "logsumexp": lambda m, a, d, k: m.logsumexp(a, dim=d, keepdim=k),
}


@pytest.mark.parametrize("op", sorted(REDUCTIONS))
@_FAST
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=4), data=st.data())
def test_reduction_dims_match_torch(op, shape, data, torch):
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                              max_size=len(shape), unique_by=lambda d: d % len(shape)))
    keepdim = data.draw(st.booleans())
    a = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    _check_against_torch(lambda m, x: REDUCTIONS[op](m, x, tuple(dims), keepdim), [a])
