"""The local etcd static Pod (``phases/etcd/local.go``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import ETCD_CLIENT_PORT, ETCD_DATA_DIR, ETCD_METRICS_PORT, ETCD_PEER_PORT
from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.args import Arg, arguments_to_command, get_arg, set_arg
from kubeadm_py.manifests.controlplane import BuildResult, extra_args, unknown_arg_warnings
from kubeadm_py.manifests.images import etcd_image
from kubeadm_py.manifests.pod import (
    Pod,
    add_probes,
    component_pod,
    env_from_config,
    host_path_volume,
    is_ipv6,
    join_host_port,
    merge_env,
    requests,
    volume_mount,
)
from kubeadm_py.versioned import profile_for
from kubeadm_py.versions import MinorRelease, release_for

ANNOTATION_CLIENT_URLS = "kubeadm.kubernetes.io/etcd.advertise-client-urls"


def client_url(advertise: str) -> str:
    return f"https://{join_host_port(advertise, ETCD_CLIENT_PORT)}"


def peer_url(advertise: str) -> str:
    return f"https://{join_host_port(advertise, ETCD_PEER_PORT)}"


def etcd_data_dir(cfg: KubeadmConfig) -> str:
    local = (cfg.cluster.get("etcd") or {}).get("local") or {}
    return str(local.get("dataDir") or ETCD_DATA_DIR)


def etcd_command(
    rel: MinorRelease, cfg: KubeadmConfig, initial_cluster: Sequence[tuple[str, str]] = ()
) -> list[str]:
    adv = cfg.advertise_address
    node = cfg.node_name
    cd = cfg.cert_dir.rstrip("/")
    local_ip = "::1" if is_ipv6(adv) else "127.0.0.1"
    args: list[Arg] = [
        ("name", node),
        ("listen-client-urls", f"https://{join_host_port(local_ip, ETCD_CLIENT_PORT)},{client_url(adv)}"),
        ("advertise-client-urls", client_url(adv)),
        ("listen-peer-urls", peer_url(adv)),
        ("initial-advertise-peer-urls", peer_url(adv)),
        ("data-dir", etcd_data_dir(cfg)),
        ("cert-file", f"{cd}/etcd/server.crt"),
        ("key-file", f"{cd}/etcd/server.key"),
        ("trusted-ca-file", f"{cd}/etcd/ca.crt"),
        ("client-cert-auth", "true"),
        ("peer-cert-file", f"{cd}/etcd/peer.crt"),
        ("peer-key-file", f"{cd}/etcd/peer.key"),
        ("peer-trusted-ca-file", f"{cd}/etcd/ca.crt"),
        ("peer-client-cert-auth", "true"),
        ("snapshot-count", "10000"),
        ("listen-metrics-urls", f"http://{join_host_port(local_ip, ETCD_METRICS_PORT)}"),
        *rel.component_flags.get("etcd", ()),
    ]
    if not initial_cluster:
        set_arg(args, "initial-cluster", f"{node}={peer_url(adv)}")
    else:
        set_arg(args, "initial-cluster", ",".join(f"{n}={u}" for n, u in initial_cluster))
        set_arg(args, "initial-cluster-state", "existing")
    return ["etcd", *arguments_to_command(args, extra_args(cfg.cluster, "etcd"))]


def etcd_probe_endpoint(cfg: KubeadmConfig) -> tuple[str, int, str]:
    """GetEtcdProbeEndpoint: first URL of a listen-metrics-urls extraArg, else localhost:2381 over HTTP."""
    localhost = "::1" if is_ipv6(cfg.advertise_address) else "127.0.0.1"
    val = get_arg(extra_args(cfg.cluster, "etcd"), "listen-metrics-urls")
    if val is None:
        return localhost, ETCD_METRICS_PORT, "HTTP"
    try:
        u = urlsplit(val.split(",")[0])
        port = u.port or ETCD_METRICS_PORT
    except ValueError:
        return localhost, ETCD_METRICS_PORT, "HTTP"
    return u.hostname or localhost, port, "HTTPS" if u.scheme == "https" else "HTTP"


def build_etcd(cfg: KubeadmConfig, initial_cluster: Sequence[tuple[str, str]] = ()) -> BuildResult:
    etcd = cfg.cluster.get("etcd") or {}
    if etcd.get("external"):
        raise KubeadmError(
            "etcd static pod manifest cannot be generated for cluster using external etcd",
            hint="remove etcd.external from the ClusterConfiguration or skip the etcd phase",
        )
    if not cfg.node_name:
        raise KubeadmError("the etcd manifest needs a node name (nodeRegistration.name or --node-name)")
    if not cfg.advertise_address:
        raise KubeadmError(
            "the etcd manifest needs the API server advertise address "
            "(localAPIEndpoint.advertiseAddress or --apiserver-advertise-address)"
        )
    rel = release_for(cfg.kubernetes_version)
    data_dir = etcd_data_dir(cfg)
    certs = cfg.cert_dir.rstrip("/") + "/etcd"
    profile = profile_for(cfg.kubernetes_version)
    timeout = cfg.timeout("controlPlaneComponentHealthCheck")
    container: dict[str, Any] = {
        "command": etcd_command(rel, cfg, initial_cluster),
        "image": etcd_image(cfg),
        "imagePullPolicy": "IfNotPresent",
        "name": "etcd",
        "resources": requests(**dict(rel.etcd_requests)),
        "volumeMounts": [
            volume_mount("etcd-data", data_dir, False),
            volume_mount("etcd-certs", certs, False),
        ],
    }
    add_probes(container, profile, etcd_probe_endpoint(cfg), profile.etcd_probe_paths, timeout)
    local = etcd.get("local") or {}
    extra_env = env_from_config(local.get("extraEnvs"), "ClusterConfiguration.etcd.local.extraEnvs")
    container["env"] = merge_env(extra_env) if (rel.etcd_env or extra_env) else []
    volumes = [
        host_path_volume("etcd-certs", certs, "DirectoryOrCreate"),
        host_path_volume("etcd-data", data_dir, "DirectoryOrCreate"),
    ]
    pod = component_pod(
        rel, profile, container, volumes, {ANNOTATION_CLIENT_URLS: client_url(cfg.advertise_address)}
    )
    warnings = unknown_arg_warnings("etcd", extra_args(cfg.cluster, "etcd"), rel.minor)
    return BuildResult({"etcd": pod}, warnings)


def pod_client_urls(pod: Pod) -> str | None:
    return ((pod.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CLIENT_URLS)


# --- reading a node's etcd manifest (reset, snapshot restore) ----------------------------------

DATA_VOLUME = "etcd-data"


@dataclass(frozen=True)
class LocalEtcd:
    """What the node's etcd manifest says about its member."""

    name: str
    peer_url: str
    client_urls: list[str]
    data_dir: str


