"""Protobuf encoding/decoding of the CRI ImageService messages (runtime.v1 api.proto field numbers)."""

from __future__ import annotations

import json

from kubeadm_py.host import cri


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


def test_service_reports_missing_socket(tmp_path: object) -> None:
    svc = cri.CriImageService(f"unix://{tmp_path}/none.sock")
    try:
        svc.image_present("x")
    except cri.CriError as e:
        assert "does not exist" in str(e)
    else:
        raise AssertionError("expected CriError")
