from __future__ import annotations

import base64

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubeconfig import build
from kubeadm_py.kubeconfig.files import ensure_kubeconfig, user_kubeconfig
from kubeadm_py.kubeconfig.specs import KUBECONFIGS, get
from kubeadm_py.pki import manager

from .conftest import make_cfg, pki, snapshot

KDIR = "/etc/kubernetes"
# file -> (user, O, server)
EXPECTED = {
    "admin.conf": ("kubernetes-admin", ["kubeadm:cluster-admins"], "https://cp.example.com:6443"),
    "super-admin.conf": ("kubernetes-super-admin", ["system:masters"], "https://cp.example.com:6443"),
    "kubelet.conf": ("system:node:node1", ["system:nodes"], "https://10.0.0.1:6443"),
    "controller-manager.conf": ("system:kube-controller-manager", [], "https://10.0.0.1:6443"),
    "scheduler.conf": ("system:kube-scheduler", [], "https://10.0.0.1:6443"),
}


@pytest.fixture
def kcfg():
    return make_cfg(encryptionAlgorithm="ECDSA-P256", controlPlaneEndpoint="cp.example.com")


def write_all(fs, cfg):
    manager.create_pki(fs, cfg, names=["ca"])
    for spec in KUBECONFIGS:
        ensure_kubeconfig(fs, cfg, spec, KDIR)


@pytest.mark.parametrize("file", list(EXPECTED))
def test_kubeconfig_contents(fs, root, kcfg, file):
    write_all(fs, kcfg)
    path = root / "etc/kubernetes" / file
    assert path.stat().st_mode & 0o777 == 0o600
    doc = yaml.safe_load(path.read_text())
    user, orgs, server = EXPECTED[file]
    assert doc["current-context"] == f"{user}@kubernetes"
    assert doc["clusters"] == [
        {
            "name": "kubernetes",
            "cluster": {
                "server": server,
                "certificate-authority-data": base64.b64encode((pki(root) / "ca.crt").read_bytes()).decode(),
            },
        }
    ]
    assert doc["contexts"] == [
        {"name": f"{user}@kubernetes", "context": {"cluster": "kubernetes", "user": user}}
    ]
    assert doc["users"][0]["name"] == user
    cert = x509.load_pem_x509_certificate(
        base64.b64decode(doc["users"][0]["user"]["client-certificate-data"])
    )
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == user
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == orgs
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    ca = x509.load_pem_x509_certificate((pki(root) / "ca.crt").read_bytes())
    cert.verify_directly_issued_by(ca)
    assert base64.b64decode(doc["users"][0]["user"]["client-key-data"]).startswith(
        b"-----BEGIN EC PRIVATE KEY"
    )


def test_endpoints():
    cfg = make_cfg()
    assert build.control_plane_endpoint(cfg) == "https://10.0.0.1:6443"
    cfg.cluster["controlPlaneEndpoint"] = "lb.example.com:8443"
    assert build.control_plane_endpoint(cfg) == "https://lb.example.com:8443"
    cfg.cluster["controlPlaneEndpoint"] = "fd00::10"
    assert build.control_plane_endpoint(cfg) == "https://[fd00::10]:6443"
    cfg.init["localAPIEndpoint"] = {"advertiseAddress": "fd00::1", "bindPort": 7443}
    assert build.local_endpoint(cfg) == "https://[fd00::1]:7443"


def test_rerun_reuses_and_wrong_ca_is_an_error(fs, root, kcfg, tmp_path):
    write_all(fs, kcfg)
    before = snapshot(root)
    again = [ensure_kubeconfig(HostFS(rootfs=root), kcfg, s, KDIR)[0] for s in KUBECONFIGS]
    assert all(c.action == "unchanged" for c in again)
    assert snapshot(root) == before
    # replace the CA: existing kubeconfigs no longer match
    for name in ("ca.crt", "ca.key"):
        (pki(root) / name).unlink()
    manager.create_pki(HostFS(rootfs=root), kcfg, names=["ca"])
    before = snapshot(root)
    with pytest.raises(KubeadmError, match="admin.conf exists already but has got the wrong CA cert"):
        ensure_kubeconfig(HostFS(rootfs=root), kcfg, get("admin"), KDIR)
    assert snapshot(root) == before


def test_garbled_kubeconfig_is_an_error(fs, root, kcfg):
    manager.create_pki(fs, kcfg, names=["ca"])
    p = root / "etc/kubernetes/admin.conf"
    p.write_text("clusters: [unterminated")
    with pytest.raises(KubeadmError, match="failed to load kubeconfig file /etc/kubernetes/admin.conf"):
        ensure_kubeconfig(HostFS(rootfs=root), kcfg, get("admin"), KDIR)
    assert p.read_text() == "clusters: [unterminated"


def test_server_change_only_warns(fs, root, kcfg):
    write_all(fs, kcfg)
    kcfg.cluster["controlPlaneEndpoint"] = "other.example.com"
    logs: list[str] = []
    ch = ensure_kubeconfig(HostFS(rootfs=root), kcfg, get("admin"), KDIR, log=logs.append)
    assert ch[0].action == "unchanged"
    assert any("unexpected API Server URL" in m for m in logs)


