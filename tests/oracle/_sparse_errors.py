"""One check for the sparse oracle tests: ember raises torch's exception type and first line."""
from __future__ import annotations

import pytest


def first_line(e) -> str:
    """An error's first line, without the backend list torch appends to 'Could not run'."""
    return str(e).split("\n")[0].split(" If you are a Facebook employee")[0]


def assert_same_error(build, torch, ember, exc=Exception) -> None:
    """``build(torch)`` raises ``exc``; ``build(ember)`` raises the same type with the same
    first line."""
    with pytest.raises(exc) as want:
        build(torch)
    with pytest.raises(type(want.value)) as got:
        build(ember)
    assert first_line(got.value) == first_line(want.value)
