"""What the phases of ``certs rotate-sa`` hand to each other."""

from __future__ import annotations

from dataclasses import dataclass

from kubeadm_py.phases.context import RunContext, RunState


@dataclass
class RotateState(RunState):
    node_name: str = ""  # this node, as its kubelet.conf names it (mirror Pods carry it)
    timestamp: str = ""  # one per run: names the manifest backup directory


RotateContext = RunContext[RotateState]
