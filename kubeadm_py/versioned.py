"""What changed between Kubernetes minors in the objects kubeadm writes, as one table.

Rows apply from ``since`` up to the next row. The 1.20 row is the test bed's release; the last row
follows current upstream (``cmd/kubeadm/app`` on the main branch). See docs/cluster-objects.md for
the sources and for which cells are unverified."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubeadm_py.semver import major_minor

MASTER_LABEL = "node-role.kubernetes.io/master"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
MASTER_TAINT = {"key": MASTER_LABEL, "effect": "NoSchedule"}
CONTROL_PLANE_TAINT = {"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}


@dataclass(frozen=True)
class ObjectsProfile:
    since: tuple[int, int]
    kubelet_config_versioned: bool  # kubelet-config-1.20 / kubeadm:kubelet-config-1.20 before 1.24
    control_plane_labels: tuple[str, ...]
    default_taints: tuple[dict[str, str], ...]
    coredns_toleration_keys: tuple[str, ...]
    coredns_image_subpath: bool  # <registry.k8s.io>/coredns/coredns:vX with the default registry
    coredns_named_probe_ports: bool  # liveness-probe 8080 / readiness-probe 8181 container ports
    coredns_cap_drop: str  # "all" (old) / "ALL"
    coredns_rbac_nodes_get: bool
    coredns_rbac_endpointslices: bool
    corefile_cache_disable: bool  # cache 30 { disable success/denial <domain> }
    kube_proxy_critical_addons_toleration: bool
    annotate_cri_socket: bool  # upload-config/kubelet annotates the Node with its CRI socket
    kubelet_finalize_phase: str
    # bootstrap-token (init and upgrade) binds the apiserver's kubelet client (the
    # apiserver-kubelet-client.crt CN) to the built-in ClusterRole system:kubelet-api-admin.
    apiserver_kubelet_client_binding: bool = False


# Each row lists only what changed from the previous one (dataclasses.replace).
_V1_20 = ObjectsProfile(
    since=(1, 20),
    kubelet_config_versioned=True,
    control_plane_labels=(MASTER_LABEL, CONTROL_PLANE_LABEL, EXCLUDE_LB_LABEL),
    default_taints=(MASTER_TAINT,),
    coredns_toleration_keys=(MASTER_LABEL,),
    coredns_image_subpath=False,
    coredns_named_probe_ports=False,
    coredns_cap_drop="all",
    coredns_rbac_nodes_get=True,
    coredns_rbac_endpointslices=False,
    corefile_cache_disable=False,
    kube_proxy_critical_addons_toleration=True,
    annotate_cri_socket=True,
    kubelet_finalize_phase="experimental-cert-rotation",
)
_V1_24 = replace(
    _V1_20,
    since=(1, 24),
    kubelet_config_versioned=False,
    control_plane_labels=(CONTROL_PLANE_LABEL, EXCLUDE_LB_LABEL),
    default_taints=(MASTER_TAINT, CONTROL_PLANE_TAINT),
    coredns_toleration_keys=(MASTER_LABEL, CONTROL_PLANE_LABEL),
    coredns_image_subpath=True,
    coredns_rbac_nodes_get=False,
    coredns_rbac_endpointslices=True,
    kube_proxy_critical_addons_toleration=False,
)
_V1_25 = replace(
    _V1_24,
    since=(1, 25),
    default_taints=(CONTROL_PLANE_TAINT,),
    coredns_toleration_keys=(CONTROL_PLANE_LABEL,),
)
_V1_34 = replace(
    _V1_25,
    since=(1, 34),
    coredns_named_probe_ports=True,
    coredns_cap_drop="ALL",
    corefile_cache_disable=True,
    annotate_cri_socket=False,
    kubelet_finalize_phase="enable-client-cert-rotation",
)
# CHANGELOG-1.37.md v1.37.0-alpha.1: "Kubeadm: use a dedicated ClusterRole 'system:kubelet-api-admin'
# for the kube-apiserver kubelet client." (#138957). Upstream's AllowAPIServerToAccessKubeletAPI
# (phases/bootstraptoken/node, also run by `upgrade apply`'s bootstrap-token phase per the PR diff)
# creates ClusterRoleBinding "kubeadm:apiserver-kubelet-client" -> ClusterRole
# "system:kubelet-api-admin" for User "kube-apiserver-kubelet-client" (names: kubeadm constants
# KubeletAPIAdminClusterRoleBindingName / KubeletAPIAdminClusterRoleName /
# APIServerKubeletClientCertCommonName as vendored by cluster-api, find_string id 52472473424).
# The PR was cherry-picked to release-1.35 (#138959) and so reached later 1.35/1.36 patches; the table
# is per minor, so it starts at 1.37, whose v1.37.0 has it.
_V1_37 = replace(_V1_34, since=(1, 37), apiserver_kubelet_client_binding=True)

PROFILES: tuple[ObjectsProfile, ...] = (_V1_20, _V1_24, _V1_25, _V1_34, _V1_37)

# CoreDNS tag for a version outside kubeadm_py.versions' table (its tags are per patch: image_tags).
COREDNS_FALLBACK_TAG = "v1.12.1"


def _minor(version: str) -> tuple[int, int]:
    """(major, minor) of ``version``; the newest profile's when it is empty or not a version."""
    return major_minor(version, PROFILES[-1].since)


def profile_for(version: str) -> ObjectsProfile:
    minor = _minor(version)
    chosen = PROFILES[0]
    for p in PROFILES:
        if minor >= p.since:
            chosen = p
    return chosen


def kubelet_config_name(version: str) -> str:
    """``kubelet-config`` (1.24+) or ``kubelet-config-1.20``."""
    if profile_for(version).kubelet_config_versioned:
        major, minor = _minor(version)
        return f"kubelet-config-{major}.{minor}"
    return "kubelet-config"


def kubelet_config_role(version: str) -> str:
    return f"kubeadm:{kubelet_config_name(version)}"


def coredns_tag(version: str) -> str:
    """The CoreDNS tag kubeadm of exactly ``version`` deploys (``versions.image_tags``)."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.versions import image_tags

    try:
        return image_tags(version or None).coredns
    except KubeadmError:
        return COREDNS_FALLBACK_TAG
