"""``certs rotate-sa [--finish]``: rotate the service-account signing key without invalidating the
tokens in use until the operator finishes (kubeadm_py/certs/rotatesa.py, docs/pki.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.rotatesa.state import RotateContext, RotateState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

FLAGS = ("config", "kubeconfig", "cert-dir", "dry-run", "finish", "skip-phases")


def phases() -> tuple[Phase[RotateContext], ...]:
    from kubeadm_py.phases.rotatesa.phases import phases as rotate_phases

    return rotate_phases()


def _prepare(ctx: RotateContext) -> None:
    from kubeadm_py.phases.upgrade.control_plane import timestamp
    from kubeadm_py.upgrade.config import node_local

    ctx.state.node_name = node_local(ctx.fs, ctx.manifests_dir).node_name or ctx.cfg.node_name
    ctx.state.timestamp = timestamp()


WORKFLOW = Workflow(
    name="certs-rotate-sa",
    help="Rotate the service-account signing key; --finish stops trusting the previous one",
    config_kind="init",
    new_state=RotateState,
    phases=phases,
    flags=FLAGS,
    prepare=_prepare,
)
