"""``certs rotate-ca`` killed inside what it waits for, then rerun (test_rotate_ca.py kills between
file writes; the test bed, tests/integration/test_carotate_testbed.py, with a real SIGKILL): the
rerun finds the files written, and still restarts the kubelet the killed run did not restart, and
still waits for a static Pod whose manifest the killed run swapped before it was running."""

from __future__ import annotations

from typing import Any

import pytest

from kubeadm_py.phases.rotateca.common import RESTART_MARK
from kubeadm_py.phases.rotateca.swaps import mark_path
from tests.unit.upgrade.conftest import FakeWaiter, Killed, Node, killed_in_wait
from tests.unit.upgrade.test_rotate_ca import (  # noqa: F401 (cp, waiter: fixtures)
    command,
    cp,
    restarts,
    rotate,
    stored,
    waiter,
)

PKI = "/etc/kubernetes/pki"
STAGES = ("begin", "switch", "finish")


def killed(node: Node, command_: str, **options: Any) -> None:
    try:
        rotate(node, command_, **options)
    except BaseException as e:  # the runner reports the kill as an internal error (a real kill -9 is silent)
        assert "Killed" in f"{e!r} {e}", e
    else:
        raise AssertionError(f"{command_} was not killed")


@pytest.mark.parametrize("command_", STAGES)
def test_killed_before_the_kubelet_restart_the_rerun_restarts_it(
    cp: Node,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    command_: str,
) -> None:
    """Killed once the kubelet's files (bundle, config.yaml, client certificate) are written and before
    ``systemctl restart kubelet``: the running kubelet still holds what it read at start. The rerun has
    nothing left to write, and restarts it anyway (the mark in the kubelet's directory)."""
    for earlier in STAGES[: STAGES.index(command_)]:
        rotate(cp, earlier)
    services = cp.services

    def dying(unit: str) -> Any:
        raise Killed

    monkeypatch.setattr(services, "restart", dying)
    killed(cp, command_)
    mark = cp.path(f"/var/lib/kubelet/{RESTART_MARK}")
    assert mark.exists()
    monkeypatch.undo()
    before = len(services.calls)
    rotate(cp, command_)
    assert services.calls[before:] == ["restart kubelet"]
    assert not mark.exists()
    annotations = cp.api.obj("Node", "cp-1")["metadata"]["annotations"]  # type: ignore[index]
    stage = stored(cp).stage
    assert annotations["kubeadm-py.io/ca-rotation"] == f"1/{stage}"
    assert not rotate(cp, command_).changed and services.calls[before:] == ["restart kubelet"]


@pytest.mark.parametrize("command_", ["begin", "finish"])
def test_killed_while_etcd_restarts_the_rerun_waits_for_it(
    cp: Node,  # noqa: F811
    waiter: FakeWaiter,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    command_: str,
) -> None:
    """Killed while waiting for the kubelet to run etcd's new manifest (begin: its flags; finish: its
    bundle's hash): the rerun finds that manifest in place and swaps nothing again, but still waits for
    etcd's new Pod and health before it goes on (the API server's swap at begin needs etcd serving)."""
    for earlier in STAGES[: STAGES.index(command_)]:
        rotate(cp, earlier, **({"etcd": True} if earlier == "begin" else {}))
    options = {"etcd": True} if command_ == "begin" else {}
    killed_in_wait(monkeypatch, waiter, "etcd/new-pod")
    killed(cp, command_, **options)
    assert cp.path(mark_path("etcd")).exists()
    etcd = cp.manifest("etcd")
    monkeypatch.undo()
    waiter.calls.clear()
    rotate(cp, command_, **options)
    assert cp.manifest("etcd") == etcd  # not swapped again
    assert waiter.calls[:2] == [("new-pod", "etcd"), ("healthy", "etcd")]
    if command_ == "begin":  # then the API server's swap, once
        assert restarts(waiter) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]
        assert f"--etcd-cafile={PKI}/etcd/ca-bundle.crt" in command(cp, "kube-apiserver")
    assert not list(cp.path("/etc/kubernetes/tmp").glob("kubeadm-py-ca-rotation-swap-*"))
    waiter.calls.clear()
    assert not rotate(cp, command_, **options).changed and not restarts(waiter)
