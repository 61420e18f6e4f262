"""etcd snapshots against a real etcd (Debian's etcd-server 3.4) with kubeadm-py's own PKI, through
the CLI as an operator runs it: save over the v3 API with the node's client certificate, create an
object, restore with etcd's own tool into the member's data directory (taken from its static Pod
manifest under --rootfs), start etcd again: the object created after the snapshot is gone, the
ones before are back. etcdctl is the independent checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.etcd_helpers import EtcdMember, etcdctl, make_pki, needs_etcd, wait_serving

pytestmark = [pytest.mark.integration, needs_etcd]

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: {client}
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --name={name}
    - --initial-advertise-peer-urls={peer}
    - --advertise-client-urls={client}
    name: etcd
  volumes:
  - hostPath:
      path: /data/{name}.data
      type: DirectoryOrCreate
    name: etcd-data
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeadm_py", *args], capture_output=True, text=True, timeout=120
    )


def put(member: EtcdMember, key: str, value: str) -> None:
    r = etcdctl(member.pki, [member.client_url], "put", key, value)
    assert r.returncode == 0, r.stderr


def get(member: EtcdMember, key: str) -> str:
    r = etcdctl(member.pki, [member.client_url], "get", key, "--print-value-only")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(scope="module")
def node(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("snapnode")
    pki = make_pki(root)
    member = EtcdMember("node1", pki, root / "data")
    member.start()
    try:
        wait_serving(member)
        manifests = root / "etc/kubernetes/manifests"
        manifests.mkdir(parents=True)
        (manifests / "etcd.yaml").write_text(
            MANIFEST.format(name=member.name, peer=member.peer_url, client=member.client_url)
        )
        yield root, member
    finally:
        member.stop()


def test_save_restore_round_trip(node, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, member = node
    put(member, "/registry/before", "kept")
    snap = tmp_path / "backups" / "etcd.db"

    saved = cli("etcd", "snapshot", "save", str(snap), "--rootfs", str(root))
    assert saved.returncode == 0, saved.stderr
    assert f"Snapshot saved at {snap}" in saved.stdout
    assert snap.stat().st_mode & 0o777 == 0o600
    # etcd's own tool reads what we saved
    status = subprocess.run(
        ["etcdctl", "snapshot", "status", str(snap), "-w", "json"],
        capture_output=True, text=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    ours = cli("etcd", "snapshot", "status", str(snap), "-o", "json")
    assert ours.returncode == 0 and '"integrity": "ok"' in ours.stdout

    put(member, "/registry/after", "lost")
    named = (
        "--data-dir",
        "/data/node1.data",
        "--name",
        "node1",
        "--initial-advertise-peer-urls",
        member.peer_url,
    )
    running = cli("etcd", "snapshot", "restore", str(snap), "--rootfs", str(root), *named)
    assert running.returncode == 1  # named with flags: restore does not stop etcd, and refuses
    assert running.stderr.count("\n") == 1 and "etcd is running on this node" in running.stderr

    member.stop()  # no kubelet here: parking the manifest would not stop it
    restored = cli("etcd", "snapshot", "restore", str(snap), "--rootfs", str(root))
    assert restored.returncode == 0, restored.stderr
    assert "The previous member directory is kept at" in restored.stdout
    assert (root / "etc/kubernetes/manifests/etcd.yaml").exists()  # parked and put back
    kept = list((root / "data/node1.data").glob("member.before-restore-*"))
    assert len(kept) == 1 and (kept[0] / "snap").is_dir()

    member.start()  # same data directory, now the restored one
    wait_serving(member)
    assert get(member, "/registry/before") == "kept"
    assert get(member, "/registry/after") == ""


def test_corrupt_snapshot_is_refused_in_one_line(node, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, member = node
    snap = tmp_path / "etcd.db"
    assert cli("etcd", "snapshot", "save", str(snap), "--rootfs", str(root)).returncode == 0
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0x55
    snap.write_bytes(bytes(data))
    for args in (("status", str(snap)), ("restore", str(snap), "--rootfs", str(root))):
        r = cli("etcd", "snapshot", *args)
        assert r.returncode == 1
        assert r.stderr.startswith("error: snapshot") and "is corrupt" in r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_save_with_a_client_certificate_etcd_does_not_trust(node, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, member = node
    other = tmp_path / "other"
    make_pki(other)  # a second PKI: its etcd CA is not the one etcd trusts
    r = cli(
        "etcd", "snapshot", "save", str(tmp_path / "x.db"), "--rootfs", str(other),
        "--endpoints", member.client_url,
    )  # fmt: skip
    assert r.returncode == 1 and "server certificate not accepted" in r.stderr
    assert not (tmp_path / "x.db").exists() and list(tmp_path.glob(".x.db.part-*")) == []
