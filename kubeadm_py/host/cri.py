"""Is the container runtime answering on its CRI socket?

Depth, best first:

0. grpcio installed (a dependency of kubeadm-py): the real ``runtime.v1.RuntimeService/Status``
   gRPC call on the socket, request and response encoded here (no generated protobuf code);
   the check fails on an RPC error (e.g. ``code = Unimplemented desc = unknown service
   runtime.v1.RuntimeService`` when the runtime has CRI disabled) or when ``RuntimeReady`` is false.
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


def status_via_grpc(endpoint: str, timeout: float = 10.0) -> CriStatus:
    import grpc

    url = endpoint_url(endpoint)
    path = socket_path(endpoint)
    if url.startswith("unix://") and not os.path.exists(path):
        return CriStatus(False, f"container runtime is not running: {path} does not exist", "status-call")
    with grpc.insecure_channel(url) as channel:
        call = channel.unary_unary(STATUS_METHOD, request_serializer=None, response_deserializer=None)
        try:
            raw = call(b"", timeout=timeout)  # StatusRequest{verbose: false} encodes to nothing
        except grpc.RpcError as e:
            code = e.code() if hasattr(e, "code") else None
            details = e.details() if hasattr(e, "details") else str(e)
            return CriStatus(
                False,
                f"container runtime is not running: rpc error: code = "
                f"{_go_code(code.name) if code else 'Unknown'} desc = {details}",
                "status-call",
            )
    for c in runtime_conditions(raw):
        if c["type"] == "RuntimeReady" and not c["status"]:
            return CriStatus(
                False,
                f'container runtime condition "RuntimeReady" is not true. reason: '
                f"{c['reason']}, message: {c['message']}",
                "status-call",
            )
    return CriStatus(True, f"RuntimeService/Status on {url}: RuntimeReady", "status-call")


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
