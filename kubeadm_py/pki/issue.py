"""Issuing certificates the way kubeadm's ``pkiutil`` does with Go's ``x509.CreateCertificate``.

- Serial: uniform random in [1, 2^63-1).
- Validity: NotBefore = run start - 5 min (CertificateBackdate), NotAfter = start + period.
- Subject: O values (one RDN) then CN, PrintableString where printable, as Go encodes pkix.Name.
- Extensions, in Go's order: KeyUsage (critical; DigitalSignature, KeyEncipherment, +CertSign for
  a CA), ExtKeyUsage (leaves), BasicConstraints (critical; CA=true without path length for a CA),
  SubjectKeyIdentifier (CAs only, RFC 5280 SHA-1 method as Go <1.25), AuthorityKeyIdentifier
  (leaves: the CA's SKI), SubjectAltName (CA: DNS = CN).
- Signature: SHA-256 with RSA or P-256 keys, SHA-384 with P-384.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeadm_py.errors import KubeadmError
from kubeadm_py.pki.keys import PrivateKey, PublicKey, signature_hash
from kubeadm_py.pki.sans import IPAddress

try:  # Go writes PrintableString when it can; cryptography would default to UTF8String.
    from cryptography.x509.name import _ASN1Type

    _PRINTABLE: object | None = _ASN1Type.PrintableString
except ImportError:  # pragma: no cover
    _PRINTABLE = None

EKU_OIDS = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH}
EKU_NAMES = {v.dotted_string: k for k, v in EKU_OIDS.items()}
_PRINTABLE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
MAX_SERIAL = 2**63 - 1


@dataclass(frozen=True)
class Profile:
    """What a certificate must say: subject, SANs, usages."""

    cn: str
    orgs: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    ips: tuple[IPAddress, ...] = ()
    ekus: tuple[str, ...] = ()
    is_ca: bool = False


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    if _PRINTABLE is not None and value and set(value) <= _PRINTABLE_CHARS:
        return x509.NameAttribute(oid, value, _type=_PRINTABLE)  # type: ignore[arg-type]
    return x509.NameAttribute(oid, value)


def subject(cn: str, orgs: Sequence[str] = ()) -> x509.Name:
    rdns = []
    if orgs:
        rdns.append(x509.RelativeDistinguishedName([_attr(NameOID.ORGANIZATION_NAME, o) for o in orgs]))
    rdns.append(x509.RelativeDistinguishedName([_attr(NameOID.COMMON_NAME, cn)]))
    return x509.Name(rdns)


def random_serial() -> int:
    return secrets.randbelow(MAX_SERIAL - 1) + 1


def _key_usage(is_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=is_ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _san(dns: Iterable[str], ips: Iterable[IPAddress]) -> x509.SubjectAlternativeName | None:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(i) for i in ips]
    return x509.SubjectAlternativeName(names) if names else None


def build(
    profile: Profile,
    public_key: PublicKey,
    signer: PrivateKey,
    issuer: x509.Certificate | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """Sign a certificate for ``public_key``; ``issuer`` None means self-signed."""
    if not profile.cn:
        raise KubeadmError("must specify a CommonName")
    if not profile.is_ca and not profile.ekus:
        raise KubeadmError("must specify at least one ExtKeyUsage")
    name = subject(profile.cn, profile.orgs)
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_key_usage(profile.is_ca), critical=True)
    )
    if profile.ekus:
        b = b.add_extension(x509.ExtendedKeyUsage([EKU_OIDS[e] for e in profile.ekus]), critical=False)
    b = b.add_extension(x509.BasicConstraints(ca=profile.is_ca, path_length=None), critical=True)
    if profile.is_ca:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    if issuer is not None:
        try:
            ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            b = b.add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
        except x509.ExtensionNotFound:
            pass
    san = _san(profile.dns, profile.ips)
    if san is not None:
        b = b.add_extension(san, critical=False)
    cert = b.sign(signer, signature_hash(signer))
    try:  # a corrupt signing key (its consistency check is skipped when loading) fails here
        cert.verify_directly_issued_by(issuer if issuer is not None else cert)
    except Exception as e:  # noqa: BLE001
        raise KubeadmError(f"the signing key produced an invalid signature for {profile.cn!r}: {e}") from None
    return cert


def self_signed_ca(
    cn: str, key: PrivateKey, not_before: datetime, not_after: datetime, orgs: Sequence[str] = ()
) -> x509.Certificate:
    profile = Profile(cn=cn, orgs=tuple(orgs), dns=(cn,), is_ca=True)
    return build(profile, key.public_key(), key, None, not_before, not_after)


def encode_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(data: bytes, source: str) -> x509.Certificate:
    """The first certificate of a PEM file (upstream TryLoadCertFromDisk)."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        lines = str(e).strip().splitlines()
        raise KubeadmError(
            f"{source}: not a valid PEM certificate ({lines[0] if lines else 'parse error'})"
        ) from None
    if not certs:
        raise KubeadmError(f"{source}: no certificate found")
    return certs[0]


def profile_of(cert: x509.Certificate) -> Profile:
    """Read a certificate's subject, SANs and usages back (used by renewal and verification)."""
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    dns: tuple[str, ...] = ()
    ips: tuple[IPAddress, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(i for i in san.get_values_for_type(x509.IPAddress) if not isinstance(i, tuple))  # type: ignore[misc]
    except x509.ExtensionNotFound:
        pass
    ekus: tuple[str, ...] = ()
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ekus = tuple(EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in eku)
    except x509.ExtensionNotFound:
        pass
    is_ca = False
    with contextlib.suppress(x509.ExtensionNotFound):
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    return Profile(cn=str(cns[0]) if cns else "", orgs=orgs, dns=dns, ips=ips, ekus=ekus, is_ca=is_ca)


def not_before(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before_utc


def not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after_utc
