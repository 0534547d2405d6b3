"""``ember.func``: torch.func's composable function transforms.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``jacfwd``, ``hessian``, ``jvp``,
``linearize``, ``vmap``, ``functional_call``, ``stack_module_state``. They compose: the
per-sample gradients of torch's tutorial run unchanged::

    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss_of(params, x, y):
        out = functional_call(model, params, (x.unsqueeze(0),))
        return F.cross_entropy(out, y.unsqueeze(0))

    per_sample = vmap(grad(loss_of), in_dims=(None, 0, 0))(params, xs, ys)

How it differs from torch: ``vmap`` calls the function once per slice and stacks the results;
``jacfwd``/``jvp``/``linearize`` run forward mode (``ember.autograd.forward_ad``) as torch's
do, falling back to reverse mode inside another forward transform (one dual level); nested
differentiating transforms (``hessian``, ``jacrev(grad(f))``) record the inner gradients with
``create_graph=True``, so every op inside needs a double-backward formula.
"""
from __future__ import annotations

from ._eager_transforms import (  # noqa: F401
    functionalize,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    vjp,
)
from ._functional_call import (  # noqa: F401
    functional_call,
    replace_all_batch_norm_modules_,
    stack_module_state,
)
from ._vmap import vmap  # noqa: F401

__all__ = ["functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd",
           "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_", "stack_module_state",
           "vjp", "vmap"]
