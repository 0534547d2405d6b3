"""``Proxy``: the stand-in value that flows through a function being traced.

Every operation on a Proxy is recorded as a Node instead of computed: ``x + 1`` becomes
``call_function[operator.add]``, ``x.view(2, -1)`` becomes ``call_method[view]``,
``x.shape`` becomes ``call_function[getattr]``. A Proxy has no value, so using one as a
condition or iterating over it raises ``TraceError``.
"""
from __future__ import annotations

import collections
import dis
import enum
import inspect
import operator
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

import ember

from ._codegen import magic_methods, reflectable_magic_methods
from ._qualname import unpatched
from .graph import Graph
from .node import Node, map_arg

__all__ = ["TracerBase", "GraphAppendingTracer", "TraceError", "Proxy", "Attribute",
           "ParameterProxy"]


_FX_DIR = os.path.dirname(os.path.abspath(__file__))


def _base_types() -> tuple:
    return (str, int, float, bool, complex, ember.dtype, ember.Tensor, ember.device,
            ember.memory_format, ember.layout)


class TraceError(ValueError):
    """A traced program did something a Proxy cannot stand in for (control flow on it)."""


class TracerBase:
    """What a Proxy needs from its tracer: making nodes and lowering arguments into them."""

    graph: Graph
    record_stack_traces: bool = False
    check_mutable_operations: bool = False
    trace_asserts: bool = False
    proxy_buffer_attributes: bool = False
    traced_func_name: str = "forward"

    def create_node(self, kind: str, target, args: tuple, kwargs: dict, name: str | None = None,
                    type_expr: Any | None = None) -> Node:
        """Insert a node into ``self.graph``; override to check or alter what is recorded."""
        if kind == "call_function":
            target = unpatched(target)  # record ember.relu, never its tracing wrapper
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        module_stack = getattr(self, "module_stack", None)
        if module_stack:
            node.meta["nn_module_stack"] = collections.OrderedDict(module_stack)
        if self.record_stack_traces and not node.stack_trace:
            # the user's frames only: none from ember.fx itself
            frames = [f for f in traceback.extract_stack()[:-1]
                      if not f.filename.startswith(_FX_DIR)]
            if frames:
                node.stack_trace = "".join(traceback.StackSummary.from_list(frames).format())
        return node

    def proxy(self, node: Node) -> Proxy:
        """Wrap ``node`` in a Proxy of this tracer."""
        return Proxy(node, self)

    def create_proxy(self, kind: str, target, args: tuple, kwargs: dict,
                     name: str | None = None, type_expr: Any | None = None,
                     proxy_factory_fn: Callable[[Node], Proxy] | None = None) -> Proxy:
        """Lower ``args`` / ``kwargs`` with ``create_arg``, create the node, return its Proxy."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return proxy_factory_fn(node) if proxy_factory_fn else self.proxy(node)

    def create_arg(self, a: Any):
        """Turn a value met during tracing into something a Node can hold.

        Proxies become their nodes; tuples, lists, dicts and slices are lowered element by
        element; constants (numbers, strings, dtypes, None, ...) stay as they are.

        Raises:
            NotImplementedError: for values of any other type.
        """
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(elem) for elem in a])
            return type(a)([self.create_arg(elem) for elem in a])
        if isinstance(a, list):
            return [self.create_arg(elem) for elem in a]
        if isinstance(a, dict):
            r = {}
            for k, v in a.items():
                if not isinstance(k, str):
                    # a dict key must not hold a Node
                    k = self.create_arg(k)
                    map_arg(k, _no_nodes_error)
                r[k] = self.create_arg(v)
            return r
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop),
                         self.create_arg(a.step))
        if is_dataclass(a) and not isinstance(a, type):
            kwargs = {f.name: self.create_arg(getattr(a, f.name)) for f in fields(a)}
            return self.create_node("call_function", a.__class__, (), kwargs)
        if isinstance(a, (*_base_types(), enum.Enum)) or a is None or a is ...:
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        """Called by ``bool(proxy)`` (``if proxy:``); raises ``TraceError`` by default."""
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj: Proxy):
        """Called by ``iter(proxy)`` (``for v in proxy``, ``f(*proxy)``); raises ``TraceError``."""
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in "
            "a loop or as a *args or **kwargs function argument. See the torch.fx docs on "
            "pytorch.org for a more detailed explanation of what types of control flow can be "
            "traced, and check out the Proxy docstring for help troubleshooting Proxy "
            "iteration errors")

    def keys(self, obj: Proxy) -> Proxy:
        """Called by ``proxy.keys()`` (``**proxy``): records a ``keys`` method call."""
        return Attribute(obj, "keys")()


def _no_nodes_error(arg) -> None:
    raise RuntimeError(
        f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {arg}")


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made around a bare Node: appends to that node's graph."""

    def __init__(self, graph: Graph) -> None:
        """Record into ``graph``."""
        super().__init__()
        self.graph = graph
        self.module_stack: collections.OrderedDict = collections.OrderedDict()


