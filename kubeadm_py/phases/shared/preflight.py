"""The ``preflight`` phase of ``init``, ``join`` and ``reset``.

It runs the role's checks (:mod:`kubeadm_py.preflight.roles`) against the machine through the
run's probe ``ctx.fx.probe`` (a :class:`~kubeadm_py.host.probe.RealProbe` bound to ``ctx.fs``, so
``--rootfs`` applies to node files; ``Hooks(probe=...)`` replaces it), logs ``[preflight]`` lines as
kubeadm does, leaves the report in ``ctx.state.preflight_report`` and stops the run with
:class:`~kubeadm_py.errors.PreflightError` when an error was not ignored (``ctx.fx.stops``). Checks
only read; in a dry run the errors are reported without stopping (the twin of ``stops``): the point
of ``--dry-run`` is to show everything a real run would do, also on a machine that is not ready yet.

``reset`` asks for confirmation through ``ctx.fx.prompt`` unless ``--force``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError, PreflightError
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.host.probe import SystemProbe
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.preflight.checks import Check, PreflightReport

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


def effective_role(ctx: AnyContext, role: str) -> str:
    """A join with ``controlPlane`` set (``--control-plane``) runs the control-plane join checks."""
    if role == "join" and (ctx.options.control_plane or (ctx.cfg.join or {}).get("controlPlane")):
        return "join-control-plane"
    return role


# Checks that fail on a node because an earlier run of the same workflow already set it up: its own
# control plane holds the ports and its own files are present. A rerun (after a failure, or to
# converge) shows them as warnings instead of stopping at its own artifacts.
_CONTROL_PLANE_OWN = (
    "Port-10259",
    "Port-10257",
    "Port-2379",
    "Port-2380",
    "Port-10250",
    "DirAvailable--var-lib-etcd",
    "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml",
    "FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml",
    "FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml",
    "FileAvailable--etc-kubernetes-manifests-etcd.yaml",
)
_JOIN_OWN = (
    "Port-10250",
    "FileAvailable--etc-kubernetes-kubelet.conf",
    "FileAvailable--etc-kubernetes-bootstrap-kubelet.conf",
    "FileAvailable--etc-kubernetes-pki-ca.crt",
)
RESUMABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    # role: (journal of the workflow, checks its own artifacts fail)
    "init": ("init", _CONTROL_PLANE_OWN),
    "join": ("join", _JOIN_OWN),
    "join-control-plane": ("join", _JOIN_OWN + _CONTROL_PLANE_OWN),
}


def _resume_ignores(ctx: AnyContext, role: str, ignore: frozenset[str]) -> frozenset[str]:
    from kubeadm_py.journal import changed_before, journal_path

    if role not in RESUMABLE or "all" in ignore:
        return ignore
    workflow, own = RESUMABLE[role]
    earlier = changed_before(ctx.fs, workflow)
    if earlier is None:
        return ignore
    port = ctx.cfg.bind_port
    ctx.log(
        f"[preflight] resuming: 'kubeadm-py {workflow}' already changed this node "
        f"(started {earlier.get('started')}, journal {journal_path(workflow)}); errors caused by "
        "its own files and ports are shown as warnings"
    )
    names = {n.lower() for n in own}
    if role != "join":
        names.add(f"port-{port}")
    return ignore | names


PULL_LINES = (
    "[preflight] Pulling images required for setting up a Kubernetes cluster",
    "[preflight] This might take a minute or two, depending on the speed of your internet connection",
    "[preflight] You can also perform this action beforehand using 'kubeadm-py config images pull'",
)


def _pull_images(
    ctx: AnyContext, pulls: list[Check], report: PreflightReport, probe: SystemProbe, ignore: frozenset[str]
) -> None:
    """``RunPullImagesCheck`` after the other checks, as upstream: only when they passed (a real run
    stops at their errors before pulling anything; a dry run, which goes on past them, shows that).
    Pulls go through the run's CRI effector, whose dry-run twin only says what it would pull."""
    from kubeadm_py.preflight.checks import run_check

    if not pulls:
        return
    if not report.ok:
        ctx.log("[preflight] Not pulling images: the checks above failed")
        return
    for line in PULL_LINES:
        ctx.log(line)
    report.results.extend(run_check(c, probe, ignore) for c in pulls)


def run_preflight_phase(ctx: AnyContext, role: str) -> list[Change]:
    from kubeadm_py.preflight import config_ignore_list
    from kubeadm_py.preflight.checks import ignore_set, run_checks
    from kubeadm_py.preflight.images import ImagePull
    from kubeadm_py.preflight.roles import checks_for_role, facts_from_config

    role = effective_role(ctx, role)
    probe = ctx.fx.probe
    ignore = ignore_set(ctx.options.ignore_preflight_errors, config_ignore_list(ctx.cfg, role))
    facts = facts_from_config(ctx.cfg, role)
    checks = checks_for_role(role, facts)
    ctx.log("[preflight] Running pre-flight checks")
    ignore = _resume_ignores(ctx, role, ignore)
    # ImagePull pulls through the run's CRI effector (its dry-run twin records the pulls).
    pulls: list[Check] = [replace(c, runtime=ctx.fx.cri) for c in checks if isinstance(c, ImagePull)]
    report = run_checks([c for c in checks if c.name != "ImagePull"], probe, ignore)
    _pull_images(ctx, pulls, report, probe, ignore)
    for line in report.lines():
        ctx.log(line)
    ctx.state.preflight_report = report
    try:
        report.raise_for_errors()
    except PreflightError as e:
        return [ctx.fx.stops.stop(e, "preflight")]  # a dry run goes on
    if role == "reset" and not ctx.options.force and not ctx.fx.prompt.confirm(RESET_QUESTION):
        raise KubeadmError("aborted reset operation", hint="use --force to reset without a question")
    n_warn = len(report.warnings)
    return [
        Change(  # checks only read: never a change
            "note",
            "unchanged",
            "preflight",
            f"{len(report.results)} checks passed for {role}"
            + (f", {n_warn} with warnings" if n_warn else ""),
        )
    ]


def preflight_phase(role: PreflightRole) -> Phase[AnyContext]:
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
