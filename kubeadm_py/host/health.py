"""Health endpoints of node components (kubelet /healthz, control-plane /livez, /healthz): one GET.

TLS verification is skipped, as upstream: the components serve self-signed or cluster-CA
certificates and only liveness matters here."""

from __future__ import annotations

from kubeadm_py.tls import client_context


def http_check(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """GET ``url``; healthy on HTTP 200, with the status and the start of the body as detail."""
    import ssl
    import urllib.error
    import urllib.request

    ctx = client_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:  # noqa: S310 - local health URL
            body = r.read(256).decode(errors="replace").strip()
            return r.status == 200, f"HTTP {r.status} {body}"
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code} {e.read(256).decode(errors='replace').strip()}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return False, str(reason)


def port_free(url: str, timeout: float = 2.0) -> bool:
    """Nothing listens at ``url``'s host and port: a TCP connect is refused (a timeout or another
    error says nothing, and is False)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def peer_certificate(host: str, port: int, timeout: float = 5.0) -> bytes:
    """The DER certificate a TLS server presents at ``host:port`` (not verified: only its dates are
    read). Raises OSError when nothing answers."""
    import socket
    import ssl

    ctx = client_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        ctx.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise OSError(f"{host}:{port} presented no certificate")
    return der
