"""Structured results of a run: one :class:`PhaseOutcome` per phase, gathered in a :class:`RunReport`
with a stable JSON form shared by ``-o json`` and the public Python API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from kubeadm_py.changes import Change

Status = Literal["changed", "unchanged", "skipped", "failed"]

# The reason of a phase that ran and recorded nothing (no change, no note saying what it did).
NOTHING_TO_CHANGE = "nothing to change: already in the desired state"


@dataclass
class PhaseOutcome:
    path: str
    status: Status
    seconds: float = 0.0
    changes: list[Change] = field(default_factory=list)
    reason: str = ""
    dry_run: bool = False  # a dry run's change is only planned: "would change" (line and JSON)

    @property
    def summary(self) -> str:
        """What the phase line says: ``changed`` (``would change`` in a dry run), ``skipped (why)``,
        ``failed (why)``, ``unchanged (...)``, or what a phase that changed nothing did (``printed
        the join commands``, ``would wait for ...``: the notes it recorded)."""
        if self.status == "changed":
            return self.label
        if self.status == "unchanged" and self.reason and self.reason != NOTHING_TO_CHANGE:
            return self.reason
        return f"{self.label} ({self.reason})" if self.reason else self.label

    @property
    def label(self) -> str:
        """The status in words: ``would change`` for a change a dry run only planned."""
        return "would change" if self.status == "changed" and self.dry_run else self.status

    def to_dict(self, with_content: bool = False) -> dict[str, Any]:
        return {
            "phase": self.path,
            "status": self.label,
            "seconds": round(self.seconds, 4),
            "reason": self.reason,
            "changes": [c.to_dict(with_content) for c in self.changes],
        }


@dataclass
class RunReport:
    workflow: str
    dry_run: bool
    phases: list[PhaseOutcome] = field(default_factory=list)
    # Values phases publish for callers (join command parts, token, CA hash, certificate key...).
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # A dry run went past an error where a real run stops ("phase preflight: ..."): not ok.
    would_stop: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.would_stop is None

    @property
    def changed(self) -> bool:
        return any(p.status == "changed" for p in self.phases)

    def outcome(self, path: str) -> PhaseOutcome:
        for p in self.phases:
            if p.path == path:
                return p
        raise KeyError(path)

    def all_changes(self) -> list[Change]:
        return [c for p in self.phases for c in p.changes]

    def to_dict(self, with_content: bool = False) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "dryRun": self.dry_run,
            "ok": self.ok,
            "error": self.error,
            "wouldStop": self.would_stop,
            "changed": self.changed and not self.dry_run,  # a dry run changes nothing
            "wouldChange": self.changed and self.dry_run,
            "phases": [p.to_dict(with_content) for p in self.phases],
            "outputs": self.outputs,
        }


class Reporter(Protocol):
    """Receives progress while a workflow runs (the CLI renders it with rich). A reporter may also
    have ``wait_event(event)``: then it is told what each wait does
    (:class:`kubeadm_py.effectors.waiting.WaitEvent`), for progress displays."""

    def phase_started(self, path: str) -> None: ...

    def message(self, text: str) -> None: ...

    def phase_finished(self, outcome: PhaseOutcome) -> None: ...


class NullReporter:
    def phase_started(self, path: str) -> None:
        return None

    def message(self, text: str) -> None:
        return None

    def phase_finished(self, outcome: PhaseOutcome) -> None:
        return None
