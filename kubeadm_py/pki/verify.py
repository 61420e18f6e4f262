"""Checks of existing certificates against what the table and configuration require.

Each check returns the list of differences as short phrases (empty = acceptable), so callers can
say exactly what is wrong instead of silently regenerating."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from kubeadm_py.pki import issue, keys
from kubeadm_py.pki.issue import Profile
from kubeadm_py.pki.keys import PrivateKey


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def period_problems(cert: x509.Certificate, now: datetime) -> list[str]:
    nb, na = issue.not_before(cert), issue.not_after(cert)
    if now < nb:
        return [f"not valid before {nb:%Y-%m-%d %H:%M:%S} UTC (clock skew?)"]
    if now > na:
        return [f"expired on {na:%Y-%m-%d %H:%M:%S} UTC"]
    return []


def key_problems(cert: x509.Certificate, key: PrivateKey | None) -> list[str]:
    if key is None:
        return []
    pub = cert.public_key()
    if not isinstance(pub, type(key.public_key())) or keys.public_der(pub) != keys.public_der(
        key.public_key()
    ):
        return ["the private key does not match the certificate's public key"]
    return []


def ca_problems(cert: x509.Certificate, key: PrivateKey | None, now: datetime) -> list[str]:
    out = []
    if not issue.profile_of(cert).is_ca:
        out.append("it is not a CA certificate (BasicConstraints CA=false)")
    out += period_problems(cert, now)
    out += key_problems(cert, key)
    return out


def leaf_problems(
    cert: x509.Certificate,
    key: PrivateKey | None,
    ca: x509.Certificate,
    ca_name: str,
    want: Profile,
    now: datetime,
) -> list[str]:
    """Signed by the current CA, in its validity period, matching key, and carrying at least the
    wanted subject, SANs and extended key usages (extra SANs are allowed, as upstream)."""
    out = []
    if not signed_by(cert, ca):
        out.append(f"it is not signed by the current {ca_name} certificate")
    out += period_problems(cert, now)
    out += key_problems(cert, key)
    have = issue.profile_of(cert)
    if have.cn != want.cn:
        out.append(f"CN is {have.cn!r}, expected {want.cn!r}")
    if sorted(have.orgs) != sorted(want.orgs):
        out.append(f"O is {list(have.orgs)}, expected {list(want.orgs)}")
    missing = [d for d in want.dns if d not in have.dns] + [str(i) for i in want.ips if i not in have.ips]
    if missing:
        out.append(f"SANs {missing} are missing")
    missing_eku = [e for e in want.ekus if e not in have.ekus]
    if missing_eku:
        out.append(f"extended key usages {missing_eku} are missing")
    return out
