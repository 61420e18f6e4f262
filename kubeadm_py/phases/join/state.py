"""What join's phases hand to later phases of the same run (upstream ``cmd/join.go`` joinData)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubeadm_py.phases.context import RunContext, RunState

if TYPE_CHECKING:
    from kubeadm_py.discovery.discover import Discovered
    from kubeadm_py.kube.client import KubeClient


@dataclass
class JoinState(RunState):
    discovered: Discovered | None = None  # discovery result, once the first phase needs it
    bootstrap_client: KubeClient | None = None  # the TLS bootstrap identity's client
    cluster_config_loaded: bool = False  # ctx.cfg.cluster replaced by the cluster's own
    control_plane_ready: bool = False  # checkIfReadyForAdditionalControlPlane passed
    written_reported: bool = False  # a failure already named the files this run wrote
    etcd_initial_cluster: list[tuple[str, str]] = field(default_factory=list)
    worker_skips_announced: set[str] = field(default_factory=set)


JoinContext = RunContext[JoinState]
