"""``ChannelShuffle``: interleave groups of channels."""
from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Divide the channels of ``(N, C, *)`` input into ``groups`` groups and interleave
    them: ``(N, g, C / g, *)`` -> ``(N, C / g, g, *)`` (``F.channel_shuffle``).

    Args:
        groups: the number of groups (must divide ``C``).

    Shape:
        - Input: ``(N, C, *)``; Output: the same.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        """Shuffle the channels of ``input``."""
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
