"""Shared fakes for the join tests: a CA, signed cluster-info ConfigMaps, an in-memory fetcher
with a simulated TLS check, a fake clock and a fake etcd client."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeadm_py.effectors.discovery import FetchError
from kubeadm_py.tokens import jws
from kubeadm_py.tokens.pubkeypin import hash_pem

TOKEN = "abcdef.0123456789abcdef"
TOKEN_ID, TOKEN_SECRET = TOKEN.split(".")
ENDPOINT = "10.0.0.1:6443"
SERVER = "https://10.0.0.1:6443"


def make_ca(cn: str = "kubernetes") -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) of a self-signed CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def cluster_info_kubeconfig(ca_pem: bytes, server: str = SERVER) -> str:
    """What kubeadm stores under cluster-info's `kubeconfig` key (one unnamed cluster)."""
    return (
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        f"    certificate-authority-data: {base64.b64encode(ca_pem).decode()}\n"
        f"    server: {server}\n"
        '  name: ""\n'
        "contexts: null\n"
        'current-context: ""\n'
        "kind: Config\n"
        "preferences: {}\n"
        "users: null\n"
    )


def cluster_info(content: str, tokens: tuple[str, ...] = (TOKEN,), signed: bool = True) -> dict[str, Any]:
    data = {"kubeconfig": content}
    if signed:
        for t in tokens:
            tid, sec = t.split(".")
            data[jws.signature_key(tid)] = jws.compute_detached_signature(content, tid, sec)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-info", "namespace": "kube-public"},
        "data": data,
    }


@dataclass
class FakeClock:
    t: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


class FakeFetcher:
    """Serves cluster-info for one server whose TLS certificate is issued by ``server_ca``: a read
    that verifies TLS with another CA fails as a real TLS handshake would."""

    def __init__(self, server_ca: bytes, answers: list[Any]) -> None:
        self.server_ca = server_ca
        self.answers = list(answers)  # ConfigMap, None, or an Exception; the last one repeats
        self.calls: list[tuple[str, bytes | None, str | None]] = []

    def cluster_info(self, server: str, ca_pem: bytes | None, token: str | None = None) -> Any:
        self.calls.append((server, ca_pem, token))
        if ca_pem is not None and ca_pem and ca_pem != self.server_ca:
            raise FetchError("TLS certificate verification failed")
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def pin(ca_pem: bytes) -> str:
    return hash_pem(ca_pem)


@dataclass
class FakeMember:
    id: int
    name: str
    peer_urls: list[str]
    client_urls: list[str]
    is_learner: bool = False


class FakeEtcd:
    """The EtcdClient interface over an in-memory member list."""

    def __init__(self, members: list[FakeMember], promote_failures: int = 0) -> None:
        self.list = members
        self.promote_failures = promote_failures
        self.calls: list[tuple[str, Any]] = []
        self.endpoints: list[str] = []
        self.cert_dir = ""
        self.timeout = 0.0

    def members(self) -> list[FakeMember]:
        return list(self.list)

    def add_member(self, name: str, peer_url: str, learner: bool = False) -> list[FakeMember]:
        self.calls.append(("add", (name, peer_url, learner)))
        self.list.append(FakeMember(0x1234ABCD, "", [peer_url], [], learner))
        return list(self.list)

    def promote(self, member_id: int) -> None:
        self.calls.append(("promote", member_id))
        if self.promote_failures:
            self.promote_failures -= 1
            raise RuntimeError("etcdserver: can only promote a learner member which is in sync with leader")
        for m in self.list:
            if m.id == member_id:
                m.is_learner = False

    def remove_member(self, member_id: int) -> None:
        self.list = [m for m in self.list if m.id != member_id]

    def member_by_peer_url(self, peer_url: str) -> FakeMember | None:
        return next((m for m in self.list if peer_url in m.peer_urls), None)

    def healthy(self) -> bool:
        return True

    def wait_healthy(self, timeout: float) -> None:
        self.calls.append(("wait_healthy", timeout))
