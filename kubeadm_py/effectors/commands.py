"""Running host commands (``systemctl``, ``crictl``...): the real runner and its dry-run twin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CommandResult:
    rc: int
    output: str  # stderr, else stdout, stripped
    ran: bool = True  # False when a dry run only recorded the command


class Commands(Protocol):
    def run(self, argv: Sequence[str], *, timeout: float = 60.0, mutates: bool = True) -> CommandResult:
        """Run ``argv``. ``mutates=False`` marks a read-only command (it runs in dry-run too)."""
        ...


class HostCommands:
    def run(self, argv: Sequence[str], *, timeout: float = 60.0, mutates: bool = True) -> CommandResult:
        import subprocess

        try:
            p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return CommandResult(1, str(e))
        return CommandResult(p.returncode, (p.stderr or p.stdout).strip())


class DryRunCommands:
    """Runs read-only commands for real; records the others and answers success."""

    def __init__(self, real: Commands, log: Callable[[str], None]) -> None:
        self.real = real
        self.log = log
        self.recorded: list[list[str]] = []

    def run(self, argv: Sequence[str], *, timeout: float = 60.0, mutates: bool = True) -> CommandResult:
        if not mutates:
            return self.real.run(argv, timeout=timeout, mutates=False)
        self.recorded.append(list(argv))
        self.log(f"[dryrun] Would run: {' '.join(argv)}")
        return CommandResult(0, "", ran=False)
