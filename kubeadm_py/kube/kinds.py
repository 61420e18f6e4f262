"""The object kinds kubeadm-py reads and writes, as a table: REST path prefix, plural, namespaced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeadm_py.errors import KubeadmError


@dataclass(frozen=True)
class KindInfo:
    kind: str
    api_version: str  # "v1", "apps/v1", "rbac.authorization.k8s.io/v1"
    plural: str
    namespaced: bool

    @property
    def prefix(self) -> str:
        return "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        p = self.prefix
        if self.namespaced:
            if not namespace:
                raise KubeadmError(f"internal: {self.kind} objects are namespaced, no namespace given")
            p += f"/namespaces/{namespace}"
        p += f"/{self.plural}"
        if name:
            p += f"/{name}"
        return p


_RBAC = "rbac.authorization.k8s.io/v1"
KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in [
        KindInfo("Namespace", "v1", "namespaces", False),
        KindInfo("Node", "v1", "nodes", False),
        KindInfo("ConfigMap", "v1", "configmaps", True),
        KindInfo("Secret", "v1", "secrets", True),
        KindInfo("ServiceAccount", "v1", "serviceaccounts", True),
        KindInfo("Service", "v1", "services", True),
        KindInfo("Pod", "v1", "pods", True),
        KindInfo("Lease", "coordination.k8s.io/v1", "leases", True),
        KindInfo("Deployment", "apps/v1", "deployments", True),
        KindInfo("DaemonSet", "apps/v1", "daemonsets", True),
        KindInfo("Role", _RBAC, "roles", True),
        KindInfo("RoleBinding", _RBAC, "rolebindings", True),
        KindInfo("ClusterRole", _RBAC, "clusterroles", False),
        KindInfo("ClusterRoleBinding", _RBAC, "clusterrolebindings", False),
        KindInfo("CertificateSigningRequest", "certificates.k8s.io/v1", "certificatesigningrequests", False),
    ]
}


def kind_info(kind: str) -> KindInfo:
    try:
        return KINDS[kind]
    except KeyError:
        raise KubeadmError(f"internal: unsupported object kind {kind!r}") from None


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of an object dict; namespace is "" for cluster-scoped kinds."""
    kind = str(obj.get("kind", ""))
    meta = obj.get("metadata") or {}
    info = kind_info(kind)
    ns = str(meta.get("namespace") or "") if info.namespaced else ""
    return kind, ns, str(meta.get("name", ""))


def describe(kind: str, name: str, namespace: str | None = None) -> str:
    """``ConfigMap kube-system/kubeadm-config`` or ``ClusterRole system:coredns``."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
