"""``ember.functional``: the module ``torch.functional``, whose functions torch also has at top
level (``torch.functional.einsum is torch.einsum``). Here they are ember's own, re-exported."""
from __future__ import annotations

import ember as _ember

from ._lowrank import pca_lowrank, svd_lowrank
from .fft._stft import istft, stft

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "istft", "lu",
           "norm", "meshgrid", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot",
           "unique", "unique_consecutive", "unravel_index"]

Tensor = _ember.Tensor
atleast_1d = _ember.atleast_1d
atleast_2d = _ember.atleast_2d
atleast_3d = _ember.atleast_3d
block_diag = _ember.block_diag
broadcast_shapes = _ember.broadcast_shapes
broadcast_tensors = _ember.broadcast_tensors
cartesian_prod = _ember.cartesian_prod
cdist = _ember.cdist
chain_matmul = _ember.chain_matmul
einsum = _ember.einsum
lu = _ember.lu
meshgrid = _ember.meshgrid
norm = _ember.norm
split = _ember.split
tensordot = _ember.tensordot
unique = _ember.unique
unique_consecutive = _ember.unique_consecutive
unravel_index = _ember.unravel_index
