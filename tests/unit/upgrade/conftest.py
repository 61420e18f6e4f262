"""A small control-plane node on a temporary rootfs (certs, kubeconfigs, etcd and control-plane
manifests written by the real ``init`` phases) with its ``kubeadm-config`` in the in-memory API
server; ``kubeadm_py.api`` is pointed at that server."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api
from kubeadm_py.cluster.uploadconfig import kubeadm_config_objects
from tests.unit.cluster.fakeapi import FakeAPIServer

NODE = "cp-1"
ADVERTISE = "10.0.0.1"
BASE_VERSION = "v1.30.14"
INIT_OPTIONS = {
    "apiserver-advertise-address": ADVERTISE,
    "kubernetes-version": BASE_VERSION,
    "node-name": NODE,
    "cri-socket": "unix:///run/containerd/containerd.sock",
}


class VersionedAPIServer(FakeAPIServer):
    """The in-memory server answering /version with ``git_version``."""

    def __init__(self, git_version: str) -> None:
        super().__init__()
        self.git_version = git_version

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        if path == "/version" and not self.down:
            self.requests.append((method, path))
            return 200, json.dumps({"gitVersion": self.git_version}).encode()
        return super().send(method, path, body, headers)


@dataclass
class Node:
    root: Path
    api: VersionedAPIServer

    def path(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")

    def manifest(self, component: str) -> str:
        return self.path(f"/etc/kubernetes/manifests/{component}.yaml").read_text()

    def stored_cluster(self) -> str:
        cm = self.api.obj("ConfigMap", "kubeadm-config", "kube-system")
        assert cm is not None
        return str(cm["data"]["ClusterConfiguration"])


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("upgrade-node")
    api.run(
        "init",
        phases=["certs", "kubeconfig", "etcd", "control-plane"],
        rootfs=str(root),
        options=INIT_OPTIONS,
    )
    cluster = api.load_config(kind="init", overrides={"cluster.kubernetesVersion": BASE_VERSION}).cluster
    return root, cluster


@pytest.fixture
def node(node_template: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Node:
    template, cluster = node_template
    root = tmp_path / "root"
    shutil.copytree(template, root, symlinks=True)
    server = VersionedAPIServer(BASE_VERSION)
    for obj in kubeadm_config_objects(cluster):
        server.put(obj)
    server.put(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": NODE},
            "status": {"nodeInfo": {"kubeletVersion": BASE_VERSION}},
        }
    )
    monkeypatch.setattr(api, "_kube_factory", lambda ctx: server.client())
    return Node(root, server)


class FakeWaiter:
    """A waiter whose components become healthy, or never do (``broken``)."""

    def __init__(self, broken: set[str] | None = None, never_recovers: set[str] | None = None) -> None:
        self.broken = broken or set()
        self.never_recovers = never_recovers or set()
        self.calls: list[tuple[str, str]] = []

    def config_hash(self, component: str) -> str | None:
        return f"hash-{component}"

    def wait_for_new_pod(self, component: str, old_hash: str | None, timeout: float) -> None:
        from kubeadm_py.upgrade.staticpods import WaitError

        self.calls.append(("new-pod", component))
        if component in self.broken:
            raise WaitError(
                f"the kubelet did not restart {component} with the new manifest within {timeout:.0f}s"
            )

    def wait_healthy(self, component: str, manifest: bytes, timeout: float) -> None:
        from kubeadm_py.upgrade.staticpods import WaitError

        self.calls.append(("healthy", component))
        if component in self.never_recovers:
            raise WaitError(f"{component} is not healthy")


@pytest.fixture
def waiter(monkeypatch: pytest.MonkeyPatch) -> FakeWaiter:
    w = FakeWaiter()
    monkeypatch.setattr("kubeadm_py.phases.upgrade.control_plane.make_waiter", lambda ctx: w)
    return w
