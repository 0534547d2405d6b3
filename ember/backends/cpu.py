"""torch.backends.cpu: what the CPU offers."""
from __future__ import annotations


def get_cpu_capability() -> str:
    """The vector extension NumPy dispatches to on this CPU ("AVX2", "NEON", ...), or
    "DEFAULT"."""
    try:
        import numpy as np

        found = [k for k, v in np._core._multiarray_umath.__cpu_features__.items() if v]
    except AttributeError:
        return "DEFAULT"
    for name in ("AVX512F", "AVX2", "SVE", "ASIMD", "NEON"):
        if name in found:
            return {"AVX512F": "AVX512", "ASIMD": "NEON"}.get(name, name)
    return "DEFAULT"
