"""The generated PKI checked by OpenSSL: chains, subjects, SANs, usages (kubeadm-facts.md §2.2)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.pki_helpers import make_node

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]

# leaf -> (CA file, subject, EKU text, SAN fragments)
LEAVES = {
    "apiserver": (
        "ca",
        "CN=kube-apiserver",
        "TLS Web Server Authentication",
        [
            "DNS:kubernetes.default.svc.cluster.local",
            "DNS:node1",
            "DNS:cp.example.com",
            "DNS:extra.example.com",
            "IP Address:10.96.0.1",
            "IP Address:10.0.0.1",
        ],
    ),
    "apiserver-kubelet-client": (
        "ca",
        "O=kubeadm:cluster-admins, CN=kube-apiserver-kubelet-client",
        "TLS Web Client Authentication",
        [],
    ),
    "front-proxy-client": ("front-proxy-ca", "CN=front-proxy-client", "TLS Web Client Authentication", []),
    "etcd/server": (
        "etcd/ca",
        "CN=node1",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        [
            "DNS:localhost",
            "DNS:node1",
            "IP Address:10.0.0.1",
            "IP Address:127.0.0.1",
            "IP Address:0:0:0:0:0:0:0:1",
        ],
    ),
    "etcd/peer": (
        "etcd/ca",
        "CN=node1",
        "TLS Web Server Authentication, TLS Web Client Authentication",
        ["DNS:localhost", "IP Address:127.0.0.1"],
    ),
    "etcd/healthcheck-client": (
        "etcd/ca",
        "CN=kube-etcd-healthcheck-client",
        "TLS Web Client Authentication",
        [],
    ),
    "apiserver-etcd-client": (
        "etcd/ca",
        "CN=kube-apiserver-etcd-client",
        "TLS Web Client Authentication",
        [],
    ),
}
CAS = {"ca": "CN=kubernetes", "front-proxy-ca": "CN=front-proxy-ca", "etcd/ca": "CN=etcd-ca"}


def openssl(*args: str) -> str:
    r = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("alg", ["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"])
def test_every_leaf_chains_to_its_ca(tmp_path: Path, alg: str) -> None:
    make_node(tmp_path, alg)
    d = tmp_path / "etc/kubernetes/pki"
    for leaf, (ca, *_rest) in LEAVES.items():
        out = openssl("verify", "-x509_strict", "-CAfile", str(d / f"{ca}.crt"), str(d / f"{leaf}.crt"))
        assert out.strip().endswith(": OK")
    # and not to a different CA
    r = subprocess.run(
        ["openssl", "verify", "-CAfile", str(d / "etcd/ca.crt"), str(d / "apiserver.crt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    # key pairs match (public key of the key file == public key in the certificate)
    for leaf in [*LEAVES, *CAS]:
        assert openssl("pkey", "-in", str(d / f"{leaf}.key"), "-pubout") == openssl(
            "x509", "-in", str(d / f"{leaf}.crt"), "-noout", "-pubkey"
        )
    assert openssl("pkey", "-in", str(d / "sa.key"), "-pubout") == (d / "sa.pub").read_text()


def test_subjects_sans_and_usages(tmp_path: Path) -> None:
    make_node(tmp_path, "RSA-2048")
    d = tmp_path / "etc/kubernetes/pki"
    for leaf, (ca, subject, eku, sans) in LEAVES.items():
        text = openssl(
            "x509", "-in", str(d / f"{leaf}.crt"), "-noout", "-text", "-nameopt", "sep_comma_plus_space"
        )
        assert re.search(rf"Subject: {re.escape(subject)}\n", text), text
        assert f"Issuer: {CAS[ca]}" in text
        assert re.search(r"X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n", text)
        assert re.search(rf"X509v3 Extended Key Usage: ?\n\s+{re.escape(eku)}\n", text)
        assert re.search(r"X509v3 Basic Constraints: critical\n\s+CA:FALSE", text)
        assert "X509v3 Authority Key Identifier" in text
        assert "Exponent: 65537" in text
        for s in sans:
            assert s in text, (leaf, s)
        if not sans:
            assert "Subject Alternative Name" not in text
    for ca, subject in CAS.items():
        text = openssl(
            "x509", "-in", str(d / f"{ca}.crt"), "-noout", "-text", "-nameopt", "sep_comma_plus_space"
        )
        assert f"Subject: {subject}\n" in text and f"Issuer: {subject}\n" in text
        assert re.search(
            r"Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign\n", text
        )
        assert re.search(r"Basic Constraints: critical\n\s+CA:TRUE\n", text)
        assert "Subject Key Identifier" in text
    assert (d / "ca.key").read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    openssl("rsa", "-in", str(d / "ca.key"), "-check", "-noout")


REFERENCE_KUBEADM = Path("/var/cache/kubeadm-py-testbed/bin/kubeadm")


@pytest.mark.skipif(
    not REFERENCE_KUBEADM.exists(), reason="reference kubeadm v1.20.2 not built (testbed/build.sh)"
)
def test_v120_subjects_equal_the_reference_kubeadm(tmp_path: Path) -> None:
    """For kubernetesVersion v1.20.2, every certificate subject (CN and O, as openssl prints it) is
    what the reference kubeadm v1.20.2 writes for the same node."""
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.pki import manager
    from tests.integration.pki_helpers import make_cfg

    cfg = make_cfg()
    cfg.cluster["kubernetesVersion"] = "v1.20.2"
    ours = tmp_path / "ours"
    ours.mkdir()
    manager.create_pki(HostFS(rootfs=ours), cfg)
    ref_dir = tmp_path / "ref"
    conf = tmp_path / "ref.yaml"
    conf.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n"
        "localAPIEndpoint: {advertiseAddress: 10.0.0.1}\nnodeRegistration: {name: node1}\n---\n"
        "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\nkubernetesVersion: v1.20.2\n"
        f"certificatesDir: {ref_dir}\ncontrolPlaneEndpoint: cp.example.com:6443\n"
    )
    subprocess.run(
        [str(REFERENCE_KUBEADM), "init", "phase", "certs", "all", "--config", str(conf)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ref_certs = sorted(p.relative_to(ref_dir) for p in ref_dir.rglob("*.crt"))
    assert ref_certs == sorted(
        p.relative_to(ours / "etc/kubernetes/pki") for p in (ours / "etc/kubernetes/pki").rglob("*.crt")
    )
    for rel in ref_certs:
        want = openssl("x509", "-in", str(ref_dir / rel), "-noout", "-subject")
        have = openssl("x509", "-in", str(ours / "etc/kubernetes/pki" / rel), "-noout", "-subject")
        assert have == want, rel
