"""v1beta2 / v1beta3 -> v1beta4: conversion rules, migrate output, and loading old files directly."""

from __future__ import annotations

import pytest
import yaml

from kubeadm_py.config.resolve import build_config, migrate, validate
from kubeadm_py.errors import ConfigError

from .conftest import DATA

OLD_FILES = ["v1beta2-init.yaml", "v1beta2-join.yaml", "v1beta3-init.yaml", "v1beta3-join.yaml"]


def _docs(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {d["kind"]: d for d in yaml.safe_load_all(text)}


@pytest.mark.parametrize("name", OLD_FILES)
def test_old_files_migrate_and_validate(name: str) -> None:
    text = (DATA / name).read_text()
    warnings: list[str] = []
    out = migrate(text, source=name, warnings=warnings)
    docs = list(yaml.safe_load_all(out))
    assert all(d["apiVersion"].startswith(("kubeadm.k8s.io/v1beta4", "kubelet.", "kubeproxy.")) for d in docs)
    after = validate(text=out, source="migrated.yaml")  # raises on any problem
    assert not any("deprecated API version" in w for w in after)
    # Migrating twice changes nothing.
    assert migrate(out) == out


@pytest.mark.parametrize("name", OLD_FILES)
def test_old_files_load_directly_with_deprecation_warning(name: str, probe) -> None:  # type: ignore[no-untyped-def]
    path = str(DATA / name)
    kind = "join" if "join" in name else "init"
    cfg = build_config(kind, path, probe=probe)  # type: ignore[arg-type]
    version = "v1beta2" if "v1beta2" in name else "v1beta3"
    assert any(
        f"deprecated API version kubeadm.k8s.io/{version}" in w and "config migrate" in w
        for w in cfg.warnings
    )
    # Loading the old file equals loading its migration.
    migrated = build_config(kind, migrate((DATA / name).read_text()), probe=probe)  # type: ignore[arg-type]
    strip = lambda c: {k: v for k, v in (c or {}).items() if k != "bootstrapTokens"}  # noqa: E731
    assert strip(cfg.init) == strip(migrated.init)
    assert cfg.join == migrated.join
    assert cfg.cluster == migrated.cluster
    assert cfg.kubelet == migrated.kubelet and cfg.kubeproxy == migrated.kubeproxy


def test_v1beta3_conversion_rules() -> None:
    docs = _docs(migrate((DATA / "v1beta3-init.yaml").read_text(), defaults=False))
    cluster, init = docs["ClusterConfiguration"], docs["InitConfiguration"]
    # extraArgs maps -> lists sorted by name
    assert cluster["apiServer"]["extraArgs"] == [
        {"name": "audit-log-maxage", "value": "30"},
        {"name": "authorization-mode", "value": "Node,RBAC"},
    ]
    assert cluster["etcd"]["local"]["extraArgs"] == [
        {"name": "election-timeout", "value": "2500"},
        {"name": "listen-metrics-urls", "value": "http://0.0.0.0:2381"},
    ]
    assert cluster["scheduler"]["extraArgs"] == [{"name": "bind-address", "value": "0.0.0.0"}]
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": "10.100.0.1"},
        {"name": "v", "value": "4"},
    ]
    # timeoutForControlPlane moves to the InitConfiguration timeouts
    assert "timeoutForControlPlane" not in cluster["apiServer"]
    assert init["timeouts"] == {"controlPlaneComponentHealthCheck": "5m0s"}
    # component configs are preserved
    assert docs["KubeletConfiguration"] == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "serverTLSBootstrap": True,
    }
    assert docs["KubeProxyConfiguration"]["ipvs"] == {"strictARP": True}
    # dual-stack subnets kept as given
    assert cluster["networking"]["podSubnet"] == "10.244.0.0/16,fd00:10:244::/56"


def test_v1beta3_join_discovery_timeout() -> None:
    join = _docs(migrate((DATA / "v1beta3-join.yaml").read_text(), defaults=False))["JoinConfiguration"]
    assert "timeout" not in join["discovery"]
    assert join["timeouts"] == {"discovery": "2m"}
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "max-pods", "value": "60"},
        {"name": "node-labels", "value": "tier=edge"},
    ]


def test_v1beta2_conversion_rules() -> None:
    warnings: list[str] = []
    docs = _docs(
        migrate(
            (DATA / "v1beta2-init.yaml").read_text(), source="old.yaml", warnings=warnings, defaults=False
        )
    )
    cluster = docs["ClusterConfiguration"]
    assert "useHyperKubeImage" not in cluster
    assert "type" not in cluster["dns"]
    assert cluster["controllerManager"]["extraArgs"] == [{"name": "node-cidr-mask-size", "value": "20"}]
    assert docs["InitConfiguration"]["timeouts"] == {"controlPlaneComponentHealthCheck": "4m0s"}
    assert docs["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "cgroup-driver", "value": "cgroupfs"},
        {"name": "v", "value": "4"},
    ]
    assert docs["KubeProxyConfiguration"] == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "ipvs",
    }
    join = _docs(migrate((DATA / "v1beta2-join.yaml").read_text(), defaults=False))["JoinConfiguration"]
    assert join["timeouts"] == {"discovery": "10m0s"}
    assert join["nodeRegistration"]["taints"] == []
    assert join["controlPlane"]["certificateKey"].startswith("e6a2eb")


