"""Certificate and key files under certDir, read and written only through HostFS.

Keys are written 0600, certificates and public keys 0644, each atomically (HostFS). A key is
written before its certificate, so an interrupted run leaves at most a key without a
certificate, which the next run completes (see :mod:`kubeadm_py.pki.manager`)."""

from __future__ import annotations

from cryptography import x509

from kubeadm_py.changes import Change
from kubeadm_py.constants import host_join
from kubeadm_py.hostfs import CERT_MODE, KEY_MODE, PUBLIC_MODE, HostFS
from kubeadm_py.pki import issue, keys
from kubeadm_py.pki.keys import PrivateKey, PublicKey


class PKIStore:
    def __init__(self, fs: HostFS, cert_dir: str) -> None:
        self.fs = fs
        self.cert_dir = cert_dir.rstrip("/") or "/"

    def path(self, filename: str) -> str:
        return host_join(self.cert_dir, filename)

    def cert_path(self, base: str) -> str:
        return self.path(f"{base}.crt")

    def key_path(self, base: str) -> str:
        return self.path(f"{base}.key")

    def has_cert(self, base: str) -> bool:
        return self.fs.exists(self.cert_path(base))

    def has_key(self, base: str) -> bool:
        return self.fs.exists(self.key_path(base))

    def read_cert(self, base: str) -> x509.Certificate | None:
        p = self.cert_path(base)
        data = self.fs.read_bytes(p)
        return None if data is None else issue.load_cert(data, p)

    def read_key(self, base: str) -> PrivateKey | None:
        p = self.key_path(base)
        data = self.fs.read_bytes(p)
        return None if data is None else keys.load_private_key(data, p)

    def read_public(self, filename: str) -> PublicKey | None:
        p = self.path(filename)
        data = self.fs.read_bytes(p)
        return None if data is None else keys.load_public_key(data, p)

    def write_key(self, base: str, key: PrivateKey, detail: str = "") -> Change:
        return self.fs.write(
            self.key_path(base),
            keys.encode_private_key(key),
            KEY_MODE,
            secret=True,
            detail=detail or "private key",
        )

    def write_cert(self, base: str, cert: x509.Certificate, detail: str = "") -> Change:
        return self.fs.write(self.cert_path(base), issue.encode_cert(cert), CERT_MODE, detail=detail)

    def write_cert_and_key(self, base: str, cert: x509.Certificate, key: PrivateKey | None) -> list[Change]:
        out = []
        if key is not None:
            out.append(self.write_key(base, key))
        out.append(self.write_cert(base, cert))
        return out

    def write_public(self, filename: str, key: PublicKey) -> Change:
        return self.fs.write(
            self.path(filename), keys.encode_public_key(key), PUBLIC_MODE, detail="public key"
        )
