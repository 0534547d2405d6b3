"""``grad``, ``grad_and_value``, ``vjp``, ``jacrev``, ``jacfwd``, ``hessian``, ``jvp`` (torch.func).

The reverse-mode transforms call ``func`` on fresh leaves that require grad and run ember's
engine on its outputs; ``jvp`` and ``jacfwd`` run ``func`` on dual tensors in forward mode
(``ember.autograd.forward_ad``), as torch does. Transforms nest through levels: while a
transform runs ``func`` it holds a level, and a transform started inside one (``jacrev(grad(f))``,
``hessian``) differentiates its inputs through copies still attached to the outer graph and asks
the engine for differentiable gradients (``create_graph=True``), whose formulas carry the tangents
of an outer ``jacfwd`` (forward over reverse). ember has a single forward level, so a forward
transform inside another (``jacfwd(jacfwd(f))``, ``jvp`` of ``jvp``) builds its products from the
Jacobian's rows in reverse mode instead: the same numbers, more backward passes.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

from ._pytree import tree_flatten, tree_map, tree_unflatten, treespec_pprint
from ._vmap import RandomnessGuard, check_randomness

_LEVEL = [0]  # how many transforms are running func right now (outermost first)

@contextmanager
def _transform_level():
    _LEVEL[0] += 1
    try:
        yield
    finally:
        _LEVEL[0] -= 1


def _tensor_cls():
    from .._tensor import Tensor

    return Tensor


def _graph_mode(flat_inputs, what) -> bool:
    """Whether the gradients must be differentiable: inside another transform (required), or
    when an input already requires grad under grad mode (torch composes with autograd then)."""
    from ..autograd.grad_mode import is_grad_enabled

    if _LEVEL[0] > 0:
        return True
    tensor = _tensor_cls()
    return is_grad_enabled() and any(isinstance(x, tensor) and x.requires_grad
                                     for x in flat_inputs)


def _prepare(x, graph):
    """The tensor ``func`` sees in place of ``x``: a new leaf that requires grad, or (when
    the gradients must stay differentiable) a copy of ``x`` still attached to its graph."""
    if not isinstance(x, _tensor_cls()):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if graph and x.requires_grad:
        return x.clone()
    leaf = x.detach().requires_grad_(True)
    tangent = getattr(x, "_fw_grad", None)
    if tangent is not None:  # inside jacfwd (forward over reverse): the leaf keeps the tangent
        from ..autograd._forward_ad import _state

        _state.set_tangent(leaf, tangent)
    return leaf


def _grads(outputs, inputs, grad_outputs, graph, retain):
    """d(sum_i <outputs_i, grad_outputs_i>)/d(inputs), zeros for inputs not used."""
    from .. import _creation, autograd

    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    res = (None,) * len(inputs)
    if pairs:
        res = autograd.grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                            retain_graph=retain or graph, create_graph=graph, allow_unused=True)
    return [_creation.zeros_like(x) if g is None else g for g, x in zip(res, inputs)]


def _unwrap(tree, graph):
    """Outputs handed back to the caller: detached unless an outer level differentiates them."""
    if graph:
        return tree
    tensor = _tensor_cls()
    return tree_map(lambda t: t.detach() if isinstance(t, tensor) else t, tree)


def _check_argnums(argnums, num_args):
    """``argnums`` as non-negative positions, with torch's errors."""
    def wrap(a):
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(a)}")
        if not -num_args <= a < num_args:
            raise RuntimeError(f"Got argnum={a}, but only {num_args} positional inputs")
        return a % num_args

    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        pos = tuple(wrap(a) for a in argnums)
        if len(set(pos)) != len(pos):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        return pos
    if not isinstance(argnums, int) or isinstance(argnums, bool):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    return wrap(argnums)


def _diff_args(args, argnums, what):
    """(leaves standing in for the differentiated arguments, their spec, the new positional
    arguments holding them, whether the gradients must be differentiable)."""
    pos = _check_argnums(argnums, len(args))
    positions = (pos,) if isinstance(pos, int) else pos
    diff = args[pos] if isinstance(pos, int) else tuple(args[i] for i in pos)
    flat, spec = tree_flatten(diff)
    graph = _graph_mode(flat, what)
    leaves = [_prepare(x, graph) for x in flat]
    tree = tree_unflatten(leaves, spec)
    new_args = list(args)
    for k, i in enumerate(positions):
        new_args[i] = tree if isinstance(pos, int) else tree[k]
    return leaves, spec, new_args, graph


