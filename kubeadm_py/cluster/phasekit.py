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


def api_timeout(ctx: Any) -> float:
    """timeouts.kubernetesAPICall; ``ctx.opts["api_timeout"]`` overrides (tests)."""
    if ctx.opts.get("api_timeout") is not None:
        return float(ctx.opts["api_timeout"])
    return float(ctx.cfg.timeout("kubernetesAPICall"))


def outputs(ctx: Any, **values: Any) -> None:
    """Publish values for later phases (``ctx.state``) and for ``-o json`` (``ctx.state["outputs"]``)."""
    ctx.state.update(values)
    ctx.state.setdefault("outputs", {}).update(values)
