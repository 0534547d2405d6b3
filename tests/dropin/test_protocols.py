"""Python protocols and argument spellings torch accepts, each checked against torch.

Every row of ``SAME`` is an expression evaluated twice, with ``L`` bound to ember and then
to torch; values, dtypes, shapes, printed forms and exception types must agree.
"""
from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

SAME = r"""
float(L.tensor(2.5))
int(L.tensor(2.7))
int(L.tensor(-2.7))
bool(L.tensor(0.))
bool(L.tensor([3]))
bool(L.tensor([1., 2.]))
bool(L.tensor([]))
float(L.tensor([1., 2.]))
int(L.tensor([1, 2]))
list(range(L.tensor(3)))
[0, 1, 2, 3][L.tensor(1):L.tensor(3)]
L.tensor(3).__index__()
L.tensor(3.).__index__()
f"{L.tensor(3.14159):.4f}"
f"{L.tensor(3.14159):>10.2f}"
"%f" % L.tensor(2.5)
"%.3f" % L.tensor(2.5)
"%d" % L.tensor(7)
f"{L.tensor([1.5, 2.]):.2f}"
f"{L.tensor(3.14159)}"
f"{L.tensor([1.5, 2.])}"
"{}".format(L.tensor(1.0))
round(L.tensor(3.567).item(), 2)
math.isclose(L.tensor(0.5), 0.5)
math.sqrt(L.tensor(4.0))
L.tensor(3.5) > 2
max(L.tensor(2.5), L.tensor(3.))
sum([L.tensor(2.5), L.tensor(1.)])
repr(L.tensor(2.5))
str(L.tensor([1., 2.]))
repr(L.tensor([[1.5, 2.25], [3., 4.]]))
repr(L.tensor([1, 2, 3]))
repr(L.tensor([True, False]))
repr(L.tensor([1e-8, 1.0]))
repr(L.tensor([1e10, 1.0]))
repr(L.tensor([0.1, 100.0, 1000.5]))
repr(L.arange(2000.))
repr(L.arange(3000).reshape(30, 100))
repr(L.tensor([float('nan'), float('inf'), 1.5]))
repr(L.ones(2, 3).masked_fill(L.tril(L.ones(2, 3)) == 0, float('-inf')))
repr(L.zeros(2, 3, dtype=L.float64))
repr(L.zeros(0))
repr(L.zeros(0, 3))
repr(L.zeros(0, dtype=L.long))
repr(L.zeros(2, dtype=L.int32))
repr(L.ones(2, requires_grad=True))
repr(L.ones(3, 30, requires_grad=True))
repr(L.float32)
str(L.int64)
repr(L.bool)
repr(L.Size([2, 3]))
str(L.Size([]))
repr(L.zeros(2, 3).shape)
repr(L.zeros(2, 3).shape[1:])
repr(L.zeros(2, 3).shape + (4,))
L.zeros(2, 3).shape == (2, 3)
isinstance(L.zeros(2, 3).shape, tuple)
L.Size([2, 3]).numel()
L.ones(2, 3).sum(1, keepdims=True)
L.ones(2, 3).sum(axis=1)
L.ones(2, 3).mean(axis=0, keepdims=True)
L.ones(2, 3).mean(1)
L.sum(L.ones(2, 3), 0)
L.sum(L.ones(2, 3), axis=0)
L.mean(L.ones(2, 3), dim=(0, 1))
L.ones(2, 3).amax(dim=(0, 1))
L.ones(2, 3).std(1)
L.ones(2, 3).var(1, keepdim=True)
L.arange(6.).view(2, 3).max(1)[0]
L.arange(6.).view(2, 3).max(dim=1, keepdim=True).values
L.arange(6.).view(2, 3).argmax(1)
L.arange(6.).view(2, 3).softmax(1)
L.softmax(L.arange(6.).view(2, 3), -1)
L.arange(6.).view(2, 3).cumsum(1)
L.arange(6.).view(2, 3).max(axis=1)
L.arange(6.).view(2, 3).max(1, keepdims=True).indices
L.arange(6.).view(2, 3).argmax(axis=1, keepdims=True)
L.arange(6.).view(2, 3).std(axis=0, keepdims=True)
L.arange(6.).view(2, 3).var(axis=1)
L.arange(6.).view(2, 3).softmax(axis=0)
L.arange(6.).view(2, 3).cumsum(axis=1)
L.arange(6.).view(2, 3).any(axis=1)
L.arange(6.).view(2, 3).topk(2, axis=1).values
L.arange(6.).view(2, 3).unsqueeze(axis=0).shape
L.max(L.arange(6.).view(2, 3), axis=0).values
L.argmax(L.arange(6.).view(2, 3), axis=0)
L.std(L.arange(6.).view(2, 3), axis=0, keepdims=True)
L.softmax(L.arange(6.).view(2, 3), axis=0)
L.stack([L.ones(2), L.zeros(2)], axis=1)
L.arange(6.).view(2, 3).sum(dim=1, axis=1)
L.cat([L.ones(2), L.zeros(2)], 0)
L.cat([L.ones(2), L.zeros(2)], axis=0)
L.stack([L.ones(2), L.zeros(2)], 1)
L.arange(6).view(2, 3).transpose(0, 1)
L.arange(6).view(2, 3).permute(1, 0)
L.arange(6).view(2, 3).squeeze(0)
L.arange(6).view(2, 3).unsqueeze(1).shape
L.arange(6).view(2, 3).flatten(0)
L.add(L.ones(2), L.ones(2), out=L.empty(2))
L.mul(L.ones(2), 3, out=L.empty(2))
L.matmul(L.ones(2, 2), L.ones(2, 2), out=L.empty(2, 2))
L.cat([L.ones(2), L.ones(2)], out=L.empty(4))
L.exp(L.zeros(2), out=L.empty(2))
L.sum(L.ones(2, 3), 1, out=L.empty(2))
L.argmax(L.ones(2, 3), 1, out=L.empty(2, dtype=L.long))
L.exp(L.ones(2), out=L.empty(2, dtype=L.long))
L.exp(L.ones(2, requires_grad=True), out=L.empty(2))
L.tensor([10., 20, 30, 40])[[0, 2]]
L.tensor([[1., 2], [3, 4]])[range(2), [1, 0]]
L.tensor([[1., 2], [3, 4]])[range(2), L.tensor([1, 0])]
L.tensor([[1., 2], [3, 4]])[L.arange(2), L.tensor([1, 0])]
L.tensor([[1., 2], [3, 4]])[[0, 1], [1, 0]]
L.tensor([[1., 2], [3, 4]])[[True, False]]
L.tensor([[1., 2], [3, 4]])[:, [1]]
L.tensor([[1., 2], [3, 4]])[L.tensor(1)]
L.tensor([[1., 2], [3, 4]])[L.tensor([True, False])]
L.tensor([1., 2, 3])[L.tensor([[0, 1], [1, 2]])]
L.ones(5)[L.tensor(2):].shape
L.allclose(L.tensor([1., 2]), L.tensor([1., 2.0000001]))
L.allclose(L.tensor([1., 2]), L.tensor([1., 2.1]))
L.isclose(L.tensor([1., 2]), L.tensor([1., 2.1]))
L.isclose(L.tensor([1., float('nan')]), L.tensor([1., float('nan')]), equal_nan=True)
L.equal(L.tensor([1., 2]), L.tensor([1., 2]))
L.equal(L.tensor([1., 2]), L.tensor([1., 2, 3]))
L.tensor([1., 2]).allclose(L.tensor([1., 2.001]), atol=1e-2)
L.tensor([1., 2]).equal(L.tensor([1., 3]))
L.zeros(2, 3).numel()
L.numel(L.zeros(2, 3))
L.zeros(2, 3).nelement()
L.zeros(2, 3).element_size()
L.zeros(2, 3, dtype=L.int64).element_size()
L.zeros(2, 3, dtype=L.float16).element_size()
L.zeros(2, 3).nbytes
L.zeros(2, 3).itemsize
str(L.zeros(2).to("cpu").device)
str(L.zeros(2).to(L.device("cpu")).device)
L.zeros(2).cpu().device.type
L.zeros(2).to("cpu", L.float64).dtype
L.zeros(2).to(device="cpu", dtype=L.float64).dtype
L.zeros(2).to(L.zeros(1, dtype=L.int32)).dtype
str(L.device("cuda:1"))
repr(L.device("cpu"))
L.device("cpu").type
L.zeros(2).is_cuda
L.tensor(2.5) * np.float64(2)
np.float64(2) * L.tensor([2.5])
L.ones(2) / np.float32(2)
L.ones(2).split(1, dim=0)
L.tensor([[1, 2, 3]]).split(2, dim=1)
L.split(L.tensor([[1, 2, 3]]), [1, 2], dim=1)
L.ones(3, 3).tril()
L.ones(2, 3).new_zeros(4).dtype
L.ones(2, 3).T.shape
""".strip().splitlines()

