"""certs renew / check-expiration / generate-csr / certificate-key and kubeconfig user, through
the library and through the CLI entry point."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from cryptography import x509

from kubeadm_py.certs.renew import RESTART_NOTE, renew, targets
from kubeadm_py.cli.main import main
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubeconfig.files import ensure_kubeconfig
from kubeadm_py.kubeconfig.specs import KUBECONFIGS
from kubeadm_py.pki import issue, manager

from .conftest import pki

KDIR = "/etc/kubernetes"


@pytest.fixture
def cluster(fs, root, cfg):
    manager.create_pki(fs, cfg)
    for spec in KUBECONFIGS:
        ensure_kubeconfig(fs, cfg, spec, KDIR)
    return root


def cert_at(root, base):
    return x509.load_pem_x509_certificate((pki(root) / f"{base}.crt").read_bytes())


def kubeconfig_cert(root, file):
    doc = yaml.safe_load((root / "etc/kubernetes" / file).read_text())
    u = doc["users"][0]["user"]
    return (
        x509.load_pem_x509_certificate(base64.b64decode(u["client-certificate-data"])),
        base64.b64decode(u["client-key-data"]),
    )


def test_targets_match_upstream():
    assert sorted(t.name for t in targets()) == sorted(
        [
            "admin.conf",
            "super-admin.conf",
            "apiserver",
            "apiserver-etcd-client",
            "apiserver-kubelet-client",
            "controller-manager.conf",
            "etcd-healthcheck-client",
            "etcd-peer",
            "etcd-server",
            "front-proxy-client",
            "scheduler.conf",
        ]
    )
    assert "etcd-server" not in {t.name for t in targets(local_etcd=False)}


def test_renew_keeps_identity_and_changes_key(cluster, cfg):
    old = cert_at(cluster, "apiserver")
    old_key = (pki(cluster) / "apiserver.key").read_bytes()
    old_adm, old_adm_key = kubeconfig_cert(cluster, "admin.conf")
    logs: list[str] = []
    renew(HostFS(rootfs=cluster), cfg, "all", KDIR, log=logs.append)
    new = cert_at(cluster, "apiserver")
    assert new.serial_number != old.serial_number
    assert issue.profile_of(new) == issue.profile_of(old)
    assert (pki(cluster) / "apiserver.key").read_bytes() != old_key
    new.verify_directly_issued_by(cert_at(cluster, "ca"))
    new_adm, new_adm_key = kubeconfig_cert(cluster, "admin.conf")
    assert issue.profile_of(new_adm) == issue.profile_of(old_adm) and new_adm_key != old_adm_key
    assert logs[-1] == RESTART_NOTE
    # CAs and kubelet.conf are untouched
    assert kubeconfig_cert(cluster, "kubelet.conf")[1]
    with pytest.raises(KubeadmError, match="unknown certificate 'ca' for renewal"):
        renew(HostFS(rootfs=cluster), cfg, "ca", KDIR)


def test_renew_reuse_key(cluster, cfg):
    key = (pki(cluster) / "etcd/server.key").read_bytes()
    renew(HostFS(rootfs=cluster), cfg, "etcd-server", KDIR, reuse_key=True)
    assert (pki(cluster) / "etcd/server.key").read_bytes() == key


def test_renew_refuses_external_ca(cluster, cfg):
    (pki(cluster) / "ca.key").unlink()
    with pytest.raises(KubeadmError, match="external CA detected"):
        renew(HostFS(rootfs=cluster), cfg, "apiserver", KDIR)


def run_cli(capsys, *args):
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_cli_check_expiration(cluster, capsys):
    rc, out, _ = run_cli(capsys, "certs", "check-expiration", "--rootfs", str(cluster))
    assert rc == 0
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "CERTIFICATE",
        "EXPIRES",
        "RESIDUAL TIME",
        "CERTIFICATE AUTHORITY",
        "EXTERNALLY MANAGED",
    ]
    assert re.match(r"admin\.conf\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+(36[45]d|1y)\s+ca\s+no$", lines[1])
    assert any(re.match(r"etcd-ca\s+.*\s+(9y|10y)\s+no$", line) for line in lines)
    rc, out, _ = run_cli(capsys, "certs", "check-expiration", "--rootfs", str(cluster), "-o", "json")
    doc = json.loads(out)
    assert (
        doc["kind"] == "CertificateExpirationInfo" and doc["apiVersion"] == "output.kubeadm.k8s.io/v1alpha3"
    )
    assert [c["name"] for c in doc["certificateAuthorities"]] == ["ca", "etcd-ca", "front-proxy-ca"]
    assert len(doc["certificates"]) == 11


def test_cli_renew_and_errors(cluster, capsys):
    rc, out, _ = run_cli(capsys, "certs", "renew", "all", "--rootfs", str(cluster))
    assert rc == 0 and "You must restart the kube-apiserver" in out and "PRIVATE KEY" not in out
    rc, _, err = run_cli(capsys, "certs", "renew", "front-proxy-ca", "--rootfs", str(cluster))
    assert rc == 1 and err.startswith("error: unknown certificate 'front-proxy-ca' for renewal")


def test_cli_certificate_key(capsys):
    rc, out, _ = run_cli(capsys, "certs", "certificate-key")
    assert rc == 0 and re.fullmatch(r"[0-9a-f]{64}\n", out)


def test_generate_csr(root, capsys, tmp_path):
    cfgfile = tmp_path / "c.yaml"
    cfgfile.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 10.0.0.1\n"  # noqa: E501
        "nodeRegistration:\n  name: node1\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"  # noqa: E501
        "encryptionAlgorithm: ECDSA-P256\n"
    )
    rc, out, err = run_cli(capsys, "certs", "generate-csr", "--rootfs", str(root), "--config", str(cfgfile))
    assert rc == 0, err
    csr = x509.load_pem_x509_csr((pki(root) / "apiserver.csr").read_bytes())
    assert csr.is_signature_valid
    assert "kubernetes.default.svc.cluster.local" in csr.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DNSName)
    assert (pki(root) / "apiserver.key").stat().st_mode & 0o777 == 0o600
    assert not (pki(root) / "ca.csr").exists()
    partial = yaml.safe_load((root / "etc/kubernetes/admin.conf").read_text())
    assert "client-certificate-data" not in partial["users"][0]["user"]
    assert (
        x509.load_pem_x509_csr((root / "etc/kubernetes/admin.conf.csr").read_bytes()).subject.rfc4514_string()
        == "CN=kubernetes-admin,O=kubeadm:cluster-admins"
    )


def test_cli_kubeconfig_user(cluster, capsys):
    rc, out, err = run_cli(
        capsys,
        "kubeconfig",
        "user",
        "--client-name",
        "jane",
        "--org",
        "a",
        "--org",
        "b",
        "--rootfs",
        str(cluster),
    )
    # without a config file the advertise address is unknown unless the config loader defaults it
    if rc != 0:
        assert "advertiseAddress" in err
        return
    doc = yaml.safe_load(out)
    assert doc["current-context"] == "jane@kubernetes"


def test_cli_kubeconfig_user_with_config(cluster, capsys, tmp_path):
    cfgfile = tmp_path / "c.yaml"
    cfgfile.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n"
        "  advertiseAddress: 10.0.0.1\nnodeRegistration:\n  name: node1\n"
    )
    rc, out, err = run_cli(
        capsys,
        "kubeconfig",
        "user",
        "--client-name",
        "jane",
        "--token",
        "abcdef.0123456789abcdef",
        "--config",
        str(cfgfile),
        "--rootfs",
        str(cluster),
    )
    assert rc == 0, err
    doc = yaml.safe_load(out)
    assert doc["users"][0]["user"] == {"token": "abcdef.0123456789abcdef"}
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.0.0.1:6443"


def test_cli_check_expiration_jsonpath(cluster, capsys):
    from tests.unit.cli.jsonpath_check import check

    def run(argv: list[str]) -> str:
        rc, out, _ = run_cli(capsys, "certs", "check-expiration", "--rootfs", str(cluster), *argv)
        assert rc == 0
        return out

    check(run, [], [".certificates[*].name", ".certificates[0].caName", ".kind",
                    '.certificates[?(@.name=="apiserver")].expirationDate', "..externallyManaged"])
    names = run(["-o", 'jsonpath={range .certificateAuthorities[*]}{.name}{"\\n"}{end}'])
    assert names == "ca\netcd-ca\nfront-proxy-ca\n"
