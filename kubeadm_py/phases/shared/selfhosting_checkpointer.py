"""The ``install checkpointer`` step of self-hosting (init's selfhosting phase, ``selfhosting
pivot``): the host service that brings the self-hosted control plane back after a restart
(:mod:`kubeadm_py.selfhosting.checkpoint_unit`, docs/selfhosting-recovery.md). It runs before the
first component's pivot (``pivot_phases`` in :mod:`kubeadm_py.phases.selfhosting.pivot`), so a
restart in the middle of a pivot is covered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext


def run_install_checkpointer(ctx: AnyContext) -> list[Change]:
    """The unit runs the checkpointer for this node (its name as kubelet.conf says, as pivot
    labels it) on the kubelet's CRI socket (kubeadm-flags.env, else the configuration's)."""
    from kubeadm_py.kubelet.flags import cri_socket
    from kubeadm_py.phases.selfhosting.pivot import node_name
    from kubeadm_py.selfhosting.checkpoint_unit import exec_start, install
    from kubeadm_py.upgrade.config import node_local

    ctx.log("[selfhosting] Installing the checkpointer (kubeadm-py-checkpointer.service)")
    socket = node_local(ctx.fs, ctx.manifests_dir).cri_socket or cri_socket(ctx.cfg)
    argv = exec_start(node_name=node_name(ctx), cri_socket=socket)
    return install(ctx.fx.fs, ctx.fx.services, ctx.log, argv)


def install_checkpointer_phase(
    run_if: Callable[[AnyContext], bool] | None = None, skip_reason: str = ""
) -> Phase[AnyContext]:
    """The phase; ``run_if``/``skip_reason`` as the workflow gates its self-hosting phases (init:
    the SelfHosting feature gate). It belongs before the first component's pivot, so a restart
    during the pivot is covered."""
    return Phase(
        "install-checkpointer",
        "Install the checkpointer service that restarts the self-hosted control plane after a reboot",
        run=run_install_checkpointer,
        flags=("config", "dry-run", "rootfs"),
        run_if=run_if,
        skip_reason=skip_reason or "not applicable to this node/configuration",
    )
