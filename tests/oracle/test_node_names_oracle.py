"""Every recorded node carries torch's ``grad_fn`` class name for the same call.

Cross entropy is one fused node here, named as torch's last node (``NllLossBackward0``, which
torch records after a ``LogSoftmaxBackward0``). The documented exceptions, not listed: ops
that are compositions in torch that end in a view or a sum (``cosine_similarity``, ``einsum``,
``scaled_dot_product_attention``), where ember has one node of its own.
"""
from __future__ import annotations

import numpy as np
import pytest

import ember


def _calls(T):
    F = T.nn.functional

    def r(*shape):
        rng = np.random.default_rng(len(shape) * 10 + shape[-1])
        return T.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    a, b, v, sq = r(3, 4), r(4, 5), r(4), r(4, 4)
    c, d = r(2, 3, 4), r(2, 4, 5)
    return {
        "mm": lambda: a @ b, "mv": lambda: a @ v, "dot": lambda: v @ v, "vm": lambda: v @ b,
        "batched": lambda: c @ d, "batch_x_matrix": lambda: c @ b,
        "matrix_x_batch": lambda: a.t()[:, :3] @ c, "broadcast_batch": lambda: c[:1] @ d,
        "vec_x_batch": lambda: v @ d, "mm()": lambda: T.mm(a, b), "bmm()": lambda: T.bmm(c, d),
        "linear": lambda: F.linear(a, b.t()),
        "linear_bias": lambda: F.linear(a, b.t(), v[:1] * 0 + b[0]),
        "linear_3d": lambda: F.linear(c, b.t()), "linear_3d_bias": lambda: F.linear(c, b.t(), b[0]),
        "addmm": lambda: T.addmm(b[0], a, b),
        "min": lambda: a.min(), "min_dim": lambda: a.min(1)[0], "max": lambda: a.max(),
        "max_dim": lambda: a.max(1)[0], "amin": lambda: a.amin(1), "amax": lambda: a.amax(1),
        "tril": lambda: sq.tril(), "triu": lambda: sq.triu(1),
        "batch_norm": lambda: F.batch_norm(a, None, None, training=True),
        "batch_norm_eval": lambda: F.batch_norm(a, T.zeros(4), T.ones(4), training=False),
        "layer_norm": lambda: F.layer_norm(a, (4,)), "dropout": lambda: F.dropout(a, 0.3),
        "clamp": lambda: a.clamp(0, 1), "clamp_max_kw": lambda: a.clamp(max=2),
        "clamp_tensor": lambda: a.clamp(T.zeros(4), T.ones(4)),
        "clamp_min": lambda: a.clamp_min(0), "clamp_max": lambda: a.clamp_max(1),
        "clamp_min_tensor": lambda: a.clamp_min(T.zeros(4)),
        "clamp_max_tensor": lambda: a.clamp_max(T.zeros(4)),
        "pow_scalar": lambda: a ** 2, "pow_tensor": lambda: a.abs() ** a,
        "scalar_pow": lambda: 2 ** a, "topk": lambda: a.topk(2)[0], "sort": lambda: a.sort(1)[0],
        "t": lambda: a.t(), "transpose": lambda: a.transpose(0, 1),
        "permute": lambda: c.permute(2, 0, 1),
        "T": lambda: a.T, "mT": lambda: c.mT, "squeeze": lambda: a[None].squeeze(),
        "squeeze_dim": lambda: a[None].squeeze(0), "squeeze_dims": lambda: a[None].squeeze((0,)),
        "unsqueeze": lambda: a.unsqueeze(1), "reshape": lambda: a.reshape(12),
        "reshape_copy": lambda: a.t().reshape(12), "flatten_copy": lambda: a.t().flatten(),
        "reshape_alias": lambda: a.t().reshape(4, 1, 3), "flatten_alias": lambda: a.t().flatten(1),
        "flatten_nothing": lambda: a.flatten(1), "view_strided": lambda: a.t().view(4, 3, 1),
        "view": lambda: a.view(2, 6), "select": lambda: a[0], "select_last": lambda: a[:, 0],
        "slice": lambda: a[1:], "slice_all": lambda: a[:], "alias": lambda: a[:, :],
        "ellipsis": lambda: a[...], "none": lambda: a[None], "int_then_none": lambda: a[0, None],
        "step": lambda: a[::2], "tensor_index": lambda: a[T.tensor([0, 0])],
        "narrow": lambda: a.narrow(1, 0, 2), "embedding": lambda: F.embedding(T.tensor([0, 1]), b),
        "to_double": lambda: a.double(), "exp": lambda: a.exp(), "sum": lambda: a.sum(),
        "mean": lambda: a.mean(), "softmax": lambda: a.softmax(1),
        "log_softmax": lambda: a.log_softmax(1), "cat": lambda: T.cat([a, a]),
        "stack": lambda: T.stack([a, a]), "expand": lambda: v.expand(3, 4),
        "std": lambda: a.std(), "std_dim": lambda: a.std(1), "var": lambda: a.var(1),
        "norm": lambda: a.norm(), "norm_p1_dim": lambda: a.norm(p=1, dim=1),
        "sum_dim": lambda: a.sum(1), "mean_dim": lambda: a.mean((0, 1)),
        "rsub": lambda: 1 - a, "sub_number_first": lambda: T.sub(3, a),
        "rsub_fn": lambda: T.rsub(a, 2), "square": lambda: a.square(),
        "reciprocal": lambda: a.reciprocal(), "outer": lambda: T.outer(v, v),
        "lerp": lambda: T.lerp(a, a * 2, 0.5), "lerp_tensor": lambda: T.lerp(a, a * 2, a),
        "addcmul": lambda: T.addcmul(a, a, a), "addcdiv": lambda: T.addcdiv(a, a, a * a + 1),
        "log1p": lambda: a.abs().log1p(), "masked_select": lambda: a.masked_select(a > 0),
        "pad": lambda: F.pad(a, (1, 1)), "nll": lambda: F.nll_loss(a.log_softmax(1),
                                                                    T.tensor([0, 1, 2])),
        "nll_2d": lambda: F.nll_loss(a.reshape(1, 3, 4).log_softmax(1), T.tensor([[0, 1, 2, 0]])),
        "zero_": lambda: (a * 1).zero_(), "fill_": lambda: (a * 1).fill_(2.0),
        "fill_tensor": lambda: (a * 1).fill_(v[0]), "copy_": lambda: (a * 1).copy_(a.t().t()),
        "minimum": lambda: T.minimum(a, a * 2), "maximum": lambda: T.maximum(a, a * 2),
        "mish": lambda: F.mish(a), "glu": lambda: F.glu(a), "mse": lambda: F.mse_loss(a, a * 2),
        "bce_logits": lambda: F.binary_cross_entropy_with_logits(a, a.sigmoid()),
        "cross_entropy": lambda: F.cross_entropy(a, T.tensor([0, 1, 3])),
        "cross_entropy_none": lambda: F.cross_entropy(a, T.tensor([0, 1, 3]), reduction="none"),
        "cross_entropy_module": lambda: T.nn.CrossEntropyLoss(reduction="sum")(
            a, T.tensor([2, 1, 3])),
        "cross_entropy_3d": lambda: F.cross_entropy(c, T.tensor([[0, 1, 2, 0], [2, 2, 0, 1]])),
        "cross_entropy_3d_none": lambda: F.cross_entropy(c, T.tensor([[0, 1, 2, 0], [2, 2, 0, 1]]),
                                                         reduction="none"),
        "cross_entropy_4d_none": lambda: F.cross_entropy(c.reshape(1, 3, 2, 4),
                                                         T.tensor([[[0, 1, 2, 0], [2, 1, 0, 0]]]),
                                                         reduction="none"),
        "cross_entropy_smoothing": lambda: F.cross_entropy(a, T.tensor([0, 1, 3]),
                                                           label_smoothing=0.1),
        "cross_entropy_probs": lambda: F.cross_entropy(a, a.detach().softmax(1)),
        "cross_entropy_probs_sum": lambda: F.cross_entropy(a, a.detach().softmax(1),
                                                           reduction="sum"),
    }


def test_node_names_match_torch(torch):
    ours = {k: type(f().grad_fn).__name__ for k, f in _calls(ember).items()}
    theirs = {k: type(f().grad_fn).__name__ for k, f in _calls(torch).items()}
    wrong = {k: (ours[k], theirs[k]) for k in theirs if ours[k] != theirs[k]}
    assert not wrong, wrong


@pytest.mark.parametrize("name", ["MmBackward0", "SelectBackward0", "NativeBatchNormBackward0"])
def test_renamed_nodes_still_run_their_backward(name):
    a = ember.ones(4, 4, requires_grad=True)
    out = {"MmBackward0": lambda: a @ a, "SelectBackward0": lambda: a[1],
           "NativeBatchNormBackward0": lambda: ember.nn.functional.batch_norm(
               a * ember.arange(4.0)[:, None], None, None, training=True)}[name]()
    assert out.grad_fn.name() == name
    (out * out).sum().backward()
    assert a.grad is not None and a.grad.shape == a.shape
