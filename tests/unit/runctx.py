"""Run contexts for unit tests, built the way ``kubeadm-py`` builds them (``api.build_context``)
with fakes only through ``Hooks`` and options; the progress lines go to a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeadm_py import api
from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.stops import RaiseStops
from kubeadm_py.hostfs import HostFS
from kubeadm_py.phases.context import RunContext
from kubeadm_py.workflow.report import NullReporter


class Logs(NullReporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)


def build(
    cfg: KubeadmConfig,
    root: Path,
    *,
    workflow: str = "init",
    dry_run: bool = False,
    hooks: Hooks | None = None,
    logs: list[str] | None = None,
    **options: Any,
) -> tuple[RunContext[Any], list[str]]:
    """A context on ``root`` (--rootfs, made if missing) for ``cfg``; a dry run keeps its files
    in memory (``ctx.fs.overlay``). Returns the context and its log lines."""
    reporter = Logs()
    if logs is not None:
        reporter.lines = logs
    opts = {"rootfs": str(root), "dry_run": dry_run, **options}
    root.mkdir(parents=True, exist_ok=True)
    ctx = api.build_context(workflow, opts, reporter, hooks=hooks, cfg=cfg)
    return ctx, reporter.lines


class FakeServices:
    """A service manager: ``manager`` names PID 1; ``active`` units run, ``enabled`` ones start at
    boot; ``fail`` makes every action fail with that output. Records every action in ``calls``
    (``"restart kubelet"``, ``"daemon-reload"``)."""

    def __init__(
        self,
        manager: str = "systemd",
        active: set[str] | None = None,
        fail: str = "",
        enabled: set[str] | None = None,
    ) -> None:
        self.name = manager
        self.active = set(active or ())
        self.enabled = set(enabled or ())
        self.units = set(self.active)
        self.fail = fail
        self.calls: list[str] = []

    def manager(self) -> str:
        return self.name

    def exists(self, unit: str) -> bool:
        return unit in self.units

    def is_active(self, unit: str) -> bool:
        return unit in self.active

    def is_enabled(self, unit: str) -> bool:
        return unit in self.enabled

    def _do(self, verb: str, unit: str = "") -> Change:
        command = f"{verb} {unit}".strip()
        self.calls.append(command)
        if self.fail:
            return Change("process", "run", f"systemctl {command}", f"failed: {self.fail}")
        if verb in ("stop", "disable --now"):
            self.active.discard(unit)
        elif verb in ("start", "restart"):
            self.active.add(unit)
        if verb == "enable":
            self.enabled.add(unit)
        elif verb == "disable --now":
            self.enabled.discard(unit)
        return Change("process", "run", f"systemctl {command}", "done")

    def restart(self, unit: str) -> Change:
        return self._do("restart", unit)

    def start(self, unit: str) -> Change:
        return self._do("start", unit)

    def stop(self, unit: str) -> Change:
        return self._do("stop", unit)

    def enable(self, unit: str) -> Change:
        return self._do("enable", unit)

    def disable(self, unit: str) -> Change:
        return self._do("disable --now", unit)

    def daemon_reload(self) -> Change:
        return self._do("daemon-reload")


class Answer:
    """The operator's answer to a question (``Hooks(prompt=...)``, e.g. reset's); records the questions."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.asked: list[str] = []

    def confirm(self, question: str, *, without_terminal: bool | None = None) -> bool:
        self.asked.append(question)
        return self.yes


@dataclass
class BareContext:
    """The least a context offers the runner (workflow/runner.py): effectors that record changes
    (here only files) and stop the run on an error. ``ran`` lists the phases a test's run functions
    saw."""

    fs: HostFS
    ran: list[str] = field(default_factory=list)

    @property
    def fx(self) -> BareContext:
        return self

    @property
    def stops(self) -> RaiseStops:
        return RaiseStops()

    def changes(self) -> list[Change]:
        return list(self.fs.changes)