def _split_aux(out, has_aux, who):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return out


def _check_outputs(flat_out, who):
    tensor = _tensor_cls()
    for o in flat_out:
        if not isinstance(o, tensor):
            raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex "
                               f"Tensors, got Tensor with dtype {o.dtype}")


def _error_if_complex(who, tree, is_input):
    """torch's refusal of complex inputs or outputs in ``jacrev`` and ``jacfwd``."""
    for i, x in enumerate(tree_flatten(tree)[0]):
        if isinstance(x, _tensor_cls()) and x.is_complex():
            raise RuntimeError(f"{who}: Expected all {'inputs' if is_input else 'outputs'} to be "
                               f"real but received complex tensor at flattened input idx: {i}")


# --- grad ------------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """``func``'s gradient and value together (``torch.func.grad_and_value``).

    Args:
        func: a function returning a scalar tensor (with ``has_aux``: ``(scalar, aux)``).
        argnums: which positional argument(s) to differentiate: an int or a tuple of ints;
            each may be a pytree (tuple, list, dict) of float tensors, e.g. a dict of params.
        has_aux: ``func`` returns ``(output, aux)``; ``aux`` is returned as is, detached.

    Returns:
        A function returning ``(grads, value)``, or ``(grads, (value, aux))`` with
        ``has_aux``; ``grads`` has the structure of the differentiated argument(s). Inputs the
        output does not depend on get zero gradients.

    Raises:
        RuntimeError: torch's messages for bad ``argnums``, or when ``func`` does not return a
            scalar tensor.

    Differs from torch: a gradient is attached to the graph of tensors that require grad only
    when they are differentiated arguments, not when ``func`` captures them from outside.
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..autograd.grad_mode import enable_grad

        leaves, spec, new_args, graph = _diff_args(args, argnums, "grad_and_value")
        with _transform_level(), enable_grad():
            out = func(*new_args, **kwargs)
        out, aux = _split_aux(out, has_aux, "grad_and_value(f)(*args)")
        if not isinstance(out, _tensor_cls()):
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                               f"got {type(out)}")
        if out.dim() != 0:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got tensor with {out.dim()} dims. Maybe you wanted to "
                               "use the vjp or jacrev APIs instead?")
        grads = tree_unflatten(_grads([out], leaves, [None], graph, False), spec)
        value = _unwrap(out, graph)
        if has_aux:
            return grads, (value, _unwrap(aux, graph))
        return grads, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function (``torch.func.grad``).

    ``grad(f)(x)`` is ``df/dx`` at ``x``; it composes with ``vmap`` (``vmap(grad(f))`` gives
    per-sample gradients) and with ``functional_call``. Arguments as in
    :func:`grad_and_value`.

    Returns:
        A function returning the gradient(s), or ``(grads, aux)`` with ``has_aux``.
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


# --- vjp ---------------------------------------------------------------------------------------

def vjp(func, *primals, has_aux=False):
    """``func``'s output and a function computing vector-Jacobian products (``torch.func.vjp``).

    Args:
        func: a function of pytrees of tensors returning a pytree of float tensors.
        *primals: the point at which to differentiate.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents)`` takes a pytree
        like the output and returns a tuple with one gradient per primal; it may be called
        more than once.

    Raises:
        RuntimeError: torch's messages for non-tensor outputs, or cotangents whose structure
            or shapes differ from the output's.
    """
    from ..autograd.grad_mode import enable_grad

    flat, spec = tree_flatten(primals)
    graph = _graph_mode(flat, "vjp")
    leaves = [_prepare(x, graph) for x in flat]
    with _transform_level(), enable_grad():
        out = func(*tree_unflatten(leaves, spec))
    out, aux = _split_aux(out, has_aux, "vjp(f, *primals)")
    flat_out, out_spec = tree_flatten(out)
    _check_outputs(flat_out, "vjp(f, *primals)")

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        """The vector-Jacobian product: one gradient per primal, as a tuple."""
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree "
                               f"structure of outputs to the function. cotangents: "
                               f"{treespec_pprint(ct_spec)}, primal output: "
                               f"{treespec_pprint(out_spec)}")
        for i, (c, o) in enumerate(zip(flat_ct, flat_out)):
            if not isinstance(c, _tensor_cls()) or c.shape != o.shape:
                got = c.shape if isinstance(c, _tensor_cls()) else type(c)
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {got} "
                                   f"and output[{i}] has a shape of {o.shape}.")
        flat_ct = [c.to(o.dtype) for c, o in zip(flat_ct, flat_out)]
        make_graph = graph or bool(create_graph) or (
            any(c.requires_grad for c in flat_ct) and _graph_mode(flat_ct, "vjp_fn"))
        grads = _grads(flat_out, leaves, flat_ct, make_graph, retain_graph)
        return tree_unflatten(grads, spec)

    value = _unwrap(out, graph)
    return (value, vjp_fn, _unwrap(aux, graph)) if has_aux else (value, vjp_fn)


