"""A joining node against an in-memory cluster: a context built the way ``kubeadm-py join`` builds
it, with the discovery fetcher and the bootstrap API client replaced by fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeadm_py import api
from kubeadm_py.cluster.uploadconfig import cluster_configuration_yaml, kubeadm_config_objects
from kubeadm_py.cluster.versioned import kubelet_config_name
from kubeadm_py.config.resolve import build_config
from kubeadm_py.phases.context import RunContext
from kubeadm_py.workflow import runner
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
    """The control plane side: CA, cluster-info, kubeadm-config, kubelet-config, kubeadm-certs."""

    def __init__(self, version: str = "v1.20.2", control_plane_endpoint: str = "cp.example:6443") -> None:
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

        self.api.put(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": kubelet_config_name(version), "namespace": "kube-system"},
                "data": {"kubelet": yaml.safe_dump(KUBELET_DOC)},
            }
        )
        self.fetcher = FakeFetcher(self.ca_pem, [cluster_info(cluster_info_kubeconfig(self.ca_pem))])

    def cluster_config_yaml(self) -> str:
        return cluster_configuration_yaml(self.cluster_cfg)


def join_context(root: Path, cluster: Cluster, logs: list[str], **options: Any) -> RunContext:
    opts: dict[str, Any] = {
        "rootfs": str(root),
        "api_server_endpoint": [ENDPOINT],
        "token": TOKEN,
        "discovery-token-ca-cert-hash": [pin(cluster.ca_pem)],
        "node-name": "node-b",
        "cri-socket": "unix:///run/containerd/containerd.sock",
    }
    opts.update(options)
    ctx = api.build_context("join", opts)
    ctx.log = logs.append
    ctx.state["discovery_fetcher"] = cluster.fetcher
    ctx.state["bootstrap_client"] = cluster.api.client()
    ctx.kube_factory = lambda c: cluster.api.client()
    ctx.state["kubelet_health_check"] = lambda url: (True, "ok")
    return ctx


def run(ctx: RunContext, only: list[str] | None = None, skip: list[str] | None = None) -> Any:
    return runner.execute("join", join_wf.phases(), ctx, only=only, skip=skip or ["preflight"])
