"""The in-memory configuration every phase reads.

Documents are kept as plain dicts in their **v1beta4 wire form** (camelCase keys exactly as
in the YAML, e.g. ``cfg.cluster["networking"]["serviceSubnet"]``), already converted from older
API versions, validated and defaulted. Component configs (KubeletConfiguration,
KubeProxyConfiguration) are the user's documents, passed through (``None`` when absent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from kubeadm_py.durations import duration_seconds
from kubeadm_py.errors import KubeadmError

Doc = dict[str, Any]

KUBEADM_GROUP = "kubeadm.k8s.io"
V1BETA4 = "kubeadm.k8s.io/v1beta4"
V1BETA3 = "kubeadm.k8s.io/v1beta3"
V1BETA2 = "kubeadm.k8s.io/v1beta2"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KUBEPROXY_API = "kubeproxy.config.k8s.io/v1alpha1"

# The v1beta4 ``timeouts`` fields (their defaults: kubeadm_py.config.defaults.DEFAULT_TIMEOUTS).
TimeoutKey = Literal[
    "controlPlaneComponentHealthCheck",
    "kubeletHealthCheck",
    "kubernetesAPICall",
    "etcdAPICall",
    "tlsBootstrap",
    "discovery",
    "upgradeManifests",
]


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
        nr: Doc = owner.setdefault("nodeRegistration", {})
        return nr

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

    def timeout(self, key: TimeoutKey) -> float:
        """``timeouts.<key>`` in seconds, from the run's own document (Init, Join, Reset or
        UpgradeConfiguration; an upgrade's InitConfiguration carries the UpgradeConfiguration's
        timeouts). Config defaulting fills every key, so nothing is defaulted here."""
        owner = next((d for d in (self.init, self.join, self.reset, self.upgrade) if d is not None), {})
        raw = (owner.get("timeouts") or {}).get(key)
        if raw is None:
            raise KubeadmError(f"internal: timeouts.{key} is not set (the configuration was not defaulted)")
        return duration_seconds(raw, f"timeouts.{key}")


def sub_doc(doc: Doc, key: str) -> Doc:
    """``doc[key]`` as a mapping, created (or replacing a non-mapping) when needed."""
    value = doc.get(key)
    if not isinstance(value, dict):
        value = {}
        doc[key] = value
    return value
