"""The time a run starts and the certificate validity defaults (durations: :mod:`kubeadm_py.durations`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# kubeadm's CertificateBackdate: NotBefore = start - 5 minutes, to tolerate small clock skew.
CERTIFICATE_BACKDATE = timedelta(minutes=5)
DEFAULT_CERT_VALIDITY = "8760h0m0s"
DEFAULT_CA_VALIDITY = "87600h0m0s"


def now() -> datetime:
    """Current UTC time truncated to seconds (X.509 times have second precision)."""
    return datetime.now(UTC).replace(microsecond=0)
