"""The ``preflight`` phase of ``init``, ``join`` and ``reset``.

It runs the role's checks (:mod:`kubeadm_py.preflight.roles`) against the machine through a
:class:`~kubeadm_py.host.probe.RealProbe` bound to ``ctx.fs`` (so ``--rootfs`` applies to node
files), logs ``[preflight]`` lines as kubeadm does, leaves the report in
``ctx.state["preflight_report"]`` and raises :class:`~kubeadm_py.errors.PreflightError` when an
error was not ignored. Checks only read; dry-run runs them unchanged, but there the errors are
reported without stopping the run: the point of ``--dry-run`` is to show everything a real run
would do, also on a machine that is not ready yet (a real run stops at them, as kubeadm does).

A test or embedding program can put its own probe in ``ctx.state["preflight_probe"]``; ``reset``
asks for confirmation through ``ctx.state["confirm"]`` (a callable taking the question and
returning bool) when given, else on standard input, unless ``--force``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Literal

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError, PreflightError
from kubeadm_py.workflow.phase import Phase

PreflightRole = Literal["init", "join", "join-control-plane", "reset"]

_HELP = {
    "init": "Run pre-flight checks for a control-plane node.",
    "join": "Run join pre-flight checks (control-plane checks too with --control-plane).",
    "join-control-plane": "Run join pre-flight checks for a new control-plane node.",
    "reset": "Run pre-flight checks for kubeadm-py reset.",
}
_COMMON = ("config", "cri-socket", "dry-run", "ignore-preflight-errors", "image-repository")
_FLAGS: dict[str, tuple[str, ...]] = {
    "init": _COMMON,
    "join": (*_COMMON, "control-plane"),
    "join-control-plane": _COMMON,
    "reset": ("dry-run", "force", "ignore-preflight-errors"),
}
RESET_QUESTION = (
    "[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.\n"
    "[reset] Are you sure you want to proceed? [y/N]: "
)


def effective_role(ctx: Any, role: str) -> str:
    """A join with ``controlPlane`` set (``--control-plane``) runs the control-plane join checks."""
    if role == "join" and (ctx.opts.get("control_plane") or (ctx.cfg.join or {}).get("controlPlane")):
        return "join-control-plane"
    return role


def _ask_stdin(question: str) -> bool:
    sys.stdout.write(question)
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_preflight_phase(ctx: Any, role: str) -> list[Change]:
    from kubeadm_py.host.probe import RealProbe
    from kubeadm_py.preflight import config_ignore_list
    from kubeadm_py.preflight.checks import ignore_set, run_checks
    from kubeadm_py.preflight.roles import checks_for_role, facts_from_config

    role = effective_role(ctx, role)
    probe = ctx.state.get("preflight_probe") or RealProbe(ctx.fs)
    ignore = ignore_set(ctx.opts.get("ignore_preflight_errors"), config_ignore_list(ctx.cfg, role))
    checks = checks_for_role(role, facts_from_config(ctx.cfg, role))
    ctx.log("[preflight] Running pre-flight checks")
    report = run_checks(checks, probe, ignore)
    for line in report.lines():
        ctx.log(line)
    ctx.state["preflight_report"] = report
    try:
        report.raise_for_errors()
    except PreflightError as e:
        if not ctx.dry_run:
            raise
        ctx.log(f"[dryrun] {e}")
        ctx.log("[dryrun] a real run would stop here; continuing to show the rest of the plan")
        return [Change("note", "run", "preflight", "errors found (see above); ignored in dry-run")]
    if role == "reset" and not ctx.opts.get("force"):
        confirm: Callable[[str], bool] = ctx.state.get("confirm") or _ask_stdin
        if not confirm(RESET_QUESTION):
            raise KubeadmError("aborted reset operation", hint="use --force to reset without a question")
    n_warn = len(report.warnings)
    return [
        Change(
            "note",
            "run",
            "preflight",
            f"{len(report.results)} checks passed for {role}"
            + (f", {n_warn} with warnings" if n_warn else ""),
        )
    ]


def preflight_phase(role: PreflightRole) -> Phase:
    """The ``preflight`` phase for ``init``, ``join`` (``join-control-plane`` forces the
    control-plane checks) or ``reset``."""
    if role not in _HELP:
        raise ValueError(f"unknown preflight role {role!r}")
    return Phase(
        name="preflight",
        help=_HELP[role] + "\n\nChecks are named as in kubeadm; --ignore-preflight-errors=<name>,... "
        "or 'all' turns their errors into warnings. See docs/preflight.md.",
        run=lambda ctx: run_preflight_phase(ctx, role),
        flags=_FLAGS[role],
    )
