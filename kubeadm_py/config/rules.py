"""Semantic rules ported from upstream ``apis/kubeadm/validation/validation.go`` that the JSON
Schemas cannot express (kubernetes/kubernetes@00d24de699fe, the function named in each rule).

Each check takes a defaulted v1beta4 document and yields ``(field path, message, hint)``;
:func:`cluster_warnings` yields what upstream only logs as a warning. The checks are called
from :data:`kubeadm_py.config.validation.SEMANTIC_CHECKS`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from kubeadm_py.config.formats import check_image_repository, parse_cidr_list, url_scheme
from kubeadm_py.durations import HOUR, DurationError, parse_duration

Found = Iterator[tuple[str, str, str | None]]

# Feature gates some supported kubeadm release knows (upstream features.InitFeatureGates);
# any other name is refused, as ValidateFeatureGates does. IPv6DualStack is kubeadm v1.20's.
KNOWN_FEATURE_GATES = (
    "ControlPlaneKubeletLocalMode",
    "EtcdLearnerMode",
    "IPv6DualStack",
    "NodeLocalCRISocket",
    "PublicKeysECDSA",
    "RootlessControlPlane",
    # kubeadm-py's own gate, in no kubeadm release (upstream's alpha SelfHosting gate was removed in
    # v1.12): init runs the control plane as DaemonSets (docs/selfhosting.md).
    "SelfHosting",
    "WaitForAllControlPlaneComponents",
)
# ValidateCertValidity: constants.CertificateValidityPeriod / CACertificateValidityPeriod.
VALIDITY_WARNINGS = (
    ("certificateValidityPeriod", 8760 * HOUR, "certificate expiration", "8760h0m0s"),
    ("caCertificateValidityPeriod", 87600 * HOUR, "CA certificate expiration", "87600h0m0s"),
)
SITE_LOCAL = ipaddress.ip_network("fec0::/10")
# constants.MinimumAddressesInServiceSubnet / MinimumAddressesInPodSubnet.
MIN_SERVICE_ADDRESSES = 10
MIN_POD_ADDRESSES = 254
TOKEN_AUTH_USAGE = "authentication"


def _show(value: Any) -> str:
    return f'"{value}"'


def subnets(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The CIDRs of a (dual-stack) subnet list; none when it does not parse (the schema's
    cidr-list format reports that)."""
    try:
        return parse_cidr_list(value)
    except ValueError:
        return []


def subnet_size(path: str, value: str, minimum: int) -> Found:
    """ValidateIPNetFromString: each subnet holds at least ``minimum`` addresses."""
    for n in subnets(value):
        if n.num_addresses < minimum:
            yield path, f'"{n}" is too small: the minimum is {minimum} addresses', None


def _absolute(path: str, value: Any) -> Found:
    """ValidateAbsolutePath."""
    if isinstance(value, str) and value and not value.startswith("/"):
        yield path, f"{_show(value)} is not an absolute path", None


def external_etcd(external: dict[str, Any], path: str = "etcd.external") -> Found:
    """ValidateEtcd (external): URLs with a scheme (https when any TLS file is set), the client
    certificate and key together, a CA with them, absolute file paths."""
    ca, cert, key = (str(external.get(k) or "") for k in ("caFile", "certFile", "keyFile"))
    if bool(cert) != bool(key):
        yield (
            path,
            "certFile and keyFile must be set together",
            "give both the etcd client certificate and its key, or neither",
        )
    elif cert and not ca:
        yield path, "certFile and keyFile require caFile", "add caFile: the CA that signed the etcd servers"
    require_https = bool(ca or cert or key)
    for i, endpoint in enumerate(external.get("endpoints") or []):
        if not isinstance(endpoint, str):
            continue
        where = f"{path}.endpoints[{i}]"
        scheme, error = url_scheme(endpoint)
        if error:
            yield where, f"{_show(endpoint)} is not a valid URL ({error})", f"write it as https://{endpoint}"
        elif not scheme:
            yield where, f"{_show(endpoint)} has no URL scheme", f"write it as https://{endpoint}"
        elif require_https and scheme != "https":
            yield (
                where,
                f"{_show(endpoint)} must use https when caFile, certFile or keyFile is set",
                None,
            )
    for name, value in (("caFile", ca), ("certFile", cert), ("keyFile", key)):
        yield from _absolute(f"{path}.{name}", value)


