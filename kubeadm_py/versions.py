"""Per-minor version table: component images, versions and version-specific flags kubeadm uses for
each supported Kubernetes minor. The newest entry is the default ``kubernetesVersion``.

Owned by the control-plane/manifests area; extend rows rather than adding branches.

Sources (see docs/control-plane.md for the full list):

* v1.20: the Kubernetes v1.20.2 tree the test bed builds from
  (``cmd/kubeadm/app/constants/constants.go``, ``constants_unix.go``, ``phases/controlplane/manifests.go``,
  ``phases/etcd/local.go``, ``phases/kubelet/flags.go``, ``util/staticpod/utils.go``,
  ``apis/kubeadm/v1beta2/defaults.go``).
* v1.30 - v1.32: the newest kubeadm sources stored for kubernetes/kubernetes (the release-1.32 line:
  ``SupportedEtcdVersion`` = {29..32: "3.5.24-0"}, ``CoreDNSVersion`` = "v1.11.3", ``PauseVersion`` = "3.10",
  ``MinimumControlPlaneVersion`` = current-1). One kubeadm binary deploys its own etcd/CoreDNS/pause tags
  for every control-plane minor it accepts, which is why the three rows share them.
* v1.35, v1.36: no kubeadm Go sources of these lines are stored; the rows come from the stored
  ``CHANGELOG/CHANGELOG-1.35.md`` and ``CHANGELOG-1.36.md`` (kubernetes/kubernetes; newest headers
  stored: v1.35.0 and v1.36.0, so those are the default patches; later patches exist upstream but their
  notes are not stored). Each row cites its changelog lines. What no changelog entry changes is carried
  over from the 1.32 row (control-plane flags, probes, requests, kubelet config defaults).
* v1.37: only the v1.37.0-alpha.1 notes are stored in ``CHANGELOG-1.37.md`` (its kubeadm entries are
  the row's behaviour source); the image tags kubeadm v1.37 deploys come from stored third-party output
  of ``kubeadm config images list`` / running v1.37 clusters (ids and lines cited on the row), and agree
  with CHANGELOG-1.38.md (v1.38.0-alpha.1, "since v1.37.0") moving etcd 3.7.0 -> 3.7.1 and CoreDNS
  v1.14.6 -> v1.14.7. Newest patch with evidence: v1.37.1. Upstream v1.37 also removed the v1beta3 config
  API (#136016); kubeadm-py keeps migrating v1beta3 files for every version (docs/control-plane.md).
* Not in the table: v1.33/v1.34 (end of life by 2026-11 and not verified).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from kubeadm_py.errors import KubeadmError
from kubeadm_py.semver import Version, VersionError

Flag = tuple[str, str]  # (name, value template); templates may use {cri_socket} and {pause_image}


def _ro(d: dict[str, tuple[Flag, ...]]) -> Mapping[str, tuple[Flag, ...]]:
    return MappingProxyType(d)


# The --patches targets every supported minor accepts (patches.KNOWN_TARGETS).
PATCH_TARGETS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubeletconfiguration",
    "corednsdeployment",
)


@dataclass(frozen=True)
class MinorRelease:
    minor: str  # "1.20"
    default_patch: str  # full version used when only the minor is known, e.g. "v1.20.2"
    etcd: str  # etcd image tag
    coredns: str  # CoreDNS image tag (without leading v where upstream has none)
    pause: str  # pause image tag
    # The image repository upstream kubeadm of that minor defaulted to (our config default is the
    # v1beta4 one, registry.k8s.io; the image repository always comes from the config).
    upstream_image_repository: str = "registry.k8s.io"
    # Default flags kubeadm adds for this minor only, per static Pod component (on top of the
    # version-independent defaults in kubeadm_py.manifests).
    component_flags: Mapping[str, tuple[Flag, ...]] = field(default_factory=lambda: _ro({}))
    # kubeadm feature gates that kubeadm forwarded to the components as --feature-gates (1.20: IPv6DualStack).
    forwarded_feature_gates: tuple[str, ...] = ()
    # Pod-level fields: spec.priority (2000001000) and securityContext.seccompProfile RuntimeDefault.
    pod_priority: bool = True
    seccomp_runtime_default: bool = True
    # Control-plane containers get the user's extraEnvs (v1beta3+); 1.20 had only the proxy variables.
    etcd_env: bool = True
    # (etcd and control-plane probes: kubeadm_py.versioned.ObjectsProfile)
    etcd_requests: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({"cpu": "100m", "memory": "100Mi"})
    )
    # Health endpoint paths wait-control-plane polls (the components' own servers).
    health_paths: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {"kube-apiserver": "/livez", "kube-controller-manager": "/healthz", "kube-scheduler": "/livez"}
        )
    )
    # kubeadm-flags.env: flags for a CRI (non-dockershim) socket.
    kubelet_flags: tuple[Flag, ...] = (
        ("container-runtime-endpoint", "{cri_socket}"),
        ("pod-infra-container-image", "{pause_image}"),
    )
    # KubeletConfiguration.cgroupDriver kubeadm sets when the user left it empty (None: not set).
    kubelet_cgroup_driver: str | None = "systemd"
    # kube-controller-manager gets the "flexvolume-dir" hostPath volume (removed in v1.36, #136423:
    # users who still need flex volumes mount the directory with extraVolumes).
    kcm_flexvolume_mount: bool = True
    # NodeLocalCRISocket on by default (beta in v1.34, GA in v1.36): upstream writes the CRI socket to
    # /var/lib/kubelet/instance-config.yaml (containerRuntimeEndpoint) instead of kubeadm-flags.env and
    # stops annotating the Node with kubeadm.alpha.kubernetes.io/cri-socket.
    node_local_cri_socket: bool = False
    # --patches targets this minor's kubeadm knew (kubeletconfiguration arrived in 1.25,
    # corednsdeployment in 1.26); we accept all targets for every minor and only note the difference.
    patch_targets: tuple[str, ...] = PATCH_TARGETS

    @property
    def minor_number(self) -> int:
        return Version.parse(self.minor).minor


_MODERN_ETCD_FLAGS: tuple[Flag, ...] = (
    # etcd 3.5 spellings (phases/etcd/local.go); etcd >= 3.6 (kubeadm 1.34+) uses
    # --feature-gates=InitialCorruptCheck=true and --watch-progress-notify-interval=5s instead.
    ("experimental-initial-corrupt-check", "true"),
    ("experimental-watch-progress-notify-interval", "5s"),
)

_ETCD36_FLAGS: tuple[Flag, ...] = (
    # etcd >= 3.6: the experimental-* flags became a feature gate and a plain flag (CHANGELOG-1.36.md,
    # v1.36.0, #135701: "Removed usage of the deprecated etcd flags --experimental-initial-corrupt-check
    # and --experimental-watch-progress-notify-interval if the etcd version is < v3.6.0 ... replaced by
    # --feature-gates=InitialCorruptCheck=true and --watch-progress-notify-interval").
    ("feature-gates", "InitialCorruptCheck=true"),
    ("watch-progress-notify-interval", "5s"),
)

# kubeadm-flags.env from v1.35: "Kubeadm: stopped applying the --pod-infra-container-image flag for the
# kubelet" (CHANGELOG-1.35.md, v1.35.0, #133778); the v1.35 kubelet no longer has the flag (#133779).
# NodeLocalCRISocket (beta and on by default since v1.34, CHANGELOG-1.34.md v1.34.0-alpha.1; GA in v1.36,
# #135742) also takes the CRI socket out of the file: WriteKubeletDynamicEnvFile clears criSocket when the
# gate is on and buildKubeletArgsCommon adds --container-runtime-endpoint only for a non-empty socket
# (phases/kubelet/flags.go, find_string id 670848721); the socket goes to instance-config.yaml instead
# (kubeadm_py.phases.shared.kubelet_start.write_instance_config). Only --hostname-override / taints /
# extra args remain.
_NODE_LOCAL_CRI_KUBELET_FLAGS: tuple[Flag, ...] = ()


def _modern(minor: str, patch: str) -> MinorRelease:
    return MinorRelease(
        minor,
        patch,
        etcd="3.5.24-0",
        coredns="v1.11.3",
        pause="3.10",
        component_flags=_ro({"etcd": _MODERN_ETCD_FLAGS}),
    )


# v1.35.0 (CHANGELOG-1.35.md, newest header stored: v1.35.0): "etcd: Update etcd to v3.6.6"
# (#135271, SIG Cluster Lifecycle); "Upgraded CoreDNS to v1.12.4" (#133968). No v1.35 changelog entry
# changes the pause image: 3.10.1 as in kubeadm v1.34.
_V1_35 = MinorRelease(
    "1.35",
    "v1.35.0",
    etcd="3.6.6-0",
    coredns="v1.12.4",
    pause="3.10.1",
    component_flags=_ro({"etcd": _ETCD36_FLAGS}),
    kubelet_flags=_NODE_LOCAL_CRI_KUBELET_FLAGS,
    node_local_cri_socket=True,
)
# v1.36.0 (CHANGELOG-1.36.md, newest header stored: v1.36.0): "Updated etcd images to v3.6.8"
# (#137107); "Updated CoreDNS to v1.14.2" (#137605); "Updated the pause image to v3.10.2" (#138199);
# "Removed the integrated support for flex-volumes in kubeadm" (#136423).
_V1_36 = replace(
    _V1_35,
    minor="1.36",
    default_patch="v1.36.0",
    etcd="3.6.8-0",
    coredns="v1.14.2",
    pause="3.10.2",
    kcm_flexvolume_mount=False,
)
# v1.37.1. Images: a stored blog's `kubeadm config images list` with kubeadm v1.37.1 (find_string id
# 71499515808: "registry.k8s.io/coredns/coredns:v1.14.6", "registry.k8s.io/pause:3.10.2",
# "registry.k8s.io/etcd:3.7.0-0"; same list in id 70824810984, `--kubernetes-version v1.37.1`); a
# minikube v1.39.0 cluster on Kubernetes v1.37.0 runs "registry.k8s.io/etcd:3.7.0-0" (id 70529838313);
# a kubeadm v1.37.0 images.lock fixture lists coredns v1.14.6 and pause 3.10.2 (id 68389050250); a
# v1.37.1 dependency table: "CoreDNS v1.14.6 ... kubeadm v1.37.1 预设值" (id 71003821998) and "kubeadm
# v1.37.1 預設 etcd 為 3.7.0" (id 71400711285). Consistent with CHANGELOG-1.38.md v1.38.0-alpha.1
# ("since v1.37.0") moving etcd to 3.7.1 and CoreDNS to v1.14.7; v1.37.0-alpha.1 was at etcd
# 3.7.0-rc.0 (#139427) and CoreDNS 1.14.3 (#138536).
# etcd flags: the 1.36 spellings (--feature-gates=InitialCorruptCheck=true,
# --watch-progress-notify-interval=5s) are etcd's non-experimental flags that etcd 3.7 keeps (3.7
# removed the experimental-* ones kubeadm already stopped using in 1.36, #135701); no v1.37 changelog
# entry changes them. Carried over, not read from kubeadm v1.37 sources (none stored).
# Patch targets: "kubeproxydaemonset" added (CHANGELOG-1.37.md v1.37.0-alpha.1, #138090).
_V1_37 = replace(
    _V1_36,
    minor="1.37",
    default_patch="v1.37.1",
    etcd="3.7.0-0",
    coredns="v1.14.6",
    patch_targets=(*_V1_36.patch_targets, "kubeproxydaemonset"),
)

RELEASES: tuple[MinorRelease, ...] = (
    MinorRelease(
        "1.20",
        "v1.20.2",
        etcd="3.4.13-0",
        coredns="1.7.0",
        pause="3.2",
        upstream_image_repository="k8s.gcr.io",
        component_flags=_ro(
            {
                "kube-apiserver": (("insecure-port", "0"),),
                "kube-controller-manager": (("port", "0"),),
                "kube-scheduler": (("port", "0"),),
            }
        ),
        forwarded_feature_gates=("IPv6DualStack",),
        pod_priority=False,
        seccomp_runtime_default=False,
        etcd_env=False,
        etcd_requests=MappingProxyType({"cpu": "100m", "ephemeral-storage": "100Mi", "memory": "100Mi"}),
        health_paths=MappingProxyType(
            {"kube-apiserver": "/livez", "kube-controller-manager": "/healthz", "kube-scheduler": "/healthz"}
        ),
        # The 1.20 kubelet reads the runtime endpoint only from flags; the pause image is passed only
        # for the dockershim socket (phases/kubelet/flags.go).
        kubelet_flags=(("container-runtime", "remote"), ("container-runtime-endpoint", "{cri_socket}")),
        kubelet_cgroup_driver=None,
        patch_targets=("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"),
    ),
    _modern("1.30", "v1.30.14"),
    _modern("1.31", "v1.31.14"),
    _modern("1.32", "v1.32.10"),
    _V1_35,
    _V1_36,
    _V1_37,
)

DEFAULT_KUBERNETES_VERSION = RELEASES[-1].default_patch

DOCKERSHIM_SOCKETS = ("/var/run/dockershim.sock", "unix:///var/run/dockershim.sock")
# 1.20 with the dockershim socket: flags instead of kubelet_flags (phases/kubelet/flags.go).
DOCKERSHIM_KUBELET_FLAGS: tuple[Flag, ...] = (
    ("network-plugin", "cni"),
    ("pod-infra-container-image", "{pause_image}"),
)


def supported_minors() -> list[str]:
    return [r.minor for r in RELEASES]


def release_for(version: str | None) -> MinorRelease:
    """The table row for ``version`` ("v1.20.2", "1.32", ...; empty means the default version).
    A minor outside the table is an error naming the supported ones."""
    version = version or DEFAULT_KUBERNETES_VERSION
    key = Version.parse(version).minor_text
    for r in RELEASES:
        if r.minor == key:
            return r
    raise KubeadmError(
        f"Kubernetes version {version} is not supported by kubeadm-py",
        hint=f"supported minors: {', '.join(supported_minors())}",
    )


def normalize_version(version: str | None) -> str:
    """Offline version resolution: a full "vX.Y.Z" tag (``1.31.2`` -> ``v1.31.2``); a bare minor
    (``1.20``) becomes that minor's default patch; empty means the default version."""
    if not version:
        return DEFAULT_KUBERNETES_VERSION
    v = Version.parse(version)
    if v.has_patch:
        return v.tag
    for r in RELEASES:
        if r.minor == v.minor_text:
            return r.default_patch
    raise KubeadmError(
        f'"{version}" names only a minor release and kubeadm-py has no patch version for it offline',
        hint=f"give a full version such as v{v.minor_text}.0 (known minors: {', '.join(supported_minors())})",
    )


def minor_of(version: str | None) -> tuple[int, int]:
    """(major, minor) of ``version``; of the default version when empty."""
    return Version.parse(version or DEFAULT_KUBERNETES_VERSION).major_minor


def kubeadm_version() -> Version:
    """kubeadm-py acts as the kubeadm of the newest Kubernetes minor in its version table."""
    return max(Version.parse(r.default_patch) for r in RELEASES)


def oldest_supported_version() -> Version:
    return min(Version.parse(r.default_patch) for r in RELEASES)


def minimum_kubelet_version(kubernetes_version: str = "") -> Version:
    """kubeadm's ``MinimumKubeletVersion`` (three minors below kubeadm's own, the kubelet skew
    policy). kubeadm-py deploys several minors, so it counts from the target version, or from
    the oldest minor of its version table when the target is unknown (join before discovery)."""
    try:
        base = Version.parse(kubernetes_version) if kubernetes_version else oldest_supported_version()
    except VersionError:
        base = oldest_supported_version()
    return Version(base.major, max(base.minor - 3, 0), 0)