def _flags(command: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in command:
        w = str(word)
        if w.startswith("--"):
            key, _, value = w[2:].partition("=")
            out.setdefault(key, value)
    return out


def read_local_etcd(text: str, path: str) -> LocalEtcd:
    """Parse the etcd static Pod manifest text: member name, peer URL, client URLs (the
    ``kubeadm.kubernetes.io/etcd.advertise-client-urls`` annotation or ``--advertise-client-urls``)
    and data directory (the ``etcd-data`` hostPath volume or ``--data-dir``)."""
    from kubeadm_py.manifests.pod import from_yaml

    pod = from_yaml(text, path)
    if not isinstance(pod, dict):
        raise KubeadmError(f"{path}: not a Pod manifest")
    spec = pod.get("spec") or {}
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    etcd = next((c for c in containers if c.get("name") == "etcd"), containers[0] if containers else None)
    if etcd is None:
        raise KubeadmError(f"{path}: invalid etcd pod manifest (no container)")
    flags = _flags([*(etcd.get("command") or []), *(etcd.get("args") or [])])
    data_dir = ""
    for vol in spec.get("volumes") or []:
        if isinstance(vol, dict) and vol.get("name") == DATA_VOLUME:
            data_dir = str((vol.get("hostPath") or {}).get("path") or "")
    data_dir = data_dir or flags.get("data-dir") or ETCD_DATA_DIR
    peer = (flags.get("initial-advertise-peer-urls") or "").split(",")[0].strip()
    if not peer:
        raise KubeadmError(f"{path}: the etcd command has no --initial-advertise-peer-urls")
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    clients = str(annotations.get(ANNOTATION_CLIENT_URLS) or flags.get("advertise-client-urls") or "")
    client_urls = [u.strip() for u in clients.split(",") if u.strip()]
    if not client_urls:
        raise KubeadmError(f"{path}: no etcd client URL (--advertise-client-urls)")
    return LocalEtcd(flags.get("name", ""), peer, client_urls, data_dir)
