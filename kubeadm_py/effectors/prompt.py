"""Questions to the operator (reset's and upgrade's confirmation): stdin, or yes in a dry run."""

from __future__ import annotations

import sys
from typing import Protocol


class Prompt(Protocol):
    def confirm(self, question: str, *, without_terminal: bool | None = None) -> bool:
        """Ask ``question``; ``without_terminal`` (when not None) is the answer when standard
        input is not a terminal, instead of reading a line from it."""
        ...


class StdinPrompt:
    def confirm(self, question: str, *, without_terminal: bool | None = None) -> bool:
        if without_terminal is not None and not sys.stdin.isatty():
            return without_terminal
        sys.stdout.write(question)
        sys.stdout.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")


class AssumeYes:
    """A dry run changes nothing, so it asks nothing."""

    def confirm(self, question: str, *, without_terminal: bool | None = None) -> bool:
        return True
