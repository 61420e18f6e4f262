"""kubeadm's defaults for the component configs it manages (upstream ``componentconfigs/``).

:func:`default_kubelet_config` and :func:`default_kubeproxy_config` merge the user's document
(``cfg.kubelet`` / ``cfg.kubeproxy``) over kubeadm's defaults. User values that differ from a value
kubeadm recommends are kept, with a warning "The recommended value for ... is ..." (upstream
``warnDefaultComponentConfigValue``); ``rotateCertificates`` is forced to true.

The kubelet document also carries the zero-valued fields upstream kubeadm writes
(``syncFrequency: 0s`` ...): the kubelet treats them as unset and applies its own defaults. The
v1.20 set is written for every minor; newer minors add the fields their types serialise
(``kubeadm_py.versioned.ObjectsProfile.kubelet_zero_fields``)."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

from kubeadm_py.config.formats import parse_cidr_list
from kubeadm_py.config.types import KUBELET_API, KUBEPROXY_API, KubeadmConfig
from kubeadm_py.config.types import sub_doc as _sub
from kubeadm_py.versioned import profile_for

Doc = dict[str, Any]
Warn = Callable[[str], None]

MANIFESTS_DIR = "/etc/kubernetes/manifests"
DEFAULT_CLUSTER_DNS_IP = "10.96.0.10"
KUBELET_HEALTHZ_BIND_ADDRESS = "127.0.0.1"
KUBELET_HEALTHZ_PORT = 10248
KUBELET_READ_ONLY_PORT = 0
CGROUP_DRIVER_SYSTEMD = "systemd"
SYSTEMD_RESOLV_CONF = "/run/systemd/resolve/resolv.conf"
KUBEPROXY_KUBECONFIG = "/var/lib/kube-proxy/kubeconfig.conf"

# Zero-valued metav1.Duration fields of kubelet.config.k8s.io/v1beta1 that upstream serialises.
KUBELET_ZERO_DURATIONS = (
    "cpuManagerReconcilePeriod",
    "evictionPressureTransitionPeriod",
    "fileCheckFrequency",
    "httpCheckFrequency",
    "imageMinimumGCAge",
    "nodeStatusReportFrequency",
    "nodeStatusUpdateFrequency",
    "runtimeRequestTimeout",
    "shutdownGracePeriod",
    "shutdownGracePeriodCriticalPods",
    "streamingConnectionIdleTimeout",
    "syncFrequency",
    "volumeStatsAggPeriod",
)


def cluster_dns_ip(service_subnet: str) -> str:
    """The 10th address of the first service subnet (upstream ``constants.GetDNSIP``)."""
    try:
        first = parse_cidr_list(service_subnet)[0]
        return str(first.network_address + 10)
    except (ValueError, IndexError):
        return DEFAULT_CLUSTER_DNS_IP


def _warner(cfg: KubeadmConfig, warn: Warn | None) -> Warn:
    if warn is not None:
        return warn

    def add(msg: str) -> None:
        if msg not in cfg.warnings:
            cfg.warnings.append(msg)

    return add


def _recommend(warn: Warn, kind: str, field: str, recommended: Any, actual: Any) -> None:
    warn(
        f'The recommended value for "{field}" in "{kind}" is: {recommended}; the provided value is: {actual}'
    )


def _setting(doc: Doc, path: str, recommended: Any, warn: Warn, kind: str, *, differs: Any = None) -> None:
    """Set ``path`` to ``recommended`` when absent; warn when present and different."""
    *parents, leaf = path.split(".")
    owner = doc
    for p in parents:
        owner = _sub(owner, p)
    if owner.get(leaf) in (None, ""):
        owner[leaf] = recommended
    elif (differs or (lambda a: a != recommended))(owner[leaf]):
        _recommend(warn, kind, path, recommended, owner[leaf])


def _release(cfg: KubeadmConfig) -> Any:
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.versions import release_for

    try:
        return release_for(cfg.kubernetes_version or None)
    except (KubeadmError, ValueError):
        return None


def default_kubelet_config(
    cfg: KubeadmConfig,
    *,
    resolv_conf: str | None = None,
    systemd_resolved: bool = False,
    warn: Warn | None = None,
) -> Doc:
    """The KubeletConfiguration kubeadm writes: the user's document over kubeadm's defaults.

    ``resolv_conf`` (or ``systemd_resolved=True`` for the systemd-resolved path): upstream sets
    ``resolvConf: /run/systemd/resolve/resolv.conf`` when systemd-resolved is active on the node;
    without either, ``resolvConf`` is left to the kubelet. Version-dependent behaviour comes from
    :mod:`kubeadm_py.versions`: the ``cgroupDriver`` default (``systemd`` since v1.21, unset for
    v1.20) and kubeadm feature gates forwarded to the kubelet (v1.20: ``IPv6DualStack``)."""
    if systemd_resolved and resolv_conf is None:
        resolv_conf = SYSTEMD_RESOLV_CONF
    rel = _release(cfg)
    kind = "KubeletConfiguration"
    w = _warner(cfg, warn)
    doc: Doc = copy.deepcopy(cfg.kubelet) if cfg.kubelet else {}
    doc["apiVersion"] = KUBELET_API
    doc["kind"] = kind
    net = cfg.cluster.get("networking") or {}
    if doc.get("featureGates") is None:
        doc["featureGates"] = {}
    _setting(doc, "staticPodPath", MANIFESTS_DIR, w, kind)
    dns_ip = cluster_dns_ip(str(net.get("serviceSubnet") or ""))
    if doc.get("clusterDNS") is None:
        doc["clusterDNS"] = [dns_ip]
    elif doc["clusterDNS"] != [dns_ip]:
        _recommend(w, kind, "clusterDNS", [dns_ip], doc["clusterDNS"])
    domain = str(net.get("dnsDomain") or "")
    if not doc.get("clusterDomain"):
        doc["clusterDomain"] = domain
    elif domain and doc["clusterDomain"] != domain:
        _recommend(w, kind, "clusterDomain", domain, doc["clusterDomain"])
    _setting(doc, "authentication.x509.clientCAFile", f"{cfg.cert_dir.rstrip('/')}/ca.crt", w, kind)
    _setting(doc, "authentication.anonymous.enabled", False, w, kind, differs=lambda v: v is True)
    _setting(doc, "authorization.mode", "Webhook", w, kind)
    _setting(doc, "authentication.webhook.enabled", True, w, kind, differs=lambda v: v is False)
    _setting(doc, "healthzBindAddress", KUBELET_HEALTHZ_BIND_ADDRESS, w, kind)
    _setting(doc, "healthzPort", KUBELET_HEALTHZ_PORT, w, kind)
    if doc.get("readOnlyPort", KUBELET_READ_ONLY_PORT) != KUBELET_READ_ONLY_PORT:
        _recommend(w, kind, "readOnlyPort", KUBELET_READ_ONLY_PORT, doc["readOnlyPort"])
    doc["rotateCertificates"] = True
    cgroup_driver = CGROUP_DRIVER_SYSTEMD if rel is None else rel.kubelet_cgroup_driver
    if not doc.get("cgroupDriver") and cgroup_driver:
        doc["cgroupDriver"] = cgroup_driver
    gates = cfg.cluster.get("featureGates") or {}
    for gate in getattr(rel, "forwarded_feature_gates", ()):
        if gate in gates:
            doc["featureGates"][gate] = bool(gates[gate])
    if resolv_conf is not None:
        _setting(doc, "resolvConf", resolv_conf, w, kind)
    # Zero values upstream serialises (the kubelet defaults them).
    _sub(_sub(doc, "authentication"), "webhook").setdefault("cacheTTL", "0s")
    webhook = _sub(_sub(doc, "authorization"), "webhook")
    webhook.setdefault("cacheAuthorizedTTL", "0s")
    webhook.setdefault("cacheUnauthorizedTTL", "0s")
    for key in KUBELET_ZERO_DURATIONS:
        doc.setdefault(key, "0s")
    doc.setdefault("logging", {})
    # and the newer minors' zero-valued fields (kubeadm_py.versioned.ObjectsProfile.kubelet_zero_fields)
    _setdefault_deep(doc, dict(profile_for(cfg.kubernetes_version).kubelet_zero_fields))
    if not doc["featureGates"]:
        del doc["featureGates"]  # an empty map is omitted (omitempty)
    return doc


def _setdefault_deep(doc: Doc, defaults: Doc) -> None:
    for key, value in defaults.items():
        if isinstance(value, dict):
            sub = doc.get(key)
            if sub is None:
                doc[key] = copy.deepcopy(value)
            elif isinstance(sub, dict):
                _setdefault_deep(sub, value)
        else:
            doc.setdefault(key, value)


def kubeproxy_bind_address(advertise_address: str) -> str:
    """``0.0.0.0`` unless the advertise address is IPv6 (then ``::``)."""
    try:
        return "::" if ipaddress.ip_address(advertise_address).version == 6 else "0.0.0.0"
    except ValueError:
        return "0.0.0.0"


def default_kubeproxy_config(cfg: KubeadmConfig, *, warn: Warn | None = None) -> Doc:
    """The KubeProxyConfiguration kubeadm puts in the kube-proxy ConfigMap (``config.conf``)."""
    kind = "KubeProxyConfiguration"
    w = _warner(cfg, warn)
    doc: Doc = copy.deepcopy(cfg.kubeproxy) if cfg.kubeproxy else {}
    doc["apiVersion"] = KUBEPROXY_API
    doc["kind"] = kind
    _setting(doc, "bindAddress", kubeproxy_bind_address(cfg.advertise_address), w, kind)
    pod_subnet = str((cfg.cluster.get("networking") or {}).get("podSubnet") or "")
    if pod_subnet:
        _setting(doc, "clusterCIDR", pod_subnet, w, kind)
    _setting(doc, "clientConnection.kubeconfig", KUBEPROXY_KUBECONFIG, w, kind)
    if not doc.get("featureGates"):
        doc.pop("featureGates", None)
    # the zero-valued fields the minor's kubeproxy.config.k8s.io/v1alpha1 types serialise
    _setdefault_deep(doc, copy.deepcopy(dict(profile_for(cfg.kubernetes_version).kubeproxy_zero_fields)))
    return doc


COMPONENT_DEFAULTERS: dict[str, Callable[[KubeadmConfig], Doc]] = {
    "KubeletConfiguration": default_kubelet_config,
    "KubeProxyConfiguration": default_kubeproxy_config,
}
