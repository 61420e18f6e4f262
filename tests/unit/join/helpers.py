"""A joining node against an in-memory cluster: a context built the way ``kubeadm-py join`` builds
it, with the effectors an embedding program can replace (``api.Hooks``) replaced by fakes: the
discovery fetcher, the API clients (bootstrap token and kubeconfig files), the service manager (a
kubelet that completes its TLS bootstrap when started), the etcd client factory and the waiter."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from kubeadm_py import api
from kubeadm_py.changes import Change
from kubeadm_py.cluster.uploadconfig import cluster_configuration_yaml, kubeadm_config_objects
from kubeadm_py.config.resolve import build_config
from kubeadm_py.effectors.api import KubeconfigFactory
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.etcd import EtcdFactory
from kubeadm_py.effectors.waiting import Waiter
from kubeadm_py.hostfs import CONFIG_MODE, HostFS
from kubeadm_py.phases.join.state import JoinContext
from kubeadm_py.versioned import kubelet_config_name
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.report import NullReporter
from kubeadm_py.workflows import join as join_wf
from tests.unit.cluster.fakeapi import FakeAPIServer

from .conftest import ENDPOINT, TOKEN, FakeFetcher, cluster_info, cluster_info_kubeconfig, make_ca, pin

KUBELET_DOC = {
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "cgroupDriver": "cgroupfs",
    "clusterDNS": ["10.96.0.10"],
    "clusterDomain": "cluster.local",
    "rotateCertificates": True,
    "staticPodPath": "/etc/kubernetes/manifests",
}


class Cluster:
    """The control plane side: CA, cluster-info, kubeadm-config, kubelet-config, kubeadm-certs.
    ``healthz_port``: the kubelets' health port in the cluster's KubeletConfiguration."""

    def __init__(
        self,
        version: str = "v1.20.2",
        control_plane_endpoint: str = "cp.example:6443",
        healthz_port: int | None = None,
    ) -> None:
        self.ca_pem, self.ca_key = make_ca()
        self.api = FakeAPIServer()
        self.version = version
        overrides = {"cluster.kubernetesVersion": version}
        if control_plane_endpoint:
            overrides["cluster.controlPlaneEndpoint"] = control_plane_endpoint
        self.cluster_cfg = build_config("init", None, overrides, dynamic_defaults=False).cluster
        for obj in kubeadm_config_objects(self.cluster_cfg):
            self.api.put(obj)
        import yaml

        kubelet_doc = dict(KUBELET_DOC, **({"healthzPort": healthz_port} if healthz_port else {}))
        self.api.put(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": kubelet_config_name(version), "namespace": "kube-system"},
                "data": {"kubelet": yaml.safe_dump(kubelet_doc)},
            }
        )
        self.fetcher = FakeFetcher(self.ca_pem, [cluster_info(cluster_info_kubeconfig(self.ca_pem))])

    def cluster_config_yaml(self) -> str:
        return cluster_configuration_yaml(self.cluster_cfg)


class Logs(NullReporter):
    """The run's messages (phases and effector twins alike) into a list."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def message(self, text: str) -> None:
        self.lines.append(text)


class FakeKubelet:
    """The service manager of a node whose kubelet completes its TLS bootstrap when (re)started: it
    writes kubelet.conf and registers its Node (``bootstraps=False``: it never does)."""

    def __init__(
        self, root: Path, cluster: Cluster, node_name: str = "node-b", bootstraps: bool = True
    ) -> None:
        self.fs = HostFS(rootfs=root)
        self.cluster = cluster
        self.node_name = node_name
        self.bootstraps = bootstraps
        self.calls: list[str] = []

    def manager(self) -> str:
        return "systemd"

    def exists(self, unit: str) -> bool:
        return unit == "kubelet"

    def is_active(self, unit: str) -> bool:
        return "restart" in self.calls

    def restart(self, unit: str) -> Change:
        self.calls.append("restart")
        if self.bootstraps:
            self.fs.write("/etc/kubernetes/kubelet.conf", b"kind: Config\n", CONFIG_MODE)
            self.cluster.api.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node_name}})
        return Change("process", "run", f"systemctl restart {unit}", f"{unit} restarted")

    def stop(self, unit: str) -> Change:
        self.calls.append("stop")
        return Change("process", "run", f"systemctl stop {unit}", f"{unit} stopped")


@contextmanager
def kubelet_healthz() -> Iterator[int]:
    """A kubelet /healthz endpoint on 127.0.0.1; yields its port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = b"ok" if self.path == "/healthz" else b"not found"
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def write_admin_conf(root: Path) -> None:
    """admin.conf on the node (control-plane-prepare writes it); Hooks.kubeconfig_client serves it."""
    HostFS(rootfs=root).write("/etc/kubernetes/admin.conf", b"kind: Config\n", CONFIG_MODE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hooks_for(
    root: Path,
    cluster: Cluster,
    *,
    waiter: Waiter | None = None,
    etcd: EtcdFactory | None = None,
    kubelet: FakeKubelet | None = None,
    kubeconfig_client: KubeconfigFactory | None = None,
) -> Hooks:
    """The effectors of a node joining ``cluster``, replaced as an embedding program would."""
    return Hooks(
        discovery_fetcher=cluster.fetcher,
        bootstrap=lambda server, ca, token: cluster.api.client(),
        kubeconfig_client=kubeconfig_client or (lambda path, shown, retry: cluster.api.client()),
        services=kubelet or FakeKubelet(root, cluster),
        etcd=etcd,
        # a safety cap: no unit test waits long, a failing wait fails fast
        waiter=waiter or Waiter(max_timeout=10.0, max_interval=0.05),
    )


def join_context(
    root: Path,
    cluster: Cluster,
    logs: list[str],
    *,
    waiter: Waiter | None = None,
    etcd: EtcdFactory | None = None,
    kubelet: FakeKubelet | None = None,
    kubeconfig_client: KubeconfigFactory | None = None,
    **options: Any,
) -> JoinContext:
    opts: dict[str, Any] = {
        "rootfs": str(root),
        "api_server_endpoint": [ENDPOINT],
        "token": TOKEN,
        "discovery-token-ca-cert-hash": [pin(cluster.ca_pem)],
        "node-name": "node-b",
        "cri-socket": "unix:///run/containerd/containerd.sock",
    }
    opts.update(options)
    hooks = hooks_for(
        root, cluster, waiter=waiter, etcd=etcd, kubelet=kubelet, kubeconfig_client=kubeconfig_client
    )
    ctx: JoinContext = api.build_context("join", opts, Logs(logs), hooks=hooks)
    return ctx


def run(ctx: JoinContext, only: list[str] | None = None, skip: list[str] | None = None) -> Any:
    return runner.execute("join", join_wf.phases(), ctx, only=only, skip=skip or ["preflight"])
