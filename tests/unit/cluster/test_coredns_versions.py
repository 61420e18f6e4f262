"""CoreDNS objects per minor against upstream's templates (phases/addons/dns/manifests.go), with the
expected values written out here, each with its source."""

from __future__ import annotations

import pytest

from kubeadm_py.cluster import coredns
from kubeadm_py.config.types import KubeadmConfig

VERSIONS = ("v1.20.2", "v1.30.14", "v1.31.14", "v1.32.10", "v1.35.0", "v1.37.1")


def objs(version: str) -> dict[str, dict]:
    cfg = KubeadmConfig(
        cluster={
            "kubernetesVersion": version,
            "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        }
    )
    return coredns.objects(cfg)


@pytest.mark.parametrize("version", VERSIONS)
def test_kube_dns_service(version: str) -> None:
    """v1.20.2 tree: KubeDNSService labelled "KubeDNS"; the later CoreDNSService (minikube's copy of
    kubeadm's template) "CoreDNS"; both send resourceVersion "0"."""
    svc = objs(version)["service"]
    assert svc["metadata"]["labels"] == {
        "k8s-app": "kube-dns",
        "kubernetes.io/cluster-service": "true",
        "kubernetes.io/name": "KubeDNS" if version == "v1.20.2" else "CoreDNS",
    }
    assert svc["metadata"]["resourceVersion"] == "0"
    assert svc["metadata"]["annotations"] == {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}


@pytest.mark.parametrize("version", VERSIONS)
def test_capability_drop_spelling(version: str) -> None:
    """`- all` in the v1.20.2 tree; `- ALL` since PR #121384 (v1.29)."""
    c = objs(version)["deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert c["securityContext"]["capabilities"] == {
        "add": ["NET_BIND_SERVICE"],
        "drop": ["all" if version == "v1.20.2" else "ALL"],
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_corefile_cache_block(version: str) -> None:
    """PR #128359 (v1.32): the cache plugin does not cache the cluster domain."""
    corefile = objs(version)["configmap"]["data"]["Corefile"]
    minor = int(version.split(".")[1])
    if minor >= 32:
        assert (
            "    cache 30 {\n       disable success cluster.local\n"
            "       disable denial cluster.local\n    }\n" in corefile
        )
    else:
        assert "    cache 30\n    loop\n" in corefile
