"""Failing fast (issue 17): the container watch's rule, the waiter ending a wait on it (and its
dry-run twin never watching), wait-control-plane and an upgrade's wait naming the component, its
exit code and its log line, with the report in ``outputs.failures``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.effectors.waiting import DryRunWaiter, Target, Waiter
from kubeadm_py.effectors.watch import (
    EXIT_GRACE,
    KUBELET_GRACE,
    ComponentReport,
    ComponentsFailed,
    ComponentWatch,
)
from kubeadm_py.host.cri import ContainerInfo, Pulled, Sandbox
from kubeadm_py.upgrade.staticpods import WaitError
from kubeadm_py.upgrade.waiter import ClusterWaiter
from tests.unit.upgrade.test_staticpods import FakeAPIServer

NOW = 1_000_000.0
LOG = "/var/log/pods/kube-system_kube-apiserver-cp1_u1/kube-apiserver/1.log"


def container(
    name: str = "kube-apiserver", state: str = "exited", attempt: int = 1, **kw: object
) -> ContainerInfo:
    base = ContainerInfo(
        id=f"{name}-{attempt}",
        name=name,
        pod=f"{name}-cp1",
        namespace="kube-system",
        state=state,
        attempt=attempt,
        created_at=NOW - 5,
        exit_code=1 if state == "exited" else 0,
        reason="Error" if state == "exited" else "",
        log_path=LOG,
        finished_at=NOW - 1 if state == "exited" else 0.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


@dataclass
class Runtime:
    """The CRI effector's container calls over a fixed list of containers."""

    containers: list[ContainerInfo] = field(default_factory=list)
    endpoint: str = "unix:///run/containerd/containerd.sock"
    calls: list[str] = field(default_factory=list)

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        self.calls.append(f"list {namespace}")
        return list(self.containers)

    def container_status(self, container_id: str) -> ContainerInfo:
        self.calls.append(f"status {container_id}")
        return next(c for c in self.containers if c.id == container_id)

    def sandbox_image(self) -> str:
        return ""

    def image_present(self, image: str) -> bool:
        return True

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        return Pulled(image)

    def list_sandboxes(self) -> list[Sandbox]:
        return []

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        raise AssertionError("not removed by a wait")

    def close(self) -> None:
        self.calls.append("close")


