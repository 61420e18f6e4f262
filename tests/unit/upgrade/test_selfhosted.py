"""``upgrade apply`` on a node whose control plane is self-hosted (docs/selfhosting.md): updating the
DaemonSets is not built, so preflight stops before any change."""

from __future__ import annotations

import pytest

from kubeadm_py.errors import PhaseError
from kubeadm_py.selfhosting.contract import backup_path
from tests.unit.upgrade.conftest import FakeWaiter, Node


def test_a_self_hosted_node_is_refused_before_any_change(node: Node, waiter: FakeWaiter) -> None:
    manifest = node.path("/etc/kubernetes/manifests/kube-scheduler.yaml")
    backup = node.path(backup_path("kube-scheduler"))
    backup.parent.mkdir(parents=True)
    manifest.rename(backup)
    before = node.manifest("kube-apiserver")
    writes = len(node.api.mutations())
    with pytest.raises(
        PhaseError, match="SelfHostedControlPlane: kube-scheduler run as DaemonSets on this node"
    ):
        node.run("upgrade-apply", options={"version": "v1.31.14", "yes": True})
    assert node.manifest("kube-apiserver") == before and waiter.calls == []
    assert len(node.api.mutations()) == writes


def test_plan_says_the_mode_of_each_component(node: Node) -> None:
    from kubeadm_py.upgrade import plan as planlib

    result = planlib.plan(*node.open())
    assert result["controlPlaneMode"] == dict.fromkeys(
        ("kube-apiserver", "kube-controller-manager", "kube-scheduler"), "static"
    )
    assert "Control plane mode on this node: static Pods" in planlib.render_text(result)
    backup = node.path(backup_path("kube-scheduler"))
    backup.parent.mkdir(parents=True)
    node.path("/etc/kubernetes/manifests/kube-scheduler.yaml").rename(backup)
    result = planlib.plan(*node.open())
    assert result["controlPlaneMode"]["kube-scheduler"] == "self-hosted"
    assert "kube-scheduler self-hosted (self-hosted components are DaemonSets" in planlib.render_text(result)
