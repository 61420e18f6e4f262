"""``kubeadm-py kubelet install-unit``: the kubelet unit and kubeadm's drop-in written to a rootfs
match the packages' files field by field, are accepted by ``systemd-analyze verify``, reload
systemd through the commands effector, and the kubelet-start phase names the command."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from kubeadm_py.cli.main import main
from kubeadm_py.effectors.commands import CommandResult, DryRunCommands
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubelet import service, unit
from tests.unit.runctx import FakeServices

# The packages' files, field by field (comments left out), from kubernetes/release at commit
# cd53840181a8a4ff6498a946e73e5a48664f7531: cmd/krel/templates/latest/kubelet/kubelet.service and
# cmd/krel/templates/latest/kubeadm/10-kubeadm.conf (the Debian package's EnvironmentFile is
# /etc/default/kubelet: kubeadm.spec's debbuild sed; the RPM's /etc/sysconfig/kubelet).
PACKAGE_SERVICE = [
    ("Unit", "Description", "kubelet: The Kubernetes Node Agent"),
    ("Unit", "Documentation", "https://kubernetes.io/docs/"),
    ("Unit", "Wants", "network-online.target"),
    ("Unit", "After", "network-online.target"),
    ("Service", "ExecStart", "/usr/bin/kubelet"),
    ("Service", "Restart", "always"),
    ("Service", "StartLimitInterval", "0"),
    ("Service", "RestartSec", "10"),
    ("Install", "WantedBy", "multi-user.target"),
]
PACKAGE_DROPIN = [
    (
        "Service",
        "Environment",
        '"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf '
        '--kubeconfig=/etc/kubernetes/kubelet.conf"',
    ),
    ("Service", "Environment", '"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"'),
    ("Service", "EnvironmentFile", "-/var/lib/kubelet/kubeadm-flags.env"),
    ("Service", "EnvironmentFile", "-/etc/sysconfig/kubelet"),
    ("Service", "ExecStart", ""),
    (
        "Service",
        "ExecStart",
        "/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS "
        "$KUBELET_EXTRA_ARGS",
    ),
]
UNIT_PATH = "etc/systemd/system/kubelet.service"
DROPIN_PATH = "etc/systemd/system/kubelet.service.d/10-kubeadm.conf"


def _install(root: Path, *args: str) -> int:
    return main(["kubelet", "install-unit", "--rootfs", str(root), *args])


def test_written_to_a_rootfs_as_the_packages_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _install(tmp_path) == 0  # an RPM-style node: no /etc/debian_version
    assert unit.parse((tmp_path / UNIT_PATH).read_text()) == PACKAGE_SERVICE
    assert unit.parse((tmp_path / DROPIN_PATH).read_text()) == PACKAGE_DROPIN
    assert (tmp_path / UNIT_PATH).stat().st_mode & 0o777 == 0o644
    out = capsys.readouterr().out
    assert "[kubelet] Wrote /etc/systemd/system/kubelet.service\n" in out
    assert "not running 'systemctl daemon-reload': the node is under --rootfs" in out
    assert _install(tmp_path) == 0  # a rerun changes nothing
    assert "/etc/systemd/system/kubelet.service: already up to date" in capsys.readouterr().out


def test_debian_node_and_a_kubelet_in_usr_local(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/debian_version").write_text("13.0\n")
    (tmp_path / "usr/local/bin").mkdir(parents=True)
    (tmp_path / "usr/local/bin/kubelet").write_text("")
    assert _install(tmp_path) == 0
    dropin = unit.parse((tmp_path / DROPIN_PATH).read_text())
    swap = {"-/etc/sysconfig/kubelet": "-/etc/default/kubelet"}
    local = "/usr/local/bin/kubelet"
    assert dropin == [(s, k, swap.get(v, v).replace("/usr/bin/kubelet", local)) for s, k, v in PACKAGE_DROPIN]
    assert ("Service", "ExecStart", local) in unit.parse((tmp_path / UNIT_PATH).read_text())


def test_dry_run_shows_the_files_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _install(tmp_path, "--dry-run") == 0
    assert list(tmp_path.iterdir()) == []
    out = capsys.readouterr().out
    dropin = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    assert f"[dryrun] Would write file '{dropin}' with content:" in out
    assert "\tExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS" in out


def test_a_packages_unit_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "lib/systemd/system").mkdir(parents=True)
    (tmp_path / "lib/systemd/system/kubelet.service").write_text("[Service]\nExecStart=/opt/kubelet\n")
    assert _install(tmp_path) == 0
    assert not (tmp_path / UNIT_PATH).exists() and (tmp_path / DROPIN_PATH).is_file()
    package_unit = (tmp_path / "lib/systemd/system/kubelet.service").read_text()
    assert package_unit == "[Service]\nExecStart=/opt/kubelet\n"


class Recorder:
    def __init__(self, rc: int = 0) -> None:
        self.rc = rc
        self.ran: list[list[str]] = []

    def run(self, argv: Sequence[str], *, timeout: float = 60.0, mutates: bool = True) -> CommandResult:
        self.ran.append(list(argv))
        return CommandResult(self.rc, "boom" if self.rc else "")


def test_daemon_reload_through_the_commands_effector(tmp_path: Path) -> None:
    logs: list[str] = []
    commands = Recorder()
    changes = unit.install(HostFS(rootfs=str(tmp_path)), commands, "systemd", logs.append)
    assert commands.ran == [["systemctl", "daemon-reload"]]
    assert changes[-1].target == "systemctl daemon-reload" and changes[-1].detail == "reloaded"
    # nothing changed: no reload
    unit.install(HostFS(rootfs=str(tmp_path)), commands, "systemd", logs.append)
    assert commands.ran == [["systemctl", "daemon-reload"]]
    # a dry run records the reload, runs nothing
    twin = DryRunCommands(Recorder(), logs.append)
    fs = HostFS(rootfs=str(tmp_path / "dry"), sandbox=str(tmp_path / "sandbox"))
    changes = unit.install(fs, twin, "systemd", logs.append)
    assert twin.recorded == [["systemctl", "daemon-reload"]] and changes[-1].detail == "would reload"
    assert "[dryrun] Would run: systemctl daemon-reload" in logs
    failing = Recorder(rc=1)
    unit.install(HostFS(rootfs=str(tmp_path / "other")), failing, "systemd", logs.append)
    assert logs[-1] == "[kubelet] WARNING: systemctl daemon-reload failed: boom"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_them(tmp_path: Path) -> None:
    kubelet = tmp_path / "kubelet"  # verify wants ExecStart's binary to exist
    kubelet.write_text("#!/bin/sh\n")
    kubelet.chmod(0o755)
    assert _install(tmp_path / "root", "--kubelet-path", str(kubelet)) == 0
    r = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "root" / UNIT_PATH)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    # the drop-in next to the unit is loaded too: an unknown key there would be reported on stderr
    assert (r.returncode, r.stderr) == (0, "")


def test_kubelet_start_names_install_unit_when_the_dropin_is_missing(tmp_path: Path) -> None:
    logs: list[str] = []
    fs = HostFS(rootfs=str(tmp_path))
    service.restart_kubelet(FakeServices("systemd", active={"kubelet"}), fs, logs.append)
    assert any("no kubeadm drop-in (kubelet.service.d/10-kubeadm.conf)" in m and
               "'kubeadm-py kubelet install-unit'" in m for m in logs)
    logs.clear()
    service.restart_kubelet(FakeServices("systemd"), fs, logs.append)  # no kubelet.service at all
    assert "'kubeadm-py kubelet install-unit'" in logs[0]
