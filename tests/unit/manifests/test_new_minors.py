"""What kubeadm v1.35, v1.36 and v1.37 write differently from v1.32, each fact with its source line.

Sources are the kubernetes/kubernetes CHANGELOGs stored in the reference index (newest headers stored:
v1.35.0 in CHANGELOG-1.35.md, v1.36.0 in CHANGELOG-1.36.md, v1.37.0-alpha.1 in CHANGELOG-1.37.md); the
PR numbers are the changelog entries. The v1.37 image tags come from stored `kubeadm config images list`
output of kubeadm v1.37.1 (see the 1.37 row in kubeadm_py/versions.py for the ids).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubelet.flags import instance_config, kubeadm_flags_env, parse_flags_env
from kubeadm_py.manifests.controlplane import build_control_plane
from kubeadm_py.manifests.etcd import build_etcd
from kubeadm_py.manifests.images import coredns_image, etcd_image, pause_image
from kubeadm_py.versioned import coredns_tag
from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION, release_for

from .helpers import flags, make_cfg

SOCK = "unix:///run/containerd/containerd.sock"


def _etcd_flags(version: str) -> dict[str, list[str]]:
    return flags(build_etcd(make_cfg(version)).pods["etcd"])


@pytest.mark.parametrize("version", ["v1.35.0", "v1.36.0", "v1.37.1"])
def test_etcd_36_flags(version):
    # CHANGELOG-1.36.md v1.36.0, #135701: the experimental-* etcd flags are "replaced by
    # --feature-gates=InitialCorruptCheck=true and --watch-progress-notify-interval" for etcd >= 3.6.0.
    f = _etcd_flags(version)
    assert f["feature-gates"] == ["InitialCorruptCheck=true"]
    assert f["watch-progress-notify-interval"] == ["5s"]
    assert "experimental-initial-corrupt-check" not in f
    assert "experimental-watch-progress-notify-interval" not in f
    # v1.32 (etcd 3.5.24) keeps the experimental spellings.
    old = _etcd_flags("v1.32.10")
    assert old["experimental-initial-corrupt-check"] == ["true"] and "feature-gates" not in old


def test_etcd_feature_gates_extra_arg_overrides_the_default():
    cfg = make_cfg(
        "v1.36.0",
        cluster={
            "etcd": {
                "local": {
                    "extraArgs": [
                        {"name": "feature-gates", "value": "InitialCorruptCheck=true,CompactHashCheck=true"}
                    ]
                }
            }
        },
    )
    assert flags(build_etcd(cfg).pods["etcd"])["feature-gates"] == [
        "InitialCorruptCheck=true,CompactHashCheck=true"
    ]


@pytest.mark.parametrize(
    ("version", "etcd", "coredns", "pause"),
    [
        # CHANGELOG-1.35.md v1.35.0: "etcd: Update etcd to v3.6.6" (#135271); the notes say "Upgraded
        # CoreDNS to v1.12.4" (#133968) but the v1.35.0 kubeadm binary lists v1.13.1 (minikube's record
        # of `kubeadm config images list`, kubeadm_py/image_tags.py); pause 3.10.1 as in kubeadm v1.34.
        ("v1.35.0", "3.6.6-0", "v1.13.1", "3.10.1"),
        # CHANGELOG-1.36.md v1.36.0: "Updated etcd images to v3.6.8" (#137107), "Updated CoreDNS to
        # v1.14.2" (#137605), "Updated the pause image to v3.10.2" (#138199).
        ("v1.36.0", "3.6.8-0", "v1.14.2", "3.10.2"),
        # kubeadm v1.37.1 `kubeadm config images list` (find_string id 71499515808):
        # "registry.k8s.io/coredns/coredns:v1.14.6", "registry.k8s.io/pause:3.10.2",
        # "registry.k8s.io/etcd:3.7.0-0"; CHANGELOG-1.38.md (since v1.37.0) then moves to 3.7.1 / v1.14.7.
        ("v1.37.1", "3.7.0-0", "v1.14.6", "3.10.2"),
    ],
)
def test_images(version, etcd, coredns, pause):
    cfg = make_cfg(version)
    assert etcd_image(cfg) == f"registry.k8s.io/etcd:{etcd}"
    assert coredns_image(cfg) == f"registry.k8s.io/coredns/coredns:{coredns}"
    assert pause_image(cfg) == f"registry.k8s.io/pause:{pause}"
    assert coredns_tag(version) == coredns
    pod = build_etcd(cfg).pods["etcd"]
    assert pod["spec"]["containers"][0]["image"] == f"registry.k8s.io/etcd:{etcd}"


@pytest.mark.parametrize("version", ["v1.35.0", "v1.36.0", "v1.37.1"])
def test_kubelet_flags_drop_pod_infra_container_image_and_the_socket(version):
    # CHANGELOG-1.35.md v1.35.0, #133778: "Kubeadm: stopped applying the --pod-infra-container-image flag
    # for the kubelet"; the v1.35 kubelet removed the flag (#133779, "to prevent startup failures").
    # NodeLocalCRISocket: WriteKubeletDynamicEnvFile clears criSocket when the gate is on and
    # buildKubeletArgsCommon adds --container-runtime-endpoint only for a non-empty socket
    # (phases/kubelet/flags.go); an empty list is written as KUBELET_KUBEADM_ARGS="".
    env = kubeadm_flags_env(make_cfg(version), host="node1")
    assert env == 'KUBELET_KUBEADM_ARGS=""\n'
    assert parse_flags_env(env) == []
    env = kubeadm_flags_env(make_cfg(version, init={"nodeRegistration": {"name": "other"}}), host="node1")
    assert env == 'KUBELET_KUBEADM_ARGS="--hostname-override=other"\n'
    old = kubeadm_flags_env(make_cfg("v1.32.10"), host="node1")
    assert "--pod-infra-container-image" in old and f"--container-runtime-endpoint={SOCK}" in old


def test_instance_config_for_node_local_cri_socket_minors():
    # NodeLocalCRISocket: beta and on by default in v1.34 (CHANGELOG-1.34.md v1.34.0-alpha.1: kubeadm will
    # "Generate a /var/lib/kubelet/instance-config.yaml file to customize the containerRuntimeEndpoint
    # field"), GA in v1.36 (CHANGELOG-1.36.md, #135742).
    for version in ("v1.34.0", "v1.34.10", "v1.35.0", "v1.36.0", "v1.37.1"):
        assert instance_config(make_cfg(version)) == f'containerRuntimeEndpoint: "{SOCK}"\n'
    assert instance_config(make_cfg("v1.33.13")) is None  # no NodeLocalCRISocket in kubeadm v1.33
    assert instance_config(make_cfg("v1.32.10")) is None
    assert instance_config(make_cfg("v1.20.2")) is None


def _kcm_volumes(version: str, tmp_path: Path, **cluster) -> set[str]:
    res = build_control_plane(make_cfg(version, cluster=cluster), HostFS(rootfs=tmp_path), environ={})
    return {v["name"] for v in res.pods["kube-controller-manager"]["spec"]["volumes"]}


def test_flexvolume_mount_removed_in_1_36(tmp_path):
    # CHANGELOG-1.36.md v1.36.0, #136423: "Removed the integrated support for flex-volumes in kubeadm ...
    # Previously, kubeadm automatically did the mounting if the user passed the flag."
    flex = {"controllerManager": {"extraArgs": [{"name": "flex-volume-plugin-dir", "value": "/opt/flex"}]}}
    assert "flexvolume-dir" not in _kcm_volumes("v1.36.0", tmp_path)
    assert "flexvolume-dir" not in _kcm_volumes("v1.37.1", tmp_path, **flex)
    assert "flexvolume-dir" not in _kcm_volumes("v1.36.0", tmp_path, **flex)
    assert "flexvolume-dir" in _kcm_volumes("v1.35.0", tmp_path)
    assert "flexvolume-dir" in _kcm_volumes("v1.35.0", tmp_path, **flex)


def test_control_plane_flags_unchanged_from_1_32(tmp_path):
    # No v1.35.0 / v1.36.0 changelog entry changes kubeadm's default apiserver, controller-manager or
    # scheduler flags; the images follow kubernetesVersion.
    def cmds(version: str) -> dict[str, list[str]]:
        res = build_control_plane(make_cfg(version), HostFS(rootfs=tmp_path), environ={})
        return {n: p["spec"]["containers"][0]["command"] for n, p in res.pods.items()}

    assert cmds("v1.37.1") == cmds("v1.36.0") == cmds("v1.35.0") == cmds("v1.32.10")
    res = build_control_plane(make_cfg("v1.36.0"), HostFS(rootfs=tmp_path), environ={})
    image = res.pods["kube-apiserver"]["spec"]["containers"][0]["image"]
    assert image == "registry.k8s.io/kube-apiserver:v1.36.0"


def test_default_version_and_minor_lookup():
    # the newest minor; v1.37.1 is the newest v1.37 patch with stored evidence (id 71499515808)
    assert DEFAULT_KUBERNETES_VERSION == "v1.37.1"
    # the newest patches minikube's record of the kubeadm binaries lists (kubeadm_py/image_tags.py)
    assert release_for("1.35").default_patch == "v1.35.7"
    assert release_for("1.36").default_patch == "v1.36.3"
    assert release_for("1.37").default_patch == "v1.37.1"
    assert release_for("v1.36.3").minor == "1.36"


def test_1_37_knows_the_kubeproxydaemonset_patch_target():
    # CHANGELOG-1.37.md v1.37.0-alpha.1, #138090: "add the "kubeproxydaemonset" patch target".
    assert "kubeproxydaemonset" in release_for("1.37").patch_targets
    assert "kubeproxydaemonset" not in release_for("1.36").patch_targets


@pytest.mark.parametrize(
    ("version", "etcd36"),
    [("v1.33.0", False), ("v1.33.13", False), ("v1.34.0", True), ("v1.34.10", True)],
)
def test_1_33_keeps_etcd_35_flags_and_1_34_uses_the_36_ones(version, etcd36):
    # v1.33 deploys etcd 3.5.21-0/3.5.24-0 (experimental-* spellings, as v1.32); v1.34 deploys etcd
    # 3.6.4-0/3.6.5-0 and passes "the InitialCorruptCheck=true etcd feature gate and
    # --watch-progress-notify-interval" (versions.py, 1.34 row).
    f = _etcd_flags(version)
    assert ("feature-gates" in f) is etcd36
    assert ("experimental-initial-corrupt-check" in f) is not etcd36
    assert f.get(
        "watch-progress-notify-interval" if etcd36 else "experimental-watch-progress-notify-interval"
    ) == ["5s"]
