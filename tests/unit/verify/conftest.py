"""A healthy one-control-plane cluster for the verify checks, all fakes: the node's files written
by the real ``init`` phases (certs, kubeconfigs, etcd and control-plane manifests) on a temporary
rootfs, the cluster's objects in the in-memory API server (kubeadm-config, Nodes and Leases,
mirror Pods, kube-system workloads, bootstrap token, signed cluster-info, bootstrap RBAC), a fake
etcd, CRI, health endpoints and serving certificates. Each test breaks one thing."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py import api
from kubeadm_py.cluster.bootstraptoken import cluster_info_configmap, cluster_info_rbac, node_rbac
from kubeadm_py.cluster.uploadconfig import kubeadm_config_objects
from kubeadm_py.effectors.bundle import Hooks, build
from kubeadm_py.etcd.client import EndpointStatus, Member
from kubeadm_py.host.cri import CriStatus
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.options import run_options
from kubeadm_py.tokens.jws import compute_detached_signature, signature_key
from kubeadm_py.tokens.model import BootstrapToken, TokenString
from kubeadm_py.verify.env import VerifyEnv
from tests.unit.cluster.fakeapi import FakeAPIServer
from tests.unit.upgrade.conftest import ADVERTISE, INIT_OPTIONS, NODE
from tests.unit.upgrade.conftest import BASE_VERSION as VERSION
from tests.unit.verify.pki import reissue

WORKER = "w-1"
TOKEN = "abcdef.0123456789abcdef"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
NETWORK_MESSAGE = (
    "runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:docker: "
    "network plugin is not ready: cni config uninitialized"
)


UNSCHEDULABLE = {
    "type": "PodScheduled",
    "status": "False",
    "reason": "Unschedulable",
    "message": "0/2 nodes are available: 2 node(s) had taint {node.kubernetes.io/unschedulable: }",
}


class Server(FakeAPIServer):
    """The in-memory API server with /version, /readyz?verbose, Pod logs and exec (``stream``)."""

    def __init__(self) -> None:
        super().__init__()
        self.readyz = (200, b"[+]ping ok\n[+]etcd ok\n[+]poststarthook/rbac ok\nreadyz check passed\n")
        self.logs = (200, b"pause.c v3.9\n")
        self.exec_channels: dict[int, bytes] = {
            1: b"pause.c v3.9\n",
            3: b'{"metadata":{},"status":"Success"}',
        }
        self.run_pods = True  # workload Pods get Running and Ready once created
        self.streams: list[str] = []
        self.handlers.append(self._extra)

    def _extra(self, method: str, path: str) -> tuple[int, bytes] | None:
        if path == "/version":
            return 200, json.dumps({"gitVersion": VERSION}).encode()
        if path == "/api":
            return 200, b'{"kind":"APIVersions","versions":["v1"]}'
        if path.startswith("/readyz"):
            return self.readyz
        if path.endswith("/log?container=hello"):
            return self.logs
        if method == "GET" and "/namespaces/default/pods/" in path and self.run_pods:
            name = path.rsplit("/", 1)[1]
            pod = self.obj("Pod", name, "default")
            if pod is not None:
                pod = json.loads(json.dumps(pod))
                pod["spec"]["nodeName"] = pod["spec"]["nodeSelector"]["kubernetes.io/hostname"]
                pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
                return 200, json.dumps(pod).encode()
        if method == "GET" and "/namespaces/default/pods/" in path:
            pod = self.obj("Pod", path.rsplit("/", 1)[1], "default")
            if pod is not None:
                pod = json.loads(json.dumps(pod))
                pod["status"] = {"phase": "Pending", "conditions": [UNSCHEDULABLE]}
                return 200, json.dumps(pod).encode()
        return None

    def stream(self, path: str, timeout: float = 30.0) -> dict[int, bytes]:
        self.streams.append(path)
        return dict(self.exec_channels)


@dataclass
class FakeEtcd:
    """Members and what each endpoint answers; ``unlisted`` makes listing fail (no quorum)."""

    members_: list[Member]
    status: dict[str, EndpointStatus]
    unlisted: bool = False
    timeout: float = 10.0
    endpoints: list[str] = field(default_factory=list)

    def members(self) -> list[Member]:
        if self.unlisted:
            from kubeadm_py.etcd.client import EtcdError

            raise EtcdError("etcd member list failed: no answer within 5.0s")
        return list(self.members_)

    def endpoint_status(self) -> list[EndpointStatus]:
        return [self.status.get(ep, EndpointStatus(ep, 0, 0, "connection refused")) for ep in self.endpoints]


class FakeRuntime:
    endpoint = "unix:///run/containerd/containerd.sock"

    def __init__(self) -> None:
        self.ready = CriStatus(True, "RuntimeService/Status: RuntimeReady", "status-call")

    def status(self) -> CriStatus:
        return self.ready

    def close(self) -> None:
        return None


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


@dataclass
class World:
    root: Path
    server: Server
    etcd: FakeEtcd
    runtime: FakeRuntime = field(default_factory=FakeRuntime)
    health: dict[str, tuple[bool, str]] = field(default_factory=dict)  # url -> answer (default ok)
    serving: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (host, port) -> DER
    clock: FakeClock = field(default_factory=FakeClock)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    checked_urls: list[str] = field(default_factory=list)

    def connect(self, path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
        return self.server.client()

    def etcd_factory(self, endpoints: list[str], cert_dir: str) -> FakeEtcd:
        self.etcd.endpoints = list(endpoints)
        return self.etcd

    def hooks(self) -> Hooks:
        return Hooks(kubeconfig_client=self.connect, etcd=self.etcd_factory, cri=lambda ep: self.runtime)  # type: ignore[arg-type]

    def http_check(self, url: str) -> tuple[bool, str]:
        self.checked_urls.append(url)
        return self.health.get(url, (True, "HTTP 200 ok"))

    def peer_cert(self, host: str, port: int) -> bytes:
        if (host, port) not in self.serving:
            raise OSError("connection refused")
        return self.serving[(host, port)]

    def env(self, dry_run: bool = False) -> VerifyEnv:
        fs = HostFS(rootfs=str(self.root))
        fx = build(
            fs,
            dry_run=dry_run,
            log=lambda m: None,
            kubeconfig=lambda: "/etc/kubernetes/admin.conf",
            node_name=lambda: "",  # no canned Node in a dry run: verify reads the real ones
            hooks=self.hooks(),
        )
        cfg = api.load_config(kind="init", dynamic_defaults=False)
        return VerifyEnv(
            fs,
            fx,
            cfg,
            run_options({"rootfs": str(self.root)}),
            now=lambda: self.now,
            clock=self.clock,
            http_check=self.http_check,
            peer_cert=self.peer_cert,
        )

    def path(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")

    def pod(self, name: str) -> dict[str, Any]:
        pod = self.server.obj("Pod", name, "kube-system")
        assert pod is not None
        return pod


def _mirror_pod(component: str, node: str, manifest: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{component}-{node}",
            "namespace": "kube-system",
            "labels": {"component": component},
        },
        "spec": {"nodeName": node, "containers": manifest["spec"]["containers"]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": component, "ready": True, "state": {"running": {}}}],
        },
    }


def node_object(
    name: str, address: str, control_plane: bool, ready: dict[str, str] | None = None
) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {
            "conditions": [ready or {"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "addresses": [{"type": "InternalIP", "address": address}],
            "nodeInfo": {"kubeletVersion": VERSION},
        },
    }


def lease(name: str, renewed: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "leaseDurationSeconds": 40},
    }


def _der(pem_path: Path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(pem_path.read_bytes()).public_bytes(serialization.Encoding.DER)


def short_cert(world: World, cert_host_path: str, ca: str, valid_for: timedelta) -> bytes:
    """Re-sign ``cert_host_path`` with the CA ``ca`` (pki base name) to expire ``valid_for`` after
    the world's now; writes it and returns its DER."""
    path = world.path(cert_host_path)
    pki = world.path("/etc/kubernetes/pki")
    pem, der = reissue(
        path.read_bytes(),
        (pki / f"{ca}.crt").read_bytes(),
        (pki / f"{ca}.key").read_bytes(),
        world.now + valid_for,
    )
    path.write_bytes(pem)
    return der


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The upgrade tests' node (``INIT_OPTIONS``: the real init phases' files), with the kubelet as
    after kubelet-finalize: kubelet.conf names the file the kubelet rotates."""
    root = tmp_path_factory.mktemp("verify-node")
    api.run(
        "init",
        phases=["certs", "kubeconfig", "etcd", "control-plane"],
        rootfs=str(root),
        options=INIT_OPTIONS,
    )
    cluster = api.load_config(kind="init", overrides={"cluster.kubernetesVersion": VERSION}).cluster
    conf_path = root / "etc/kubernetes/kubelet.conf"
    conf = yaml.safe_load(conf_path.read_text())
    user = conf["users"][0]["user"]
    pem = base64.b64decode(user.pop("client-certificate-data")) + base64.b64decode(
        user.pop("client-key-data")
    )
    pki = root / "var/lib/kubelet/pki"
    pki.mkdir(parents=True)
    (pki / "kubelet-client-current.pem").write_bytes(pem)
    user["client-certificate"] = user["client-key"] = "/var/lib/kubelet/pki/kubelet-client-current.pem"
    conf_path.write_text(yaml.safe_dump(conf))
    (root / "var/lib/kubelet/config.yaml").write_text(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nrotateCertificates: true\n"
    )
    return root, cluster


@pytest.fixture
def world(node_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> World:
    template, cluster = node_template
    root = tmp_path / "root"
    shutil.copytree(template, root, symlinks=True)
    server = Server()
    now = datetime.now(UTC)  # the certificates were just issued: their dates are real
    for obj in kubeadm_config_objects(cluster):
        server.put(obj)
    server.put(node_object(NODE, ADVERTISE, True))
    server.put(node_object(WORKER, "10.0.0.2", False))
    for n in (NODE, WORKER):
        server.put(lease(n, now - timedelta(seconds=5)))
    for comp in COMPONENTS:
        manifest = yaml.safe_load((root / f"etc/kubernetes/manifests/{comp}.yaml").read_text())
        server.put(_mirror_pod(comp, NODE, manifest))
    server.put(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}},
            "status": {"availableReplicas": 2},
        }
    )
    server.put(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}}},
            "status": {"desiredNumberScheduled": 2, "numberAvailable": 2},
        }
    )
    token = BootstrapToken(token=TokenString.parse(TOKEN), ttl=None, expires=now + timedelta(hours=20))
    server.put(token.to_secret(now))
    content = "apiVersion: v1\nkind: Config\nclusters: []\n"
    info = cluster_info_configmap(content)
    info["data"][signature_key("abcdef")] = compute_detached_signature(content, "abcdef", TOKEN.split(".")[1])
    server.put(info)
    for _, objs in node_rbac(VERSION):
        for o in objs:
            server.put(o)
    for o in cluster_info_rbac():
        server.put(o)
    from kubeadm_py.cluster import adminbinding

    server.put(adminbinding.BINDING)
    url = f"https://{ADVERTISE}:2379"
    etcd = FakeEtcd(
        [Member(1, NODE, [f"https://{ADVERTISE}:2380"], [url], False)], {url: EndpointStatus(url, 1, 1)}
    )
    w = World(root, server, etcd, now=now)
    w.serving[(ADVERTISE, 6443)] = _der(root / "etc/kubernetes/pki/apiserver.crt")
    w.serving[(ADVERTISE, 10250)] = _der(root / "etc/kubernetes/pki/apiserver.crt")
    w.serving[("10.0.0.2", 10250)] = _der(root / "etc/kubernetes/pki/apiserver.crt")
    return w
