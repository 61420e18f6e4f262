"""``selfhosting recover`` (checkpoints or kubeadm-config -> active checkpoints); the checkpointer's
systemd unit is in test_checkpointer_install.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting.checkpoint import active_path, stored_path
from kubeadm_py.selfhosting.recover import recover


def pod(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"containers": [{"name": name, "image": f"k8s.gcr.io/{name}:v1.20.2"}]}}  # fmt: skip


@pytest.fixture
def fs(tmp_path: Path) -> HostFS:
    return HostFS(rootfs=str(tmp_path))


def test_recover_from_stored_and_config(fs: HostFS, tmp_path: Path) -> None:
    fs.write(
        stored_path("kube-apiserver"),
        yaml.safe_dump(pod("kubeadm-py-checkpoint-kube-apiserver")).encode(),
        0o600,
    )
    fs.write(active_path("kube-scheduler"), yaml.safe_dump(pod("x")).encode(), 0o600)
    rendered: list[int] = []

    def render() -> dict[str, Any]:
        rendered.append(1)
        return {c: pod(c) for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")}

    out = recover(fs, render)
    assert [(r.component, r.source) for r in out] == [
        ("kube-apiserver", "stored"),
        ("kube-controller-manager", "config"),
        ("kube-scheduler", "active"),
    ]
    assert rendered == [1]
    api = yaml.safe_load((tmp_path / active_path("kube-apiserver").lstrip("/")).read_text())
    assert api == pod("kubeadm-py-checkpoint-kube-apiserver")
    kcm = yaml.safe_load((tmp_path / active_path("kube-controller-manager").lstrip("/")).read_text())
    assert kcm["metadata"]["name"] == "kubeadm-py-checkpoint-kube-controller-manager"
    assert kcm["metadata"]["annotations"] == {"kubeadm-py.io/checkpoint-source": "kubeadm-config"}
    assert (tmp_path / "etc/kubernetes/manifests/kubeadm-py-checkpoint-kube-scheduler.yaml").read_text() != ""


def test_recover_without_checkpoint_or_config_writes_nothing(fs: HostFS, tmp_path: Path) -> None:
    fs.write(stored_path("kube-apiserver"), yaml.safe_dump(pod("a")).encode(), 0o600)
    with pytest.raises(
        KubeadmError, match="no stored checkpoint for kube-controller-manager, kube-scheduler"
    ):
        recover(fs, None)
    assert not (tmp_path / "etc/kubernetes/manifests").exists()


def test_recover_leaves_static_manifests(fs: HostFS) -> None:
    for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        fs.write(f"/etc/kubernetes/manifests/{c}.yaml", yaml.safe_dump(pod(c)).encode(), 0o600)
    assert {r.source for r in recover(fs, None)} == {"static"}
