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


def _ca_present(ctx: AnyContext) -> bool:
    return bool(ctx.fs.exists(f"{ctx.cert_dir}/ca.crt"))


CA_CERT: Requirement[AnyContext] = Requirement(
    "ca", "the cluster CA certificate (<certDir>/ca.crt)", present=_ca_present
)


def api_timeout(ctx: AnyContext) -> float:
    """timeouts.kubernetesAPICall (default 1m), capped by the run's waiter."""
    from kubeadm_py.tokens.model import parse_duration

    owner = ctx.cfg.init if ctx.cfg.init is not None else (ctx.cfg.join or {})
    raw = ((owner or {}).get("timeouts") or {}).get("kubernetesAPICall")
    return ctx.fx.waiter.timeout(parse_duration(str(raw)).total_seconds() if raw else 60.0)
