"""``selfhosting status``: modes from the API, this node's files when the API is down, and the
checkpoint column from the checkpointer's files (the contract)."""

from __future__ import annotations

from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting import contract
from kubeadm_py.selfhosting.status import render, rows
from tests.unit.selfhosting.conftest import NODE, Node

MANIFESTS = "/etc/kubernetes/manifests"


def test_rows_before_and_after_pivot(node: Node) -> None:
    fs = HostFS(rootfs=str(node.root))
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        node.server.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"{comp}-{NODE}", "namespace": "kube-system"},
                "spec": {"nodeName": NODE},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
    table, note = rows(fs, MANIFESTS, NODE, node.server.client())
    assert note == "" and {r.mode for r in table} == {"static"} and {r.checkpoint for r in table} == {"none"}
    node.run()
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        del node.server.objects[("Pod", "kube-system", f"{comp}-{NODE}")]
    checkpoint = node.path(contract.stored_checkpoint("kube-apiserver"))
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text("kind: Pod\n")
    node.path(contract.active_checkpoint(MANIFESTS, "kube-scheduler")).write_text("kind: Pod\n")
    table, _ = rows(fs, MANIFESTS, NODE, node.server.client())
    assert [(r.component, r.mode, r.pod, r.checkpoint) for r in table] == [
        ("kube-apiserver", "self-hosted", "Running, Ready", "stored"),
        ("kube-controller-manager", "self-hosted", "Running, Ready", "none"),
        ("kube-scheduler", "self-hosted", "Running, Ready", "active"),
    ]
    text = render(table)
    assert text.splitlines()[0].split() == ["COMPONENT", "NODE", "MODE", "POD", "CHECKPOINT"]
    assert "kube-scheduler           cp-1  self-hosted  Running, Ready  active" in text


def test_rows_from_files_when_the_api_is_down(node: Node) -> None:
    node.run(phases=["kube-apiserver"])
    node.server.down = True
    table, note = rows(HostFS(rootfs=str(node.root)), MANIFESTS, NODE, node.server.client())
    assert note.startswith("the API server was not read")
    assert [(r.component, r.mode, r.pod) for r in table] == [
        ("kube-apiserver", "self-hosted", "API not read"),
        ("kube-controller-manager", "static", "API not read"),
        ("kube-scheduler", "static", "API not read"),
    ]
