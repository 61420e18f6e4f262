"""The context a phase runs with.

Phases read configuration from ``ctx.cfg`` (v1beta4 dicts, defaulted), run options from
``ctx.opts`` (resolved flag values keyed by parameter name, e.g. ``ctx.opts["upload_certs"]``),
write files only through ``ctx.fs`` and talk to the API server only through ``ctx.kube()``.
In dry-run the effectors are swapped (sandbox filesystem, recording client, no-op waiter);
phases never branch on dry-run themselves except to avoid waiting on things that cannot exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import KUBELET_DIR, KUBERNETES_DIR, MANIFESTS_DIR
from kubeadm_py.hostfs import HostFS

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient


def _no_log(msg: str) -> None:
    return None


@dataclass
class RunContext:
    cfg: KubeadmConfig
    fs: HostFS
    opts: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    # Builds the Kubernetes client on first use (admin.conf exists only after the kubeconfig phase).
    kube_factory: Callable[[RunContext], KubeClient] | None = None
    log: Callable[[str], None] = _no_log
    # Values handed from one phase to a later one (generated token, certificate key, CA hash...).
    state: dict[str, Any] = field(default_factory=dict)
    _kube: KubeClient | None = None

    def kube(self) -> KubeClient:
        if self._kube is None:
            if self.kube_factory is None:
                from kubeadm_py.errors import KubeadmError

                raise KubeadmError("internal: this workflow has no Kubernetes client")
            self._kube = self.kube_factory(self)
        return self._kube

    # Host directories, honouring flags that move them.
    @property
    def cert_dir(self) -> str:
        return self.cfg.cert_dir

    @property
    def kubeconfig_dir(self) -> str:
        return str(self.opts.get("kubeconfig_dir") or KUBERNETES_DIR)

    @property
    def manifests_dir(self) -> str:
        return MANIFESTS_DIR

    @property
    def kubelet_dir(self) -> str:
        return KUBELET_DIR

    @property
    def admin_kubeconfig(self) -> str:
        return str(self.opts.get("kubeconfig") or f"{KUBERNETES_DIR}/admin.conf")
