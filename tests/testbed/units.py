"""Other systemd units of a test-bed node, run as systemd would run them (PID 1 of a node is the
keeper, not systemd): the units in the node's ``/etc/systemd/system/*.service``, by their
``ExecStart`` (the last non-empty one; no ``$VAR`` expansion), ``Restart=always`` with
``RestartSec``. Enabled units (``systemctl enable``, kept in the node's control directory like
systemd keeps its wants links on disk) start at the node's "boot" (:meth:`Units.boot`); ``systemctl
start|stop|restart|enable [--now]|disable|is-active|is-enabled`` inside the node reach
:meth:`Units.request` through testbed/shims/systemctl and the kubelet supervisor's request files.
The kubelet and containerd are not handled here (the supervisor and the node run them)."""
from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from . import _proc

if TYPE_CHECKING:
    from .node import Node

UNIT_DIR = "/etc/systemd/system"


def parse_service(text: str) -> dict[str, str]:
    """``ExecStart`` (the last non-empty), ``Restart`` and ``RestartSec`` of the [Service] section."""
    out: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        if section == "Service" and key.strip() in ("ExecStart", "Restart", "RestartSec") and value.strip():
            out[key.strip()] = value.strip()
    return out


class Units:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.lock = threading.RLock()
        self.procs: dict[str, subprocess.Popen] = {}
        self.wanted: set[str] = set()
        self.exited_at: dict[str, float] = {}
        self.starts: dict[str, int] = {}

    # --- state on disk ----------------------------------------------------------------------
    def _enabled_file(self) -> str:
        return os.path.join(self.node.control_dir, "units.enabled")

    def enabled(self) -> set[str]:
        try:
            with open(self._enabled_file()) as f:
                return {line.strip() for line in f if line.strip()}
        except OSError:
            return set()

    def _set_enabled(self, unit: str, on: bool) -> None:
        names = self.enabled() | {unit} if on else self.enabled() - {unit}
        os.makedirs(self.node.control_dir, exist_ok=True)
        with open(self._enabled_file() + ".tmp", "w") as f:
            f.write("".join(f"{n}\n" for n in sorted(names)))
        os.replace(self._enabled_file() + ".tmp", self._enabled_file())

    def _spec(self, unit: str) -> dict[str, str] | None:
        try:
            with open(self.node.path(f"{UNIT_DIR}/{unit}.service")) as f:
                return parse_service(f.read())
        except OSError:
            return None

    def active(self, unit: str) -> bool:
        p = self.procs.get(unit)
        return p is not None and p.poll() is None

    # --- start / stop -----------------------------------------------------------------------
    def start(self, unit: str) -> int:
        with self.lock:
            spec = self._spec(unit)
            if spec is None or "ExecStart" not in spec:
                return 5  # systemctl: unit not found
            self.wanted.add(unit)
            if self.active(unit):
                return 0
            log = os.path.join(self.node.logdir, f"{unit}.log")
            with open(log, "a") as f:
                f.write(f"\n===== {time.strftime('%H:%M:%S')} start: {spec['ExecStart']}\n")
            argv = shlex.split(spec["ExecStart"])
            self.procs[unit] = _proc.spawn(self.node.nsenter_argv() + argv, log_path=log, env=self.node.env())
            self.starts[unit] = self.starts.get(unit, 0) + 1
            return 0

    def stop(self, unit: str) -> int:
        with self.lock:
            self.wanted.discard(unit)
            p = self.procs.pop(unit, None)
            if p is not None:
                _proc.terminate(p, grace=10)
            return 0

    def request(self, verb: str, unit: str, now: bool = False) -> int:
        """One ``systemctl`` verb; the exit code systemctl would give."""
        if verb in ("start", "restart", "try-restart", "reload-or-restart"):
            if verb != "start" and not (verb == "try-restart" and not self.active(unit)):
                self.stop(unit)
            return 0 if verb == "try-restart" and unit not in self.wanted else self.start(unit)
        if verb == "stop":
            return self.stop(unit)
        if verb in ("enable", "disable"):
            if self._spec(unit) is None:
                return 1
            self._set_enabled(unit, verb == "enable")
            if now:
                return self.start(unit) if verb == "enable" else self.stop(unit)
            return 0
        if verb == "is-active":
            return 0 if self.active(unit) else 3
        if verb == "is-enabled":
            return 0 if unit in self.enabled() else 1
        return 0

    def tick(self, now: float) -> None:
        """``Restart=always``: start again a wanted unit ``RestartSec`` after it exited."""
        with self.lock:
            for unit in list(self.wanted):
                p = self.procs.get(unit)
                if p is None or p.poll() is None:
                    continue
                exited = self.exited_at.setdefault(unit, now)
                spec = self._spec(unit) or {}
                if spec.get("Restart", "no") not in ("always", "on-failure"):
                    self.wanted.discard(unit)
                elif now - exited >= float(spec.get("RestartSec", "0.1").rstrip("s")):
                    del self.procs[unit]
                    self.exited_at.pop(unit, None)
                    self.start(unit)

    def boot(self) -> None:
        """Start every enabled unit (the node's boot)."""
        for unit in sorted(self.enabled()):
            self.start(unit)

    def stop_all(self) -> None:
        for unit in list(self.procs):
            self.stop(unit)

    def state_line(self, unit: str) -> str:
        return "{} {}".format("active" if self.active(unit) else "inactive",
                              "enabled" if unit in self.enabled() else "disabled")
