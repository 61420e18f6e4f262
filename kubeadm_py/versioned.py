"""What changed between Kubernetes minors in the objects kubeadm writes, as one table.

Rows apply from ``since`` up to the next row. The 1.20 row is the test bed's release; the last row
follows current upstream (``cmd/kubeadm/app`` on the main branch). See docs/cluster-objects.md for
the sources and for which cells are unverified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from kubeadm_py.semver import major_minor

MASTER_LABEL = "node-role.kubernetes.io/master"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
MASTER_TAINT = {"key": MASTER_LABEL, "effect": "NoSchedule"}
# Host CA-trust directories mounted into kube-apiserver / kube-controller-manager when present.
CA_TRUST_PATHS_ETC_PKI = (
    "/etc/pki",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
    "/etc/ca-certificates",
)
CA_TRUST_PATHS_SPLIT = (
    "/etc/pki/ca-trust",
    "/etc/pki/tls/certs",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
)
CONTROL_PLANE_TAINT = {"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}


@dataclass(frozen=True)
class ObjectsProfile:
    since: tuple[int, int]
    kubelet_config_versioned: bool  # kubelet-config-1.20 / kubeadm:kubelet-config-1.20 before 1.24
    control_plane_labels: tuple[str, ...]
    default_taints: tuple[dict[str, str], ...]
    coredns_toleration_keys: tuple[str, ...]
    coredns_named_probe_ports: bool  # liveness-probe 8080 / readiness-probe 8181 container ports
    coredns_cap_drop: str  # "all" (old) / "ALL"
    coredns_rbac_nodes_get: bool
    coredns_rbac_endpointslices: bool
    corefile_cache_disable: bool  # cache 30 { disable success/denial <domain> }
    kube_proxy_critical_addons_toleration: bool
    annotate_cri_socket: bool  # upload-config/kubelet annotates the Node with its CRI socket
    kubelet_finalize_phase: str
    # The kube-dns Service's kubernetes.io/name label (the Service keeps resourceVersion "0").
    dns_service_label: str
    # Static Pods (``manifests/``): CA-trust host directories mounted into the kube-apiserver and
    # the kube-controller-manager when they exist; etcd probes (liveness, readiness or "",
    # startup); kube-scheduler probes (same shape); probes on the named container port
    # "probe-port" instead of a number; ``metadata.creationTimestamp: null`` printed.
    ca_cert_extra_paths: tuple[str, ...]
    etcd_probe_paths: tuple[str, str, str]
    scheduler_probe_paths: tuple[str, str, str]
    named_probe_port: bool
    creation_timestamp_null: bool
    # kubelet.conf of a control-plane node points at its own API server (ControlPlaneKubeletLocalMode
    # on by default) instead of the control-plane endpoint; a featureGates entry overrides it.
    kubelet_conf_local: bool
    # Kubeconfig files (clientcmd's v1.Config) carry ``preferences: {}``.
    kubeconfig_preferences: bool
    # Zero-valued KubeletConfiguration fields the minor's kubelet.config.k8s.io/v1beta1 types
    # serialise (no omitempty, or a struct under omitempty), beyond the v1.20 set that
    # config.componentconfigs always writes (the duration fields, ``logging: {}``).
    kubelet_zero_fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # Zero-valued KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) fields the minor's
    # types serialise in the kube-proxy ConfigMap; kube-proxy treats them as unset.
    kubeproxy_zero_fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # bootstrap-token (init and upgrade) binds the apiserver's kubelet client (the
    # apiserver-kubelet-client.crt CN) to the built-in ClusterRole system:kubelet-api-admin.
    apiserver_kubelet_client_binding: bool = False


# Each row lists only what changed from the previous one (dataclasses.replace).
# The kube-proxy config of kubeadm v1.20 with its zero-valued (non-omitempty) fields; checked against
# the reference kubeadm v1.20.2's `config print init-defaults --component-configs
# KubeProxyConfiguration` (and tests/integration: the test bed).
_KUBEPROXY_ZERO_1_20: dict[str, Any] = {
    "bindAddressHardFail": False,
    "clientConnection": {"acceptContentTypes": "", "burst": 0, "contentType": "", "qps": 0},
    "clusterCIDR": "",
    "configSyncPeriod": "0s",
    "conntrack": {
        "maxPerCore": None,
        "min": None,
        "tcpCloseWaitTimeout": None,
        "tcpEstablishedTimeout": None,
    },
    "detectLocalMode": "",
    "enableProfiling": False,
    "healthzBindAddress": "",
    "hostnameOverride": "",
    "iptables": {"masqueradeAll": False, "masqueradeBit": None, "minSyncPeriod": "0s", "syncPeriod": "0s"},
    "ipvs": {
        "excludeCIDRs": None,
        "minSyncPeriod": "0s",
        "scheduler": "",
        "strictARP": False,
        "syncPeriod": "0s",
        "tcpFinTimeout": "0s",
        "tcpTimeout": "0s",
        "udpTimeout": "0s",
    },
    "metricsBindAddress": "",
    "mode": "",
    "nodePortAddresses": None,
    "oomScoreAdj": None,
    "portRange": "",
    "showHiddenMetricsForVersion": "",
    "udpIdleTimeout": "0s",
    "winkernel": {"enableDSR": False, "networkName": "", "sourceVip": ""},
}
# The same for the v1beta4 kubeadm line: `config print init-defaults --component-configs` of a kubeadm
# with v1beta4 and without the kubelet's v1.32 crashLoopBackOff field, i.e. v1.31 (search index id
# 43782936761): conntrack gains tcpBeLiberal/udpStreamTimeout/udpTimeout, detectLocal, iptables
# localhostNodePorts, logging, nftables and winkernel forwardHealthCheckVip/rootHnsEndpointName;
# udpIdleTimeout is gone. Verified for 1.31 only; carried to 1.30 and later rows (unverified there).
_KUBEPROXY_ZERO_1_31: dict[str, Any] = {
    **{k: v for k, v in _KUBEPROXY_ZERO_1_20.items() if k != "udpIdleTimeout"},
    "conntrack": {
        "maxPerCore": None,
        "min": None,
        "tcpBeLiberal": False,
        "tcpCloseWaitTimeout": None,
        "tcpEstablishedTimeout": None,
        "udpStreamTimeout": "0s",
        "udpTimeout": "0s",
    },
    "detectLocal": {"bridgeInterface": "", "interfaceNamePrefix": ""},
    "iptables": {
        "localhostNodePorts": None,
        "masqueradeAll": False,
        "masqueradeBit": None,
        "minSyncPeriod": "0s",
        "syncPeriod": "0s",
    },
    "logging": {
        "flushFrequency": 0,
        "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
        "verbosity": 0,
    },
    "nftables": {"masqueradeAll": False, "masqueradeBit": None, "minSyncPeriod": "0s", "syncPeriod": "0s"},
    "winkernel": {
        "enableDSR": False,
        "forwardHealthCheckVip": False,
        "networkName": "",
        "rootHnsEndpointName": "",
        "sourceVip": "",
    },
}

_V1_20 = ObjectsProfile(
    since=(1, 20),
    kubelet_config_versioned=True,
    control_plane_labels=(MASTER_LABEL, CONTROL_PLANE_LABEL, EXCLUDE_LB_LABEL),
    default_taints=(MASTER_TAINT,),
    coredns_toleration_keys=(MASTER_LABEL,),
    coredns_named_probe_ports=False,
    coredns_cap_drop="all",
    coredns_rbac_nodes_get=True,
    coredns_rbac_endpointslices=False,
    corefile_cache_disable=False,
    kube_proxy_critical_addons_toleration=True,
    annotate_cri_socket=True,
    kubelet_finalize_phase="experimental-cert-rotation",
    # v1.20.2 tree (the test bed's source; phases/addons/dns/manifests.go KubeDNSService):
    # kubernetes.io/name "KubeDNS", resourceVersion "0".
    dns_service_label="KubeDNS",
    # v1.20.2 tree: phases/controlplane/volumes.go caCertsExtraVolumePaths ("/etc/pki" whole);
    # phases/etcd/local.go: /health liveness and startup, no readiness probe;
    # phases/controlplane/manifests.go: kube-scheduler /healthz liveness and startup, numeric ports;
    # util/staticpod/utils.go ComponentPod's zero ObjectMeta.CreationTimestamp prints as null.
    ca_cert_extra_paths=CA_TRUST_PATHS_ETC_PKI,
    etcd_probe_paths=("/health", "", "/health"),
    scheduler_probe_paths=("/healthz", "", "/healthz"),
    named_probe_port=False,
    creation_timestamp_null=True,
    # v1.20.2 tree: phases/kubeconfig/kubeconfig.go getKubeConfigSpecsBase gives kubelet.conf the
    # controlPlaneEndpoint (admin.conf too; controller-manager/scheduler get the local endpoint).
    kubelet_conf_local=False,
    kubeconfig_preferences=True,
    kubeproxy_zero_fields=MappingProxyType(_KUBEPROXY_ZERO_1_20),
)
_V1_24 = replace(
    _V1_20,
    since=(1, 24),
    kubelet_config_versioned=False,
    control_plane_labels=(CONTROL_PLANE_LABEL, EXCLUDE_LB_LABEL),
    default_taints=(MASTER_TAINT, CONTROL_PLANE_TAINT),
    coredns_toleration_keys=(MASTER_LABEL, CONTROL_PLANE_LABEL),
    coredns_rbac_nodes_get=False,
    coredns_rbac_endpointslices=True,
    kube_proxy_critical_addons_toleration=False,
    # The modern Service template (phases/addons/dns/manifests.go CoreDNSService, as minikube copies
    # it: find_string id 42729815787) labels it "CoreDNS" and keeps resourceVersion "0"; it is in
    # place by this row (the exact minor between 1.21 and 1.24 matters to no supported minor).
    dns_service_label="CoreDNS",
    kubeproxy_zero_fields=MappingProxyType({}),  # not researched for 1.24-1.29 (no supported minor)
)
_V1_25 = replace(
    _V1_24,
    since=(1, 25),
    default_taints=(CONTROL_PLANE_TAINT,),
    coredns_toleration_keys=(CONTROL_PLANE_LABEL,),
    # PR #110744 (kubernetes/kubernetes, merged 2022-06 for v1.25): etcd liveness
    # /health?exclude=NOSPACE&serializable=true, startup /health?serializable=false, no readiness;
    # kubernetes/kubeadm#3039 (2024-04) lists exactly these as kubeadm's probes up to v1.30.
    etcd_probe_paths=("/health?exclude=NOSPACE&serializable=true", "", "/health?serializable=false"),
)
# kubelet config.yaml as kubeadm writes it, read from real clusters (search index ids): a v1.27
# cluster (39553247590) has containerRuntimeEndpoint: "" (field added in v1.27 without omitempty),
# logging.flushFrequency / options.json / verbosity and memorySwap: {}; then imageMaximumGCAge: 0s
# arrives (field added in v1.29; 43003989714 has it without logging.options.text); then
# logging.options.text (26031846732, 66554130433); then crashLoopBackOff: {} (KEP-4603's field,
# v1.32; 45261037449, 60481785112, 70986460673 have all of them).
_KUBELET_ZERO_1_29: dict[str, Any] = {
    "containerRuntimeEndpoint": "",
    "imageMaximumGCAge": "0s",
    "logging": {"flushFrequency": 0, "options": {"json": {"infoBufferSize": "0"}}, "verbosity": 0},
    "memorySwap": {},
}
_KUBELET_ZERO_1_30 = {
    **_KUBELET_ZERO_1_29,
    "logging": {
        "flushFrequency": 0,
        "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
        "verbosity": 0,
    },
}
# PR #121384 (merged 2023-10, v1.29): "kubeadm coredns use drop ALL instead of all".
_V1_29 = replace(
    _V1_25, since=(1, 29), coredns_cap_drop="ALL", kubelet_zero_fields=MappingProxyType(_KUBELET_ZERO_1_29)
)
# v1.30: component-base's logging options gain "text" (see _KUBELET_ZERO_1_29's sources).
_V1_30 = replace(
    _V1_29,
    since=(1, 30),
    kubelet_zero_fields=MappingProxyType(_KUBELET_ZERO_1_30),
    kubeproxy_zero_fields=MappingProxyType(_KUBEPROXY_ZERO_1_31),
)
# v1.31: PR #124465 "kubeadm: use etcd 3.5.11's /livez and /readyz endpoints for probes" ("Use them
# in 1.31": /livez liveness, /readyz readiness and startup); PR #124361 "kubeadm: don't mount
# /etc/pki for apiserver and KCM" (merged 2024-04, after v1.30.0: /etc/pki/ca-trust and
# /etc/pki/tls/certs instead). ControlPlaneKubeletLocalMode is alpha (off) from 1.31 (kubeadm
# feature-gate table in kubernetes/website, find_string id 880592795; PR #125780 makes init honour it).
_V1_31 = replace(
    _V1_30,
    since=(1, 31),
    etcd_probe_paths=("/livez", "/readyz", "/readyz"),
    ca_cert_extra_paths=CA_TRUST_PATHS_SPLIT,
)
# v1.32: PR #126945 "kubeadm: scheduler using livez and readyz instead of healthz" (opened 2024-08-27,
# after v1.31.0): /livez liveness and startup, /readyz readiness. PR #128359 (opened 2024-10-27,
# v1.32): "cache 30 { disable success <domain> / disable denial <domain> }" in the Corefile.
_V1_32 = replace(
    _V1_31,
    since=(1, 32),
    scheduler_probe_paths=("/livez", "/readyz", "/livez"),
    corefile_cache_disable=True,
    kubelet_zero_fields=MappingProxyType({**_KUBELET_ZERO_1_30, "crashLoopBackOff": {}}),
)
# v1.33: ControlPlaneKubeletLocalMode beta, on by default (kubeadm feature-gate table, find_string id
# 8419711897: alpha 1.31, beta 1.33); kubernetes/kubeadm#3243: "For kubeadm 1.32 and below ...
# kubelet.conf was populated with controlplaneendpoint ... for kubeadm 1.33, host's ip with 6443".
_V1_33 = replace(_V1_32, since=(1, 33), kubelet_conf_local=True)
# v1.34: PR #132776 "kubeadm: use named ports in static pod manifests" (merged 2025-07: 'probe-port'
# for every probe of kube-apiserver, kube-controller-manager, kube-scheduler and etcd, with a
# matching container port); PR #131587 (2025-05) named ports for the CoreDNS probes.
# CHANGELOG-1.34.md v1.34.0-alpha.1 (find_string id 7175409325): "Zero-value
# `metadata.creationTimestamp` values are now omitted" (#130989) and "Deprecate preferences field in
# kubeconfig in favor of kuberc" (#131741; client-go stops writing `preferences: {}`).
_V1_34 = replace(
    _V1_33,
    since=(1, 34),
    coredns_named_probe_ports=True,
    annotate_cri_socket=False,
    kubelet_finalize_phase="enable-client-cert-rotation",
    named_probe_port=True,
    creation_timestamp_null=False,
    kubeconfig_preferences=False,
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

PROFILES: tuple[ObjectsProfile, ...] = (
    _V1_20,
    _V1_24,
    _V1_25,
    _V1_29,
    _V1_30,
    _V1_31,
    _V1_32,
    _V1_33,
    _V1_34,
    _V1_37,
)

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
