"""Small helpers shared by the cluster-side phases: requirements, timeouts, version profile."""

from __future__ import annotations

from typing import Any

from kubeadm_py.workflow.phase import Requirement


def _admin_present(ctx: Any) -> bool:
    return bool(ctx.fs.exists(ctx.admin_kubeconfig))


ADMIN_KUBECONFIG = Requirement(
    "kubeconfig/admin",
    "the admin kubeconfig (/etc/kubernetes/admin.conf, or --kubeconfig) to talk to the API server",
    present=_admin_present,
)


def _ca_present(ctx: Any) -> bool:
    return bool(ctx.fs.exists(f"{ctx.cert_dir}/ca.crt"))


CA_CERT = Requirement("ca", "the cluster CA certificate (<certDir>/ca.crt)", present=_ca_present)


def api_timeout(ctx: Any) -> float:
    """timeouts.kubernetesAPICall (default 1m); ``ctx.opts["api_timeout"]`` overrides (tests)."""
    if ctx.opts.get("api_timeout") is not None:
        return float(ctx.opts["api_timeout"])
    from kubeadm_py.tokens.model import parse_duration

    owner = ctx.cfg.init if ctx.cfg.init is not None else (ctx.cfg.join or {})
    raw = ((owner or {}).get("timeouts") or {}).get("kubernetesAPICall")
    return parse_duration(str(raw)).total_seconds() if raw else 60.0


def outputs(ctx: Any, **values: Any) -> None:
    """Publish values for later phases (``ctx.state``) and for ``-o json`` (``ctx.state["outputs"]``)."""
    ctx.state.update(values)
    ctx.state.setdefault("outputs", {}).update(values)
