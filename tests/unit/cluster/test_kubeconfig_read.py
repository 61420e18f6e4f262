"""Kubeconfigs read without the ``kubernetes`` package (kubeadm_py/kube/kubeconfig_read.py) must
connect exactly as the package's loader does: same server, CA, client certificate or token. Checked
against a real mutual-TLS HTTPS server on loopback, serving the apiserver certificate kubeadm-py
generates and requiring client certificates from its CA, with the kubeconfigs kubeadm-py writes."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.errors import ApiError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kube import kubeconfig_read, transport
from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.kubeconfig.files import ensure_kubeconfig
from kubeadm_py.kubeconfig.specs import BY_NAME
from kubeadm_py.pki import manager
from tests.integration.pki_helpers import make_cfg

REPO = Path(__file__).resolve().parents[3]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        peer = self.connection.getpeercert()  # type: ignore[attr-defined]
        cn = ""
        for rdn in (peer or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
        body = json.dumps(
            {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "seen", "namespace": "kube-system"},
                "data": {"cn": cn, "auth": self.headers.get("Authorization") or ""},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("node")
    cfg = make_cfg(alg="ECDSA-P256", advertise="127.0.0.1")
    fs = HostFS(rootfs=root)
    manager.create_pki(fs, cfg)
    for name in ("admin", "super-admin"):
        ensure_kubeconfig(fs, cfg, BY_NAME[name], "/etc/kubernetes")
    pki = root / "etc/kubernetes/pki"
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "apiserver.crt"), str(pki / "apiserver.key"))
    ctx.verify_mode = ssl.CERT_OPTIONAL  # token users come without a certificate
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"root": root, "pki": pki, "url": f"https://127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()


def _kubeconfig(node: dict[str, Any], tmp_path: Path, variant: str) -> Path:
    doc = yaml.safe_load((node["root"] / "etc/kubernetes/admin.conf").read_text())
    cluster, user = doc["clusters"][0]["cluster"], doc["users"][0]["user"]
    cluster["server"] = node["url"]
    if variant == "files":  # paths relative to the kubeconfig's directory, as kubectl resolves them
        for key, name in (("certificate-authority-data", "ca.crt"), ("client-certificate-data", "c.crt"),
                          ("client-key-data", "c.key")):  # fmt: skip
            (tmp_path / name).write_bytes(
                base64.b64decode((cluster if "authority" in key else user).pop(key))
            )
        cluster["certificate-authority"], user["client-certificate"], user["client-key"] = (
            "ca.crt",
            "c.crt",
            "c.key",
        )
    elif variant == "token":
        doc["users"][0]["user"] = {"token": "abcdef.0123456789abcdef"}
    elif variant == "insecure":
        del cluster["certificate-authority-data"]
        cluster["insecure-skip-tls-verify"] = True
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


EXPECTED = {
    "inline": ("kubernetes-admin", ""),
    "files": ("kubernetes-admin", ""),
    "token": ("", "Bearer abcdef.0123456789abcdef"),
    "insecure": ("kubernetes-admin", ""),
}


@pytest.mark.parametrize("reader", ["direct", "kubernetes-loader"])
@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_both_readers_connect_the_same_way(
    node: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str, reader: str
) -> None:
    path = _kubeconfig(node, tmp_path, variant)
    assert (kubeconfig_read.read_simple(path.read_text(), str(path)) is not None) is True
    if reader == "kubernetes-loader":
        monkeypatch.setattr(transport, "read_simple", lambda text, p: None)
    c = KubeClient.from_kubeconfig(str(path), retry=RetryPolicy(attempts=1))
    seen = c.get("ConfigMap", "seen", "kube-system")
    assert seen is not None
    assert (seen["data"]["cn"], seen["data"]["auth"]) == EXPECTED[variant]
    assert c.user == ("system:bootstrap:abcdef" if variant == "token" else "kubernetes-admin")


def test_wrong_ca_is_refused(node: dict[str, Any], tmp_path: Path) -> None:
    path = _kubeconfig(node, tmp_path, "inline")
    doc = yaml.safe_load(path.read_text())
    front = (node["pki"] / "front-proxy-ca.crt").read_bytes()
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(front).decode()
    path.write_text(yaml.safe_dump(doc))
    c = KubeClient.from_kubeconfig(str(path), retry=RetryPolicy(attempts=1))
    with pytest.raises(ApiError, match="TLS certificate verification failed"):
        c.get("ConfigMap", "seen", "kube-system")


@pytest.mark.parametrize(
    "user",
    [
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}},
        {"auth-provider": {"name": "oidc"}},
        {"tokenFile": "/tmp/t"},
        {"username": "a", "password": "b"},
        {"client-certificate-data": "not base64!"},
        {"client-certificate": "c.crt"},  # certificate without key
    ],
)
def test_anything_else_goes_to_the_kubernetes_loader(user: dict[str, Any]) -> None:
    doc = {
        "current-context": "c",
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": user}],
    }
    assert kubeconfig_read.read_simple(yaml.safe_dump(doc), "/etc/kubernetes/x.conf") is None
    doc["users"][0]["user"] = {"token": "t"}
    assert kubeconfig_read.read_simple(yaml.safe_dump(doc), "/etc/kubernetes/x.conf") is not None


def test_kubeadm_kubeconfig_does_not_import_the_kubernetes_package(node: dict[str, Any]) -> None:
    conf = node["root"] / "etc/kubernetes/super-admin.conf"
    server = yaml.safe_load(conf.read_text())["clusters"][0]["cluster"]["server"]
    code = (
        "import sys\n"
        "from kubeadm_py.kube.client import KubeClient\n"
        f"c = KubeClient.from_kubeconfig({str(conf)!r})\n"
        "print(c.endpoint, 'kubernetes' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [server, "False"]


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "no-memfd"])
def test_inline_client_credentials_never_touch_the_disk(tmp_path, monkeypatch, memfd: bool) -> None:
    """A kubeconfig's client-key-data reaches ssl through a memory file (memfd): a kill -9 while
    the context is built leaves no private key in $TMPDIR. Without memfd, a private directory is
    removed right after."""
    import datetime
    import ssl
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from kubeadm_py.kube import transport
    from kubeadm_py.kube.kubeconfig_read import Settings

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes-admin")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    if memfd:
        monkeypatch.setattr(tempfile, "mkdtemp", lambda **kw: (_ for _ in ()).throw(AssertionError("disk")))
    else:
        monkeypatch.delattr(transport.os, "memfd_create")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    s = Settings(server="https://x", cert_pem=cert.public_bytes(serialization.Encoding.PEM), key_pem=pem_key)
    transport._load_client_cert(ctx, s)
    assert list(tmp_path.iterdir()) == []
