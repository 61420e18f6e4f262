"""What a verify check returns: typed results with one problem line (and how to fix it) each, and the
report of a whole run (healthy only when no check failed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from kubeadm_py.verify.env import VerifyEnv

Scope = Literal["cluster", "node", "workload"]
# pass: healthy; warn: not healthy for a reason that is not a fault of the cluster's own setup (only a
# missing pod network explains it), reported but not failing unless --strict; fail: a problem;
# skip: the check does not apply here (a worker has no control-plane manifests).
Status = Literal["pass", "warn", "fail", "skip"]
SCOPES: tuple[Scope, ...] = ("cluster", "node", "workload")


@dataclass(frozen=True)
class Problem:
    """One line: what is wrong, and how to fix it."""

    message: str
    fix: str
    warning: bool = False  # explained only by a missing pod network (or similar): status warn

    def line(self) -> str:
        return f"{self.message} -- fix: {self.fix}" if self.fix else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "fix": self.fix, "severity": "warning" if self.warning else "error"}


@dataclass
class Result:
    name: str
    scope: Scope
    status: Status
    detail: str  # what was checked, in a few words ("3 members, leader 8e9e05c52164694d")
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scope": self.scope,
            "status": self.status,
            "detail": self.detail,
            "problems": [p.to_dict() for p in self.problems],
        }


def outcome(name: str, scope: Scope, detail: str, problems: list[Problem]) -> Result:
    """The result of a check that ran: fail on any error, warn on warnings only, else pass."""
    if any(not p.warning for p in problems):
        status: Status = "fail"
    elif problems:
        status = "warn"
    else:
        status = "pass"
    return Result(name, scope, status, detail, problems)


class Skip(Exception):
    """Raised by a check that does not apply on this node; the message says why."""


CheckFn = Callable[["VerifyEnv"], tuple[str, list[Problem]]]


@dataclass(frozen=True)
class Check:
    """A row of the checks table: a small function returning (detail, problems)."""

    name: str
    scope: Scope
    fn: CheckFn
    what: str  # one line for the docs and --help


@dataclass
class Report:
    results: list[Result]
    attempts: int = 1
    seconds: float = 0.0
    strict: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. why the cluster checks did not run

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.results for p in r.problems]

    @property
    def healthy(self) -> bool:
        bad: tuple[Status, ...] = ("fail", "warn") if self.strict else ("fail",)
        return not any(r.status in bad for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "strict": self.strict,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 2),
            "notes": list(self.notes),
            "checks": [r.to_dict() for r in self.results],
            "problems": [{"check": r.name, **p.to_dict()} for r in self.results for p in r.problems],
        }
