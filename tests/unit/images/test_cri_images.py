"""The generated CRI messages (runtime.v1 api.proto field numbers), container log tails, the one CRI
client on a missing socket, and the CRI effector's dry-run twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.effectors.cri import dry_run_cri_factory, endpoint_under
from kubeadm_py.host import cri
from kubeadm_py.host.criapi import api_pb2 as api
from kubeadm_py.hostfs import HostFS
from tests.unit.cri_server import Abort, CriServer


def test_messages_round_trip_on_the_runtime_v1_field_numbers() -> None:
    """The generated messages carry the api.proto field numbers the runtimes read: ImageSpec
    image = 1, ImageStatusRequest{image = 1, verbose = 2}, StatusRequest{verbose = 1}."""
    req = api.ImageStatusRequest(image=api.ImageSpec(image="pause:3.2"), verbose=True)
    assert req.SerializeToString() == b"\x0a\x0b\x0a\x09pause:3.2\x10\x01"
    assert api.StatusRequest(verbose=False).SerializeToString() == b""  # proto3: false not encoded
    name = "registry.example/" + "x" * 200 + ":v1"
    assert api.ImageSpec.FromString(api.ImageSpec(image=name).SerializeToString()).image == name


def test_sandbox_image_from_runtime_info() -> None:
    config = json.dumps({"sandboxImage": "registry.k8s.io/pause:3.6", "other": 1})
    assert cri.sandbox_image({"config": config}) == "registry.k8s.io/pause:3.6"
    assert cri.sandbox_image({}) == "" and cri.sandbox_image({"config": "not json"}) == ""


def test_log_tail_reads_the_cri_log_format(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_text(
        "2026-01-01T00:00:00.1Z stderr F I0101 starting\n"
        "2026-01-01T00:00:00.2Z stderr P Error: open /x: no such \n"
        "2026-01-01T00:00:00.3Z stderr F file or directory\n"
        "not cri format\n"
    )
    assert cri.log_tail(str(log), 2) == ["Error: open /x: no such file or directory", "not cri format"]
    assert cri.log_tail(str(tmp_path / "absent.log")) == []


def test_client_reports_missing_socket(tmp_path: Path) -> None:
    client = cri.CriClient(f"unix://{tmp_path}/none.sock")
    missing = f"container runtime is not running: {tmp_path}/none.sock does not exist"
    for call in (lambda: client.image_present("x"), client.list_sandboxes, client.sandbox_image):
        with pytest.raises(cri.CriNotRunning, match=f"^{missing}$"):
            call()
    assert client.status() == cri.CriStatus(False, missing, "status-call")


class Runtime:
    """A container runtime for the twin: one sandbox, one image; records mutating calls."""

    endpoint = "unix:///run/c.sock"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def sandbox_image(self) -> str:
        return "pause:3"

    def image_present(self, image: str) -> bool:
        return image == "pause:3"

    def pull_image(self, image: str, timeout: float | None = None) -> cri.Pulled:
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


def _status(ready: bool, info: dict[str, str]) -> bytes:
    cond = api.RuntimeCondition(type="RuntimeReady", status=ready, reason="" if ready else "NotReady")
    return api.StatusResponse(status=api.RuntimeStatus(conditions=[cond]), info=info).SerializeToString()


def test_client_calls_over_grpc(tmp_path: Path) -> None:
    """Each call of the one CRI client against a gRPC server: the request bytes it sends, what it
    makes of the answer, and a failed call as Go's grpc prints it."""
    ready = [True]
    config = json.dumps({"sandboxImage": "registry.k8s.io/pause:3.6"})

    def status(req: bytes) -> bytes:
        return _status(ready[0], {"config": config} if api.StatusRequest.FromString(req).verbose else {})

    def pull(req: bytes) -> bytes:
        if api.PullImageRequest.FromString(req).image.image == "absent:1":
            raise Abort("NOT_FOUND", "pull access denied")
        return api.PullImageResponse(image_ref="sha256:0123").SerializeToString()

    def image_status(req: bytes) -> bytes:
        if api.ImageStatusRequest.FromString(req).image.image != "pause:3.2":
            return b""  # the runtime's answer for an image it lacks
        image = api.Image(id="sha256:abc", repo_tags=["pause:3.2"], repo_digests=["pause@sha256:d"], size=1)
        return api.ImageStatusResponse(image=image).SerializeToString()

    answers = {
        "Status": status,
        "ImageStatus": image_status,
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
            assert not not_ready.ok and 'RuntimeReady" is not true. reason: NotReady' in not_ready.message
            assert client.sandbox_image() == "registry.k8s.io/pause:3.6"
            assert client.image_status("pause:3.2") == cri.CriImage(
                "sha256:abc", ("pause:3.2",), ("pause@sha256:d",), 1
            )
            assert not client.image_present("absent:1")
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
    assert api.PullImageRequest.FromString(sent["PullImage"]).image.image == "absent:1"
    assert [name for name, _ in server.calls][:2] == ["Status", "Status"]
    assert api.StatusRequest.FromString(server.calls[2][1]).verbose  # verbose: the runtime's info map


def test_containers_and_their_status_over_grpc(tmp_path: Path) -> None:
    """ListContainers (filtered by the pod namespace label) and ContainerStatus as the control-plane
    wait reads them: name from the kubelet's label, state, attempt, exit code, log path, times."""
    labels = {cri.CONTAINER_NAME_LABEL: "kube-apiserver", cri.POD_NAMESPACE_LABEL: "kube-system"}
    meta = api.ContainerMetadata(name="kube-apiserver", attempt=1)
    listed = api.Container(
        id="c1",
        pod_sandbox_id="s1",
        metadata=meta,
        state=api.CONTAINER_EXITED,
        created_at=2_000_000_000,
        labels=labels,
    )
    status = api.ContainerStatus(
        id="c1",
        metadata=meta,
        state=api.CONTAINER_EXITED,
        created_at=2_000_000_000,
        finished_at=3_500_000_000,
        exit_code=1,
        reason="Error",
        log_path="/var/log/pods/x/kube-apiserver/1.log",
        labels=labels,
    )
    seen: list[dict[str, str]] = []

    def list_containers(req: bytes) -> bytes:
        seen.append(dict(api.ListContainersRequest.FromString(req).filter.label_selector))
        return api.ListContainersResponse(containers=[listed]).SerializeToString()

    answers = {
        "ListContainers": list_containers,
        "ContainerStatus": lambda req: api.ContainerStatusResponse(status=status).SerializeToString(),
    }
    server = CriServer(tmp_path / "cri.sock", answers)
    try:
        with cri.CriClient(f"unix://{tmp_path}/cri.sock", timeout=5) as client:
            [c] = client.list_containers("kube-system")
            full = client.container_status("c1")
    finally:
        server.stop()
    assert seen == [{cri.POD_NAMESPACE_LABEL: "kube-system"}]
    assert (c.name, c.state, c.attempt, c.created_at, c.exit_code) == ("kube-apiserver", "exited", 1, 2.0, 0)
    assert (c.sandbox_id, full.sandbox_id) == ("s1", "")  # ContainerStatus does not name its sandbox
    assert (full.exit_code, full.reason, full.log_path, full.finished_at) == (
        1,
        "Error",
        "/var/log/pods/x/kube-apiserver/1.log",
        3.5,
    )
