"""The optimizer oracle tests' shared set-up and checks: twin parameters, the gradient field
both sides get, and what is compared after each step (parameters, the state dict in torch's
layout, the groups' options)."""
from __future__ import annotations

import numpy as np

import ember
from ember.nn import Parameter


def grad_fn(x, k):
    """A smooth, step-dependent gradient field in ``x``'s dtype (the same NumPy code on both
    sides)."""
    g = 1.5 * (x - 0.3) + 0.5 * np.sin(3 * x + k)
    return np.asarray(g, dtype=x.dtype)


def twin_params(torch, shapes, seed=0, dtype=np.float32):
    """ember and torch Parameters with the same random starting values."""
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ep = [Parameter(ember.tensor(x.copy())) for x in starts]
    tp = [torch.nn.Parameter(torch.tensor(x.copy())) for x in starts]
    return ep, tp


def twin_optimizers(torch, name, ep, tp, kwargs, groups=None):
    """``optim.<name>`` over ``ep`` and ``torch.optim.<name>`` over ``tp``; with ``groups``,
    the parameters after the first two form a second group with those options."""
    made = []
    for lib, params in ((ember, ep), (torch, tp)):
        if groups is not None:
            params = [{"params": params[:2]}, {"params": params[2:], **groups}]
        made.append(getattr(lib.optim, name)(params, **lr_for(lib, kwargs)))
    return tuple(made)


def set_grads(torch, ep, tp, k, skip=None):
    """Step ``k``'s gradients on both sides (none where ``skip(i, k)``)."""
    for i, (a, b) in enumerate(zip(ep, tp)):
        if skip is not None and skip(i, k):
            a.grad = b.grad = None
            continue
        a.grad = ember.tensor(grad_fn(a.detach().numpy(), k))
        b.grad = torch.from_numpy(grad_fn(b.detach().numpy(), k))


def assert_params_close(ep, tp, k, atol=2e-6):
    for i, (a, b) in enumerate(zip(ep, tp)):
        assert a.dtype.name == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-5,
                                   atol=atol, err_msg=f"param {i} after step {k + 1}")


def assert_state_close(eopt, topt, atol=1e-5):
    esd, tsd = eopt.state_dict(), topt.state_dict()
    assert sorted(esd["state"]) == sorted(tsd["state"])
    for idx, tstate in tsd["state"].items():
        estate = esd["state"][idx]
        assert list(estate) == list(tstate), idx
        for key, tval in tstate.items():
            evalue = estate[key]
            assert isinstance(evalue, ember.Tensor), (idx, key)
            assert tuple(evalue.shape) == tuple(tval.shape), (idx, key)
            assert evalue.dtype.name == str(tval.dtype).split(".")[-1], (idx, key)
            scale = max(1.0, float(np.abs(tval.numpy()).max(initial=0.0)))
            np.testing.assert_allclose(evalue.numpy(), tval.numpy(), rtol=1e-4,
                                       atol=atol * scale, err_msg=f"state {idx}[{key}]")
    assert len(esd["param_groups"]) == len(tsd["param_groups"])
    for eg, tg in zip(esd["param_groups"], tsd["param_groups"]):
        assert list(eg) == list(tg)
        for key, tval in tg.items():
            assert float(eg[key]) == float(tval) if key == "lr" else eg[key] == tval, key


def lr_for(lib, kwargs):
    """Turn a ``("tensor", x)`` lr into the library's 0-d Tensor."""
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("lr"), tuple):
        kwargs["lr"] = lib.tensor(kwargs["lr"][1])
    return kwargs
