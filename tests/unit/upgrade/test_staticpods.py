"""The backup / swap / wait / rollback state machine on a temporary rootfs, waiting through the
cluster waiter (mirror Pods from an in-memory API server) over a fake waiter effector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.effectors.waiting import DryRunWaiter, Waiter
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.upgrade.staticpods import ManifestSwap, StaticPodUpgrade, UpgradeFailed
from kubeadm_py.upgrade.waiter import ClusterWaiter
from tests.unit.cluster.fakeapi import FakeAPIServer
from tests.unit.upgrade.conftest import NODE, FakeWaiter

MANIFESTS = "/etc/kubernetes/manifests"
BACKUP = "/etc/kubernetes/tmp/kubeadm-backup-manifests-2026-01-01-00-00-00"
ETCD_BACKUP = "/etc/kubernetes/tmp/kubeadm-backup-etcd-2026-01-01-00-00-00"
ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


def manifest(which: str, comp: str) -> str:
    """A static Pod manifest (``which``: old or new) whose liveness probe the waiter polls."""
    return (
        f"# {which} {comp}\n"
        "spec:\n  containers:\n  - livenessProbe:\n      httpGet: {path: /healthz, port: 10250}\n"
    )


def setup(tmp_path: Path) -> tuple[HostFS, list[ManifestSwap]]:
    fs = HostFS(rootfs=tmp_path)
    swaps = []
    for comp in ORDER:
        old = manifest("old", comp).encode()
        fs.write(f"{MANIFESTS}/{comp}.yaml", old, 0o600)
        swaps.append(ManifestSwap(comp, f"{MANIFESTS}/{comp}.yaml", manifest("new", comp).encode(), old))
    fs.write("/var/lib/etcd/member/snap/db", b"etcd data v1", 0o600)
    return fs, swaps


def cluster_waiter(waiter: Waiter, log: list[str]) -> ClusterWaiter:
    return ClusterWaiter(FakeAPIServer().client(), NODE, waiter, log.append)


def machine(fs: HostFS, waiter: Waiter, log: list[str], **kw: object) -> StaticPodUpgrade:
    return StaticPodUpgrade(
        fs=fs,
        waiter=cluster_waiter(waiter, log),
        backup_dir=BACKUP,
        timeout=5,
        log=log.append,
        etcd_data_dir="/var/lib/etcd",
        etcd_backup_dir=ETCD_BACKUP,
        **kw,  # type: ignore[arg-type]
    )


def content(tmp_path: Path, host: str) -> str:
    return (tmp_path / host.lstrip("/")).read_text()


def test_success_swaps_in_order_and_keeps_backups(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    waiter, log = FakeWaiter(), []
    res = machine(fs, waiter, log).run(swaps)
    assert res.upgraded == list(ORDER)
    for comp in ORDER:
        assert content(tmp_path, f"{MANIFESTS}/{comp}.yaml") == manifest("new", comp)
        assert content(tmp_path, f"{BACKUP}/{comp}.yaml") == manifest("old", comp)
    assert (tmp_path / ETCD_BACKUP.lstrip("/") / "etcd/member/snap/db").read_bytes() == b"etcd data v1"
    assert [c for c in waiter.calls if c[0] == "new-pod"] == [("new-pod", c) for c in ORDER]
    assert oct((tmp_path / f"{MANIFESTS}/kube-apiserver.yaml".lstrip("/")).stat().st_mode & 0o777) == "0o600"


def test_unchanged_manifest_is_skipped(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    swaps[1] = ManifestSwap("kube-apiserver", swaps[1].path, b"same\n", b"same\n")
    waiter, log = FakeWaiter(), []
    res = machine(fs, waiter, log).run(swaps)
    assert res.skipped == ["kube-apiserver"]
    assert ("new-pod", "kube-apiserver") not in waiter.calls
    assert not (tmp_path / f"{BACKUP}/kube-apiserver.yaml".lstrip("/")).exists()
    assert any("are equal, skipping upgrade" in m for m in log)


def test_component_never_healthy_rolls_back_everything_moved(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    waiter, log = FakeWaiter(broken={"kube-controller-manager"}), []
    with pytest.raises(UpgradeFailed) as exc:
        machine(fs, waiter, log).run(swaps)
    # every manifest moved so far is back, the failing one included; the scheduler was never touched
    for comp in ORDER:
        assert content(tmp_path, f"{MANIFESTS}/{comp}.yaml") == manifest("old", comp), comp
    assert not (tmp_path / f"{BACKUP}/kube-scheduler.yaml".lstrip("/")).exists()
    msg = str(exc.value)
    assert "the upgrade of kube-controller-manager failed" in msg
    assert "did not restart kube-controller-manager" in msg
    assert "rolled back the manifests of kube-controller-manager, kube-apiserver, etcd" in msg
    assert "healthy again with the previous manifest" in msg
    assert BACKUP in msg
    assert exc.value.restored == ["kube-controller-manager", "kube-apiserver", "etcd"]
    assert exc.value.exit_code == 1
    assert any(m.startswith("[upgrade/rollback] Restored the previous manifest of etcd") for m in log)


def test_first_component_failing_restores_only_itself(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    waiter, log = FakeWaiter(broken={"etcd"}), []
    with pytest.raises(UpgradeFailed, match=r"rolled back the manifests of etcd from"):
        machine(fs, waiter, log).run(swaps)
    assert content(tmp_path, f"{MANIFESTS}/kube-apiserver.yaml") == manifest("old", "kube-apiserver")
    assert ("new-pod", "kube-apiserver") not in waiter.calls


def test_etcd_data_restored_when_previous_etcd_does_not_come_back(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    waiter, log = FakeWaiter(broken={"etcd"}, never_recovers={"etcd"}), []

    m = machine(fs, waiter, log)
    original_wait = waiter.wait_all

    def wait_and_damage(targets: Any, timeout: float, **kw: Any) -> dict[str, str]:
        if [t.name for t in targets] == ["etcd/new-pod"]:
            # the failed etcd damaged its data directory
            (tmp_path / "var/lib/etcd/member/snap/db").write_bytes(b"corrupted by v2")
        return original_wait(targets, timeout, **kw)

    waiter.wait_all = wait_and_damage  # type: ignore[method-assign]
    with pytest.raises(UpgradeFailed) as exc:
        m.run(swaps)
    assert "etcd NOT healthy after the rollback" in str(exc.value)
    assert "etcd data restored from" in str(exc.value)
    assert (tmp_path / "var/lib/etcd/member/snap/db").read_bytes() == b"etcd data v1"


def test_failure_while_preparing_a_later_component_rolls_back(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)

    def before(swap: ManifestSwap) -> list[Change]:
        if swap.component == "kube-scheduler":
            raise KubeadmError("cannot renew scheduler.conf")
        return []

    with pytest.raises(UpgradeFailed, match="preparing it failed: cannot renew scheduler.conf"):
        machine(fs, FakeWaiter(), [], before=before).run(swaps)
    assert content(tmp_path, f"{MANIFESTS}/kube-apiserver.yaml") == manifest("old", "kube-apiserver")


def test_component_without_previous_manifest_is_removed_on_rollback(tmp_path: Path) -> None:
    fs, swaps = setup(tmp_path)
    (tmp_path / f"{MANIFESTS}/kube-scheduler.yaml".lstrip("/")).unlink()
    swaps[3] = ManifestSwap("kube-scheduler", swaps[3].path, manifest("new", "kube-scheduler").encode(), None)
    with pytest.raises(UpgradeFailed, match=r"kube-scheduler \(removed: it had no previous manifest\)"):
        machine(fs, FakeWaiter(broken={"kube-scheduler"}), []).run(swaps)
    assert not (tmp_path / f"{MANIFESTS}/kube-scheduler.yaml".lstrip("/")).exists()


def test_dry_run_writes_only_to_memory(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    fs, swaps = setup(real)
    dry = HostFS(rootfs=real, dry_run=True)
    log: list[str] = []
    waiter = cluster_waiter(DryRunWaiter(log.append), log)
    StaticPodUpgrade(dry, waiter, BACKUP, 5, log.append, "/var/lib/etcd", ETCD_BACKUP).run(swaps)
    assert content(real, f"{MANIFESTS}/etcd.yaml") == manifest("old", "etcd")
    assert not (real / ETCD_BACKUP.lstrip("/")).exists()
    assert any("Would wait for the kubelet to restart kube-apiserver" in m for m in log)
    assert any(c.target == f"{ETCD_BACKUP}/etcd" and "would copy" in c.detail for c in dry.changes)
