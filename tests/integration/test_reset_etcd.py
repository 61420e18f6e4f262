"""The reset ``remove-etcd-member`` phase against a real two-member etcd 3.4 cluster on loopback:
a node root whose etcd.yaml (written by the init etcd phase, URLs moved to the test ports) names
the second member removes exactly that member; on the last member it removes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kubeadm_py import api, workflows
from kubeadm_py.etcd.client import EtcdClient
from kubeadm_py.hostfs import HostFS
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.report import NullReporter
from tests.integration.etcd_helpers import (
    NODE_OPTIONS,
    PKI,
    EtcdMember,
    etcdctl,
    make_pki,
    needs_etcd,
    wait_serving,
)

pytestmark = [pytest.mark.integration, needs_etcd]


@pytest.fixture
def two_members(tmp_path):
    root = tmp_path / "cluster"
    pki = make_pki(root)
    first = EtcdMember("node1", pki, tmp_path / "run")
    second = EtcdMember("node2", pki, tmp_path / "run")
    try:
        first.start()
        wait_serving(first)
        client = EtcdClient.for_node(HostFS(rootfs=root), "/etc/kubernetes/pki", [first.client_url])
        new = next(m for m in client.add_member("node2", second.peer_url, learner=True) if m.name == "node2")
        second.start(f"node1={first.peer_url},node2={second.peer_url}", state="existing")
        client.promote(new.id)
        wait_serving(second)
        yield root, first, second
    finally:
        second.stop()
        first.stop()


def node_root(tmp_path: Path, cluster_root: Path, name: str, member: EtcdMember) -> Path:
    """A control-plane node's root: the cluster's PKI plus the etcd manifest init writes for
    ``name``, with the default URLs moved to ``member``'s ports."""
    root = tmp_path / f"node-{name}"
    shutil.copytree(cluster_root / PKI, root / PKI)
    api.run("init", phases=["etcd"], rootfs=str(root), options={**NODE_OPTIONS, "node-name": name})
    manifest = root / "etc/kubernetes/manifests/etcd.yaml"
    text = manifest.read_text()
    assert "https://127.0.0.1:2380" in text and "https://127.0.0.1:2379" in text
    text = text.replace("127.0.0.1:2380", f"127.0.0.1:{member.peer_port}")
    manifest.write_text(text.replace("127.0.0.1:2379", f"127.0.0.1:{member.client_port}"))
    return root


def run_phase(root: Path, phase: str = "remove-etcd-member"):
    ctx = api.build_context("reset", {"rootfs": str(root), "force": True})
    logs: list[str] = []
    ctx.log = logs.append
    report = runner.execute("reset", workflows.get("reset").phases(), ctx, only=[phase])
    return report, ctx, logs


class Logs(NullReporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


def test_removes_exactly_this_nodes_member(tmp_path, two_members):
    cluster_root, first, second = two_members
    root = node_root(tmp_path, cluster_root, "node2", second)
    report, ctx, logs = run_phase(root)

    outcome = next(p for p in report.phases if p.path == "remove-etcd-member")
    assert outcome.status == "changed", logs
    assert [c.target for c in outcome.changes] == [f"etcd member node2 ({second.peer_url})"]
    assert ctx.state.dirs_to_clean == ["/var/lib/etcd"]
    assert any("Removed etcd member node2" in line for line in logs)
    left = client_for(cluster_root, first.client_url)
    assert [(m.name, m.peer_urls) for m in left.members()] == [("node1", [first.peer_url])]
    r = etcdctl(first.pki, [first.client_url], "endpoint", "health", "--cluster")
    assert r.returncode == 0 and f"{first.client_url} is healthy" in r.stdout + r.stderr


def test_full_reset_of_a_second_control_plane_node(tmp_path, two_members):
    cluster_root, first, second = two_members
    root = node_root(tmp_path, cluster_root, "node2", second)
    (root / "var/lib/etcd/member").mkdir(parents=True)
    (root / "var/lib/etcd/member/wal").write_text("x")
    opts = {"force": True, "ignore-preflight-errors": "all"}
    logs = Logs()
    report = api.run("reset", rootfs=str(root), options=opts, reporter=logs)
    # preflight only reads: never a change
    statuses = {p.path: p.status for p in report.phases}
    assert statuses == {
        "preflight": "unchanged",
        "remove-etcd-member": "changed",
        "remove-selfhosting": "unchanged",  # nothing self-hosted on this node
        "cleanup-node": "changed",
    }, logs.lines
    assert [m.name for m in client_for(cluster_root, first.client_url).members()] == ["node1"]
    assert [p for p in root.rglob("*") if not p.is_dir()] == []  # certs, manifest and etcd data gone

    again = Logs()
    report = api.run("reset", rootfs=str(root), options=opts, reporter=again)
    assert {p.path: p.status for p in report.phases if p.path != "preflight"} == {
        "remove-etcd-member": "unchanged",
        "remove-selfhosting": "unchanged",
        "cleanup-node": "unchanged",
    }
    assert any("Nothing to remove" in line for line in again.lines)
    assert [m.name for m in client_for(cluster_root, first.client_url).members()] == ["node1"]


def client_for(root: Path, endpoint: str) -> EtcdClient:
    return EtcdClient.for_node(HostFS(rootfs=root), "/etc/kubernetes/pki", [endpoint])


def test_last_member_is_not_removed(tmp_path, two_members):
    cluster_root, first, second = two_members
    client = client_for(cluster_root, first.client_url)
    client.remove_member(next(m.id for m in client.members() if m.name == "node2"))
    second.stop()
    root = node_root(tmp_path, cluster_root, "node1", first)
    report, _, logs = run_phase(root)
    assert report.phases[-1].status == "unchanged"
    assert any("only remaining etcd member" in line for line in logs)
    r = etcdctl(first.pki, [first.client_url], "member", "list")
    assert r.returncode == 0 and "node1" in r.stdout


def test_dry_run_does_not_touch_the_cluster(tmp_path, two_members):
    cluster_root, first, second = two_members
    root = node_root(tmp_path, cluster_root, "node2", second)
    ctx = api.build_context("reset", {"rootfs": str(root), "force": True, "dry_run": True})
    try:
        report = runner.execute("reset", workflows.get("reset").phases(), ctx, only=["remove-etcd-member"])
    finally:
        ctx.close()
    assert report.phases[-1].changes[0].target == f"etcd member node2 ({second.peer_url})"
    assert sorted(m.name for m in client_for(cluster_root, first.client_url).members()) == ["node1", "node2"]
