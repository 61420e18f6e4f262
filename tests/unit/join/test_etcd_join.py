"""etcd-join: learner table, the member list -> --initial-cluster, idempotence, promotion retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.cluster.copycerts import create_certificate_key
from kubeadm_py.effectors.waiting import Waiter
from kubeadm_py.errors import PhaseError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.manifests.args import get_arg, parse_command
from kubeadm_py.manifests.pod import container_command, from_yaml
from kubeadm_py.phases.join import etcd as join_etcd
from kubeadm_py.phases.join.etcd import initial_cluster, use_learner

from .conftest import FakeEtcd, FakeMember
from .helpers import Cluster, join_context, run, write_admin_conf


@pytest.mark.parametrize(
    ("version", "gates", "learner"),
    [
        ("v1.20.2", {}, False),
        ("v1.20.2", {"EtcdLearnerMode": True}, False),  # the gate does not exist before 1.27
        ("v1.27.3", {}, False),
        ("v1.27.3", {"EtcdLearnerMode": True}, True),
        ("v1.29.0", {}, True),
        ("v1.29.0", {"EtcdLearnerMode": False}, False),
        ("v1.33.1", {"EtcdLearnerMode": False}, True),  # GA: always
    ],
)
def test_learner_mode_by_version(version: str, gates: dict[str, bool], learner: bool) -> None:
    assert use_learner(version, gates) is learner


def test_initial_cluster_from_members() -> None:
    members = [
        FakeMember(0x1, "cp-a", ["https://10.0.0.1:2380"], ["https://10.0.0.1:2379"]),
        FakeMember(0xBEEF, "", ["https://10.0.0.2:2380"], []),  # started but nameless: hex id
        FakeMember(0x99, "", ["https://10.0.0.3:2380"], [], True),  # the one we just added
    ]
    assert initial_cluster(members, "node-c", "https://10.0.0.3:2380") == [
        ("cp-a", "https://10.0.0.1:2380"),
        ("beef", "https://10.0.0.2:2380"),
        ("node-c", "https://10.0.0.3:2380"),
    ]


def _cp_context(tmp_path: Path, cluster: Cluster, etcd: FakeEtcd, **opts: object):  # noqa: ANN202
    cluster.api.put(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "etcd-cp-a",
                "namespace": "kube-system",
                "labels": {"component": "etcd", "tier": "control-plane"},
                "annotations": {"kubeadm.kubernetes.io/etcd.advertise-client-urls": "https://10.0.0.1:2379"},
            },
        }
    )

    def factory(endpoints: list[str], cert_dir: str) -> FakeEtcd:
        etcd.endpoints = endpoints
        etcd.cert_dir = cert_dir
        return etcd

    write_admin_conf(tmp_path)
    return join_context(
        tmp_path,
        cluster,
        [],
        etcd=factory,
        control_plane=True,
        certificate_key=create_certificate_key(),
        **{"apiserver-advertise-address": "10.0.0.3"},
        **opts,
    )


def _etcd_args(root: Path) -> list[tuple[str, str]]:
    text = HostFS(rootfs=root).read_text("/etc/kubernetes/manifests/etcd.yaml") or ""
    return parse_command(container_command(from_yaml(text, "etcd.yaml")))


def test_etcd_join_v120_plain_member_add(tmp_path: Path) -> None:
    etcd = FakeEtcd([FakeMember(0xA, "cp-a", ["https://10.0.0.1:2380"], ["https://10.0.0.1:2379"])])
    ctx = _cp_context(tmp_path, Cluster(), etcd)
    report = run(ctx, only=["etcd-join"])
    assert report.phases[0].status == "changed"
    assert etcd.endpoints == ["https://10.0.0.1:2379"]
    assert etcd.cert_dir == "/etc/kubernetes/pki"
    assert etcd.calls[0] == ("add", ("node-b", "https://10.0.0.3:2380", False))
    assert not any(c[0] == "promote" for c in etcd.calls)
    assert etcd.calls[-1][0] == "wait_healthy"
    args = _etcd_args(tmp_path)
    assert get_arg(args, "initial-cluster") == "cp-a=https://10.0.0.1:2380,node-b=https://10.0.0.3:2380"
    assert get_arg(args, "initial-cluster-state") == "existing"
    assert get_arg(args, "name") == "node-b"
    assert get_arg(args, "advertise-client-urls") == "https://10.0.0.3:2379"
    # idempotent: the member exists now, a second run does not add it again
    run(ctx, only=["etcd-join"])
    assert [c for c in etcd.calls if c[0] == "add"] == [etcd.calls[0]]
    assert get_arg(_etcd_args(tmp_path), "initial-cluster") == (
        "cp-a=https://10.0.0.1:2380,node-b=https://10.0.0.3:2380"
    )


def test_etcd_join_learner_then_promote_with_retries(tmp_path: Path) -> None:
    etcd = FakeEtcd([FakeMember(0xA, "cp-a", ["https://10.0.0.1:2380"], [])], promote_failures=3)
    ctx = _cp_context(tmp_path, Cluster(version="v1.31.0"), etcd)
    run(ctx, only=["etcd-join"])
    assert etcd.calls[0] == ("add", ("node-b", "https://10.0.0.3:2380", True))
    assert [c for c in etcd.calls if c[0] == "promote"] == [("promote", 0x1234ABCD)] * 4
    assert not etcd.member_by_peer_url("https://10.0.0.3:2380").is_learner  # type: ignore[union-attr]


def test_etcd_join_promote_gives_up_after_etcd_api_timeout(tmp_path: Path) -> None:
    etcd = FakeEtcd([FakeMember(0xA, "cp-a", ["https://10.0.0.1:2380"], [])], promote_failures=10**6)
    waiter = Waiter(max_timeout=0.1, max_interval=0.01)
    ctx = _cp_context(tmp_path, Cluster(version="v1.31.0"), etcd, waiter=waiter)
    with pytest.raises(PhaseError, match="could not promote learner member 1234abcd"):
        run(ctx, only=["etcd-join"])
    assert len([c for c in etcd.calls if c[0] == "promote"]) > 1  # retried until the timeout


def test_etcd_join_without_etcd_pods_is_a_clear_error(tmp_path: Path) -> None:
    cluster = Cluster()
    write_admin_conf(tmp_path)
    ctx = join_context(
        tmp_path,
        cluster,
        [],
        etcd=lambda endpoints, cert_dir: FakeEtcd([]),
        waiter=Waiter(max_timeout=0.2, max_interval=0.01),
        control_plane=True,
        certificate_key=create_certificate_key(),
        **{"apiserver-advertise-address": "10.0.0.3"},
    )
    with pytest.raises(PhaseError, match="could not find any etcd endpoint"):
        run(ctx, only=["etcd-join"])


def test_etcd_join_skipped_on_worker(tmp_path: Path) -> None:
    ctx = join_context(tmp_path, Cluster(), [])
    report = run(ctx, only=["etcd-join"])
    assert report.phases[0].status == "skipped"


def test_etcd_endpoints_wait_for_the_mirror_pod(tmp_path: Path) -> None:
    cluster = Cluster()
    etcd = FakeEtcd([FakeMember(0xA, "cp-a", ["https://10.0.0.1:2380"], [])])
    calls = {"n": 0}

    class Late(KubeClient):
        """The admin client of a cluster whose etcd mirror Pod is registered a little late."""

        def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list:
            calls["n"] += 1
            return [] if calls["n"] < 3 else super().list(kind, namespace, label_selector)

    ctx = _cp_context(
        tmp_path, cluster, etcd, kubeconfig_client=lambda path, shown, retry: Late(cluster.api, user="admin")
    )
    assert cluster.api.obj("Pod", "etcd-cp-a", "kube-system") is not None
    assert join_etcd.etcd_endpoints(ctx) == ["https://10.0.0.1:2379"]
    assert calls["n"] == 3
