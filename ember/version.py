"""``ember.version``: what ``torch.version`` reports, answered for ember.

``__version__`` is ember's own version (the one in ``pyproject.toml``); ember is built for no
GPU, so ``cuda``, ``hip``, ``rocm`` and ``xpu`` are None, as in a CPU-only torch build, and
``git_version`` is "Unknown" (torch's value for a build made outside a git checkout).
"""
from __future__ import annotations

__all__ = ["__version__", "debug", "cuda", "git_version", "hip", "rocm", "xpu"]

__version__ = "0.1.0"
debug = False
cuda: str | None = None
git_version = "Unknown"
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
