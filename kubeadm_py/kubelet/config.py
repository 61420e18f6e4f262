"""``/var/lib/kubelet/config.yaml``: the KubeletConfiguration kubeadm writes on a node
(``componentconfigs/kubelet.go`` defaults + ``phases/kubelet/config.go``).

:func:`cluster_kubelet_config` uses ``kubeadm_py.config.componentconfigs.default_kubelet_config`` when
the config package provides it, else :func:`kubeadm_kubelet_defaults` here: the user's
KubeletConfiguration document with the values kubeadm imposes filled in where the user left them
empty (a differing user value is kept, with a warning, as upstream does; ``rotateCertificates`` is
forced to true). Fields kubeadm does not set are left to the kubelet's own v1beta1 defaults.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

from kubeadm_py.config.types import KUBELET_API, KubeadmConfig
from kubeadm_py.constants import MANIFESTS_DIR
from kubeadm_py.versions import release_for

HEALTHZ_BIND_ADDRESS = "127.0.0.1"
HEALTHZ_PORT = 10248
SYSTEMD_RESOLV_CONF = "/run/systemd/resolve/resolv.conf"


def dns_ip(service_subnet: str) -> str:
    """The 10th address of the first service subnet (constants.GetDNSIP), 10.96.0.10 on error."""
    try:
        net = ipaddress.ip_network(service_subnet.split(",")[0].strip(), strict=False)
        return str(net.network_address + 10)
    except ValueError:
        return "10.96.0.10"


def _set_default(
    doc: dict[str, Any],
    path: str,
    value: Any,
    warn: Callable[[str], None],
    *,
    empty: tuple[Any, ...] = (None, ""),
) -> None:
    keys = path.split(".")
    d = doc
    for k in keys[:-1]:
        d = d.setdefault(k, {})
        if not isinstance(d, dict):
            return
    cur = d.get(keys[-1])
    if cur in empty:
        d[keys[-1]] = value
    elif cur != value:
        warn(
            f'The recommended value for "{path}" in "KubeletConfiguration" is: {value}; '
            f"the provided value is: {cur}"
        )


def kubeadm_kubelet_defaults(
    cfg: KubeadmConfig, *, systemd_resolved: bool = False, warn: Callable[[str], None] | None = None
) -> dict[str, Any]:
    warn = warn or (lambda _m: None)
    rel = release_for(cfg.kubernetes_version)
    doc: dict[str, Any] = copy.deepcopy(cfg.kubelet) if cfg.kubelet else {}
    doc["apiVersion"] = KUBELET_API
    doc["kind"] = "KubeletConfiguration"
    net = cfg.cluster.get("networking") or {}
    _set_default(doc, "staticPodPath", MANIFESTS_DIR, warn)
    dns = dns_ip(str(net.get("serviceSubnet") or "10.96.0.0/12"))
    if not doc.get("clusterDNS"):
        doc["clusterDNS"] = [dns]
    elif doc["clusterDNS"] != [dns]:
        warn(
            f'The recommended value for "clusterDNS" in "KubeletConfiguration" is: [{dns}]; '
            f"the provided value is: {doc['clusterDNS']}"
        )
    _set_default(doc, "clusterDomain", str(net.get("dnsDomain") or "cluster.local"), warn)
    _set_default(doc, "authentication.x509.clientCAFile", f"{cfg.cert_dir.rstrip('/')}/ca.crt", warn)
    _set_default(doc, "authentication.anonymous.enabled", False, warn, empty=(None,))
    _set_default(doc, "authentication.webhook.enabled", True, warn, empty=(None,))
    _set_default(doc, "authorization.mode", "Webhook", warn)
    _set_default(doc, "healthzBindAddress", HEALTHZ_BIND_ADDRESS, warn)
    _set_default(doc, "healthzPort", HEALTHZ_PORT, warn, empty=(None,))
    if doc.get("readOnlyPort") not in (None, 0):
        warn(
            f'The recommended value for "readOnlyPort" in "KubeletConfiguration" is: 0; '
            f"the provided value is: {doc['readOnlyPort']}"
        )
    doc["rotateCertificates"] = True
    if rel.kubelet_cgroup_driver and not doc.get("cgroupDriver"):
        doc["cgroupDriver"] = rel.kubelet_cgroup_driver
    gates = cfg.cluster.get("featureGates") or {}
    for g in rel.forwarded_feature_gates:  # 1.20: IPv6DualStack is also a kubelet feature gate
        if g in gates:
            doc.setdefault("featureGates", {})[g] = bool(gates[g])
    if systemd_resolved:
        _set_default(doc, "resolvConf", SYSTEMD_RESOLV_CONF, warn)
    return doc


def cluster_kubelet_config(
    cfg: KubeadmConfig, *, systemd_resolved: bool = False, warn: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The cluster-wide KubeletConfiguration (what upload-config/kubelet stores and kubelet-start writes)."""
    try:
        from kubeadm_py.config.componentconfigs import default_kubelet_config  # type: ignore[attr-defined]
    except ImportError:
        return kubeadm_kubelet_defaults(cfg, systemd_resolved=systemd_resolved, warn=warn)
    doc = default_kubelet_config(cfg)
    return (
        dict(doc)
        if doc is not None
        else kubeadm_kubelet_defaults(cfg, systemd_resolved=systemd_resolved, warn=warn)
    )


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
