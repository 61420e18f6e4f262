"""The ``install checkpointer`` step of self-hosting (init's selfhosting phase, ``selfhosting
pivot``): the host service that brings the self-hosted control plane back after a restart
(:mod:`kubeadm_py.selfhosting.checkpoint_unit`, docs/selfhosting-recovery.md). Wire it in after
the pivot of the last component on the node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext


def run_install_checkpointer(ctx: AnyContext) -> list[Change]:
    from kubeadm_py.selfhosting.checkpoint_unit import install

    ctx.log("[selfhosting] Installing the checkpointer (kubeadm-py-checkpointer.service)")
    return install(ctx.fx.fs, ctx.fx.commands, ctx.fx.services.manager(), ctx.log)


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
        flags=("dry-run", "rootfs"),
        run_if=run_if,
        skip_reason=skip_reason or "not applicable to this node/configuration",
    )
