"""``/var/lib/kubelet/config.yaml``: the KubeletConfiguration kubeadm writes on a node
(``componentconfigs/kubelet.go`` defaults + ``phases/kubelet/config.go``). The defaulting itself lives
in :mod:`kubeadm_py.config.componentconfigs` (the config area); this module adds the node-side helpers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeadm_py.config.types import KubeadmConfig

HEALTHZ_BIND_ADDRESS = "127.0.0.1"
HEALTHZ_PORT = 10248


def cluster_kubelet_config(
    cfg: KubeadmConfig, *, systemd_resolved: bool = False, warn: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The cluster-wide KubeletConfiguration (what upload-config/kubelet stores and kubelet-start writes):
    ``kubeadm_py.config.componentconfigs.default_kubelet_config``, which reads the version table."""
    from kubeadm_py.config.componentconfigs import default_kubelet_config

    return dict(default_kubelet_config(cfg, systemd_resolved=systemd_resolved, warn=warn))


def healthz_url(kubelet_config: dict[str, Any] | None) -> str:
    kc = kubelet_config or {}
    addr = str(kc.get("healthzBindAddress") or HEALTHZ_BIND_ADDRESS)
    if addr in ("0.0.0.0", ""):
        addr = "127.0.0.1"
    elif addr == "::":
        addr = "::1"
    port = int(kc.get("healthzPort") or HEALTHZ_PORT)
    host = f"[{addr}]" if ":" in addr else addr
    return f"http://{host}:{port}/healthz"