def watch(rt: Runtime, components: tuple[str, ...] = ("kube-apiserver",), **kw: object) -> ComponentWatch:
    tails = {LOG: ["I0101 flags", "E0101 failed to load audit policy: open /x: no such file or directory"]}
    return ComponentWatch(
        runtime=lambda: rt,
        components=list(components),
        log_tail=lambda path, n: tails.get(path, [])[-n:],
        now=kw.pop("now", lambda: NOW),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_a_component_that_exited_twice_fails_with_its_exit_code_and_log_tail() -> None:
    rt = Runtime([container(state="exited", attempt=0, created_at=NOW - 20), container(attempt=1)])
    [report] = watch(rt)(["kube-apiserver"])
    assert report == ComponentReport(
        "kube-apiserver",
        "exited",
        1,
        1,
        ("I0101 flags", "E0101 failed to load audit policy: open /x: no such file or directory"),
        LOG,
        "Error",
    )
    assert report.line() == (
        "kube-apiserver exited 2 times (exit code 1, Error); last log line: "
        "'E0101 failed to load audit policy: open /x: no such file or directory'"
    )
    assert report.to_json()["exitCode"] == 1 and report.to_json()["restarts"] == 1
    assert rt.calls == ["list kube-system", "status kube-apiserver-1"]


def test_the_error_line_is_quoted_when_noise_follows_it() -> None:
    """On the test bed the API server logged informer noise after its audit policy error: the
    report quotes the error, and the whole tail stays in the report."""
    tail = (
        "I0101 flags",
        "E0101 failed to load audit policy: open /x: no such file or directory",
        "I0101 shared_informer.go:240] Waiting for caches to sync for node_authorizer",
    )
    report = ComponentReport("kube-apiserver", "exited", 1, 1, tail, LOG, "Error")
    assert report.line().endswith(
        "; last error in its log: 'E0101 failed to load audit policy: open /x: no such file or directory'"
    )
    assert report.to_json()["logTail"] == list(tail)
    plain = ComponentReport("kube-apiserver", "exited", 1, 0, ("I0101 a", "I0101 b"), LOG, "Error")
    assert plain.line().endswith("; last log line: 'I0101 b'")


def test_cobras_error_line_beats_klog_noise_around_it() -> None:
    """The v1.20 API server's own output for a file that is no audit policy (run on this machine):
    cobra's 'Error:' is its last word, klog lines from goroutines can come after it."""
    tail = (
        "I1203 11:04:39.735701   21844 server.go:182] Version: v1.20.2",
        "Error: loading audit policy file: failed decoding: couldn't get version/kind",
        "I1203 11:04:39.867721   21844 shared_informer.go:240] Waiting for caches to sync for node_authorizer",  # noqa: E501
        'E1203 11:04:39.9   21844 controller.go:184] Get "https://[::1]:6443/api": connection refused',
    )
    report = ComponentReport("kube-apiserver", "exited", 1, 1, tail, LOG, "Error")
    assert report.line().endswith(f"; last error in its log: {tail[1]!r}")
    last = ComponentReport("kube-apiserver", "exited", 1, 1, tail[:2], LOG, "Error")
    assert last.line().endswith(f"; last log line: {tail[1]!r}")


def test_the_log_tail_is_the_counted_containers_own() -> None:
    """An upgrade's rollback leaves the previous Pod's containers listed (the restored manifest has
    the same Pod UID): the report reads the log of the exited container it counts, the newest one
    created since the wait began, not an older one of the same component."""
    old_log = "/var/log/pods/kube-system_kube-apiserver-cp1_u0/kube-apiserver/1.log"
    new_log = "/var/log/pods/kube-system_kube-apiserver-cp1_u2/kube-apiserver/1.log"
    old = container(id="old", attempt=1, created_at=NOW - 120, log_path=old_log)
    new = container(id="new", attempt=1, created_at=NOW - 5, log_path=new_log)
    tails = {old_log: ["I0101 Waiting for caches to sync"], new_log: ["Error: loading audit policy file"]}
    rt = Runtime([new, old])
    w = ComponentWatch(
        runtime=lambda: rt,
        components=["kube-apiserver"],
        log_tail=lambda path, n: tails[path][-n:],
        since=NOW - 60,
        now=lambda: NOW,
    )
    [report] = w(["kube-apiserver"])
    assert report.log_path == new_log and report.log_tail == ("Error: loading audit policy file",)
    assert rt.calls == ["list kube-system", "status new"]


@pytest.mark.parametrize(
    ("c", "failed"),
    [
        (container(state="running", attempt=3), False),  # running again: the health wait decides
        (container(attempt=0), False),  # one exit, 1 s ago: the kubelet restarts it
        (container(attempt=0, finished_at=NOW - EXIT_GRACE), True),  # non-zero and not replaced
        (container(attempt=0, exit_code=0, finished_at=NOW - 60), False),  # exit 0 once: replaced
        (container(attempt=4, created_at=NOW - 120), False),  # from before the wait began
    ],
)
def test_the_rule(c: ContainerInfo, failed: bool) -> None:
    assert bool(watch(Runtime([c]), since=NOW - 60)(["kube-apiserver"])) is failed


def test_controller_manager_exits_count_only_once_the_api_server_is_healthy() -> None:
    rt = Runtime([container("kube-controller-manager", attempt=2)])
    w = watch(rt, ("kube-apiserver", "kube-controller-manager"))
    assert w(["kube-apiserver", "kube-controller-manager"]) == []
    assert [r.component for r in w(["kube-controller-manager"])] == ["kube-controller-manager"]


def test_a_kubelet_without_process_fails_after_its_grace() -> None:
    clock = [NOW]
    w = watch(Runtime(), (), kubelet_running=lambda: False, now=lambda: clock[0])
    assert w([]) == []
    clock[0] += KUBELET_GRACE
    [report] = w([])
    assert report.component == "kubelet" and report.state == "not running"
    assert "journalctl -xeu kubelet" in report.line()


def test_an_unreachable_runtime_does_not_end_the_wait() -> None:
    from kubeadm_py.host.cri import CriNotRunning

    def gone() -> Runtime:
        raise CriNotRunning("container runtime is not running: /run/c.sock does not exist")

    assert ComponentWatch(runtime=gone, components=["kube-apiserver"])(["kube-apiserver"]) == []


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_the_waiter_ends_the_wait_when_the_watch_says_so() -> None:
    seen: list[list[str]] = []

    def fails_third_time(pending: list[str]) -> list[ComponentReport]:
        seen.append(list(pending))
        return [ComponentReport("kube-apiserver", "exited", 1, 1)] if len(seen) == 3 else []

    waiter, logs = Waiter(clock=Clock()), []
    never: Callable[[], tuple[bool, str]] = lambda: (False, "connection refused")  # noqa: E731
    with pytest.raises(ComponentsFailed, match=r"^kube-apiserver exited 2 times \(exit code 1"):
        waiter.wait_all([Target("kube-apiserver", "x", never)], 240, log=logs.append, watch=fails_third_time)
    assert waiter.clock.monotonic() == 2.0  # two polls slept, not 240 s
    assert seen == [["kube-apiserver"]] * 3
    assert logs == ["stopped waiting after 2s: kube-apiserver exited 2 times (exit code 1, )"]


def test_dry_run_waiter_never_watches() -> None:
    def watched(pending: object) -> list[ComponentReport]:
        raise AssertionError("a dry run does not watch")

    assert (
        DryRunWaiter(lambda line: None).wait_all([Target("a", "a", lambda: (False, ""))], 5, watch=watched)
        == {}
    )


def test_wait_control_plane_fails_fast_naming_the_component(tmp_path: Path) -> None:
    from kubeadm_py.effectors.bundle import Hooks
    from kubeadm_py.host.fake import FakeProbe
    from kubeadm_py.phases.shared.control_plane import control_plane_phase
    from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase
    from tests.unit import runctx
    from tests.unit.manifests.test_phases import health_server, make_cfg, run_all

    rt = Runtime([container(attempt=1, created_at=1.0)])  # any container since the epoch counts
    probe = FakeProbe(processes={"kubelet"})
    cfg = make_cfg(
        "v1.32.10",
        init={"localAPIEndpoint": {"advertiseAddress": "127.0.0.1", "bindPort": 1}},
    )
    log = tmp_path / "root" / LOG.lstrip("/")  # the container's log, in the CRI format, under --rootfs
    log.parent.mkdir(parents=True)
    log.write_text("2026-01-01T00:00:00Z stderr F Error: open /x: no such file or directory\n")
    hooks = Hooks(cri=lambda endpoint: rt, probe=probe)
    ctx, logs = runctx.build(cfg, tmp_path / "root", hooks=hooks)
    run_all(control_plane_phase(), ctx)
    with health_server({"/healthz": 200}) as kport:
        kdir = tmp_path / "root/var/lib/kubelet"
        kdir.mkdir(parents=True, exist_ok=True)
        (kdir / "config.yaml").write_text(f"healthzBindAddress: 127.0.0.1\nhealthzPort: {kport}\n")
        with pytest.raises(ComponentsFailed) as e:
            wait_control_plane_phase().run(ctx)  # type: ignore[misc]
    assert str(e.value).startswith("kube-apiserver exited 2 times (exit code 1, Error); last log line: ")
    [failure] = ctx.outputs.failures or []
    assert failure["component"] == "kube-apiserver" and failure["exitCode"] == 1 and failure["restarts"] == 1
    assert any("no such file or directory" in line for line in logs)  # the log tail is printed
    assert failure["logTail"] == ["Error: open /x: no such file or directory"]


def test_upgrade_wait_turns_a_crash_loop_into_a_wait_error_at_once() -> None:
    rt = Runtime([container(attempt=1, created_at=NOW + 1)])
    logs: list[str] = []
    cw = ClusterWaiter(
        FakeAPIServer().client(),
        "cp1",
        Waiter(clock=Clock()),
        logs.append,
        watch=lambda component, since: watch(rt, (component,), since=since),
        now=lambda: NOW,
    )
    with pytest.raises(WaitError, match="^kube-apiserver exited 2 times"):
        cw.wait_for_new_pod("kube-apiserver", "old-hash", 300)
    assert [r.component for r in cw.failures] == ["kube-apiserver"]
    assert cw.waiter.clock.monotonic() < 1  # type: ignore[attr-defined]
    assert "close" in rt.calls
