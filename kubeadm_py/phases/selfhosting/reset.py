"""``reset phase remove-selfhosting``: undo on this node what self-hosting added (docs/selfhosting.md):
the node label ``kubeadm-py.io/self-hosted`` (its DaemonSet Pods leave the node; the DaemonSets
stay for the other control-plane nodes), the checkpointer service when present (stopped, disabled,
its unit file removed), the checkpoints
(/etc/kubernetes/selfhosting) and the static manifests pivot kept aside. Runs before cleanup-node,
while the API server may still answer; an API server that does not is a warning."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting import contract
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.kube.client import Obj
    from kubeadm_py.phases.context import AnyContext


def _unlabel(ctx: AnyContext, node: str) -> list[Change]:
    try:
        client = ctx.kube()
        live = client.get("Node", node)
        if live is None or contract.NODE_LABEL not in ((live.get("metadata") or {}).get("labels") or {}):
            return []

        def unlabel(n: Obj) -> None:
            n["metadata"]["labels"].pop(contract.NODE_LABEL, None)

        ctx.log(f"[reset] Removing the label {contract.NODE_LABEL} from the Node {node}")
        return [client.patch_node(node, unlabel, wait=0, detail=f"removed label {contract.NODE_LABEL}")]
    except KubeadmError as e:
        ctx.log(f"[reset] WARNING: could not remove the label {contract.NODE_LABEL} from {node}: {e}")
        command = f"kubectl label node {node} {contract.NODE_LABEL}-"
        ctx.outputs.manual(f"remove the label {contract.NODE_LABEL} from the Node {node}", command)
        return []


def run_remove_selfhosting(ctx: AnyContext) -> list[Change]:
    from kubeadm_py.phases.selfhosting.pivot import node_name

    fs = ctx.fs
    changes: list[Change] = []
    if fs.exists(contract.SELFHOSTING_DIR) or fs.exists(contract.BACKUP_DIR):
        changes += _unlabel(ctx, node_name(ctx))
    unit = fs.exists(contract.CHECKPOINTER_UNIT_FILE)  # installed by install-checkpointer
    manager = ctx.fx.services.manager() if unit else ""
    if unit:
        changes += _stop_checkpointer(ctx, manager)
    for path in (
        contract.CHECKPOINTER_UNIT_FILE,
        contract.SELFHOSTING_DIR,
        contract.BACKUP_DIR,
        *(contract.active_checkpoint(ctx.manifests_dir, c) for c in contract.COMPONENTS),
    ):
        if fs.exists(path):
            changes.append(fs.remove(path))
    if manager == "systemd":
        changes.append(ctx.fx.services.daemon_reload())
    return changes


def _stop_checkpointer(ctx: AnyContext, manager: str) -> list[Change]:
    """``systemctl disable --now`` when systemd drives the node (``manager``: the services
    effector's answer; stops it and removes the links ``enable`` made); otherwise the operator
    stops it with the node's service manager."""
    from kubeadm_py.effectors.services import not_driven

    services, unit = ctx.fx.services, contract.CHECKPOINTER_UNIT
    if manager == "systemd":
        return [services.disable(unit)]
    why = not_driven(manager)
    ctx.log(f"[reset] {why}: stop and disable {unit} with the node's service manager")
    command = f"systemctl disable --now {unit}"
    ctx.outputs.manual(f"stop and disable {unit} (its unit file is removed)", command)
    return []


def remove_selfhosting_phase() -> Phase[AnyContext]:
    return Phase(
        "remove-selfhosting",
        "Remove what self-hosting added on this node (label, checkpointer, checkpoints)",
        run=run_remove_selfhosting,
        flags=("kubeconfig", "dry-run"),
    )
