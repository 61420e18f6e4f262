"""Subject Alternative Names (upstream ``pkiutil.GetAPIServerAltNames`` / ``getAltNames``).

DNS names are deduplicated and sorted, IPs deduplicated in order (``RemoveDuplicateAltNames``).
A SAN that is neither an IP address nor an RFC 1123 (optionally wildcard) DNS name is an error,
as upstream config validation (``ValidateCertSANs``) makes it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import ConfigError, KubeadmError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123 = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_WILDCARD = re.compile(rf"^\*\.{_LABEL}(\.{_LABEL})*$")


@dataclass(frozen=True)
class AltNames:
    dns: tuple[str, ...] = ()
    ips: tuple[IPAddress, ...] = ()

    def all(self) -> list[str]:
        return [*self.dns, *(str(i) for i in self.ips)]


def is_dns_name(name: str) -> bool:
    return len(name) <= 253 and bool(_DNS1123.match(name) or _WILDCARD.match(name))


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def normalize(dns: Iterable[str], ips: Iterable[IPAddress]) -> AltNames:
    return AltNames(tuple(sorted(set(dns))), tuple(dict.fromkeys(ips)))


def split_sans(values: Iterable[str], field: str) -> tuple[list[str], list[IPAddress]]:
    """Classify user SANs; anything else is a ConfigError naming the field."""
    dns: list[str] = []
    ips: list[IPAddress] = []
    for raw in values:
        v = str(raw).strip()
        ip = parse_ip(v)
        if ip is not None:
            ips.append(ip)
        elif is_dns_name(v):
            dns.append(v)
        else:
            raise ConfigError(
                f"{v!r} is not a valid IP address, DNS name or wildcard DNS name (RFC 1123)", field=field
            )
    return dns, ips


def split_host_port(endpoint: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address (upstream ParseHostPort)."""
    ep = endpoint.strip()
    if ep.startswith("["):
        host, _, rest = ep[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise KubeadmError(f"invalid endpoint {endpoint!r}")
    elif ep.count(":") == 1:
        host, _, port = ep.partition(":")
    else:
        host, port = ep, ""
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise KubeadmError(f"invalid port in endpoint {endpoint!r}")
    if not host or (parse_ip(host) is None and not is_dns_name(host)):
        raise KubeadmError(f"invalid host in endpoint {endpoint!r}", hint="use an IP address or a DNS name")
    return host, int(port) if port else None


def service_vip(service_subnet: str) -> IPAddress:
    """First address of the first service subnet (upstream GetAPIServerVirtualIP)."""
    first = service_subnet.split(",")[0].strip()
    try:
        net = ipaddress.ip_network(first, strict=False)
    except ValueError:
        raise ConfigError(f"invalid CIDR {first!r}", field="networking.serviceSubnet") from None
    return net.network_address + 1


def advertise_ip(cfg: KubeadmConfig) -> IPAddress:
    ip = parse_ip(cfg.advertise_address)
    if ip is None:
        raise ConfigError(
            f"{cfg.advertise_address!r} is not a valid IP address", field="localAPIEndpoint.advertiseAddress"
        )
    return ip


def _net(cfg: KubeadmConfig) -> dict[str, Any]:
    return cfg.cluster.get("networking") or {}


def _node_name(cfg: KubeadmConfig) -> str:
    name = cfg.node_name
    if not name:
        raise ConfigError("the node name is empty", field="nodeRegistration.name")
    return name


def apiserver_sans(cfg: KubeadmConfig) -> AltNames:
    domain = _net(cfg).get("dnsDomain") or "cluster.local"
    dns = [
        _node_name(cfg),
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{domain}",
    ]
    ips = [service_vip(_net(cfg).get("serviceSubnet") or "10.96.0.0/12"), advertise_ip(cfg)]
    cpe = cfg.cluster.get("controlPlaneEndpoint") or ""
    if cpe:
        host, _ = split_host_port(cpe)
        ip = parse_ip(host)
        if ip is not None:
            ips.append(ip)
        else:
            dns.append(host)
    extra_dns, extra_ips = split_sans(
        (cfg.cluster.get("apiServer") or {}).get("certSANs") or [], "apiServer.certSANs"
    )
    return normalize(dns + extra_dns, ips + extra_ips)


def _etcd_sans(cfg: KubeadmConfig, key: str) -> AltNames:
    dns = [_node_name(cfg), "localhost"]
    ips = [advertise_ip(cfg), ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    local = (cfg.cluster.get("etcd") or {}).get("local")
    if local is not None:
        extra_dns, extra_ips = split_sans(local.get(key) or [], f"etcd.local.{key}")
        dns += extra_dns
        ips += extra_ips
    return normalize(dns, ips)


def etcd_server_sans(cfg: KubeadmConfig) -> AltNames:
    return _etcd_sans(cfg, "serverCertSANs")


def etcd_peer_sans(cfg: KubeadmConfig) -> AltNames:
    return _etcd_sans(cfg, "peerCertSANs")


# SAN rules by name (CertSpec.sans). A CA's SAN is its CN, computed by the issuer.
RULES: dict[str, Callable[[KubeadmConfig], AltNames]] = {
    "apiserver": apiserver_sans,
    "etcd-server": etcd_server_sans,
    "etcd-peer": etcd_peer_sans,
}
