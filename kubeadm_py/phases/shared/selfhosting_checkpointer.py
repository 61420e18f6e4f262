"""The ``install checkpointer`` step of self-hosting (init's selfhosting phase, ``selfhosting
pivot``): the host service that brings the self-hosted control plane back after a restart
(:mod:`kubeadm_py.selfhosting.checkpoint_unit`, docs/selfhosting-recovery.md). Wire it in after
the pivot of the last component on the node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext


def run_install_checkpointer(ctx: AnyContext) -> list[Change]:
    from kubeadm_py.selfhosting.checkpoint_unit import install

    ctx.log("[selfhosting] Installing the checkpointer (kubeadm-py-checkpointer.service)")
    return install(ctx.fx.fs, ctx.fx.commands, ctx.fx.services.manager(), ctx.log)


def install_checkpointer_phase() -> Phase[AnyContext]:
    return Phase(
        "install-checkpointer",
        "Install the checkpointer service that restarts the self-hosted control plane after a reboot",
        run=run_install_checkpointer,
        flags=("dry-run", "rootfs"),
    )
