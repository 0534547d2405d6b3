"""``Tracer`` and ``symbolic_trace``: run a module's ``forward`` on Proxies to record a Graph.

Tracing calls ``forward`` once with one Proxy per parameter. While it runs, calls of
submodules go through ``Tracer.call_module`` (leaf modules -- ember's own layers -- become
``call_module`` nodes, user modules are traced through), parameter lookups become
``get_attr`` nodes, and ember functions, Tensor methods and ``wrap``-ped functions are
patched so that calling them on a Proxy records a node (see ``_patching``).
"""
from __future__ import annotations

import builtins
import collections
import functools
import inspect
import math
import warnings
from collections.abc import Callable
from types import FunctionType, ModuleType
from typing import Any

import ember

from ._patching import (
    _create_wrapped_func,
    _Patcher,
    autowrap_check,
    ember_api_functions,
    patch_ember_api,
)
from .graph import Graph
from .node import has_side_effect
from .proxy import ParameterProxy, Proxy, TracerBase, _base_types

__all__ = ["Tracer", "symbolic_trace", "wrap", "PH", "PHBase", "is_fx_tracing"]

_is_fx_tracing_flag = False
_CO_VARARGS = inspect.CO_VARARGS
_CO_VARKEYWORDS = inspect.CO_VARKEYWORDS


def is_fx_tracing() -> bool:
    """Whether a symbolic trace is running."""
    return _is_fx_tracing_flag


class PHBase:
    """Marks a ``concrete_args`` entry that should stay an input (a placeholder)."""

    def __repr__(self) -> str:
        return "PH"


PH = PHBase()

# (id(globals), name) -> globals dict holding a function registered with ``wrap``
_wrapped_fns_to_patch: dict[tuple[int, str], dict[str, Any]] = {}


def wrap(fn_or_name: str | Callable) -> str | Callable:
    """Register a module-level function as a leaf: traced code records a call to it.

    Call at module scope with the function or its name (``ember.fx.wrap("my_fn")``), or use
    it as a decorator. While tracing, calls of that global with a Proxy argument become
    ``call_function`` nodes instead of being traced through.

    Raises:
        NotImplementedError: when not called at the top level of a module.
    """
    if not callable(fn_or_name) and not isinstance(fn_or_name, str):
        raise RuntimeError(
            "Unsupported type for global function! Must be either a callable or string name")
    fn_name = fn_or_name if isinstance(fn_or_name, str) else fn_or_name.__name__
    f = inspect.currentframe().f_back
    if f.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(f.f_globals), fn_name)] = f.f_globals
    return fn_or_name


def _patch_wrapped_functions(patcher: _Patcher) -> None:
    for (_, name), frame_dict in _wrapped_fns_to_patch.copy().items():
        if name not in frame_dict and hasattr(builtins, name):
            orig_fn = getattr(builtins, name)
        else:
            orig_fn = frame_dict[name]
        patcher.patch(frame_dict, name, _create_wrapped_func(orig_fn))


@has_side_effect
def _assert(condition, message: str = "") -> None:
    """Raise ``AssertionError(message)`` unless ``condition`` holds (torch._assert)."""
    if not condition:
        raise AssertionError(message)


@wrap
def _assert_is_none(value: object, msg: str) -> None:
    if value is not None:
        raise AssertionError(msg)


