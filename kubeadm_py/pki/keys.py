"""Private keys: the ``encryptionAlgorithm`` table, generation and PEM encoding as kubeadm
writes them (RSA: PKCS#1 ``RSA PRIVATE KEY``; ECDSA: SEC1 ``EC PRIVATE KEY``; public keys:
PKIX ``PUBLIC KEY``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kubeadm_py.errors import KubeadmError

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]  # noqa: UP007 (runtime alias)
PublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey]  # noqa: UP007

RSA_PUBLIC_EXPONENT = 65537  # Go's rsa.GenerateKey always uses 65537


@dataclass(frozen=True)
class KeyAlgorithm:
    name: str  # value of ClusterConfiguration.encryptionAlgorithm
    kind: str  # "rsa" or "ecdsa"
    bits: int = 0  # RSA modulus size
    curve: type[ec.EllipticCurve] | None = None


ALGORITHMS: dict[str, KeyAlgorithm] = {
    a.name: a
    for a in (
        KeyAlgorithm("RSA-2048", "rsa", bits=2048),
        KeyAlgorithm("RSA-3072", "rsa", bits=3072),
        KeyAlgorithm("RSA-4096", "rsa", bits=4096),
        KeyAlgorithm("ECDSA-P256", "ecdsa", curve=ec.SECP256R1),
        KeyAlgorithm("ECDSA-P384", "ecdsa", curve=ec.SECP384R1),
    )
}
DEFAULT_ALGORITHM = "RSA-2048"


def algorithm(name: str | None) -> KeyAlgorithm:
    try:
        return ALGORITHMS[name or DEFAULT_ALGORITHM]
    except KeyError:
        raise KubeadmError(
            f"unsupported encryptionAlgorithm {name!r}", hint=f"use one of {', '.join(ALGORITHMS)}"
        ) from None


def generate_key(alg: str | KeyAlgorithm | None = None) -> PrivateKey:
    a = alg if isinstance(alg, KeyAlgorithm) else algorithm(alg)
    if a.kind == "rsa":
        return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=a.bits)
    assert a.curve is not None
    return ec.generate_private_key(a.curve())


# Keys this process generated or already parsed, by their PEM: parsing an RSA key runs OpenSSL's
# full consistency check (~130 ms for RSA-2048), and every leaf phase loads its CA key again.
_LOADED: dict[bytes, PrivateKey] = {}


def signature_hash(signer: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """The hash Go's x509.CreateCertificate picks for a signer: SHA-256 for RSA and P-256,
    SHA-384 for P-384, SHA-512 for P-521."""
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        size = signer.curve.key_size
        if size > 384:
            return hashes.SHA512()
        if size > 256:
            return hashes.SHA384()
    return hashes.SHA256()


def encode_private_key(key: PrivateKey) -> bytes:
    """PEM as client-go keyutil.MarshalPrivateKeyToPEM writes it (PKCS#1 / SEC1)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def encode_public_key(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_private_key(data: bytes, source: str) -> PrivateKey:
    """Parse a PEM private key (PKCS#1, SEC1 or PKCS#8); only RSA and ECDSA are accepted, as upstream.

    OpenSSL's RSA consistency check is skipped for speed: callers check that the key matches its
    certificate, and every certificate signed with a loaded key is verified against the CA
    certificate (:func:`kubeadm_py.pki.issue.build`), which a corrupt key cannot pass."""
    cached = _LOADED.get(data)
    if cached is not None:
        return cached
    if b"ENCRYPTED" in data:
        raise KubeadmError(f"{source}: encrypted private keys are not supported")
    try:
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as e:
        raise KubeadmError(f"{source}: not a valid PEM private key ({_first_line(e)})") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KubeadmError(f"the private key file {source} is neither in RSA nor ECDSA format")
    _LOADED[data] = key
    return key


def load_public_key(data: bytes, source: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise KubeadmError(f"{source}: not a valid PEM public key ({_first_line(e)})") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise KubeadmError(f"the public key file {source} is neither in RSA nor ECDSA format")
    return key


def same_public_key(a: PublicKey, b: PublicKey) -> bool:
    return public_der(a) == public_der(b)


def describe(key: PrivateKey | PublicKey) -> str:
    """Human name of a key's algorithm, in encryptionAlgorithm terms."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    return f"ECDSA-P{key.curve.key_size}"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
