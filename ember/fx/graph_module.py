"""``GraphModule``: a Module whose ``forward`` is Python code generated from a Graph.

It copies from the root module only what the graph refers to (``call_module`` and
``get_attr`` targets, under the same qualified names, so ``state_dict`` keys match), and
compiles ``graph.python_code("self")`` into ``forward``. Each instance gets its own
subclass so that each can have its own ``forward``.
"""
from __future__ import annotations

import copy
import itertools
import linecache
from typing import Any

import ember
from ember.nn import Module

from ._codegen import PythonCode
from .graph import Graph

__all__ = ["GraphModule"]

_eval_counter = itertools.count()


def _forward_from_src(src: str, globals_: dict[str, Any]):
    """Compile ``src`` and return its ``forward``; the source is registered with linecache
    so tracebacks through generated code show its lines."""
    key = f"<eval_with_key>.{next(_eval_counter)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    scope = dict(globals_)
    exec(compile(src, key, "exec", dont_inherit=True), scope)
    return scope["forward"]


def _copy_attr(from_module: Module, to_module: Module, target: str) -> None:
    """Copy ``from_module.<target>`` to the same path on ``to_module``, creating empty
    Modules on the way; a plain tensor lands as a buffer."""
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return  # a parent was installed already, and brought this along
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, ember.Tensor) and not isinstance(orig, ember.nn.Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj: Any, to_module: Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, ember.Tensor) and not isinstance(from_obj, ember.nn.Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


def _addindent(s: str, num_spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    # blank lines stay empty, as in torch's printout
    return first + "\n" + "\n".join(num_spaces * " " + line if line.strip() else ""
                                    for line in lines)


class _CodeOnlyModule(Module):
    """A Module holding a copied ``__dict__`` (what ``__deepcopy__`` rebuilds from)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.__dict__ = body


class GraphModule(Module):
    """A Module generated from a ``Graph``: ``graph``, ``code`` and a compiled ``forward``.

    Args:
        root: the Module the graph's ``get_attr`` / ``call_module`` targets are copied from,
            or a dict from those qualified names to the objects.
        graph: the graph to generate ``forward`` from.
        class_name: the name this module's class shows (in ``repr``, in errors).

    Assigning ``graph`` regenerates the code; after editing the graph in place, call
    ``recompile()``.
    """

    def __new__(cls, *args: Any, **kwargs: Any):
        # a fresh subclass per instance, to hold this instance's forward
        for t in cls.__mro__:
            if t.__qualname__.split(".")[-1] != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root: Module | dict[str, Any], graph: Graph,
                 class_name: str = "GraphModule") -> None:
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            if isinstance(root, _CodeOnlyModule):
                for k, _ in root.named_children():
                    _copy_attr(root, self, k)
                for k, _ in root.named_buffers():
                    _copy_attr(root, self, k)
                for k, _ in root.named_parameters():
                    _copy_attr(root, self, k)
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets_to_copy = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError("Node " + str(node) + " referenced target "
                                           + node.target + " but that target was not provided "
                                           "in ``root``!")
                    targets_to_copy.append(node.target)
            # parents before children, so a later foo.bar does not wipe foo.bar.baz
            targets_to_copy.sort(key=lambda t: t.count("."))
            for target in targets_to_copy:
                _assign_attr(root[target], self, target)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.graph = graph
        self._tracer_cls = None
        if graph._tracer_cls and "<locals>" not in graph._tracer_cls.__qualname__:
            self._tracer_cls = graph._tracer_cls
        self.meta: dict[str, Any] = {}

    @property
    def graph(self) -> Graph:
        """The graph this module's code is generated from; assigning one recompiles."""
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The Python source of ``forward``, generated from ``graph``."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self) -> PythonCode:
        """Regenerate ``code`` and ``forward`` from ``graph`` (call after editing the graph)."""
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        type(self).forward = _forward_from_src(self._code, python_code.globals)
        for _, mod in self.named_children():
            if isinstance(mod, GraphModule):
                mod.recompile()
        return python_code

    # --- editing the module hierarchy -------------------------------------------------
    def add_submodule(self, target: str, m: Module) -> bool:
        """Install ``m`` at qualified name ``target``, creating empty parents as needed.

        Returns:
            False when a name on the path exists but is not a Module.
        """
        *prefix, field = target.split(".")
        mod: Module = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = Module()
                setattr(mod, item, submod)
            if not isinstance(submod, Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Remove the submodule at ``target``; False when there is no such Module."""
        *path, name = target.split(".")
        mod: Any = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not hasattr(mod, name) or not isinstance(getattr(mod, name), Module):
            return False
        delattr(mod, name)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Remove every submodule the graph neither calls nor fetches from."""
        used: list[str] = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                atoms = node.target.split(".")
                used.extend(itertools.accumulate(atoms, lambda x, y: f"{x}.{y}"))
                if node.op == "call_module":
                    try:
                        submod = self.get_submodule(node.target)
                    except AttributeError:
                        continue
                    used.extend(f"{node.target}.{name}" for name, _ in submod.named_modules()
                                if name != "")
        for name in [name for name, _ in self.named_modules() if name not in used]:
            self.delete_submodule(name)

    # --- copying and printing ---------------------------------------------------------
    def __deepcopy__(self, memo: dict[int, Any]) -> GraphModule:
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        fake_mod = _CodeOnlyModule(copy.deepcopy(self.__dict__, memo))
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"],
                             type(self).__name__)
        res.meta = copy.deepcopy(getattr(self, "meta", {}), memo)
        return res

    def __copy__(self) -> GraphModule:
        res = GraphModule(self, self.graph, type(self).__name__)
        res.meta = getattr(self, "meta", {})
        return res

    def print_readable(self, print_output: bool = True, include_stride: bool = False,
                       include_device: bool = False, colored: bool = False) -> str:
        """The generated code as a class definition (with child GraphModules); printed too
        unless ``print_output=False``.

        ``include_stride``, ``include_device`` and ``colored`` annotate tensor metadata in
        torch; symbolic tracing records none, so they change nothing here either.
        """
        output = _print_readable(self, self._get_name())
        if print_output:
            print(output)
        return output

    def __str__(self) -> str:
        reminder = "# To see more debug info, please use `graph_module.print_readable()`"
        return "\n".join([super().__str__(), self._code, reminder])


def _print_readable(module: GraphModule, module_name: str) -> str:
    src = module.graph.python_code(root_module="self", verbose=True).src
    module_code = _addindent(f"class {module_name}(ember.nn.Module):\n" + src.lstrip("\n"), 4)
    submodule_code = [""]
    for name, submodule in module.named_children():
        if isinstance(submodule, GraphModule):
            submodule_code.append(_print_readable(submodule, name))
    return module_code + _addindent("\n".join(submodule_code), 4)
