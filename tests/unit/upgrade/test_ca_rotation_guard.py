"""``upgrade apply|node`` during ``certs rotate-ca`` (docs/pki.md): the ``CARotationInProgress``
preflight check refuses before any change, in a real run and in a dry run, unless ignored; the
refusal as a function of the stored rotation and the nodes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeadm_py.certs import rotateca as rc
from kubeadm_py.errors import PhaseError
from tests.unit.upgrade.conftest import NODE, FakeWaiter, Node


def ca_pem() -> bytes:
    from kubeadm_py.pki import issue, keys

    now = datetime.datetime.now(datetime.UTC)
    key = keys.generate_key("ECDSA-P256")
    return issue.encode_cert(issue.self_signed_ca("kubernetes", key, now, now + datetime.timedelta(days=1)))


OLD, NEW = ca_pem(), ca_pem()


def node_obj(name: str, synced: str | None = None) -> dict[str, Any]:
    ann = {rc.NODE_STAGE: synced, rc.NODE_ISSUER: rc.fingerprint(NEW)} if synced else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "annotations": ann}}


@pytest.mark.parametrize("stage", ["begin", "switch"])
def test_a_rotation_before_finished_is_refused_naming_stage_and_lagging_nodes(stage: str) -> None:
    rot = rc.Rotation(2, stage, OLD, NEW)
    nodes = [node_obj("cp-1", f"2/{stage}"), node_obj("worker-1", "1/finished"), node_obj("worker-2")]
    why = rc.upgrade_refusal(rot, nodes)
    assert why == (
        f"a CA rotation is in progress (ConfigMap kube-system/kubeadm-py-ca-rotation: rotation 2, "
        f"stage {stage}; not synced yet: worker-1, worker-2); the upgrade would point the trust it changes "
        "back at ca.crt"
    )
    assert "not synced" not in str(rc.upgrade_refusal(rot, None))  # nodes unreadable: the stage only
    assert "not synced" not in str(rc.upgrade_refusal(rot, nodes[:1]))


def test_no_rotation_or_a_finished_one_is_no_refusal() -> None:
    assert rc.upgrade_refusal(None, []) is None
    assert rc.upgrade_refusal(rc.Rotation(1, "finished", OLD, NEW), [node_obj("late")]) is None


def put_rotation(node: Node, stage: str) -> None:
    node.api.put(rc.Rotation(1, stage, OLD, NEW).configmap())
    node.api.put({**node_obj("worker-1"), "status": {"nodeInfo": {"kubeletVersion": "v1.30.14"}}})


def test_upgrade_apply_is_refused_before_any_change(node: Node, waiter: FakeWaiter) -> None:
    put_rotation(node, "switch")
    before = node.manifest("kube-apiserver")
    writes = len(node.api.mutations())
    with pytest.raises(PhaseError) as e:
        node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True})
    message = str(e.value)
    assert "CARotationInProgress: a CA rotation is in progress" in message and "\n" not in message
    assert f"stage switch; not synced yet: {NODE}, worker-1" in message
    assert "kubeadm-py certs rotate-ca status" in message
    assert "--ignore-preflight-errors=CARotationInProgress" in message
    assert node.manifest("kube-apiserver") == before and waiter.calls == []
    assert len(node.api.mutations()) == writes


def test_dry_run_shows_the_same_refusal(node: Node) -> None:
    put_rotation(node, "begin")
    with pytest.raises(PhaseError, match="CARotationInProgress: .*rotation 1, stage begin"):
        node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True, "dry-run": True})


def test_upgrade_node_on_a_worker_is_refused(node: Node, waiter: FakeWaiter) -> None:
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        node.path(f"/etc/kubernetes/manifests/{comp}.yaml").unlink()
    node.path("/etc/kubernetes/admin.conf").unlink()  # a worker: kubelet.conf only
    put_rotation(node, "begin")
    for options in ({"dry-run": True}, {}):
        with pytest.raises(PhaseError, match="phase preflight: .*CARotationInProgress: .*stage begin"):
            node.run("upgrade-node", options=options)
    assert not node.path("/var/lib/kubelet/config.yaml").exists()


def test_ignored_by_the_flag_case_insensitively(node: Node, waiter: FakeWaiter) -> None:
    put_rotation(node, "switch")
    report = node.run(
        "upgrade-apply",
        options={"version": "v1.30.14", "yes": True, "ignore-preflight-errors": ["carotationinprogress"]},
    )
    assert report.ok


def test_a_finished_rotation_lets_the_upgrade_run(node: Node, waiter: FakeWaiter) -> None:
    put_rotation(node, "finished")
    assert node.run("upgrade-apply", options={"version": "v1.30.14", "yes": True}).ok


def test_a_rotation_configmap_the_run_may_not_read_is_no_rotation(
    node: Node, waiter: FakeWaiter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's kubelet may read the ConfigMap only through the Role ``begin`` creates first: a 403
    means no rotation ever began (here the ConfigMap exists, to show the check did not read it)."""
    put_rotation(node, "begin")
    real = node.api.send

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        if path.endswith(f"/configmaps/{rc.NAME}"):
            return node.api._status(403, "Forbidden", f'configmaps "{rc.NAME}" is forbidden')
        return real(method, path, body, headers)

    monkeypatch.setattr(node.api, "send", send)
    assert node.run("upgrade-apply", options={"version": "v1.30.14", "yes": True}).ok
