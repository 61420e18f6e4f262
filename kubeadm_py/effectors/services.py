"""The service manager (systemd): query, restart and stop units; the real one and its dry-run twin.

Only systemd is driven, and only when it is PID 1 of the host (not under ``--rootfs``); elsewhere
:meth:`Services.manager` names PID 1 and callers say what to run by hand."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Protocol

from kubeadm_py.changes import Change
from kubeadm_py.effectors.commands import Commands
from kubeadm_py.hostfs import HostFS


class Services(Protocol):
    def manager(self) -> str:
        """``systemd`` when systemd can be driven, else what PID 1 is (``bash``, ``unknown``)."""
        ...

    def exists(self, unit: str) -> bool: ...

    def is_active(self, unit: str) -> bool: ...

    def restart(self, unit: str) -> Change:
        """Restart ``unit``; a failure is a Change whose detail starts with ``failed:``."""
        ...

    def stop(self, unit: str) -> Change: ...


def pid1_name(fs: HostFS) -> str:
    if fs.rootfs is not None:  # None for / (check_rootfs)
        return "outside --rootfs"
    comm = (fs.read_text("/proc/1/comm") or "").strip()
    if comm == "systemd" or fs.is_dir("/run/systemd/system"):
        return "systemd"
    return comm or "unknown"


class SystemdServices:
    def __init__(self, fs: HostFS, commands: Commands) -> None:
        self.fs = fs
        self.commands = commands

    def manager(self) -> str:
        name = pid1_name(self.fs)
        if name == "systemd" and shutil.which("systemctl") is None:
            return "systemd (no systemctl)"
        return name

    def _driven(self) -> bool:
        return self.manager() == "systemd"

    def exists(self, unit: str) -> bool:
        cmd = ["systemctl", "cat", f"{unit}.service"]
        return self._driven() and self.commands.run(cmd, mutates=False).rc == 0

    def is_active(self, unit: str) -> bool:
        cmd = ["systemctl", "is-active", "--quiet", unit]
        return self._driven() and self.commands.run(cmd, timeout=30, mutates=False).rc == 0

    def _do(self, verb: str, unit: str, done: str) -> Change:
        r = self.commands.run(["systemctl", verb, unit], timeout=120)
        target = f"systemctl {verb} {unit}"
        if r.rc != 0:
            return Change("process", "run", target, f"failed: {r.output}")
        return Change("process", "run", target, done)

    def restart(self, unit: str) -> Change:
        return self._do("restart", unit, f"{unit} restarted")

    def stop(self, unit: str) -> Change:
        return self._do("stop", unit, f"{unit} stopped")


class DryRunServices:
    """Answers queries from the real host; restart and stop are only recorded."""

    def __init__(self, real: Services, log: Callable[[str], None]) -> None:
        self.real = real
        self.log = log

    def manager(self) -> str:
        return self.real.manager()

    def exists(self, unit: str) -> bool:
        return self.real.exists(unit)

    def is_active(self, unit: str) -> bool:
        return self.real.is_active(unit)

    def restart(self, unit: str) -> Change:
        self.log(f"[dryrun] Would restart the {unit} (systemctl restart {unit})")
        return Change("process", "run", f"systemctl restart {unit}", f"dry run: would restart the {unit}")

    def stop(self, unit: str) -> Change:
        self.log(f"[dryrun] Would stop the {unit} (systemctl stop {unit})")
        return Change("process", "run", f"systemctl stop {unit}", f"dry run: would stop the {unit}")
