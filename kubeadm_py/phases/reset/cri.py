"""Removing the Kubernetes Pod sandboxes (and so their containers) through the CRI, as kubeadm's
``RemoveContainers`` does: ``ListPodSandbox`` with no filter, then ``StopPodSandbox`` and
``RemovePodSandbox`` for each. The gRPC calls use raw protobuf encoding (no generated code), like
the preflight CRI check in :mod:`kubeadm_py.host.cri`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubeadm_py.host.cri import endpoint_url, proto_fields, socket_path

SERVICE = "/runtime.v1.RuntimeService/"
CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Sandbox:
    id: str
    name: str
    namespace: str
    ready: bool

    @property
    def label(self) -> str:
        who = f"{self.namespace}/{self.name}" if self.namespace else self.name or "?"
        return f"pod {who} (sandbox {self.id[:13]})"


class CriUnavailable(Exception):
    """The runtime could not be asked: the message says why."""


def _string_field(num: int, value: str) -> bytes:
    data = value.encode()
    n, out = len(data), bytearray([(num << 3) | 2])
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + data


def parse_sandboxes(raw: bytes) -> list[Sandbox]:
    """``ListPodSandboxResponse``: items=1 (PodSandbox: id=1, metadata=2 {name=1, uid=2,
    namespace=3}, state=3 with 0 = SANDBOX_READY)."""
    out: list[Sandbox] = []
    for num, item in proto_fields(raw):
        if num != 1 or not isinstance(item, bytes):
            continue
        sid = name = ns = ""
        state = 1
        for fnum, val in proto_fields(item):
            if fnum == 1 and isinstance(val, bytes):
                sid = val.decode(errors="replace")
            elif fnum == 2 and isinstance(val, bytes):
                for mnum, mval in proto_fields(val):
                    if mnum == 1 and isinstance(mval, bytes):
                        name = mval.decode(errors="replace")
                    elif mnum == 3 and isinstance(mval, bytes):
                        ns = mval.decode(errors="replace")
            elif fnum == 3 and isinstance(val, int):
                state = val
        if sid:
            out.append(Sandbox(sid, name, ns, state == 0))
    return out


class CriPods:
    """The three RuntimeService calls reset needs, on one channel."""

    def __init__(self, endpoint: str, real_socket: str) -> None:
        self.endpoint = endpoint_url(endpoint)
        self.real_socket = real_socket
        if not os.path.exists(real_socket):
            raise CriUnavailable(f"no container runtime socket at {real_socket}")
        try:
            import grpc
        except ImportError:  # pragma: no cover - grpcio is a dependency
            raise CriUnavailable("grpcio is not installed") from None
        self._grpc: Any = grpc
        self._channel = grpc.insecure_channel(f"unix://{real_socket}")

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: str, request: bytes) -> bytes:
        call: Callable[..., bytes] = self._channel.unary_unary(
            SERVICE + method, request_serializer=None, response_deserializer=None
        )
        try:
            return call(request, timeout=CALL_TIMEOUT)
        except self._grpc.RpcError as e:
            code = e.code().name if hasattr(e, "code") and e.code() else "UNKNOWN"
            details = e.details() if hasattr(e, "details") else str(e)
            raise CriUnavailable(f"{method} on {self.endpoint}: {code}: {details}") from None

    def list(self) -> list[Sandbox]:
        return parse_sandboxes(self._call("ListPodSandbox", b""))

    def stop_and_remove(self, sandbox: Sandbox) -> None:
        req = _string_field(1, sandbox.id)
        self._call("StopPodSandbox", req)
        self._call("RemovePodSandbox", req)


def open_cri(endpoint: str, real_path: Callable[[str], Any]) -> CriPods:
    """A CRI client for ``endpoint`` (``unix:///run/containerd/containerd.sock``), the socket
    path mapped through ``real_path`` (``--rootfs``)."""
    if not endpoint:
        raise CriUnavailable("no CRI socket configured (--cri-socket)")
    if not endpoint_url(endpoint).startswith("unix://"):
        raise CriUnavailable(f"only unix sockets are supported, not {endpoint}")
    return CriPods(endpoint, str(real_path(socket_path(endpoint))))
