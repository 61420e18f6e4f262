"""The generic phase runner: flatten, select, check requirements, execute, report.

Selection follows kubeadm's rules: selecting or skipping a parent covers its subtree, skip beats
selection, a phase's alias selects it too, and an unknown path is an error that suggests close
matches. Requirements are checked for every selected phase before any phase runs: each must be
provided by a phase selected earlier in this run or already be present on the node; otherwise the
run fails naming the phase to run.

A phase that raises a :class:`~kubeadm_py.errors.KubeadmError` failed for a reason the user can
act on (:class:`~kubeadm_py.errors.PhaseError`); anything else is a bug in kubeadm-py and becomes
an :class:`~kubeadm_py.errors.InternalError` that keeps the traceback.
"""

from __future__ import annotations

import difflib
import time
import traceback
from typing import TYPE_CHECKING, Protocol, TypeVar

from kubeadm_py.errors import InternalError, KubeadmError, PhaseError, RequirementError
from kubeadm_py.workflow.phase import FlatPhase, Phase, flatten
from kubeadm_py.workflow.report import (
    NOTHING_TO_CHANGE,
    NullReporter,
    PhaseOutcome,
    Reporter,
    RunReport,
    Status,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kubeadm_py.changes import Change


class StopRecord(Protocol):
    stopped: list[str]  # errors a dry run went past where a real run stops


class Recorder(Protocol):
    @property
    def stops(self) -> StopRecord: ...

    def changes(self) -> list[Change]: ...


class Runnable(Protocol):
    """What the runner needs of a context: the effectors, which record every change."""

    @property
    def fx(self) -> Recorder: ...


C = TypeVar("C", bound=Runnable)


def _covers(selector: str, path: str) -> bool:
    return path == selector or path.startswith(selector + "/")


def _normalize(sel: str) -> str:
    s = sel.strip().strip("/")
    return s[:-4] if s.endswith("/all") else ("" if s == "all" else s)


def _aliases(flat: Sequence[FlatPhase[C]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in flat:
        for alias in f.phase.aliases:
            out[f"{f.parent}/{alias}" if f.parent else alias] = f.path
    return out


def resolve_selectors(flat: Sequence[FlatPhase[C]], selectors: Iterable[str], what: str) -> list[str]:
    """Validate selectors against the tree; ``all``, ``parent/all`` and aliases are accepted."""
    paths = [f.path for f in flat]
    aliases = _aliases(flat)
    out: list[str] = []
    for raw in selectors:
        if not raw.strip():
            continue
        sel = _normalize(raw)
        sel = aliases.get(sel, sel)
        if sel and sel not in paths:
            close = difflib.get_close_matches(sel, paths, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"phases are: {', '.join(paths)}"
            raise KubeadmError(f"{what}: unknown phase {raw.strip()!r}", hint=hint)
        out.append(sel)
    return out


def select(
    phases: Sequence[Phase[C]], only: Iterable[str] | None = None, skip: Iterable[str] | None = None
) -> tuple[list[FlatPhase[C]], list[FlatPhase[C]]]:
    """Return (selected, skipped) flattened phases in execution order."""
    flat = flatten(list(phases))
    only_sel = resolve_selectors(flat, only or [], "phase selection")
    skip_sel = resolve_selectors(flat, skip or [], "--skip-phases")
    selected: list[FlatPhase[C]] = []
    skipped: list[FlatPhase[C]] = []
    for f in flat:
        if only_sel and not any(_covers(s, f.path) or s == "" for s in only_sel):
            continue
        if any(s == "" or _covers(s, f.path) for s in skip_sel):
            skipped.append(f)
            continue
        selected.append(f)
    return selected, skipped


def check_requirements(selected: Sequence[FlatPhase[C]], all_phases: Sequence[Phase[C]], ctx: C) -> None:
    """Fail before touching anything when a requirement is neither produced earlier in this run
    nor already present on the node."""
    providers: dict[str, str] = {}
    for f in flatten(list(all_phases)):
        for name in f.phase.provides:
            providers.setdefault(name, f.path)
    provided: set[str] = set()
    missing: list[str] = []
    for f in selected:
        for req in f.phase.requires:
            if req.name in provided:
                continue
            try:
                ok = bool(req.present(ctx))
            except KubeadmError as e:
                raise RequirementError(f"phase {f.path} needs {req.description}: {e}") from None
            if not ok:
                producer = providers.get(req.name)
                how = f"run phase {producer!r} first" if producer else "provide it before this phase"
                missing.append(f"phase {f.path} needs {req.description}, which is missing ({how})")
        provided.update(f.phase.provides)
    if missing:
        raise RequirementError("; ".join(dict.fromkeys(missing)))


def execute(
    workflow: str,
    phases: Sequence[Phase[C]],
    ctx: C,
    *,
    only: Iterable[str] | None = None,
    skip: Iterable[str] | None = None,
    reporter: Reporter | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Run the selected phases in order. Raises :class:`PhaseError` (or :class:`InternalError`) on
    the first failure after recording it in the report attached to the exception (``exc.report``)."""
    rep = reporter or NullReporter()
    selected, skipped = select(phases, only, skip)
    check_requirements(selected, phases, ctx)
    report = RunReport(workflow=workflow, dry_run=dry_run)
    skipped_paths = {f.path for f in skipped}
    for f in flatten(list(phases)):
        if f.path in skipped_paths:
            report.phases.append(PhaseOutcome(f.path, "skipped", reason="skipped by --skip-phases"))
    for f in selected:
        run = f.phase.run
        if run is None:
            continue
        rep.phase_started(f.path)
        start = time.perf_counter()
        if f.phase.run_if is not None and not f.phase.run_if(ctx):
            outcome = PhaseOutcome(f.path, "skipped", reason=f.phase.skip_reason)
            report.phases.append(outcome)
            rep.phase_finished(outcome)
            continue
        before, stops_before = _ids(ctx.fx.changes()), len(ctx.fx.stops.stopped)
        try:
            extra = run(ctx) or []
        except BaseException as e:  # noqa: BLE001 - wrapped with the phase path, re-raised
            changes = _new(ctx.fx.changes(), before)
            internal = not isinstance(e, KubeadmError | KeyboardInterrupt | SystemExit)
            reason = f"internal error: {type(e).__name__}: {e}" if internal else str(e)
            outcome = PhaseOutcome(f.path, "failed", time.perf_counter() - start, changes, reason=reason)
            report.phases.append(outcome)
            report.error = f"phase {f.path}: {reason}"
            rep.phase_finished(outcome)
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            err: PhaseError = (
                InternalError(f.path, e, traceback.format_exc()) if internal else PhaseError(f.path, e)
            )
            err.report = report
            raise err from e
        recorded = _new(ctx.fx.changes(), before)
        # Phases may also return the changes their effectors recorded: count each change once.
        seen = {id(c) for c in recorded}
        changes = recorded + [c for c in extra if id(c) not in seen]
        status: Status = "changed" if any(c.changed for c in changes) else "unchanged"
        reason = "" if status == "changed" else _what_it_did(changes)
        stopped = ctx.fx.stops.stopped[stops_before:]
        if stopped:
            reason = f"a real run stops here: {stopped[0]}"
            report.would_stop = report.would_stop or f"phase {f.path}: {stopped[0]}"
        outcome = PhaseOutcome(f.path, status, time.perf_counter() - start, changes, reason, dry_run)
        if f.phase.children and not changes and not stopped:
            continue  # a parent that only announced its children: no phase line of its own
        report.phases.append(outcome)
        rep.phase_finished(outcome)
    order = {f.path: i for i, f in enumerate(flatten(list(phases)))}
    report.phases.sort(key=lambda o: order.get(o.path, 0))
    return report


def _ids(changes: Sequence[Change]) -> set[int]:
    return {id(c) for c in changes}


def _new(changes: Sequence[Change], before: set[int]) -> list[Change]:
    """The changes recorded since ``before``: effectors keep separate lists (files, API objects,
    waits), so a phase's records are not simply the tail of their concatenation."""
    return [c for c in changes if id(c) not in before]


def _what_it_did(changes: Sequence[Change]) -> str:
    """The reason of a phase that changed nothing: the notes it recorded (``printed the join
    commands``, ``would wait for ...``), else that everything was already in place."""
    notes = [c.detail for c in changes if c.kind == "note" and c.detail]
    return "; ".join(dict.fromkeys(notes)) or NOTHING_TO_CHANGE


def phase_tree_text(phases: Sequence[Phase[C]]) -> str:
    """The phase listing appended to a workflow's help, as kubeadm prints it."""
    lines = []
    for f in flatten(list(phases)):
        if f.phase.hidden:
            continue
        indent = "  " * f.level
        name = f"/{f.phase.name}" if f.level else f.phase.name
        lines.append(f"{indent}{name:<{max(1, 30 - len(indent))}} {f.phase.short_help}".rstrip())
    return "\n".join(lines)
