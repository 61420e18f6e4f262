"""Properties of the generated certificates, checked against kubeadm-facts.md §2 (not against our code)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID as EKU
from cryptography.x509.oid import NameOID

from kubeadm_py.pki import manager

from .conftest import make_cfg, pki

SERVER, CLIENT = EKU.SERVER_AUTH, EKU.CLIENT_AUTH
# name -> (file base, CN, O, EKUs, issuer CN)
EXPECTED = {
    "ca": ("ca", "kubernetes", [], None, "kubernetes"),
    "apiserver": ("apiserver", "kube-apiserver", [], [SERVER], "kubernetes"),
    "apiserver-kubelet-client": (
        "apiserver-kubelet-client",
        "kube-apiserver-kubelet-client",
        ["kubeadm:cluster-admins"],
        [CLIENT],
        "kubernetes",
    ),
    "front-proxy-ca": ("front-proxy-ca", "front-proxy-ca", [], None, "front-proxy-ca"),
    "front-proxy-client": ("front-proxy-client", "front-proxy-client", [], [CLIENT], "front-proxy-ca"),
    "etcd-ca": ("etcd/ca", "etcd-ca", [], None, "etcd-ca"),
    "etcd-server": ("etcd/server", "node1", [], [SERVER, CLIENT], "etcd-ca"),
    "etcd-peer": ("etcd/peer", "node1", [], [SERVER, CLIENT], "etcd-ca"),
    "etcd-healthcheck-client": (
        "etcd/healthcheck-client",
        "kube-etcd-healthcheck-client",
        [],
        [CLIENT],
        "etcd-ca",
    ),
    "apiserver-etcd-client": ("apiserver-etcd-client", "kube-apiserver-etcd-client", [], [CLIENT], "etcd-ca"),
}


def load(root, base):
    return x509.load_pem_x509_certificate((pki(root) / f"{base}.crt").read_bytes())


def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from kubeadm_py.hostfs import HostFS

    root = tmp_path_factory.mktemp("pki")
    cfg = make_cfg(
        # The facts table's version (1.29-1.36 subjects); other minors: test_client_cert_orgs_per_version.
        kubernetesVersion="v1.32.10",
        encryptionAlgorithm="ECDSA-P256",
        controlPlaneEndpoint="cp.example.com:443",
        apiServer={"certSANs": ["extra.example.com", "192.168.1.10", "*.wild.example.com"]},
    )
    st = manager.settings(cfg)
    manager.create_pki(HostFS(rootfs=root), cfg, start=st.start)
    return root, st


@pytest.mark.parametrize("name", list(EXPECTED))
def test_subject_issuer_usages(generated, name):
    root, st = generated
    base, cn, orgs, ekus, issuer = EXPECTED[name]
    cert = load(root, base)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [cn]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == orgs
    assert cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == issuer
    assert 1 <= cert.serial_number < 2**63 - 1
    assert cert.not_valid_before_utc == st.start - timedelta(minutes=5)
    ku = ext(cert, x509.KeyUsage)
    bc = ext(cert, x509.BasicConstraints)
    assert ku.critical and bc.critical
    assert ku.value.digital_signature and ku.value.key_encipherment
    if ekus is None:  # CA
        assert bc.value.ca and bc.value.path_length is None and ku.value.key_cert_sign
        assert cert.not_valid_after_utc == st.start + timedelta(hours=87600)
        assert ext(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [cn]
        ski = ext(cert, x509.SubjectKeyIdentifier).value
        assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        with pytest.raises(x509.ExtensionNotFound):
            ext(cert, x509.ExtendedKeyUsage)
    else:
        assert not bc.value.ca and not ku.value.key_cert_sign
        assert cert.not_valid_after_utc == st.start + timedelta(hours=8760)
        assert list(ext(cert, x509.ExtendedKeyUsage).value) == ekus
        ca = load(
            root,
            EXPECTED[{"kubernetes": "ca", "front-proxy-ca": "front-proxy-ca", "etcd-ca": "etcd-ca"}[issuer]][
                0
            ],
        )
        aki = ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier
        assert aki == ext(ca, x509.SubjectKeyIdentifier).value.digest
        cert.verify_directly_issued_by(ca)


def test_apiserver_sans(generated):
    root, _ = generated
    san = ext(load(root, "apiserver"), x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == sorted(
        [
            "*.wild.example.com",
            "cp.example.com",
            "extra.example.com",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "node1",
        ]
    )
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(i) for i in ("10.96.0.1", "10.0.0.1", "192.168.1.10")
    ]


@pytest.mark.parametrize("name", ["etcd/server", "etcd/peer"])
def test_etcd_sans(generated, name):
    root, _ = generated
    san = ext(load(root, name), x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "node1"]
    assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.1", "127.0.0.1", "::1"]


def test_client_certs_have_no_sans(generated):
    root, _ = generated
    for base in ("apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client"):
        with pytest.raises(x509.ExtensionNotFound):
            ext(load(root, base), x509.SubjectAlternativeName)


def test_pem_types_and_modes(generated):
    root, _ = generated
    d = pki(root)
    assert (d / "ca.key").read_bytes().startswith(b"-----BEGIN EC PRIVATE KEY-----")
    assert (d / "sa.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    for p in d.rglob("*"):
        if p.is_file():
            want = 0o600 if p.suffix == ".key" else 0o644
            assert p.stat().st_mode & 0o777 == want, p


@pytest.mark.parametrize(
    ("alg", "kind", "size", "hash_cls"),
    [
        ("RSA-2048", rsa.RSAPublicKey, 2048, hashes.SHA256),
        ("RSA-3072", rsa.RSAPublicKey, 3072, hashes.SHA256),
        ("RSA-4096", rsa.RSAPublicKey, 4096, hashes.SHA256),
        ("ECDSA-P256", ec.EllipticCurvePublicKey, 256, hashes.SHA256),
        ("ECDSA-P384", ec.EllipticCurvePublicKey, 384, hashes.SHA384),
    ],
)
def test_algorithms(tmp_path, alg, kind, size, hash_cls):
    from kubeadm_py.hostfs import HostFS

    cfg = make_cfg(encryptionAlgorithm=alg)
    manager.create_pki(HostFS(rootfs=tmp_path), cfg, names=["ca", "apiserver", "sa"])
    for base in ("ca", "apiserver"):
        cert = load(tmp_path, base)
        assert isinstance(cert.public_key(), kind) and cert.public_key().key_size == size
        assert isinstance(cert.signature_hash_algorithm, hash_cls)
    key_pem = (pki(tmp_path) / "sa.key").read_bytes()
    if alg.startswith("RSA"):
        assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
        assert load(tmp_path, "ca").public_key().public_numbers().e == 65537
    else:
        assert key_pem.startswith(b"-----BEGIN EC PRIVATE KEY-----")


def test_unknown_algorithm_is_an_error(tmp_path):
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.hostfs import HostFS

    with pytest.raises(KubeadmError, match="unsupported encryptionAlgorithm 'Ed25519'"):
        manager.create_pki(HostFS(rootfs=tmp_path), make_cfg(encryptionAlgorithm="Ed25519"))
    assert not tmp_path.joinpath("etc").exists()


def test_validity_periods_from_config(tmp_path):
    from kubeadm_py.hostfs import HostFS

    cfg = make_cfg(
        encryptionAlgorithm="ECDSA-P256", certificateValidityPeriod="48h", caCertificateValidityPeriod="720h"
    )
    st = manager.settings(cfg)
    manager.create_pki(HostFS(rootfs=tmp_path), cfg, names=["ca", "apiserver"], start=st.start)
    assert load(tmp_path, "ca").not_valid_after_utc == st.start + timedelta(hours=720)
    assert load(tmp_path, "apiserver").not_valid_after_utc == st.start + timedelta(hours=48)


@pytest.mark.parametrize(
    ("version", "kubelet_client", "etcd_clients"),
    [
        # v1.20: O=system:masters on the three clients (reference kubeadm v1.20.2 output, certlist.go).
        ("v1.20.2", ["system:masters"], ["system:masters"]),
        # v1.29-v1.36: kubeadm:cluster-admins for the kubelet client, none for etcd clients (facts table).
        ("v1.32.10", ["kubeadm:cluster-admins"], []),
        # v1.37: no organization; RBAC binding kubeadm:apiserver-kubelet-client instead (#138957).
        ("v1.37.1", [], []),
    ],
)
def test_client_cert_orgs_per_version(tmp_path, version, kubelet_client, etcd_clients):
    from kubeadm_py.hostfs import HostFS

    cfg = make_cfg(kubernetesVersion=version, encryptionAlgorithm="ECDSA-P256")
    manager.create_pki(HostFS(rootfs=tmp_path), cfg)

    def orgs(base):
        cert = load(tmp_path, base)
        return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]

    assert orgs("apiserver-kubelet-client") == kubelet_client
    assert orgs("etcd/healthcheck-client") == etcd_clients
    assert orgs("apiserver-etcd-client") == etcd_clients
    assert orgs("front-proxy-client") == []