# --- Jacobians -----------------------------------------------------------------------------------

def _jacobian(func, argnums, has_aux, args, kwargs, who, randomness="different"):
    """Call ``func`` and build its Jacobian row by row in reverse mode.

    Returns (table, out_spec, in_spec, leaves, out, aux, graph): ``table[i][j]`` is the
    Jacobian of output leaf i with respect to input leaf j, shaped ``out_i.shape + in_j.shape``.
    """
    from .. import _creation, ops
    from ..autograd.grad_mode import enable_grad

    leaves, in_spec, new_args, graph = _diff_args(args, argnums, who)
    with _transform_level(), enable_grad():
        out = RandomnessGuard(randomness).call(func, *new_args, **kwargs)
    out, aux = _split_aux(out, has_aux, f"{who}(f, *primals)")
    flat_out, out_spec = tree_flatten(out)
    _check_outputs(flat_out, f"{who}(f, *primals)")
    table = []
    for o in flat_out:
        n = o.numel()
        rows = [[] for _ in leaves]
        if n and o.requires_grad:
            eye = _creation.eye(n, dtype=o.dtype)
            for k in range(n):
                for r, g in zip(rows, _grads([o], leaves, [eye[k].reshape(o.shape)], graph,
                                             True)):
                    r.append(g)
        table.append([
            ops.stack(r).reshape((*o.shape, *x.shape)) if r else
            _creation.zeros(*o.shape, *x.shape, dtype=x.dtype)
            for r, x in zip(rows, leaves)])
    return table, out_spec, in_spec, leaves, out, aux, graph


def _jac_result(table, out_spec, in_spec, aux, has_aux, graph):
    jac = tree_unflatten([tree_unflatten(row, in_spec) for row in table], out_spec)
    return (jac, _unwrap(aux, graph)) if has_aux else jac


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` by reverse mode (``torch.func.jacrev``).

    For an output of shape ``O`` and an input of shape ``I`` the Jacobian has shape ``O + I``;
    pytree outputs give a pytree of Jacobians, and a tuple ``argnums`` (or a pytree argument)
    gives one Jacobian per input inside each. Computed with one backward pass per output
    element.

    Args:
        func: the function to differentiate.
        argnums: the positional argument(s) to differentiate.
        has_aux: ``func`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.
        chunk_size: accepted for torch's API (rows are always computed one at a time).

    Returns:
        A function computing the Jacobian (and ``aux``).
    """
    if chunk_size is not None and not chunk_size > 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _error_if_complex("jacrev", args, True)
        table, out_spec, in_spec, _, out, aux, graph = _jacobian(
            func, argnums, has_aux, args, kwargs, "vjp")
        _error_if_complex("jacrev", out, False)
        return _jac_result(table, out_spec, in_spec, aux, has_aux, graph)

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` by forward mode (``torch.func.jacfwd``), same layout as
    :func:`jacrev`.

    One forward pass of ``func`` on dual tensors per input element: the tangent of the
    outputs for the k-th basis direction is the k-th column. Inside another forward
    transform (``jacfwd(jacfwd(f))``) ember's single forward level is taken, and the Jacobian
    is built in reverse mode instead (the same values). ``randomness`` is as in ``vmap``
    (``"error"``: a random op inside ``func`` raises torch's error).
    """
    check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _error_if_complex("jacfwd", args, True)
        if _forward_level_taken():
            table, out_spec, in_spec, _, out, aux, graph = _jacobian(
                func, argnums, has_aux, args, kwargs, "jvp", randomness)
            _error_if_complex("jacfwd", out, False)
        else:
            table, out_spec, in_spec, aux, graph = _jacobian_forward(
                func, argnums, has_aux, args, kwargs, randomness)
        return _jac_result(table, out_spec, in_spec, aux, has_aux, graph)

    return wrapper


