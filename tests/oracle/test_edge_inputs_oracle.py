"""Edge inputs against torch: empty and 0-d tensors, NaN, bool and integer operands that a
method sweep found handled differently. Each case runs in both libraries and must agree on
the result (values, dtype, shape) or on the exception (type and message), and on the
warnings raised."""
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ember
from ember._numpy_warnings import silence_float_warnings_from_ember
from tests.oracle._bad_inputs import comparable

CASES = [
    # in-place ops on tensors without elements (no false "overlap" error)
    "lib.zeros(0, 3).exp_()", "lib.zeros(3, 0).add_(1)", "lib.zeros(0, 3).cumsum_(0)",
    "lib.zeros(3, 0).t().mul_(2)", "lib.zeros(0, 3).clamp_(0, 1)",
    # T / mT / H / mH by rank (their warnings, given once per process: test below)
    *[f"lib.zeros({shape}).{attr}" for shape in ("()", "(3,)", "(2, 3)", "(2, 3, 4)")
      for attr in ("T", "mT", "H", "mH")],
    # flip: 0-d accepts dim 0 and -1; bad and repeated dims
    "lib.tensor(2.0).flip(0)", "lib.tensor(2.0).flip(-1)", "lib.tensor(2.0).flip(1)",
    "lib.arange(6).reshape(2, 3).flip((0, -2))", "lib.arange(6).reshape(2, 3).flip((-1, 0))",
    "lib.arange(6).reshape(2, 3).flip(2)",
    # sign of NaN is 0; the shrink ops keep NaN and -0.0
    "lib.sign(lib.tensor([float('nan'), -0.0, 2.0, -3.0]))",
    "lib.sgn(lib.tensor([float('nan'), -0.0, 2.0]))",
    "lib.nn.functional.hardshrink(lib.tensor([float('nan'), -0.0, 0.3, -2.0]))",
    "lib.nn.functional.softshrink(lib.tensor([float('nan'), -0.0, 0.3, -2.0]))",
    "lib.nn.functional.softshrink(lib.tensor([float('nan'), -0.6, 0.2]), 0.25)",
    # data pointers of empty tensors
    "lib.zeros(0).data_ptr()", "lib.zeros(0, 3).const_data_ptr()",
    # factorizations and set ops of empty tensors
    "lib.linalg.lu_factor(lib.zeros(3, 0))", "lib.linalg.lu_factor(lib.zeros(2, 0, 3))",
    "lib.zeros(3, 0).unique_consecutive(dim=1)",
    "lib.zeros(3, 0).unique(dim=1, return_inverse=True, return_counts=True)",
    # integer division by zero, bool division
    "lib.tensor([3, -2, 0, 7]) // 0", "lib.tensor([3, -2, 0, 7]) % 0",
    "lib.fmod(lib.tensor([3, -2]), 0)", "lib.div(lib.tensor([3]), 0, rounding_mode='trunc')",
    "lib.remainder(lib.tensor([3, 4]), lib.tensor([1, 0]))", "5 // lib.tensor([0])",
    "lib.fmod(lib.tensor([3], dtype=lib.uint8), 0)", "lib.tensor([3, -2]) // 2",
    "lib.tensor([True]) // lib.tensor([True])", "lib.tensor([True]) % lib.tensor([True])",
    "lib.fmod(lib.tensor([True]), lib.tensor([True]))",
    "lib.div(lib.tensor([True]), lib.tensor([True]), rounding_mode='trunc')",
    "lib.tensor([3.0, -2.0]) % 0", "lib.tensor([3, -2]) / 0",
    # integer powers with negative exponents, bool powers
    "lib.tensor([3, 0, -2, 1, -1, -1, 2]) ** lib.tensor([-3, -1, -1, -5, -5, -4, 3])",
    "lib.tensor([3, 1], dtype=lib.uint8) ** lib.tensor([-1, -2])",
    "lib.tensor([True, False]) ** lib.tensor([-1, 2])", "lib.tensor([True]) ** lib.tensor([True])",
    "lib.tensor(2) ** lib.tensor([-1, -2])",
    # lerp: one dtype, broadcastable shapes, floating point only, tensors for input and end
    "lib.lerp(lib.ones(3), lib.ones(3, dtype=lib.float64), 0.5)",
    "lib.lerp(lib.ones(3), lib.ones(3), lib.ones(3, dtype=lib.float64))",
    "lib.lerp(lib.ones(3), lib.ones(3), lib.tensor(0.5, dtype=lib.float64))",
    "lib.lerp(lib.ones(3), lib.ones(2), 0.5)", "lib.lerp(lib.ones(3), lib.ones(3), lib.ones(2))",
    "lib.lerp(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64), 0.5)",
    "lib.lerp(lib.ones(2, 1), lib.ones(3), lib.ones(1, 3) * 0.25)",
    "lib.lerp(lib.ones(3), 5.0, 0.5)",
    # outer takes vectors; shapes are checked before dtypes; bool operands
    "lib.outer(lib.ones(3), lib.ones(2, 1))", "lib.outer(lib.ones(()), lib.ones(2))",
    "lib.floor_divide(lib.zeros(0), lib.zeros(3))", "lib.remainder(lib.zeros(0), lib.ones(3))",
    "lib.fmod(lib.zeros(0, dtype=lib.bool), lib.ones(3))",
    "lib.clamp(lib.zeros(0), lib.zeros(3), None)", "lib.special.xlog1py(lib.zeros(0), lib.ones(3))",
    "lib.hypot(lib.zeros(0, dtype=lib.bool), lib.ones(3, dtype=lib.bool))",
    "lib.tensor([True, False]) % lib.tensor([1.5, 2.0])", "lib.tensor([True, False]) % 2",
    "lib.fmod(lib.tensor([True, False]), lib.tensor(3))",
    "lib.dist(lib.tensor([True, False]), lib.ones(2))",
    "lib.dot(lib.tensor([True, False]), lib.tensor([True, True]))",
    # in-place results must cast back: integers of any width wrap, nothing else narrows
    "lib.tensor([True, False]).pow_(2)", "lib.tensor([True, False]).square_()",
    "lib.tensor([True, False]).add_(1)", "lib.ones(2, dtype=lib.uint8).sub_(lib.tensor([1, 2]))",
    "lib.ones(2, dtype=lib.uint8).add_(lib.tensor(300))",
    "lib.ones(2, dtype=lib.int8).mul_(lib.tensor([1000, 2]))", "lib.tensor([3, -2]).add_(1.5)",
    "lib.tensor([3, -2]).sqrt_()", "lib.tensor([True, False]).logical_not_()",
    # rounding ops: none for bool; decimals only for floating point
    *[f"lib.tensor([True, False]).{op}()" for op in ("ceil", "floor", "round", "trunc", "fix")],
    "lib.tensor([True]).floor_()", "lib.round(lib.tensor([35, 45]), decimals=-1)",
    "lib.round(lib.tensor([35, 45], dtype=lib.uint8), decimals=1)",
    "lib.round(lib.tensor([2.55, -1.45]), decimals=1)", "lib.floor(lib.tensor([3, -2]))",
    # dims checked on 0-d reductions
    "lib.tensor(1.5).count_nonzero(dim=1)", "lib.tensor(1.5).count_nonzero(dim=0)",
    "lib.tensor(1.5).median(dim=1)", "lib.tensor(1.5).nanmedian(dim=-2)",
    # norms without an identity over empty dims
    "lib.zeros(0, 3).norm(-1)", "lib.zeros(0, 3).norm(float('inf'))",
    "lib.linalg.vector_norm(lib.zeros(0, 3), -1, dim=0)",
    "lib.linalg.vector_norm(lib.zeros(0, 3), -1, dim=1)",
    "lib.linalg.vector_norm(lib.zeros(0, 3), float('-inf'), dim=(0, 1))",
    "lib.linalg.vector_norm(lib.zeros(0, 3), 2)",
    # tensor_split needs a positive number of sections
    "lib.arange(5).tensor_split(0)", "lib.arange(5).tensor_split(-2)",
    "lib.arange(5).tensor_split(3)",
    # convolutions, unfold/fold and flatten of an empty batch
    "lib.nn.functional.conv1d(lib.zeros(0, 2, 5), lib.ones(3, 2, 3))",
    "lib.nn.functional.conv1d(lib.zeros(0, 4, 5), lib.ones(2, 2, 3), groups=2, padding=1)",
    "lib.nn.functional.conv2d(lib.zeros(0, 2, 7, 7), lib.ones(3, 2, 3, 3), stride=2)",
    "lib.nn.functional.conv_transpose2d(lib.zeros(0, 2, 4, 4), lib.ones(2, 2, 3, 3), groups=2)",
    "lib.nn.functional.unfold(lib.zeros(0, 2, 4, 4), 2)",
    "lib.nn.functional.fold(lib.zeros(0, 8, 9), (4, 4), 2)",
    "lib.zeros(0, 2, 3).flatten(1)", "lib.zeros(2, 3, 0, 4).flatten(1, 2)",
    # variance with no degrees of freedom warns; the mean of nothing is NaN, silently
    "lib.zeros(1, 3).var(0)", "lib.zeros(2, 3).std(0, correction=2)", "lib.zeros(0, 3).var()",
    "lib.var_mean(lib.zeros(1, 3), 0)", "lib.std_mean(lib.zeros(1, 3), 0)",
    "lib.zeros(3, 2).var(0)", "lib.zeros(0, 3).mean(0)", "lib.zeros(0, 3).std(0)",
]


