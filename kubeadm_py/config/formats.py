"""Value formats of the kubeadm config API: Go durations (parsed by :mod:`kubeadm_py.durations`),
CIDRs, IPs, versions, tokens.

Each checker returns ``None`` when the value is fine, else a short reason phrase used in the
one-line error (``"10.96.0.0/33" is not a valid CIDR``). :data:`FORMATS` maps the JSON-Schema
``format`` names used in ``schemas/*.json`` to these checkers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from kubeadm_py.durations import is_duration
from kubeadm_py.semver import Version, VersionError

# --- checkers ---------------------------------------------------------------------------------

Checker = Callable[[str], "str | None"]


def check_duration(value: str) -> str | None:
    if is_duration(value):
        return None
    return "is not a valid duration (Go syntax such as 24h0m0s, 4m, 90s)"


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


_LABEL = re.compile(r"^(stable|latest|ci|ci-cross|release)([-/].*)?$")


def check_kubernetes_version(value: str) -> str | None:
    if _LABEL.match(value):
        return (
            "is a release label that needs network access to resolve; kubeadm-py works offline, "
            "so give an explicit version such as v1.20.2"
        )
    try:
        Version.parse(value)
    except VersionError:
        return "is not a valid Kubernetes version (expected vMAJOR.MINOR.PATCH, e.g. v1.20.2)"
    return None


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
    """``host[:port]`` where host is an IP, ``[IPv6]`` or a DNS name: upstream ParseHostPort
    (controlPlaneEndpoint), case-sensitive as IsDNS1123Subdomain."""
    return _endpoint(value, fold_case=False)


def check_join_endpoint(value: str) -> str | None:
    """A join's apiServerEndpoint: as :func:`check_endpoint`, any case (upstream only splits it
    into host and port; the port itself is a rule of its own)."""
    return _endpoint(value, fold_case=True)


def _endpoint(value: str, *, fold_case: bool) -> str | None:
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
    if check_ip(host) is None or check_dns_subdomain(host.lower() if fold_case else host) is None:
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


# distribution/reference's ReferenceRegexp (name[:tag][@digest]), which upstream's
# ValidateImageRepository matches against "<imageRepository>/name:tag".
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"{_NAME}(?::[\w][\w.-]{{0,127}})?(?:@{_DIGEST})?", re.ASCII)


def check_image_repository(value: str) -> str | None:
    """Upstream ValidateImageRepository: ``<value>/name:tag`` must be a valid image reference."""
    if IMAGE_REFERENCE.fullmatch(f"{value}/name:tag"):
        return None
    return "is not a valid image repository (e.g. registry.example.com:5000/kubernetes)"


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def url_scheme(value: str) -> tuple[str, str | None]:
    """``(scheme, parse error)`` as Go's ``url.Parse`` finds them: a colon before any ``/``
    either ends a valid scheme or makes the URL unparsable ("1.2.3.4:2379")."""
    head, sep, _ = value.partition(":")
    if not sep or "/" in head:
        return "", None
    if not head:
        return "", "missing protocol scheme"
    if _SCHEME.fullmatch(head):
        return head.lower(), None
    return "", "first path segment in URL cannot contain colon"


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
    "join-endpoint": check_join_endpoint,
    "cri-socket": check_cri_socket,
}
# Formats of secrets: an error shows the reason, never the value (a mistyped token is nearly the token).
SECRET_FORMATS = frozenset({"bootstrap-token", "certificate-key"})
