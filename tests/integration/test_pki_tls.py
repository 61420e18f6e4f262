"""TLS handshakes with the generated apiserver certificate for every SAN, and kubectl parsing
every generated kubeconfig."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from tests.integration.pki_helpers import make_node

pytestmark = pytest.mark.integration

SANS = [
    "10.0.0.1",
    "10.96.0.1",
    "kubernetes.default.svc.cluster.local",
    "kubernetes",
    "node1",
    "cp.example.com",
    "extra.example.com",
]


class TLSServer:
    """A one-thread TLS server on 127.0.0.1 that completes handshakes and echoes one line."""

    def __init__(self, cert: Path, key: Path, client_ca: Path | None = None) -> None:
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(str(cert), str(key))
        if client_ca is not None:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(str(client_ca))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello\n")
            except (ssl.SSLError, OSError):
                conn.close()

    def close(self) -> None:
        self.stop = True
        self.sock.close()
        self.thread.join(5)


@pytest.fixture(scope="module", params=["RSA-2048", "ECDSA-P384"])
def node(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"node-{request.param}")
    make_node(root, request.param, kubeconfigs=True)
    return root


def handshake(port: int, ca: Path, name: str, client: tuple[Path, Path] | None = None) -> bytes:
    ctx = ssl.create_default_context(cafile=str(ca))
    if client:
        ctx.load_cert_chain(str(client[0]), str(client[1]))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as tls,
    ):
        return tls.recv(16)


def test_apiserver_cert_serves_every_san(node):
    d = node / "etc/kubernetes/pki"
    srv = TLSServer(d / "apiserver.crt", d / "apiserver.key")
    try:
        for name in SANS:
            assert handshake(srv.port, d / "ca.crt", name) == b"hello\n", name
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(srv.port, d / "ca.crt", "not-a-san.example.com")
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(srv.port, d / "front-proxy-ca.crt", "kubernetes")
    finally:
        srv.close()


def test_kubelet_client_cert_is_accepted_with_client_auth(node):
    d = node / "etc/kubernetes/pki"
    srv = TLSServer(d / "apiserver.crt", d / "apiserver.key", client_ca=d / "ca.crt")
    try:
        got = handshake(
            srv.port,
            d / "ca.crt",
            "node1",
            (d / "apiserver-kubelet-client.crt", d / "apiserver-kubelet-client.key"),
        )
        assert got == b"hello\n"
    finally:
        srv.close()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(
    ("file", "user", "server"),
    [
        ("admin.conf", "kubernetes-admin", "https://cp.example.com:6443"),
        ("super-admin.conf", "kubernetes-super-admin", "https://cp.example.com:6443"),
        # v1.32: the control-plane endpoint (ControlPlaneKubeletLocalMode is on from v1.33; versioned.py)
        ("kubelet.conf", "system:node:node1", "https://cp.example.com:6443"),
        ("controller-manager.conf", "system:kube-controller-manager", "https://10.0.0.1:6443"),
        ("scheduler.conf", "system:kube-scheduler", "https://10.0.0.1:6443"),
    ],
)
def test_kubectl_parses_kubeconfigs(node, file, user, server):
    path = node / "etc/kubernetes" / file
    r = subprocess.run(
        ["kubectl", "--kubeconfig", str(path), "config", "view", "--raw", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["current-context"] == f"{user}@kubernetes"
    assert doc["clusters"][0]["cluster"]["server"] == server
    assert doc["users"][0]["user"]["client-certificate-data"]
    r = subprocess.run(
        ["kubectl", "--kubeconfig", str(path), "config", "current-context"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.strip() == f"{user}@kubernetes"