def _outcome(lib, src):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_float_warnings_from_ember()  # as at import (pytest drops filters added then)
        try:
            value = eval(src, {"lib": lib})  # noqa: S307
        except Exception as e:  # noqa: BLE001
            value = (type(e).__name__, str(e).replace(lib.__name__, "LIB"))
    messages = [(w.category.__name__, str(w.message).split(" (Triggered internally")[0])
                for w in caught]
    return value, messages


def _same(a, b):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        return (isinstance(b, tuple) and a[:3] == b[:3]
                and np.array_equal(*(np.signbit(v) & ~np.isnan(v) for v in (a[3], b[3])))
                and np.allclose(a[3].astype(float), b[3].astype(float), equal_nan=True))
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


@pytest.mark.parametrize("src", CASES)
def test_edge_input_matches_torch(torch, src):
    expected, expected_warnings = _outcome(torch, src)
    got, got_warnings = _outcome(ember, src)
    expected, got = comparable(expected, torch), comparable(got, ember)
    assert _same(expected, got), f"{src}: torch {expected!r}, ember {got!r}"
    if not src.endswith(("T", "H")):
        assert got_warnings == expected_warnings


TRANSPOSES = """
import sys, warnings
lib = __import__(sys.argv[1])
warnings.simplefilter("always")
for _ in range(2):
    for shape in [(), (3,), (2, 3, 4)]:
        for attr in ("T", "mT", "H", "mH"):
            try:
                getattr(lib.zeros(shape), attr)
            except RuntimeError:
                pass
"""


def test_transpose_deprecation_warnings_come_once_per_process_like_torch(torch):
    runs = [subprocess.run([sys.executable, "-c", TRANSPOSES, lib], capture_output=True,
                           text=True, timeout=120) for lib in ("torch", "ember")]
    warned = [[line.split("UserWarning: ")[1].split(" (Triggered")[0]
               for line in run.stderr.splitlines() if "UserWarning: " in line] for run in runs]
    assert len(warned[0]) == 5 and warned[0] == warned[1]


@pytest.mark.parametrize("fn", ["hardshrink", "softshrink"])
def test_shrink_gradients_pass_nan_inputs_like_torch(torch, fn):
    grads = []
    for lib in (torch, ember):
        x = lib.tensor([float("nan"), -0.0, 0.3, -2.0, 0.5], requires_grad=True)
        getattr(lib.nn.functional, fn)(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_convolution_of_an_empty_batch_gives_zero_weight_gradients_like_torch(torch):
    grads = []
    for lib in (torch, ember):
        w = lib.ones(3, 2, 3, requires_grad=True)
        lib.nn.functional.conv1d(lib.zeros(0, 2, 5), w, padding=1).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
