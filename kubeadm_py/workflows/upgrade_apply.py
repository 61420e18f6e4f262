"""``upgrade apply [VERSION]``: upgrade (or reconfigure) the first control-plane node and the
cluster-wide objects, in upstream phase order (kubeadm v1.32+)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import typer

from kubeadm_py.phases.shared import validate
from kubeadm_py.phases.upgrade.state import UpgradeContext, UpgradeState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

APPLY_FLAGS = (
    "config",
    "kubeconfig",
    "force",
    "yes",
    "certificate-renewal",
    "etcd-upgrade",
    "patches",
    "ignore-preflight-errors",
    "allow-experimental-upgrades",
    "allow-release-candidate-upgrades",
    "upgrade-timeout",
    "print-config",
)

VERSION_ARGUMENT = inspect.Parameter(
    "version",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=typer.Argument(
        None, help="The Kubernetes version to upgrade to (the current one for a configuration change)."
    ),
    annotation=str | None,
)


def phases() -> tuple[Phase[UpgradeContext], ...]:
    from kubeadm_py.phases.upgrade.cluster import (
        post_upgrade_phase,
        upgrade_addon_phase,
        upgrade_bootstrap_token_phase,
        upgrade_upload_config_phase,
    )
    from kubeadm_py.phases.upgrade.control_plane import upgrade_control_plane_phase
    from kubeadm_py.phases.upgrade.kubelet import upgrade_kubelet_config_phase
    from kubeadm_py.phases.upgrade.preflight import upgrade_preflight_phase
    from kubeadm_py.phases.upgrade.selfhosted import upgrade_self_hosted_phase

    return (
        upgrade_preflight_phase(),
        upgrade_control_plane_phase(),
        upgrade_self_hosted_phase(),
        upgrade_upload_config_phase(),
        upgrade_kubelet_config_phase(),
        upgrade_bootstrap_token_phase(),
        upgrade_addon_phase(),
        post_upgrade_phase(),
    )


def _prepare(ctx: UpgradeContext) -> None:
    from kubeadm_py.phases.upgrade.prepare import prepare

    prepare(ctx, "apply")


def _skip(ctx: UpgradeContext) -> list[str]:
    return list(((ctx.cfg.upgrade or {}).get("apply") or {}).get("skipPhases") or [])


WORKFLOW = Workflow(
    name="upgrade-apply",
    help="Upgrade your Kubernetes cluster to the specified version",
    config_kind="upgrade",
    new_state=UpgradeState,
    phases=phases,
    flags=APPLY_FLAGS,
    arguments=(VERSION_ARGUMENT,),
    prepare=_prepare,
    validate=(
        validate.pki_settings,
        validate.patch_files,
        validate.extra_arg_names,
        validate.component_files,
    ),
    skip_phases_from=_skip,
)