_NAMESPACE = {"np": np, "math": math}


def _evaluate(lib, expr):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(expr, dict(_NAMESPACE, L=lib))
    except Exception as exc:  # the exception type is part of the contract
        return exc


def _normal(value):
    """A comparable form: tensors as (dtype name, shape, values); names spelled 'L.'."""
    if isinstance(value, BaseException):
        return ("raises", type(value).__name__)
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        arr = np.array(value.detach().numpy())
        return ("tensor", str(value.dtype).split(".")[-1], arr.shape,
                np.round(arr.astype(np.float64), 5).tolist() if arr.size else [])
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_normal(v) for v in value) if not isinstance(
            value, (ember.Size, torch.Size)) else ("size", tuple(value))
    if isinstance(value, tuple):  # named tuples (max, sort ...): compare the fields
        return tuple(_normal(v) for v in value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str):
        return value.replace("torch.", "L.").replace("ember.", "L.")
    if isinstance(value, (ember.dtype, torch.dtype)):
        return str(value).split(".")[-1]
    return value


@pytest.mark.parametrize("expr", SAME)
def test_expression_matches_torch(expr):
    assert _normal(_evaluate(ember, expr)) == _normal(_evaluate(torch, expr))


def test_format_reports_the_value_of_a_one_element_tensor():
    assert f"{ember.tensor([2.5]):.1f}" == "2.5"  # torch raises here; ember is lenient


