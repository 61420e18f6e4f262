"""Node file checks (kubeadm ``FileAvailableCheck``, ``DirAvailableCheck``, ``FileExistingCheck``).
Paths are host paths read through the probe's node-file view, so ``--rootfs`` applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.preflight.system import path_label


@dataclass(frozen=True)
class FileAvailable:
    """The file must not exist yet (kubeadm would overwrite another cluster's state)."""

    path: str
    label: str = ""
    severity: ClassVar[Severity] = "error"

    @property
    def name(self) -> str:
        return self.label or path_label("FileAvailable", self.path)

    @property
    def what(self) -> str:
        return f"{self.path} does not exist yet"

    @property
    def fix(self) -> str:
        return f"run kubeadm-py reset on this node, or remove {self.path} if it is left over"

    def run(self, probe: SystemProbe) -> Findings:
        if probe.node_exists(self.path):
            return [], [f"{self.path} already exists"]
        return [], []


@dataclass(frozen=True)
class DirAvailable:
    """The directory is absent or empty."""

    path: str
    label: str = ""
    severity: ClassVar[Severity] = "error"

    @property
    def name(self) -> str:
        return self.label or path_label("DirAvailable", self.path)

    @property
    def what(self) -> str:
        return f"{self.path} is absent or empty"

    @property
    def fix(self) -> str:
        return f"run kubeadm-py reset, or empty {self.path} after backing it up"

    def run(self, probe: SystemProbe) -> Findings:
        if not probe.node_exists(self.path):
            return [], []
        if not probe.node_is_dir(self.path):
            return [], [f"unable to check if {self.path} is empty: not a directory"]
        if probe.node_listdir(self.path):
            return [], [f"{self.path} is not empty"]
        return [], []


@dataclass(frozen=True)
class FileExisting:
    """The file must exist (e.g. external etcd client certificates)."""

    path: str
    label: str = ""
    severity: ClassVar[Severity] = "error"

    @property
    def name(self) -> str:
        return self.label or path_label("FileExisting", self.path)

    @property
    def what(self) -> str:
        return f"{self.path} exists"

    @property
    def fix(self) -> str:
        return f"copy {self.path} to this node or fix the path in the configuration"

    def run(self, probe: SystemProbe) -> Findings:
        if not probe.node_exists(self.path):
            return [], [f"{self.path} doesn't exist"]
        return [], []
