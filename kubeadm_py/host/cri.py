"""The container runtime's CRI: :class:`CriClient`, the package's one CRI gRPC client (runtime
status, the pod sandboxes reset removes, image status and pulls), with the protobuf messages it
sends and reads encoded here by hand (no generated code), and how deep preflight can ask whether
the runtime answers.

Depth of the preflight ``CRI`` check, best first:

0. grpcio installed (a dependency of kubeadm-py): the real ``runtime.v1.RuntimeService/Status``
   gRPC call on the socket (:meth:`CriClient.status`); the check fails on an RPC error (e.g.
   ``code = Unimplemented desc = unknown service runtime.v1.RuntimeService`` when the runtime has
   CRI disabled) or when ``RuntimeReady`` is false.
1. ``crictl`` in PATH: ``crictl --runtime-endpoint <ep> --timeout 5s info`` performs the real
   ``runtime.v1.RuntimeService/Status`` gRPC call; like kubeadm's ``IsRunning`` the check fails when
   the call fails or the ``RuntimeReady`` condition is false (``NetworkReady`` is ignored on
   purpose: no CNI plugin exists before the cluster does).
2. No ``crictl``: connect to the unix socket and do an HTTP/2 handshake (client preface plus an
   empty SETTINGS frame; a gRPC server answers with its own SETTINGS frame). That proves a gRPC
   server listens, not that it implements the CRI, and the result says so.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubeadm_py.changes import Change

# kubeadm's known runtime endpoints (cmd/kubeadm/app/constants/constants_unix.go), detection order.
KNOWN_CRI_SOCKETS = (
    "unix:///var/run/containerd/containerd.sock",
    "unix:///var/run/crio/crio.sock",
    "unix:///var/run/cri-dockerd.sock",
)
DEFAULT_CRI_SOCKET = KNOWN_CRI_SOCKETS[0]

HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # length 0, type SETTINGS, flags 0, stream 0
_SETTINGS = 0x4


@dataclass(frozen=True)
class CriStatus:
    ok: bool
    message: str
    depth: str  # "status-call" (real CRI Status RPC) or "http2-handshake"


def socket_path(endpoint: str) -> str:
    """``unix:///run/x.sock`` or ``/run/x.sock`` -> ``/run/x.sock``."""
    if endpoint.startswith("unix://"):
        return endpoint[len("unix://") :]
    return endpoint


def endpoint_url(endpoint: str) -> str:
    return endpoint if "://" in endpoint else f"unix://{endpoint}"


RunFn = Callable[[Sequence[str], float], "tuple[int, str, str]"]


