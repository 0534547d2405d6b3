"""The ``Optimizer`` base class: parameter groups, per-parameter state, state dicts, hooks.

Subclasses (SGD, Adam, RMSprop, ...) update the parameters' NumPy arrays in place with
``out=`` arguments; the scratch arrays they need live in one flat buffer per dtype that is
reused for every parameter, so a step allocates nothing proportional to the model.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

import ember
from ember.nn.modules._hooks import RemovableHandle as _RemovableHandle  # ember.utils.hooks's

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must set (torch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


_global_optimizer_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> _RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` before every step.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    handle = _RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> _RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None`` after every optimizer's step.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    handle = _RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj: Any) -> str:
    """torch.typename for the error messages: ``int``, ``numpy.ndarray``, ``torch.FloatTensor``
    (a tensor's ``type()``)..."""
    if isinstance(obj, ember.Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    if module in ("builtins", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _hooked_step(step: Callable) -> Callable:
    """Wrap a subclass's ``step`` so that global and per-instance step hooks run around it."""

    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # as in torch, the hooks see the optimizer itself as args[0]
        self = args[0]
        pre = self._optimizer_step_pre_hooks
        if _global_optimizer_pre_hooks or pre:
            for hook in chain(_global_optimizer_pre_hooks.values(), pre.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(
                            f"{step} must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
        out = step(*args, **kwargs)
        post = self._optimizer_step_post_hooks
        if post or _global_optimizer_post_hooks:
            for hook in chain(post.values(), _global_optimizer_post_hooks.values()):
                hook(self, args, kwargs)
        return out

    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class for all optimizers, with torch's interface.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``named_parameters()``),
            or of dicts that define parameter groups (each with a ``"params"`` entry and
            optional per-group hyper-parameters).
        defaults: default hyper-parameters, used by groups that do not set them.

    Attributes:
        param_groups: list of dicts, one per group, each holding ``"params"`` and the
            group's hyper-parameters (a scheduler changes ``group["lr"]``).
        state: ``defaultdict(dict)`` from parameter to its state (``exp_avg``, ``step``,
            ``momentum_buffer`` ... as ember Tensors with torch's key names).
        defaults: the dict passed at construction.

    Raises:
        TypeError: ``params`` is a single Tensor, a set, or holds something not a Tensor.
        ValueError: the parameter list is empty, a parameter is in two groups, a
            non-leaf tensor is given, or a required hyper-parameter is missing.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._init_hook_dicts()
        self._init_scratch()
        if isinstance(params, ember.Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors "
                "or dicts, but got " + _typename(params)
            )
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ------------------------------------------------------------------ plumbing
    def _init_hook_dicts(self) -> None:
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()

    def _init_scratch(self) -> None:
        # One flat buffer per (dtype, slot), as large as the largest parameter seen, and
        # cached views of it shaped like each parameter: the scratch memory of a step is
        # at most one or two parameter-sized arrays, like torch's single-tensor loop.
        self._scratch_flat: dict[tuple, np.ndarray] = {}
        self._scratch_views: dict[tuple, np.ndarray] = {}

    def _scratch(self, arr: np.ndarray, slot: int = 0) -> np.ndarray:
        """A reusable array shaped and typed like ``arr`` (contents undefined)."""
        key = (arr.shape, arr.dtype, slot)
        view = self._scratch_views.get(key)
        if view is None:
            flat_key = (arr.dtype, slot)
            flat = self._scratch_flat.get(flat_key)
            if flat is None or flat.size < arr.size:
                flat = np.empty(max(arr.size, 1), dtype=arr.dtype)
                self._scratch_flat[flat_key] = flat
                # views of the old, smaller buffer would keep it alive: drop them
                self._scratch_views = {
                    k: v for k, v in self._scratch_views.items() if (k[1], k[2]) != flat_key
                }
            view = flat[: arr.size].reshape(arr.shape)
            self._scratch_views[key] = view
        return view

    def __getstate__(self) -> dict[str, Any]:
        return {
            "defaults": self.defaults,
            "state": self.state,
            "param_groups": self.param_groups,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:  # unpickled or deep-copied
            self._init_hook_dicts()
        if "_scratch_flat" not in self.__dict__:
            self._init_scratch()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    def _closure_loss(self, closure: Callable | None) -> Any:
        """Run ``closure`` with grad mode on (as torch's ``step`` does) and return its loss."""
        if closure is None:
            return None
        with ember.enable_grad():
            return closure()

    # ------------------------------------------------------------------ public API
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step (implemented by subclasses).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss.
        """
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: set ``.grad`` to ``None`` (the default, as in torch) instead of
                filling it with zeros. A step skips parameters whose grad is ``None``, but
                not those whose grad is zero (weight decay and momentum still act).
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad  # the slot behind the .grad property (hot: every step)
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None or grad.requires_grad:
                        grad = grad.detach()
                        p.grad = grad
                    grad._data.fill(0)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (for example to train layers unfrozen later).

        Args:
            param_group: dict with ``"params"`` (a Tensor, or an ordered iterable of Tensors
                or of ``(name, Tensor)`` pairs) and optional group-specific hyper-parameters;
                missing ones come from ``defaults``.

        Raises:
            TypeError: ``param_group`` is not a dict, ``params`` is a set, or holds
                something not a Tensor.
            ValueError: a non-leaf tensor, a missing required hyper-parameter, names on some
                parameters or groups only, or a parameter already in another group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, ember.Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. Please use a list "
                "instead."
            )
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)
        param_group["params"] = extracted_param_tensors
        if len(extracted_param_names) != 0:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names "
                    "are missing"
                )

        for param in param_group["params"]:
            if not isinstance(param, ember.Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + _typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (
                param.is_leaf or getattr(param, "retains_grad", False)
            ):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        param_set: set[int] = set()
        for group in self.param_groups:
            param_set.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = (
                    "with names" if "param_names" in param_group else "without names"
                )
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current_group_txt} to the optimizer"
                )
        if not param_set.isdisjoint(id(p) for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    def state_dict(self) -> dict[str, Any]:
        """Return the optimizer's state in torch's format.

        Returns:
            ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``
            where parameters are numbered in group order from 0. The state Tensors are
            references to the live state (as in torch); copy them to keep a snapshot.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {
                    id(p): i
                    for i, p in enumerate(group["params"], start_index)
                    if id(p) not in param_mappings
                }
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, ember.Tensor) else k): v
            for k, v in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _state_shape(self, param_shape: tuple, key: Any) -> tuple | None:
        """The shape a loaded state tensor ``key`` must have (None: the parameter's);
        optimizers whose state is shaped otherwise (Adafactor's factors) say so here."""
        return None

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by :meth:`state_dict` (ember's or torch's format).

        State tensors are copied (cast to the parameter's dtype, except ``step``), so the
        loaded dict is never modified by later steps; torch may alias them instead.
        Integer keys that came back as strings (``"0"``) from a text format are accepted.

        Args:
            state_dict: ``{"state": ..., "param_groups": ...}`` as returned by
                :meth:`state_dict`.

        Raises:
            ValueError: the number of groups, the size of a group, or the shape of a
                parameter's state tensor does not match this optimizer.
        """
        state_dict = dict(state_dict)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size "
                "of optimizer's group"
            )

        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def _cast(param: Any, value: Any, index: Any, key: Any = None) -> Any:
            if _is_array_like(value):
                return _copy_state_value(param, value, index, key,
                                         self._state_shape(param._data.shape, key))
            if isinstance(value, dict):
                return {k: _cast(param, v, index, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(_cast(param, v, index) for v in value)
            return value

        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k not in id_map and isinstance(k, str) and k.lstrip("-").isdigit():
                k = int(k)
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, k)
            else:
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` before step.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable) -> _RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None`` to run after each step.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer)`` to run before :meth:`state_dict`.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer, state_dict) -> state_dict | None`` after state_dict.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer, state_dict) -> state_dict | None`` before loading.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """Register ``hook(optimizer)`` to run after :meth:`load_state_dict`.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _register(hooks: OrderedDict, hook: Callable, prepend: bool) -> _RemovableHandle:
        handle = _RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle


def _is_array_like(value: Any) -> bool:
    """An ember Tensor, a NumPy array, or another framework's tensor (torch's)."""
    if isinstance(value, (ember.Tensor, np.ndarray)):
        return True
    return hasattr(value, "detach") and hasattr(value, "numpy") and hasattr(value, "shape")


def _copy_state_value(param: Any, value: Any, index: Any, key: Any,
                      expected: tuple | None) -> ember.Tensor:
    """Copy one loaded state tensor: floating state takes the parameter's dtype, ``step``
    keeps its own (torch's policy); the copy is a fresh, writable, contiguous array of the
    ``expected`` shape (None: the parameter's)."""
    if isinstance(value, ember.Tensor):
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    else:  # e.g. a torch.Tensor from a torch checkpoint
        arr = np.asarray(value.detach().cpu().numpy())
    if key == "step":
        return ember.from_numpy(np.array(arr, copy=True, order="C"))
    pdata = param._data
    if expected is None:
        expected = pdata.shape
    if arr.ndim > 0 and arr.shape != expected:
        raise ValueError(
            f"loaded state dict has a state {key!r} of shape {tuple(arr.shape)} for "
            f"parameter {index}, but the parameter has shape {tuple(pdata.shape)}"
        )
    dtype = pdata.dtype if np.issubdtype(pdata.dtype, np.floating) else arr.dtype
    return ember.from_numpy(np.array(arr, dtype=dtype, copy=True, order="C"))
