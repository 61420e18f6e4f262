"""The pivot's hand-off (kubeadm_py/selfhosting/handoff.py): when the DaemonSet Pod's sandbox is
removed so the kubelet starts its container without the crash-loop back-off, and the pivot doing
it through the CRI effector (a real run) or only saying so (a dry run's twin)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.changes import Change
from kubeadm_py.effectors.waiting import Target
from kubeadm_py.host.cri import ContainerInfo, CriError, CriNotRunning, Sandbox
from kubeadm_py.selfhosting.handoff import MAX_RESTARTS, sandboxes_to_remove, static_sandboxes
from tests.unit.cluster.fakeapi import FakeAPIServer
from tests.unit.selfhosting.conftest import KubeletWaiter, ds_pod, make_node

DS_POD = "self-hosted-kube-apiserver-x7k2p"
STATIC_POD = "kube-apiserver-cp-1"
SANDBOX = Sandbox("sb-ds", DS_POD, "kube-system", True)
STATIC_SANDBOX = Sandbox("sb-static", STATIC_POD, "kube-system", True)


def ctr(
    state: str, pod: str = DS_POD, name: str = "kube-apiserver", attempt: int = 0, sandbox: str = ""
) -> ContainerInfo:
    return ContainerInfo(
        f"{pod}-{attempt}", name, pod, "kube-system", state, attempt, 0.0, sandbox_id=sandbox
    )


@pytest.mark.parametrize(
    ("port_free", "containers", "want"),
    [
        # the static Pod (or anything) still listens: its next restart would fail again
        (False, [ctr("exited")], []),
        # both exits of the DaemonSet Pod are behind it and the port is free: start it now
        (True, [ctr("exited"), ctr("exited", attempt=1)], [SANDBOX]),
        # the kubelet has started (or is starting) it already
        (True, [ctr("exited"), ctr("running", attempt=1)], []),
        (True, [ctr("exited"), ctr("created", attempt=1)], []),
        # no container yet: the kubelet is still creating it
        (True, [], []),
        # the static Pod's containers and other components' are not this Pod's
        (True, [ctr("exited", pod=STATIC_POD)], []),
        (True, [ctr("exited", name="kube-scheduler", pod="self-hosted-kube-scheduler-ab12c")], []),
        # a checkpoint's static Pod is never touched either
        (True, [ctr("exited", pod="kubeadm-py-checkpoint-kube-apiserver-cp-1")], []),
    ],
)
def test_which_sandboxes_to_remove(
    port_free: bool, containers: list[ContainerInfo], want: list[Sandbox]
) -> None:
    got = sandboxes_to_remove("kube-apiserver", port_free, containers, [STATIC_SANDBOX, SANDBOX])
    assert got == want


STOPPED = Sandbox("sb-old", DS_POD, "kube-system", False)  # a removal stopped it, then failed


@pytest.mark.parametrize(
    ("containers", "sandboxes", "want"),
    [
        # only the stopped sandbox and its exited container: the kubelet makes a new sandbox anyway
        ([ctr("exited", sandbox="sb-old")], [STOPPED], []),
        # the kubelet's new sandbox has no container yet: the old one's exited container does not count
        ([ctr("exited", sandbox="sb-old")], [STOPPED, SANDBOX], []),
        # the new sandbox's container exited as well: both go (the old one's exited container would
        # otherwise keep the kubelet's back-off counting)
        (
            [ctr("exited", sandbox="sb-old"), ctr("exited", attempt=1, sandbox="sb-ds")],
            [STOPPED, SANDBOX],
            [STOPPED, SANDBOX],
        ),
        # a running container in the new sandbox: nothing
        (
            [ctr("exited", sandbox="sb-old"), ctr("running", attempt=1, sandbox="sb-ds")],
            [STOPPED, SANDBOX],
            [],
        ),
    ],
)
def test_a_stopped_sandbox_and_its_containers_do_not_decide(
    containers: list[ContainerInfo], sandboxes: list[Sandbox], want: list[Sandbox]
) -> None:
    assert sandboxes_to_remove("kube-apiserver", True, containers, sandboxes) == want


class Runtime:
    """The node's runtime as the hand-off sees it: the DaemonSet Pod's container has exited."""

    endpoint = "unix:///run/containerd/containerd.sock"

    def __init__(self, fail: bool = False, refuse: int = 0) -> None:
        self.fail = fail
        self.refuse = refuse  # removals refused first (the kubelet removing the same container)
        self.sandboxes = [STATIC_SANDBOX, SANDBOX]
        self.removed: list[str] = []
        self.closed = 0

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        if self.fail:
            raise CriNotRunning("connection refused")
        if SANDBOX in self.sandboxes:
            return [ctr("exited"), ctr("exited", pod=STATIC_POD)]
        return [ctr("running", attempt=2)]  # the kubelet started it again at once

    def list_sandboxes(self) -> list[Sandbox]:
        return list(self.sandboxes)

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        if self.refuse:
            self.refuse -= 1
            raise CriError("rpc error: code = Unknown desc = container is already in removing state")
        self.removed.append(sandbox.id)
        self.sandboxes.remove(sandbox)
        return Change("process", "delete", sandbox.label, "stopped and removed")

    def close(self) -> None:
        self.closed += 1


def restart_checks(t: Target) -> None:
    """The API server's ``self-hosted`` check a few times (its health URL down, the port free)
    before the Pod turns Ready, as the real wait polls it."""
    if t.name == "kube-apiserver/self-hosted":
        for _ in range(MAX_RESTARTS + 2):
            assert t.check()[0] is False


@pytest.fixture
def down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing answers on the components' ports."""
    monkeypatch.setattr("kubeadm_py.host.health.http_check", lambda url, timeout=5.0: (False, "refused"))
    monkeypatch.setattr("kubeadm_py.host.health.port_free", lambda url, timeout=2.0: True)


