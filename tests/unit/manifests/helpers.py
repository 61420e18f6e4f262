"""Hand-built configurations (v1beta4 dict form) for the manifest tests."""

from __future__ import annotations

import copy
from typing import Any

from kubeadm_py.config.types import KubeadmConfig


def make_cfg(
    version: str = "v1.32.10",
    cluster: dict[str, Any] | None = None,
    init: dict[str, Any] | None = None,  # noqa: E501
    kubelet: dict[str, Any] | None = None,
) -> KubeadmConfig:
    c: dict[str, Any] = {
        "kubernetesVersion": version,
        "imageRepository": "registry.k8s.io",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": "kubernetes",
        "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "apiServer": {},
        "controllerManager": {},
        "scheduler": {},
    }
    i: dict[str, Any] = {
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443},
        "nodeRegistration": {"name": "node1", "criSocket": "unix:///run/containerd/containerd.sock"},
        "timeouts": {"controlPlaneComponentHealthCheck": "4m0s", "kubeletHealthCheck": "4m0s"},
    }
    _merge(c, cluster or {})
    _merge(i, init or {})
    return KubeadmConfig(cluster=c, init=i, kubelet=copy.deepcopy(kubelet))


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


def flags(pod: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in pod["spec"]["containers"][0]["command"][1:]:
        n, _, v = w[2:].partition("=")
        out.setdefault(n, []).append(v)
    return out
