"""What the upgrade phases share: the facts gathered before the first phase
(:mod:`kubeadm_py.phases.upgrade.prepare`, :mod:`kubeadm_py.upgrade.facts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.context import RunContext, RunState

if TYPE_CHECKING:
    from kubeadm_py.upgrade.facts import UpgradeFacts


@dataclass
class UpgradeState(RunState):
    facts_: UpgradeFacts | None = None

    @property
    def facts(self) -> UpgradeFacts:
        if self.facts_ is None:
            raise KubeadmError("internal: the upgrade context was not prepared")
        return self.facts_


UpgradeContext = RunContext[UpgradeState]
