"""Where a real run stops on an error a dry run only reports (preflight's fatal errors today): the
real effector raises; the dry-run twin says that a real run would stop here and goes on, so the
rest of the plan is shown, also on a machine that is not ready yet. The twin keeps what would have
stopped the run (``stopped``): the API marks the report ``ok: false`` and the command line exits
as a real run would (``RunReport.would_stop``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError


class Stops(Protocol):
    # The errors a dry run went past; a real run raises instead.
    stopped: list[str]

    def stop(self, error: KubeadmError, target: str) -> Change:
        """Stop the run with ``error`` (raise it); a twin may instead return a note on ``target``."""
        ...


class RaiseStops:
    def __init__(self) -> None:
        self.stopped: list[str] = []

    def stop(self, error: KubeadmError, target: str) -> Change:
        raise error


class DryRunStops:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.stopped: list[str] = []

    def stop(self, error: KubeadmError, target: str) -> Change:
        self.stopped.append(str(error))
        self.log(f"[dryrun] {error}")
        self.log("[dryrun] a real run would stop here; continuing to show the rest of the plan")
        return Change("note", "unchanged", target, "errors found (see above); ignored in dry-run")
