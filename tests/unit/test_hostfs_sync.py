"""HostFS batches the directory fsyncs of its atomic writes: once per directory, and done by the
time anyone reads the changes (the runner does at the end of every phase)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from kubeadm_py import hostfs
from kubeadm_py.hostfs import HostFS
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.phase import Phase
from tests.unit.runctx import BareContext


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    calls: list[list[Path]] = []
    real = hostfs.fsync_dirs

    def record(dirs):  # type: ignore[no-untyped-def]
        dirs = list(dirs)
        calls.append(dirs)
        real(dirs)

    monkeypatch.setattr(hostfs, "fsync_dirs", record)
    return calls


def test_one_directory_fsync_per_batch(tmp_path: Path, synced: list[list[Path]]) -> None:
    fs = HostFS(rootfs=tmp_path)
    fs.write("/etc/kubernetes/pki/a.key", b"a", 0o600)
    fs.write("/etc/kubernetes/pki/a.crt", b"b", 0o644)
    fs.write("/etc/kubernetes/admin.conf", b"c", 0o600)
    assert synced == []  # files are fsynced and renamed; directory syncs are pending
    assert [c.action for c in fs.changes] == ["create", "create", "create"]
    assert synced == [[tmp_path / "etc/kubernetes", tmp_path / "etc/kubernetes/pki"]]
    fs.sync()
    fs.write("/etc/kubernetes/pki/a.crt", b"b", 0o644)  # unchanged: nothing to sync
    assert fs.changes[-1].action == "unchanged"
    assert len(synced) == 1
    assert (tmp_path / "etc/kubernetes/pki/a.key").stat().st_mode & 0o777 == 0o600


def test_pending_syncs_run_when_the_hostfs_goes_away(tmp_path: Path) -> None:
    calls: list[list[Path]] = []
    fs = HostFS(rootfs=tmp_path)
    fs._finalizer.detach()
    fs._finalizer = hostfs.weakref.finalize(fs, lambda d: calls.append(sorted(d)), fs._unsynced)
    fs.write("/etc/x/y", b"1", 0o644)
    del fs
    gc.collect()
    assert calls == [[tmp_path / "etc/x"]]


Ctx = BareContext


def test_writes_of_a_phase_are_durable_when_it_ends(tmp_path: Path, synced: list[list[Path]]) -> None:
    seen_at_second_phase: list[int] = []

    def first(ctx: Ctx) -> None:
        ctx.fs.write("/etc/kubernetes/pki/ca.key", b"k", 0o600)
        ctx.fs.write("/etc/kubernetes/pki/ca.crt", b"c", 0o644)

    def second(ctx: Ctx) -> None:
        seen_at_second_phase.append(len(synced))

    phases = (Phase("first", "writes", run=first), Phase("second", "checks", run=second))
    report = runner.execute("init", phases, Ctx(HostFS(rootfs=tmp_path)))
    assert [p.status for p in report.phases] == ["changed", "unchanged"]
    assert seen_at_second_phase == [1]
    assert synced[0] == [tmp_path / "etc/kubernetes/pki"]


def test_atomic_write_creates_the_file_with_its_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "new/dir/ca.key"
    old_umask = hostfs.os.umask(0o077)
    try:
        hostfs.atomic_write(target, b"secret", 0o640)
    finally:
        hostfs.os.umask(old_umask)
    assert target.read_bytes() == b"secret" and target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["ca.key"]


def test_a_killed_writers_temporary_files_are_removed(tmp_path: Path) -> None:
    """A run killed mid-write leaves ``.<file>.<pid>.<hex>.tmp``; the next write to that directory
    removes it when its writer is gone, and leaves a live writer's and other files alone."""
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid is free: no process owns the stale file
    d = tmp_path / "pki"
    d.mkdir()
    stale = d / f".ca.key.{gone.pid}.0badc0de.tmp"
    live = d / f".ca.crt.{hostfs.os.getppid()}.0badc0de.tmp"
    other = d / ".keep.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    hostfs._swept.discard(d)
    hostfs.atomic_write(d / "ca.key", b"whole", 0o600)
    assert sorted(p.name for p in d.iterdir()) == sorted(["ca.key", live.name, other.name])
