"""Go duration strings ("8760h0m0s") and the time a run starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kubeadm_py.config import formats
from kubeadm_py.errors import KubeadmError

# kubeadm's CertificateBackdate: NotBefore = start - 5 minutes, to tolerate small clock skew.
CERTIFICATE_BACKDATE = timedelta(minutes=5)
DEFAULT_CERT_VALIDITY = "8760h0m0s"
DEFAULT_CA_VALIDITY = "87600h0m0s"


def parse_duration(text: str | int | float, what: str = "duration") -> timedelta:
    """Parse a Go ``time.Duration`` string such as ``8760h0m0s`` or ``90m`` (numbers: seconds)."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    s = str(text).strip()
    if s in ("0", ""):
        return timedelta(0)
    try:
        return timedelta(microseconds=formats.parse_duration(s) / 1000)
    except ValueError:
        raise KubeadmError(f"invalid {what} {text!r}", hint="use a Go duration such as 8760h0m0s") from None


def now() -> datetime:
    """Current UTC time truncated to seconds (X.509 times have second precision)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_duration(d: timedelta) -> str:
    """Short residual time as kubeadm prints it (apimachinery ShortHumanDuration): 364d, 9y, 23h."""
    return formats.short_human_duration(d)
