"""``upgrade node`` on a worker, as upstream since kubernetes/kubernetes#127289: the addon phase is
skipped by the phase table (not a control plane node), and without ``--kubeconfig`` the run talks to
the cluster with the kubelet's kubeconfig (a worker has no admin.conf)."""

from __future__ import annotations

import pytest

from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.workflow.phase import flatten
from kubeadm_py.workflows import upgrade_node
from tests.unit.upgrade.conftest import FakeWaiter, Node

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


def make_worker(node: Node) -> list[str]:
    """Remove the control plane and admin.conf; return the list the kubeconfig paths used go to."""
    for comp in CONTROL_PLANE:
        node.path(f"/etc/kubernetes/manifests/{comp}.yaml").unlink()
    for conf in ("admin.conf", "super-admin.conf"):
        node.path(f"/etc/kubernetes/{conf}").unlink()
    used: list[str] = []

    def connect(path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
        used.append(display_path)
        return node.api.client()

    node.connect = connect  # type: ignore[method-assign]
    return used


def test_the_addon_phases_are_skipped_on_a_worker_by_the_phase_table(node: Node, waiter: FakeWaiter) -> None:
    used = make_worker(node)
    writes = len(node.api.mutations())
    report = node.run("upgrade-node", options={})
    assert report.ok
    for addon in ("addon/coredns", "addon/kube-proxy"):
        outcome = next(o for o in report.phases if o.path == addon)
        assert (outcome.status, outcome.reason) == ("skipped", "Not a control plane node")
    assert len(node.api.mutations()) == writes  # nothing written to the cluster
    assert used and all(p.endswith("/etc/kubernetes/kubelet.conf") for p in used)


def test_a_given_kubeconfig_is_kept_on_a_worker(node: Node, waiter: FakeWaiter) -> None:
    used = make_worker(node)
    other = node.path("/root/cluster.conf")
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_bytes(node.path("/etc/kubernetes/kubelet.conf").read_bytes())
    assert node.run("upgrade-node", options={"kubeconfig": "/root/cluster.conf"}).ok
    assert used and all(p.endswith("/root/cluster.conf") for p in used)


def test_a_control_plane_still_runs_the_addons_with_admin_conf(node: Node, waiter: FakeWaiter) -> None:
    used: list[str] = []

    def connect(path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
        used.append(display_path)
        return node.api.client()

    node.connect = connect  # type: ignore[method-assign]
    report = node.run("upgrade-node", options={})
    outcome = next(o for o in report.phases if o.path == "addon/coredns")
    assert outcome.status in ("changed", "unchanged"), outcome.reason  # it ran
    assert used and all(p.endswith("/etc/kubernetes/admin.conf") for p in used)


@pytest.mark.parametrize("path", ["addon/coredns", "addon/kube-proxy"])
def test_the_condition_is_in_the_phase_table_only_for_upgrade_node(path: str) -> None:
    from kubeadm_py.workflows import upgrade_apply

    node_phase = next(f.phase for f in flatten(upgrade_node.phases()) if f.path == path)
    apply_phase = next(f.phase for f in flatten(upgrade_apply.phases()) if f.path == path)
    assert node_phase.run_if is not None and node_phase.skip_reason == "Not a control plane node"
    assert apply_phase.run_if is None