def test_external_ca_requires_existing_files(fs, root, kcfg):
    manager.create_pki(fs, kcfg, names=["ca"])
    (pki(root) / "ca.key").unlink()
    with pytest.raises(
        KubeadmError, match="external CA mode: .* so /etc/kubernetes/scheduler.conf must be provided"
    ):
        ensure_kubeconfig(HostFS(rootfs=root), kcfg, get("scheduler"), KDIR)


def test_user_kubeconfig(fs, root, kcfg):
    manager.create_pki(fs, kcfg, names=["ca"])
    from datetime import timedelta

    text = user_kubeconfig(fs, kcfg, "jane", ["devs", "ops"], timedelta(hours=2))
    doc = yaml.safe_load(text)
    assert doc["current-context"] == "jane@kubernetes"
    assert doc["clusters"][0]["cluster"]["server"] == "https://cp.example.com:6443"
    cert = x509.load_pem_x509_certificate(
        base64.b64decode(doc["users"][0]["user"]["client-certificate-data"])
    )
    assert sorted(a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)) == [
        "devs",
        "ops",
    ]
    life = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert life == timedelta(hours=2, minutes=5)
    tok = yaml.safe_load(user_kubeconfig(fs, kcfg, "bot", [], token="abcdef.0123456789abcdef"))
    assert tok["users"] == [{"name": "bot", "user": {"token": "abcdef.0123456789abcdef"}}]


def test_dump_quotes_odd_values():
    cfg = KubeadmConfig(cluster={"clusterName": "my cluster", "kubernetesVersion": "v1.32.10"})
    doc = build.config_document(cfg, "https://h:1", "true", b"x", {"token": "a: b"})
    assert yaml.safe_load(build.dump(doc))["users"][0] == {"name": "true", "user": {"token": "a: b"}}
    assert yaml.safe_load(build.dump(doc))["clusters"][0]["name"] == "my cluster"


# kubelet.conf's server on a control-plane node, per minor (written out, not read from the table):
# the control-plane endpoint up to v1.32 (v1.20.2 tree phases/kubeconfig/kubeconfig.go;
# kubernetes/kubeadm#3243 "For kubeadm 1.32 and below ... controlplaneendpoint"), the local API
# endpoint from v1.33 (ControlPlaneKubeletLocalMode beta, on by default).
@pytest.mark.parametrize(
    ("version", "server"),
    [
        ("v1.20.2", "https://lb.example.test:443"),
        ("v1.30.14", "https://lb.example.test:443"),
        ("v1.31.14", "https://lb.example.test:443"),
        ("v1.32.10", "https://lb.example.test:443"),
        ("v1.33.0", "https://10.0.0.5:6443"),
        ("v1.35.0", "https://10.0.0.5:6443"),
        ("v1.37.1", "https://10.0.0.5:6443"),
    ],
)
def test_kubelet_conf_server_per_minor(version: str, server: str) -> None:
    from kubeadm_py.kubeconfig.specs import get

    cfg = KubeadmConfig(
        cluster={"kubernetesVersion": version, "controlPlaneEndpoint": "lb.example.test:443"},
        init={"localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443}},
    )
    assert build.endpoint(cfg, get("kubelet").endpoint) == server
    # the others do not move: admin.conf on the endpoint, controller-manager/scheduler local
    assert build.endpoint(cfg, get("admin").endpoint) == "https://lb.example.test:443"
    assert build.endpoint(cfg, get("scheduler").endpoint) == "https://10.0.0.5:6443"


@pytest.mark.parametrize(("version", "gate", "local"), [("v1.31.14", True, True), ("v1.35.0", False, False)])
def test_kubelet_local_mode_gate_overrides_the_minor_default(version: str, gate: bool, local: bool) -> None:
    """ControlPlaneKubeletLocalMode set in featureGates wins (alpha in 1.31/1.32; PR #125780)."""
    cfg = KubeadmConfig(
        cluster={
            "kubernetesVersion": version,
            "controlPlaneEndpoint": "lb.example.test",
            "featureGates": {"ControlPlaneKubeletLocalMode": gate},
        },
        init={"localAPIEndpoint": {"advertiseAddress": "10.0.0.5", "bindPort": 6443}},
    )
    assert build.kubelet_local_mode(cfg) is local
    want = "https://10.0.0.5:6443" if local else "https://lb.example.test:6443"
    assert build.endpoint(cfg, "kubelet") == want


@pytest.mark.parametrize(
    ("version", "preferences"), [("v1.20.2", True), ("v1.32.10", True), ("v1.35.0", False)]
)
def test_kubeconfig_preferences_until_v1_34(version: str, preferences: bool) -> None:
    """client-go stops writing `preferences: {}` in v1.34 (#131741, CHANGELOG-1.34.md)."""
    cfg = KubeadmConfig(cluster={"kubernetesVersion": version})
    doc = build.config_document(cfg, "https://h:1", "u", b"x", {"token": "t"})
    assert ("preferences" in doc) is preferences
    assert ("preferences: {}" in build.dump(doc)) is preferences
