"""What ``selfhosting status`` reports: per component and control-plane node, static or
self-hosted, and on this node the checkpoint state (the checkpointer's files, see
:mod:`kubeadm_py.selfhosting.contract`). Without an API server the rows of this node still come
from its files, which is when they matter most."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting import contract

if TYPE_CHECKING:
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient, Obj

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


@dataclass
class Row:
    component: str
    node: str
    mode: str  # static, self-hosted, absent, unknown
    pod: str  # the Pod's state as the API tells it ("Running, Ready"), or why unknown
    checkpoint: str  # this node: none, stored, active; other nodes: "-"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def checkpoint_state(fs: HostFS, manifests_dir: str, component: str) -> str:
    if fs.exists(contract.active_checkpoint(manifests_dir, component)):
        return "active"
    if fs.exists(contract.stored_checkpoint(component)):
        return "stored"
    return "none"


def local_mode(fs: HostFS, manifests_dir: str, component: str) -> str:
    """This node's mode from its files alone."""
    if fs.exists(f"{manifests_dir.rstrip('/')}/{component}.yaml"):
        return "static"
    if fs.exists(contract.backup_path(component)):
        return "self-hosted"
    return "absent"


def self_hosted_components(fs: HostFS, manifests_dir: str) -> list[str]:
    """The components this node runs as DaemonSet Pods, in pivot order."""
    return [c for c in contract.COMPONENTS if local_mode(fs, manifests_dir, c) == "self-hosted"]


def pod_state(pod: Obj | None) -> str:
    if pod is None:
        return "no Pod"
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    return f"{status.get('phase', 'Unknown')}, {'Ready' if ready else 'not Ready'}"


def control_plane_nodes(client: KubeClient) -> list[str]:
    nodes = client.list("Node")
    return sorted(
        str(n["metadata"]["name"])
        for n in nodes
        if any(label in ((n.get("metadata") or {}).get("labels") or {}) for label in CONTROL_PLANE_LABELS)
    )


def rows(fs: HostFS, manifests_dir: str, node: str, client: KubeClient | None) -> tuple[list[Row], str]:
    """The rows, and a note ("" or why the API was not read)."""
    pods: list[Obj] = []
    nodes = [node]
    note = ""
    if client is not None:
        try:
            pods = client.list("Pod", KUBE_SYSTEM)
            nodes = sorted(set(control_plane_nodes(client)) | {node})
        except KubeadmError as e:
            note = f"the API server was not read ({e}): rows of this node come from its files"
    out = []
    for n in nodes:
        for comp in contract.COMPONENTS:
            mirror = next((p for p in pods if p["metadata"]["name"] == f"{comp}-{n}"), None)
            ds_pod = next(
                (
                    p
                    for p in pods
                    if ((p["metadata"].get("labels") or {}).get("k8s-app") == contract.ds_name(comp))
                    and (p.get("spec") or {}).get("nodeName") == n
                ),
                None,
            )
            here = n == node
            if pods:
                mode = "self-hosted" if ds_pod is not None else ("static" if mirror is not None else "absent")
                if here and mode == "absent":
                    mode = local_mode(fs, manifests_dir, comp)
                state = pod_state(ds_pod if ds_pod is not None else mirror)
            else:
                mode = local_mode(fs, manifests_dir, comp) if here else "unknown"
                state = "API not read"
            checkpoint = checkpoint_state(fs, manifests_dir, comp) if here else "-"
            out.append(Row(comp, n, mode, state, checkpoint))
    return out, note


def render(table: list[Row]) -> str:
    head = ("COMPONENT", "NODE", "MODE", "POD", "CHECKPOINT")
    cells = [head] + [(r.component, r.node, r.mode, r.pod, r.checkpoint) for r in table]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    return (
        "\n".join("  ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells) + "\n"
    )
