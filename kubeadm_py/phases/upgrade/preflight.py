"""``upgrade apply|node phase preflight``: the version skew policy, the static Pod manifests this
node must have, and the ``[y/N]`` question (skipped with ``-y`` or ``-f``; answered yes when standard
input is not a terminal, and by the dry-run prompt)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.certs.rotatesa import PREVIOUS_PUB as PREVIOUS_SA_PUB
from kubeadm_py.changes import Change
from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS
from kubeadm_py.errors import ApiError, KubeadmError, PreflightError
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.upgrade.state import UpgradeContext

FLAGS = (
    "config",
    "kubeconfig",
    "dry-run",
    "force",
    "yes",
    "ignore-preflight-errors",
    "allow-experimental-upgrades",
    "allow-release-candidate-upgrades",
    "print-config",
)


def _ignored(ctx: UpgradeContext, name: str) -> bool:
    wanted = {x.lower() for x in ctx.options.ignore_preflight_errors or []}
    section = "node" if ctx.state.facts.section == "node" else "apply"
    wanted |= {
        str(x).lower()
        for x in ((ctx.cfg.upgrade or {}).get(section) or {}).get("ignorePreflightErrors") or []
    }
    return "all" in wanted or name.lower() in wanted


def _self_hosted(ctx: UpgradeContext) -> list[str]:
    """The components that run as DaemonSets on this node (docs/selfhosting.md, "Upgrades"), said
    before any change: ``upgrade apply``'s ``self-hosted`` phase updates them cluster-wide, for a
    configuration or a version change; ``upgrade node`` leaves them to it and upgrades this node's
    static Pods (local etcd) only."""
    from kubeadm_py.selfhosting.status import self_hosted_components

    hosted = self_hosted_components(ctx.fs, ctx.manifests_dir)
    if hosted:
        how = (
            "upgrade apply updated their DaemonSets for every node; this node upgrades its static Pods only"
            if ctx.state.facts.section == "node"
            else "the self-hosted phase updates their DaemonSets through the API, one node at a time"
        )
        ctx.log(f"[preflight] {', '.join(hosted)} run as DaemonSets on this node: {how}")
    return hosted


def _ca_rotation(ctx: UpgradeContext) -> None:
    """``certs rotate-ca`` in progress (docs/pki.md): stop before any change, as for a self-hosted
    control plane. Read with the run's identity; a worker's kubelet may read the rotation ConfigMap
    only through the Role ``begin`` creates before the ConfigMap, so a refusal means no rotation."""
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.constants import KUBE_SYSTEM
    from kubeadm_py.kube.client import ForbiddenError

    if _ignored(ctx, "CARotationInProgress"):
        return
    client = ctx.kube()
    try:
        rot = rc.from_configmap(client.get("ConfigMap", rc.NAME, KUBE_SYSTEM))
    except ForbiddenError:
        return
    try:
        nodes: list[dict[str, Any]] | None = client.list("Node") if rot is not None else None
    except ApiError:
        nodes = None  # the refusal still names the stage
    why = rc.upgrade_refusal(rot, nodes)
    if why:
        raise PreflightError(
            f"[preflight] CARotationInProgress: {why}",
            hint="finish the rotation first ('kubeadm-py certs rotate-ca status', then sync, switch, "
            "finish); --ignore-preflight-errors=CARotationInProgress upgrades anyway",
        )


def run_preflight(ctx: UpgradeContext) -> list[Change]:
    from kubeadm_py.upgrade.policy import enforce

    f = ctx.state.facts
    ctx.log("[preflight] Running pre-flight checks.")
    ctx.log(f"[upgrade/config] Using the ClusterConfiguration from {ctx.cfg.source}")
    if f.file_cluster is not None:
        ctx.log(
            "[upgrade/config] The ClusterConfiguration given with --config replaces the one stored in "
            "kube-system/kubeadm-config (a configuration change)"
        )
    ctx.log(f"[upgrade/versions] Cluster version: {f.cluster_version}")
    ctx.log(f"[upgrade/versions] Target version: {f.target}")
    hosted = _self_hosted(ctx)
    _ca_rotation(ctx)
    if f.control_plane:
        missing = [
            c
            for c in CONTROL_PLANE_COMPONENTS
            if c not in hosted and not ctx.fs.exists(f"{ctx.manifests_dir}/{c}.yaml")
        ]
        if missing and not _ignored(ctx, "StaticPodManifest"):
            raise PreflightError(
                f"[preflight] StaticPodManifest: missing static Pod manifests for {', '.join(missing)} "
                f"in {ctx.manifests_dir}",
                hint="restore them or pass --ignore-preflight-errors=StaticPodManifest",
            )
        rotation = f"{ctx.cert_dir.rstrip('/')}/{PREVIOUS_SA_PUB}"
        if ctx.fs.exists(rotation) and not _ignored(ctx, "ServiceAccountKeyRotation"):
            raise PreflightError(  # the new manifests would drop the flag that trusts the old key
                f"[preflight] ServiceAccountKeyRotation: a service-account key rotation is in progress "
                f"({rotation})",
                hint="finish it first: kubeadm-py certs rotate-sa --finish",
            )
    if ctx.options.print_config:
        from kubeadm_py.config.resolve import dump_document

        ctx.log("[upgrade/config] The ClusterConfiguration of this upgrade:")
        ctx.log(dump_document(ctx.cfg.cluster).rstrip())
    force = f.force
    res = enforce(f.version_info(), force=force)
    for msg in res.skippable:
        ctx.log(
            f"[upgrade/version] Found {'skippable' if not force else 'forced'} version skew policy "
            f"issue: {msg}"
        )
    for msg in res.warnings:
        ctx.log(f"[upgrade/version] WARNING: {msg}")
    if f.section != "node" and not (ctx.options.yes or force):
        question = f"[upgrade] Are you sure you want to proceed with the upgrade to {f.target}? [y/N]: "
        # Without a terminal the answer is yes (a dry run asks nothing: its prompt answers yes).
        if not ctx.fx.prompt.confirm(question, without_terminal=True):
            raise KubeadmError("won't proceed; the user didn't answer (Y|y) in order to continue")
    return [
        Change(  # checks only read: never a change
            "note", "unchanged", "preflight", f"version skew policy passed: {f.cluster_version} -> {f.target}"
        )
    ]


def upgrade_preflight_phase() -> Phase[UpgradeContext]:
    return Phase(
        "preflight",
        "Run upgrade pre-flight checks (version skew policy, static Pod manifests)",
        run=run_preflight,
        flags=FLAGS,
    )
