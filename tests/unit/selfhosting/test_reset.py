"""``reset phase remove-selfhosting``: the node label, the checkpointer unit, the checkpoints and
pivot's copies go; the DaemonSets stay (other control-plane nodes run them)."""

from __future__ import annotations

from kubeadm_py.selfhosting import contract
from tests.unit.runctx import FakeServices
from tests.unit.selfhosting.conftest import Node

MANIFESTS = "/etc/kubernetes/manifests"


def test_reset_removes_what_self_hosting_added(node: Node) -> None:
    node.run()
    unit = node.path(contract.CHECKPOINTER_UNIT_FILE)
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text("[Unit]\n")
    stored = node.path(contract.stored_checkpoint("kube-apiserver"))
    stored.parent.mkdir(parents=True)
    stored.write_text("kind: Pod\n")
    active = node.path(contract.active_checkpoint(MANIFESTS, "kube-apiserver"))
    active.write_text("kind: Pod\n")
    services = FakeServices(active={contract.CHECKPOINTER_UNIT})
    report = node.run("reset", phases=["remove-selfhosting"], services=services)
    assert report.ok
    assert services.calls == [f"disable --now {contract.CHECKPOINTER_UNIT}", "daemon-reload"]
    assert contract.NODE_LABEL not in node.labels()
    for path in (contract.CHECKPOINTER_UNIT_FILE, contract.SELFHOSTING_DIR, contract.BACKUP_DIR):
        assert not node.path(path).exists(), path
    assert not active.exists()
    assert node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system") is not None


def test_reset_on_a_static_node_changes_nothing(node: Node) -> None:
    services = FakeServices()
    report = node.run("reset", phases=["remove-selfhosting"], services=services)
    assert report.ok and report.phases[-1].status == "unchanged"
    assert services.calls == [] and not node.server.mutations()


def test_reset_with_the_api_down_says_how_to_remove_the_label(node: Node) -> None:
    node.run()
    node.server.down = True
    report = node.run("reset", phases=["remove-selfhosting"], services=FakeServices())
    assert report.ok
    assert report.outputs["manual_cleanup"] == [
        {
            "what": "remove the label kubeadm-py.io/self-hosted from the Node cp-1",
            "command": "kubectl label node cp-1 kubeadm-py.io/self-hosted-",
        }
    ]
    assert not node.path(contract.BACKUP_DIR).exists()
