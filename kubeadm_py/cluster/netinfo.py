"""Cluster addresses derived from the configuration: the control-plane endpoint URL and the DNS
Service IP (the 10th address of the first service CIDR)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from kubeadm_py.errors import ConfigError

if TYPE_CHECKING:
    from kubeadm_py.config.types import KubeadmConfig


def _bracket(host: str) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host


def control_plane_endpoint(cfg: KubeadmConfig) -> str:
    """``https://<controlPlaneEndpoint>`` with the local bind port appended when it has none, else
    ``https://<advertiseAddress>:<bindPort>`` (kubeadm's GetControlPlaneEndpoint)."""
    cpe = str(cfg.cluster.get("controlPlaneEndpoint") or "")
    port = cfg.bind_port
    if cpe:
        host, sep, p = cpe.rpartition(":")
        if sep and p.isdigit() and (not host.count(":") or host.endswith("]")):
            return f"https://{cpe}"
        return f"https://{_bracket(cpe)}:{port}"
    addr = cfg.advertise_address
    if not addr:
        raise ConfigError(
            "cannot build the control-plane endpoint: no advertiseAddress or controlPlaneEndpoint",
            field="localAPIEndpoint.advertiseAddress",
        )
    return f"https://{_bracket(addr)}:{port}"


def endpoint_hostport(url: str) -> str:
    return url.removeprefix("https://").removeprefix("http://").rstrip("/")


def dns_ip(cfg: KubeadmConfig) -> str:
    """The 10th address of the first service subnet (10.96.0.10 for 10.96.0.0/12)."""
    subnet = str((cfg.cluster.get("networking") or {}).get("serviceSubnet") or "10.96.0.0/12")
    first = subnet.split(",")[0].strip()
    try:
        net = ipaddress.ip_network(first, strict=False)
    except ValueError as e:
        raise ConfigError(
            f"invalid service subnet {first!r}: {e}", field="networking.serviceSubnet"
        ) from None
    if net.num_addresses < 11:
        raise ConfigError(
            f"service subnet {first} is too small for the DNS Service IP", field="networking.serviceSubnet"
        )
    return str(net.network_address + 10)


def dns_domain(cfg: KubeadmConfig) -> str:
    return str((cfg.cluster.get("networking") or {}).get("dnsDomain") or "cluster.local")
