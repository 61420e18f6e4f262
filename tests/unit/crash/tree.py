"""Checks of the files a (possibly killed) run left under a rootfs: every file parses as what it
is, keys are 0600, and (once complete) every certificate chains to its CA and matches its key."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PKI = "etc/kubernetes/pki"
# certificate -> the CA that signs it (paths under PKI); the CAs sign themselves
ISSUER = {
    "ca": "ca",
    "apiserver": "ca",
    "apiserver-kubelet-client": "ca",
    "front-proxy-ca": "front-proxy-ca",
    "front-proxy-client": "front-proxy-ca",
    "etcd/ca": "etcd/ca",
    "etcd/server": "etcd/ca",
    "etcd/peer": "etcd/ca",
    "etcd/healthcheck-client": "etcd/ca",
    "apiserver-etcd-client": "etcd/ca",
}
KUBECONFIGS = ("admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf")
MANIFESTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
KUBELET_FILES = ("config.yaml", "kubeadm-flags.env")  # instance-config.yaml: v1.3x only


def is_temp(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _cert(data: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data)


def _key(data: bytes) -> PrivateKeyTypes:
    return serialization.load_pem_private_key(data, None)


def _kubeconfig(data: bytes) -> dict[str, Any]:
    doc = yaml.safe_load(data)
    assert doc["kind"] == "Config", doc.get("kind")
    _cert(base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]))
    user = doc["users"][0]["user"]
    if "client-certificate-data" in user:
        _cert(base64.b64decode(user["client-certificate-data"]))
        _key(base64.b64decode(user["client-key-data"]))
    else:  # bootstrap token, or the kubelet's rotated certificate files
        assert user.get("token") or user.get("client-certificate"), user
    return dict(doc)


def _yaml_kind(kind: str) -> Callable[[bytes], object]:
    def check(data: bytes) -> object:
        doc = yaml.safe_load(data)
        assert isinstance(doc, dict) and doc.get("kind") == kind, (kind, str(doc)[:80])
        return doc

    return check


def _flags_env(data: bytes) -> object:
    assert data.decode().startswith("KUBELET_KUBEADM_ARGS="), data[:60]
    return data


def _parser(rel: str) -> Callable[[bytes], object]:
    name = rel.rsplit("/", 1)[-1]
    if rel.startswith(PKI):
        pem = {".crt": _cert, ".key": _key, ".pub": serialization.load_pem_public_key}
        return pem[name[name.rfind(".") :]]
    if rel.startswith("etc/kubernetes/manifests/"):
        return _yaml_kind("Pod")
    if rel.startswith("etc/kubernetes/tmp/") and name.endswith(".json"):
        return json.loads
    if rel.startswith("etc/kubernetes/") and name.endswith(".conf"):
        return _kubeconfig
    return {
        "var/lib/kubelet/config.yaml": _yaml_kind("KubeletConfiguration"),
        "var/lib/kubelet/instance-config.yaml": _yaml_kind("KubeletConfiguration"),
        "var/lib/kubelet/kubeadm-flags.env": _flags_env,
    }[rel]


def check_files(root: Path, under: str = "") -> int:
    """Every regular file under ``root`` (or its subdirectory ``under``; temporary files aside)
    parses as what it is, and every private key (PKI files and kubeconfigs) is 0600. Returns how
    many files were checked."""
    n = 0
    for path in sorted(p for p in (root / under).rglob("*") if p.is_file() and not is_temp(p)):
        rel = path.relative_to(root).as_posix()
        try:
            _parser(rel)(path.read_bytes())
        except Exception as e:  # noqa: BLE001 - turned into a failure naming the file
            raise AssertionError(f"{rel} does not parse: {type(e).__name__}: {e}") from e
        if rel.endswith((".key", ".conf")):
            assert path.stat().st_mode & 0o777 == 0o600, f"{rel} has mode {path.stat().st_mode & 0o777:o}"
        n += 1
    return n


def check_complete(root: Path, *, openssl_sample: bool = False) -> None:
    """After a run to completion: every expected file, no temporary file, every certificate chains
    to its CA and matches its key, every kubeconfig embeds the cluster CA and a client certificate
    it signed."""
    temps = [p.relative_to(root).as_posix() for p in root.rglob("*") if is_temp(p)]
    assert not temps, f"temporary files left: {temps}"
    check_files(root)
    pki = root / PKI
    for name, issuer in ISSUER.items():
        cert = _cert((pki / f"{name}.crt").read_bytes())
        cert.verify_directly_issued_by(_cert((pki / f"{issuer}.crt").read_bytes()))
        _same_key(cert, _key((pki / f"{name}.key").read_bytes()), name)
    sa_pub = serialization.load_pem_public_key((pki / "sa.pub").read_bytes())
    assert _key((pki / "sa.key").read_bytes()).public_key() == sa_pub, "sa.pub does not match sa.key"
    ca_pem = (pki / "ca.crt").read_bytes()
    for conf in KUBECONFIGS:
        doc = _kubeconfig((root / "etc/kubernetes" / conf).read_bytes())
        assert base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]) == ca_pem, conf
        user = doc["users"][0]["user"]
        client = _cert(base64.b64decode(user["client-certificate-data"]))
        client.verify_directly_issued_by(_cert(ca_pem))
        _same_key(client, _key(base64.b64decode(user["client-key-data"])), conf)
    for m in MANIFESTS:
        assert (root / f"etc/kubernetes/manifests/{m}.yaml").is_file(), m
    for f in KUBELET_FILES:
        assert (root / f"var/lib/kubelet/{f}").is_file(), f
    if openssl_sample:
        for name in ("apiserver", "front-proxy-client", "etcd/server"):
            ca = pki / f"{ISSUER[name]}.crt"
            r = subprocess.run(
                ["openssl", "verify", "-CAfile", str(ca), str(pki / f"{name}.crt")],
                capture_output=True,
                text=True,
                check=False,
            )
            assert r.returncode == 0 and r.stdout.strip().endswith(": OK"), (name, r.stdout, r.stderr)


def _same_key(cert: x509.Certificate, key: PrivateKeyTypes, what: str) -> None:
    assert cert.public_key() == key.public_key(), f"{what}: certificate and key do not match"
