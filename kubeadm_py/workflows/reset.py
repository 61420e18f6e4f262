"""The ``reset`` workflow: preflight -> remove-etcd-member -> cleanup-node (upstream
``cmd/kubeadm/app/cmd/reset.go`` and ``cmd/phases/reset``). See docs/reset.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.reset.state import ResetContext, ResetState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

RESET_FLAGS = (
    "cert-dir",
    "cleanup-tmp-dir",
    "config",
    "cri-socket",
    "dry-run",
    "force",
    "ignore-preflight-errors",
    "kubeconfig",
    "skip-phases",
)


def phases() -> tuple[Phase[ResetContext], ...]:
    from kubeadm_py.phases.reset.cleanup import cleanup_node_phase
    from kubeadm_py.phases.reset.etcd import remove_etcd_member_phase
    from kubeadm_py.phases.selfhosting.reset import remove_selfhosting_phase
    from kubeadm_py.phases.shared.preflight import preflight_phase

    return (
        preflight_phase("reset"),
        remove_etcd_member_phase(),
        remove_selfhosting_phase(),  # kubeadm-py's: before cleanup-node, while the API may answer
        cleanup_node_phase(),
    )


def _prepare(ctx: ResetContext) -> None:
    """ResetConfiguration ``force`` and ``cleanupTmpDir`` act like their flags (flag wins)."""
    reset = ctx.cfg.reset or {}
    if ctx.options.force is None and reset.get("force"):
        ctx.options.force = True
    if ctx.options.cleanup_tmp_dir is None and reset.get("cleanupTmpDir"):
        ctx.options.cleanup_tmp_dir = True


def _skip_from_config(ctx: ResetContext) -> list[str]:
    return list((ctx.cfg.reset or {}).get("skipPhases") or [])


WORKFLOW = Workflow(
    name="reset",
    help="Performs a best effort revert of changes made to this host by 'kubeadm init' or 'kubeadm join'",
    config_kind="reset",
    new_state=ResetState,
    phases=phases,
    flags=RESET_FLAGS,
    prepare=_prepare,
    skip_phases_from=_skip_from_config,
)