def status_via_crictl(crictl: str, endpoint: str, run: RunFn, timeout: float = 10.0) -> CriStatus:
    rc, out, err = run(
        [crictl, "--runtime-endpoint", endpoint_url(endpoint), "--timeout", "5s", "info", "-o", "json"],
        timeout,
    )
    if rc != 0:
        msg = (err or out).strip().splitlines()
        return CriStatus(
            False,
            f"container runtime is not running: {msg[-1] if msg else f'crictl exit {rc}'}",
            "status-call",
        )
    try:
        info = json.loads(out)
    except ValueError:
        return CriStatus(
            False, "container runtime is not running: crictl info printed no JSON", "status-call"
        )
    for cond in (info.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "RuntimeReady" and not cond.get("status"):
            return CriStatus(
                False,
                f'container runtime condition "RuntimeReady" is not true. reason: {cond.get("reason", "")}, '
                f"message: {cond.get('message', '')}",
                "status-call",
            )
    return CriStatus(True, f"RuntimeService/Status on {endpoint_url(endpoint)}: RuntimeReady", "status-call")


STATUS_METHOD = "/runtime.v1.RuntimeService/Status"


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def proto_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """Top-level fields of a protobuf message: (field number, int or bytes)."""
    out: list[tuple[int, int | bytes]] = []
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
            out.append((num, v))
        elif wire == 2:
            n, i = _varint(buf, i)
            out.append((num, buf[i : i + n]))
            i += n
        elif wire == 1:
            out.append((num, buf[i : i + 8]))
            i += 8
        elif wire == 5:
            out.append((num, buf[i : i + 4]))
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def runtime_conditions(status_response: bytes) -> list[dict[str, object]]:
    """``StatusResponse.status.conditions`` (RuntimeCondition: type=1, status=2, reason=3, message=4)."""
    conds: list[dict[str, object]] = []
    for num, status in proto_fields(status_response):
        if num != 1 or not isinstance(status, bytes):
            continue
        for cnum, cond in proto_fields(status):
            if cnum != 1 or not isinstance(cond, bytes):
                continue
            c: dict[str, object] = {"type": "", "status": False, "reason": "", "message": ""}
            for fnum, val in proto_fields(cond):
                key = {1: "type", 2: "status", 3: "reason", 4: "message"}.get(fnum)
                if key == "status":
                    c[key] = bool(val)
                elif key and isinstance(val, bytes):
                    c[key] = val.decode(errors="replace")
            conds.append(c)
    return conds


def _go_code(name: str) -> str:
    return "".join(p.title() for p in name.split("_"))  # DEADLINE_EXCEEDED -> DeadlineExceeded


def _rpc_message(e: Exception) -> str:
    """A grpc error as Go's grpc prints it: ``rpc error: code = X desc = Y``."""
    code = e.code() if hasattr(e, "code") else None
    details = e.details() if hasattr(e, "details") else str(e)
    return f"rpc error: code = {_go_code(code.name) if code else 'Unknown'} desc = {details}"


def status_via_grpc(endpoint: str, timeout: float = 10.0) -> CriStatus:
    """RuntimeService/Status through :class:`CriClient` (ImportError without grpcio)."""
    import grpc  # noqa: F401 - the caller falls back to crictl without grpcio

    with CriClient(endpoint, timeout=timeout) as client:
        return client.status()


def status_via_http2(endpoint: str, timeout: float = 3.0) -> CriStatus:
    path = socket_path(endpoint)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(path)
        except OSError as e:
            return CriStatus(
                False,
                f"container runtime is not running: cannot connect to {path}: {e.strerror or e}",
                "http2-handshake",
            )
        s.sendall(HTTP2_PREFACE + _EMPTY_SETTINGS)
        header = b""
        while len(header) < 9:
            chunk = s.recv(9 - len(header))
            if not chunk:
                break
            header += chunk
    except OSError as e:
        return CriStatus(
            False, f"container runtime is not running: {path}: {e.strerror or e}", "http2-handshake"
        )
    finally:
        s.close()
    if len(header) == 9 and header[3] == _SETTINGS:
        return CriStatus(
            True,
            f"{path} answers HTTP/2 (gRPC server); CRI Status not called: crictl not found",
            "http2-handshake",
        )
    return CriStatus(
        False, f"container runtime is not running: {path} does not speak HTTP/2/gRPC", "http2-handshake"
    )


# --- ImageService: ImageStatus and PullImage (runtime.v1, cri-api pkg/apis/runtime/v1/api.proto) ---

IMAGE_STATUS_METHOD = "/runtime.v1.ImageService/ImageStatus"
PULL_IMAGE_METHOD = "/runtime.v1.ImageService/PullImage"


def _enc_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _enc_bytes(num: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2): strings and embedded messages."""
    return _enc_varint(num << 3 | 2) + _enc_varint(len(data)) + data


def _enc_bool(num: int, value: bool) -> bytes:
    return _enc_varint(num << 3) + b"\x01" if value else b""  # proto3: false is not encoded


def image_spec(image: str) -> bytes:
    """``ImageSpec{image = 1}``."""
    return _enc_bytes(1, image.encode())


def image_status_request(image: str, verbose: bool = False) -> bytes:
    """``ImageStatusRequest{image: ImageSpec = 1, verbose = 2}``."""
    return _enc_bytes(1, image_spec(image)) + _enc_bool(2, verbose)


def pull_image_request(image: str) -> bytes:
    """``PullImageRequest{image: ImageSpec = 1}`` (no auth, no sandbox config)."""
    return _enc_bytes(1, image_spec(image))


def status_request(verbose: bool = False) -> bytes:
    """``StatusRequest{verbose = 1}``."""
    return _enc_bool(1, verbose)


@dataclass(frozen=True)
class CriImage:
    """``Image{id = 1, repo_tags = 2, repo_digests = 3, size = 4}``."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0


def _string_map(entries: list[bytes]) -> dict[str, str]:
    """``map<string, string>``: repeated entry messages {key = 1, value = 2}."""
    out: dict[str, str] = {}
    for entry in entries:
        kv = {n: v for n, v in proto_fields(entry) if isinstance(v, bytes)}
        out[kv.get(1, b"").decode(errors="replace")] = kv.get(2, b"").decode(errors="replace")
    return out


def decode_image_status(raw: bytes) -> CriImage | None:
    """``ImageStatusResponse{image: Image = 1, info = 2}``: the image, or None when absent (the
    runtime answers an empty response for an image it does not have)."""
    for num, val in proto_fields(raw):
        if num != 1 or not isinstance(val, bytes):
            continue
        fields = proto_fields(val)
        strs = [(n, v.decode(errors="replace")) for n, v in fields if isinstance(v, bytes)]
        size = next((v for n, v in fields if n == 4 and isinstance(v, int)), 0)
        return CriImage(
            id=next((s for n, s in strs if n == 1), ""),
            repo_tags=tuple(s for n, s in strs if n == 2),
            repo_digests=tuple(s for n, s in strs if n == 3),
            size=size,
        )
    return None


def decode_pull_image(raw: bytes) -> str:
    """``PullImageResponse{image_ref = 1}``."""
    for num, val in proto_fields(raw):
        if num == 1 and isinstance(val, bytes):
            return val.decode(errors="replace")
    return ""


def runtime_info(status_response: bytes) -> dict[str, str]:
    """``StatusResponse.info`` (field 2, ``map<string, string>``; filled for verbose requests)."""
    return _string_map([v for n, v in proto_fields(status_response) if n == 2 and isinstance(v, bytes)])


def sandbox_image(info: dict[str, str]) -> str:
    """The runtime's sandbox (pause) image from ``info["config"]`` (JSON with ``sandboxImage``, as
    containerd reports it); "" when the runtime does not say."""
    try:
        return str((json.loads(info.get("config") or "{}") or {}).get("sandboxImage") or "")
    except (ValueError, AttributeError):
        return ""


class CriError(Exception):
    """A CRI call failed; the message is Go-style: ``rpc error: code = X desc = Y``."""


class CriNotRunning(CriError):
    """Nothing listens on the runtime's socket (it does not exist)."""


# --- RuntimeService: pod sandboxes (ListPodSandbox, StopPodSandbox, RemovePodSandbox) ---

LIST_SANDBOXES_METHOD = "/runtime.v1.RuntimeService/ListPodSandbox"
STOP_SANDBOX_METHOD = "/runtime.v1.RuntimeService/StopPodSandbox"
REMOVE_SANDBOX_METHOD = "/runtime.v1.RuntimeService/RemovePodSandbox"


@dataclass(frozen=True)
class Sandbox:
    """``PodSandbox{id = 1, metadata = 2 {name = 1, uid = 2, namespace = 3}, state = 3}``."""

    id: str
    name: str
    namespace: str
    ready: bool

    @property
    def label(self) -> str:
        who = f"{self.namespace}/{self.name}" if self.namespace else self.name or "?"
        return f"pod {who} (sandbox {self.id[:13]})"


def sandbox_request(sandbox_id: str) -> bytes:
    """``StopPodSandboxRequest`` / ``RemovePodSandboxRequest``: ``{pod_sandbox_id = 1}``."""
    return _enc_bytes(1, sandbox_id.encode())


def _strings(raw: bytes) -> dict[int, str]:
    return {n: v.decode(errors="replace") for n, v in proto_fields(raw) if isinstance(v, bytes)}


def parse_sandboxes(raw: bytes) -> list[Sandbox]:
    """``ListPodSandboxResponse{items = 1}``; state 0 is SANDBOX_READY."""
    out: list[Sandbox] = []
    for num, item in proto_fields(raw):
        if num != 1 or not isinstance(item, bytes):
            continue
        fields = proto_fields(item)
        sid = next((v.decode(errors="replace") for n, v in fields if n == 1 and isinstance(v, bytes)), "")
        meta = next((_strings(v) for n, v in fields if n == 2 and isinstance(v, bytes)), {})
        state = next((v for n, v in fields if n == 3 and isinstance(v, int)), 0)
        if sid:
            out.append(Sandbox(sid, meta.get(1, ""), meta.get(3, ""), state == 0))
    return out


@dataclass(frozen=True)
class Pulled:
    """The outcome of a pull: the image reference the runtime reports (``sha256:...``); ``ran``
    is False when a dry run only recorded the pull."""

    image: str
    ref: str = ""
    ran: bool = True


class CriClient:
    """The container runtime's CRI on ``endpoint`` over gRPC (grpcio), the one client of the
    package: RuntimeService Status and the pod sandboxes reset removes, ImageService ImageStatus
    and PullImage. Requests and responses are encoded in this module (no generated code). One
    channel; use as a context manager or call :meth:`close`. ``timeout`` bounds every call but a
    pull (upstream's 2 s CRI default is short for a busy runtime), ``pull_timeout`` one PullImage.
    Failures raise :class:`CriError` (:class:`CriNotRunning` when the socket does not exist)."""

    def __init__(self, endpoint: str, timeout: float = 10.0, pull_timeout: float = 600.0) -> None:
        self.endpoint = endpoint_url(endpoint)
        self.timeout = timeout
        self.pull_timeout = pull_timeout
        self._channel: Any = None

    def __enter__(self) -> CriClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def connect(self) -> None:
        """Fail early (CriNotRunning) when nothing listens on the socket."""
        path = socket_path(self.endpoint)
        if self.endpoint.startswith("unix://") and not os.path.exists(path):
            raise CriNotRunning(f"container runtime is not running: {path} does not exist")

    def _call(self, method: str, request: bytes, timeout: float | None = None) -> bytes:
        import grpc

        self.connect()
        if self._channel is None:
            self._channel = grpc.insecure_channel(self.endpoint)
        call = self._channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        try:
            return bytes(call(request, timeout=self.timeout if timeout is None else timeout))
        except grpc.RpcError as e:
            raise CriError(_rpc_message(e)) from None

    # RuntimeService
    def status(self) -> CriStatus:
        """Like kubeadm's ``IsRunning``: the call succeeds and ``RuntimeReady`` is true."""
        try:
            raw = self._call(STATUS_METHOD, status_request())
        except CriNotRunning as e:
            return CriStatus(False, str(e), "status-call")
        except CriError as e:
            return CriStatus(False, f"container runtime is not running: {e}", "status-call")
        for c in runtime_conditions(raw):
            if c["type"] == "RuntimeReady" and not c["status"]:
                return CriStatus(
                    False,
                    f'container runtime condition "RuntimeReady" is not true. reason: '
                    f"{c['reason']}, message: {c['message']}",
                    "status-call",
                )
        return CriStatus(True, f"RuntimeService/Status on {self.endpoint}: RuntimeReady", "status-call")

    def sandbox_image(self) -> str:
        """The runtime's sandbox (pause) image (verbose Status); "" when it does not say."""
        return sandbox_image(runtime_info(self._call(STATUS_METHOD, status_request(True))))

    def list_sandboxes(self) -> list[Sandbox]:
        """Every pod sandbox (ListPodSandbox without a filter, as kubeadm's ``ListKubeContainers``)."""
        return parse_sandboxes(self._call(LIST_SANDBOXES_METHOD, b""))

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        """StopPodSandbox then RemovePodSandbox (its containers go with it)."""
        self._call(STOP_SANDBOX_METHOD, sandbox_request(sandbox.id))
        self._call(REMOVE_SANDBOX_METHOD, sandbox_request(sandbox.id))
        return Change("process", "delete", sandbox.label, "stopped and removed")

    # ImageService
    def image_status(self, image: str) -> CriImage | None:
        return decode_image_status(self._call(IMAGE_STATUS_METHOD, image_status_request(image)))

    def image_present(self, image: str) -> bool:
        return self.image_status(image) is not None

    def pull_image(self, image: str) -> Pulled:
        """PullImage, with the image reference the runtime reports."""
        raw = self._call(PULL_IMAGE_METHOD, pull_image_request(image), self.pull_timeout)
        return Pulled(image, decode_pull_image(raw))
