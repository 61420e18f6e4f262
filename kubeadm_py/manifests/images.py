"""Image names for the static Pod manifests: the rules live in :mod:`kubeadm_py.imagenames` (a base
module, so the addons in ``cluster`` use the same CoreDNS rule)."""

from __future__ import annotations

from kubeadm_py.imagenames import (
    CI_IMAGE_REPOSITORY,
    DEFAULT_IMAGE_REPOSITORY,
    control_plane_repository,
    coredns_image,
    etcd_image,
    image_repository,
    kubernetes_image,
    pause_image,
    version_to_tag,
)

__all__ = [
    "CI_IMAGE_REPOSITORY",
    "DEFAULT_IMAGE_REPOSITORY",
    "control_plane_repository",
    "coredns_image",
    "etcd_image",
    "image_repository",
    "kubernetes_image",
    "pause_image",
    "version_to_tag",
]
