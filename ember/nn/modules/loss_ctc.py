"""``CTCLoss``: the connectionist temporal classification loss as a layer."""
from __future__ import annotations

from .. import functional as F
from .loss import _Loss

__all__ = ["CTCLoss"]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (``F.ctc_loss``): the negative log
    likelihood of each target under every alignment to its input.

    Args:
        blank: the blank label (default 0).
        reduction: ``'none'`` | ``'mean'`` (each loss over its target length, then the batch
            mean) | ``'sum'``.
        zero_infinity: zero the infinite losses (inputs too short for their targets) and
            their gradients.

    Shape:
        - Log_probs: ``(T, N, C)`` or ``(T, C)``; Targets: ``(N, S)`` or
          ``(sum(target_lengths),)``; Input_lengths and Target_lengths: ``(N,)`` or ``()``.
        - Output: scalar, or ``(N,)`` (``()`` unbatched) with ``reduction='none'``.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """The loss of ``targets`` under ``log_probs`` (see ``F.ctc_loss``)."""
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