def test_v1beta2_cluster_status_and_hyperkube_warn() -> None:
    text = (
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\nuseHyperKubeImage: true\n"
        "dns:\n  type: kube-dns\n---\napiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterStatus\n"
        "apiEndpoints:\n  cp-1:\n    advertiseAddress: 10.0.0.1\n    bindPort: 6443\n"
    )
    warnings: list[str] = []
    out = migrate(text, warnings=warnings)
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["ClusterConfiguration"]
    joined = " ".join(warnings)
    assert "ClusterStatus kind was removed" in joined
    assert "useHyperKubeImage was removed" in joined
    assert "CoreDNS is always used" in joined


def test_timeout_without_init_document_warns() -> None:
    warnings: list[str] = []
    migrate(
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n"
        "  timeoutForControlPlane: 8m\n",
        warnings=warnings,
    )
    assert any("timeoutForControlPlane (8m)" in w for w in warnings)


def test_cluster_timeout_applies_to_init_created_from_defaults(write, probe) -> None:  # type: ignore[no-untyped-def]
    path = write(
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n"
        "  timeoutForControlPlane: 8m\n"
    )
    cfg = build_config("init", path, probe=probe)
    assert cfg.init["timeouts"]["controlPlaneComponentHealthCheck"] == "8m0s"  # type: ignore[index]


def test_v1beta4_passes_through_unchanged_without_defaults() -> None:
    text = (DATA / "v1beta4-full.yaml").read_text()
    warnings: list[str] = []
    out = migrate(text, warnings=warnings, defaults=False)
    assert list(yaml.safe_load_all(out)) == list(yaml.safe_load_all(text))
    assert warnings == []


def test_migrate_defaults_like_upstream_but_without_host_values() -> None:
    """Upstream writes what kubeadm would read internally: converted and defaulted."""
    warnings: list[str] = []
    docs = _docs(migrate((DATA / "v1beta2-init.yaml").read_text(), source="old.yaml", warnings=warnings))
    init, cluster = docs["InitConfiguration"], docs["ClusterConfiguration"]
    assert init["timeouts"]["controlPlaneComponentHealthCheck"] == "4m0s"  # converted value kept
    assert init["timeouts"]["kubeletHealthCheck"] == "4m0s"  # default filled in
    assert init["bootstrapTokens"][0]["ttl"] == "24h0m0s"  # "24h" normalised
    assert init["nodeRegistration"]["imagePullPolicy"] == "IfNotPresent"
    assert init["nodeRegistration"]["criSocket"] == "unix:///var/run/dockershim.sock"
    assert any("has no URL scheme" in w for w in warnings)
    assert cluster["encryptionAlgorithm"] == "RSA-2048" and cluster["proxy"] == {}
    assert cluster["imageRepository"] == "k8s.gcr.io"  # the user's value wins over the default
    assert docs["KubeletConfiguration"] == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
        "maxPods": 110,
    }
    join = _docs(migrate((DATA / "v1beta3-join.yaml").read_text()))["JoinConfiguration"]
    assert join["timeouts"]["discovery"] == "2m0s"
    assert join["caCertPath"] == "/etc/kubernetes/pki/ca.crt"
    assert "name" in join["nodeRegistration"] and join["nodeRegistration"]["name"] == "worker-2"
    assert "advertiseAddress" not in str(join)


def test_migrate_without_host_values() -> None:
    out = migrate("apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n")
    init = yaml.safe_load(out)
    assert "name" not in init["nodeRegistration"] and "token" not in init["bootstrapTokens"][0]
    assert "advertiseAddress" not in init["localAPIEndpoint"]


def test_migrate_rejects_invalid_old_file() -> None:
    with pytest.raises(ConfigError) as info:
        migrate(
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: x\n",
            source="old.yaml",
        )
    assert (
        info.value.message
        == 'old.yaml: document 1 (ClusterConfiguration): networking.podSubnet: "x" is not a valid CIDR'
    )


def test_deprecation_warning_mentions_v137() -> None:
    warnings = validate(text=(DATA / "v1beta3-join.yaml").read_text(), source="j.yaml")
    assert len(warnings) == 1
    assert "kubeadm.k8s.io/v1beta3" in warnings[0] and "v1.37" in warnings[0]
    assert "kubeadm-py config migrate --old-config j.yaml" in warnings[0]
