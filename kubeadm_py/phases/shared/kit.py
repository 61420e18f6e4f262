"""Small pieces the phases of every workflow share: requirements, the API timeout, the patch set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.workflow.phase import Requirement

if TYPE_CHECKING:
    from kubeadm_py.patches import PatchSet
    from kubeadm_py.phases.context import AnyContext


def _admin_present(ctx: AnyContext) -> bool:
    return bool(ctx.fs.exists(ctx.admin_kubeconfig))


ADMIN_KUBECONFIG: Requirement[AnyContext] = Requirement(
    "kubeconfig/admin",
    "the admin kubeconfig (/etc/kubernetes/admin.conf, or --kubeconfig) to talk to the API server",
    present=_admin_present,
)


def api_timeout(ctx: AnyContext) -> float:
    """timeouts.kubernetesAPICall, capped by the run's waiter."""
    return ctx.fx.waiter.timeout(ctx.cfg.timeout("kubernetesAPICall"))


def run_patches(ctx: AnyContext) -> PatchSet | None:
    """The run's patch set (``--patches`` or the configuration's ``patches.directory``), read once."""
    from kubeadm_py.patches import load_patches_for, patches_directory

    directory = patches_directory(ctx.cfg, ctx.options.patches)
    return load_patches_for(ctx.fs, directory, ctx.state.patchsets, ctx.log)
