"""ember.utils.data sits above the core: it may use ``import ember`` and NumPy only."""
from __future__ import annotations

import ast
import pathlib

import ember.utils.data

BANNED = ("ember.autograd", "ember.ops", "ember._tensor", "ember.nn")
PACKAGE = pathlib.Path(ember.utils.data.__file__).parent


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_utils_data_imports_no_core_internals():
    bad = []
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(ast.parse(path.read_text())):
            if name.startswith(BANNED):
                bad.append(f"{path} imports {name}")
    assert not bad, "\n".join(bad)
