"""torch.backends.opt_einsum: contraction-order search for ``einsum`` (NumPy's ``optimize``)."""
from __future__ import annotations

enabled = True
strategy = "auto"


def is_available() -> bool:
    """True: NumPy's einsum can optimise the contraction order."""
    return True


def get_opt_einsum():
    """None: the opt_einsum package is not used."""
    return None
