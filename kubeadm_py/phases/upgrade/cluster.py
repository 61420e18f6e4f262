"""The cluster-side phases of ``upgrade apply`` / ``upgrade node``: upload-config, bootstrap-token,
addon and post-upgrade (upstream ``cmd/phases/upgrade/apply`` and ``phases/upgrade/postupgrade.go``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG
from kubeadm_py.phases.shared.upload_config import upload_config_phase, upload_kubelet_configmap
from kubeadm_py.upgrade.addons import ADDONS
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.phases.upgrade.state import UpgradeContext

FLAGS = ("config", "kubeconfig", "dry-run")


# --- upload-config ---------------------------------------------------------------------------------


def upgrade_upload_config_phase() -> Phase[AnyContext]:
    return upload_config_phase(
        "Upload the kubeadm and kubelet configurations to ConfigMaps",
        kubelet=upload_kubelet_configmap,
        provides=False,
    )


# --- bootstrap-token -------------------------------------------------------------------------------


def run_bootstrap_token(ctx: UpgradeContext) -> None:
    """Re-ensure the RBAC rules that let nodes join and rotate certificates, and cluster-info's RBAC
    (no token is created or changed)."""
    from kubeadm_py.cluster import bootstraptoken as bt

    client = ctx.kube()
    for message, objs in bt.node_rbac(ctx.cfg.kubernetes_version):
        for obj in objs:
            client.apply(obj)
        if message:
            ctx.log(f"[bootstrap-token] {message}")
    for obj in bt.cluster_info_rbac():
        client.apply(obj)


def upgrade_bootstrap_token_phase() -> Phase[UpgradeContext]:
    return Phase(
        "bootstrap-token",
        "Configures bootstrap token and cluster-info RBAC rules",
        run=run_bootstrap_token,
        flags=FLAGS,
        requires=(ADMIN_KUBECONFIG,),
    )


# --- addon ---------------------------------------------------------------------------------------


def _addon_runner(name: str) -> Callable[[UpgradeContext], list[Change]]:
    def run(ctx: UpgradeContext) -> list[Change]:
        from kubeadm_py.phases.shared.addons import run_coredns, run_kube_proxy
        from kubeadm_py.upgrade.addons import skip_reason

        reason = skip_reason(ctx.kube(), ctx.cfg, name)
        if reason:
            ctx.log(f"[upgrade/addon] Skipping the addon {name}: {reason}")
            return [Change("note", "unchanged", f"addon {name}", f"skipped: {reason}")]
        (run_coredns if name == "coredns" else run_kube_proxy)(ctx)
        return []

    return run


def on_control_plane(ctx: UpgradeContext) -> bool:
    """Whether this node runs a control plane (its kube-apiserver manifest exists, as upstream's
    ``IsControlPlaneNode``)."""
    return ctx.state.facts.control_plane


NOT_CONTROL_PLANE = "Not a control plane node"  # upstream's words for these skips


def upgrade_addon_phase(*, control_plane_only: bool = False) -> Phase[UpgradeContext]:
    """``control_plane_only`` (``upgrade node``): each addon is skipped on a worker, whose kubelet
    identity may not read or write the addons' objects (upstream: the addon phase of ``upgrade node``,
    cmd/kubeadm/app/cmd/phases/upgrade/node/addons.go, came with kubernetes/kubernetes#127242 in v1.32,
    and kubernetes/kubernetes#127289, fixing kubernetes/kubeadm#3109 in the same release, skips it
    when ``!data.IsControlPlaneNode()`` with "Skipping the addon/<name> phase. Not a control plane
    node."; v1.20's ``upgrade node`` had no addon phase at all)."""
    return Phase(
        "addon",
        "Upgrade the default kubeadm addons (skipped when disabled or removed)",
        children=tuple(
            Phase(
                name,
                f"Upgrade the {name} addon",
                run=_addon_runner(name),
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
                run_if=on_control_plane if control_plane_only else None,
                skip_reason=NOT_CONTROL_PLANE,
            )
            for name in ADDONS
        ),
    )


# --- post-upgrade ----------------------------------------------------------------------------------


def run_post_upgrade(ctx: UpgradeContext) -> None:
    f = ctx.state.facts
    ctx.outputs.version, ctx.outputs.previous_version = f.target, f.cluster_version
    if f.section == "node":
        ctx.outputs.messages.append("[upgrade] The upgrade for this node was successfully completed.")
    else:
        ctx.outputs.messages += [
            f'[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{f.target}".',
            "[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.",
        ]
    ctx.outputs.messages.append(
        "[upgrade] The kubelet was not restarted: upgrade the kubelet package on this node and restart it "
        "('systemctl restart kubelet')."
    )


def post_upgrade_phase() -> Phase[UpgradeContext]:
    return Phase("post-upgrade", "Run post upgrade tasks", run=run_post_upgrade, flags=FLAGS)
