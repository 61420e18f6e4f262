"""``upgrade node``: upgrade another control-plane node to the cluster's version (static Pods,
kubelet configuration), or a worker node (kubelet configuration only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.shared import validate
from kubeadm_py.phases.upgrade.state import UpgradeContext, UpgradeState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

NODE_FLAGS = (
    "config",
    "kubeconfig",
    "certificate-renewal",
    "etcd-upgrade",
    "patches",
    "ignore-preflight-errors",
    "upgrade-timeout",
    "node-name",
)


def phases() -> tuple[Phase[UpgradeContext], ...]:
    from kubeadm_py.phases.upgrade.cluster import post_upgrade_phase, upgrade_addon_phase
    from kubeadm_py.phases.upgrade.control_plane import upgrade_control_plane_phase
    from kubeadm_py.phases.upgrade.kubelet import upgrade_kubelet_config_phase
    from kubeadm_py.phases.upgrade.preflight import upgrade_preflight_phase

    return (
        upgrade_preflight_phase(),
        upgrade_control_plane_phase(),
        upgrade_kubelet_config_phase(),
        upgrade_addon_phase(control_plane_only=True),
        post_upgrade_phase(),
    )


def _prepare(ctx: UpgradeContext) -> None:
    from kubeadm_py.phases.upgrade.prepare import prepare

    prepare(ctx, "node")


def _skip(ctx: UpgradeContext) -> list[str]:
    return list(((ctx.cfg.upgrade or {}).get("node") or {}).get("skipPhases") or [])


WORKFLOW = Workflow(
    name="upgrade-node",
    help="Upgrade commands for a node in the cluster",
    config_kind="upgrade",
    new_state=UpgradeState,
    phases=phases,
    flags=NODE_FLAGS,
    prepare=_prepare,
    validate=(validate.pki_settings, validate.patch_files),
    skip_phases_from=_skip,
)
