"""Snapshot files without etcd: integrity (etcd's trailing SHA-256, bbolt meta pages), the atomic
writer, and what restore refuses before it runs anything. The real round trip (save over TLS,
restore with etcdctl, restart) is tests/integration/test_etcd_snapshot.py."""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
from pathlib import Path

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.etcd import snapshot as snap
from kubeadm_py.hostfs import HostFS
from kubeadm_py.snapshots import commands

PAGE = 4096


def meta_page(pgid: int, txid: int, *, magic: int = snap.BOLT_MAGIC) -> bytes:
    header = struct.pack("<QHHI", pgid, 0x04, 0, 0)  # id, flags (meta), count, overflow
    fields = struct.pack("<IIIIQQQQQ", magic, 2, PAGE, 0, 3, 0, 2, 4, txid)
    checksum = struct.pack("<Q", snap._fnv64a(fields))
    return (header + fields + checksum).ljust(PAGE, b"\0")


def database(txids: tuple[int, int] = (6, 7), pages: int = 4) -> bytes:
    body = meta_page(0, txids[0]) + meta_page(1, txids[1])
    return body + bytes(PAGE * (pages - 2))


def snapshot_file(path: Path, db: bytes | None = None) -> Path:
    db = database() if db is None else db
    path.write_bytes(db + hashlib.sha256(db).digest())
    return path


def test_fnv64a_matches_the_published_vectors() -> None:
    # FNV-1a 64 test vectors (Fowler/Noll/Vo reference): "" and "a"
    assert snap._fnv64a(b"") == 0xCBF29CE484222325
    assert snap._fnv64a(b"a") == 0xAF63DC4C8601EC8C


def test_a_good_snapshot_is_described(tmp_path: Path) -> None:
    path = snapshot_file(tmp_path / "s.db")
    facts = snap.check(path)
    assert facts.size == 4 * PAGE + 32 and facts.page_size == PAGE
    assert facts.txid == 7  # the newer of the two meta pages
    assert facts.sha256 == hashlib.sha256(database()).hexdigest()


def test_the_newest_valid_meta_page_wins_when_one_is_torn(tmp_path: Path) -> None:
    db = bytearray(database(txids=(9, 8)))
    db[PAGE + 40] ^= 0xFF  # page 1's meta no longer matches its checksum
    facts = snap.check(snapshot_file(tmp_path / "s.db", bytes(db)))
    assert facts.txid == 9


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:5000] + bytes([b[5000] ^ 1]) + b[5001:], "its SHA-256 does not match"),
        (lambda b: b[: len(b) - 100], "not an etcd snapshot with an integrity hash"),
        (lambda b: b[: len(b) - 32], "not an etcd snapshot with an integrity hash"),  # a bare db copy
        (lambda b: b"", "not an etcd snapshot"),
    ],
    ids=["flipped-bit", "truncated", "no-hash", "empty"],
)
def test_damaged_files_are_refused_in_one_line(tmp_path: Path, damage, message) -> None:  # type: ignore[no-untyped-def]
    good = snapshot_file(tmp_path / "good.db").read_bytes()
    bad = tmp_path / "bad.db"
    bad.write_bytes(damage(good))
    with pytest.raises(snap.SnapshotError, match=message) as exc:
        snap.check(bad)
    assert "\n" not in str(exc.value)


def test_no_valid_meta_page_is_refused(tmp_path: Path) -> None:
    db = meta_page(0, 1, magic=0x1234) + meta_page(1, 2, magic=0x1234) + bytes(2 * PAGE)
    with pytest.raises(snap.SnapshotError, match="no valid bbolt meta page"):
        snap.check(snapshot_file(tmp_path / "s.db", db))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(snap.SnapshotError, match="no such file"):
        snap.check(tmp_path / "nope.db")


def test_write_is_atomic_private_and_checked(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "s.db"
    data = snapshot_file(tmp_path / "src.db").read_bytes()
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    facts = snap.write_snapshot(dest, lambda sink: [sink(c) for c in chunks])
    assert dest.read_bytes() == data and facts.path == str(dest)
    assert dest.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in dest.parent.iterdir()) == ["s.db"]


def test_a_broken_stream_leaves_the_old_file_and_no_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "s.db"
    dest.write_bytes(b"previous")

    def produce(sink):  # type: ignore[no-untyped-def]
        sink(b"x" * 1000)
        raise KubeadmError("etcd snapshot from https://x broke off")

    with pytest.raises(KubeadmError, match="broke off"):
        snap.write_snapshot(dest, produce)
    assert dest.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["s.db"]


def test_a_stream_that_is_not_a_snapshot_is_not_kept(tmp_path: Path) -> None:
    dest = tmp_path / "s.db"
    with pytest.raises(snap.SnapshotError):
        snap.write_snapshot(dest, lambda sink: sink(b"<html>not etcd</html>"))
    assert list(tmp_path.iterdir()) == []


MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://127.0.0.1:{port}
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --name=cp1
    - --initial-advertise-peer-urls=https://10.0.0.1:2380
    - --data-dir=/var/lib/etcd
    name: etcd
  volumes:
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
"""


def node_root(tmp_path: Path, port: int = 1) -> Path:
    root = tmp_path / "root"
    (root / "etc/kubernetes/manifests").mkdir(parents=True)
    (root / "etc/kubernetes/manifests/etcd.yaml").write_text(MANIFEST.format(port=port))
    return root


def fake_tool(tmp_path: Path) -> str:
    tool = tmp_path / "etcdutl"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    return str(tool)


def test_restore_plan_takes_the_member_from_the_manifest(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    plan = commands.plan_restore(
        HostFS(rootfs=root),
        str(snapshot_file(tmp_path / "s.db")),
        manifests_dir="/etc/kubernetes/manifests",
        etcd_tool=fake_tool(tmp_path),
    )
    assert (plan.name, plan.peer_url, plan.data_dir) == ("cp1", "https://10.0.0.1:2380", "/var/lib/etcd")
    assert plan.initial_cluster == "cp1=https://10.0.0.1:2380"
    assert plan.target == root / "var/lib/etcd"
    assert plan.command[1:3] == ["snapshot", "restore"]
    assert f"--data-dir={root / 'var/lib/etcd/.kubeadm-py-restore'}" in plan.command
    assert "--initial-cluster=cp1=https://10.0.0.1:2380" in plan.command
    assert plan.manifest == "/etc/kubernetes/manifests/etcd.yaml"
    assert plan.parked == "/etc/kubernetes/tmp/kubeadm-py-etcd-restore/etcd.yaml"


def test_restore_stops_swaps_and_starts_the_member(tmp_path: Path) -> None:
    """With a fake etcd tool that writes a data directory: the manifest is parked while the tool
    runs, the old data directory is kept, and the manifest is back at the end."""
    root = node_root(tmp_path)
    (root / "var/lib/etcd/member/old").mkdir(parents=True)
    tool = tmp_path / "etcdutl"
    manifest = root / "etc/kubernetes/manifests/etcd.yaml"
    tool.write_text(
        "#!/bin/sh\n"
        f"test -e {manifest} && exit 7\n"  # etcd must be stopped while the tool runs
        'for a in "$@"; do case $a in --data-dir=*)\n'
        'mkdir -p "${a#--data-dir=}/member/restored";; esac; done\n'
    )
    tool.chmod(0o755)
    fs = HostFS(rootfs=root)
    plan = commands.plan_restore(
        fs,
        str(snapshot_file(tmp_path / "s.db")),
        manifests_dir="/etc/kubernetes/manifests",
        etcd_tool=str(tool),
    )
    result = commands.restore(fs, plan)
    assert (root / "var/lib/etcd/member/restored").is_dir()
    assert result.previous and Path(result.previous, "old").is_dir()
    assert Path(result.previous).parent == root / "var/lib/etcd"  # kept inside: the data dir may be a mount
    assert sorted(p.name for p in (root / "var/lib/etcd").iterdir())[0] == "member"
    assert manifest.exists() and not (root / "etc/kubernetes/tmp/kubeadm-py-etcd-restore/etcd.yaml").exists()


def test_an_interrupted_restore_finds_the_parked_manifest(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    parked = root / "etc/kubernetes/tmp/kubeadm-py-etcd-restore/etcd.yaml"
    parked.parent.mkdir(parents=True)
    (root / "etc/kubernetes/manifests/etcd.yaml").rename(parked)
    plan = commands.plan_restore(
        HostFS(rootfs=root),
        str(snapshot_file(tmp_path / "s.db")),
        manifests_dir="/etc/kubernetes/manifests",
        etcd_tool=fake_tool(tmp_path),
    )
    assert plan.name == "cp1" and plan.parked == "/etc/kubernetes/tmp/kubeadm-py-etcd-restore/etcd.yaml"


def test_restore_without_manifest_or_flags_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(KubeadmError, match="no local etcd on this node"):
        commands.plan_restore(
            HostFS(rootfs=tmp_path),
            str(snapshot_file(tmp_path / "s.db")),
            manifests_dir="/etc/kubernetes/manifests",
        )


def test_restore_refuses_a_corrupt_snapshot_before_anything_else(tmp_path: Path) -> None:
    bad = tmp_path / "s.db"
    bad.write_bytes(b"garbage" * 100)
    with pytest.raises(snap.SnapshotError, match="not an etcd snapshot"):
        commands.plan_restore(
            HostFS(rootfs=node_root(tmp_path)), str(bad), manifests_dir="/etc/kubernetes/manifests"
        )


def test_restore_refuses_while_etcd_holds_its_database(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    db = root / "var/lib/etcd/member/snap/db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"db")
    fd = os.open(db, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what bbolt does while etcd runs
        with pytest.raises(KubeadmError, match="etcd is running .*holds the lock on .*member/snap/db"):
            commands.plan_restore(  # named with flags: restore does not stop it
                HostFS(rootfs=root),
                str(snapshot_file(tmp_path / "s.db")),
                manifests_dir="/etc/kubernetes/manifests",
                data_dir="/var/lib/etcd",
                name="cp1",
                peer_url="https://10.0.0.1:2380",
                etcd_tool=fake_tool(tmp_path),
            )
    finally:
        os.close(fd)


def test_restore_refuses_a_tool_that_is_not_executable(tmp_path: Path) -> None:
    with pytest.raises(KubeadmError, match="--etcd-tool .*: not an executable file"):
        commands.plan_restore(
            HostFS(rootfs=node_root(tmp_path)),
            str(snapshot_file(tmp_path / "s.db")),
            manifests_dir="/etc/kubernetes/manifests",
            etcd_tool=str(tmp_path / "missing"),
        )


def test_a_killed_save_leaves_nothing_after_the_next_one(tmp_path: Path) -> None:
    dest = tmp_path / "s.db"
    dead = tmp_path / ".s.db.part-999999999"  # a pid that cannot run
    dead.write_bytes(b"half a snapshot")
    data = snapshot_file(tmp_path / "src.db").read_bytes()
    snap.write_snapshot(dest, lambda sink: sink(data))
    assert not dead.exists() and dest.read_bytes() == data
