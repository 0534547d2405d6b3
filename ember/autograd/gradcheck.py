"""Finite-difference gradient checks (torch's ``gradcheck`` and its defaults)."""
from __future__ import annotations

import numpy as np

from .. import _tensor as _t


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree."""


def _outputs(fn, inputs, differentiable=True):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, _t.Tensor) and
            (o.requires_grad if differentiable else o.is_floating_point())]


def _check_no_differentiable_outputs(func, inputs, diff, eps):
    """No output requires grad: then every numerical derivative must be 0 (torch's check)."""
    for i in diff:
        flat = inputs[i]._data.reshape(-1)
        for e in range(flat.size):
            orig = flat[e]
            flat[e] = orig + eps
            plus = [o._data.astype(np.float64) for o in _outputs(func, inputs, False)]
            flat[e] = orig - eps
            minus = [o._data.astype(np.float64) for o in _outputs(func, inputs, False)]
            flat[e] = orig
            for a, b in zip(plus, minus):
                if not np.allclose((a - b) / (2 * eps), 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **unused):
    """Compare ``func``'s backward with central differences, element by element.

    Inputs that require grad should be float64. Returns True, or raises ``GradcheckError``
    naming the output, input and element where the two Jacobians differ (or returns False
    when ``raise_exception`` is False).
    """
    if isinstance(inputs, _t.Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of "
                          "double precision floating point.", stacklevel=2)
    outs = _outputs(func, inputs)
    if not outs:
        try:
            return _check_no_differentiable_outputs(func, inputs, diff, eps)
        except GradcheckError:
            if raise_exception:
                raise
            return False
    for k, out in enumerate(outs):
        n_out = out.numel()
        analytical = {i: np.zeros((n_out, inputs[i].numel())) for i in diff}
        for j in range(n_out):
            g = np.zeros(out.shape, out._data.dtype)
            g.reshape(-1)[j] = 1
            outs_j = _outputs(func, inputs)
            from . import grad as _grad

            res = _grad(outs_j[k], [inputs[i] for i in diff], grad_outputs=_t._wrap(g),
                        allow_unused=True)
            for i, r in zip(diff, res):
                if r is not None:
                    analytical[i][j] = r._data.reshape(-1)
        for i in diff:
            x = inputs[i]._data
            flat = x.reshape(-1)
            numerical = np.zeros((n_out, x.size))
            for e in range(x.size):
                orig = flat[e]
                flat[e] = orig + eps
                plus = _outputs(func, inputs)[k]._data.astype(np.float64).reshape(-1)
                flat[e] = orig - eps
                minus = _outputs(func, inputs)[k]._data.astype(np.float64).reshape(-1)
                flat[e] = orig
                numerical[:, e] = (plus - minus) / (2 * eps)
            bad = ~np.isclose(analytical[i], numerical, rtol=rtol, atol=atol)
            if bad.any():
                o, e = np.argwhere(bad)[0]
                msg = (f"Jacobian mismatch for output {k} with respect to input {i}, at output "
                       f"element {o} / input element {e}:\nnumerical: {numerical[o, e]!r}\n"
                       f"analytical: {analytical[i][o, e]!r}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **unused):
    """Check second derivatives: ``gradcheck`` of the function's gradient, taken with
    ``create_graph=True``, with respect to both the inputs and ``grad_outputs``.

    ``grad_outputs`` (random in [-1, 1), requiring grad, when None) weigh the outputs;
    inputs that require grad should be float64, as for ``gradcheck``.
    """
    inputs = (inputs,) if isinstance(inputs, _t.Tensor) else tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _t._wrap(rng.uniform(-1, 1, o.shape).astype(o._data.dtype), requires_grad=True)
            for o in _outputs(func, inputs))
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, _t.Tensor) else tuple(
            grad_outputs)
    n_out = len(grad_outputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor) and x.requires_grad]

    def first_derivatives(*args):
        from . import grad as _grad

        outs = _outputs(func, args[:-n_out])
        res = _grad(outs, [args[i] for i in diff], args[-n_out:], create_graph=True,
                    allow_unused=True)
        return tuple(g for g in res if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
