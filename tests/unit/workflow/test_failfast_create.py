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


def test_wait_control_plane_ends_on_an_image_that_cannot_be_pulled(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole path: the control-plane phase writes the manifests (a patch names the missing
    image), wait-control-plane's watch reads the image from the manifest on the node and pulls it."""
    from kubeadm_py.effectors.bundle import Hooks
    from kubeadm_py.effectors.watch import ComponentsFailed
    from kubeadm_py.host.fake import FakeProbe
    from kubeadm_py.phases.shared.control_plane import control_plane_phase
    from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase
    from tests.unit import runctx
    from tests.unit.manifests.test_phases import health_server, make_cfg, run_all

    monkeypatch.setattr("kubeadm_py.effectors.watch_create.IMAGE_GRACE", 0.0)
    rt = ImageRuntime(pull_error=PULL_ERROR)
    patches = tmp_path / "root/patches"
    patches.mkdir(parents=True)
    (patches / "kube-apiserver+json.yaml").write_text(
        f"- op: replace\n  path: /spec/containers/0/image\n  value: {IMAGE}\n"
    )
    cfg = make_cfg(
        "v1.32.10",
        init={
            "localAPIEndpoint": {"advertiseAddress": "127.0.0.1", "bindPort": 1},
            "patches": {"directory": "/patches"},
        },
    )
    hooks = Hooks(cri=lambda endpoint: rt, probe=FakeProbe(processes={"kubelet"}))
    ctx, _ = runctx.build(cfg, tmp_path / "root", hooks=hooks)
    run_all(control_plane_phase(), ctx)
    with health_server({"/healthz": 200}) as kport:
        kdir = tmp_path / "root/var/lib/kubelet"
        kdir.mkdir(parents=True, exist_ok=True)
        (kdir / "config.yaml").write_text(f"healthzBindAddress: 127.0.0.1\nhealthzPort: {kport}\n")
        with pytest.raises(ComponentsFailed) as e:
            wait_control_plane_phase().run(ctx)  # type: ignore[misc]
    assert str(e.value).startswith(f"kube-apiserver: no container was created (ErrImagePull: image {IMAGE} ")
    assert f"pull {IMAGE} {PULL_TIMEOUT}" in rt.calls
    failures = ctx.outputs.failures or []
    assert failures[0]["component"] == "kube-apiserver" and failures[0]["state"] == "not created"
    assert failures[0]["exitCode"] is None and IMAGE in failures[0]["reason"]


def test_an_upgrade_whose_new_image_cannot_be_pulled_fails_its_wait_at_once() -> None:
    """upgrade apply's wait for the new Pod: a WaitError at once, which staticpods turns into the
    rollback (tests/unit/upgrade)."""
    from kubeadm_py.effectors.waiting import Waiter
    from kubeadm_py.upgrade.staticpods import WaitError
    from kubeadm_py.upgrade.waiter import ClusterWaiter
    from tests.unit.upgrade.test_staticpods import FakeAPIServer
    from tests.unit.workflow.test_failfast import Clock

    old = container(state="running", attempt=0, created_at=NOW - 500)  # the previous Pod's, still running
    rt = ImageRuntime(pull_error=PULL_ERROR, containers=[old])
    w = Waiter(clock=Clock())  # its sleeps move the clock

    def factory(component: str, since: float) -> ComponentWatch:
        return ComponentWatch(
            runtime=lambda: rt,
            components=[component],
            kubelet_running=lambda: True,
            since=since,
            now=lambda: NOW + w.clock.monotonic(),  # type: ignore[attr-defined]
            image_of=lambda c: IMAGE,
        )

    cw = ClusterWaiter(FakeAPIServer().client(), "cp1", w, lambda line: None, watch=factory, now=lambda: NOW)
    with pytest.raises(WaitError, match=r"^kube-apiserver: no container was created \(ErrImagePull: "):
        cw.wait_for_new_pod("kube-apiserver", "old-hash", 300)
    assert cw.failures[0].state == "not created"
    assert w.clock.monotonic() <= IMAGE_GRACE + 2  # type: ignore[attr-defined]  # the grace, then the pull


def test_a_sandbox_in_crash_loop_back_off_after_a_rollback_is_no_verdict() -> None:
    """The test bed's case: a rollback restores a Pod whose container exited before the wait; the
    kubelet makes a new sandbox and holds the container back (CrashLoopBackOff) for longer than
    the sandbox grace. The older container still listed says so: no CreateContainerError."""
    clock = [NOW]
    box = Sandbox("s1", "kube-apiserver-cp1", "kube-system", True, NOW + 1)
    rt = ImageRuntime(images={IMAGE}, sandboxes=[box])
    rt.containers = [container(state="exited", attempt=1, created_at=NOW - 300)]  # before the wait
    w = watch(rt, clock)
    assert w(["kube-apiserver"]) == []
    clock[0] += SANDBOX_GRACE + 5
    assert w(["kube-apiserver"]) == []
    rt.containers = []  # never a container of the component: the same sandbox is a verdict
    [report] = w(["kube-apiserver"])
    assert report.reason.startswith("CreateContainerError:")
