"""The real HTTP transport: credentials and server from a kubeconfig file, requests through urllib3.

The kubeconfigs kubeadm writes are read directly (``kube/kubeconfig_read.py``); any other kubeconfig
with the official ``kubernetes`` package's loader (exec plugins, auth providers, token files...),
imported here lazily since it is slow to import (~0.2 s). Requests then go through one urllib3 pool
with a TLS context built from those settings, so kubeadm-py controls retries, timeouts and error
messages itself."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from kubeadm_py.errors import ApiError
from kubeadm_py.kube.kubeconfig_read import Settings, read_simple
from kubeadm_py.kube.wire import TransportError
from kubeadm_py.tls import client_context


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
        self.ssl_context = ssl_context
        self.server_hostname = server_hostname
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

    def stream(self, path: str, timeout: float = 30.0) -> dict[int, bytes]:
        """A streaming call (exec, attach) over a WebSocket with the ``v4.channel.k8s.io``
        protocol: what arrived on each channel (1 stdout, 2 stderr, 3 the status) until the server
        closed the stream."""
        import websocket

        scheme = "wss://" if self.endpoint.startswith("https://") else "ws://"
        url = scheme + self.endpoint.split("://", 1)[1] + path
        sslopt: dict[str, Any] = {}
        if self.ssl_context is not None:
            sslopt["context"] = self.ssl_context
        if self.server_hostname:
            sslopt["server_hostname"] = self.server_hostname
        try:
            ws = websocket.create_connection(
                url,
                subprotocols=["v4.channel.k8s.io"],
                sslopt=sslopt,
                header=[f"{k}: {v}" for k, v in self.headers.items()],
                timeout=timeout,
            )
        except websocket.WebSocketBadStatusException as e:
            raise TransportError(f"HTTP {e.status_code}: {str(e)[:200]}") from None
        except (websocket.WebSocketException, OSError) as e:
            raise TransportError(_reason(e)) from None
        out: dict[int, bytes] = {}
        try:
            while True:
                opcode, data = ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                if data:
                    out[data[0]] = out.get(data[0], b"") + data[1:]
        except websocket.WebSocketConnectionClosedException:
            pass
        except (websocket.WebSocketException, OSError) as e:
            raise TransportError(_reason(e)) from None
        finally:
            ws.close()
        return out

    @classmethod
    def from_kubeconfig(
        cls, path: str, *, display_path: str | None = None
    ) -> tuple[UrllibTransport, Callable[[], str]]:
        """(transport, user name for messages, computed when first needed) from a kubeconfig file.
        The kubeconfigs kubeadm writes are read directly (:mod:`kubeadm_py.kube.kubeconfig_read`);
        anything else goes through the ``kubernetes`` package's loader."""
        shown = display_path or path
        if not os.path.isfile(path):
            raise ApiError(
                f"kubeconfig {shown} not found", hint="run the kubeconfig phase first or pass --kubeconfig"
            )
        try:
            with open(path, encoding="utf-8") as f:
                simple = read_simple(f.read(), path)
        except (OSError, UnicodeDecodeError):
            simple = None
        if simple is not None:
            return cls._from_settings(simple, shown)
        return cls._from_loader(path, shown)

    @classmethod
    def _from_settings(cls, s: Settings, shown: str) -> tuple[UrllibTransport, Callable[[], str]]:
        _check_server(s.server, shown)
        ctx = None
        try:
            if s.server.startswith("https://"):
                if s.ca_pem is not None:
                    ctx = client_context(cadata=s.ca_pem.decode("ascii", "replace"))
                else:
                    ctx = client_context(cafile=s.ca_file)
                if s.insecure:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if s.cert_pem is not None or s.cert_file is not None:
                    _load_client_cert(ctx, s)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise ApiError(f"invalid kubeconfig {shown}: {e}") from None
        headers = {"Authorization": f"Bearer {s.token}"} if s.token else {}
        auth = headers.get("Authorization")

        def user() -> str:
            return _user_name(s.cert_pem if s.cert_pem is not None else _read(s.cert_file), auth)

        return cls(s.server, ctx, headers, server_hostname=s.tls_server_name), user

    @classmethod
    def _from_loader(cls, path: str, shown: str) -> tuple[UrllibTransport, Callable[[], str]]:
        from kubernetes.client import Configuration
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.kube_config import load_kube_config

        c = Configuration()
        try:
            load_kube_config(config_file=path, client_configuration=c, persist_config=False)  # type: ignore[no-untyped-call]
        except ConfigException as e:
            raise ApiError(f"invalid kubeconfig {shown}: {e}") from None
        except FileNotFoundError:
            raise ApiError(
                f"kubeconfig {shown} not found", hint="run the kubeconfig phase first or pass --kubeconfig"
            ) from None
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise ApiError(f"invalid kubeconfig {shown}: {e}") from None
        _check_server(c.host, shown)
        ctx = None
        if c.host.startswith("https://"):
            ctx = (
                client_context(cafile=c.ssl_ca_cert)
                if c.ssl_ca_cert
                else client_context()
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
        user = _user_name(_read(c.cert_file), auth)
        tls_name = getattr(c, "tls_server_name", None)
        return cls(c.host, ctx, headers, server_hostname=tls_name), lambda: user


def _read(path: str | None) -> bytes | None:
    """A client certificate file's bytes (for the user name in messages), None if unreadable."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _check_server(server: str, shown: str) -> None:
    if not server.startswith("https://") and not server.startswith("http://"):
        raise ApiError(f"invalid kubeconfig {shown}: server {server!r} is not an http(s) URL")


def _load_client_cert(ctx: ssl.SSLContext, s: Settings) -> None:
    """ssl only loads client credentials from files: inline data goes through anonymous memory
    files (memfd), which no crash can leave on disk; where memfd is missing, through a private
    temporary directory removed right after."""
    if s.cert_file and s.key_file and s.cert_pem is None and s.key_pem is None:
        ctx.load_cert_chain(s.cert_file, s.key_file)
        return
    with contextlib.ExitStack() as cleanup:
        put = _memory_file if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd") else None
        if put is None:
            import shutil
            import tempfile

            tmp = tempfile.mkdtemp(prefix="kubeadm-py-kubeconfig-")  # mode 0700
            cleanup.callback(shutil.rmtree, tmp, True)
        paths = []
        for name, data, file in (("cert", s.cert_pem, s.cert_file), ("key", s.key_pem, s.key_file)):
            if data is None:
                paths.append(str(file))
            elif put is not None:
                paths.append(put(name, data, cleanup))
            else:
                paths.append(_private_file(os.path.join(tmp, name), data))
        ctx.load_cert_chain(paths[0], paths[1])


def _memory_file(name: str, data: bytes, cleanup: contextlib.ExitStack) -> str:
    fd = os.memfd_create(f"kubeadm-py-{name}", os.MFD_CLOEXEC)
    cleanup.callback(os.close, fd)
    _write_all(fd, data)
    return f"/proc/self/fd/{fd}"


def _private_file(path: str, data: bytes) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _user_name(cert_pem: bytes | None, auth: str | None) -> str:
    if cert_pem:
        try:
            from cryptography import x509
            from cryptography.x509.oid import NameOID

            cert = x509.load_pem_x509_certificate(cert_pem)
            cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if cns:
                return str(cns[0].value)
        except ValueError:
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
