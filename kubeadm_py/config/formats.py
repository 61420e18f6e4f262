"""Value formats of the kubeadm config API: Go durations, CIDRs, IPs, versions, tokens.

Each checker returns ``None`` when the value is fine, else a short reason phrase used in the
one-line error (``"10.96.0.0/33" is not a valid CIDR``). :data:`FORMATS` maps the JSON-Schema
``format`` names used in ``schemas/*.json`` to these checkers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import timedelta

# --- Go durations (time.ParseDuration / Duration.String) -------------------------------------

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5
    "μs": 1_000,  # U+03BC
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Parse a Go duration string (``1h2m3s``, ``24h``, ``1.5s``, ``0``) into nanoseconds.

    Raises ``ValueError`` for anything Go's ``time.ParseDuration`` would reject."""
    s = text.strip() if isinstance(text, str) else ""
    if not s:
        raise ValueError("empty duration")
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    pos, total = 0, 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            raise ValueError(f"invalid duration {text!r}")
        number, unit = m.group(1), m.group(2)
        whole, _, frac = number.partition(".")
        scale = _UNITS_NS[unit]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // (10 ** len(frac))
        pos = m.end()
    if pos == 0:
        raise ValueError(f"invalid duration {text!r}")
    return sign * total


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(rest).rjust(digits, '0').rstrip('0')}"


def format_duration(ns: int) -> str:
    """Format nanoseconds the way Go's ``Duration.String`` does: ``24h0m0s``, ``4m0s``, ``1.5s``,
    ``500ms``, ``0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_frac(u, 1_000)}µs"
        return f"{sign}{_frac(u, 1_000_000)}ms"
    hours, rem = divmod(u, 3_600_000_000_000)
    minutes, rem = divmod(rem, 60_000_000_000)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{_frac(rem, 1_000_000_000)}s"


def normalize_duration(text: str) -> str:
    """``"24h"`` -> ``"24h0m0s"`` (what kubeadm prints after a round trip)."""
    return format_duration(parse_duration(text))


def duration_seconds(text: str) -> float:
    """A Go duration string as seconds (for timeouts and TTLs)."""
    return parse_duration(text) / 1e9


def short_human_duration(td: timedelta) -> str:
    """apimachinery's ``duration.ShortHumanDuration``, as kubeadm prints residual times and token
    TTLs: ``45s``, ``3m``, ``23h``, ``364d``, ``9y``."""
    secs = int(td.total_seconds())
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


# --- checkers ---------------------------------------------------------------------------------

Checker = Callable[[str], "str | None"]


def check_duration(value: str) -> str | None:
    try:
        parse_duration(value)
    except ValueError:
        return "is not a valid duration (Go syntax such as 24h0m0s, 4m, 90s)"
    return None


def check_ip(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "is not a valid IP address"
    return None


def parse_cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse one CIDR like Go's ``net.ParseCIDR`` (host bits allowed, prefix required)."""
    if "/" not in value:
        raise ValueError("missing prefix length")
    return ipaddress.ip_network(value.strip(), strict=False)


def parse_cidr_list(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse a dual-stack CIDR list (``10.244.0.0/16,fd00:10:244::/56``)."""
    return [parse_cidr(p) for p in value.split(",")]


def check_cidr(value: str) -> str | None:
    try:
        parse_cidr(value)
    except ValueError:
        return "is not a valid CIDR"
    return None


def check_cidr_list(value: str) -> str | None:
    if value == "":
        return None  # unset, as in Go
    parts = value.split(",")
    for part in parts:
        if check_cidr(part) is not None:
            if len(parts) > 1:
                return f"is not a valid CIDR list ({part.strip()!r} is not a valid CIDR)"
            return "is not a valid CIDR"
    if len(parts) > 2:
        return "has more than two CIDRs (dual-stack takes at most one IPv4 and one IPv6 CIDR)"
    if len(parts) == 2 and parse_cidr(parts[0]).version == parse_cidr(parts[1]).version:
        return "is not dual-stack: the two CIDRs must be one IPv4 and one IPv6"
    return None


_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_MINOR = re.compile(r"^v?(\d+)\.(\d+)$")
_LABEL = re.compile(r"^(stable|latest|ci|ci-cross|release)([-/].*)?$")


def check_kubernetes_version(value: str) -> str | None:
    if _VERSION.match(value) or _MINOR.match(value):
        return None
    if _LABEL.match(value):
        return (
            "is a release label that needs network access to resolve; kubeadm-py works offline, "
            "so give an explicit version such as v1.20.2"
        )
    return "is not a valid Kubernetes version (expected vMAJOR.MINOR.PATCH, e.g. v1.20.2)"


def split_version(value: str) -> tuple[int, int, int] | None:
    m = _VERSION.match(value)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def minor_only(value: str) -> str | None:
    """``"v1.20"`` / ``"1.20"`` -> ``"1.20"``; anything else -> None."""
    m = _MINOR.match(value)
    return f"{m.group(1)}.{m.group(2)}" if m else None


TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


def check_token(value: str) -> str | None:
    return (
        None if TOKEN_RE.match(value) else "is not a valid bootstrap token (format [a-z0-9]{6}.[a-z0-9]{16})"
    )


def check_certificate_key(value: str) -> str | None:
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return None
    return "is not a valid certificate key (64 hex characters, a 32-byte AES key)"


def check_ca_cert_hash(value: str) -> str | None:
    if re.fullmatch(r"sha256:[0-9a-fA-F]{64}", value):
        return None
    return "is not a valid CA public key pin (format sha256:<64 hex characters>)"


_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*$")


def check_dns_subdomain(value: str) -> str | None:
    if len(value) <= 253 and _DNS1123_SUBDOMAIN.match(value):
        return None
    return "is not a valid DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"


def check_endpoint(value: str) -> str | None:
    """``host[:port]`` where host is an IP, ``[IPv6]`` or a DNS name (controlPlaneEndpoint,
    apiServerEndpoint)."""
    bad = "is not a valid endpoint (IP address or DNS name, with optional :port)"
    host, port = value, ""
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return bad
        port = rest[1:]
        if check_ip(host) is not None:
            return bad
    elif value.count(":") == 1:
        host, port = value.split(":")
    elif value.count(":") > 1:  # bare IPv6 without port
        return None if check_ip(value) is None else bad
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        return bad
    if check_ip(host) is None or check_dns_subdomain(host.lower()) is None:
        return None
    return bad


def check_cri_socket(value: str) -> str | None:
    if value.startswith("unix://") or "://" not in value:
        return None  # a missing scheme is fixed up with a warning, as upstream does
    return "is not a valid CRI socket: only the unix:// scheme is supported"


def check_date_time(value: str) -> str | None:
    import datetime

    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "is not a valid RFC 3339 time (e.g. 2026-01-02T15:04:05Z)"
    return None


FORMATS: dict[str, Checker] = {
    "date-time": check_date_time,
    "go-duration": check_duration,
    "ip": check_ip,
    "cidr": check_cidr,
    "cidr-list": check_cidr_list,
    "kubernetes-version": check_kubernetes_version,
    "bootstrap-token": check_token,
    "certificate-key": check_certificate_key,
    "ca-cert-hash": check_ca_cert_hash,
    "dns-subdomain": check_dns_subdomain,
    "endpoint": check_endpoint,
    "cri-socket": check_cri_socket,
}