def _forward_level_taken() -> bool:
    """Whether a dual level is open already (ember has one forward level at a time)."""
    from ..autograd import forward_ad

    return forward_ad._current_level >= 0


def _forward_leaf(x, graph):
    """The tensor made dual in place of ``x``: ``x`` itself inside a differentiating
    transform or when it requires grad (so that the results stay differentiable), else
    detached."""
    if not isinstance(x, _tensor_cls()):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    return x if graph else x.detach()


def _jacobian_forward(func, argnums, has_aux, args, kwargs, randomness):
    """Call ``func`` once per input element on dual tensors (one dual level for all).

    Returns (table, out_spec, in_spec, aux, graph), ``table`` as :func:`_jacobian`'s.
    """
    from .. import _creation, ops
    from ..autograd import forward_ad

    pos = _check_argnums(argnums, len(args))
    positions = (pos,) if isinstance(pos, int) else pos
    diff = args[pos] if isinstance(pos, int) else tuple(args[i] for i in pos)
    flat, in_spec = tree_flatten(diff)
    graph = _graph_mode(flat, "jacfwd")
    leaves = [_forward_leaf(x, graph) for x in flat]

    def call(duals):
        tree = tree_unflatten(duals, in_spec)
        new_args = list(args)
        for k, i in enumerate(positions):
            new_args[i] = tree if isinstance(pos, int) else tree[k]
        with _transform_level():
            out = RandomnessGuard(randomness).call(func, *new_args, **kwargs)
        out, aux = _split_aux(out, has_aux, "jvp(f, *primals)")
        flat_out, out_spec = tree_flatten(out)
        _check_outputs(flat_out, "jvp(f, *primals)")
        _error_if_complex("jacfwd", flat_out, False)
        return flat_out, out_spec, aux

    columns = [[] for _ in leaves]  # per input leaf: per element, the outputs' tangents
    first = None
    with forward_ad.dual_level():
        for j, x in enumerate(leaves):
            basis = _creation.eye(x.numel(), dtype=x.dtype)
            for k in range(x.numel()):
                duals = list(leaves)
                duals[j] = forward_ad.make_dual(x, basis[k].reshape(x.shape))
                flat_out, out_spec, aux = call(duals)
                first = first or (flat_out, out_spec, aux)
                columns[j].append([_tangent_or_zeros(o) for o in flat_out])
        if first is None:  # no input element: one plain call gives the outputs
            first = call(leaves)
    flat_out, out_spec, aux = first
    table = []
    for i, o in enumerate(flat_out):
        row = []
        for x, cols in zip(leaves, columns):
            if cols:
                row.append(ops.stack([c[i] for c in cols], dim=-1).reshape((*o.shape, *x.shape))
                           .to(o.dtype))
            else:
                row.append(_creation.zeros(*o.shape, *x.shape, dtype=o.dtype))
        table.append([r if graph else r.detach() for r in row])
    return table, out_spec, in_spec, aux, graph


def _tangent_or_zeros(o):
    from .. import _creation
    from ..autograd import forward_ad

    t = forward_ad.unpack_dual(o).tangent
    return t if t is not None else _creation.zeros_like(o)


