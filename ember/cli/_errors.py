"""CLIError and the one-line output helpers of the ``ember`` command."""
from __future__ import annotations

import sys


class CLIError(Exception):
    """A problem with the user's input: one line on stderr, exit status ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _err(message: str) -> None:
    message = " ".join(str(message).split())  # one line, whatever the message held
    if not message.startswith("ember"):
        message = f"ember: error: {message}"
    print(message, file=sys.stderr, flush=True)


def _print(message: str) -> None:
    print(message, flush=True)
