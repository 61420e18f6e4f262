"""The checkpointer's systemd unit (``kubeadm-py selfhosting checkpointer install``, and the
``install-checkpointer`` phase of a pivot): a host service, so it runs when every container of the
node is gone and needs no image. Written under /etc/systemd/system; enabled and (re)started through
the services effector when systemd drives the node, otherwise the log says what to run."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence

from kubeadm_py.changes import Change
from kubeadm_py.effectors.services import Services, not_driven
from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT as UNIT
from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT_FILE as UNIT_PATH


def exec_start(node_name: str | None = None, cri_socket: str | None = None) -> list[str]:
    """This kubeadm-py, as the interpreter running it (a venv, a package) would start it again;
    ``node_name`` and ``cri_socket`` when they are known (the pivot knows them; the checkpointer's
    defaults are the host name and containerd's socket)."""
    argv = [sys.executable, "-m", "kubeadm_py", "selfhosting", "checkpointer", "run"]
    for flag, value in (("--node-name", node_name), ("--cri-socket", cri_socket)):
        argv += [flag, value] if value else []
    return argv


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
    services: Services,
    log: Callable[[str], None],
    argv: Sequence[str] | None = None,
) -> list[Change]:
    """Write the unit; when systemd drives the node, reload the unit files (a changed unit), enable
    the unit (when it is not yet), and restart it (a changed unit) or start it (when it is not
    running). A second run with the same unit changes nothing. Elsewhere (``services.manager()``
    is not systemd: another PID 1, ``--rootfs``) a note says to enable and start it by hand."""
    write = fs.write(UNIT_PATH, render(argv or exec_start()).encode(), 0o644)
    changes = [write]
    manager = services.manager()
    if manager != "systemd":
        why = not_driven(manager)
        todo = f"enable and start {UNIT} with the node's service manager"
        log(f"[selfhosting] {why}: {todo}")
        return [*changes, Change("note", "unchanged", UNIT, f"{why}: {todo}")]
    if write.changed:
        changes.append(services.daemon_reload())
    if not services.is_enabled(UNIT):
        changes.append(services.enable(UNIT))
    if write.changed:
        changes.append(services.restart(UNIT))
    elif not services.is_active(UNIT):
        changes.append(services.start(UNIT))
    for c in changes[1:]:
        if c.detail.startswith("failed:"):
            log(f"[selfhosting] WARNING: {c.target} {c.detail}")
    return changes
