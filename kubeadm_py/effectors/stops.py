"""Where a real run stops on an error a dry run only reports (preflight's fatal errors today): the
real effector raises; the dry-run twin says that a real run would stop here and goes on, so the
rest of the plan is shown, also on a machine that is not ready yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError


class Stops(Protocol):
    def stop(self, error: KubeadmError, target: str) -> Change:
        """Stop the run with ``error`` (raise it); a twin may instead return a note on ``target``."""
        ...


class RaiseStops:
    def stop(self, error: KubeadmError, target: str) -> Change:
        raise error


class DryRunStops:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log

    def stop(self, error: KubeadmError, target: str) -> Change:
        self.log(f"[dryrun] {error}")
        self.log("[dryrun] a real run would stop here; continuing to show the rest of the plan")
        return Change("note", "run", target, "errors found (see above); ignored in dry-run")
