"""Shared check of the interpolate oracle tests: first, second and third derivatives."""
import numpy as np


def assert_higher_order_grads_match(torch, ember, x, u0, **interpolate_kwargs):
    """``interpolate``'s gradient, the gradient of that gradient with respect to the upstream
    gradient, and one more order, equal torch's (values and node names)."""
    results = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.interpolate(xt, **interpolate_kwargs)
        g = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)),
                       requires_grad=True)
        gx, = lib.autograd.grad(out, xt, g, create_graph=True)
        u = lib.tensor(u0, requires_grad=True)
        gg, = lib.autograd.grad((gx * u).sum(), g, create_graph=True)
        ggg, = lib.autograd.grad((gg * gg).sum(), u)
        results.append((gx.detach().numpy(), gg.detach().numpy(), ggg.numpy(),
                        type(gx.grad_fn).__name__, type(gg.grad_fn).__name__))
    for t, e in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(e, t, atol=1e-12)
    assert results[0][3:] == results[1][3:]
