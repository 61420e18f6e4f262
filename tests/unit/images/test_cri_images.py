"""Protobuf encoding/decoding of the CRI messages (runtime.v1 api.proto field numbers), the one CRI
client on a missing socket, and the CRI effector's dry-run twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.effectors.cri import dry_run_cri_factory, endpoint_under
from kubeadm_py.host import cri
from kubeadm_py.hostfs import HostFS
from tests.unit.cri_server import Abort, CriServer


def test_request_encoding_bytes() -> None:
    # ImageSpec{image=1}: tag 0x0a, length, bytes
    assert cri.image_spec("pause:3.2") == b"\x0a\x09pause:3.2"
    # ImageStatusRequest{image: ImageSpec = 1, verbose = 2}
    assert cri.image_status_request("pause:3.2") == b"\x0a\x0b\x0a\x09pause:3.2"
    assert cri.image_status_request("pause:3.2", verbose=True) == b"\x0a\x0b\x0a\x09pause:3.2\x10\x01"
    # PullImageRequest{image: ImageSpec = 1}
    assert cri.pull_image_request("pause:3.2") == b"\x0a\x0b\x0a\x09pause:3.2"
    # StatusRequest{verbose = 1}; false is not encoded (proto3)
    assert cri.status_request(False) == b"" and cri.status_request(True) == b"\x08\x01"


def test_long_image_name_uses_multibyte_length() -> None:
    name = "registry.example/" + "x" * 200 + ":v1"
    spec = cri.image_spec(name)
    assert spec[:3] == b"\x0a" + bytes([len(name) & 0x7F | 0x80, len(name) >> 7])
    assert cri.proto_fields(spec) == [(1, name.encode())]


def _image(id_: str, tags: list[str], digests: list[str], size: int) -> bytes:
    body = cri._enc_bytes(1, id_.encode())
    body += b"".join(cri._enc_bytes(2, t.encode()) for t in tags)
    body += b"".join(cri._enc_bytes(3, d.encode()) for d in digests)
    body += cri._enc_varint(4 << 3) + cri._enc_varint(size)
    return body


def test_decode_image_status_present_and_absent() -> None:
    raw = cri._enc_bytes(
        1,
        _image(
            "sha256:abc",
            ["k8s.gcr.io/pause:3.2", "registry.k8s.io/pause:3.2"],
            ["k8s.gcr.io/pause@sha256:def"],
            707362,
        ),
    )
    raw += cri._enc_bytes(2, cri._enc_bytes(1, b"info") + cri._enc_bytes(2, b"{}"))  # info map entry
    img = cri.decode_image_status(raw)
    assert img == cri.CriImage(
        "sha256:abc",
        ("k8s.gcr.io/pause:3.2", "registry.k8s.io/pause:3.2"),
        ("k8s.gcr.io/pause@sha256:def",),
        707362,
    )
    assert cri.decode_image_status(b"") is None  # the runtime's answer for an image it lacks


def test_decode_pull_image_response() -> None:
    assert cri.decode_pull_image(cri._enc_bytes(1, b"sha256:0123")) == "sha256:0123"
    assert cri.decode_pull_image(b"") == ""


def test_runtime_info_and_sandbox_image() -> None:
    config = json.dumps({"sandboxImage": "registry.k8s.io/pause:3.6", "other": 1})
    status = cri._enc_bytes(1, b"")  # an empty RuntimeStatus
    for k, v in (("config", config), ("golang", "go1.20")):
        status += cri._enc_bytes(2, cri._enc_bytes(1, k.encode()) + cri._enc_bytes(2, v.encode()))
    info = cri.runtime_info(status)
    assert info == {"config": config, "golang": "go1.20"}
    assert cri.sandbox_image(info) == "registry.k8s.io/pause:3.6"
    assert cri.sandbox_image({}) == "" and cri.sandbox_image({"config": "not json"}) == ""


def test_client_reports_missing_socket(tmp_path: Path) -> None:
    client = cri.CriClient(f"unix://{tmp_path}/none.sock")
    missing = f"container runtime is not running: {tmp_path}/none.sock does not exist"
    for call in (lambda: client.image_present("x"), client.list_sandboxes, client.sandbox_image):
        with pytest.raises(cri.CriNotRunning, match=f"^{missing}$"):
            call()
    assert client.status() == cri.CriStatus(False, missing, "status-call")


def test_sandbox_request_encoding() -> None:
    # StopPodSandboxRequest / RemovePodSandboxRequest{pod_sandbox_id = 1}
    assert cri.sandbox_request("ab12") == b"\x0a\x04ab12"


class Runtime:
    """A container runtime for the twin: one sandbox, one image; records mutating calls."""

    endpoint = "unix:///run/c.sock"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def sandbox_image(self) -> str:
        return "pause:3"

    def image_present(self, image: str) -> bool:
        return image == "pause:3"

    def pull_image(self, image: str) -> cri.Pulled:
        self.calls.append(f"pull {image}")
        return cri.Pulled(image, "sha256:1")

    def list_sandboxes(self) -> list[cri.Sandbox]:
        return [cri.Sandbox("a" * 64, "etcd-cp1", "kube-system", True)]

    def remove_sandbox(self, sandbox: cri.Sandbox) -> Change:
        self.calls.append(f"remove {sandbox.id}")
        return Change("process", "delete", sandbox.label, "stopped and removed")

    def close(self) -> None:
        self.calls.append("close")


def test_dry_run_twin_reads_the_runtime_and_records_the_rest() -> None:
    real, logs = Runtime(), []
    twin = dry_run_cri_factory(lambda endpoint: real, logs.append)("unix:///run/c.sock")
    assert twin.endpoint == real.endpoint
    assert twin.sandbox_image() == "pause:3" and twin.image_present("pause:3")
    [pod] = twin.list_sandboxes()
    label = "pod kube-system/etcd-cp1 (sandbox aaaaaaaaaaaaa)"
    assert twin.remove_sandbox(pod) == Change("process", "delete", label, "would be stopped and removed")
    assert twin.pull_image("etcd:3") == cri.Pulled("etcd:3", "", ran=False)
    twin.close()
    assert real.calls == ["close"]  # nothing removed or pulled
    assert logs == [
        "[dryrun] Would stop and remove pod kube-system/etcd-cp1 (sandbox aaaaaaaaaaaaa) and its containers",
        "[dryrun] Would pull the image etcd:3",
    ]


def test_endpoint_under_rootfs(tmp_path: Path) -> None:
    fs = HostFS(rootfs=tmp_path)
    assert endpoint_under(fs, "unix:///run/c.sock") == f"unix://{tmp_path}/run/c.sock"
    assert endpoint_under(fs, "/run/c.sock") == f"unix://{tmp_path}/run/c.sock"
    assert endpoint_under(HostFS(), "/run/c.sock") == "unix:///run/c.sock"


def _cond(type_: str, status: bool, reason: str = "") -> bytes:
    body = cri._enc_bytes(1, type_.encode()) + cri._enc_bool(2, status) + cri._enc_bytes(3, reason.encode())
    return cri._enc_bytes(1, body)


def test_client_calls_over_grpc(tmp_path: Path) -> None:
    """Each call of the one CRI client against a gRPC server: the request bytes it sends, what it
    makes of the answer, and a failed call as Go's grpc prints it."""
    ready = [True]
    config = json.dumps({"sandboxImage": "registry.k8s.io/pause:3.6"})
    info = cri._enc_bytes(2, cri._enc_bytes(1, b"config") + cri._enc_bytes(2, config.encode()))

    def status(req: bytes) -> bytes:
        return cri._enc_bytes(1, _cond("RuntimeReady", ready[0], "" if ready[0] else "NotReady")) + info

    def pull(req: bytes) -> bytes:
        if b"absent" in req:
            raise Abort("NOT_FOUND", "pull access denied")
        return cri._enc_bytes(1, b"sha256:0123")

    answers = {
        "Status": status,
        "ImageStatus": lambda req: cri._enc_bytes(1, _image("sha256:abc", ["pause:3.2"], [], 1)),
        "PullImage": pull,
        "ListPodSandbox": lambda req: b"",
    }
    server = CriServer(tmp_path / "cri.sock", answers)
    try:
        with cri.CriClient(f"unix://{tmp_path}/cri.sock", timeout=5) as client:
            assert client.status() == cri.CriStatus(
                True, f"RuntimeService/Status on unix://{tmp_path}/cri.sock: RuntimeReady", "status-call"
            )
            ready[0] = False
            not_ready = client.status()
            assert not not_ready.ok and "RuntimeReady\" is not true. reason: NotReady" in not_ready.message
            assert client.sandbox_image() == "registry.k8s.io/pause:3.6"
            assert client.image_present("pause:3.2")
            assert client.pull_image("pause:3.2") == cri.Pulled("pause:3.2", "sha256:0123")
            assert client.list_sandboxes() == []
            with pytest.raises(cri.CriError, match="^rpc error: code = NotFound desc = pull access denied$"):
                client.pull_image("absent:1")
            server.answers.pop("Status")
            unimplemented = "rpc error: code = Unimplemented desc = unknown method Status"
            with pytest.raises(cri.CriError, match=f"^{unimplemented}$"):
                client.sandbox_image()
            assert client.status().message == f"container runtime is not running: {unimplemented}"
    finally:
        server.stop()
    sent = dict(server.calls)
    assert sent["ImageStatus"] == cri.image_status_request("pause:3.2")
    assert sent["PullImage"] == cri.pull_image_request("absent:1")
    assert [name for name, _ in server.calls][:2] == ["Status", "Status"]
    assert server.calls[2] == ("Status", cri.status_request(True))  # verbose: the runtime's info map
