"""A rollback clears the kubelet's crash-loop back-off for the restored Pod: only the stopped
sandboxes of ``<component>-<node>`` from before the swap go (the failed new Pod's stay, with their
logs), through the run's CRI effector; a runtime that fails is a warning."""

from __future__ import annotations

from pathlib import Path

from kubeadm_py.changes import Change
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.host.cri import CriError, Sandbox
from kubeadm_py.phases.shared.kit import backoff_clearer
from tests.unit import runctx
from tests.unit.manifests.test_phases import make_cfg

SWAP = 1000.0


class Runtime:
    def __init__(self, sandboxes: list[Sandbox], fail: bool = False) -> None:
        self.sandboxes, self.fail = sandboxes, fail
        self.removed: list[str] = []
        self.closed = False

    def list_sandboxes(self) -> list[Sandbox]:
        if self.fail:
            raise CriError("rpc error: code = Unavailable desc = connection refused")
        return list(self.sandboxes)

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        self.removed.append(sandbox.id)
        return Change("process", "delete", sandbox.label, "stopped and removed")

    def close(self) -> None:
        self.closed = True


def clearer(tmp_path: Path, rt: Runtime):  # type: ignore[no-untyped-def]
    ctx, logs = runctx.build(make_cfg("v1.20.2"), tmp_path, hooks=Hooks(cri=lambda endpoint: rt))
    return backoff_clearer(ctx, "cp1"), logs


def test_only_the_previous_pods_stopped_sandboxes_are_removed(tmp_path: Path) -> None:
    rt = Runtime(
        [
            Sandbox("old-stopped", "kube-apiserver-cp1", "kube-system", False, SWAP - 300),
            Sandbox("old-running", "kube-apiserver-cp1", "kube-system", True, SWAP - 200),
            Sandbox("new-failed", "kube-apiserver-cp1", "kube-system", False, SWAP + 2),
            Sandbox("other-pod", "kube-scheduler-cp1", "kube-system", False, SWAP - 300),
            Sandbox("other-node", "kube-apiserver-cp2", "kube-system", False, SWAP - 300),
            Sandbox("other-ns", "kube-apiserver-cp1", "default", False, SWAP - 300),
        ]
    )
    clear, logs = clearer(tmp_path, rt)
    changes = clear("kube-apiserver", SWAP)
    assert rt.removed == ["old-stopped"] and rt.closed
    assert [c.action for c in changes] == ["delete"]
    assert any("without its crash-loop back-off" in line for line in logs)


def test_a_runtime_that_fails_is_a_warning(tmp_path: Path) -> None:
    rt = Runtime([], fail=True)
    clear, logs = clearer(tmp_path, rt)
    assert clear("etcd", SWAP) == []
    assert any("WARNING: could not clear the kubelet's back-off for etcd-cp1" in line for line in logs)