def image_repositories(doc: dict[str, Any]) -> Found:
    """ValidateImageRepository for imageRepository, dns.imageRepository and
    etcd.local.imageRepository (the last two only when set)."""
    local = (doc.get("etcd") or {}).get("local") or {}
    for path, value, always in (
        ("imageRepository", doc.get("imageRepository"), True),
        ("dns.imageRepository", (doc.get("dns") or {}).get("imageRepository"), False),
        ("etcd.local.imageRepository", local.get("imageRepository"), False),
    ):
        if not isinstance(value, str) or (not value and not always):
            continue
        reason = check_image_repository(value)
        if reason:
            yield path, f"{_show(value)} {reason}", None


def feature_gates(doc: dict[str, Any]) -> Found:
    """ValidateFeatureGates: only gates kubeadm knows."""
    for name in doc.get("featureGates") or {}:
        if name not in KNOWN_FEATURE_GATES:
            yield (
                f"featureGates.{name}",
                f"{_show(name)} is not a valid feature gate",
                f"known: {', '.join(KNOWN_FEATURE_GATES)}",
            )


def bootstrap_tokens(tokens: Any) -> Found:
    """ValidateBootstrapTokens: groups only with the authentication usage; ttl and expires are
    mutually exclusive (static defaulting leaves ttl unset when expires is given)."""
    for i, token in enumerate(tokens if isinstance(tokens, list) else []):
        if not isinstance(token, dict):
            continue
        path = f"bootstrapTokens[{i}]"
        if token.get("groups") and TOKEN_AUTH_USAGE not in (token.get("usages") or []):
            yield (
                f"{path}.groups",
                f'token groups cannot be specified unless usages includes "{TOKEN_AUTH_USAGE}"',
                "add authentication to usages, or remove groups",
            )
        if token.get("ttl") is not None and token.get("expires") is not None:
            yield path, "ttl and expires are mutually exclusive", "keep only one of them"


def api_server_endpoint(endpoint: Any, path: str) -> Found:
    """ValidateDiscoveryTokenAPIServer: host:port (net.SplitHostPort), IPv6 in brackets."""
    if not isinstance(endpoint, str) or not endpoint:
        return
    ok = "]:" in endpoint if endpoint.startswith("[") else endpoint.count(":") == 1
    if not ok:
        hint = f"e.g. {endpoint}:6443" if ":" not in endpoint else "e.g. [2001:db8::1]:6443"
        yield path, f"{_show(endpoint)} has no port (host:port, an IPv6 address in brackets)", hint


def ca_cert_path(value: Any) -> Found:
    """ValidateJoinConfiguration: caCertPath absolute and ending in .crt."""
    if isinstance(value, str) and value and not (value.startswith("/") and value.endswith(".crt")):
        yield (
            "caCertPath",
            f"{_show(value)} must be an absolute path to a .crt file",
            "e.g. /etc/kubernetes/pki/ca.crt",
        )


def kubeconfig_path(value: Any) -> Found:
    """ValidateDiscoveryKubeConfigPath: a URL must be https (a path is read at discovery time)."""
    if not isinstance(value, str):
        return
    scheme, error = url_scheme(value)
    path = "discovery.file.kubeConfigPath"
    if scheme and not error:
        error = url_host_error(value)
    if error:
        yield path, f"{_show(value)} is not a valid HTTPS URL or a file on disk", None
    elif scheme and scheme != "https":
        yield path, f"{_show(value)}: if a URL is used, the scheme must be https", None


def url_host_error(value: str) -> str | None:
    """What Go's url.Parse refuses in the host of ``scheme://host/...``: spaces, and anything
    but a port after a bracketed IPv6 address."""
    from urllib.parse import urlsplit

    netloc = urlsplit(value).netloc
    if any(c.isspace() for c in netloc):
        return "invalid character in host name"
    if netloc.startswith("[") and not netloc.endswith("]") and "]:" not in netloc:
        return "invalid port after host"
    return None


def cluster_warnings(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """What upstream logs as warnings: IPv6 site-local subnets (ValidateIPNetFromString) and
    validity periods above the defaults (ValidateCertValidity)."""
    net = doc.get("networking") or {}
    for key in ("serviceSubnet", "podSubnet"):
        value = net.get(key)
        if not isinstance(value, str) or not value:
            continue
        for subnet in subnets(value):
            if subnet.version == 6 and subnet.overlaps(SITE_LOCAL):
                yield (
                    f"networking.{key}",
                    f"the subnet {subnet} contains IPv6 site-local addresses that belong to "
                    "fec0::/10, which has been deprecated by RFC 3879",
                )
    for key, limit, what, default in VALIDITY_WARNINGS:
        value = doc.get(key)
        if isinstance(value, str) and value:
            try:
                nanos = parse_duration(value)
            except DurationError:
                continue
            if nanos > limit:
                yield key, f"the value {value} is more than the recommended default for {what}: {default}"
