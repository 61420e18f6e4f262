"""``selfhosting pivot``: turn this control-plane node's static Pods into DaemonSet Pods
(kubeadm_py/phases/selfhosting/pivot.py, docs/selfhosting.md). On an HA cluster run it on each
control-plane node, one at a time; local etcd stays a static Pod."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.context import RunContext, RunState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

FLAGS = ("config", "kubeconfig", "dry-run", "certs-in-secrets", "skip-phases", "rootfs")


def phases() -> tuple[Phase[RunContext[RunState]], ...]:
    from kubeadm_py.phases.selfhosting.pivot import pivot_phases

    return pivot_phases()


WORKFLOW = Workflow(
    name="selfhosting-pivot",
    help="Run this node's control plane as DaemonSets instead of static Pods (one node at a time)",
    config_kind="init",
    new_state=RunState,
    phases=phases,
    flags=FLAGS,
)
