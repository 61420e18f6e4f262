"""Which proxy would a Go HTTP client use for a URL (``golang.org/x/net/http/httpproxy``, as used
by ``http.ProxyFromEnvironment`` and apimachinery's ``SetOldTransportDefaults``)?

Rules: ``HTTPS_PROXY``/``https_proxy`` for https and ``HTTP_PROXY``/``http_proxy`` for http
(upper case wins; empty means unset); no proxy for ``localhost`` and loopback IPs; ``NO_PROXY``/
``no_proxy`` entries are ``*``, CIDRs (``10.96.0.0/12``), IPs and domains (``example.com``
matches itself and its subdomains, ``.example.com`` and ``*.example.com`` only subdomains),
IPs and domains optionally with ``:port``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _env(env: Mapping[str, str], *names: str) -> str:
    for n in names:
        v = env.get(n, "")
        if v:
            return v
    return ""


def _split_host_port(addr: str) -> tuple[str, str]:
    if addr.startswith("["):
        host, _, rest = addr[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if addr.count(":") == 1:
        host, _, port = addr.partition(":")
        return host, port
    return addr, ""  # bare IPv6 or no port


def _no_proxy_matches(no_proxy: str, host: str, port: str) -> bool:
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                if ip is not None and ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        e_host, e_port = _split_host_port(entry)
        try:
            e_ip = ipaddress.ip_address(e_host)
        except ValueError:
            e_ip = None
        if e_ip is not None:
            if ip is not None and ip == e_ip and (not e_port or e_port == port):
                return True
            continue
        if e_port and e_port != port:
            continue
        name = host.lower()
        if e_host.startswith("*."):
            e_host = e_host[1:]
        if e_host.startswith("."):
            if name.endswith(e_host):
                return True
        elif name == e_host or name.endswith("." + e_host):
            return True
    return False


def proxy_for(scheme: str, host: str, env: Mapping[str, str], port: str = "") -> str | None:
    """The proxy URL a Go client would use to reach ``scheme://host[:port]``, or None."""
    if scheme == "https":
        proxy = _env(env, "HTTPS_PROXY", "https_proxy")
    elif scheme == "http":
        if env.get("REQUEST_METHOD"):
            return None  # CGI: HTTP_PROXY may be attacker-controlled, Go ignores it
        proxy = _env(env, "HTTP_PROXY", "http_proxy")
    else:
        return None
    if not proxy:
        return None
    host = host.strip("[]")
    port = port or _DEFAULT_PORTS.get(scheme, "")
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    if _no_proxy_matches(_env(env, "NO_PROXY", "no_proxy"), host, port):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"
