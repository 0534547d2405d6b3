"""ember.backends: the flags training scripts set on torch.backends, kept as plain values.

ember has one backend (NumPy on the CPU), so these flags change no result; they exist so
``torch.backends.cudnn.benchmark = True`` and friends run unchanged, and each answers a
query (``torch.backends.mps.is_available()``) as a CPU-only build of torch would.
"""
from __future__ import annotations

from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum"]
