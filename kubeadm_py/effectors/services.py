"""The service manager (systemd): query, start, restart, stop, enable and disable units, reload unit
files; the real one and its dry-run twin.

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

    def is_enabled(self, unit: str) -> bool: ...

    def restart(self, unit: str) -> Change:
        """Restart ``unit``; a failure is a Change whose detail starts with ``failed:``."""
        ...

    def start(self, unit: str) -> Change: ...

    def stop(self, unit: str) -> Change: ...

    def enable(self, unit: str) -> Change:
        """Start ``unit`` at boot (``systemctl enable``; it does not start it now)."""
        ...

    def disable(self, unit: str) -> Change:
        """Stop ``unit`` and no longer start it at boot (``systemctl disable --now``)."""
        ...

    def daemon_reload(self) -> Change:
        """Reread the unit files (after one was written or removed)."""
        ...


def pid1_name(fs: HostFS) -> str:
    if fs.rootfs is not None:  # None for / (check_rootfs)
        return "outside --rootfs"
    comm = (fs.read_text("/proc/1/comm") or "").strip()
    if comm == "systemd" or fs.is_dir("/run/systemd/system"):
        return "systemd"
    return comm or "unknown"


def not_driven(manager: str) -> str:
    """Why a unit is not driven, for a log line: ``manager`` is :meth:`Services.manager`'s answer."""
    return "the node is under --rootfs" if manager == "outside --rootfs" else f"PID 1 is {manager!r}"


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

    def is_enabled(self, unit: str) -> bool:
        cmd = ["systemctl", "is-enabled", "--quiet", unit]
        return self._driven() and self.commands.run(cmd, timeout=30, mutates=False).rc == 0

    def _do(self, verb: str, unit: str, done: str) -> Change:
        args = [*verb.split(), unit] if unit else verb.split()
        r = self.commands.run(["systemctl", *args], timeout=120)
        target = " ".join(["systemctl", *args])
        if r.rc != 0:
            return Change("process", "run", target, f"failed: {r.output}")
        return Change("process", "run", target, done)

    def restart(self, unit: str) -> Change:
        return self._do("restart", unit, f"{unit} restarted")

    def start(self, unit: str) -> Change:
        return self._do("start", unit, f"{unit} started")

    def stop(self, unit: str) -> Change:
        return self._do("stop", unit, f"{unit} stopped")

    def enable(self, unit: str) -> Change:
        return self._do("enable", unit, f"{unit} enabled")

    def disable(self, unit: str) -> Change:
        return self._do("disable --now", unit, f"{unit} stopped and disabled")

    def daemon_reload(self) -> Change:
        return self._do("daemon-reload", "", "unit files reloaded")


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

    def is_enabled(self, unit: str) -> bool:
        return self.real.is_enabled(unit)

    def _would(self, verb: str, unit: str, what: str) -> Change:
        command = " ".join(["systemctl", *verb.split(), *([unit] if unit else [])])
        self.log(f"[dryrun] Would {what} ({command})")
        return Change("process", "run", command, f"dry run: would {what}")

    def restart(self, unit: str) -> Change:
        return self._would("restart", unit, f"restart the {unit}")

    def start(self, unit: str) -> Change:
        return self._would("start", unit, f"start the {unit}")

    def stop(self, unit: str) -> Change:
        return self._would("stop", unit, f"stop the {unit}")

    def enable(self, unit: str) -> Change:
        return self._would("enable", unit, f"enable the {unit}")

    def disable(self, unit: str) -> Change:
        return self._would("disable --now", unit, f"stop and disable the {unit}")

    def daemon_reload(self) -> Change:
        return self._would("daemon-reload", "", "reload the unit files")
