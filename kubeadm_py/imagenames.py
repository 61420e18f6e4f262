"""Image names, shared by static Pods and addons (``cmd/kubeadm/app/images/images.go``):
``<imageRepository>/<component>:<version>``,
etcd ``<repo>/etcd:<tag>`` unless ``etcd.local.imageRepository/imageTag`` override. The etcd, CoreDNS
and pause tags are those of the exact patch (``versions.image_tags``)."""

from __future__ import annotations

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.versions import image_tags, normalize_version, release_for

DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"  # v1beta4 default (upstream 1.20 defaulted to k8s.gcr.io)
CI_IMAGE_REPOSITORY = "gcr.io/k8s-staging-ci-images"


def image_repository(cfg: KubeadmConfig) -> str:
    repo = str(cfg.cluster.get("imageRepository") or DEFAULT_IMAGE_REPOSITORY)
    return repo.rstrip("/")


def control_plane_repository(cfg: KubeadmConfig) -> str:
    """GetControlPlaneImageRepository: CI versions use the CI repository unless one was configured."""
    if cfg.kubernetes_version.startswith("ci/") and not cfg.cluster.get("imageRepository"):
        return CI_IMAGE_REPOSITORY
    return image_repository(cfg)


def version_to_tag(version: str) -> str:
    return version.replace("+", "_")


def kubernetes_image(component: str, cfg: KubeadmConfig) -> str:
    tag = version_to_tag(normalize_version(cfg.kubernetes_version))
    return f"{control_plane_repository(cfg)}/{component}:{tag}"


def etcd_image(cfg: KubeadmConfig) -> str:
    local = (cfg.cluster.get("etcd") or {}).get("local") or {}
    repo = str(local.get("imageRepository") or image_repository(cfg)).rstrip("/")
    tag = str(local.get("imageTag") or image_tags(cfg.kubernetes_version).etcd)
    return f"{repo}/etcd:{tag}"


def pause_image(cfg: KubeadmConfig) -> str:
    return f"{image_repository(cfg)}/pause:{image_tags(cfg.kubernetes_version).pause}"


def coredns_image(cfg: KubeadmConfig) -> str:
    """CoreDNS: ``registry.k8s.io/coredns/coredns:<tag>`` with the default registry (1.21+), else ``<repo>/coredns:<tag>``."""  # noqa: E501
    dns = cfg.cluster.get("dns") or {}
    repo = str(dns.get("imageRepository") or image_repository(cfg)).rstrip("/")
    tag = str(dns.get("imageTag") or image_tags(cfg.kubernetes_version).coredns)
    # images.go GetDNSImage: the rename applies to the registry in effect, dns.imageRepository included
    if repo == DEFAULT_IMAGE_REPOSITORY and release_for(cfg.kubernetes_version).minor_number >= 21:
        return f"{repo}/coredns/coredns:{tag}"
    return f"{repo}/coredns:{tag}"
