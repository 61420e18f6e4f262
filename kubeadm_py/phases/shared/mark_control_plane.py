"""``init phase mark-control-plane``: label and taint this node as a control plane."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG, api_timeout
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.context import AnyContext

FLAGS = ("node-name", "config", "kubeconfig", "dry-run")


def run_mark_control_plane(ctx: AnyContext) -> None:
    from kubeadm_py.cluster.markcp import desired_taints, mutator, taint_string
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.versioned import MASTER_LABEL, profile_for

    node = ctx.cfg.node_name
    if not node:
        raise KubeadmError("no node name: set nodeRegistration.name or --node-name")
    version = ctx.cfg.kubernetes_version
    labels = profile_for(version).control_plane_labels
    taints = desired_taints(ctx.cfg.node_registration, version)
    shown = " ".join(f"{label}(deprecated)" if label == MASTER_LABEL else label for label in labels)
    ctx.log(f"[mark-control-plane] Marking the node {node} as control-plane by adding the labels: [{shown}]")
    if taints:
        ctx.log(
            f"[mark-control-plane] Marking the node {node} as control-plane by adding the taints "
            f"[{' '.join(taint_string(t) for t in taints)}]"
        )
    ctx.kube().patch_node(node, mutator(labels, taints), wait=api_timeout(ctx))


def mark_control_plane_phase() -> Phase[AnyContext]:
    return Phase(
        name="mark-control-plane",
        help="Mark a node as a control-plane",
        run=run_mark_control_plane,
        flags=FLAGS,
        requires=(ADMIN_KUBECONFIG,),
        provides=("mark-control-plane",),
    )
