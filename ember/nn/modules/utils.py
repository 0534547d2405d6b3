"""``ember.nn.modules.utils``: torch's argument helpers for layers (``_pair`` and friends) and
``consume_prefix_in_state_dict_if_present``.

ember's own layers keep private ``_ntuple(value, n)`` helpers that also validate; these are
torch's, with torch's signatures, for code written against ``torch.nn.modules.utils``.
"""
from __future__ import annotations

import collections.abc
from itertools import repeat
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n, name="parse"):
    """A parser that turns a scalar into an ``n``-tuple of it and any iterable into a tuple."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n):
    """``t`` reversed with each element repeated ``n`` times: a conv/pool ``padding`` turned
    into ``F.pad``'s order, ``(1, 2) -> (2, 2, 1, 1)``."""
    return tuple(x for x in reversed(t) for _ in range(n))


def _list_with_default(out_size, defaults):
    """``out_size`` with each None replaced by the matching trailing entry of ``defaults``
    (an int ``out_size`` comes back as is).

    Raises:
        ValueError: ``defaults`` is not longer than ``out_size``.
    """
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size):])]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip ``prefix`` from the keys of ``state_dict`` (and of its ``_metadata``) in place.

    The usual use: loading a DataParallel/DDP checkpoint (``"module."`` keys) into a bare model.

    Args:
        state_dict: the state dict, changed in place.
        prefix: the prefix to remove, e.g. ``"module."``.
    """
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    if hasattr(state_dict, "_metadata"):
        for key in list(state_dict._metadata.keys()):
            # '' is the wrapper's own entry; 'module' and 'module.xx' are the model's
            if len(key) == 0:
                continue
            if key == prefix.replace(".", "") or key.startswith(prefix):
                state_dict._metadata[key[len(prefix):]] = state_dict._metadata.pop(key)
