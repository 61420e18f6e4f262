"""Vectors of upstream's TestGetAPIServerCommand, TestGetControllerManagerCommand and
TestGetControllerManagerCommandExternalCA (upstream.MANIFESTS_TEST), run against kubeadm-py's
command builders for the newest minor (the vectors are main-branch kubeadm's). Upstream compares
the sorted lists; so does this test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.controlplane import apiserver_command, controller_manager_command
from kubeadm_py.versions import RELEASES

from .upstream import MANIFESTS_TEST

CERTS = "/var/lib/certs"  # testCertsDir
REL = RELEASES[-1]

# The arguments every TestGetAPIServerCommand vector expects (ServiceSubnet "bar", BindPort 123).
_API_BASE = [
    "--enable-admission-plugins=NodeRestriction",
    "--service-cluster-ip-range=bar",
    f"--service-account-key-file={CERTS}/sa.pub",
    f"--service-account-signing-key-file={CERTS}/sa.key",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    f"--client-ca-file={CERTS}/ca.crt",
    f"--tls-cert-file={CERTS}/apiserver.crt",
    f"--tls-private-key-file={CERTS}/apiserver.key",
    f"--kubelet-client-certificate={CERTS}/apiserver-kubelet-client.crt",
    f"--kubelet-client-key={CERTS}/apiserver-kubelet-client.key",
    "--enable-bootstrap-token-auth=true",
    "--secure-port=123",
    "--allow-privileged=true",
    "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
    f"--proxy-client-cert-file={CERTS}/front-proxy-client.crt",
    f"--proxy-client-key-file={CERTS}/front-proxy-client.key",
    "--requestheader-username-headers=X-Remote-User",
    "--requestheader-group-headers=X-Remote-Group",
    "--requestheader-extra-headers-prefix=X-Remote-Extra-",
    f"--requestheader-client-ca-file={CERTS}/front-proxy-ca.crt",
    "--requestheader-allowed-names=front-proxy-client",
]
_LOCAL_ETCD = [
    "--etcd-servers=https://127.0.0.1:2379",
    f"--etcd-cafile={CERTS}/etcd/ca.crt",
    f"--etcd-certfile={CERTS}/apiserver-etcd-client.crt",
    f"--etcd-keyfile={CERTS}/apiserver-etcd-client.key",
]


def _replace(args: list[str], **values: str) -> list[str]:
    out = []
    for a in args:
        name = a[2:].split("=", 1)[0]
        key = name.replace("-", "_")
        out.append(f"--{name}={values[key]}" if key in values else a)
    return out


# (name, ClusterConfiguration fields, advertise address, expected arguments)
APISERVER_VECTORS: list[tuple[str, dict[str, Any], str, list[str]]] = [
    (
        "testing defaults",
        {},
        "1.2.3.4",
        [*_API_BASE, "--authorization-mode=Node,RBAC", "--advertise-address=1.2.3.4", *_LOCAL_ETCD],
    ),
    (
        "ipv6 advertise address",
        {},
        "2001:db8::1",
        [
            *_API_BASE,
            "--authorization-mode=Node,RBAC",
            "--advertise-address=2001:db8::1",
            *_replace(_LOCAL_ETCD, etcd_servers="https://[::1]:2379"),
        ],
    ),
    (
        "an external etcd with custom ca, certs and keys",
        {
            "etcd": {
                "external": {
                    "endpoints": ["https://[2001:abcd:bcda::1]:2379", "https://[2001:abcd:bcda::2]:2379"],
                    "caFile": "fuz",
                    "certFile": "fiz",
                    "keyFile": "faz",
                }
            }
        },
        "2001:db8::1",
        [
            *_API_BASE,
            "--authorization-mode=Node,RBAC",
            "--advertise-address=2001:db8::1",
            "--etcd-servers=https://[2001:abcd:bcda::1]:2379,https://[2001:abcd:bcda::2]:2379",
            "--etcd-cafile=fuz",
            "--etcd-certfile=fiz",
            "--etcd-keyfile=faz",
        ],
    ),
    (
        "an insecure etcd",
        {"etcd": {"external": {"endpoints": ["http://[::1]:2379", "http://[::1]:2380"]}}},
        "2001:db8::1",
        [
            *_API_BASE,
            "--authorization-mode=Node,RBAC",
            "--advertise-address=2001:db8::1",
            "--etcd-servers=http://[::1]:2379,http://[::1]:2380",
        ],
    ),
    (
        "test APIServer.ExtraArgs works as expected",
        {
            "apiServer": {
                "extraArgs": [
                    {"name": "service-cluster-ip-range", "value": "baz"},
                    {"name": "advertise-address", "value": "9.9.9.9"},
                    {"name": "audit-policy-file", "value": "/etc/config/audit.yaml"},
                    {"name": "audit-log-path", "value": "/var/log/kubernetes"},
                ]
            }
        },
        "1.2.3.4",
        [
            *_replace(_API_BASE, service_cluster_ip_range="baz"),
            "--authorization-mode=Node,RBAC",
            "--advertise-address=9.9.9.9",
            *_LOCAL_ETCD,
            "--audit-policy-file=/etc/config/audit.yaml",
            "--audit-log-path=/var/log/kubernetes",
        ],
    ),
    (
        "authorization-mode extra-args ABAC",
        {"apiServer": {"extraArgs": [{"name": "authorization-mode", "value": "ABAC"}]}},
        "1.2.3.4",
        [*_API_BASE, "--authorization-mode=ABAC", "--advertise-address=1.2.3.4", *_LOCAL_ETCD],
    ),
    (
        "authorization-mode extra-args Webhook",
        {"apiServer": {"extraArgs": [{"name": "authorization-mode", "value": "Node,RBAC,Webhook"}]}},
        "1.2.3.4",
        [*_API_BASE, "--authorization-mode=Node,RBAC,Webhook", "--advertise-address=1.2.3.4", *_LOCAL_ETCD],
    ),
    (
        "authorization-config extra-args",
        {
            "apiServer": {
                "extraArgs": [{"name": "authorization-config", "value": "/path/to/authorization/config/file"}]
            }
        },
        "1.2.3.4",
        [
            *_API_BASE,
            "--authorization-config=/path/to/authorization/config/file",
            "--advertise-address=1.2.3.4",
            *_LOCAL_ETCD,
        ],
    ),
    (
        "authorization-config and authorization-mode extra-args",
        {
            "apiServer": {
                "extraArgs": [
                    {"name": "authorization-config", "value": "/path/to/authorization/config/file"},
                    {"name": "authorization-mode", "value": "Node,RBAC,Webhook"},
                ]
            }
        },
        "1.2.3.4",
        [
            *_API_BASE,
            "--authorization-config=/path/to/authorization/config/file",
            "--authorization-mode=Node,RBAC,Webhook",
            "--advertise-address=1.2.3.4",
            *_LOCAL_ETCD,
        ],
    ),
]


def _cfg(cluster: dict[str, Any], advertise: str = "1.2.3.4", bind_port: int = 123) -> KubeadmConfig:
    c: dict[str, Any] = {
        "kubernetesVersion": REL.default_patch,
        "certificatesDir": CERTS,
        "networking": {"serviceSubnet": "bar", "dnsDomain": "cluster.local"},
        **cluster,
    }
    return KubeadmConfig(
        cluster=c, init={"localAPIEndpoint": {"advertiseAddress": advertise, "bindPort": bind_port}}
    )


@pytest.mark.parametrize(
    ("name", "cluster", "advertise", "expected"), APISERVER_VECTORS, ids=[v[0] for v in APISERVER_VECTORS]
)
def test_get_apiserver_command(
    name: str, cluster: dict[str, Any], advertise: str, expected: list[str]
) -> None:
    """upstream: TestGetAPIServerCommand, {MANIFESTS_TEST}"""
    got = apiserver_command(REL, _cfg(cluster, advertise), lambda _m: None)
    assert sorted(got) == sorted(["kube-apiserver", *expected]), MANIFESTS_TEST


_KCM_CONF = "/etc/kubernetes/controller-manager.conf"


def _kcm_base(certs: str = CERTS) -> list[str]:
    return [
        "--bind-address=127.0.0.1",
        "--leader-elect=true",
        f"--kubeconfig={_KCM_CONF}",
        f"--root-ca-file={certs}/ca.crt",
        f"--service-account-private-key-file={certs}/sa.key",
        f"--cluster-signing-cert-file={certs}/ca.crt",
        f"--cluster-signing-key-file={certs}/ca.key",
        "--use-service-account-credentials=true",
        "--controllers=*,bootstrapsigner,tokencleaner",
        f"--authentication-kubeconfig={_KCM_CONF}",
        f"--authorization-kubeconfig={_KCM_CONF}",
        f"--client-ca-file={certs}/ca.crt",
        f"--requestheader-client-ca-file={certs}/front-proxy-ca.crt",
    ]


def _kcm_args(*extra: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in extra]


# (name, ClusterConfiguration fields, expected arguments beyond the base)
KCM_VECTORS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "custom cluster name",
        {"clusterName": "some-other-cluster-name"},
        ["--cluster-name=some-other-cluster-name"],
    ),
    ("custom certs dir", {}, []),
    (
        "custom cluster-cidr",
        {"networking": {"podSubnet": "10.0.1.15/16", "dnsDomain": "cluster.local"}},
        ["--allocate-node-cidrs=true", "--cluster-cidr=10.0.1.15/16"],
    ),
    (
        "custom service-cluster-ip-range",
        {
            "networking": {
                "podSubnet": "10.0.1.15/16",
                "serviceSubnet": "172.20.0.0/24",
                "dnsDomain": "cluster.local",
            }
        },
        [
            "--allocate-node-cidrs=true",
            "--cluster-cidr=10.0.1.15/16",
            "--service-cluster-ip-range=172.20.0.0/24",
        ],
    ),
    (
        "custom extra-args",
        {
            "networking": {"podSubnet": "10.0.1.15/16", "dnsDomain": "cluster.local"},
            "controllerManager": {"extraArgs": _kcm_args(("node-cidr-mask-size", "20"))},
        },
        ["--allocate-node-cidrs=true", "--cluster-cidr=10.0.1.15/16", "--node-cidr-mask-size=20"],
    ),
    (
        "custom IPv6 networking",
        {
            "networking": {
                "podSubnet": "2001:db8::/64",
                "serviceSubnet": "fd03::/112",
                "dnsDomain": "cluster.local",
            }
        },
        [
            "--allocate-node-cidrs=true",
            "--cluster-cidr=2001:db8::/64",
            "--service-cluster-ip-range=fd03::/112",
        ],
    ),
    (
        "IPv6 networking custom extra-args",
        {
            "networking": {
                "podSubnet": "2001:db8::/64",
                "serviceSubnet": "fd03::/112",
                "dnsDomain": "cluster.local",
            },
            "controllerManager": {"extraArgs": _kcm_args(("allocate-node-cidrs", "false"))},
        },
        [
            "--allocate-node-cidrs=false",
            "--cluster-cidr=2001:db8::/64",
            "--service-cluster-ip-range=fd03::/112",
        ],
    ),
    (
        "dual-stack networking",
        {
            "networking": {
                "podSubnet": "2001:db8::/64,10.1.0.0/16",
                "serviceSubnet": "fd03::/112,192.168.0.0/16",
                "dnsDomain": "cluster.local",
            }
        },
        [
            "--allocate-node-cidrs=true",
            "--cluster-cidr=2001:db8::/64,10.1.0.0/16",
            "--service-cluster-ip-range=fd03::/112,192.168.0.0/16",
        ],
    ),
    (
        "dual-stack networking custom extra-args",
        {
            "networking": {"podSubnet": "10.0.1.15/16,2001:db8::/64", "dnsDomain": "cluster.local"},
            "controllerManager": {
                "extraArgs": _kcm_args(("node-cidr-mask-size-ipv4", "20"), ("node-cidr-mask-size-ipv6", "80"))
            },
        },
        [
            "--allocate-node-cidrs=true",
            "--cluster-cidr=10.0.1.15/16,2001:db8::/64",
            "--node-cidr-mask-size-ipv4=20",
            "--node-cidr-mask-size-ipv6=80",
        ],
    ),
]


@pytest.mark.parametrize(("name", "cluster", "extra"), KCM_VECTORS, ids=[v[0] for v in KCM_VECTORS])
def test_get_controller_manager_command(
    name: str, cluster: dict[str, Any], extra: list[str], tmp_path: Path
) -> None:
    """upstream: TestGetControllerManagerCommand. Adaptation: upstream's vectors leave
    networking.serviceSubnet empty where they do not set it; kubeadm-py's builder only reads it."""
    cfg = _cfg({"networking": {"dnsDomain": "cluster.local"}, **cluster})
    got = controller_manager_command(REL, cfg, HostFS(rootfs=tmp_path))
    assert sorted(got) == sorted(["kube-controller-manager", *_kcm_base(), *extra]), MANIFESTS_TEST


@pytest.mark.parametrize("ca_key_present", [False, True])
def test_get_controller_manager_command_external_ca(ca_key_present: bool, tmp_path: Path) -> None:
    """upstream: TestGetControllerManagerCommandExternalCA: ca.crt without ca.key empties the
    cluster-signing flags."""
    certs = "/etc/kubernetes/pki"
    (tmp_path / certs.lstrip("/")).mkdir(parents=True)
    (tmp_path / certs.lstrip("/") / "ca.crt").write_text("ca")
    if ca_key_present:
        (tmp_path / certs.lstrip("/") / "ca.key").write_text("key")
    cfg = KubeadmConfig(
        cluster={
            "kubernetesVersion": REL.default_patch,
            "certificatesDir": certs,
            "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        },
        init={"localAPIEndpoint": {"advertiseAddress": "1.2.3.4"}},
    )
    want = _kcm_base(certs)
    if not ca_key_present:
        want = _replace(want, cluster_signing_cert_file="", cluster_signing_key_file="")
    got = controller_manager_command(REL, cfg, HostFS(rootfs=tmp_path))
    assert sorted(got) == sorted(["kube-controller-manager", *want]), MANIFESTS_TEST
