"""Turning a Graph into Python source: ``Graph.python_code`` and ``GraphModule.code``.

Each node becomes one assignment (``relu = ember.relu(linear)``); operators print as
operators (``add = x + y``), submodules and attributes as ``self.<path>``. After a value's
last use the line frees it (``;  linear = None``), as torch's generated code does.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import ember

from ._namespace import _custom_builtins, _Namespace
from ._qualname import is_from_ember
from .node import Node, _get_qualified_name, _type_repr

magic_methods = dict(
    {"eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}",
     "ge": "{} >= {}", "pos": "+{}", "neg": "-{}", "invert": "~{}"},
    **{"add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}",
       "truediv": "{} / {}", "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}",
       "lshift": "{} << {}", "rshift": "{} >> {}", "and_": "{} & {}", "or_": "{} | {}",
       "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}"})
# the binary ones also have a reflected form (``__radd__``) on Proxy
reflectable_magic_methods = {k: v for k, v in magic_methods.items()
                             if k not in ("eq", "ne", "lt", "gt", "le", "ge", "pos", "neg",
                                          "invert")}
inplace_methods = {
    "iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}",
    "imod": "{} %= {}", "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}",
    "ipow": "{} **= {}", "irshift": "{} >>= {}", "isub": "{} -= {}", "itruediv": "{} /= {}",
    "ixor": "{} ^= {}", "setitem": "{}[{}] = {}"}


@dataclass
class PythonCode:
    """Source of a ``forward`` function and the globals it needs to run."""

    src: str
    globals: dict[str, Any]
    _lineno_map: dict[int, int | None] | None = None


def _format_target(base: str, target: str) -> str:
    """``self`` + ``"linear.weight"`` -> ``self.linear.weight``; ``getattr`` for ``"0"``."""
    r = base
    for e in target.split("."):
        r = f"{r}.{e}" if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


_frame_regex = re.compile(r"^File \"(.+)\", line (\d+), in (.+)$")


def _summarize_stack_trace(stack_trace: str | None) -> str:
    """The innermost frame of a recorded stack trace, as one comment line."""
    lines = (stack_trace or "").strip().split("\n")
    for idx in range(len(lines) - 2, -1, -1):
        match = _frame_regex.match(lines[idx].strip())
        if match:
            file, lineno, name = match.groups()
            return f"File: {file}:{lineno} in {name}, code: {lines[idx + 1].strip()}"
    return "No stacktrace found for following nodes"


class CodeGen:
    """Generates a graph's ``forward``; subclass it to change the signature or the return."""

    def __init__(self) -> None:
        self._body_transformer = None
        self._func_name = "forward"

    def gen_fn_def(self, free_vars: list[str], maybe_return_annotation: str) -> str:
        """The ``def`` line; ``self`` is added as the first parameter."""
        if len(free_vars) == 0 or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def {self._func_name}({', '.join(free_vars)}){maybe_return_annotation}:"

    def generate_output(self, output_args, repr_fn=repr) -> str:
        """The ``return`` statement (not indented)."""
        return f"return {repr_fn(output_args)}"

    def process_inputs(self, *args: Any) -> Any:
        """Map the caller's inputs to the graph's placeholders (identity here)."""
        return args

    def process_outputs(self, outputs: Any) -> Any:
        """Map the graph's output to what the caller gets (identity here)."""
        return outputs

    def additional_globals(self) -> list[tuple[str, Any]]:
        """Extra ``(name, object)`` globals the generated code uses."""
        return []

    def _gen_python_code(self, nodes, root_module: str, namespace: _Namespace, *,
                         verbose: bool = False) -> PythonCode:
        free_vars: list[str] = []
        body: list[str] = []
        globals_: dict[str, Any] = {}
        wrapped_fns: dict[str, None] = {}
        maybe_return_annotation = [""]

        def add_global(name_hint: str, obj: Any) -> str:
            if is_from_ember(obj) and callable(obj) and obj is not ember.device:
                return _get_qualified_name(obj)  # reachable through the ``ember`` global
            global_name = namespace.create_name(name_hint, obj)
            if global_name in globals_:
                if globals_[global_name] is not obj:
                    raise AssertionError(
                        f"Global name {global_name} already assigned to different object")
                return global_name
            globals_[global_name] = obj
            return global_name

        for name, (_, obj) in _custom_builtins.items():
            add_global(name, obj)

        def type_repr(o: object) -> str:
            if o == ():
                return "()"
            origin = getattr(o, "__origin__", None)
            if origin is not None:
                origin_name = add_global(_type_repr(origin), origin)
                args = getattr(o, "__args__", ())
                if args:
                    return f"{origin_name}[{','.join(type_repr(a) for a in args)}]"
                return origin_name
            return add_global(_type_repr(o), o)

        def _get_repr(arg: object) -> str:
            if isinstance(arg, Node):
                return repr(arg)
            if isinstance(arg, tuple) and hasattr(arg, "_fields"):
                global_name = add_global(_get_qualified_name(type(arg)), type(arg))
                return f"{global_name}{repr(tuple(arg))}"
            if isinstance(arg, enum.Enum):
                cls = arg.__class__
                return f"{add_global(cls.__name__, cls)}.{arg.name}"
            if isinstance(arg, ember.Tensor):
                dtype = str(arg.dtype).split(".")[-1]
                return f"ember.Tensor(size={list(arg.size())}, dtype={dtype})"
            if isinstance(arg, tuple):
                if len(arg) == 1:
                    return f"({_get_repr(arg[0])},)"
                return "(" + ", ".join(_get_repr(a) for a in arg) + ")"
            if isinstance(arg, list):
                return "[" + ", ".join(_get_repr(a) for a in arg) + "]"
            if isinstance(arg, slice):
                return (f"slice({_get_repr(arg.start)}, {_get_repr(arg.stop)}, "
                        f"{_get_repr(arg.step)})")
            return repr(arg)

        def _format_args(args: tuple, kwargs: dict) -> str:
            res = [_get_repr(a) for a in args]
            res.extend(f"{k} = {_get_repr(v)}" for k, v in kwargs.items())
            return ", ".join(res)

        # walking backwards, the first use seen of a value is its last use in execution
        node_to_last_use: dict[Node, Node] = {}
        user_to_last_uses: dict[Node, list[Node]] = {}
        for node in reversed(nodes):
            for input_node in node._input_nodes:
                if input_node not in node_to_last_use:
                    node_to_last_use[input_node] = node
                    user_to_last_uses.setdefault(node, []).append(input_node)

        def delete_unused_values(user: Node) -> None:
            if user.op == "placeholder":
                return
            if user.op == "output":
                body.append("\n")
                return
            nodes_to_delete = list(user_to_last_uses.get(user, []))
            if len(user.users) == 0:
                # unused but kept (side effects): free it right away
                nodes_to_delete.append(user)
            if nodes_to_delete:
                body.append(f";  {' = '.join([repr(n) for n in nodes_to_delete] + ['None'])}\n")
            else:
                body.append("\n")

        prev_summary = [None]

        def append_stacktrace_summary(node: Node) -> None:
            if node.op in {"placeholder", "output"}:
                return
            summary = _summarize_stack_trace(node.stack_trace)
            summary_str = f"\n# {summary}\n"
            if summary_str != prev_summary[0]:
                prev_summary[0] = summary_str
                body.append(summary_str)

        def emit_node(node: Node) -> None:
            annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            if node.op == "placeholder":
                default = "" if not node.args else f" = {_get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{annotation}{default}")
                raw_name = node.target.replace("*", "")
                if raw_name != repr(node):
                    body.append(f"{repr(node)} = {raw_name}\n")
                return
            if node.op == "call_method":
                body.append(f"{repr(node)}{annotation} = "
                            f"{_format_target(_get_repr(node.args[0]), node.target)}"
                            f"({_format_args(node.args[1:], node.kwargs)})")
                return
            if node.op == "call_function":
                target = node.target
                name = getattr(target, "__name__", "")
                if getattr(target, "__module__", "") == "_operator" and name in magic_methods:
                    body.append(f"{repr(node)}{annotation} = "
                                f"{magic_methods[name].format(*(_get_repr(a) for a in node.args))}")
                    return
                if getattr(target, "__module__", "") == "_operator" and name in inplace_methods:
                    statement = inplace_methods[name].format(*(_get_repr(a) for a in node.args))
                    body.append(f"{statement};  {repr(node)}{annotation} = "
                                f"{_get_repr(node.args[0])}")
                    return
                global_name = add_global(_get_qualified_name(target), target)
                if (global_name == "getattr" and isinstance(node.args[1], str)
                        and node.args[1].isidentifier() and len(node.args) == 2):
                    body.append(f"{repr(node)}{annotation} = "
                                f"{_format_target(_get_repr(node.args[0]), node.args[1])}")
                    return
                body.append(f"{repr(node)}{annotation} = "
                            f"{global_name}({_format_args(node.args, node.kwargs)})")
                if node.meta.get("is_wrapped", False):
                    wrapped_fns.setdefault(global_name)
                return
            if node.op == "call_module":
                body.append(f"{repr(node)}{annotation} = "
                            f"{_format_target(root_module, node.target)}"
                            f"({_format_args(node.args, node.kwargs)})")
                return
            if node.op == "get_attr":
                body.append(f"{repr(node)}{annotation} = "
                            f"{_format_target(root_module, node.target)}")
                return
            if node.op == "output":
                if node.type is not None:
                    maybe_return_annotation[0] = f" -> {type_repr(node.type)}"
                body.append(self.generate_output(node.args[0], repr_fn=_get_repr))
                return
            raise NotImplementedError(f"node: {node.op} {node.target}")

        for node in nodes:
            if verbose:
                append_stacktrace_summary(node)
            emit_node(node)
            delete_unused_values(node)

        if len(body) == 0:
            # a graph of placeholders only still needs a valid function body
            body.append("pass\n")
        if wrapped_fns:
            from ._symbolic_trace import wrap

            wrap_name = add_global("wrap", wrap)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
        else:
            wrap_stmts = ""
        if self._body_transformer:
            body = self._body_transformer(body)
        for name, value in self.additional_globals():
            add_global(name, value)

        prologue = self.gen_fn_def(free_vars, maybe_return_annotation[0])
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        fn_code = f"\n{wrap_stmts}\n\n{prologue}\n{code}"
        return PythonCode(fn_code, globals_)
