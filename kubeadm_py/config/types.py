"""The in-memory configuration every phase reads.

Documents are kept as plain dicts in their **v1beta4 wire form** (camelCase keys exactly as
in the YAML, e.g. ``cfg.cluster["networking"]["serviceSubnet"]``), already converted from older
API versions, validated and defaulted. Component configs (KubeletConfiguration,
KubeProxyConfiguration) are the user's documents, passed through (``None`` when absent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]

KUBEADM_GROUP = "kubeadm.k8s.io"
V1BETA4 = "kubeadm.k8s.io/v1beta4"
V1BETA3 = "kubeadm.k8s.io/v1beta3"
V1BETA2 = "kubeadm.k8s.io/v1beta2"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KUBEPROXY_API = "kubeproxy.config.k8s.io/v1alpha1"


@dataclass
class KubeadmConfig:
    """A loaded, converted, defaulted and validated set of documents."""

    cluster: Doc
    init: Doc | None = None
    join: Doc | None = None
    reset: Doc | None = None
    upgrade: Doc | None = None
    kubelet: Doc | None = None
    kubeproxy: Doc | None = None
    source: str = "<defaults>"
    warnings: list[str] = field(default_factory=list)

    # Convenience accessors for values almost every phase needs.
    @property
    def node_registration(self) -> Doc:
        owner = self.init if self.init is not None else (self.join or {})
        return owner.setdefault("nodeRegistration", {})

    @property
    def node_name(self) -> str:
        return str(self.node_registration.get("name", ""))

    @property
    def cert_dir(self) -> str:
        return str(self.cluster.get("certificatesDir", "/etc/kubernetes/pki"))

    @property
    def kubernetes_version(self) -> str:
        return str(self.cluster.get("kubernetesVersion", ""))

    @property
    def advertise_address(self) -> str:
        if self.init is not None:
            return str(self.init.get("localAPIEndpoint", {}).get("advertiseAddress", ""))
        cp = (self.join or {}).get("controlPlane") or {}
        return str(cp.get("localAPIEndpoint", {}).get("advertiseAddress", ""))

    @property
    def bind_port(self) -> int:
        if self.init is not None:
            return int(self.init.get("localAPIEndpoint", {}).get("bindPort", 6443))
        cp = (self.join or {}).get("controlPlane") or {}
        return int(cp.get("localAPIEndpoint", {}).get("bindPort", 6443))

    @property
    def local_etcd(self) -> bool:
        return "external" not in (self.cluster.get("etcd") or {})
