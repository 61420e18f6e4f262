"""kubeadm's KubeletConfiguration / KubeProxyConfiguration defaults (upstream componentconfigs/)."""

from __future__ import annotations

import pytest

from kubeadm_py.config.componentconfigs import (
    cluster_dns_ip,
    default_kubelet_config,
    default_kubeproxy_config,
    kubeproxy_bind_address,
)
from kubeadm_py.config.resolve import build_config


@pytest.mark.parametrize(
    ("subnet", "dns"),
    [
        ("10.96.0.0/12", "10.96.0.10"),
        ("10.100.0.0/16", "10.100.0.10"),
        ("172.20.5.0/24", "172.20.5.10"),
        ("10.96.0.0/16,fd00:10:96::/112", "10.96.0.10"),
        ("fd00:10:96::/112,10.96.0.0/16", "fd00:10:96::a"),
        ("garbage", "10.96.0.10"),
    ],
)
def test_cluster_dns_ip(subnet: str, dns: str) -> None:
    assert cluster_dns_ip(subnet) == dns


def test_kubelet_defaults(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config(
        "init",
        None,
        {
            "cluster.networking.serviceSubnet": "10.100.0.0/16",
            "cluster.networking.dnsDomain": "corp.local",
            "cluster.certificatesDir": "/srv/pki",
        },
        probe=probe,
    )
    kc = default_kubelet_config(cfg)
    assert kc["apiVersion"] == "kubelet.config.k8s.io/v1beta1" and kc["kind"] == "KubeletConfiguration"
    assert kc["authentication"] == {
        "anonymous": {"enabled": False},
        "webhook": {"cacheTTL": "0s", "enabled": True},
        "x509": {"clientCAFile": "/srv/pki/ca.crt"},
    }
    assert kc["authorization"] == {
        "mode": "Webhook",
        "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"},
    }
    assert kc["clusterDNS"] == ["10.100.0.10"]
    assert kc["clusterDomain"] == "corp.local"
    assert kc["cgroupDriver"] == "systemd"
    assert kc["rotateCertificates"] is True
    assert kc["staticPodPath"] == "/etc/kubernetes/manifests"
    assert kc["healthzBindAddress"] == "127.0.0.1" and kc["healthzPort"] == 10248
    assert kc["syncFrequency"] == "0s"
    assert "resolvConf" not in kc and "featureGates" not in kc
    assert cfg.warnings == []


def test_kubelet_user_values_win_with_warnings(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\n"
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: cgroupfs\n"
        "clusterDNS: [169.254.20.10]\nhealthzPort: 10249\nrotateCertificates: false\nmaxPods: 50\n"
        "featureGates:\n  GracefulNodeShutdown: true\n"
    )
    cfg = build_config("init", path, probe=probe)
    assert cfg.kubelet is not None and cfg.kubelet["maxPods"] == 50  # the user's document, as given
    kc = default_kubelet_config(cfg, resolv_conf="/run/systemd/resolve/resolv.conf")
    assert kc["cgroupDriver"] == "cgroupfs"
    assert kc["clusterDNS"] == ["169.254.20.10"]
    assert kc["healthzPort"] == 10249
    assert kc["rotateCertificates"] is True  # forced, as upstream
    assert kc["maxPods"] == 50
    assert kc["featureGates"] == {"GracefulNodeShutdown": True}
    assert kc["resolvConf"] == "/run/systemd/resolve/resolv.conf"
    assert any('"clusterDNS"' in w and "10.96.0.10" in w for w in cfg.warnings)
    assert any('"healthzPort"' in w for w in cfg.warnings)
    assert cfg.kubelet["rotateCertificates"] is False  # the input document is not mutated


def test_kubeproxy_defaults(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", None, {"cluster.networking.podSubnet": "10.244.0.0/16"}, probe=probe)
    kp = default_kubeproxy_config(cfg)
    set_by_kubeadm = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "bindAddress": "0.0.0.0",
        "clusterCIDR": "10.244.0.0/16",
    }
    assert {k: kp[k] for k in set_by_kubeadm} == set_by_kubeadm
    assert kp["clientConnection"]["kubeconfig"] == "/var/lib/kube-proxy/kubeconfig.conf"
    # everything else is a Go zero value the v1alpha1 types serialise (versioned.py kubeproxy_zero_fields)
    assert kp["mode"] == "" and kp["conntrack"]["udpTimeout"] == "0s" and kp["nodePortAddresses"] is None
    no_pod = default_kubeproxy_config(build_config("init", None, {}, probe=probe))
    assert no_pod["clusterCIDR"] == ""  # the zero value, as upstream serialises it


def test_kubeproxy_ipv6_and_user_values(write, probe) -> None:  # type: ignore[no-untyped-def]
    probe.address = "fd00::5"
    path = write(
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n"
        "clusterCIDR: 10.1.0.0/16\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
        "networking:\n  podSubnet: 10.244.0.0/16\n"
    )
    cfg = build_config("init", path, probe=probe)
    kp = default_kubeproxy_config(cfg)
    assert kp["bindAddress"] == "::"
    assert kp["mode"] == "ipvs"
    assert kp["clusterCIDR"] == "10.1.0.0/16"
    assert any('"clusterCIDR"' in w and "10.244.0.0/16" in w for w in cfg.warnings)


@pytest.mark.parametrize(("addr", "bind"), [("10.0.0.1", "0.0.0.0"), ("fd00::1", "::"), ("", "0.0.0.0")])
def test_kubeproxy_bind_address(addr: str, bind: str) -> None:
    assert kubeproxy_bind_address(addr) == bind


def test_warn_callback(probe) -> None:  # type: ignore[no-untyped-def]
    cfg = build_config("init", None, {}, probe=probe)
    cfg.kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "readOnlyPort": 10255,
    }
    seen: list[str] = []
    default_kubelet_config(cfg, warn=seen.append)
    assert seen == [
        'The recommended value for "readOnlyPort" in "KubeletConfiguration" is: 0; '
        "the provided value is: 10255"
    ]


def test_kubelet_defaults_follow_the_version_table(probe) -> None:  # type: ignore[no-untyped-def]
    from kubeadm_py.versions import RELEASES

    for rel in RELEASES:
        cfg = build_config(
            "init",
            None,
            {
                "cluster.kubernetesVersion": rel.default_patch,
                "cluster.featureGates": {g: True for g in rel.forwarded_feature_gates},
            },
            probe=probe,
        )
        kc = default_kubelet_config(cfg, systemd_resolved=True)
        assert kc.get("cgroupDriver") == rel.kubelet_cgroup_driver
        assert kc.get("featureGates", {}) == {g: True for g in rel.forwarded_feature_gates}
        assert kc["resolvConf"] == "/run/systemd/resolve/resolv.conf"
