"""Host facts behind kubeadm's dynamic defaults: node name, advertise address, CRI socket.

:class:`HostProbe` reads the real host; tests pass a fake with the same methods."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field

from kubeadm_py.errors import ConfigError

DEFAULT_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
# Known CRI endpoints, in upstream's detection order (util/runtime).
KNOWN_CRI_SOCKETS = (
    "unix:///var/run/containerd/containerd.sock",
    "unix:///var/run/crio/crio.sock",
    "unix:///var/run/cri-dockerd.sock",
)


def _default_route_interfaces(route_file: str = "/proc/net/route") -> list[str]:
    """Interfaces carrying an IPv4 default route, lowest metric first."""
    try:
        with open(route_file, encoding="ascii") as fh:
            lines = fh.read().splitlines()[1:]
    except OSError:
        return []
    routes: list[tuple[int, str]] = []
    for line in lines:
        cols = line.split()
        if len(cols) >= 8 and cols[1] == "00000000" and cols[7] == "00000000":
            try:
                routes.append((int(cols[6]), cols[0]))
            except ValueError:
                continue
    return [iface for _, iface in sorted(routes)]


def _default_route_interfaces_v6(route_file: str = "/proc/net/ipv6_route") -> list[str]:
    try:
        with open(route_file, encoding="ascii") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    routes: list[tuple[int, str]] = []
    for line in lines:
        cols = line.split()
        if len(cols) >= 10 and cols[0] == "0" * 32 and cols[1] == "00" and cols[9] != "lo":
            routes.append((int(cols[5], 16), cols[9]))
    return [iface for _, iface in sorted(routes)]


def _global_address(addresses: list[str], version: int) -> str | None:
    for a in addresses:
        try:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
        except ValueError:
            continue
        usable = not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)
        if ip.version == version and usable:
            return str(ip)
    return None


@dataclass
class HostProbe:
    """Reads the host. Every method is cheap and side-effect free."""

    route_file: str = "/proc/net/route"
    route6_file: str = "/proc/net/ipv6_route"
    warnings: list[str] = field(default_factory=list)

    def hostname(self) -> str:
        return socket.gethostname().lower()

    def _addresses(self) -> dict[str, list[tuple[int, str]]]:
        import psutil

        out: dict[str, list[tuple[int, str]]] = {}
        for iface, addrs in psutil.net_if_addrs().items():
            for a in addrs:
                if a.family == socket.AF_INET:
                    out.setdefault(iface, []).append((4, a.address))
                elif a.family == socket.AF_INET6:
                    out.setdefault(iface, []).append((6, a.address))
        return out

    def advertise_address(self) -> str:
        """The IP of the interface carrying the default route (IPv4 first, then IPv6); else the
        first non-loopback IPv4 address; else 127.0.0.1 with a warning."""
        addrs = self._addresses()
        for version, ifaces in (
            (4, _default_route_interfaces(self.route_file)),
            (6, _default_route_interfaces_v6(self.route6_file)),
        ):
            for iface in ifaces:
                ip = _global_address([a for v, a in addrs.get(iface, []) if v == version], version)
                if ip:
                    return ip
        for _iface, entries in sorted(addrs.items()):
            for v, a in entries:
                if v == 4 and not ipaddress.ip_address(a).is_loopback:
                    return a
        self.warnings.append(
            "could not find a default route or a non-loopback IPv4 address; advertising 127.0.0.1 "
            "(set localAPIEndpoint.advertiseAddress or --apiserver-advertise-address)"
        )
        return "127.0.0.1"

    def cri_socket(self) -> str:
        """The one CRI socket present on the host; the containerd default when none is."""
        found = [s for s in KNOWN_CRI_SOCKETS if os.path.exists(s.removeprefix("unix://"))]
        if len(found) > 1:
            raise ConfigError(
                "found multiple CRI endpoints on the host: " + ", ".join(found),
                field="nodeRegistration.criSocket",
                hint="choose one with --cri-socket or nodeRegistration.criSocket",
            )
        return found[0] if found else DEFAULT_CRI_SOCKET
