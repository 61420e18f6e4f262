"""kubeadm-flags.env and the node KubeletConfiguration."""

from __future__ import annotations

import pytest

from kubeadm_py.kubelet.config import cluster_kubelet_config, healthz_url
from kubeadm_py.kubelet.flags import kubeadm_flags_env, parse_flags_env

from .helpers import make_cfg


def test_flags_1_20_remote_runtime():
    # phases/kubelet/flags.go (v1.20.2): container-runtime=remote + endpoint; no pause image for CRI sockets
    cfg = make_cfg("v1.20.2", init={"nodeRegistration": {"criSocket": "/run/containerd/containerd.sock"}})
    assert kubeadm_flags_env(cfg, host="node1") == (
        'KUBELET_KUBEADM_ARGS="--container-runtime=remote '
        '--container-runtime-endpoint=/run/containerd/containerd.sock"\n'
    )


def test_flags_1_20_dockershim():
    cfg = make_cfg(
        "v1.20.2",
        cluster={"imageRepository": "k8s.gcr.io"},
        init={"nodeRegistration": {"criSocket": "/var/run/dockershim.sock"}},
    )
    assert kubeadm_flags_env(cfg, host="node1") == (
        'KUBELET_KUBEADM_ARGS="--network-plugin=cni --pod-infra-container-image=k8s.gcr.io/pause:3.2"\n'
    )


# pause per patch: kubeadm v1.30.x lists pause 3.9, v1.31-v1.33 3.10 (minikube's record of
# `kubeadm config images list`, kubeadm_py/image_tags.py).
@pytest.mark.parametrize(
    ("version", "pause"),
    [("v1.30.14", "3.9"), ("v1.31.14", "3.10"), ("v1.32.10", "3.10"), ("v1.33.13", "3.10")],
)
def test_flags_modern(version, pause):
    cfg = make_cfg(version)
    assert kubeadm_flags_env(cfg, host="node1") == (
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
        f'--pod-infra-container-image=registry.k8s.io/pause:{pause}"\n'
    )


def test_flags_1_34_node_local_cri_socket_keeps_the_pause_image():
    # v1.34: NodeLocalCRISocket beta, on by default (the socket moves to instance-config.yaml); the
    # --pod-infra-container-image flag is dropped only in v1.35 (CHANGELOG-1.35.md, #133778).
    assert kubeadm_flags_env(make_cfg("v1.34.10"), host="node1") == (
        'KUBELET_KUBEADM_ARGS="--pod-infra-container-image=registry.k8s.io/pause:3.10.1"\n'
    )


def test_flags_hostname_override_taints_and_extra_args():
    cfg = make_cfg(
        "v1.32.10",
        init={
            "nodeRegistration": {
                "name": "Node-A",
                "taints": [
                    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                    {"key": "dedicated", "value": "db", "effect": "NoExecute"},
                ],
                "kubeletExtraArgs": [
                    {"name": "node-ip", "value": "10.0.0.5"},
                    {"name": "pod-infra-container-image", "value": "mirror/pause:3.10"},
                ],
            }
        },
    )
    env = kubeadm_flags_env(cfg, register_taints=True, host="machine")
    argv = parse_flags_env(env)
    assert argv == [
        "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
        "--hostname-override=Node-A",
        "--node-ip=10.0.0.5",
        "--pod-infra-container-image=mirror/pause:3.10",
        "--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule,dedicated=db:NoExecute",
    ]
    assert "register-with-taints" not in kubeadm_flags_env(cfg, register_taints=False, host="machine")


def test_kubelet_config_defaults():
    cfg = make_cfg(
        "v1.32.10",
        cluster={"networking": {"serviceSubnet": "10.100.0.0/16", "dnsDomain": "corp.local"}},  # noqa: E501
        kubelet={
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "maxPods": 50,
            "healthzPort": 10300,
            "rotateCertificates": False,
        },
    )
    warnings: list[str] = []
    doc = cluster_kubelet_config(cfg, systemd_resolved=True, warn=warnings.append)
    assert doc["clusterDNS"] == ["10.100.0.10"]
    assert doc["clusterDomain"] == "corp.local"
    assert doc["staticPodPath"] == "/etc/kubernetes/manifests"
    assert doc["authentication"] == {
        "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
        "anonymous": {"enabled": False},
        "webhook": {"enabled": True, "cacheTTL": "0s"},
    }
    assert doc["authorization"]["mode"] == "Webhook"
    assert doc["cgroupDriver"] == "systemd"
    assert doc["resolvConf"] == "/run/systemd/resolve/resolv.conf"
    assert doc["rotateCertificates"] is True
    assert doc["maxPods"] == 50 and doc["healthzPort"] == 10300  # user value kept, with a warning
    assert any("healthzPort" in w for w in warnings)
    assert healthz_url(doc) == "http://127.0.0.1:10300/healthz"


def test_kubelet_config_1_20_leaves_cgroup_driver():
    doc = cluster_kubelet_config(make_cfg("v1.20.2"))
    assert "cgroupDriver" not in doc and "resolvConf" not in doc

