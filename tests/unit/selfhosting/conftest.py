"""A control-plane node on a temporary rootfs (certificates, kubeconfigs, etcd and control-plane
manifests written by the real ``init`` phases), its API server in memory, and a waiter that plays
the DaemonSet controller and the kubelet (``Hooks(waiter=...)``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.waiting import Log, Target, Waiter
from kubeadm_py.effectors.watch import Watch
from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.workflow.report import RunReport
from tests.unit.cluster.fakeapi import FakeAPIServer

NODE = "cp-1"
INIT_OPTIONS = {
    "apiserver-advertise-address": "10.0.0.1",
    "kubernetes-version": "v1.20.2",
    "node-name": NODE,
    "cri-socket": "unix:///run/containerd/containerd.sock",
}


class KubeletWaiter(Waiter):
    """Waits as if a DaemonSet controller and a kubelet ran: ``<component>/scheduled`` puts the
    DaemonSet's Pod on the node, ``<component>/self-hosted`` makes it Ready, except for the
    ``broken`` components (their Pod never gets healthy). ``<component>/static`` (a rollback's wait
    for the static Pod) is healthy. Records ``(kind, component)`` per wait. ``polls``: called with
    each target first, to run its check as the real wait would."""

    def __init__(
        self,
        server: FakeAPIServer,
        broken: set[str] | None = None,
        polls: Callable[[Target], None] | None = None,
    ) -> None:
        super().__init__()
        self.server = server
        self.broken = broken or set()
        self.calls: list[tuple[str, str]] = []
        self.polls = polls

    def wait_all(
        self,
        targets: Sequence[Target],
        timeout: float,
        *,
        interval: float = 1.0,
        log: Log | None = None,
        prefix: str = "",
        watch: Watch | None = None,
    ) -> dict[str, str]:
        bad = {}
        for t in targets:
            if self.polls is not None:
                self.polls(t)
            component, _, kind = t.name.partition("/")
            self.calls.append((kind, component))
            if kind == "scheduled":
                self.server.put(ds_pod(component, ready=False))
            elif kind == "self-hosted":
                if component in self.broken:
                    bad[t.name] = "CrashLoopBackOff"
                else:
                    self.server.put(ds_pod(component, ready=True))
        return bad


def ds_pod(component: str, *, ready: bool) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"self-hosted-{component}-x1x2x",
            "namespace": "kube-system",
            "labels": {"k8s-app": f"self-hosted-{component}", "tier": "control-plane"},
        },
        "spec": {"nodeName": NODE},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": component, "ready": ready, "state": {"running": {}}}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


@dataclass
class Node:
    root: Path
    server: FakeAPIServer
    waiter: KubeletWaiter
    logs: list[str] = field(default_factory=list)

    def connect(self, path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
        return self.server.client()

    def run(
        self, workflow: str = "selfhosting-pivot", services: Any = None, cri: Any = None, **kw: Any
    ) -> RunReport:
        from tests.unit.runctx import Logs

        reporter = Logs()
        reporter.lines = self.logs
        hooks = Hooks(kubeconfig_client=self.connect, waiter=self.waiter, services=services, cri=cri)
        return api.run(workflow, rootfs=str(self.root), reporter=reporter, hooks=hooks, **kw)

    def path(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")

    def labels(self) -> dict[str, str]:
        node = self.server.obj("Node", NODE)
        assert node is not None
        return dict(node["metadata"].get("labels") or {})


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("selfhosting-node")
    api.run(
        "init",
        phases=["certs", "kubeconfig", "etcd", "control-plane"],
        rootfs=str(root),
        options=INIT_OPTIONS,
    )
    return root


def make_node(template: Path, root: Path, broken: set[str] | None = None) -> Node:
    shutil.copytree(template, root, symlinks=True)
    server = FakeAPIServer()
    server.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE, "labels": {}}})
    return Node(root, server, KubeletWaiter(server, broken))


@pytest.fixture
def node(node_template: Path, tmp_path: Path) -> Node:
    return make_node(node_template, tmp_path / "root")
