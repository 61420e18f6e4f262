"""Shared helpers for the PKI integration tests (not a test module)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubeconfig.files import ensure_kubeconfig
from kubeadm_py.kubeconfig.specs import KUBECONFIGS
from kubeadm_py.pki import manager

CLUSTER: dict[str, Any] = {
    "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
    "certificatesDir": "/etc/kubernetes/pki",
    "apiServer": {"certSANs": ["extra.example.com"]},
    "etcd": {"local": {"serverCertSANs": [], "peerCertSANs": []}},
    "encryptionAlgorithm": "RSA-2048",
    "certificateValidityPeriod": "8760h0m0s",
    "caCertificateValidityPeriod": "87600h0m0s",
    "controlPlaneEndpoint": "cp.example.com:6443",
    "clusterName": "kubernetes",
    # The facts table's subjects are those of v1.29-v1.36; tests of other minors set their own.
    "kubernetesVersion": "v1.32.10",
}


def make_cfg(alg: str = "RSA-2048", advertise: str = "10.0.0.1") -> KubeadmConfig:
    c = copy.deepcopy(CLUSTER)
    c["encryptionAlgorithm"] = alg
    init = {
        "localAPIEndpoint": {"advertiseAddress": advertise, "bindPort": 6443},
        "nodeRegistration": {"name": "node1"},
    }
    return KubeadmConfig(cluster=c, init=init)


def make_node(root: Path, alg: str = "RSA-2048", kubeconfigs: bool = False) -> KubeadmConfig:
    cfg = make_cfg(alg)
    root.mkdir(parents=True, exist_ok=True)
    fs = HostFS(rootfs=root)
    manager.create_pki(fs, cfg)
    if kubeconfigs:
        for spec in KUBECONFIGS:
            ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes")
    return cfg