def hessian(func, argnums=0):
    """The Hessian of a scalar function: ``jacfwd(jacrev(func, argnums), argnums)`` (the
    inner Jacobian is recorded with ``create_graph=True`` and differentiated again)."""
    return functools.wraps(func)(jacfwd(jacrev(func, argnums), argnums))


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``: the Jacobian-vector product (``torch.func.jvp``),
    by forward mode: one pass of ``func`` on dual tensors.

    Args:
        func: a function of pytrees of tensors returning a pytree of float tensors.
        primals: a tuple of the point's arguments.
        tangents: a tuple of the same structure and shapes: the direction.
        strict: accepted for torch's API; True raises (not implemented).
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, jvp_out)``, or ``(output, jvp_out, aux)`` with ``has_aux``.

    Inside another forward transform (``jvp`` of ``jvp``: ember has one forward level) the
    product is built from the Jacobian's rows in reverse mode instead (the same values).
    """
    who = "jvp(f, primals, tangents)"
    if strict:
        raise RuntimeError(f"{who}: strict=True is not implemented")
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"{who}: Expected {name} to be a tuple. E.g. it should be valid to "
                               "call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{who}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, tangents "
                           f"also must be. Got primals with structure {p_spec} and tangents with "
                           f"structure {t_spec}")
    for p, t in zip(flat_p, flat_t):
        if isinstance(p, _tensor_cls()) and isinstance(t, _tensor_cls()) and p.shape != t.shape:
            raise RuntimeError("Trying to set a forward gradient that has a different size than "
                               "that of the original Tensor, this is not supported. Tensor is of "
                               f"size {list(p.shape)} while the given forward gradient is of size "
                               f"{list(t.shape)}.")
    if _forward_level_taken():
        return _jvp_by_rows(func, primals, flat_t, has_aux)
    from ..autograd import forward_ad

    graph = _graph_mode(flat_p, "jvp")
    leaves = [_forward_leaf(x, graph) for x in flat_p]
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, t if t.dtype == x.dtype else t.to(x.dtype))
                 for x, t in zip(leaves, flat_t)]  # (torch.func's tangents take the primal's dtype)
        with _transform_level():
            out = func(*tree_unflatten(duals, p_spec))
        out, aux = _split_aux(out, has_aux, "jvp(f, primals, tangents)")
        flat_out, out_spec = tree_flatten(out)
        _check_outputs(flat_out, who)
        products = [_tangent_or_zeros(o) for o in flat_out]
    result = (_unwrap(out, graph), _unwrap(tree_unflatten(products, out_spec), graph))
    return result + (_unwrap(aux, graph),) if has_aux else result


def _jvp_by_rows(func, primals, flat_t, has_aux):
    """``jvp`` from the Jacobian's rows in reverse mode (inside another forward transform).
    With complex tensors ``J t = A t + B conj(t)``: the rows for the cotangent 1
    (``conj(A) + B``) and for i (``i conj(A) - i B``, the rows of ``-i func``) give both."""
    argnums = tuple(range(len(primals))) if primals else 0
    table, out_spec, _, leaves, out, aux, graph = _jacobian(
        func, argnums, has_aux, primals, {}, "jvp")
    flat_out, _ = tree_flatten(out)
    turned = None
    if any(v.is_complex() for v in (*leaves, *flat_t, *flat_out)):
        turned = _jacobian(_times_minus_i(func, has_aux), argnums, has_aux, primals, {},
                           "jvp")[0]
    products = []
    for i, (o, row) in enumerate(zip(flat_out, table)):
        total = None
        for k, (j, x, t) in enumerate(zip(row, leaves, flat_t)):
            j, t = j.reshape(o.numel(), x.numel()), t.reshape(-1)
            if turned is None:
                part = j @ t.to(j.dtype)
            else:
                j2 = turned[i][k].reshape(o.numel(), x.numel()) * 1j
                t = t.to(j2.dtype)
                part = ((j - j2).conj() @ t + (j + j2) @ t.conj()) * 0.5
            total = part if total is None else total + part
        total = total.reshape(o.shape)
        products.append(total.real if total.is_complex() and not o.is_complex() else
                        total.to(o.dtype))
    result = (_unwrap(out, graph), _unwrap(tree_unflatten(products, out_spec), graph))
    return result + (_unwrap(aux, graph),) if has_aux else result


def _times_minus_i(func, has_aux):
    """``-i func`` (its outputs, not its aux)."""
    def turned(*args):
        out = func(*args)
        if has_aux:
            return tree_map(lambda v: v * -1j, out[0]), out[1]
        return tree_map(lambda v: v * -1j, out)

    return turned


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is the Jacobian-vector product
    at ``primals`` (``torch.func.linearize``); each call of ``jvp_fn`` is one forward-mode
    pass of ``func`` (:func:`jvp`)."""
    out = jvp(func, primals, tuple(tree_map(lambda p: p * 0, primals)))[0]

    def jvp_fn(*tangents):
        """The Jacobian-vector product at the linearisation point."""
        return jvp(func, primals, tangents)[1]

    return out, jvp_fn


def functionalize(func, *, remove="mutations"):
    """``func`` itself: ember runs eagerly on NumPy, so removing mutations changes nothing
    observable (``torch.func.functionalize`` rewrites the program for compilers)."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for "
                           f"remove={remove}. Valid options are:\n     remove='mutations': all "
                           "inplace and out= operators will be removed from the program, and "
                           "replaced with their out-of-place equivalents.\n     "
                           "remove='mutations_and_views': In addition to the above, all aliasing "
                           "operators {view} will be replaced with their non-aliasing "
                           "counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper

