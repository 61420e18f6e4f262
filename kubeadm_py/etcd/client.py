"""An etcd v3 client for cluster membership, over etcd's JSON gRPC gateway with mutual TLS.

etcd (3.4+) serves its v3 API as JSON on the client URL next to gRPC: ``POST
https://host:2379/v3/cluster/member/list`` with body ``{}`` answers
``{"header": {...}, "members": [{"ID": "854308...", "name": "node1", "peerURLs": [...],
"clientURLs": [...], "isLearner": true}]}`` (uint64 values are JSON strings; false booleans and
empty lists are omitted). Failures come back as an HTTP error status with
``{"error": "etcdserver: member not found", "code": 5}`` (a gRPC status code). Only the standard
library is used (``ssl`` + ``http.client``).

Behaviour follows kubeadm's ``util/etcd/etcd.go``:

* every call retries, bounded by ``timeout`` seconds in total, with exponential backoff, moving to
  the next endpoint on connection failures and on transient etcd errors (leader changes, no
  leader, unhealthy cluster);
* a TLS failure (server not trusted by the CA file, client certificate rejected by the server)
  is reported at once: retrying cannot fix it;
* ``add_member`` is idempotent: when a member with the same peer URL exists it only lists the
  members ("Peer URLs already exists" from a retried add is handled the same way); the member
  being added is named ``name``, members without a name are named by their hex id;
* ``promote`` retries "can only promote a learner member which is in sync with leader" for up
  to :attr:`EtcdClient.promote_timeout` (kubeadm's ``etcdAPICall`` timeout, 2 minutes);
* ``remove_member`` of a member that is already gone succeeds.

The client certificate kubeadm uses for membership changes is ``etcd/healthcheck-client.crt``
with ``etcd/ca.crt`` (``NewFromCluster``); :meth:`EtcdClient.for_node` uses it, falling back to
``apiserver-etcd-client.crt`` when the healthcheck pair is absent (both are signed by the etcd
CA, which is all etcd's client-cert-auth checks when etcd auth is off, kubeadm's setup).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.tls import client_context

if TYPE_CHECKING:
    from kubeadm_py.etcd.snapshot import SnapshotFacts

# gRPC status codes the gateway reports in "code".
_CODE_NAMES = {
    1: "Canceled",
    2: "Unknown",
    3: "InvalidArgument",
    4: "DeadlineExceeded",
    5: "NotFound",
    6: "AlreadyExists",
    7: "PermissionDenied",
    8: "ResourceExhausted",
    9: "FailedPrecondition",
    10: "Aborted",
    11: "OutOfRange",
    12: "Unimplemented",
    13: "Internal",
    14: "Unavailable",
    16: "Unauthenticated",
}
# Worth another try (possibly on another member): the cluster is electing, busy or catching up.
_RETRY_CODES = frozenset({4, 8, 10, 14})
_RETRY_MESSAGES = (
    "leader changed",
    "no leader",
    "request timed out",
    "unhealthy cluster",
    "not enough started members",
    "too many requests",
)
IN_SYNC_MESSAGE = "can only promote a learner member which is in sync with leader"
NOT_LEARNER_MESSAGE = "can only promote a learner member"
MEMBER_NOT_FOUND = "member not found"
PEER_URL_EXISTS = "Peer URLs already exists"

ATTEMPT_TIMEOUT = 5.0  # one HTTP exchange, at most
BACKOFF_START = 0.1
BACKOFF_MAX = 2.0


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    peer_urls: list[str]
    client_urls: list[str]
    is_learner: bool

    @property
    def hex_id(self) -> str:
        return format(self.id, "x")

    @property
    def started(self) -> bool:
        """A member that has not started yet has no name and no client URLs."""
        return bool(self.name) or bool(self.client_urls)


@dataclass(frozen=True)
class EndpointStatus:
    """One endpoint's answer to a status call: the member behind it, the leader it follows (0:
    none known), and why it is not healthy ("" when it is)."""

    endpoint: str
    member_id: int
    leader: int
    error: str = ""


def _uint(value: Any) -> int:
    """A uint64 as the gRPC gateway sends it (a decimal string), 0 when absent or malformed."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class EtcdError(KubeadmError):
    """An etcd call failed; ``endpoint``, ``code`` (gRPC status) and ``etcd_message`` say how."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        code: int | None = None,
        etcd_message: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.endpoint = endpoint
        self.code = code
        self.etcd_message = etcd_message


class _Transient(Exception):
    """The endpoint could not be reached or did not answer in time."""


class _ApiFailure(Exception):
    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return (self.code in _RETRY_CODES) or any(m in self.message for m in _RETRY_MESSAGES)

    def describe(self) -> str:
        name = _CODE_NAMES.get(self.code or -1)
        return f"{self.message} (HTTP {self.status}{', ' + name if name else ''})"


def parse_member(raw: dict[str, Any]) -> Member:
    return Member(
        id=int(raw.get("ID") or 0),
        name=str(raw.get("name") or ""),
        peer_urls=[str(u) for u in raw.get("peerURLs") or []],
        client_urls=[str(u) for u in raw.get("clientURLs") or []],
        is_learner=bool(raw.get("isLearner")),
    )


def _norm_url(url: str) -> str:
    return url.strip().rstrip("/")


def _check_url(url: str, what: str) -> tuple[str, str, int]:
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError as e:
        raise KubeadmError(f"invalid etcd {what} {url!r}: {e}") from None
    if u.scheme not in ("http", "https") or not u.hostname or port is None:
        raise KubeadmError(f"invalid etcd {what} {url!r}", hint="expected https://<host>:<port>")
    return u.scheme, u.hostname, port


class EtcdClient:
    """Membership and health calls against the etcd members at ``endpoints`` (client URLs).

    ``timeout`` bounds each API operation, retries included. Attributes that may be changed after
    construction: ``promote_timeout`` (seconds a learner may take to catch up), ``log`` (a
    callable receiving progress lines)."""

    promote_timeout: float = 120.0

    def __init__(
        self, endpoints: list[str], ca_file: str, cert_file: str, key_file: str, timeout: float = 10.0
    ) -> None:
        if not endpoints:
            raise KubeadmError("no etcd endpoints given")
        for ep in endpoints:
            _check_url(ep, "endpoint")
        self.endpoints = [_norm_url(e) for e in endpoints]
        self.ca_file, self.cert_file, self.key_file = ca_file, cert_file, key_file
        self.timeout = float(timeout)
        self.log: Callable[[str], None] = lambda msg: None
        self._preferred: str | None = None
        self._ssl = self._context()
        # Seams for tests: the clock and the sleep between retries.
        self._clock: Callable[[], float] = time.monotonic
        self._sleep: Callable[[float], None] = time.sleep

    # --- construction ---------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        try:
            ctx = client_context(cafile=self.ca_file)
        except FileNotFoundError:
            raise KubeadmError(f"etcd CA certificate {self.ca_file} not found") from None
        except (ssl.SSLError, OSError) as e:
            raise KubeadmError(f"cannot load etcd CA certificate {self.ca_file}: {e}") from None
        try:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        except FileNotFoundError:
            raise KubeadmError(
                f"etcd client certificate or key not found: {self.cert_file}, {self.key_file}"
            ) from None
        except (ssl.SSLError, OSError) as e:
            raise KubeadmError(
                f"cannot load etcd client certificate {self.cert_file} with key {self.key_file}: {e}"
            ) from None
        return ctx

    @classmethod
    def for_node(cls, fs: HostFS, cert_dir: str, endpoints: list[str]) -> EtcdClient:
        """The client kubeadm uses for member management on a control-plane node: the etcd CA
        and the ``etcd/healthcheck-client`` pair under ``cert_dir`` (``apiserver-etcd-client``
        when that pair is missing), host paths read through ``fs``."""
        cd = cert_dir.rstrip("/")
        ca = f"{cd}/etcd/ca.crt"
        if not fs.exists(ca):
            raise KubeadmError(f"etcd CA certificate {ca} not found", hint="is this a control-plane node?")
        pairs = (
            ("etcd/healthcheck-client.crt", "etcd/healthcheck-client.key"),
            ("apiserver-etcd-client.crt", "apiserver-etcd-client.key"),
        )
        for crt, key in pairs:
            if fs.exists(f"{cd}/{crt}") and fs.exists(f"{cd}/{key}"):
                return cls(
                    endpoints,
                    str(fs.read_path(ca)),
                    str(fs.read_path(f"{cd}/{crt}")),
                    str(fs.read_path(f"{cd}/{key}")),
                )
        raise KubeadmError(
            f"no etcd client certificate in {cd}",
            hint="expected etcd/healthcheck-client.crt/.key or apiserver-etcd-client.crt/.key",
        )

    # --- transport ------------------------------------------------------------------------------

    def _open(
        self, endpoint: str, path: str, body: dict[str, Any], timeout: float
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the POST and return the connection with its response (the caller closes the
        connection); TLS rejections become :class:`EtcdError`, the rest :class:`_Transient`."""
        scheme, host, port = _check_url(endpoint, "endpoint")
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, context=self._ssl, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request(
                "POST", path, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            return conn, conn.getresponse()
        except Exception as e:
            conn.close()
            raise self._transport_error(endpoint, host, e, timeout) from None
        except BaseException:
            conn.close()
            raise

    def _transport_error(self, endpoint: str, host: str, e: Exception, timeout: float) -> Exception:
        if isinstance(e, ssl.SSLCertVerificationError):
            return EtcdError(
                f"etcd endpoint {endpoint}: server certificate not accepted: {e.verify_message}",
                endpoint=endpoint,
                hint=f"the server certificate must be signed by {self.ca_file} and name {host}",
            )
        if isinstance(e, ssl.SSLError):
            if "alert" in str(e).lower():  # the server refused the handshake: our certificate
                return EtcdError(
                    f"etcd endpoint {endpoint} rejected the client certificate {self.cert_file}: "
                    f"{e.reason or e}",
                    endpoint=endpoint,
                    hint="the client certificate must be signed by the etcd CA the server trusts",
                )
            return _Transient(f"TLS error: {e.reason or e}")
        if isinstance(e, TimeoutError):
            return _Transient(f"no answer within {timeout:.1f}s")
        if isinstance(e, OSError | http.client.HTTPException):
            return _Transient(getattr(e, "strerror", None) or str(e) or type(e).__name__)
        return e

    def _post_once(self, endpoint: str, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        conn, resp = self._open(endpoint, path, body, timeout)
        try:
            status, raw = resp.status, resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise self._transport_error(endpoint, "", e, timeout) from None
        finally:
            conn.close()
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = None
        if status == 200 and isinstance(data, dict):
            return data
        if isinstance(data, dict) and ("error" in data or "message" in data):
            msg = str(data.get("message") or data.get("error"))
            code = data.get("code")
            grpc_code = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
            raise _ApiFailure(status, grpc_code, msg)
        snippet = raw[:200].decode(errors="replace").strip()
        if status >= 500 or status in (408, 429):
            raise _Transient(f"HTTP {status}: {snippet}")
        raise _ApiFailure(status, None, f"unexpected answer HTTP {status}: {snippet or 'empty body'}")

    def _ordered(self) -> list[str]:
        if self._preferred in self.endpoints:
            return [self._preferred, *(e for e in self.endpoints if e != self._preferred)]
        return list(self.endpoints)

    def _call(
        self,
        path: str,
        body: dict[str, Any],
        what: str,
        *,
        timeout: float | None = None,
        retry_if: Callable[[_ApiFailure], bool] | None = None,
    ) -> dict[str, Any]:
        """POST to the first endpoint that answers; retry transient failures until ``timeout``."""
        budget = self.timeout if timeout is None else timeout
        deadline = self._clock() + budget
        backoff = BACKOFF_START
        last: dict[str, str] = {}
        while True:
            for ep in self._ordered():
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                try:
                    result = self._post_once(ep, path, body, min(ATTEMPT_TIMEOUT, remaining))
                except _Transient as t:
                    last[ep] = str(t)
                    continue
                except _ApiFailure as f:
                    if f.retryable or (retry_if is not None and retry_if(f)):
                        last[ep] = f.describe()
                        break  # the cluster's answer, not the endpoint's: wait, then ask again
                    raise EtcdError(
                        f"etcd {what} failed on {ep}: {f.describe()}",
                        endpoint=ep,
                        code=f.code,
                        etcd_message=f.message,
                    ) from None
                self._preferred = ep
                return result
            remaining = deadline - self._clock()
            if remaining <= 0:
                detail = "; ".join(f"{ep}: {msg}" for ep, msg in last.items()) or "no attempt completed"
                raise EtcdError(
                    f"etcd {what} did not succeed within {budget:g}s ({detail})",
                    endpoint=next(iter(last), None),
                    etcd_message=next(reversed(last.values()), "") if last else "",
                    hint="check that etcd runs and listens on " + ", ".join(self.endpoints),
                )
            self._sleep(min(backoff, remaining))
            backoff = min(backoff * 2, BACKOFF_MAX)

    # --- maintenance ----------------------------------------------------------------------------

    def snapshot(self, sink: Callable[[bytes], object], read_timeout: float = 60.0) -> str:
        """Stream a snapshot of the keyspace (etcd's ``Maintenance.Snapshot``, what ``etcdctl
        snapshot save`` calls; over the gateway one JSON object per line with a base64 ``blob``)
        into ``sink``; returns the endpoint it came from. etcd ends the stream with the SHA-256 of
        the database, checked by :func:`kubeadm_py.etcd.snapshot.check`. The first endpoint that
        answers serves it; a stream that breaks off is an error (the sink has partial data)."""
        unreachable: dict[str, str] = {}
        for ep in self._ordered():
            try:
                conn, resp = self._open(ep, "/v3/maintenance/snapshot", {}, read_timeout)
            except _Transient as t:
                unreachable[ep] = str(t)
                continue
            try:
                if resp.status != 200:
                    raise EtcdError(
                        f"etcd snapshot refused by {ep}: HTTP {resp.status}: "
                        f"{resp.read(200).decode(errors='replace').strip()}",
                        endpoint=ep,
                    )
                for line in iter(resp.readline, b""):
                    if not line.strip():
                        continue
                    msg = json.loads(line)
                    if "error" in msg:
                        err = msg["error"]
                        text = err.get("message") if isinstance(err, dict) else err
                        raise EtcdError(f"etcd snapshot from {ep} failed: {text}", endpoint=ep)
                    blob = (msg.get("result") or {}).get("blob")
                    if blob:
                        sink(base64.b64decode(blob))
            except (OSError, http.client.HTTPException, ValueError, AttributeError) as e:
                raise EtcdError(
                    f"etcd snapshot from {ep} broke off: {getattr(e, 'strerror', None) or e}", endpoint=ep
                ) from None
            finally:
                conn.close()
            self._preferred = ep
            return ep
        detail = "; ".join(f"{ep}: {msg}" for ep, msg in unreachable.items())
        raise EtcdError(
            f"etcd snapshot: no endpoint answered ({detail})",
            hint="check that etcd runs and listens on " + ", ".join(self.endpoints),
        )

    def save_snapshot(self, dest: Path) -> SnapshotFacts:
        """:meth:`snapshot` into the file ``dest``, atomically, its integrity checked."""
        from kubeadm_py.etcd.snapshot import write_snapshot

        return write_snapshot(dest, lambda sink: self.snapshot(sink))

    # --- membership -----------------------------------------------------------------------------

    def members(self) -> list[Member]:
        data = self._call("/v3/cluster/member/list", {}, "member list")
        return [parse_member(m) for m in data.get("members") or []]

    def member_by_peer_url(self, peer_url: str) -> Member | None:
        want = _norm_url(peer_url)
        for m in self.members():
            if any(_norm_url(u) == want for u in m.peer_urls):
                return m
        return None

    def add_member(self, name: str, peer_url: str, learner: bool = False) -> list[Member]:
        """Add a member (as a learner with ``learner``); returns the member list after the add.
        A member with the same peer URL already there makes this a no-op that lists members."""
        _check_url(peer_url, "peer URL")
        existing = self.members()
        if any(_norm_url(u) == _norm_url(peer_url) for m in existing for u in m.peer_urls):
            self.log(f"[etcd] a member with peer URL {peer_url} already exists; not adding it again")
            return self._named(existing, name, peer_url)
        body: dict[str, Any] = {"peerURLs": [peer_url]}
        if learner:
            body["isLearner"] = True
        try:
            data = self._call("/v3/cluster/member/add", body, f"member add {peer_url}")
            after = [parse_member(m) for m in data.get("members") or []]
        except EtcdError as e:
            if PEER_URL_EXISTS not in e.etcd_message:
                raise
            after = self.members()  # an earlier attempt went through; its answer was lost
        return self._named(after, name, peer_url)

    @staticmethod
    def _named(members: list[Member], name: str, peer_url: str) -> list[Member]:
        out = []
        for m in members:
            if any(_norm_url(u) == _norm_url(peer_url) for u in m.peer_urls):
                m = Member(m.id, name, m.peer_urls, m.client_urls, m.is_learner)
            elif not m.name:
                m = Member(m.id, m.hex_id, m.peer_urls, m.client_urls, m.is_learner)
            out.append(m)
        return out

    def promote(self, member_id: int) -> None:
        """Make a learner a voting member, retrying while it catches up with the leader (up to
        ``promote_timeout``). Promoting a member that already votes is a no-op."""
        try:
            self._call(
                "/v3/cluster/member/promote",
                {"ID": str(member_id)},
                f"promote of member {member_id:x}",
                timeout=self.promote_timeout,
                retry_if=lambda f: IN_SYNC_MESSAGE in f.message,
            )
        except EtcdError as e:
            if MEMBER_NOT_FOUND in e.etcd_message:
                raise EtcdError(
                    f"cannot promote etcd member {member_id:x}: it is not a member of the cluster",
                    endpoint=e.endpoint,
                    code=e.code,
                    etcd_message=e.etcd_message,
                ) from None
            if NOT_LEARNER_MESSAGE in e.etcd_message and IN_SYNC_MESSAGE not in e.etcd_message:
                current = next((m for m in self.members() if m.id == member_id), None)
                if current is not None and not current.is_learner:
                    return
            raise

    def remove_member(self, member_id: int) -> None:
        """Remove a member; a member that is already gone is not an error (as kubeadm)."""
        try:
            self._call("/v3/cluster/member/remove", {"ID": str(member_id)}, f"remove of member {member_id:x}")
        except EtcdError as e:
            if MEMBER_NOT_FOUND in e.etcd_message:
                self.log(f"[etcd] member {member_id:x} was already removed")
                return
            raise

    def sync_endpoints(self) -> list[str]:
        """Use the client URLs of every started member as endpoints (clientv3's ``Sync``)."""
        urls = [_norm_url(u) for m in self.members() for u in m.client_urls]
        if urls:
            self.endpoints = list(dict.fromkeys(urls))
        return list(self.endpoints)

    # --- health ---------------------------------------------------------------------------------

    def endpoint_status(self) -> list[EndpointStatus]:
        """Per endpoint: the member that answers, the leader it knows, and ``error`` (empty when it
        answers a status call and a linearizable read, what ``etcdctl endpoint health`` checks)."""
        out: list[EndpointStatus] = []
        per_call = min(ATTEMPT_TIMEOUT, self.timeout)
        for ep in self.endpoints:
            member = leader = 0
            try:
                status = self._post_once(ep, "/v3/maintenance/status", {}, per_call)
                member = _uint((status.get("header") or {}).get("member_id"))
                leader = _uint(status.get("leader"))
                alarms = status.get("errors") or []
                if alarms:
                    out.append(EndpointStatus(ep, member, leader, "alarms: " + ", ".join(map(str, alarms))))
                    continue
                key = base64.b64encode(b"health").decode()
                try:
                    self._post_once(ep, "/v3/kv/range", {"key": key}, per_call)
                except _ApiFailure as f:
                    if f.code != 7:  # permission denied still proves a working quorum read path
                        raise
                out.append(EndpointStatus(ep, member, leader))
            except _Transient as t:
                out.append(EndpointStatus(ep, member, leader, str(t)))
            except _ApiFailure as f:
                out.append(EndpointStatus(ep, member, leader, f.describe()))
            except EtcdError as e:
                out.append(EndpointStatus(ep, member, leader, e.message))
        return out

    def endpoint_health(self) -> dict[str, str | None]:
        """Per endpoint: None when it answers a status call and a linearizable read (what
        ``etcdctl endpoint health`` checks), else why not."""
        return {s.endpoint: s.error or None for s in self.endpoint_status()}

    def healthy(self) -> bool:
        return all(err is None for err in self.endpoint_health().values())

    def wait_healthy(self, timeout: float) -> None:
        """Wait until every endpoint is healthy; :class:`KubeadmError` naming the unhealthy
        endpoints and why when ``timeout`` seconds pass first."""
        deadline = self._clock() + timeout
        while True:
            report = self.endpoint_health()
            bad = {ep: err for ep, err in report.items() if err is not None}
            if not bad:
                return
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise EtcdError(
                    f"etcd is not healthy after {timeout:g}s: "
                    + "; ".join(f"{ep}: {err}" for ep, err in bad.items()),
                    endpoint=next(iter(bad)),
                )
            with contextlib.suppress(Exception):
                self._sleep(min(0.5, remaining))
