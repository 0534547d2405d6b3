"""explain(loss), backward(explain=True), and the two-layer autograd errors naming lines."""
import sys

import numpy as np
import pytest

import ember
from ember.autograd import Function, explain, graph, record_creation_site


def _here():
    """``test_explain.py:<line>`` of the caller's previous line."""
    return f"test_explain.py:{sys._getframe(1).f_lineno - 1}"


def _lines(fn, *args, **kwargs):
    out = []
    fn(*args, print_fn=out.append, **kwargs)
    return out


def _small():
    x = ember.randn(4, 3, requires_grad=True)
    w = ember.randn(3, 2, requires_grad=True)
    y = (x @ w).tanh()
    loss = (y * y).sum() + y.mean()
    return x, w, y, loss


# --- explain -----------------------------------------------------------------------------------
def test_explain_prints_the_four_steps_without_running_backward():
    x, w, y, loss = _small()
    text = "\n".join(_lines(explain, loss, names={"x": x, "w": w, "y": y, "loss": loss}))
    for step in ("Step 1 - find the graph", "Step 2 - reverse topological order",
                 "Step 3 - call each backward", "Step 4 - stop at the leaves"):
        assert step in text
    assert "dry run" in text
    assert "#5 TanhBackward0 (y)    deps 3   (used 3 times: its gradients are summed)" in text
    assert ("grad_output [4, 2] = sum of 3 gradients (from #2 MeanBackward0, "
            "#4 MulBackward0 x2)") in text
    assert "-> [4, 3] to #7 AccumulateGrad (x), [3, 2] to #8 AccumulateGrad (w)" in text
    assert "x [4, 3]: .grad would be set (it was None)" in text
    assert ("Then: after each node has run, backward frees its saved tensors (3 nodes, 3 arrays, "
            "104 B) unless retain_graph=True.") in text
    assert x.grad is None and loss.grad_fn._saved is None  # Add saved nothing
    assert y.grad_fn._saved is not None  # nothing was freed


def test_explain_names_leaves_from_the_callers_variables():
    x, w, y, loss = _small()
    out = []
    explain(loss, print_fn=out.append)
    text = "\n".join(out)
    assert "AccumulateGrad (x)" in text and "AccumulateGrad (w)" in text
    assert "#1 AddBackward0 (loss)" in text


def test_explain_order_is_the_engine_order():
    x, w, y, loss = _small()
    lines = _lines(explain, loss)
    start = lines.index("Step 2 - reverse topological order: a node runs once all of its "
                        "dependencies (deps: the gradients it waits for) have arrived")
    listed = [line.split()[1] for line in lines[start + 1:start + 9]]
    assert listed == [n.name() for n in graph.walk(loss)]


def test_backward_explain_runs_and_reports_accumulation_and_freeing(capsys):
    x, w, y, loss = _small()
    w.grad = ember.zeros(3, 2)
    loss.backward(explain=True)
    text = capsys.readouterr().out
    assert "dry run" not in text
    assert "freed 1 saved tensor (32 B)" in text
    assert "w.grad += [3, 2]" in text and "x.grad = [4, 3]" in text
    assert ".grad was ADDED to the gradient it already held" in text
    assert "zero_grad()" in text
    assert "Freed: the saved tensors of 3 nodes, 3 arrays, 104 B;" in text
    assert x.grad is not None


def test_backward_explain_with_retain_graph_frees_nothing():
    _, _, _, loss = _small()
    out = []
    ember.autograd.backward(loss, retain_graph=True, explain=out.append)
    assert out[-1].startswith("Freed: nothing (retain_graph=True")


def test_explain_tensor_without_graph_says_why():
    out = _lines(explain, ember.randn(3).sum())
    assert "does not require grad" in out[0]


def test_explain_ten_thousand_nodes_without_recursion():
    x = ember.ones(2, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    loss = y.sum()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        full = _lines(explain, loss, limit=None)
        short = _lines(explain, loss)
        real = []
        loss.backward(explain=real.append)
    finally:
        sys.setrecursionlimit(limit)
    assert sum(1 for line in full if "MulBackward0" in line and "deps 1" in line) == 10_000
    assert len(short) < 600 and any("pass limit=None to see all" in line for line in short)
    assert any("x.grad = [2]" in line for line in real)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


# --- errors in two layers ----------------------------------------------------------------------
def test_inplace_error_names_saving_and_modifying_lines():
    x = ember.randn(3, requires_grad=True)
    y = x.exp()
    saved_at = _here()
    y.add_(1)
    modified_at = _here()
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert msg.splitlines()[0] == (
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [3]], which is output 0 of Exp, is at version "
        "1; expected version 0 instead.")
    assert f"saved by     ExpBackward0, created at {saved_at}" in msg.replace("tests/autograd/", "")
    assert f"{modified_at}  y.add_(1)" in msg
    assert "Why:" in msg and "Fix:" in msg


