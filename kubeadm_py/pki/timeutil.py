"""Go duration strings ("8760h0m0s") and the time a run starts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from kubeadm_py.errors import KubeadmError

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|h|m|s)")

# kubeadm's CertificateBackdate: NotBefore = start - 5 minutes, to tolerate small clock skew.
CERTIFICATE_BACKDATE = timedelta(minutes=5)
DEFAULT_CERT_VALIDITY = "8760h0m0s"
DEFAULT_CA_VALIDITY = "87600h0m0s"


def parse_duration(text: str | int | float, what: str = "duration") -> timedelta:
    """Parse a Go ``time.Duration`` string such as ``8760h0m0s`` or ``90m``."""
    if isinstance(text, int | float):
        return timedelta(seconds=float(text))
    s = str(text).strip()
    if s in ("0", ""):
        return timedelta(0)
    sign = -1.0 if s.startswith("-") else 1.0
    body = s.lstrip("+-")
    pos, total = 0, 0.0
    for m in _PART.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(body) or pos == 0:
        raise KubeadmError(f"invalid {what} {text!r}", hint="use a Go duration such as 8760h0m0s")
    return timedelta(seconds=sign * total)


def now() -> datetime:
    """Current UTC time truncated to seconds (X.509 times have second precision)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_duration(d: timedelta) -> str:
    """Short residual time as kubeadm prints it (apimachinery ShortHumanDuration): 364d, 9y, 23h."""
    secs = int(d.total_seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    hours = secs // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"
