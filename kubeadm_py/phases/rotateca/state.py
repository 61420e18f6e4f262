"""What the phases of ``certs rotate-ca`` hand to each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubeadm_py.phases.context import RunContext, RunState

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.kube.client import KubeClient


@dataclass
class RotateCAState(RunState):
    command: str = ""  # begin, sync, switch, finish, status
    node_name: str = ""  # this node, as its kubelet.conf names it
    timestamp: str = ""  # one per run: names the manifest backup directory
    control_plane: bool = False  # this node runs a kube-apiserver static Pod
    rotation: Rotation | None = None  # the cluster's rotation after this command's stage change
    client: KubeClient | None = None  # admin.conf on a control-plane node, kubelet.conf elsewhere


RotateCAContext = RunContext[RotateCAState]
