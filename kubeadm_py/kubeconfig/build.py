"""API server endpoints and kubeconfig documents (client-go ``clientcmd.Write`` layout: keys in
alphabetical order, base64 ``*-data`` fields, context ``<user>@<cluster>`` as current-context)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import ConfigError
from kubeadm_py.kubeconfig.specs import CONTROL_PLANE, KUBELET, LOCAL
from kubeadm_py.pki import sans

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9._:/@\[\]+=-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _host(h: str) -> str:
    return f"[{h}]" if ":" in h else h


def local_endpoint(cfg: KubeadmConfig) -> str:
    adv = cfg.advertise_address
    if sans.parse_ip(adv) is None:
        raise ConfigError(f"{adv!r} is not a valid IP address", field="localAPIEndpoint.advertiseAddress")
    port = cfg.bind_port
    if not 0 < port < 65536:
        raise ConfigError(f"invalid port {port}", field="localAPIEndpoint.bindPort")
    return f"https://{_host(str(sans.parse_ip(adv)))}:{port}"


def control_plane_endpoint(cfg: KubeadmConfig) -> str:
    cpe = cfg.cluster.get("controlPlaneEndpoint") or ""
    if not cpe:
        return local_endpoint(cfg)
    host, port = sans.split_host_port(cpe)
    return f"https://{_host(host)}:{port or cfg.bind_port}"


LOCAL_MODE_GATE = "ControlPlaneKubeletLocalMode"


def kubelet_local_mode(cfg: KubeadmConfig) -> bool:
    """Whether kubelet.conf of this control-plane node points at its own API server: the
    ControlPlaneKubeletLocalMode feature gate when the configuration sets it (alpha in v1.31,
    upstream PR #125780 makes init honour it), else the minor's default
    (``ObjectsProfile.kubelet_conf_local``: on from v1.33)."""
    from kubeadm_py.versioned import profile_for

    gates = cfg.cluster.get("featureGates") or {}
    if isinstance(gates, dict) and LOCAL_MODE_GATE in gates:
        return bool(gates[LOCAL_MODE_GATE])
    return profile_for(cfg.kubernetes_version).kubelet_conf_local


def endpoint(cfg: KubeadmConfig, kind: str) -> str:
    if kind == KUBELET:
        kind = LOCAL if kubelet_local_mode(cfg) else CONTROL_PLANE
    return control_plane_endpoint(cfg) if kind == CONTROL_PLANE else local_endpoint(cfg)


def cluster_name(cfg: KubeadmConfig) -> str:
    return str(cfg.cluster.get("clusterName") or "kubernetes")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def document(
    server: str, cluster: str, user: str, ca_pem: bytes, auth: dict[str, str], *, preferences: bool
) -> dict[str, Any]:
    """``auth``: {"client-certificate-data", "client-key-data"} (base64) or {"token"};
    ``preferences``: the ``preferences: {}`` client-go writes before v1.34."""
    ctx = f"{user}@{cluster}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "clusters": [
            {"cluster": {"certificate-authority-data": b64(ca_pem), "server": server}, "name": cluster}
        ],
        "contexts": [{"context": {"cluster": cluster, "user": user}, "name": ctx}],
        "current-context": ctx,
        "kind": "Config",
        "users": [{"name": user, "user": dict(sorted(auth.items()))}],
    }
    if preferences:
        doc["preferences"] = {}
    return doc


def config_document(
    cfg: KubeadmConfig, server: str, user: str, ca_pem: bytes, auth: dict[str, str]
) -> dict[str, Any]:
    """:func:`document` for ``user`` on ``cfg``'s cluster, as ``cfg``'s minor writes it."""
    return document(server, cluster_name(cfg), user, ca_pem, auth, preferences=kubeconfig_preferences(cfg))


def kubeconfig_preferences(cfg: KubeadmConfig) -> bool:
    """Whether kubeconfigs carry ``preferences: {}`` (client-go before v1.34, PR #131741)."""
    from kubeadm_py.versioned import profile_for

    return profile_for(cfg.kubernetes_version).kubeconfig_preferences


def _scalar(v: Any) -> str:
    if isinstance(v, dict) and not v:
        return "{}"
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED and not re.fullmatch(r"[-+]?[0-9.eE_x]+", s):
        return s
    return json.dumps(s)


def dump(doc: dict[str, Any]) -> str:
    """A small YAML emitter for kubeconfig documents (maps of scalars and lists of maps), so that
    writing a kubeconfig does not need a YAML library. Keys are emitted sorted, as clientcmd does."""
    lines: list[str] = []

    def emit_map(m: dict[str, Any], indent: int, first_prefix: str | None = None) -> None:
        for i, k in enumerate(sorted(m)):
            pad = first_prefix if (i == 0 and first_prefix is not None) else " " * indent
            v = m[k]
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{k}:")
                emit_map(v, indent + 2)
            elif isinstance(v, list):
                lines.append(f"{pad}{k}:")
                for item in v:
                    emit_map(item, indent + 2, " " * indent + "- ")
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")

    emit_map(doc, 0)
    return "\n".join(lines) + "\n"


def current(doc: dict[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cluster and user entries of the current context (as clientcmd resolves them)."""
    from kubeadm_py.errors import KubeadmError

    if not isinstance(doc, dict):
        raise KubeadmError(f"{source}: not a kubeconfig document")
    name = doc.get("current-context")
    ctxs = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or [] if isinstance(c, dict)}
    if name not in ctxs:
        raise KubeadmError(f"failed to find CurrentContext in Contexts of the kubeconfig file {source}")
    ctx = ctxs[name]
    clusters = {
        c.get("name"): c.get("cluster") or {} for c in doc.get("clusters") or [] if isinstance(c, dict)
    }
    users = {u.get("name"): u.get("user") or {} for u in doc.get("users") or [] if isinstance(u, dict)}
    if ctx.get("cluster") not in clusters:
        raise KubeadmError(
            f"failed to find the given CurrentContext Cluster in Clusters of the kubeconfig file {source}"
        )
    return clusters[ctx.get("cluster")], users.get(ctx.get("user"), {})
