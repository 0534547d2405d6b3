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


def _real_parts(a):
    """``a`` as float64 real coordinates: a complex array's real parts, then its imaginary
    parts (each complex number is two real variables)."""
    a = np.asarray(a).reshape(-1)
    if a.dtype.kind == "c":
        return np.concatenate([a.real, a.imag]).astype(np.float64)
    return a.astype(np.float64)


def _nudges(x):
    """The perturbations of one input, one per real coordinate: ``(index, unit)`` with unit
    1 for a real element or a real part, 1j for an imaginary part (the order of
    ``_real_parts``). Indexing ``x`` itself works for any strides."""
    units = (1, 1j) if x.dtype.kind == "c" else (1,)
    return [(np.unravel_index(e, x.shape), u) for u in units for e in range(x.size)]


def _numerical_jacobian(func, inputs, i, k, eps, differentiable=True):
    """Central differences: d(real coordinates of output k) / d(real coordinates of input
    i), one column per nudge."""
    x = inputs[i]._data
    columns = []
    for idx, unit in _nudges(x):
        orig = x[idx]
        x[idx] = orig + eps * unit
        plus = _real_parts(_outputs(func, inputs, differentiable)[k]._data)
        x[idx] = orig - eps * unit
        minus = _real_parts(_outputs(func, inputs, differentiable)[k]._data)
        x[idx] = orig
        columns.append((plus - minus) / (2 * eps))
    if not columns:  # an empty input: no columns, one row per real output coordinate
        return np.zeros((_real_parts(_outputs(func, inputs, differentiable)[k]._data).size, 0))
    return np.stack(columns, axis=1)


def _analytical_jacobian(func, inputs, diff, k, out):
    """Backward once per real coordinate of output k: grad_output 1 at an element gives the
    row of its real part, 1j the row of its imaginary part (torch's convention: the gradient
    of a real ``L`` is dL/dRe z + i dL/dIm z, so its real and imaginary parts are the two
    derivatives)."""
    from . import grad as _grad

    units = (1, 1j) if out._data.dtype.kind == "c" else (1,)
    sizes = {i: inputs[i]._data.size * (2 if inputs[i]._data.dtype.kind == "c" else 1)
             for i in diff}
    rows = {i: [] for i in diff}
    for unit in units:
        for j in range(out.numel()):
            g = np.zeros(out.shape, out._data.dtype)
            g.reshape(-1)[j] = unit
            res = _grad(_outputs(func, inputs)[k], [inputs[i] for i in diff],
                        grad_outputs=_t._wrap(g), allow_unused=True)
            for i, r in zip(diff, res):
                rows[i].append(np.zeros(sizes[i]) if r is None else _real_parts(
                    r._data.astype(inputs[i]._data.dtype, copy=False)))
    return {i: np.array(rows[i]).reshape(len(rows[i]), sizes[i]) for i in diff}


def _check_no_differentiable_outputs(func, inputs, diff, eps):
    """No output requires grad: then every numerical derivative must be 0 (torch's check)."""
    for i in diff:
        for k in range(len(_outputs(func, inputs, False))):
            if not np.allclose(_numerical_jacobian(func, inputs, i, k, eps, False), 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def _part(row, out):
    """Which part of a complex output a Jacobian row belongs to, for the message."""
    if out._data.dtype.kind != "c":
        return ""
    half = out.numel()
    return ("While considering the real part of complex outputs only, " if row < half
            else "While considering the imaginary part of complex outputs only, ")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **unused):
    """Compare ``func``'s backward with central differences, element by element.

    Inputs that require grad should be float64 or complex128. A complex number counts as two
    real variables: its real and imaginary parts are nudged separately, and a complex output
    is checked on both parts, so the conjugate-Wirtinger gradients torch's convention gives
    are checked completely. Returns True, or raises ``GradcheckError`` naming the output,
    input and element where the two Jacobians differ (or returns False when
    ``raise_exception`` is False).
    """
    if isinstance(inputs, _t.Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, _t.Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=2)
    outs = _outputs(func, inputs)
    if not outs:
        try:
            return _check_no_differentiable_outputs(func, inputs, diff, eps)
        except GradcheckError:
            if raise_exception:
                raise
            return False
    for k, out in enumerate(outs):
        analytical = _analytical_jacobian(func, inputs, diff, k, out)
        for i in diff:
            numerical = _numerical_jacobian(func, inputs, i, k, eps)
            bad = ~np.isclose(analytical[i], numerical, rtol=rtol, atol=atol)
            if bad.any():
                o, e = np.argwhere(bad)[0]
                msg = (f"{_part(o, out)}Jacobian mismatch for output {k} with respect to input "
                       f"{i}, at output element {o % out.numel()} / input element "
                       f"{e % max(inputs[i].numel(), 1)}:\nnumerical: {numerical[o, e]!r}\n"
                       f"analytical: {analytical[i][o, e]!r}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _random_like(rng, a):
    """Uniform in [-1, 1) with ``a``'s shape and dtype (both parts, when complex)."""
    r = rng.uniform(-1, 1, a.shape)
    if a.dtype.kind == "c":
        r = r + 1j * rng.uniform(-1, 1, a.shape)
    return r.astype(a.dtype)


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
            _t._wrap(_random_like(rng, o._data), requires_grad=True)
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
