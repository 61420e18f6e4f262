"""The real HTTP transport: credentials and server from a kubeconfig file, requests through urllib3.

The kubeconfig is read with the official ``kubernetes`` package's loader (client certificates,
tokens, exec plugins, ``insecure-skip-tls-verify``...), imported here lazily since it is slow to
import; requests then go through one urllib3 pool with a TLS context built from that configuration,
so kubeadm-py controls retries, timeouts and error messages itself."""

from __future__ import annotations

import os
import ssl
from typing import Any
from urllib.parse import urlsplit

from kubeadm_py.errors import ApiError
from kubeadm_py.kube.client import TransportError


class UrllibTransport:
    def __init__(
        self,
        endpoint: str,
        ssl_context: ssl.SSLContext | None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        server_hostname: str | None = None,
    ) -> None:
        import urllib3

        self.endpoint = endpoint.rstrip("/")
        self.headers = headers or {}
        self._timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        kw: dict[str, Any] = {"retries": False}
        if ssl_context is not None:
            kw["ssl_context"] = ssl_context
        if server_hostname:
            kw["server_hostname"] = server_hostname
        self._pool = urllib3.PoolManager(**kw)

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        import urllib3

        try:
            resp = self._pool.request(
                method,
                self.endpoint + path,
                body=body,
                headers={**self.headers, **headers},
                timeout=self._timeout,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as e:
            raise TransportError(_reason(e)) from None
        return resp.status, resp.data

    @classmethod
    def from_kubeconfig(cls, path: str, *, display_path: str | None = None) -> tuple[UrllibTransport, str]:
        """(transport, user name for messages) from a kubeconfig file."""
        from kubernetes.client import Configuration
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.kube_config import load_kube_config

        shown = display_path or path
        if not os.path.isfile(path):
            raise ApiError(
                f"kubeconfig {shown} not found", hint="run the kubeconfig phase first or pass --kubeconfig"
            )
        c = Configuration()
        try:
            load_kube_config(config_file=path, client_configuration=c, persist_config=False)
        except ConfigException as e:
            raise ApiError(f"invalid kubeconfig {shown}: {e}") from None
        except FileNotFoundError:
            raise ApiError(
                f"kubeconfig {shown} not found", hint="run the kubeconfig phase first or pass --kubeconfig"
            ) from None
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise ApiError(f"invalid kubeconfig {shown}: {e}") from None
        if not c.host.startswith("https://") and not c.host.startswith("http://"):
            raise ApiError(f"invalid kubeconfig {shown}: server {c.host!r} is not an http(s) URL")
        ctx = None
        if c.host.startswith("https://"):
            ctx = (
                ssl.create_default_context(cafile=c.ssl_ca_cert)
                if c.ssl_ca_cert
                else ssl.create_default_context()
            )
            if not c.verify_ssl:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if c.cert_file and c.key_file:
                ctx.load_cert_chain(c.cert_file, c.key_file)
        headers = {}
        auth = (c.api_key or {}).get("authorization") or (c.api_key or {}).get("BearerToken")
        if auth:
            headers["Authorization"] = auth if " " in auth else f"Bearer {auth}"
        user = _user_from(c, auth)
        tls_name = getattr(c, "tls_server_name", None)
        return cls(c.host, ctx, headers, server_hostname=tls_name), user


def _user_from(c: Any, auth: str | None) -> str:
    if c.cert_file:
        try:
            from cryptography import x509
            from cryptography.x509.oid import NameOID

            with open(c.cert_file, "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if cns:
                return str(cns[0].value)
        except (OSError, ValueError):
            return ""
    if auth:
        token = auth.split(" ", 1)[-1]
        if "." in token and len(token) == 23:
            return f"system:bootstrap:{token.split('.')[0]}"
        return "token user"
    return ""


def _reason(e: Exception) -> str:
    """A short human reason from a urllib3 error chain ("connection refused", "timed out"...)."""
    inner: BaseException | None = getattr(e, "reason", None) or e
    text = str(inner)
    low = text.lower()
    for needle, short in (
        ("connection refused", "connection refused"),
        ("timed out", "connection timed out"),
        ("name or service not known", "unknown host"),
        ("no route to host", "no route to host"),
        ("certificate verify failed", "TLS certificate verification failed"),
        ("network is unreachable", "network is unreachable"),
    ):
        if needle in low:
            return short
    return text.split(": ", 1)[-1][:200] if text else type(e).__name__


def host_of(endpoint: str) -> str:
    return urlsplit(endpoint).hostname or endpoint
