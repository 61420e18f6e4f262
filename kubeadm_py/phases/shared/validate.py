"""Checks of a run's inputs that a phase would otherwise fail on halfway, after earlier phases
wrote to the node: the workflows list them (``Workflow.validate``) and the API runs them when the
run's context is built, before any phase. Each calls the code the phase itself uses, so a check
and the phase can't disagree (a patch set loaded here is the one the phases apply)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeadm_py.phases.context import AnyContext


def pki_settings(ctx: AnyContext) -> None:
    """Certificate validity periods and the key algorithm (``pki.manager.settings``)."""
    from kubeadm_py.pki import manager

    manager.settings(ctx.cfg)


def patch_files(ctx: AnyContext) -> None:
    """``--patches`` / ``patches.directory``: the directory exists, every file parses and names a
    known target. Loaded into the run's cache, which the phases read."""
    from kubeadm_py.phases.shared.kit import run_patches

    run_patches(ctx)
