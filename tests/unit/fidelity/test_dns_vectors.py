"""Vectors of upstream's TestGetDNSIP (upstream.DNS_TEST): the kube-dns Service IP is the 10th
address of the first service subnet."""

from __future__ import annotations

import pytest

from kubeadm_py.cluster.netinfo import dns_ip
from kubeadm_py.config.types import KubeadmConfig

from .upstream import DNS_TEST

VECTORS = [
    ("subnet mask 12", "10.96.0.0/12", "10.96.0.10"),
    ("subnet mask 26", "10.87.116.64/26", "10.87.116.74"),
    ("dual-stack ipv4 primary, subnet mask 26", "10.87.116.64/26,fd03::/112", "10.87.116.74"),
    ("dual-stack ipv6 primary, subnet mask 112", "fd03::/112,10.87.116.64/26", "fd03::a"),
]


@pytest.mark.parametrize(("name", "subnet", "expected"), VECTORS, ids=[v[0] for v in VECTORS])
def test_get_dns_ip(name: str, subnet: str, expected: str) -> None:
    cfg = KubeadmConfig(cluster={"networking": {"serviceSubnet": subnet}})
    assert dns_ip(cfg) == expected, DNS_TEST
