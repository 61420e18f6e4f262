"""Failing fast when a control-plane container is never created (issue 17): the creation watch's
table of signals (an image that cannot be pulled, a sandbox without a container, no sandbox at
all) over a fake runtime and clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kubeadm_py.effectors.watch import ComponentWatch
from kubeadm_py.effectors.watch_create import IMAGE_GRACE, NO_SANDBOX_GRACE, PULL_TIMEOUT, SANDBOX_GRACE
from kubeadm_py.host.cri import CriError, Pulled, Sandbox
from tests.unit.workflow.test_failfast import NOW, Runtime, container

IMAGE = "registry.k8s.io/kube-apiserver:v1.20.2-missing"
PULL_ERROR = (
    "rpc error: code = Unknown desc = failed to pull and unpack image "
    '"registry.k8s.io/kube-apiserver:v1.20.2-missing": '
    "dial tcp: lookup registry.k8s.io: no such host"
)


@dataclass
class ImageRuntime(Runtime):
    """The fake runtime with images, pulls and sandboxes."""

    images: set[str] = field(default_factory=set)
    pull_error: str = ""
    sandboxes: list[Sandbox] = field(default_factory=list)

    def image_present(self, image: str) -> bool:
        self.calls.append(f"image {image}")
        return image in self.images

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        self.calls.append(f"pull {image} {timeout}")
        if self.pull_error:
            raise CriError(self.pull_error)
        self.images.add(image)
        return Pulled(image)

    def list_sandboxes(self) -> list[Sandbox]:
        return list(self.sandboxes)


def watch(rt: ImageRuntime, clock: list[float], kubelet: bool = True) -> ComponentWatch:
    return ComponentWatch(
        runtime=lambda: rt,
        components=["kube-apiserver"],
        kubelet_running=lambda: kubelet,
        since=NOW - 100,
        now=lambda: clock[0],
        image_of=lambda c: IMAGE if c == "kube-apiserver" else None,
    )


def test_an_image_that_cannot_be_pulled_ends_the_wait_with_the_runtimes_words() -> None:
    clock = [NOW]
    rt = ImageRuntime(pull_error=PULL_ERROR)
    w = watch(rt, clock)
    assert w(["kube-apiserver"]) == []  # no container yet: the kubelet may be about to create it
    clock[0] += IMAGE_GRACE
    [report] = w(["kube-apiserver"])
    assert report.state == "not created" and report.component == "kube-apiserver"
    assert report.line() == (
        f"kube-apiserver: no container was created (ErrImagePull: image {IMAGE} is not on the node and "
        f"cannot be pulled: {PULL_ERROR})"
    )
    assert report.to_json()["exitCode"] is None
    assert f"pull {IMAGE} {PULL_TIMEOUT}" in rt.calls
    clock[0] += 1
    assert w(["kube-apiserver"]) == []  # pulled once per wait, not at every poll


def test_a_pullable_or_slow_image_is_no_verdict() -> None:
    clock = [NOW + IMAGE_GRACE]
    rt = ImageRuntime()
    w = watch(rt, clock)
    w(["kube-apiserver"])
    clock[0] += IMAGE_GRACE
    assert w(["kube-apiserver"]) == [] and IMAGE in rt.images  # pulled: the kubelet goes on
    slow = ImageRuntime(pull_error="rpc error: code = DeadlineExceeded desc = Deadline Exceeded")
    w = watch(slow, clock)
    w(["kube-apiserver"])
    clock[0] += IMAGE_GRACE
    assert w(["kube-apiserver"]) == []


@pytest.mark.parametrize(
    ("sandbox", "after", "reason"),
    [
        (
            Sandbox("s1", "kube-apiserver-cp1", "kube-system", True, NOW - 50),
            SANDBOX_GRACE,
            "CreateContainerError",
        ),
        (None, NO_SANDBOX_GRACE, "PodNotStarted"),
    ],
)
def test_no_container_with_the_image_present(sandbox: Sandbox | None, after: float, reason: str) -> None:
    clock = [NOW]
    rt = ImageRuntime(images={IMAGE}, sandboxes=[sandbox] if sandbox else [])
    w = watch(rt, clock)
    assert w(["kube-apiserver"]) == []
    clock[0] += after - 1
    assert w(["kube-apiserver"]) == []
    clock[0] += 1
    [report] = w(["kube-apiserver"])
    assert report.reason.startswith(reason + ":") and "journalctl -xeu kubelet" in report.log_path
    assert not any(c.startswith("pull") for c in rt.calls)


def test_an_old_sandbox_does_not_count_and_a_container_resets_the_clock() -> None:
    clock = [NOW]
    old = Sandbox("s0", "kube-apiserver-cp1", "kube-system", True, NOW - 500)  # the previous Pod's
    rt = ImageRuntime(images={IMAGE}, sandboxes=[old])
    w = watch(rt, clock)
    w(["kube-apiserver"])
    clock[0] += SANDBOX_GRACE
    assert w(["kube-apiserver"]) == []  # no sandbox of this wait yet: the longer grace applies
    rt.containers = [container(state="running", attempt=0, created_at=NOW)]
    assert w(["kube-apiserver"]) == []
    rt.containers = []
    clock[0] += NO_SANDBOX_GRACE - 1
    assert w(["kube-apiserver"]) == []  # counted again from when it went missing


def test_nothing_is_judged_while_the_kubelet_is_missing_or_the_component_healthy() -> None:
    clock = [NOW]
    rt = ImageRuntime(pull_error=PULL_ERROR)
    w = watch(rt, clock, kubelet=False)
    w(["kube-apiserver"])
    clock[0] += IMAGE_GRACE
    assert w(["kube-apiserver"]) == [] and set(rt.calls) == {"list kube-system"}  # exits only
    w = watch(rt, clock)
    w([])
    clock[0] += IMAGE_GRACE
    assert w([]) == [] and not any(c.startswith("pull") for c in rt.calls)