class Proxy:
    """A Node wrapped so that Python operations on it add nodes to the graph.

    Operators record ``operator.*`` calls, attribute access records ``getattr`` (turned into
    a ``call_method`` when the attribute is called), and ember functions called on a Proxy
    while tracing record ``call_function`` nodes. ``Proxy(node)`` appends to ``node.graph``.

    A Proxy cannot be iterated or converted to ``bool``: wrap such code in a function
    registered with ``ember.fx.wrap``, or make the control flow static (``concrete_args``).
    """

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        """Wrap ``node``; without a ``tracer``, new nodes go to ``node.graph``."""
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, k: str) -> Attribute:
        # no node yet: a method call becomes one call_method node instead of getattr + call
        return Attribute(self, k)

    def __getstate__(self) -> dict:
        return self.__dict__

    def __setstate__(self, d: dict) -> None:
        self.__dict__ = d

    def __deepcopy__(self, memo: dict) -> Proxy:
        import copy

        new_dict = {}
        for k, v in self.__dict__.items():
            try:
                new_dict[k] = copy.deepcopy(v, memo)
            except Exception:
                new_dict[k] = copy.copy(v)
        new_proxy = Proxy(new_dict["node"], new_dict["tracer"])
        new_proxy.__dict__.update(new_dict)
        return new_proxy

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        # ``a, b = proxy`` unpacks a known number of items: record one getitem each
        calling_frame = inspect.currentframe().f_back
        instructions = list(dis.get_instructions(calling_frame.f_code))
        if sys.version_info >= (3, 11):
            from bisect import bisect_left

            idx = bisect_left(instructions, calling_frame.f_lasti, key=lambda x: x.offset)
        else:
            idx = calling_frame.f_lasti // 2
        inst = instructions[idx]
        if inst.opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(inst.argval))
        return self.tracer.iter(self)

    def __abs__(self) -> Proxy:
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def keys(self) -> Proxy:
        """Record ``keys()`` (what ``**proxy`` calls)."""
        return self.tracer.keys(self)

    def __len__(self) -> int:
        raise RuntimeError(
            "'len' is not supported in symbolic tracing by default. If you want this call to "
            "be recorded, please call torch.fx.wrap('len') at module scope")


class Attribute(Proxy):
    """``proxy.attr``: a ``getattr`` node, made only if the attribute is used as a value."""

    def __init__(self, root: Proxy, attr: str) -> None:
        """The attribute ``attr`` of ``root``."""
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property
    def node(self) -> Node:
        """The ``getattr`` node, created on first use."""
        if self._node is None:
            self._node = self.tracer.create_proxy(
                "call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A Proxy for a parameter whose shape queries (``shape``, ``size()``, ``dim()`` ...)
    answer with the parameter's real values (``Tracer(param_shapes_constant=True)``)."""

    def __init__(self, tracer: TracerBase, node: Node, name: str, param) -> None:
        """Proxy ``node`` (a ``get_attr`` of parameter ``name``) backed by ``param``."""
        super().__init__(node, tracer)
        if not isinstance(param, ember.nn.Parameter):
            raise AssertionError(f"Expected Parameter, got {type(param)}")
        self.param = param
        self.name = name

    def __repr__(self) -> str:
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        """The parameter's shape."""
        return self.param.shape

    def size(self, dim=None):
        """The parameter's size."""
        return self.param.size(dim)

    def dim(self) -> int:
        """The parameter's number of dimensions."""
        return self.param.dim()

    @property
    def ndim(self) -> int:
        """The parameter's number of dimensions."""
        return self.param.ndim

    def numel(self) -> int:
        """The parameter's number of elements."""
        return self.param.numel()

    def nelement(self) -> int:
        """The parameter's number of elements."""
        return self.param.nelement()


def _define_magic(method: str) -> None:
    def impl(*args: Any, **kwargs: Any) -> Proxy:
        return args[0].tracer.create_proxy("call_function", getattr(operator, method), args,
                                           kwargs)

    impl.__name__ = f"__{method.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


def _define_reflectable(method: str) -> None:
    def impl(self: Proxy, rhs: Any) -> Proxy:
        return self.tracer.create_proxy("call_function", getattr(operator, method), (rhs, self),
                                        {})

    impl.__name__ = impl.__qualname__ = f"__r{method.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


# ``div`` has no operator function in Python 3: ``/`` is ``truediv``
for _method in magic_methods:
    if _method != "div":
        _define_magic(_method)
for _method in reflectable_magic_methods:
    if _method != "div":
        _define_reflectable(_method)


def _find_proxy(*objects_to_search: object) -> Proxy | None:
    """A Proxy inside the (nested) arguments, or None."""
    stack = list(objects_to_search)
    while stack:
        x = stack.pop()
        if isinstance(x, Proxy):
            return x
        if isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, slice):
            stack.extend((x.start, x.stop, x.step))
    return None
