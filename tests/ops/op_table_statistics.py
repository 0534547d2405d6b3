"""Op-table rows for ``ember/ops/statistics.py`` (see ``tests/ops/op_table.py`` for the format:
each row is checked by finite differences and against torch)."""
from __future__ import annotations

from tests.ops.op_table import case  # noqa: F401

ROWS: list = []
