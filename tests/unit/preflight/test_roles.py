"""Which checks run for each role, in kubeadm's order, and the version-gated ones."""

from __future__ import annotations

import pytest

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.preflight.roles import NodeFacts, checks_for_role, facts_from_config


def names(role: str, facts: NodeFacts) -> list[str]:
    return [c.name for c in checks_for_role(role, facts)]


def test_init_checks_in_kubeadm_order() -> None:
    got = names(
        "init",
        NodeFacts(kubernetes_version="v1.32.0", advertise_address="10.0.0.10", pod_subnet="192.168.0.0/16"),
    )
    assert got == [
        "IsPrivilegedUser",
        "NumCPU",
        "Mem",
        "KubernetesVersion",
        "Firewalld",
        "Port-6443",
        "Port-10259",
        "Port-10257",
        "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml",
        "FileAvailable--etc-kubernetes-manifests-kube-controller-manager.yaml",
        "FileAvailable--etc-kubernetes-manifests-kube-scheduler.yaml",
        "FileAvailable--etc-kubernetes-manifests-etcd.yaml",
        "HTTPProxy",
        "HTTPProxyCIDR",
        "HTTPProxyCIDR",
        "CRI",
        "Swap",
        "FileExisting-ip",
        "FileExisting-iptables",
        "FileExisting-mount",
        "FileExisting-nsenter",
        "FileExisting-ebtables",
        "FileExisting-ethtool",
        "FileExisting-socat",
        "FileExisting-tc",
        "FileExisting-touch",
        "SystemVerification",
        "Hostname",
        "KubeletVersion",
        "Service-Kubelet",
        "Port-10250",
        "FileContent--proc-sys-net-ipv4-ip_forward",
        "Port-2379",
        "Port-2380",
        "DirAvailable--var-lib-etcd",
    ]


def test_version_gated_checks_for_1_20() -> None:
    got = names("control-plane", NodeFacts(kubernetes_version="v1.20.2", advertise_address="10.0.0.10"))
    assert "FileExisting-conntrack" in got  # kube-proxy needed conntrack before 1.32
    assert got.index("FileContent--proc-sys-net-bridge-bridge-nf-call-iptables") < got.index(
        "FileContent--proc-sys-net-ipv4-ip_forward"
    )  # dropped upstream in 1.30


def test_dual_stack_adds_ipv6_forwarding() -> None:
    got = names(
        "init", NodeFacts(service_subnet="10.96.0.0/12,fd00:10:96::/112", advertise_address="10.0.0.1")
    )
    assert "FileContent--proc-sys-net-ipv4-ip_forward" in got
    assert "FileContent--proc-sys-net-ipv6-conf-default-forwarding" in got
    assert "FileExisting-conntrack" not in got


def test_external_etcd() -> None:
    facts = NodeFacts(
        local_etcd=False,
        external_etcd={
            "endpoints": ["https://10.0.0.5:2379"],
            "caFile": "/etc/etcd/ca.crt",
            "certFile": "/etc/etcd/c.crt",
            "keyFile": "/etc/etcd/c.key",
        },
    )
    got = names("init", facts)
    assert "ExternalEtcdVersion" in got
    assert got.count("ExternalEtcdClientCertificates") == 3
    assert "Port-2379" not in got and "DirAvailable--var-lib-etcd" not in got


def test_worker_join() -> None:
    got = names("worker", NodeFacts(join_endpoint="10.0.0.10:6443"))
    assert got[:3] == [
        "IsPrivilegedUser",
        "FileAvailable--etc-kubernetes-kubelet.conf",
        "FileAvailable--etc-kubernetes-bootstrap-kubelet.conf",
    ]
    assert "FileAvailable--etc-kubernetes-pki-ca.crt" in got
    assert got[-2:] == ["HTTPProxy", "FileContent--proc-sys-net-ipv4-ip_forward"]
    assert "NumCPU" not in got and "Port-6443" not in got


def test_control_plane_join_runs_init_checks_without_repeating_common_ones() -> None:
    got = names("join-control-plane", NodeFacts(join_endpoint="[fd00::1]:6443"))
    assert "FileAvailable--etc-kubernetes-pki-ca.crt" not in got
    assert "NumCPU" in got and "Port-6443" in got and "Port-2379" in got
    assert got.count("CRI") == 1 and got.count("Port-10250") == 1
    assert "FileContent--proc-sys-net-ipv6-conf-default-forwarding" in got


def test_reset_is_root_only() -> None:
    assert names("reset", NodeFacts()) == ["IsPrivilegedUser"]


def test_unknown_role() -> None:
    with pytest.raises(ValueError):
        checks_for_role("master", NodeFacts())


def test_facts_from_config() -> None:
    cfg = KubeadmConfig(
        cluster={
            "kubernetesVersion": "v1.20.2",
            "networking": {"serviceSubnet": "10.96.0.0/12", "podSubnet": "10.244.0.0/16"},
            "etcd": {"local": {"dataDir": "/data/etcd"}},
        },
        init={
            "localAPIEndpoint": {"advertiseAddress": "10.0.0.10", "bindPort": 8443},
            "nodeRegistration": {"name": "cp-1", "criSocket": "unix:///run/crio/crio.sock"},
        },
    )
    f = facts_from_config(cfg, "init")
    assert (f.kubernetes_version, f.node_name, f.cri_socket, f.advertise_address, f.bind_port) == (
        "v1.20.2",
        "cp-1",
        "unix:///run/crio/crio.sock",
        "10.0.0.10",
        8443,
    )
    assert f.etcd_data_dir == "/data/etcd" and f.local_etcd
    got = names("init", f)
    assert "Port-8443" in got and "DirAvailable--data-etcd" in got


def test_facts_from_join_config() -> None:
    cfg = KubeadmConfig(
        cluster={},
        join={
            "discovery": {"bootstrapToken": {"apiServerEndpoint": "10.0.0.10:6443"}},
            "nodeRegistration": {"name": "w-1"},
            "caCertPath": "/etc/kubernetes/pki/ca.crt",
        },
    )
    f = facts_from_config(cfg, "join")
    assert (f.join_endpoint, f.node_name) == ("10.0.0.10:6443", "w-1")
