"""``selfhosting pivot`` and ``init phase selfhosting`` with an in-memory API server and a waiter
that plays the DaemonSet controller and the kubelet (conftest.py): the order of the steps, the
contract of what it creates, rollback on failure, reruns, dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting import contract
from tests.unit.selfhosting.conftest import INIT_OPTIONS, NODE, Node, make_node

MANIFESTS = "/etc/kubernetes/manifests"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def manifest(node: Node, component: str) -> Path:
    return node.path(f"{MANIFESTS}/{component}.yaml")


def test_pivot_moves_each_component_to_its_daemonset(node: Node) -> None:
    before = {c: manifest(node, c).read_bytes() for c in COMPONENTS}
    report = node.run()
    assert report.ok
    assert [(p.path, p.status) for p in report.phases] == [
        ("upload-secrets", "skipped"),
        ("install-checkpointer", "changed"),
        *((c, "changed") for c in COMPONENTS),
    ]
    # one component at a time: its Pod is on the node before its manifest goes, healthy after
    assert node.waiter.calls == [(kind, c) for c in COMPONENTS for kind in ("scheduled", "self-hosted")]
    assert sorted(p.name for p in node.path(MANIFESTS).iterdir()) == ["etcd.yaml"]
    for c in COMPONENTS:
        assert node.path(contract.backup_path(c)).read_bytes() == before[c]
        ds = node.server.obj("DaemonSet", f"self-hosted-{c}", "kube-system")
        assert ds is not None
        assert ds["spec"]["template"]["metadata"]["labels"] == {
            "k8s-app": f"self-hosted-{c}",
            "tier": "control-plane",
        }
        assert ds["spec"]["template"]["spec"]["nodeSelector"] == {"kubeadm-py.io/self-hosted": "true"}
        assert ds["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert node.labels() == {"kubeadm-py.io/self-hosted": "true"}
    assert any("kube-scheduler is self-hosted on cp-1" in line for line in node.logs)


def test_a_second_pivot_changes_nothing(node: Node) -> None:
    node.run()
    writes = len(node.server.mutations())
    report = node.run()
    assert [p.status for p in report.phases if p.path in COMPONENTS] == ["unchanged"] * 3
    assert len(node.server.mutations()) == writes
    assert any("kube-apiserver is already self-hosted on cp-1" in line for line in node.logs)


def test_a_failed_component_gets_its_static_pod_back_and_earlier_ones_stay(
    node_template: Path, tmp_path: Path
) -> None:
    node = make_node(node_template, tmp_path / "root", broken={"kube-scheduler"})
    before = manifest(node, "kube-scheduler").read_bytes()
    with pytest.raises(
        KubeadmError, match="self-hosting kube-scheduler on cp-1 failed: .*its static Pod is back"
    ):
        node.run()
    assert manifest(node, "kube-scheduler").read_bytes() == before
    assert not node.path(contract.backup_path("kube-scheduler")).exists()
    assert (
        node.server.obj("DaemonSet", "self-hosted-kube-scheduler", "kube-system") is None
    )  # this run made it
    assert node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system") is not None
    assert node.labels() == {
        "kubeadm-py.io/self-hosted": "true"
    }  # the API server still runs self-hosted here
    assert node.waiter.calls[-1] == ("static", "kube-scheduler")


def test_a_failed_first_component_undoes_the_label(node_template: Path, tmp_path: Path) -> None:
    node = make_node(node_template, tmp_path / "root", broken={"kube-apiserver"})
    with pytest.raises(KubeadmError, match="its static Pod is back"):
        node.run()
    assert manifest(node, "kube-apiserver").exists()
    assert node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system") is None
    assert node.labels() == {}
    assert manifest(node, "kube-scheduler").exists()  # never reached


def test_an_existing_daemonset_is_kept_on_failure(node_template: Path, tmp_path: Path) -> None:
    """HA: another node made the DaemonSet; this node's failure must not delete it."""
    node = make_node(node_template, tmp_path / "root")
    node.run(phases=["kube-apiserver"])
    node.waiter.broken = {"kube-apiserver"}
    node.path(contract.backup_path("kube-apiserver")).rename(manifest(node, "kube-apiserver"))
    node.server.objects = {k: v for k, v in node.server.objects.items() if k[0] != "Pod"}
    with pytest.raises(KubeadmError, match="its static Pod is back"):
        node.run(phases=["kube-apiserver"])
    assert node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system") is not None


