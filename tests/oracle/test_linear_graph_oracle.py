"""F.linear's recorded graph against torch's: the same nodes (AddmmBackward0 with edges to the
bias, the input and TBackward0 of the weight; the views around batched inputs; matmul and an
in-place add where torch takes that path), the same values, gradients, saved tensors and
in-place errors, for inputs of every rank, biases of several shapes, and every combination of
which operands require grad."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import ember
from tests.helpers import assert_close

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(11)
W = _RNG.standard_normal((4, 5))
INPUTS = {"1-D": (5,), "2-D": (3, 5), "3-D": (2, 3, 5), "4-D": (2, 1, 3, 5), "empty": (2, 0, 5),
          "3-D transposed": (3, 2, 5)}
BIASES = {"none": None, "vector": (4,), "row": (1, 4), "0-d": (), "matrix": (3, 4)}


def _graph(fn):
    """The graph below ``fn`` as nested (name, children) tuples, edges in order."""
    if fn is None:
        return None
    return (type(fn).__name__, tuple(_graph(f) for f, _ in fn.next_functions))


def _run(T, x_shape, b_shape, x_rg, w_rg, b_rg, transposed):
    x_arr = _RNG_FIXED[x_shape]
    x = T.tensor(x_arr, requires_grad=x_rg)
    x_in = x.transpose(0, 1) if transposed else x
    w = T.tensor(W, requires_grad=w_rg)
    b = None if b_shape is None else T.tensor(_BIAS_FIXED[b_shape], requires_grad=b_rg)
    out = T.nn.functional.linear(x_in, w, b)
    return out, [t for t in (x, w, b) if t is not None and t.requires_grad]


_RNG_FIXED = {s: _RNG.standard_normal(s) for s in INPUTS.values()}
_BIAS_FIXED = {s: _RNG.standard_normal(s) for s in BIASES.values() if s is not None}
CASES = [(xn, bn, flags) for xn, bn, flags in itertools.product(
    INPUTS, BIASES, itertools.product([True, False], repeat=3))
    if not (bn == "none" and flags[2]) and any(flags[:2] if bn == "none" else flags)
    and not (bn == "matrix" and xn in ("1-D", "4-D", "empty"))]  # bias that cannot broadcast


@pytest.mark.parametrize("x_name,b_name,flags", CASES, ids=str)
def test_graph_values_and_gradients_match_torch(x_name, b_name, flags):
    x_shape, b_shape = INPUTS[x_name], BIASES[b_name]
    transposed = x_name == "3-D transposed"
    runs = []
    for T in (ember, torch):
        out, leaves = _run(T, x_shape, b_shape, *flags, transposed)
        up = T.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        grads = T.autograd.grad(out, leaves, up)
        runs.append((out, grads))
    (mine, my_grads), (theirs, their_grads) = runs
    assert _graph(mine.grad_fn) == _graph(theirs.grad_fn)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert_close(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g, t in zip(my_grads, their_grads):
        assert_close(g.numpy(), t.numpy(), rtol=1e-12, atol=1e-12)


def test_the_weight_gradient_is_laid_out_as_the_weight():
    for T in (ember, torch):
        lin = T.nn.Linear(5, 4)
        lin(T.randn(3, 5)).sum().backward()
        assert lin.weight.grad.is_contiguous() and lin.weight.grad.stride() == (5, 1)
        lin(T.randn(3, 5)).sum().backward()  # accumulated in place
        assert lin.weight.grad.stride() == (5, 1)


def test_saved_tensors_match_torch():
    for x_rg in (True, False):
        fns = []
        for T in (ember, torch):
            lin = T.nn.Linear(5, 4, dtype=T.float64)
            with T.no_grad():
                lin.weight.copy_(T.tensor(W))
            fns.append(lin(T.tensor(_RNG_FIXED[(3, 5)], requires_grad=x_rg)).grad_fn)
        mine, theirs = fns
        assert_close(mine._saved_mat1.detach().numpy(), theirs._saved_mat1.detach().numpy(),
                     rtol=0, atol=0)
        if x_rg:
            assert tuple(mine._saved_mat2.shape) == tuple(theirs._saved_mat2.shape) == (5, 4)
            assert_close(mine._saved_mat2.detach().numpy(), theirs._saved_mat2.detach().numpy(),
                         rtol=0, atol=0)
        else:
            assert mine._saved_mat2 is None and theirs._saved_mat2 is None


def test_changing_the_weight_in_place_before_backward_raises_torchs_error():
    messages = []
    for T in (ember, torch):
        lin = T.nn.Linear(5, 4)
        out = lin(T.randn(3, 5, requires_grad=True))
        with T.no_grad():
            lin.weight.mul_(2)
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        messages.append(str(info.value).split("\n")[0].split(" Hint")[0])
    assert messages[0] == messages[1]
    assert "[torch.FloatTensor [5, 4]], which is output 0 of AsStrided," in messages[0]


@pytest.mark.parametrize("b_shape", [(3,), (2, 3, 4)])
def test_a_bias_that_does_not_fit_raises_torchs_error(b_shape):
    errors = []
    for T in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            T.nn.functional.linear(T.randn(3, 5, requires_grad=True), T.randn(4, 5),
                                   T.randn(*b_shape))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_the_tutorials_next_functions_walk_matches_torch():
    """The 60-minute blitz prints the graph by following ``next_functions[0][0]``."""
    names = []
    for T in (ember, torch):
        T.manual_seed(0)
        net = T.nn.Sequential(T.nn.Linear(6, 4), T.nn.ReLU(), T.nn.Linear(4, 2))
        loss = T.nn.functional.mse_loss(net(T.randn(3, 6)), T.zeros(3, 2))
        fn, walk = loss.grad_fn, []
        while fn is not None:
            walk.append(type(fn).__name__)
            fn = fn.next_functions[0][0] if fn.next_functions else None
        names.append(walk)
    assert names[0] == names[1] == ["MseLossBackward0", "AddmmBackward0", "AccumulateGrad"]
