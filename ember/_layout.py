"""Tensor layouts (torch's ``torch.layout``): ``ember.strided`` is a dense tensor's layout and
``ember.sparse_coo`` a sparse one's (``ember/sparse``); the other sparse ones exist as names, so
code that compares or passes them runs, but no tensor has them.
"""
from __future__ import annotations


class layout:  # noqa: N801  (torch's name)
    """A memory layout; ``tensor.layout`` is ``ember.strided``."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


def _by_name(name: str) -> layout:
    return LAYOUTS[name]


LAYOUTS = {name: layout(name) for name in ("strided", "sparse_coo", "sparse_csr", "sparse_csc",
                                           "sparse_bsr", "sparse_bsc", "jagged", "_mkldnn")}
strided = LAYOUTS["strided"]


def check_layout(value) -> None:
    """Raise for a ``layout=`` argument other than ``ember.strided`` (or None): ember has no
    sparse tensors, and a silently dense result would be wrong."""
    if value is None or value is strided:
        return
    if isinstance(value, layout):
        raise NotImplementedError(f"layout={value}: ember has only strided (dense) tensors")
    raise TypeError(f"argument 'layout' must be ember.layout, not {type(value).__name__}")
