"""``functional_call`` (run a module with other parameters) and ``stack_module_state``.

``functional_call`` swaps the given tensors into the module's ``_parameters`` / ``_buffers``
(or plain attributes) for the duration of one call and swaps the originals back afterwards,
exactly as torch's ``torch.nn.utils.stateless._reparametrize_module`` does.
"""
from __future__ import annotations

from collections.abc import Sequence

_MISSING = object()


def _merge_dicts(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return parameter_and_buffer_dicts
    if isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        return {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                     f"dicts, but got {type(parameter_and_buffer_dicts)}")


def _named_tensors(module):
    yield from module.named_parameters(remove_duplicate=False)
    yield from module.named_buffers(remove_duplicate=False)


def _untie(module, values):
    """Give every name tied to a given one (the same Parameter under two names) its value."""
    by_tensor = {}
    for name, t in _named_tensors(module):
        by_tensor.setdefault(id(t), set()).add(name)
    tied = {n: names for names in by_tensor.values() if len(names) > 1 for n in names}
    given = [n for n in values if n in tied]
    for name in given:
        names = tied[name]
        if len(names.intersection(given)) > 1 and len({id(values[n]) for n in names
                                                       if n in values}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             "which are tied. Consider using tie_weights=False")
    untied = dict(values)
    for name in given:
        for other in tied[name]:
            untied[other] = values[name]
    return untied


def _owner(module, path):
    """(submodule, attribute name) for a dotted ``path``."""
    prefix, _, attr = path.rpartition(".")
    mod = module
    for part in prefix.split(".") if prefix else ():
        if not hasattr(mod, part):
            raise AttributeError(f"{mod._get_name()} has no attribute `{part}`")
        mod = getattr(mod, part)
    return mod, attr


def _swap(module, path, tensor):
    """Put ``tensor`` at ``path`` and return what was there (``_MISSING`` if nothing)."""
    from .._tensor import Tensor

    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    mod, name = _owner(module, path)
    for table in (mod._parameters, mod._buffers):
        if name in table:
            orig = table[name]
            if tensor is _MISSING:
                del table[name]
            else:
                table[name] = tensor
            return orig
    orig = getattr(mod, name) if hasattr(mod, name) else _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
    if tensor is not _MISSING:
        setattr(mod, name, tensor)
    elif hasattr(mod, name):
        delattr(mod, name)
    return orig


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with its parameters and buffers replaced (``torch.func.functional_call``).

    Args:
        module: the module to call.
        parameter_and_buffer_dicts: a dict from dotted names (``"0.weight"``) to tensors, or a
            tuple of such dicts with distinct keys; names not given keep the module's own.
        args: the positional argument(s); anything but a tuple is a single argument.
        kwargs: keyword arguments for the call.
        tie_weights: a value given for one of several names sharing a Parameter is used for all
            of them (two different values for tied names raise ValueError).
        strict: raise RuntimeError for missing or unexpected names.

    Returns:
        Whatever ``module`` returns. The module's own tensors are back in place afterwards,
        even when the call raises. Composes with ``grad`` and ``vmap`` (per-sample gradients).
    """
    values = _merge_dicts(parameter_and_buffer_dicts)
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    untied = _untie(module, values) if tie_weights else values
    if strict:
        valid = {name for name, _ in _named_tensors(module)}
        missing, unexpected = sorted(valid - set(untied)), sorted(set(untied) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(msgs)))
    originals = {}
    try:
        for name, tensor in untied.items():
            originals[name] = _swap(module, name, tensor)
        return module(*args, **kwargs)
    finally:
        current = {name: _swap(module, name, orig) for name, orig in originals.items()}
        # a module that reassigned its own buffers in place hands the new ones back
        values.update({k: current[k] for k in values if k in current})


def _stacked_leaf(tensors, name):
    from .. import ops

    grads = [t.requires_grad for t in tensors]
    if any(grads) and not all(grads):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = ops.stack(list(tensors))
    return out.detach().requires_grad_() if all(grads) else out


def stack_module_state(models):
    """Stack the parameters and buffers of same-class modules for ``vmap`` ensembling.

    Args:
        models: a sequence (or ``ModuleList``) of modules of one class, all in train or all in
            eval mode.

    Returns:
        ``(params, buffers)``: dicts from state-dict names to tensors with a new leading dim of
        size ``len(models)``; stacked parameters are new leaves that require grad.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root):
    """Make every BatchNorm in ``root`` stop tracking running statistics, in place (so it can
    run under ``vmap``); returns ``root``."""
    from ..nn.modules.batchnorm import _BatchNorm

    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
