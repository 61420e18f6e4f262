"""A small control-plane node on a temporary rootfs (certs, kubeconfigs, etcd and control-plane
manifests written by the real ``init`` phases) with its ``kubeadm-config`` in the in-memory API
server; runs reach that server through the public seam (``Hooks(kubeconfig_client=...)``), and a fake waiter
(``Hooks(waiter=...)``) stands for the kubelet restarting the static Pods."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api
from kubeadm_py.cli.commands import upgrade as upgrade_cli
from kubeadm_py.cluster.uploadconfig import kubeadm_config_objects
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.waiting import Log, Target, Waiter
from kubeadm_py.effectors.watch import Watch
from kubeadm_py.etcd.snapshot import SnapshotFacts
from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.upgrade.waiter import HEALTHY, NEW_POD
from kubeadm_py.workflow.report import Reporter, RunReport
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


class SnapshotEtcd:
    """The etcd effector of an upgrade: records the snapshots it is asked to save (where, from
    which client URLs) and writes a stand-in file there."""

    timeout = 0.0

    def __init__(self) -> None:
        self.saved: list[tuple[list[str], str, Path]] = []

    def for_node(self, endpoints: list[str], cert_dir: str) -> SnapshotEtcd:
        self.endpoints, self.cert_dir = endpoints, cert_dir
        return self

    def save_snapshot(self, dest: Path) -> SnapshotFacts:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(b"snapshot")
        self.saved.append((self.endpoints, self.cert_dir, dest))
        return SnapshotFacts(str(dest), 8, "00" * 32, 4096, 1)


@dataclass
class Node:
    root: Path
    api: VersionedAPIServer
    waiter: Waiter | None = None  # None: the real waiter (a dry run uses its twin anyway)
    etcd: SnapshotEtcd = field(default_factory=SnapshotEtcd)
    services: Any = None  # a Services stand-in (tests.unit.runctx.FakeServices); None: the real one

    def connect(self, path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
        return self.api.client()

    def hooks(self) -> Hooks:
        return Hooks(
            kubeconfig_client=self.connect,  # type: ignore[arg-type]
            waiter=self.waiter,
            etcd=self.etcd.for_node,  # type: ignore[arg-type]
            services=self.services,
        )

    def run(self, workflow: str, reporter: Reporter | None = None, **kw: Any) -> RunReport:
        """``api.run`` on this node's rootfs, against its API server."""
        return api.run(workflow, rootfs=str(self.root), reporter=reporter, hooks=self.hooks(), **kw)

    def open(self, **values: Any) -> tuple[Any, ...]:
        """What ``upgrade plan``/``diff`` read (the CLI's ``open_cluster``) on this node."""
        return upgrade_cli.open_cluster({"rootfs": str(self.root), **values}, print, self.hooks())

    def route_cli(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make the CLI's runs (``api.run``) and plan/diff (``open_cluster``) use this node's hooks."""
        monkeypatch.setattr(api, "run", functools.partial(api.run, hooks=self.hooks()))
        monkeypatch.setattr(
            upgrade_cli, "open_cluster", functools.partial(upgrade_cli.open_cluster, hooks=self.hooks())
        )

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
def node(node_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Node:
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
    return Node(root, server)


class FakeWaiter(Waiter):
    """The run's waiter (``Hooks(waiter=...)``): the static Pods it waits for come back with the new
    manifest and healthy, except the ``broken`` ones (never restarted with the new manifest) and the
    ``never_recovers`` ones (never healthy, even with the previous manifest). Records
    ``(what, component)`` per wait, ``what`` being ``new-pod`` or ``healthy``."""

    def __init__(self, broken: set[str] | None = None, never_recovers: set[str] | None = None) -> None:
        super().__init__()
        self.broken = broken or set()
        self.never_recovers = never_recovers or set()
        self.calls: list[tuple[str, str]] = []

    def wait_all(
        self,
        targets: Sequence[Target],
        timeout: float,
        *,
        interval: float = 1.0,
        log: Log | None = None,
        prefix: str = "",
        watch: Watch | None = None,  # the component watch: not asked, this waiter decides itself
    ) -> dict[str, str]:
        bad: dict[str, str] = {}
        for t in targets:
            component, _, what = t.name.partition("/")
            self.calls.append((what, component))
            if (what == NEW_POD and component in self.broken) or (
                what == HEALTHY and component in self.never_recovers
            ):
                bad[t.name] = f"{component} stays down"
        return bad


@pytest.fixture
def waiter(node: Node) -> FakeWaiter:
    node.waiter = FakeWaiter()
    return node.waiter


class Killed(BaseException):
    """Stands for kill -9 between two file writes (each write is atomic: see tests/unit/crash)."""


def killed_in_wait(monkeypatch: pytest.MonkeyPatch, waiter: FakeWaiter, target: str) -> None:
    """Raise :class:`Killed` from the waiter when a wait includes ``target`` (``<component>/new-pod``
    or ``<component>/healthy``): a kill while the command waits for the kubelet. ``monkeypatch.undo()``
    revives it."""
    real = waiter.wait_all

    def dying(targets: Any, timeout: float, **kw: Any) -> dict[str, str]:
        if any(t.name == target for t in targets):
            raise Killed
        return real(targets, timeout, **kw)

    monkeypatch.setattr(waiter, "wait_all", dying)