def test_inplace_error_unrecorded_change_names_both_lines():
    x = ember.randn(3, requires_grad=True)
    w = ember.randn(3)
    z = x * w
    saved_at = _here()
    w.mul_(2)  # w does not require grad: no graph node, but the version counter keeps the site
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
        z.sum().backward()
    msg = str(e.value).replace("tests/autograd/", "")
    assert f"MulBackward0, created at {saved_at}" in msg
    assert "modified by  mul_, at test_explain.py:" in msg


def test_inplace_error_on_parameter_suggests_stepping_after_backward():
    w = ember.randn(3, requires_grad=True)
    loss = (w * w).sum()
    with ember.no_grad():
        w.sub_(0.1)  # as an optimizer step would
    with pytest.raises(RuntimeError, match="the tensor   is a leaf tensor") as e:
        loss.backward()
    assert "optimizer.step()" in str(e.value).split("Fix:")[1]


def test_inplace_error_in_custom_function_names_the_lines():
    class Keep(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * 2

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return g * 2

    x = ember.randn(3, requires_grad=True)
    y = x * 1
    z = Keep.apply(y)
    saved_at = _here()
    y.mul_(3)
    modified_at = _here()
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as e:
        z.sum().backward()
    msg = str(e.value).replace("tests/autograd/", "")
    assert f"KeepBackward, created at {saved_at}" in msg
    assert f"recorded as MulBackward0, at {modified_at}" in msg


def test_backward_twice_names_the_node_and_both_backward_calls():
    x = ember.randn(3, requires_grad=True)
    loss = (x * x).sum()
    made_at = _here()
    loss.backward()
    first_at = _here()
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    again_at = _here()
    msg = str(e.value).replace("tests/autograd/", "")
    assert msg.startswith("Trying to backward through the graph a second time (or directly "
                          "access saved tensors after they have already been freed).")
    assert f"freed node   MulBackward0, created at {made_at}" in msg
    assert f"freed by     the backward called at {first_at}  loss.backward()" in msg
    assert f"used again   by the backward called at {int(again_at.split(':')[1]) - 1}" in msg \
        or f"used again   by the backward called at {again_at.split(':')[0]}:" in msg


def test_backward_twice_without_site_recording_keeps_torch_line():
    x = ember.randn(3, requires_grad=True)
    record_creation_site.enabled = False
    try:
        loss = (x * x).sum()
        loss.backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph") as e:
            loss.backward()
    finally:
        record_creation_site.enabled = True
    assert "site not recorded" in str(e.value)


def test_non_scalar_backward_names_the_line_that_made_the_tensor():
    x = ember.randn(4, 3, requires_grad=True)
    y = x * 2
    made_at = _here()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value).replace("tests/autograd/", "")
    assert msg.splitlines()[0] == "grad can be implicitly created only for scalar outputs"
    assert f"MulBackward0, created at {made_at}" in msg
    assert "shape [4, 3] (12 elements)" in msg
    assert "ones_like" in msg


def test_no_grad_fn_error_explains_no_grad():
    x = ember.randn(3, requires_grad=True)
    with ember.no_grad():
        loss = (x * 2).sum()
    with pytest.raises(RuntimeError) as e:
        loss.backward()
    called_at = _here()
    msg = str(e.value).replace("tests/autograd/", "")
    assert msg.splitlines()[0] == ("element 0 of tensors does not require grad and does not "
                                   "have a grad_fn")
    assert "no_grad()" in msg
    assert f"backward     called at {called_at}  loss.backward()" in msg


def test_invalid_gradient_from_custom_function_names_its_backward():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum(0)

    backward_line = Bad.backward.__code__.co_firstlineno
    x = ember.randn(4, 3, requires_grad=True)
    out = Bad.apply(x)
    made_at = _here()
    with pytest.raises(RuntimeError) as e:
        out.sum().backward()
    msg = str(e.value).replace("tests/autograd/", "")
    assert msg.splitlines()[0] == ("Function BadBackward returned an invalid gradient at index 0 "
                                   "- got [3] but expected shape compatible with [4, 3]")
    assert f"BadBackward, created at {made_at}" in msg
    assert f"its backward Bad.backward, test_explain.py:{backward_line}" in msg


def test_wrong_gradient_count_says_how_many():
    class Two(Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g

    x = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1"):
        Two.apply(x, 2.0).sum().backward()


def test_grad_of_unused_input_keeps_torch_wording():
    x = ember.randn(3, requires_grad=True)
    unused = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        ember.autograd.grad((x * 2).sum(), [x, unused])
    assert str(e.value).splitlines()[0] == (
        "The differentiated Tensor at index 1 appears to not have been used in the graph. Set "
        "allow_unused=True if this is the desired behavior.")
    assert "inputs[1]" in str(e.value)
