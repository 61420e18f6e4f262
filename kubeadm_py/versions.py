"""Per-minor version table: component images and versions kubeadm uses for each supported
Kubernetes minor. The newest entry is the default ``kubernetesVersion``.

Owned by the control-plane/manifests area; extend rows rather than adding branches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MinorRelease:
    minor: str  # "1.20"
    default_patch: str  # full version used when only the minor is known, e.g. "v1.20.2"
    etcd: str  # etcd image tag
    coredns: str  # CoreDNS image tag (without leading v where upstream has none)
    pause: str  # pause image tag


# Filled in by the manifests work; 1.20 is the test bed's version.
RELEASES: tuple[MinorRelease, ...] = (
    MinorRelease("1.20", "v1.20.2", etcd="3.4.13-0", coredns="1.7.0", pause="3.2"),
)

DEFAULT_KUBERNETES_VERSION = RELEASES[-1].default_patch
