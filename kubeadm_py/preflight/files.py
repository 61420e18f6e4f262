"""Node file checks (kubeadm ``FileAvailableCheck``, ``DirAvailableCheck``, ``FileExistingCheck``).
Paths are host paths read through the probe's node-file view, so ``--rootfs`` applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.preflight.system import path_label


@dataclass(frozen=True)
class _NodePath:
    """A check of one node path, named ``<kind>-<path>`` unless given a ``label``; ``what`` and
    ``fix`` are its class's templates of the path."""

    path: str
    label: str = ""
    severity: ClassVar[Severity] = "error"
    kind: ClassVar[str]
    what_text: ClassVar[str]
    fix_text: ClassVar[str]

    @property
    def name(self) -> str:
        return self.label or path_label(self.kind, self.path)

    @property
    def what(self) -> str:
        return self.what_text.format(path=self.path)

    @property
    def fix(self) -> str:
        return self.fix_text.format(path=self.path)


class FileAvailable(_NodePath):
    """The file must not exist yet (kubeadm would overwrite another cluster's state)."""

    kind = "FileAvailable"
    what_text = "{path} does not exist yet"
    fix_text = "run kubeadm-py reset on this node, or remove {path} if it is left over"

    def run(self, probe: SystemProbe) -> Findings:
        if probe.node_exists(self.path):
            return [], [f"{self.path} already exists"]
        return [], []


class DirAvailable(_NodePath):
    """The directory is absent or empty."""

    kind = "DirAvailable"
    what_text = "{path} is absent or empty"
    fix_text = "run kubeadm-py reset, or empty {path} after backing it up"

    def run(self, probe: SystemProbe) -> Findings:
        if not probe.node_exists(self.path):
            return [], []
        if not probe.node_is_dir(self.path):
            return [], [f"unable to check if {self.path} is empty: not a directory"]
        if probe.node_listdir(self.path):
            return [], [f"{self.path} is not empty"]
        return [], []


class FileExisting(_NodePath):
    """The file must exist (e.g. external etcd client certificates)."""

    kind = "FileExisting"
    what_text = "{path} exists"
    fix_text = "copy {path} to this node or fix the path in the configuration"

    def run(self, probe: SystemProbe) -> Findings:
        if not probe.node_exists(self.path):
            return [], [f"{self.path} doesn't exist"]
        return [], []
