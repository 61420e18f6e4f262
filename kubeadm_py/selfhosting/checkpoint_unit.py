"""The checkpointer's systemd unit (``kubeadm-py selfhosting checkpointer install``, and the
``install checkpointer`` step of a pivot): a host service, so it runs when every container of the
node is gone and needs no image. Written under /etc/systemd/system; enabled and (re)started with
``systemctl`` when systemd drives the node, otherwise the log says what to run."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence

from kubeadm_py.changes import Change
from kubeadm_py.effectors.commands import Commands
from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT as UNIT
from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT_FILE as UNIT_PATH


def exec_start() -> list[str]:
    """This kubeadm-py, as the interpreter running it (a venv, a package) would start it again."""
    return [sys.executable, "-m", "kubeadm_py", "selfhosting", "checkpointer", "run"]


# (section, ((key, value), ...)); ExecStart is filled in by :func:`render`.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Unit",
        (
            (
                "Description",
                "kubeadm-py checkpointer: brings a self-hosted control plane back after a restart",
            ),
            (
                "Documentation",
                "https://github.com/kubeadm-py/kubeadm-py/blob/main/docs/selfhosting-recovery.md",
            ),
            ("After", "containerd.service kubelet.service"),
        ),
    ),
    ("Service", (("ExecStart", ""), ("Restart", "always"), ("RestartSec", "2"), ("StartLimitInterval", "0"))),
    ("Install", (("WantedBy", "multi-user.target kubelet.service"),)),
)


def render(argv: Sequence[str]) -> str:
    lines = ["# Written by kubeadm-py (selfhosting checkpointer install)."]
    for i, (name, fields) in enumerate(SECTIONS):
        lines += ([""] if i else []) + [f"[{name}]"]
        lines += [f"{k}={shlex.join(argv) if k == 'ExecStart' else v}" for k, v in fields]
    return "\n".join(lines) + "\n"


def install(
    fs: HostFS,
    commands: Commands,
    manager: str,
    log: Callable[[str], None],
    argv: Sequence[str] | None = None,
) -> list[Change]:
    """Write the unit; with systemd: daemon-reload, enable, and restart it (a changed unit) or
    start it. ``manager`` is the services effector's answer (``systemd`` or what PID 1 is)."""
    write = fs.write(UNIT_PATH, render(argv or exec_start()).encode(), 0o644)
    changes = [write]
    if manager != "systemd":
        why = "the node is under --rootfs" if manager == "outside --rootfs" else f"PID 1 is {manager!r}"
        log(f"[selfhosting] {why}: enable and start {UNIT} with the node's service manager")
        return changes
    steps = [["daemon-reload"], ["enable", UNIT], ["restart" if write.changed else "start", UNIT]]
    for step in steps:
        result = commands.run(["systemctl", *step], timeout=60)
        target = f"systemctl {' '.join(step)}"
        if result.rc != 0:
            log(f"[selfhosting] WARNING: {target} failed: {result.output}")
        changes.append(Change("process", "run", target, f"failed: {result.output}" if result.rc else "ran"))
    return changes
