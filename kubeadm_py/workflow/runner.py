"""The generic phase runner: flatten, select, check requirements, execute, report.

Selection follows kubeadm's rules: selecting or skipping a parent covers its subtree, skip beats
selection, and an unknown path is an error that suggests close matches. Requirements are checked
for every selected phase before any phase runs: each must be provided by a phase selected earlier
in this run or already be present on the node; otherwise the run fails naming the phase to run.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable, Sequence
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError, PhaseError, RequirementError
from kubeadm_py.workflow.phase import FlatPhase, Phase, flatten
from kubeadm_py.workflow.report import NullReporter, PhaseOutcome, Reporter, RunReport, Status


def _covers(selector: str, path: str) -> bool:
    return path == selector or path.startswith(selector + "/")


def _normalize(sel: str) -> str:
    s = sel.strip().strip("/")
    return s[:-4] if s.endswith("/all") else ("" if s == "all" else s)


def resolve_selectors(flat: Sequence[FlatPhase], selectors: Iterable[str], what: str) -> list[str]:
    """Validate selectors against the tree; ``all`` and ``parent/all`` are accepted."""
    paths = [f.path for f in flat]
    out: list[str] = []
    for raw in selectors:
        if not raw.strip():
            continue
        sel = _normalize(raw)
        if sel and sel not in paths:
            close = difflib.get_close_matches(sel, paths, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"phases are: {', '.join(paths)}"
            raise KubeadmError(f"{what}: unknown phase {raw.strip()!r}", hint=hint)
        out.append(sel)
    return out


def select(
    phases: Sequence[Phase], only: Iterable[str] | None = None, skip: Iterable[str] | None = None
) -> tuple[list[FlatPhase], list[FlatPhase]]:
    """Return (selected, skipped) flattened phases in execution order."""
    flat = flatten(list(phases))
    only_sel = resolve_selectors(flat, only or [], "phase selection")
    skip_sel = resolve_selectors(flat, skip or [], "--skip-phases")
    selected: list[FlatPhase] = []
    skipped: list[FlatPhase] = []
    for f in flat:
        if only_sel and not any(_covers(s, f.path) or s == "" for s in only_sel):
            continue
        if any(s == "" or _covers(s, f.path) for s in skip_sel):
            skipped.append(f)
            continue
        selected.append(f)
    return selected, skipped


def check_requirements(selected: Sequence[FlatPhase], all_phases: Sequence[Phase], ctx: Any) -> None:
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


def _effector_changes(ctx: Any) -> list[Change]:
    """Changes recorded by the context's effectors so far (files, API objects)."""
    out: list[Change] = list(getattr(getattr(ctx, "fs", None), "changes", []))
    kube = getattr(ctx, "_kube", None)
    if kube is not None:
        out.extend(getattr(kube, "changes", []))
    return out


def execute(
    workflow: str,
    phases: Sequence[Phase],
    ctx: Any,
    *,
    only: Iterable[str] | None = None,
    skip: Iterable[str] | None = None,
    reporter: Reporter | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Run the selected phases in order. Raises :class:`PhaseError` on the first failure after
    recording it in the report attached to the exception (``exc.report``)."""
    rep = reporter or NullReporter()
    selected, skipped = select(phases, only, skip)
    check_requirements(selected, phases, ctx)
    report = RunReport(workflow=workflow, dry_run=dry_run)
    skipped_paths = {f.path for f in skipped}
    for f in flatten(list(phases)):
        if f.path in skipped_paths:
            report.phases.append(PhaseOutcome(f.path, "skipped", reason="skipped by --skip-phases"))
    for f in selected:
        if f.phase.run is None:
            continue
        rep.phase_started(f.path)
        start = time.perf_counter()
        if f.phase.run_if is not None and not f.phase.run_if(ctx):
            outcome = PhaseOutcome(f.path, "skipped", reason="not applicable to this node/configuration")
            report.phases.append(outcome)
            rep.phase_finished(outcome)
            continue
        before = len(_effector_changes(ctx))
        try:
            extra = f.phase.run(ctx) or []
        except BaseException as e:  # noqa: BLE001 - wrapped with the phase path, re-raised
            changes = _effector_changes(ctx)[before:]
            outcome = PhaseOutcome(f.path, "failed", time.perf_counter() - start, changes, reason=str(e))
            report.phases.append(outcome)
            report.error = f"phase {f.path}: {e}"
            rep.phase_finished(outcome)
            if isinstance(e, KeyboardInterrupt | SystemExit):
                raise
            err = PhaseError(f.path, e)
            err.report = report  # type: ignore[attr-defined]
            raise err from e
        recorded = _effector_changes(ctx)[before:]
        # Phases may also return the changes their effectors recorded: count each change once.
        seen = {id(c) for c in recorded}
        changes = recorded + [c for c in extra if id(c) not in seen]
        status: Status = "changed" if any(c.changed for c in changes) else "unchanged"
        reason = "" if status == "changed" else "nothing to change: already in the desired state"
        outcome = PhaseOutcome(f.path, status, time.perf_counter() - start, changes, reason)
        report.phases.append(outcome)
        rep.phase_finished(outcome)
    report.outputs.update(getattr(ctx, "state", {}).get("outputs", {}))
    order = {f.path: i for i, f in enumerate(flatten(list(phases)))}
    report.phases.sort(key=lambda o: order.get(o.path, 0))
    return report


def phase_tree_text(phases: Sequence[Phase]) -> str:
    """The phase listing appended to a workflow's help, as kubeadm prints it."""
    lines = []
    for f in flatten(list(phases)):
        if f.phase.hidden:
            continue
        indent = "  " * f.level
        name = f"/{f.phase.name}" if f.level else f.phase.name
        lines.append(f"{indent}{name:<{max(1, 30 - len(indent))}} {f.phase.short_help}".rstrip())
    return "\n".join(lines)
