"""CRI endpoints, the crictl fallback and the HTTP/2 handshake."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

from kubeadm_py.host.cri import (
    HTTP2_PREFACE,
    endpoint_url,
    socket_path,
    status_via_crictl,
    status_via_http2,
)


def test_endpoint_forms() -> None:
    assert socket_path("unix:///run/containerd/containerd.sock") == "/run/containerd/containerd.sock"
    assert endpoint_url("/run/crio/crio.sock") == "unix:///run/crio/crio.sock"


def _run(rc: int, out: str, err: str = ""):  # type: ignore[no-untyped-def]
    seen: list[Sequence[str]] = []

    def run(argv: Sequence[str], timeout: float) -> tuple[int, str, str]:
        seen.append(argv)
        return rc, out, err

    return run, seen


def test_crictl_ready() -> None:
    info = {
        "status": {
            "conditions": [
                {"type": "RuntimeReady", "status": True},
                {"type": "NetworkReady", "status": False},
            ]
        }
    }
    run, seen = _run(0, json.dumps(info))
    st = status_via_crictl("/usr/bin/crictl", "/run/containerd/containerd.sock", run)
    assert st.ok and st.depth == "status-call"
    assert list(seen[0][:3]) == [
        "/usr/bin/crictl",
        "--runtime-endpoint",
        "unix:///run/containerd/containerd.sock",
    ]


def test_crictl_not_ready_and_failing() -> None:
    info = {
        "status": {"conditions": [{"type": "RuntimeReady", "status": False, "reason": "r", "message": "m"}]}
    }
    st = status_via_crictl("crictl", "/x.sock", _run(0, json.dumps(info))[0])
    assert not st.ok and 'condition "RuntimeReady" is not true. reason: r, message: m' in st.message
    st = status_via_crictl("crictl", "/x.sock", _run(1, "", "connect: connection refused\n")[0])
    assert not st.ok and st.message == "container runtime is not running: connect: connection refused"


def test_http2_handshake_against_socket_server(tmp_path: Path) -> None:
    path = f"/tmp/kpy-h2-{os.getpid()}.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    got: list[bytes] = []

    def serve(reply: bytes) -> None:
        conn, _ = srv.accept()
        with conn:
            got.append(conn.recv(len(HTTP2_PREFACE)))
            conn.sendall(reply)

    try:
        t = threading.Thread(target=serve, args=(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00",), daemon=True)
        t.start()
        assert status_via_http2(path, timeout=5).ok
        t.join(5)
        assert got == [HTTP2_PREFACE]
        t = threading.Thread(target=serve, args=(b"HTTP/1.1 400 Bad Request\r\n\r\n",), daemon=True)
        t.start()
        st = status_via_http2(path, timeout=5)
        t.join(5)
        assert not st.ok and "does not speak HTTP/2" in st.message
    finally:
        srv.close()
        os.unlink(path)
    assert not status_via_http2(str(tmp_path / "absent.sock"), timeout=1).ok


def test_grpc_status_on_missing_socket(tmp_path: Path) -> None:
    from kubeadm_py.host.cri import status_via_grpc

    st = status_via_grpc(f"unix://{tmp_path}/containerd.sock", timeout=2)
    assert not st.ok
    assert st.message == f"container runtime is not running: {tmp_path}/containerd.sock does not exist"
