"""Re-issuing a certificate with other dates (a short-validity certificate), for the verify tests."""

from __future__ import annotations

from datetime import datetime, timedelta


def reissue(cert_pem: bytes, ca_pem: bytes, ca_key_pem: bytes, not_after: datetime) -> tuple[bytes, bytes]:
    """``cert_pem`` signed again by the CA with the same subject, key and extensions, valid from a
    day ago until ``not_after``: (PEM, DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    old = x509.load_pem_x509_certificate(cert_pem)
    ca = x509.load_pem_x509_certificate(ca_pem)
    key = serialization.load_pem_private_key(ca_key_pem, None)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(ca.subject)
        .public_key(old.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(old.not_valid_before_utc, not_after - timedelta(days=2)))
        .not_valid_after(not_after)
    )
    for ext in old.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    new = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
    return new.public_bytes(serialization.Encoding.PEM), new.public_bytes(serialization.Encoding.DER)
