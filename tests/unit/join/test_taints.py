"""The taints of a joining node follow the cluster's kubernetesVersion (kube-system/kubeadm-config),
as upstream's follow the kubeadm binary's version (SetNodeRegistrationDynamicDefaults with
constants.ControlPlaneTaint): ``node-role.kubernetes.io/master`` before v1.24, both in v1.24, the
control-plane taint from v1.25. Explicit ``nodeRegistration.taints`` (``[]`` included) win."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.cluster.copycerts import create_certificate_key
from kubeadm_py.config.resolve import build_config
from kubeadm_py.hostfs import HostFS

from .helpers import Cluster, FakeKubelet, join_context, run
from .test_workflow import _upload_certs

MASTER = {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
JOIN = """apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    token: abcdef.0123456789abcdef
    apiServerEndpoint: 10.0.0.1:6443
    unsafeSkipCAVerification: true
controlPlane: {}
"""


def control_plane_join(tmp_path: Path, version: str, taints: Any = None) -> tuple[Cluster, Any]:
    """kubelet-start and mark-control-plane of ``join --control-plane`` against a ``version``
    cluster; ``taints`` (not None) as if the JoinConfiguration gave them."""
    cluster = Cluster(version=version)
    key = create_certificate_key()
    _upload_certs(cluster, tmp_path, key)
    node = tmp_path / "node-c"
    node.mkdir()
    options = {"apiserver-advertise-address": "10.0.0.3"}
    ctx = join_context(
        node,
        cluster,
        [],
        kubelet=FakeKubelet(node, cluster),
        control_plane=True,
        certificate_key=key,
        **options,
    )
    if taints is not None:
        ctx.cfg.node_registration["taints"] = taints
    HostFS(rootfs=node).write("/etc/kubernetes/admin.conf", b"kind: Config\n", 0o600)
    report = run(ctx, only=["kubelet-start", "control-plane-join"])
    assert report.ok
    return cluster, HostFS(rootfs=node)


def node_taints(cluster: Cluster) -> list[dict[str, Any]]:
    node = cluster.api.obj("Node", "node-b")
    assert node is not None
    return list((node.get("spec") or {}).get("taints") or [])


@pytest.mark.parametrize(
    ("version", "taints"),
    [
        ("v1.20.2", [MASTER]),
        ("v1.31.0", [CONTROL_PLANE]),  # (1.21 to 1.29 are not supported minors; versioned.py has their rows)
    ],
)
def test_control_plane_join_taints_with_the_clusters_version(
    tmp_path: Path, version: str, taints: list[dict[str, str]]
) -> None:
    cluster, fs = control_plane_join(tmp_path, version)
    assert node_taints(cluster) == taints
    # as upstream: a control-plane node is tainted by mark-control-plane, not by the kubelet flag
    assert "--register-with-taints" not in (fs.read_text("/var/lib/kubelet/kubeadm-flags.env") or "")


@pytest.mark.parametrize(
    "given",
    [[], [{"key": "dedicated", "value": "etcd", "effect": "NoExecute"}]],
)
def test_explicit_taints_win_over_the_default(tmp_path: Path, given: list[dict[str, str]]) -> None:
    cluster, _ = control_plane_join(tmp_path, "v1.20.2", taints=given)
    assert node_taints(cluster) == given


def test_the_join_configuration_keeps_nil_taints_until_the_cluster_is_known() -> None:
    """The local kubernetesVersion of a join is kubeadm-py's default, not the cluster's: nil stays
    nil at load time; [] and a list stay as given."""
    assert build_config("join", JOIN).join["nodeRegistration"]["taints"] is None
    explicit = JOIN + "nodeRegistration:\n  taints: []\n"
    assert build_config("join", explicit).join["nodeRegistration"]["taints"] == []
    init = build_config("init", None, {"cluster.kubernetesVersion": "v1.20.2"})
    assert init.init is not None and init.init["nodeRegistration"]["taints"] == [MASTER]  # init: its own


@pytest.mark.parametrize(
    ("version", "taints"),
    [
        ("v1.20.2", [MASTER]),
        ("v1.23.17", [MASTER]),
        ("v1.24.0", [MASTER, CONTROL_PLANE]),  # the rename: both (upstream v1.24 constants)
        ("v1.25.0", [CONTROL_PLANE]),
        ("", [CONTROL_PLANE]),
    ],
)
def test_the_default_follows_the_version_rows(version: str, taints: list[dict[str, str]]) -> None:
    from kubeadm_py.config.defaults import default_control_plane_taints

    nr: dict[str, Any] = {"taints": None}
    default_control_plane_taints(nr, version)
    assert nr["taints"] == taints
    nr = {"taints": []}
    default_control_plane_taints(nr, version)
    assert nr["taints"] == []
