"""Phases as data.

A :class:`Phase` is an immutable description: a name (one path segment), help text, ordered
children, the run function, the flags it uses (names in :data:`kubeadm_py.options.FLAGS`), what it
requires and what it provides. Its identity is its slash path (``certs/apiserver``), which serves
``--skip-phases``, ``skipPhases``, the ``phase`` subcommands, the help tree and error messages.

``Phase[C]`` is generic in the context its run function takes (a
:class:`~kubeadm_py.phases.context.RunContext` of some workflow state), so a workflow's phase list
type-checks only with phases written for its context. The run function writes only through the
context's effectors, which makes dry-run the real code path. It may return a list of extra
:class:`~kubeadm_py.changes.Change` records (notes, processes); file and API writes are collected
by the runner from the effectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.changes import Change

C = TypeVar("C", contravariant=True)


@dataclass(frozen=True)
class Requirement(Generic[C]):
    """Something a phase needs, e.g. ``ca``: satisfied when a phase earlier in the same run
    ``provides`` it, or when ``present(ctx)`` finds it already on the node."""

    name: str
    description: str
    present: Callable[[C], bool]


@dataclass(frozen=True)
class Phase(Generic[C]):
    name: str
    help: str
    run: Callable[[C], list[Change] | None] | None = None
    children: tuple[Phase[C], ...] = ()
    flags: tuple[str, ...] = ()
    requires: tuple[Requirement[C], ...] = ()
    provides: tuple[str, ...] = ()
    run_if: Callable[[C], bool] | None = None
    # What the phase line says when run_if answers no.
    skip_reason: str = "not applicable to this node/configuration"
    hidden: bool = False
    # A parent whose children can run together gets an `all` subcommand (kubeadm's RunAllSiblings).
    all_command: bool = True
    # Other names the phase answers to in selections (`experimental-cert-rotation`).
    aliases: tuple[str, ...] = ()

    @property
    def short_help(self) -> str:
        return self.help.strip().splitlines()[0] if self.help.strip() else ""


@dataclass(frozen=True)
class FlatPhase(Generic[C]):
    """A phase placed in the flattened tree."""

    path: str
    level: int
    phase: Phase[C]
    parent: str | None

    @property
    def is_leaf(self) -> bool:
        return not self.phase.children


def flatten(
    phases: tuple[Phase[C], ...] | list[Phase[C]], prefix: str = "", level: int = 0
) -> list[FlatPhase[C]]:
    out: list[FlatPhase[C]] = []
    for p in phases:
        path = f"{prefix}/{p.name}" if prefix else p.name
        out.append(FlatPhase(path, level, p, prefix or None))
        out.extend(flatten(p.children, path, level + 1))
    return out


def collect_flags(phase: Phase[C]) -> tuple[str, ...]:
    """The union of a phase's flags and its descendants', in first-seen order."""
    seen: dict[str, None] = dict.fromkeys(phase.flags)
    for c in phase.children:
        seen.update(dict.fromkeys(collect_flags(c)))
    return tuple(seen)