def test_an_interrupted_pivot_continues_from_the_backup(node: Node) -> None:
    """The manifest was moved away and the run stopped (no DaemonSet yet): the rerun puts it back
    first, then pivots as usual."""
    node.path(contract.BACKUP_DIR).mkdir(parents=True)
    manifest(node, "kube-apiserver").rename(node.path(contract.backup_path("kube-apiserver")))
    report = node.run(phases=["kube-apiserver"])
    assert report.ok
    assert any("Continuing an interrupted pivot of kube-apiserver" in line for line in node.logs)
    assert node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system") is not None
    assert node.path(contract.backup_path("kube-apiserver")).exists()


def test_nothing_to_pivot_is_one_error(node: Node) -> None:
    manifest(node, "kube-scheduler").unlink()
    with pytest.raises(
        KubeadmError, match="kube-scheduler.yaml not found and kube-scheduler is not self-hosted"
    ):
        node.run(phases=["kube-scheduler"])


def test_dry_run_prints_the_daemonsets_and_changes_nothing(node: Node) -> None:
    report = node.run(dry_run=True)
    assert report.ok
    assert not node.server.mutations()
    assert all(manifest(node, c).exists() for c in COMPONENTS)
    shown = [c for p in report.phases for c in p.changes if c.target.startswith("DaemonSet")]
    assert len(shown) == 3 and all("kind: DaemonSet" in (c.content or "") for c in shown)
    assert "kubeadm-py.io/checkpoint" in (shown[0].content or "")


def test_certs_in_secrets_stores_them_and_mounts_them(node: Node) -> None:
    report = node.run(phases=["upload-secrets", "kube-apiserver"], options={"certs-in-secrets": True})
    assert report.ok
    assert node.server.obj("Secret", "ca", "kube-system") is not None
    assert node.server.obj("Secret", "kube-apiserver-etcd-client", "kube-system") is not None  # local etcd
    ds = node.server.obj("DaemonSet", "self-hosted-kube-apiserver", "kube-system")
    assert ds is not None
    volumes = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
    assert "projected" in volumes["k8s-certs"]


def test_certs_in_secrets_is_refused_with_another_control_plane_node(node: Node) -> None:
    """The Secrets are cluster-wide and the API server's serving certificate names this node."""
    from kubeadm_py.errors import PhaseError

    labels = {"node-role.kubernetes.io/master": ""}
    node.server.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-2", "labels": labels}})
    with pytest.raises(PhaseError, match="--certs-in-secrets needs a single control-plane node; cp-2 is one"):
        node.run(options={"certs-in-secrets": True})
    assert node.server.obj("Secret", "apiserver", "kube-system") is None
    assert all(manifest(node, c).exists() for c in COMPONENTS)
    report = node.run()  # host paths: both nodes' Pods read their own certificates
    assert report.ok and node.server.obj("Secret", "apiserver", "kube-system") is None


def test_init_runs_the_phase_only_with_the_feature_gate(node: Node) -> None:
    report = node.run("init", phases=["selfhosting"], options=INIT_OPTIONS)
    assert {p.path: p.status for p in report.phases if p.path.count("/")} == {
        "selfhosting/upload-secrets": "skipped",
        "selfhosting/install-checkpointer": "skipped",
        **{f"selfhosting/{c}": "skipped" for c in COMPONENTS},
    }
    assert not node.server.mutations()
    report = node.run(
        "init", phases=["selfhosting"], options={**INIT_OPTIONS, "feature-gates": "SelfHosting=true"}
    )
    assert [p.status for p in report.phases if p.path.startswith("selfhosting/kube-")] == ["changed"] * 3
    assert node.labels()[contract.NODE_LABEL] == "true"
    assert NODE in node.logs[-1] or any(NODE in line for line in node.logs)


@pytest.mark.parametrize(
    ("status", "ran"),
    [
        ({"containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}, False),
        ({"phase": "Pending"}, False),
        ({"containerStatuses": [{"state": {"running": {}}}]}, True),
        (
            {
                "containerStatuses": [
                    {
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {"terminated": {"exitCode": 1}},
                    }
                ]
            },
            True,
        ),
    ],
)
def test_a_pod_counts_as_started_once_its_container_ran(status: dict, ran: bool) -> None:
    """A Pod whose volumes cannot be mounted (ContainerCreating) has not started: moving the static
    manifest then would leave the node without the component."""
    from kubeadm_py.phases.selfhosting.pivot import started

    assert started({"status": status}) is ran
