from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.hostfs import HostFS

CLUSTER: dict[str, Any] = {
    "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
    "certificatesDir": "/etc/kubernetes/pki",
    "apiServer": {"certSANs": []},
    "etcd": {"local": {"serverCertSANs": [], "peerCertSANs": []}},
    "encryptionAlgorithm": "RSA-2048",
    "certificateValidityPeriod": "8760h0m0s",
    "caCertificateValidityPeriod": "87600h0m0s",
    "controlPlaneEndpoint": "",
    "clusterName": "kubernetes",
}
INIT: dict[str, Any] = {
    "localAPIEndpoint": {"advertiseAddress": "10.0.0.1", "bindPort": 6443},
    "nodeRegistration": {"name": "node1"},
}


def make_cfg(**cluster: Any) -> KubeadmConfig:
    c = copy.deepcopy(CLUSTER)
    c.update(cluster)
    return KubeadmConfig(cluster=c, init=copy.deepcopy(INIT))


@pytest.fixture
def cfg() -> KubeadmConfig:
    # ECDSA keeps unit tests fast; RSA paths are covered by dedicated tests.
    return make_cfg(encryptionAlgorithm="ECDSA-P256")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.fixture
def fs(root: Path) -> HostFS:
    return HostFS(rootfs=root)


def pki(root: Path) -> Path:
    return root / "etc/kubernetes/pki"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