def run_pivot(node_template: Path, root: Path, runtime: Runtime, **kw: Any) -> list[str]:
    node = make_node(node_template, root)
    node.waiter = KubeletWaiter(node.server, polls=restart_checks)
    endpoints: list[str] = []

    def factory(endpoint: str) -> Runtime:
        endpoints.append(endpoint)
        return runtime

    report = node.run(phases=["kube-apiserver"], cri=factory, **kw)
    assert report.ok, report
    # the kubelet's runtime, reached under --rootfs
    assert [e.startswith(f"unix://{root}/") and e.endswith("/containerd.sock") for e in endpoints] == [True]
    return node.logs


@pytest.mark.usefixtures("down")
def test_the_pivot_removes_the_exited_daemonset_sandbox_once(node_template: Path, tmp_path: Path) -> None:
    runtime = Runtime()
    logs = run_pivot(node_template, tmp_path / "root", runtime)
    assert runtime.removed == ["sb-ds"]  # once: the container runs after it; the static Pod's stays
    assert runtime.closed == 1
    assert any(f"Restarting pod kube-system/{DS_POD}" in line for line in logs), logs


@pytest.mark.usefixtures("down")
def test_a_runtime_that_does_not_answer_leaves_the_back_off_alone(
    node_template: Path, tmp_path: Path
) -> None:
    runtime = Runtime(fail=True)
    logs = run_pivot(node_template, tmp_path / "root", runtime)
    assert runtime.removed == []
    assert sum("not restarting self-hosted-kube-apiserver early" in line for line in logs) == 1, logs


def test_static_sandboxes_are_the_static_pods_own() -> None:
    others = [
        SANDBOX,
        Sandbox("x", STATIC_POD, "default", True),
        Sandbox("y", "kube-apiserver-cp-10", "kube-system", True),
    ]
    assert static_sandboxes(STATIC_POD, [STATIC_SANDBOX, *others]) == [STATIC_SANDBOX]


