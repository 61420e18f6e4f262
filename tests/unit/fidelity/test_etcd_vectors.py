"""Vectors of upstream's TestGetEtcdCommand and TestCreateLocalEtcdStaticPodManifestFile's external
etcd case (upstream.ETCD_LOCAL_TEST), against kubeadm-py's etcd builder for a minor with etcd 3.5
flags (v1.32). Adaptation: upstream runs them with an empty CertificatesDir (paths like
"etcd/server.crt"); here CertificatesDir is /var/lib/certs and the expected paths are joined to it
the same way (filepath.Join)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.etcd import build_etcd, etcd_command
from kubeadm_py.versions import release_for

from .upstream import ETCD_LOCAL_TEST

CERTS = "/var/lib/certs"
REL = release_for("v1.32.10")


def _base(name: str, adv: str, local: str) -> list[str]:
    host = f"[{adv}]" if ":" in adv else adv
    return [
        f"--name={name}",
        "--experimental-initial-corrupt-check=true",
        "--experimental-watch-progress-notify-interval=5s",
        f"--listen-client-urls=https://{local}:2379,https://{host}:2379",
        f"--listen-metrics-urls=http://{local}:2381",
        f"--advertise-client-urls=https://{host}:2379",
        f"--listen-peer-urls=https://{host}:2380",
        f"--initial-advertise-peer-urls=https://{host}:2380",
        "--data-dir=/var/lib/etcd",
        f"--cert-file={CERTS}/etcd/server.crt",
        f"--key-file={CERTS}/etcd/server.key",
        f"--trusted-ca-file={CERTS}/etcd/ca.crt",
        "--client-cert-auth=true",
        f"--peer-cert-file={CERTS}/etcd/peer.crt",
        f"--peer-key-file={CERTS}/etcd/peer.key",
        f"--peer-trusted-ca-file={CERTS}/etcd/ca.crt",
        "--snapshot-count=10000",
        "--peer-client-cert-auth=true",
    ]


def _override(args: list[str], **values: str) -> list[str]:
    return [
        f"--{a[2:].split('=', 1)[0]}={values[a[2:].split('=', 1)[0].replace('-', '_')]}"
        if a[2:].split("=", 1)[0].replace("-", "_") in values
        else a
        for a in args
    ]


# (name, advertise address, node name, extra args, initial cluster, expected)
VECTORS: list[tuple[str, str, str, list[dict[str, str]], list[tuple[str, str]], list[str]]] = [
    (
        "Default args - with empty etcd initial cluster",
        "1.2.3.4",
        "foo",
        [],
        [],
        [*_base("foo", "1.2.3.4", "127.0.0.1"), "--initial-cluster=foo=https://1.2.3.4:2380"],
    ),
    (
        "Default args - With an existing etcd cluster",
        "1.2.3.4",
        "foo",
        [],
        [("foo", "https://1.2.3.4:2380"), ("bar", "https://5.6.7.8:2380")],
        [
            *_base("foo", "1.2.3.4", "127.0.0.1"),
            "--initial-cluster-state=existing",
            "--initial-cluster=foo=https://1.2.3.4:2380,bar=https://5.6.7.8:2380",
        ],
    ),
    (
        "Extra args",
        "1.2.3.4",
        "bar",
        [
            {"name": "listen-client-urls", "value": "https://10.0.1.10:2379"},
            {"name": "advertise-client-urls", "value": "https://10.0.1.10:2379"},
        ],
        [],
        [
            *_override(
                _base("bar", "1.2.3.4", "127.0.0.1"),
                listen_client_urls="https://10.0.1.10:2379",
                advertise_client_urls="https://10.0.1.10:2379",
            ),
            "--initial-cluster=bar=https://1.2.3.4:2380",
        ],
    ),
    (
        "IPv6 advertise address",
        "2001:db8::3",
        "foo",
        [],
        [],
        [*_base("foo", "2001:db8::3", "[::1]"), "--initial-cluster=foo=https://[2001:db8::3]:2380"],
    ),
]


def _cfg(
    adv: str, node: str, extra: list[dict[str, str]], etcd: dict[str, Any] | None = None
) -> KubeadmConfig:
    return KubeadmConfig(
        cluster={
            "kubernetesVersion": REL.default_patch,
            "certificatesDir": CERTS,
            "etcd": etcd or {"local": {"dataDir": "/var/lib/etcd", "extraArgs": extra}},
        },
        init={"localAPIEndpoint": {"advertiseAddress": adv}, "nodeRegistration": {"name": node}},
    )


@pytest.mark.parametrize(
    ("name", "adv", "node", "extra", "initial", "expected"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_get_etcd_command(name, adv, node, extra, initial, expected) -> None:  # type: ignore[no-untyped-def]
    """upstream: TestGetEtcdCommand"""
    got = etcd_command(REL, _cfg(adv, node, extra), initial)
    assert sorted(got) == sorted(["etcd", *expected]), ETCD_LOCAL_TEST


def test_external_etcd_has_no_local_manifest() -> None:
    """upstream: TestCreateLocalEtcdStaticPodManifestFile, external etcd case (same error text)."""
    external = {
        "external": {
            "endpoints": ["https://etcd-instance:2379"],
            "caFile": "/etc/kubernetes/pki/etcd/ca.crt",
            "certFile": "/etc/kubernetes/pki/etcd/apiserver-etcd-client.crt",
            "keyFile": "/etc/kubernetes/pki/etcd/apiserver-etcd-client.key",
        }
    }
    with pytest.raises(
        KubeadmError, match="^etcd static pod manifest cannot be generated for cluster using external etcd"
    ):
        build_etcd(_cfg("1.2.3.4", "foo", [], external))
