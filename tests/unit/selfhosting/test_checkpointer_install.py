"""The checkpointer service: its unit (``checkpoint_unit.install`` through the services effector),
the ``install-checkpointer`` phase that ``selfhosting pivot`` and ``init phase selfhosting`` run
before the first component, and reset's ``remove-selfhosting`` taking it away again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting import checkpoint_unit, contract
from tests.unit.runctx import FakeServices
from tests.unit.selfhosting.conftest import INIT_OPTIONS, NODE, Node

UNIT = contract.CHECKPOINTER_UNIT
ARGV = ["/opt/venv/bin/python", "-m", "kubeadm_py", "selfhosting", "checkpointer", "run"]
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


@pytest.fixture
def fs(tmp_path: Path) -> HostFS:
    return HostFS(rootfs=str(tmp_path))


def test_install_enables_and_starts_it_once(fs: HostFS, tmp_path: Path) -> None:
    services, lines = FakeServices("systemd"), []
    changes = checkpoint_unit.install(fs, services, lines.append, ARGV)
    text = (tmp_path / contract.CHECKPOINTER_UNIT_FILE.lstrip("/")).read_text()
    assert "ExecStart=/opt/venv/bin/python -m kubeadm_py selfhosting checkpointer run\n" in text
    assert "Restart=always\n" in text and "WantedBy=multi-user.target kubelet.service\n" in text
    assert services.calls == ["daemon-reload", f"enable {UNIT}", f"restart {UNIT}"]
    assert [c.action for c in changes] == ["create", "run", "run", "run"]
    # the same unit, enabled and running: nothing to do
    again = checkpoint_unit.install(fs, services, lines.append, ARGV)
    assert not any(c.changed for c in again) and len(services.calls) == 3
    # stopped since: started, not restarted, no reload
    services.active.clear()
    checkpoint_unit.install(fs, services, lines.append, ARGV)
    assert services.calls[3:] == [f"start {UNIT}"]
    # a changed unit (another interpreter): reloaded and restarted; it is enabled already
    checkpoint_unit.install(fs, services, lines.append, ["/usr/bin/python3", *ARGV[1:]])
    assert services.calls[4:] == ["daemon-reload", f"restart {UNIT}"]


def test_install_without_systemd_writes_the_unit_and_says_what_to_run(fs: HostFS, tmp_path: Path) -> None:
    services, lines = FakeServices("keeper"), []
    changes = checkpoint_unit.install(fs, services, lines.append, ARGV)
    assert services.calls == []
    assert (tmp_path / contract.CHECKPOINTER_UNIT_FILE.lstrip("/")).exists()
    assert [(c.kind, c.action) for c in changes] == [("file", "create"), ("note", "unchanged")]
    todo = f"enable and start {UNIT} with the node's service manager"
    assert lines == [f"[selfhosting] PID 1 is 'keeper': {todo}"]


def test_a_failing_systemctl_is_a_warning(fs: HostFS) -> None:
    lines: list[str] = []
    changes = checkpoint_unit.install(fs, FakeServices("systemd", fail="Unit is masked."), lines.append, ARGV)
    assert all(c.detail == "failed: Unit is masked." for c in changes[1:])
    assert f"[selfhosting] WARNING: systemctl enable {UNIT} failed: Unit is masked." in lines


def test_exec_start_names_the_node_and_the_cri_socket() -> None:
    argv = checkpoint_unit.exec_start(node_name="cp-1", cri_socket="unix:///run/crio/crio.sock")
    assert argv[-4:] == ["--node-name", "cp-1", "--cri-socket", "unix:///run/crio/crio.sock"]
    assert "--node-name" not in checkpoint_unit.exec_start()


# --- wired into the pivot -------------------------------------------------------------------------


def unit_text(node: Node) -> str:
    return node.path(contract.CHECKPOINTER_UNIT_FILE).read_text()


def watch_first_wait(node: Node, services: FakeServices) -> dict[str, Any]:
    """What was in place when the pivot first waited for a DaemonSet Pod (the first component's
    static manifest is parked right after that wait)."""
    seen: dict[str, Any] = {}
    wait_all = node.waiter.wait_all

    def recording(targets: Any, *args: Any, **kw: Any) -> dict[str, str]:
        if not seen:
            seen["target"] = targets[0].name
            seen["unit"] = node.path(contract.CHECKPOINTER_UNIT_FILE).exists()
            seen["calls"] = list(services.calls)
        return wait_all(targets, *args, **kw)

    node.waiter.wait_all = recording  # type: ignore[method-assign]
    return seen


def test_pivot_installs_and_starts_the_checkpointer_before_the_first_component(node: Node) -> None:
    flags_env = node.path("/var/lib/kubelet/kubeadm-flags.env")
    flags_env.parent.mkdir(parents=True, exist_ok=True)
    flags_env.write_text('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/crio/crio.sock"\n')
    services = FakeServices("systemd")
    seen = watch_first_wait(node, services)
    report = node.run(services=services)
    assert report.ok
    assert [p.path for p in report.phases] == ["upload-secrets", "install-checkpointer", *COMPONENTS]
    assert {p.path: p.status for p in report.phases}["install-checkpointer"] == "changed"
    assert seen == {
        "target": "kube-apiserver/scheduled",
        "unit": True,
        "calls": ["daemon-reload", f"enable {UNIT}", f"restart {UNIT}"],
    }
    # the checkpointer looks for this node's Pods on the kubelet's runtime
    assert f"checkpointer run --node-name {NODE} --cri-socket unix:///run/crio/crio.sock\n" in unit_text(node)


def test_a_second_pivot_leaves_the_checkpointer_alone(node: Node) -> None:
    services = FakeServices("systemd")
    node.run(services=services)
    calls = list(services.calls)
    report = node.run(services=services)
    statuses = {p.path: p.status for p in report.phases}
    assert statuses["install-checkpointer"] == "unchanged"
    assert services.calls == calls


def test_dry_run_prints_the_unit_and_what_systemctl_would_do(node: Node) -> None:
    services = FakeServices("systemd")
    report = node.run(dry_run=True, services=services)
    assert report.ok and services.calls == []
    assert not node.path(contract.CHECKPOINTER_UNIT_FILE).exists()
    phase = next(p for p in report.phases if p.path == "install-checkpointer")
    unit = next(c for c in phase.changes if c.target == contract.CHECKPOINTER_UNIT_FILE)
    content = unit.content or ""
    assert "[Service]\n" in content and "checkpointer run --node-name cp-1" in content
    assert [c.target for c in phase.changes if c.kind == "process"] == [
        "systemctl daemon-reload",
        f"systemctl enable {UNIT}",
        f"systemctl restart {UNIT}",
    ]


def test_without_systemd_the_unit_is_written_and_the_rerun_is_unchanged(node: Node) -> None:
    """Under --rootfs (as on the test bed, whose PID 1 is not systemd) nothing is started."""
    first = node.run(phases=["install-checkpointer"])
    assert first.phases[-1].status == "changed"
    assert node.path(contract.CHECKPOINTER_UNIT_FILE).exists()
    again = node.run(phases=["install-checkpointer"])
    assert again.phases[-1].status == "unchanged"
    assert f"the node is under --rootfs: enable and start {UNIT}" in again.phases[-1].reason


def test_init_installs_it_only_with_the_feature_gate(node: Node) -> None:
    services = FakeServices("systemd")
    report = node.run("init", phases=["selfhosting"], options=INIT_OPTIONS, services=services)
    assert {p.path: p.status for p in report.phases}["selfhosting/install-checkpointer"] == "skipped"
    assert services.calls == [] and not node.path(contract.CHECKPOINTER_UNIT_FILE).exists()
    options = {**INIT_OPTIONS, "feature-gates": "SelfHosting=true"}
    report = node.run("init", phases=["selfhosting"], options=options, services=services)
    assert {p.path: p.status for p in report.phases}["selfhosting/install-checkpointer"] == "changed"
    assert services.calls == ["daemon-reload", f"enable {UNIT}", f"restart {UNIT}"]


# --- reset takes it away --------------------------------------------------------------------------


def test_reset_stops_disables_and_removes_the_checkpointer(node: Node) -> None:
    services = FakeServices("systemd")
    node.run(services=services)
    assert UNIT in services.active and UNIT in services.enabled
    report = node.run("reset", phases=["remove-selfhosting"], services=services)
    assert report.ok
    assert services.calls[3:] == [f"disable --now {UNIT}", "daemon-reload"]
    assert UNIT not in services.active and UNIT not in services.enabled
    assert not node.path(contract.CHECKPOINTER_UNIT_FILE).exists()


def test_reset_without_systemd_removes_the_unit_and_says_how_to_stop_it(node: Node) -> None:
    node.run()
    services = FakeServices("keeper")
    report = node.run("reset", phases=["remove-selfhosting"], services=services)
    assert report.ok and services.calls == []
    assert not node.path(contract.CHECKPOINTER_UNIT_FILE).exists()
    assert report.outputs["manual_cleanup"] == [
        {
            "what": f"stop and disable {UNIT} (its unit file is removed)",
            "command": f"systemctl disable --now {UNIT}",
        }
    ]


def test_the_install_command_dry_run_prints_the_unit_and_writes_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "kubeadm_py", "selfhosting", "checkpointer", "install"]
        + ["--dry-run", "--rootfs", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert f"Would create {contract.CHECKPOINTER_UNIT_FILE}" in r.stdout
    assert "\tRestart=always\n" in r.stdout and "Would unchanged" not in r.stdout
    assert list(tmp_path.iterdir()) == []