def _patch_function(fn: FunctionType, nargs: int) -> FunctionType:
    """``fn`` with ``*args`` / ``**kwargs`` / keyword-only turned into plain positionals."""
    co = fn.__code__
    new_code = co.replace(co_argcount=nargs, co_posonlyargcount=0, co_kwonlyargcount=0,
                          co_flags=co.co_flags & ~(_CO_VARARGS | _CO_VARKEYWORDS))
    return FunctionType(new_code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


class Tracer(TracerBase):
    """Records a ``Graph`` from a module or function; ``symbolic_trace(m)`` is
    ``Tracer().trace(m)`` wrapped in a ``GraphModule``.

    Subclass it to change what is recorded: ``is_leaf_module`` (which modules stay
    ``call_module`` nodes), ``call_module``, ``create_arg``, ``getattr``, ``create_proxy``.

    Args:
        autowrap_modules: modules whose functions are recorded when called on a Proxy
            without ``wrap`` (default ``(math,)``). ember's own function namespaces are
            always handled.
        autowrap_functions: further functions to record that way.
        param_shapes_constant: answer ``shape`` / ``size()`` / ``dim()`` of parameters with
            their real values instead of recording them.
    """

    def __init__(self, autowrap_modules: tuple[ModuleType, ...] = (math,),
                 autowrap_functions: tuple[Callable, ...] = (),
                 param_shapes_constant: bool = False) -> None:
        super().__init__()
        self._autowrap_function_ids: set[int] = {
            id(value) for m in autowrap_modules for name, value in m.__dict__.items()
            if not name.startswith("_") and callable(value)}
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_search: list[ModuleType] = list(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths: dict | None = None
        self.root_module_name = ""
        self.module_stack: collections.OrderedDict = collections.OrderedDict()
        self.num_calls: dict[str, int] = {}

    def get_fresh_qualname(self, prefix: str) -> str:
        """``prefix`` + the first number not yet used on the root (``_tensor_constant0``)."""
        i = 0
        while hasattr(self.root, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    def create_arg(self, a: Any):
        """Lower a value into a node argument; tensors and modules of the root are fetched.

        Parameters, buffers and submodules of the root become ``get_attr`` nodes; any other
        tensor is stored on the root as ``_tensor_constant<N>`` and fetched from there.
        """
        if isinstance(a, ember.nn.Parameter):
            for n, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, ember.Tensor):
            for n_, p_ in self.root.named_buffers():
                if a is p_:
                    return self.create_node("get_attr", n_, (), {})
        elif isinstance(a, ember.nn.Module):
            for n_, p_ in self.root.named_modules():
                if a is p_:
                    return self.create_node("get_attr", n_, (), {})
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            args = tuple(self.create_arg(elem) for elem in a)
            return self.create_node("call_function", a.__class__, args, {})
        if isinstance(a, ember.Tensor):
            qualname = self.tensor_attrs.get(a)
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                self.tensor_attrs[a] = qualname
                setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    def is_leaf_module(self, m, module_qualified_name: str) -> bool:
        """Whether ``m`` is recorded as one ``call_module`` node rather than traced through.

        By default ember's own layers (modules of ``ember.nn``) are leaves, except
        ``Sequential``; user modules are traced through.
        """
        return m.__module__.startswith("ember.nn") and not isinstance(m, ember.nn.Sequential)

    def path_of_module(self, mod) -> str:
        """The qualified name of submodule ``mod`` in the root (``"encoder.layer1"``)."""
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward: Callable, args: tuple, kwargs: dict) -> Any:
        """Record a call of submodule ``m``: a ``call_module`` node for a leaf, else trace
        through ``forward``."""
        module_qualified_name = self.path_of_module(m)
        num_calls = self.num_calls.get(module_qualified_name, 0)
        module_key = (f"{module_qualified_name}@{num_calls}" if num_calls > 0
                      else module_qualified_name)
        self.module_stack[module_key] = (module_qualified_name, type(m))
        self.num_calls[module_qualified_name] = num_calls + 1
        try:
            if not self.is_leaf_module(m, module_qualified_name):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", module_qualified_name, args, kwargs)
        finally:
            self.module_stack.popitem(last=True)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Proxy]) -> Any:
        """What ``module.attr`` gives while tracing: a (cached) ``get_attr`` Proxy for a
        parameter of the root (and for buffers with ``proxy_buffer_attributes``), else the
        value itself."""
        def proxy_for(collection) -> Proxy | None:
            for n, p in collection:
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        factory = None
                        if self.param_shapes_constant:
                            def factory(node, n=n):
                                return ParameterProxy(self, node, n, attr_val)
                        parameter_proxy_cache[n] = self.create_proxy(
                            "get_attr", n, (), {}, proxy_factory_fn=factory)
                    return parameter_proxy_cache[n]
            return None

        if isinstance(attr_val, ember.nn.Parameter):
            found = proxy_for(self.root.named_parameters())
            if found is not None:
                return found
        if self.proxy_buffer_attributes and isinstance(attr_val, ember.Tensor):
            found = proxy_for(self.root.named_buffers())
            if found is not None:
                return found
        return attr_val

    def create_args_for_root(self, root_fn: Callable, is_module: bool,
                             concrete_args: dict[str, Any] | tuple | None = None):
        """Make the placeholders for ``root_fn``'s parameters; returns ``(fn, args)``."""
        fn_for_analysis = inspect.unwrap(root_fn)
        co = fn_for_analysis.__code__
        total_args = co.co_argcount + co.co_kwonlyargcount
        names_iter = iter(co.co_varnames)
        args: list[Any] = []
        skip_arg_idx = 0
        if is_module:
            if total_args == 0:
                raise RuntimeError("``self`` argument cannot be part of *args expansion!")
            skip_arg_idx = 1
            next(names_iter)  # self
            args.append(self.root)
        sig = inspect.signature(fn_for_analysis)
        arg_names = [next(names_iter) for _ in range(skip_arg_idx, total_args)]
        if isinstance(concrete_args, tuple):
            if len(arg_names) != len(concrete_args):
                raise RuntimeError(f"Tracing expected {len(arg_names)} arguments but got "
                                   f"{len(concrete_args)} concrete arguments")
            concrete_args = dict(zip(arg_names, concrete_args))
        for name in arg_names:
            args.append(self._proxy_placeholder(name, concrete_args, sig, fn_for_analysis))
        if co.co_kwonlyargcount > 0 or co.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS):
            if co.co_flags & _CO_VARARGS:
                args.append(self._proxy_placeholder("*" + next(names_iter), None, sig,
                                                    fn_for_analysis))
            if co.co_flags & _CO_VARKEYWORDS:
                args.append(self._proxy_placeholder("**" + next(names_iter), None, sig,
                                                    fn_for_analysis))
            root_fn = _patch_function(root_fn, len(args))
        return root_fn, args

    def _proxy_placeholder(self, name: str, concrete_args: dict | None, sig, fn) -> Any:
        if name[0] == "*":
            default: tuple = ()
        else:
            param = sig.parameters[name]
            default = () if param.default is inspect.Parameter.empty else (param.default,)
        if concrete_args is not None and name in concrete_args:
            x = concrete_args[name]
            out = self.create_proxy("placeholder", f"{name}_1", default, {})
            if isinstance(x, PHBase):
                return out
            if type(x) is bool or (type(x) in _base_types() and type(x) is not ember.Tensor):
                self.create_proxy("call_function", _assert, (
                    out == x, f"{name} has been specialized to have value {x} but got another "
                    "value"), {})
            elif x is None:
                self.create_proxy("call_function", _assert_is_none, (
                    out, f"{name} has been specialized to have value None but got another "
                    "value"), {})
            else:
                warnings.warn(f"Was not able to add assertion to guarantee correct input {name} "
                              "to specialized function. It is up to the user to make sure that "
                              "your inputs match the inputs you specialized the function with.",
                              stacklevel=4)
            return x
        return self.create_proxy("placeholder", name, default, {},
                                 type_expr=fn.__annotations__.get(name, None))

    def trace(self, root, concrete_args: dict[str, Any] | None = None) -> Graph:
        """Trace ``root`` (a Module or a function) and return the recorded ``Graph``.

        Args:
            root: the module whose ``forward`` is traced, or a plain function.
            concrete_args: parameter name -> a value to specialize on (the parameter stays
                an input, guarded by an assertion) or ``PH`` to keep it symbolic.

        Returns:
            The graph. ``self.root`` is the module its attributes refer to (a fresh Module
            when ``root`` is a function).
        """
        global _is_fx_tracing_flag
        old_flag, _is_fx_tracing_flag = _is_fx_tracing_flag, True
        try:
            if isinstance(root, ember.nn.Module):
                self.root = root
                if not hasattr(type(root), self.traced_func_name):
                    raise AssertionError(f"traced_func_name={self.traced_func_name} doesn't "
                                         f"exist in {type(root).__name__}")
                fn = getattr(type(root), self.traced_func_name)
                self.root_module_name = root._get_name()
                self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            else:
                self.root = ember.nn.Module()
                fn = root
            self.graph = Graph(tracer_cls=getattr(self, "__class__", None))
            # tensors stored as plain attributes anywhere in the hierarchy, by identity
            self.tensor_attrs: dict[ember.Tensor, str] = {}
            self._collect_tensor_attrs(self.root, [])
            if not isinstance(fn, FunctionType):
                raise AssertionError(f"Expected FunctionType, got {type(fn)}")
            fn_globals = fn.__globals__  # before create_args_for_root may replace fn
            fn, args = self.create_args_for_root(fn, isinstance(root, ember.nn.Module),
                                                 concrete_args)
            with _Patcher() as patcher:
                self._patch_for_tracing(patcher, fn_globals)
                self.create_node("output", "output", (self.create_arg(fn(*args)),), {},
                                 type_expr=fn.__annotations__.get("return", None))
            self.submodule_paths = None
        finally:
            _is_fx_tracing_flag = old_flag
        return self.graph

    def _collect_tensor_attrs(self, m, prefix_atoms: list[str]) -> None:
        for k, v in m.__dict__.items():
            if isinstance(v, ember.Tensor):
                self.tensor_attrs[v] = ".".join(prefix_atoms + [k])
        for k, v in m.named_children():
            self._collect_tensor_attrs(v, prefix_atoms + [k])

    def _patch_for_tracing(self, patcher: _Patcher, fn_globals: dict) -> None:
        module_cls = ember.nn.Module
        orig_getattr, orig_call = module_cls.__getattr__, module_cls.__call__
        parameter_proxy_cache: dict[str, Proxy] = {}
        api_functions = ember_api_functions()

        @functools.wraps(orig_getattr)
        def module_getattr_wrapper(mod, attr: str) -> Any:
            return self.getattr(attr, orig_getattr(mod, attr), parameter_proxy_cache)

        @functools.wraps(orig_call)
        def module_call_wrapper(mod, *args: Any, **kwargs: Any) -> Any:
            def forward(*args: Any, **kwargs: Any) -> Any:
                return orig_call(mod, *args, **kwargs)

            forward_fn = getattr(mod, "forward", mod)
            autowrap_check(patcher, getattr(forward_fn, "__globals__", {}),
                           self._autowrap_function_ids, api_functions)
            return self.call_module(mod, forward, args, kwargs)

        # duplicates allowed: a trace inside a trace patches again
        patcher.patch_method(module_cls, "__getattr__", module_getattr_wrapper, deduplicate=False)
        patcher.patch_method(module_cls, "__call__", module_call_wrapper, deduplicate=False)
        _patch_wrapped_functions(patcher)
        patch_ember_api(patcher)
        autowrap_check(patcher, fn_globals, self._autowrap_function_ids, api_functions)
        for module in self._autowrap_search:
            autowrap_check(patcher, module.__dict__, self._autowrap_function_ids, api_functions)


def symbolic_trace(root, concrete_args: dict[str, Any] | None = None):
    """Trace ``root`` (a Module or function) into a ``GraphModule``.

    Args:
        root: the module or function to trace.
        concrete_args: values to specialize on, by parameter name (``{"flag": True}``);
            control flow on them is then fixed, and an assertion guards the input.

    Returns:
        A ``GraphModule`` named after ``root``'s class (or function), whose ``code`` shows
        the recorded operations as Python.
    """
    from .graph_module import GraphModule

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = root.__class__.__name__ if isinstance(root, ember.nn.Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
