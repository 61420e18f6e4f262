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


# The kubelet's config.yaml as real kubeadm clusters show it (search index ids in versioned.py):
# the zero-valued fields written beyond the v1.20 set, per minor.
_ZERO_1_30 = {
    "containerRuntimeEndpoint": "",
    "imageMaximumGCAge": "0s",
    "logging": {
        "flushFrequency": 0,
        "options": {"json": {"infoBufferSize": "0"}, "text": {"infoBufferSize": "0"}},
        "verbosity": 0,
    },
    "memorySwap": {},
}


@pytest.mark.parametrize(
    ("version", "extra"),
    [
        ("v1.20.2", {"logging": {}}),
        ("v1.30.14", _ZERO_1_30),
        ("v1.31.14", _ZERO_1_30),
        ("v1.32.10", {**_ZERO_1_30, "crashLoopBackOff": {}}),
        ("v1.37.1", {**_ZERO_1_30, "crashLoopBackOff": {}}),
    ],
)
def test_kubelet_config_zero_fields(version: str, extra: dict) -> None:
    from kubeadm_py.config.componentconfigs import default_kubelet_config

    doc = default_kubelet_config(KubeadmConfig(cluster={"kubernetesVersion": version}))
    for key, value in extra.items():
        assert doc[key] == value, key
    if version == "v1.20.2":
        assert not {"containerRuntimeEndpoint", "memorySwap", "crashLoopBackOff"} & set(doc)
    if version in ("v1.30.14", "v1.31.14"):
        assert "crashLoopBackOff" not in doc


def test_every_profile_row_is_in_the_table_in_order() -> None:
    from kubeadm_py import versioned

    rows = [
        v
        for k, v in vars(versioned).items()
        if k.startswith("_V1_") and isinstance(v, versioned.ObjectsProfile)
    ]
    assert sorted(r.since for r in rows) == [p.since for p in versioned.PROFILES]
