"""Static Pod building blocks (``cmd/kubeadm/app/util/staticpod/utils.go``) and serialization.

Pods are plain dicts in the Kubernetes wire form. :func:`to_yaml` serializes them like kubeadm does
(``sigs.k8s.io/yaml``: JSON field names, map keys sorted, ``status: {}`` from the zero-valued Go
struct and, before v1.34, ``creationTimestamp: null``), so a diff against an upstream manifest is
minimal.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from kubeadm_py import goyaml
from kubeadm_py.errors import ConfigError, KubeadmError
from kubeadm_py.versioned import ObjectsProfile
from kubeadm_py.versions import MinorRelease

Pod = dict[str, Any]

PRIORITY_SYSTEM_NODE_CRITICAL = 2000001000


def component_pod(
    rel: MinorRelease,
    profile: ObjectsProfile,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    annotations: Mapping[str, str] | None,
) -> Pod:
    meta: dict[str, Any] = {
        "labels": {"component": container["name"], "tier": "control-plane"},
        "name": container["name"],
        "namespace": "kube-system",
    }
    if profile.creation_timestamp_null:  # a zero metav1.Time printed as null before omitzero (1.34)
        meta["creationTimestamp"] = None
    if annotations:
        meta["annotations"] = dict(annotations)
    spec: dict[str, Any] = {
        "containers": [_prune(container)],
        "hostNetwork": True,
        "priorityClassName": "system-node-critical",
        "volumes": sorted(volumes, key=lambda v: v["name"]),
    }
    if rel.pod_priority:
        spec["priority"] = PRIORITY_SYSTEM_NODE_CRITICAL
    if rel.seccomp_runtime_default:
        spec["securityContext"] = {"seccompProfile": {"type": "RuntimeDefault"}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {}}


def _prune(container: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional fields as Go's omitempty does (env, probes...), keep ``resources``."""
    return {k: v for k, v in container.items() if v not in (None, [], "") or k == "resources"}


def requests(**res: str) -> dict[str, Any]:
    return {"requests": {k.replace("_", "-"): v for k, v in res.items()}}


def host_path_volume(name: str, path: str, path_type: str | None) -> dict[str, Any]:
    hp: dict[str, Any] = {"path": path}
    if path_type is not None:  # extraVolumes without pathType serialize as type: "" (a non-nil *HostPathType)
        hp["type"] = path_type
    return {"hostPath": hp, "name": name}


def volume_mount(name: str, mount_path: str, read_only: bool) -> dict[str, Any]:
    m: dict[str, Any] = {"mountPath": mount_path, "name": name}
    if read_only:
        m["readOnly"] = True
    return m


def _probe(
    host: str, path: str, port: int | str, scheme: str, initial: int, timeout: int, failure: int, period: int
) -> dict[str, Any]:
    get: dict[str, Any] = {"path": path, "port": port, "scheme": scheme}
    if host:
        get["host"] = host
    probe = {
        "failureThreshold": failure,
        "httpGet": get,
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "timeoutSeconds": timeout,
    }
    return {k: v for k, v in probe.items() if v != 0}  # Go's omitempty drops zero integers


def liveness_probe(host: str, path: str, port: int | str, scheme: str) -> dict[str, Any]:
    return _probe(host, path, port, scheme, 10, 15, 8, 10)


def readiness_probe(host: str, path: str, port: int | str, scheme: str) -> dict[str, Any]:
    return _probe(host, path, port, scheme, 0, 15, 3, 1)


def startup_probe(
    host: str, path: str, port: int | str, scheme: str, timeout_seconds: float
) -> dict[str, Any]:
    failure = int(math.ceil(timeout_seconds / 10))
    return _probe(host, path, port, scheme, 10, 15, failure, 10)


PROBE_PORT_NAME = "probe-port"


def add_probes(
    container: dict[str, Any],
    profile: ObjectsProfile,
    endpoint: tuple[str, int, str],
    paths: tuple[str, str, str],
    timeout_seconds: float,
) -> None:
    """The liveness, readiness (when its path is set) and startup probes of a static Pod container
    on ``endpoint`` (host, port, scheme); ``paths``: (liveness, readiness or "", startup). With the
    profile's ``named_probe_port`` the probes use the container port "probe-port" (kubeadm 1.34+)."""
    host, port, scheme = endpoint
    target: int | str = port
    if profile.named_probe_port:
        target = PROBE_PORT_NAME
        container["ports"] = [{"containerPort": port, "name": PROBE_PORT_NAME, "protocol": "TCP"}]
    live, ready, startup = paths
    container["livenessProbe"] = liveness_probe(host, live, target, scheme)
    if ready:
        container["readinessProbe"] = readiness_probe(host, ready, target, scheme)
    container["startupProbe"] = startup_probe(host, startup, target, scheme, timeout_seconds)


def probe_address(addr: str | None) -> str:
    """getProbeAddress: an unspecified bind address means "the Pod IP" (empty host)."""
    if addr in ("0.0.0.0", "::"):
        return ""
    return addr or "127.0.0.1"


def is_ipv6(addr: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(addr), ipaddress.IPv6Address)
    except ValueError:
        return False


def join_host_port(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# --- environment -----------------------------------------------------------------------------------


def proxy_env(environ: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Every non-empty ``*_proxy`` variable (any case) of kubeadm's own environment."""
    env = os.environ if environ is None else environ
    return [{"name": k, "value": v} for k, v in env.items() if k.lower().endswith("_proxy") and v]


def merge_env(*lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MergeKubeadmEnvVars: later lists win by name; result sorted by name."""
    merged: dict[str, dict[str, Any]] = {}
    for lst in lists:
        for e in lst:
            merged[e["name"]] = {k: v for k, v in e.items() if v is not None}
    return [merged[k] for k in sorted(merged)]


def named_entries(items: Any, field: str, listing: str, entry: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a user list (``extraEnvs``, ``extraVolumes``) with their field paths, each
    checked, as it comes, to be a mapping with a non-empty ``name``; nothing when unset."""
    if not items:
        return
    if not isinstance(items, list):
        raise ConfigError(f"must be a list of {listing}", field=field)
    for i, e in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(e, dict) or not e.get("name"):
            raise ConfigError(f"each {entry} needs a non-empty 'name'", field=where)
        yield where, e


def env_from_config(items: Any, field: str) -> list[dict[str, Any]]:
    return [dict(e) for _, e in named_entries(items, field, "{name, value} environment variables", "entry")]


# --- serialization ---------------------------------------------------------------------------------


def to_yaml(obj: Any) -> str:
    return goyaml.dump(obj)


def from_yaml(text: str | bytes, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise KubeadmError(f"{source}: invalid YAML: {e}") from None


def container_command(pod: Mapping[str, Any]) -> list[str]:
    try:
        return list(pod["spec"]["containers"][0].get("command") or [])
    except (KeyError, IndexError, TypeError):
        return []
