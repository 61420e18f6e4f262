"""Reading ``kube-public/cluster-info`` (and anything else) from an API server during discovery,
and the bootstrap-token client of a join (``Api.bootstrap``).

:class:`Fetcher` is what the discovery code depends on (``ctx.fx.discovery_fetcher``), so tests
and embedding programs substitute their own (``Hooks(discovery_fetcher=...)``). It only reads, so
a dry run uses it as it is.
:class:`HttpFetcher` is the real one: one urllib3 connection pool per (server, CA, token), TLS
verification off only when asked for (the first, not-yet-trusted read), no retries of its own
(discovery polls)."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any, Protocol

from kubeadm_py.constants import CLUSTER_INFO_CONFIGMAP, KUBE_PUBLIC
from kubeadm_py.errors import ApiError
from kubeadm_py.tls import client_context

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient

Obj = dict[str, Any]


class FetchError(Exception):
    """The read failed (no answer, TLS failure, HTTP error); ``forbidden`` for 401/403."""

    def __init__(self, reason: str, forbidden: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden


class Fetcher(Protocol):
    def cluster_info(self, server: str, ca_pem: bytes | None, token: str | None = None) -> Obj | None:
        """The ConfigMap (None when it does not exist). ``ca_pem`` None: TLS not verified; ``b""``:
        verified against the host's CA bundle."""
        ...


def ssl_context(ca_pem: bytes | None) -> ssl.SSLContext:
    if ca_pem is None:
        ctx = client_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if not ca_pem:
        return client_context()
    try:
        return client_context(cadata=ca_pem.decode("ascii", errors="replace"))
    except ssl.SSLError as e:
        raise FetchError(f"cannot load the cluster CA: {e}") from None


def client(server: str, ca_pem: bytes | None, token: str | None = None, timeout: float = 10.0) -> KubeClient:
    """A :class:`~kubeadm_py.kube.client.KubeClient` for ``server`` with an in-memory CA (or no
    verification) and an optional bearer token, without retries (callers poll)."""
    from kubeadm_py.kube.client import KubeClient, RetryPolicy
    from kubeadm_py.kube.transport import UrllibTransport

    if ca_pem is None:
        # Deliberate (the first, not-yet-trusted read of discovery): discovery logs what it does
        # instead of urllib3's generic warning on every request.
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = UrllibTransport(server, ssl_context(ca_pem), headers, timeout=timeout)
    user = f"system:bootstrap:{token.split('.')[0]}" if token else "system:anonymous"
    return KubeClient(transport, user=user, retry=RetryPolicy(attempts=1))


class HttpFetcher:
    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._clients: dict[tuple[str, bytes | None, str | None], KubeClient] = {}

    def cluster_info(self, server: str, ca_pem: bytes | None, token: str | None = None) -> Obj | None:
        from kubeadm_py.kube.client import ForbiddenError, StatusError

        key = (server, ca_pem, token)
        if key not in self._clients:
            self._clients[key] = client(server, ca_pem, token, self.timeout)
        c = self._clients[key]
        try:
            obj: Obj | None = c.get("ConfigMap", CLUSTER_INFO_CONFIGMAP, KUBE_PUBLIC)
            return obj
        except ForbiddenError as e:
            raise FetchError(str(e), forbidden=True) from None
        except StatusError as e:
            raise FetchError(str(e), forbidden=e.status == 401) from None
        except ApiError as e:
            raise FetchError(str(e)) from None
