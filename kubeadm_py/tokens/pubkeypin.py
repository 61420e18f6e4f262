"""CA public-key pins (kubeadm ``util/pubkeypin``): ``sha256:`` + hex SHA-256 of the certificate's
DER SubjectPublicKeyInfo; a pin set accepts several and checks certificates against them."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kubeadm_py.errors import KubeadmError

FORMAT_SHA256 = "sha256"
_KNOWN = "Known format(s) are: sha256"


def hash_certificate(cert: x509.Certificate) -> str:
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return f"{FORMAT_SHA256}:{hashlib.sha256(spki).hexdigest()}"


def hash_pem(pem: bytes) -> str:
    return hash_certificate(x509.load_pem_x509_certificate(pem))


def parse_pin(pin: str) -> str:
    """Validate and normalise one pin (lowercase hex), with upstream's error texts."""
    parts = pin.split(":", 1) if pin.count(":") == 1 else None
    if parts is None:
        raise KubeadmError(f'invalid hash "{pin}", expected "format:hex-value". {_KNOWN}')
    fmt, value = parts
    if fmt.lower() != FORMAT_SHA256:
        raise KubeadmError(f'unknown hash format "{fmt}". {_KNOWN}')
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise KubeadmError(f'invalid hash "{pin}": not hex-encoded') from None
    if len(raw) != hashlib.sha256().digest_size:
        raise KubeadmError(f'invalid hash "{value}", expected a 32 byte SHA-256 hash, found {len(raw)} bytes')
    return f"{FORMAT_SHA256}:{value.lower()}"


class PinSet:
    def __init__(self, pins: list[str] | tuple[str, ...] = ()) -> None:
        self.pins = {parse_pin(p) for p in pins}

    def add(self, pin: str) -> None:
        self.pins.add(parse_pin(pin))

    def empty(self) -> bool:
        return not self.pins

    def check(self, certs: list[x509.Certificate]) -> None:
        """At least one certificate's public key must be pinned."""
        for c in certs:
            if hash_certificate(c) in self.pins:
                return
        raise KubeadmError(
            f"none of the public keys {', '.join(sorted(hash_certificate(c) for c in certs))} are pinned"
        )
