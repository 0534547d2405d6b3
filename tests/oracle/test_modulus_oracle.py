"""remainder and fmod as torch's kernels: exact for large quotients (1e10 % 3 is 1), the
divisor's or the dividend's sign, infinities and NaN, integer and mixed dtypes, node names
and gradients (-floor or -trunc of the quotient for the divisor, nothing for a number %
tensor); alpha and out-of-range Python ints in add/sub wrap or raise as torch."""
import warnings

import numpy as np
import pytest

import ember

A = [0.0, -0.0, 6.0, -6.0, 5.5, -3.2, 1e10, 7.0, 1.5, -0.5, float("nan"), float("inf")]
B = [-2.0, 2.0, -3.0, 3.0, 2.0, 1.5, 3.0, float("inf"), -float("inf"), float("inf"), 1.0, 2.0]


def _call(lib, fn, case):
    f = getattr(lib, fn)
    x, y = lib.tensor(A), lib.tensor(B)
    xi, yi = lib.tensor([7, -7, 0, 250]), lib.tensor([3, 3, -2, -7])
    calls = {
        "tensors": lambda: f(x, y), "float64": lambda: f(x.double(), y.double()),
        "scalar divisor": lambda: f(x, 3.0), "negative divisor": lambda: f(x, -2.5),
        "number dividend": lambda: f(1e10, y), "ints": lambda: f(xi, yi),
        "int by negative": lambda: f(xi, -3), "int by float": lambda: f(xi, 2.5),
        "number by ints": lambda: f(10, yi), "uint8": lambda: f(lib.tensor([3, 250],
                                                                        dtype=lib.uint8), 7),
        "uint8 by negative": lambda: f(lib.tensor([3, 250], dtype=lib.uint8), -2),
        "bool": lambda: f(lib.tensor([True, False]), 2),
        "float16": lambda: f(lib.tensor([1.5, -2.5], dtype=lib.float16), 1.0),
        "operator": lambda: (x % 2, 7 % x), "in place": lambda: getattr(x.clone(), fn + "_")(2.0),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = calls[case]()
    except Exception as e:  # noqa: BLE001  (the exception is what is compared)
        return type(e).__name__, str(e).splitlines()[0]
    rs = r if isinstance(r, tuple) else (r,)
    return [(str(t.dtype).split(".")[-1], np.asarray(t.tolist(), dtype=float)) for t in rs]


CASES = ["tensors", "float64", "scalar divisor", "negative divisor", "number dividend", "ints",
         "int by negative", "int by float", "number by ints", "uint8", "uint8 by negative",
         "bool", "float16", "operator", "in place"]


@pytest.mark.parametrize("fn", ["remainder", "fmod"])
@pytest.mark.parametrize("case", CASES)
def test_values_and_dtypes_match_torch(torch, fn, case):
    ours, theirs = _call(ember, fn, case), _call(torch, fn, case)
    if isinstance(theirs, tuple):
        assert ours == theirs
        return
    assert [d for d, _ in ours] == [d for d, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def _grads(lib, fn):
    f = getattr(lib, fn)
    x = lib.tensor([5.5, -3.2, 4.0], requires_grad=True)
    y = lib.tensor([[2.0], [-1.5]], requires_grad=True)
    r = f(x, y)
    gx, gy = lib.autograd.grad((r * lib.arange(6.0).reshape(2, 3)).sum(), (x, y))
    s = f(x, 2.0)
    (gs,) = lib.autograd.grad(s.sum(), x)
    out = [r.grad_fn.name(), s.grad_fn.name(), gx.tolist(), gy.tolist(), gs.tolist()]
    if fn == "remainder":
        z = lib.tensor([5.5, -3.2], requires_grad=True)
        try:
            f(7.0, z).sum().backward()
        except RuntimeError as e:
            out.append(str(e))
    return out


@pytest.mark.parametrize("fn", ["remainder", "fmod"])
def test_gradients_and_node_names_match_torch(torch, fn):
    assert _grads(ember, fn) == _grads(torch, fn)


@pytest.mark.parametrize("fn", ["remainder", "fmod"])
def test_gradients_pass_gradcheck(fn):
    f = getattr(ember, fn)
    x = ember.tensor([5.5, -3.2, 4.1], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([[2.3], [-1.5]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(f, (x, y))
    assert ember.autograd.gradgradcheck(f, (x, y))
    assert ember.autograd.gradcheck(lambda a: f(a, 2.5), (x,))


def test_fmod_of_a_number_is_refused_as_torch(torch):
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="fmod\\(\\) received an invalid combination"):
            lib.fmod(7.0, lib.ones(2))


def _integer_alpha(lib):
    out = []
    t = lib.tensor([3, 250], dtype=lib.uint8)
    calls = [lambda: t.clone().add_(-2), lambda: t.clone().sub_(-2), lambda: t.clone().mul_(-2),
             lambda: t.clone().add_(300), lambda: t.clone().add_(-2, alpha=3),
             lambda: lib.add(t, -2, alpha=3), lambda: lib.sub(t, 100, alpha=5),
             lambda: t.clone().sub_(t, alpha=300), lambda: lib.tensor([3, -100],
                                                                       dtype=lib.int8).add_(200)]
    for dtype, alpha in [("uint8", 300), ("int8", 300), ("int16", 70000), ("int32", 2**40),
                         ("int64", 2**70), ("uint8", -1), ("uint8", -255), ("uint8", -256),
                         ("int8", -128), ("int8", -129)]:
        ones = lib.ones(2, dtype=getattr(lib, dtype))
        calls += [lambda o=ones, a=alpha: lib.add(o, o, alpha=a),
                  lambda o=ones, a=alpha: o.clone().sub_(o, alpha=a),
                  lambda o=ones, a=alpha: lib.add(o, 2, alpha=a)]
    for call in calls:
        try:
            out.append(call().tolist())
        except Exception as e:  # noqa: BLE001  (the exception is what is compared)
            out.append((type(e).__name__, str(e)))
    return out


def test_integer_wrapping_and_alpha_checks_match_torch(torch):
    assert _integer_alpha(ember) == _integer_alpha(torch)


def test_complex_exponent_gives_a_complex_power(torch):
    for lib in (ember, torch):
        x = lib.tensor([1.5, -2.0])
        r = lib.pow(x, 1 + 2j)
        assert str(r.dtype).endswith("complex64")
    np.testing.assert_allclose(ember.pow(ember.tensor([1.5, -2.0]), 1 + 2j).numpy(),
                               torch.pow(torch.tensor([1.5, -2.0]), 1 + 2j).numpy(), rtol=1e-6)
