"""Small pieces the cluster-side phases of every workflow share: requirements and the API timeout."""

from __future__ import annotations

from kubeadm_py.phases.context import AnyContext
from kubeadm_py.workflow.phase import Requirement


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
