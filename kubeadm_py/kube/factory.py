"""The factory a :class:`~kubeadm_py.phases.context.RunContext` uses to build its Kubernetes client.

``RunContext(kube_factory=make_kube_factory())``: a real :class:`KubeClient` from the kubeconfig at
``ctx.admin_kubeconfig`` (``--kubeconfig``, default ``/etc/kubernetes/admin.conf``, read through
``ctx.fs`` so ``--rootfs`` and the dry-run sandbox apply), or, in dry-run, a
:class:`DryRunKubeClient` that reads from the real cluster only when the kubeconfig existed before
this run and its server answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeadm_py.errors import ApiError
from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.kube.dryrun import DryRunKubeClient, canned_node


def make_kube_factory(
    *, retry: RetryPolicy | None = None, probe_retry: RetryPolicy | None = None
) -> Callable[[Any], KubeClient]:
    def factory(ctx: Any) -> KubeClient:
        path = ctx.admin_kubeconfig
        if ctx.dry_run:
            real: KubeClient | None = None
            sandboxed = ctx.fs.sandbox_path(path)
            written_by_this_run = sandboxed is not None and sandboxed.exists()
            real_file = ctx.fs.real_path(path)
            if not written_by_this_run and real_file.exists():
                try:
                    real = KubeClient.from_kubeconfig(
                        str(real_file), display_path=path, retry=probe_retry or RetryPolicy(attempts=1)
                    )
                except ApiError:
                    real = None
            node = ctx.cfg.node_name if ctx.cfg is not None else ""
            return DryRunKubeClient(real, [canned_node(node)] if node else [])
        p = ctx.fs.read_path(path)
        if not p.exists():
            raise ApiError(
                f"kubeconfig {path} not found",
                hint="run 'kubeadm-py init phase kubeconfig admin' first or pass --kubeconfig",
            )
        return KubeClient.from_kubeconfig(str(p), display_path=path, retry=retry)

    return factory


_default_factory = make_kube_factory()


def client_for(ctx: Any) -> KubeClient:
    """The client for a run context with default retries (what ``RunContext.kube_factory`` needs)."""
    return _default_factory(ctx)
