"""ember.text stays on the public ``ember`` API, NumPy and ember.utils.data."""
import ast
import pathlib

import ember.text

BANNED = ("ember.autograd", "ember.ops", "ember._tensor", "ember.nn")


def _imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            if node.module == "ember":
                yield from (f"ember.{alias.name}" for alias in node.names)


def test_text_imports_nothing_below_the_public_api():
    folder = pathlib.Path(ember.text.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for name in _imports(ast.parse(path.read_text("utf-8"))):
            assert not name.startswith(BANNED), f"{path} imports {name}"
