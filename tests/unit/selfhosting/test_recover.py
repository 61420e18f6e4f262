"""``selfhosting recover`` (checkpoints or kubeadm-config -> active checkpoints) and the
checkpointer's systemd unit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.effectors.commands import CommandResult
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting import checkpoint_unit
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


class Commands:
    def __init__(self) -> None:
        self.ran: list[list[str]] = []

    def run(self, argv: Any, *, timeout: float = 60.0, mutates: bool = True) -> CommandResult:
        self.ran.append(list(argv))
        return CommandResult(0, "")


def test_unit_install(fs: HostFS, tmp_path: Path) -> None:
    cmds, lines = Commands(), []
    argv = ["/opt/venv/bin/python", "-m", "kubeadm_py", "selfhosting", "checkpointer", "run"]
    changes = checkpoint_unit.install(fs, cmds, "systemd", lines.append, argv)  # type: ignore[arg-type]
    text = (tmp_path / "etc/systemd/system/kubeadm-py-checkpointer.service").read_text()
    assert "ExecStart=/opt/venv/bin/python -m kubeadm_py selfhosting checkpointer run\n" in text
    assert "Restart=always\n" in text and "WantedBy=multi-user.target kubelet.service\n" in text
    assert cmds.ran == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "kubeadm-py-checkpointer.service"],
        ["systemctl", "restart", "kubeadm-py-checkpointer.service"],
    ]
    assert [c.action for c in changes] == ["create", "run", "run", "run"]
    cmds.ran.clear()
    checkpoint_unit.install(fs, cmds, "systemd", lines.append, argv)  # unchanged: started, not restarted
    assert cmds.ran[-1] == ["systemctl", "start", "kubeadm-py-checkpointer.service"]
    cmds.ran.clear()
    checkpoint_unit.install(fs, cmds, "bash", lines.append, argv)
    assert cmds.ran == [] and "PID 1 is 'bash'" in lines[-1]


def test_install_checkpointer_phase(tmp_path: Path) -> None:
    from kubeadm_py import api
    from kubeadm_py.phases.shared.selfhosting_checkpointer import install_checkpointer_phase
    from tests.unit.runctx import build

    ctx, logs = build(api.load_config(None), tmp_path)
    phase = install_checkpointer_phase()
    assert phase.run is not None
    changes = phase.run(ctx)
    assert changes and changes[0].target == "/etc/systemd/system/kubeadm-py-checkpointer.service"
    assert (tmp_path / "etc/systemd/system/kubeadm-py-checkpointer.service").exists()
    assert any("enable and start kubeadm-py-checkpointer.service" in line for line in logs)  # --rootfs
