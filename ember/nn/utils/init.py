"""``torch.nn.utils.init``: ``skip_init``, a module built without initialising its
parameters and buffers."""
from __future__ import annotations

import inspect

import ember

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """Build ``module_cls(*args, **kwargs)`` with uninitialised parameters and buffers
    (as if made by ``ember.empty``), for code that initialises them itself.

    torch builds the module on the "meta" device and then calls ``to_empty``; ember has only
    the CPU, so it builds the module there and then calls ``to_empty``. The default
    initialisation's random draws are undone (the generator's state is restored), so the
    random stream afterwards is the one torch leaves.

    Args:
        module_cls: a subclass of ``nn.Module`` whose constructor takes ``device``.
        args, kwargs: the constructor's arguments (``device`` is where the module ends up).

    Returns:
        The module, its parameters and buffers uninitialised.

    Raises:
        RuntimeError: ``module_cls`` is not a Module class, or takes no ``device`` argument
            (torch's messages).
    """
    if not (inspect.isclass(module_cls) and issubclass(module_cls, ember.nn.Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "cpu"
    state = ember.get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        ember.set_rng_state(state)
    return module.to_empty(device=final_device)