def serving_checks(server: FakeAPIServer) -> Callable[[Target], None]:
    """The DaemonSet Pod is Ready and the API server answers, but the static Pod terminates for a
    while (its mirror Pod stays): the check asks for it to go, once, and passes once it has."""

    def polls(t: Target) -> None:
        if t.name != "kube-apiserver/self-hosted":
            return
        server.put(ds_pod("kube-apiserver", ready=True))
        server.put(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": STATIC_POD, "namespace": "kube-system"}}
        )
        assert t.check() == (False, f"the static Pod's mirror {STATIC_POD} is still there")
        assert t.check()[0] is False
        del server.objects[("Pod", "kube-system", STATIC_POD)]  # the kubelet finished it
        assert t.check() == (True, "")

    return polls


def test_the_pivot_stops_the_terminating_static_pod_once_the_daemonset_pod_serves(
    node_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kubeadm_py.host.health.http_check", lambda url, timeout=5.0: (True, "HTTP 200 ok"))
    runtime = Runtime()
    node = make_node(node_template, tmp_path / "root")
    node.waiter = KubeletWaiter(node.server, polls=serving_checks(node.server))
    assert node.run(phases=["kube-apiserver"], cri=lambda endpoint: runtime).ok
    assert runtime.removed == ["sb-static"]  # once, and only the static Pod's
    assert any(f"Stopping pod kube-system/{STATIC_POD}" in line for line in node.logs), node.logs


def test_port_free_only_when_the_connect_is_refused() -> None:
    import socket

    from kubeadm_py.host.health import port_free

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_free(f"https://127.0.0.1:{port}/livez") is False
    assert port_free(f"https://127.0.0.1:{port}/livez") is True


def test_a_sandbox_younger_than_the_kubelets_relist_is_left_alone() -> None:
    """Removed before the kubelet's PLEG saw it, the kubelet would not sync the Pod until its
    periodic sync (80 s on the test bed)."""
    from kubeadm_py.selfhosting.handoff import MIN_AGE

    young = Sandbox("sb-ds", DS_POD, "kube-system", True, created_at=1000.0)
    containers = [ctr("exited")]
    assert sandboxes_to_remove("kube-apiserver", True, containers, [young], now=1000.0 + MIN_AGE - 1) == []
    assert sandboxes_to_remove("kube-apiserver", True, containers, [young], now=1000.0 + MIN_AGE) == [young]


@pytest.mark.usefixtures("down")
def test_a_refused_removal_is_tried_again_at_the_next_poll(node_template: Path, tmp_path: Path) -> None:
    """Test bed, HA pivot run 1 (2026-12-03): containerd refused the removal ("container is already
    in removing state": the kubelet was removing that exited container); the pivot used to give up
    its early restarts for the component there."""
    runtime = Runtime(refuse=1)
    logs = run_pivot(node_template, tmp_path / "root", runtime)
    assert runtime.removed == ["sb-ds"]
    assert sum("failed, the next poll looks again" in line for line in logs) == 1, logs
    assert not any("not restarting" in line for line in logs), logs


def test_restart_exited_logs_a_refused_removal_and_counts_it_as_tried() -> None:
    """``upgrade apply``'s hand-back calls it too: a refusal used to end that phase with the CRI error."""
    from kubeadm_py.selfhosting.handoff import restart_exited

    runtime = Runtime(refuse=1)
    runtime.sandboxes = [SANDBOX]
    lines: list[str] = []
    tried = restart_exited(runtime, "kube-apiserver", True, lines.append, prefix="kube-apiserver: ")  # type: ignore[arg-type]
    assert tried == [SANDBOX.label] and runtime.removed == []
    assert lines[-1].startswith(f"kube-apiserver: WARNING: removing {SANDBOX.label} failed"), lines
    assert restart_exited(runtime, "kube-apiserver", True, lines.append) == [SANDBOX.label]  # type: ignore[arg-type]
    assert runtime.removed == ["sb-ds"]