def test_data_is_a_detached_tensor_sharing_storage():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.full((3,), 2.0)
    d = p.data
    assert isinstance(d, ember.Tensor) and not d.requires_grad and d.grad_fn is None
    p.data += -0.5 * p.grad
    np.testing.assert_allclose(p.detach().numpy(), np.zeros(3, np.float32))
    d[0] = 7.0
    assert p[0].item() == 7.0
    assert p.requires_grad


def test_data_assignment_replaces_the_values():
    w = ember.nn.Parameter(ember.zeros(2, 2))
    w.data = ember.ones(2, 2)
    assert w.sum().item() == 4.0 and w.requires_grad


def test_gather_rows_with_range_and_labels_backpropagates_like_torch():
    logits = np.random.RandomState(0).randn(4, 5).astype(np.float32)
    y = [1, 0, 4, 2]
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(logits, requires_grad=True)
        (-x.log_softmax(1)[range(4), y].mean()).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def test_unavailable_device_raises_a_clear_runtime_error():
    for call in (lambda: ember.zeros(2).to("cuda"), lambda: ember.zeros(2).cuda(),
                 lambda: ember.zeros(2, device="cuda"), lambda: ember.zeros(2).to("mps")):
        with pytest.raises(RuntimeError, match="not available"):
            call()


def test_device_accepts_what_scripts_pass():
    dev = "cuda" if ember.cuda.is_available() else "cpu"
    x = ember.randn(2, 3).to(dev)
    assert x.device == ember.device("cpu") and x.device.type == "cpu"
    assert x.to(ember.device(dev), non_blocking=True) is x


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_optimizer_signature_lists_torchs_parameters(name):
    e = inspect.signature(getattr(ember.optim, name)).parameters
    t = inspect.signature(getattr(torch.optim, name)).parameters
    assert list(e) == list(t)
    for key in t:
        assert e[key].kind == t[key].kind, key
        assert repr(e[key].default) == repr(t[key].default), key


def test_printoptions_profiles_match_torch():
    x = np.random.RandomState(0).randn(12, 12).astype(np.float32)
    try:
        for profile in ("short", "full", "default"):
            ember.set_printoptions(profile=profile)
            torch.set_printoptions(profile=profile)
            assert repr(ember.tensor(x)) == repr(torch.tensor(x))
        ember.set_printoptions(precision=2, sci_mode=True)
        torch.set_printoptions(precision=2, sci_mode=True)
        assert repr(ember.tensor(x[:2, :3])) == repr(torch.tensor(x[:2, :3]))
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
