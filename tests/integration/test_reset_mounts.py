"""cleanup-node unmounts real mounts below <rootfs>/var/lib/kubelet (as the kubelet leaves secret
and projected volumes) before deleting its contents. Needs root and mount(8); the tmpfs mounts
are undone by the test whatever happens."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubeadm_py import api

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="needs root and mount(8)"),
]


def mounted(path: Path) -> bool:
    return any(line.split()[4] == str(path) for line in Path("/proc/self/mountinfo").read_text().splitlines())


@pytest.fixture
def kubelet_volumes(tmp_path):
    root = tmp_path / "root"
    vols = [
        root / "var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token",
        root / "var/lib/kubelet/pods/u1/volumes/kubernetes.io~projected/token/nested",
    ]
    made: list[Path] = []
    try:
        for v in vols:
            v.mkdir(parents=True, exist_ok=True)
            r = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(v)], capture_output=True
            )
            if r.returncode != 0:
                pytest.skip(f"cannot mount tmpfs here: {r.stderr.decode().strip()}")
            made.append(v)
            (v / "token").write_text("secret")
        yield root, vols
    finally:
        for v in reversed(made):
            if mounted(v):
                subprocess.run(["umount", "-l", str(v)], capture_output=True, timeout=30)


def test_cleanup_node_unmounts_then_deletes(kubelet_volumes):
    root, vols = kubelet_volumes
    (root / "var/lib/kubelet/config.yaml").write_text("kind: KubeletConfiguration\n")

    dry = api.run(
        "reset", rootfs=str(root), dry_run=True, options={"force": True, "ignore-preflight-errors": "all"}
    )
    planned = [c.target for p in dry.phases for c in p.changes if c.target.startswith("umount ")]
    assert planned == [f"umount {vols[1]}", f"umount {vols[0]}"]  # deepest first
    assert all(mounted(v) for v in vols)

    report = api.run("reset", rootfs=str(root), options={"force": True, "ignore-preflight-errors": "all"})
    assert not any(mounted(v) for v in vols)
    assert list((root / "var/lib/kubelet").iterdir()) == []
    done = [c.detail for p in report.phases for c in p.changes if c.target.startswith("umount ")]
    assert done == ["unmounted", "unmounted"]
