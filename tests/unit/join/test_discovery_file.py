"""File discovery: a kubeconfig path, an https URL served by a local TLS server, refresh rules."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeadm_py.discovery import file as file_discovery
from kubeadm_py.discovery.discover import discover
from kubeadm_py.discovery.token import DiscoveryError
from kubeadm_py.effectors.discovery import FetchError

from .conftest import SERVER, TOKEN, FakeClock, FakeFetcher, cluster_info, cluster_info_kubeconfig, make_ca


def kubeconfig(ca_pem: bytes | None, server: str = SERVER, token: str | None = None) -> str:
    ca_line = f"    certificate-authority-data: {base64.b64encode(ca_pem).decode()}\n" if ca_pem else ""
    users = f"users:\n- name: joiner\n  user:\n    token: {token}\n" if token else "users: []\n"
    return (
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
        f"{ca_line}    server: {server}\n  name: prod\n"
        "contexts:\n- context:\n    cluster: prod\n    user: joiner\n  name: joiner@prod\n"
        f"current-context: joiner@prod\n{users}"
    )


@pytest.fixture(scope="module")
def ca() -> tuple[bytes, bytes]:
    return make_ca()


def _reader(tmp: Path):  # noqa: ANN202
    def read(p: str) -> bytes | None:
        path = Path(p)
        return path.read_bytes() if path.exists() else None

    return read


def test_file_path_discovery_with_tls_bootstrap_token(tmp_path: Path, ca: tuple[bytes, bytes]) -> None:
    p = tmp_path / "discovery.conf"
    p.write_text(kubeconfig(ca[0]))
    f = FakeFetcher(ca[0], [cluster_info(cluster_info_kubeconfig(ca[0]))])
    join = {"discovery": {"file": {"kubeConfigPath": str(p)}, "tlsBootstrapToken": TOKEN}}
    d = discover(join, fetcher=f, read_file=_reader(tmp_path), clock=FakeClock())
    assert d.method == "file" and d.cluster.server == SERVER and d.cluster.ca_pem == ca[0]
    assert f.calls[0][1] == ca[0]  # verified with the file's CA
    kc = d.bootstrap_kubeconfig
    assert kc["users"] == [{"name": "tls-bootstrap-token-user", "user": {"token": TOKEN}}]
    assert kc["clusters"][0]["name"] == "kubernetes"


def test_forbidden_refresh_is_accepted(tmp_path: Path, ca: tuple[bytes, bytes]) -> None:
    p = tmp_path / "d.conf"
    p.write_text(kubeconfig(ca[0]))
    f = FakeFetcher(ca[0], [FetchError("forbidden", forbidden=True)])
    logs: list[str] = []
    d = discover(
        {"discovery": {"file": {"kubeConfigPath": str(p)}, "tlsBootstrapToken": TOKEN}},
        fetcher=f,
        read_file=_reader(tmp_path),
        log=logs.append,
        clock=FakeClock(),
    )
    assert d.cluster.ca_pem == ca[0]
    assert any("TLS certificate is valid so proceeding" in m for m in logs)


def test_missing_ca_is_taken_from_cluster_info(tmp_path: Path, ca: tuple[bytes, bytes]) -> None:
    p = tmp_path / "d.conf"
    p.write_text(kubeconfig(None))
    f = FakeFetcher(ca[0], [cluster_info(cluster_info_kubeconfig(ca[0]))])
    d = discover(
        {"discovery": {"file": {"kubeConfigPath": str(p)}, "tlsBootstrapToken": TOKEN}},
        fetcher=f,
        read_file=_reader(tmp_path),
        clock=FakeClock(),
    )
    assert f.calls[0][1] == b""  # the host CA bundle, not "no verification"
    assert d.cluster.ca_pem == ca[0]


def test_file_credentials_used_without_tls_token(tmp_path: Path, ca: tuple[bytes, bytes]) -> None:
    p = tmp_path / "d.conf"
    p.write_text(kubeconfig(ca[0], token="ghijkl.0123456789ghijkl"))
    f = FakeFetcher(ca[0], [cluster_info(cluster_info_kubeconfig(ca[0]))])
    d = discover(
        {"discovery": {"file": {"kubeConfigPath": str(p)}}},
        fetcher=f,
        read_file=_reader(tmp_path),
        clock=FakeClock(),
    )
    assert d.tls_bootstrap_token == ""
    assert d.bootstrap_kubeconfig["users"][0]["user"] == {"token": "ghijkl.0123456789ghijkl"}
    assert f.calls[0][2] == "ghijkl.0123456789ghijkl"


def test_no_credentials_at_all_is_an_error(tmp_path: Path, ca: tuple[bytes, bytes]) -> None:
    p = tmp_path / "d.conf"
    p.write_text(kubeconfig(ca[0]))
    f = FakeFetcher(ca[0], [cluster_info(cluster_info_kubeconfig(ca[0]))])
    with pytest.raises(DiscoveryError, match="couldn't find authentication credentials"):
        discover(
            {"discovery": {"file": {"kubeConfigPath": str(p)}}},
            fetcher=f,
            read_file=_reader(tmp_path),
            clock=FakeClock(),
        )


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="not found"):
        file_discovery.load(str(tmp_path / "nope"), _reader(tmp_path))
    bad = tmp_path / "bad.conf"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    with pytest.raises(DiscoveryError, match="at least one cluster"):
        file_discovery.load(str(bad), _reader(tmp_path))
    http = tmp_path / "http.conf"
    http.write_text(kubeconfig(None, server="http://10.0.0.1:8080"))
    with pytest.raises(DiscoveryError, match="not an https URL"):
        file_discovery.load(str(http), _reader(tmp_path))
    with pytest.raises(DiscoveryError, match="must use https|unsupported"):
        file_discovery.load("http://example.invalid/x", _reader(tmp_path))


# --- https URL against a real local TLS server ------------------------------------------------


def _server_cert(ca_cert_pem: bytes, ca_key_pem: bytes, dirpath: Path) -> tuple[Path, Path]:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "discovery-server")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    crt, k = dirpath / "srv.crt", dirpath / "srv.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return crt, k


@pytest.fixture
def https_server(tmp_path: Path, ca: tuple[bytes, bytes]) -> Iterator[tuple[str, Path]]:
    crt, key = _server_cert(*ca, tmp_path)
    body = kubeconfig(ca[0]).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/discovery.yaml":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            return None

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(crt, key)
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    cafile = tmp_path / "ca.crt"
    cafile.write_bytes(ca[0])
    try:
        yield f"https://127.0.0.1:{srv.server_address[1]}", cafile
    finally:
        srv.shutdown()
        srv.server_close()


def test_https_url_discovery(https_server: tuple[str, Path], ca: tuple[bytes, bytes]) -> None:
    base, cafile = https_server
    f = FakeFetcher(ca[0], [cluster_info(cluster_info_kubeconfig(ca[0]))])
    d = discover(
        {"discovery": {"file": {"kubeConfigPath": f"{base}/discovery.yaml"}, "tlsBootstrapToken": TOKEN}},
        fetcher=f,
        clock=FakeClock(),
        https_cafile=str(cafile),
    )
    assert d.cluster.server == SERVER and d.cluster.ca_pem == ca[0]


def test_https_url_needs_a_trusted_server(https_server: tuple[str, Path]) -> None:
    base, _ = https_server
    # verified against the host bundle, which does not know the test CA
    with pytest.raises(DiscoveryError, match="cannot download the discovery file"):
        file_discovery.load(f"{base}/discovery.yaml", lambda p: None)
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        file_discovery.load(f"{base}/missing", lambda p: None, cafile=str(https_server[1]))
