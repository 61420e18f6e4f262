"""Phases as data.

A :class:`Phase` is an immutable description: a name (one path segment), help text, ordered
children, the run function, the flags it uses (names in :data:`kubeadm_py.options.FLAGS`), what it
requires and what it provides. Its identity is its slash path (``certs/apiserver``), which serves
``--skip-phases``, ``skipPhases``, the ``phase`` subcommands, the help tree and error messages.

A run function receives the workflow's context (see :mod:`kubeadm_py.phases.context`) and writes
only through the context's effectors (``ctx.fs``, ``ctx.kube()``), which makes dry-run the real
code path. It may return a list of extra :class:`~kubeadm_py.changes.Change` records (notes,
processes); file and API writes are collected by the runner from the effectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubeadm_py.changes import Change

RunFn = Callable[[Any], "list[Change] | None"]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Requirement:
    """Something a phase needs, e.g. ``ca``: satisfied when a phase earlier in the same run
    ``provides`` it, or when ``present(ctx)`` finds it already on the node."""

    name: str
    description: str
    present: Predicate


@dataclass(frozen=True)
class Phase:
    name: str
    help: str
    run: RunFn | None = None
    children: tuple[Phase, ...] = ()
    flags: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()
    provides: tuple[str, ...] = ()
    run_if: Predicate | None = None
    hidden: bool = False
    # A parent whose children can run together gets an `all` subcommand (kubeadm's RunAllSiblings).
    all_command: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def short_help(self) -> str:
        return self.help.strip().splitlines()[0] if self.help.strip() else ""


@dataclass(frozen=True)
class FlatPhase:
    """A phase placed in the flattened tree."""

    path: str
    level: int
    phase: Phase
    parent: str | None

    @property
    def is_leaf(self) -> bool:
        return not self.phase.children


def flatten(phases: tuple[Phase, ...] | list[Phase], prefix: str = "", level: int = 0) -> list[FlatPhase]:
    out: list[FlatPhase] = []
    for p in phases:
        path = f"{prefix}/{p.name}" if prefix else p.name
        out.append(FlatPhase(path, level, p, prefix or None))
        out.extend(flatten(p.children, path, level + 1))
    return out


def collect_flags(phase: Phase) -> tuple[str, ...]:
    """The union of a phase's flags and its descendants', in first-seen order."""
    seen: dict[str, None] = dict.fromkeys(phase.flags)
    for c in phase.children:
        seen.update(dict.fromkeys(collect_flags(c)))
    return tuple(seen)
