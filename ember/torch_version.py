"""``ember.torch_version``: ``TorchVersion``, the ``str`` subclass that ``ember.__version__`` is.

As torch's, it compares with strings, tuples and ``packaging`` Versions by version order
(``ember.__version__ >= (0, 1)``, ``>= "0.1.0rc1"``), and falls back to plain string order for
something that is not a version. The ordering is PEP 440's (epoch, release, pre-, post- and
dev-releases, local labels), written out here because ember does not depend on ``packaging``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .version import __version__ as internal_version

__all__ = ["TorchVersion"]

_PATTERN = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d+)?)?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>\d+)?)?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$", re.IGNORECASE)
_PRE = {"alpha": 0, "a": 0, "beta": 1, "b": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_INF = float("inf")


class InvalidVersion(ValueError):
    """A string that is not a PEP 440 version."""


def _key(text: str) -> tuple:
    """A tuple that sorts as PEP 440 orders versions."""
    m = _PATTERN.match(text)
    if m is None:
        raise InvalidVersion(f"Invalid version: {text!r}")
    release = [int(p) for p in m["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post = m["post_n1"] or m["post_n2"]
    has_post = post is not None or re.search(r"(post|rev|r)\d*", text[m.end("release"):], re.I)
    dev = None if m["dev_l"] is None else int(m["dev_n"] or 0)
    if m["pre_l"] is not None:
        pre = (_PRE[m["pre_l"].lower()], int(m["pre_n"] or 0))
    elif dev is not None and not has_post:
        pre = (-1, 0)  # 1.0.dev0 comes before 1.0a0
    else:
        pre = (3, 0)
    local = () if m["local"] is None else tuple(
        (1, int(p), "") if p.isdigit() else (0, 0, p.lower())
        for p in re.split(r"[-_.]", m["local"]))
    return (int(m["epoch"] or 0), tuple(release), pre,
            int(post or 0) if has_post else -1, _INF if dev is None else dev, local)


def _as_key(other: Any) -> tuple:
    if isinstance(other, str):
        return _key(other)
    if hasattr(other, "release") and hasattr(other, "public"):  # a packaging Version
        return _key(str(other))
    if isinstance(other, Iterable):
        return _key(".".join(str(item) for item in other))
    raise InvalidVersion(other)


class TorchVersion(str):
    """A version string that compares by version order with another string, a tuple such as
    ``(2, 1)`` or a ``packaging`` Version; an invalid version compares as a plain string."""

    __slots__ = ()

    def _cmp_wrapper(self, cmp: Any, method: str) -> bool:
        try:
            return getattr(_key(self), method)(_as_key(cmp))
        except InvalidVersion:
            return getattr(super(), method)(cmp)


for _method in ("__gt__", "__lt__", "__eq__", "__ge__", "__le__"):
    setattr(TorchVersion, _method, lambda x, y, method=_method: x._cmp_wrapper(y, method))

__version__ = TorchVersion(internal_version)
