"""Vectors of upstream kubeadm's image-name tests, run against kubeadm-py.

Source: kubernetes/kubernetes ``cmd/kubeadm/app/images/images_test.go`` at commit
00a01a17c7b286f121115cfb803e38a0e8ba70cd (the stored version; the brief's "util/images_test.go" is
this file: upstream has no images_test.go under util/). Where a vector names a constant of that
commit (``constants.PauseVersion``, ``constants.CoreDNSVersion`` = v1.10.0 there, ``DefaultEtcdVersion``)
the expected tag is the one the version table gives the configured version, because kubeadm-py deploys
several minors. Vectors that need a Kubernetes version kubeadm-py refuses (``1.16.0``, ``v10.1.2-...``)
keep their shape with a supported version. ``GetGenericImage`` has no kubeadm-py counterpart (image
names are formatted in place) and ``CIImageRepository`` is an internal field with no configuration
counterpart; those vectors are not carried over.
"""

from __future__ import annotations

import pytest

from kubeadm_py.cluster import coredns
from kubeadm_py.images import control_plane_images
from kubeadm_py.manifests.images import (
    coredns_image,
    etcd_image,
    kubernetes_image,
    pause_image,
    version_to_tag,
)
from kubeadm_py.versions import image_tags
from tests.unit.manifests.helpers import make_cfg

VERSION = "v1.34.10"
TAGS = image_tags(VERSION)

# const testversion / expected
TEST_VERSION = "v10.1.2-alpha.1.100+0123456789abcdef+SOMETHING"
EXPECTED_TAG = "v10.1.2-alpha.1.100_0123456789abcdef_SOMETHING"
GCR_PREFIX = "registry.k8s.io"


def test_kubernetes_version_to_image_tag():
    # TestGetKubernetesImage's tag: KubernetesVersionToImageTag replaces "+" with "_"
    assert version_to_tag(TEST_VERSION) == EXPECTED_TAG


@pytest.mark.parametrize(
    "component", ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"]
)
def test_get_kubernetes_image(component):
    # TestGetKubernetesImage: <ImageRepository>/<component>:<tag of KubernetesVersion>
    cfg = make_cfg("v1.34.1+0123456789abcdef", cluster={"imageRepository": GCR_PREFIX})
    assert kubernetes_image(component, cfg) == f"{GCR_PREFIX}/{component}:v1.34.1_0123456789abcdef"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ({}, f"real.repo/etcd:{TAGS.etcd}"),
        ({"imageTag": "override"}, "real.repo/etcd:override"),
        ({"imageRepository": "override"}, f"override/etcd:{TAGS.etcd}"),
    ],
)
def test_get_etcd_image(local, expected):
    # TestGetEtcdImage (ImageRepository "real.repo", Etcd.Local with/without ImageMeta overrides)
    cfg = make_cfg(VERSION, cluster={"imageRepository": "real.repo", "etcd": {"local": local}})
    assert etcd_image(cfg) == expected


def test_get_pause_image():
    # TestGetPauseImage: "test.repo/pause:" + PauseVersion
    cfg = make_cfg(VERSION, cluster={"imageRepository": "test.repo"})
    assert pause_image(cfg) == f"test.repo/pause:{TAGS.pause}"


@pytest.mark.parametrize(
    ("cluster", "expect"),
    [
        ({"imageRepository": "real.repo"}, "real.repo"),  # the default image prefix is the repository
        ({"etcd": {"local": {}}}, "etcd"),  # etcd is returned when it is not external
        ({}, "coredns"),  # CoreDNS image is returned
    ],
)
def test_get_all_images(cluster, expect):
    # TestGetAllImages: some image contains the expected text
    images = control_plane_images(make_cfg(VERSION, cluster=cluster))
    assert any(expect in img for img in images), images


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [
        ({"imageRepository": "foo.io"}, f"foo.io/coredns:{TAGS.coredns}"),
        ({"imageRepository": "registry.k8s.io"}, f"registry.k8s.io/coredns/coredns:{TAGS.coredns}"),
        (
            {"imageRepository": "foo.io", "dns": {"imageRepository": "foo.io/coredns"}},
            f"foo.io/coredns/coredns:{TAGS.coredns}",
        ),
        (
            {"imageRepository": "foo.io/coredns", "dns": {"imageTag": "v1.11.0"}},
            "foo.io/coredns/coredns:v1.11.0",
        ),
    ],
)
def test_get_dns_image(cluster, expected):
    # TestGetDNSImage. Its OldDefaultImageRepository vector (k8s.gcr.io -> k8s.gcr.io/coredns/coredns)
    # belongs to the v1beta3 era of that commit; images.go of the minors kubeadm-py deploys (commit
    # 008b3652959ca58af8be3fb5b6ecfe9ae7638282) renames only DefaultImageRepository (registry.k8s.io),
    # so k8s.gcr.io keeps <repo>/coredns (asserted below).
    assert coredns_image(make_cfg(VERSION, cluster=cluster)) == expected
    old = make_cfg(VERSION, cluster={"imageRepository": "k8s.gcr.io"})
    assert coredns_image(old) == f"k8s.gcr.io/coredns:{TAGS.coredns}"


def test_dns_image_repository_equal_to_the_default_is_renamed_too():
    # images.go (commit 008b3652959ca58af8be3fb5b6ecfe9ae7638282) GetDNSImage compares the registry in
    # effect, after the DNS.ImageRepository override, with DefaultImageRepository.
    cfg = make_cfg(
        VERSION, cluster={"imageRepository": "foo.io", "dns": {"imageRepository": "registry.k8s.io"}}
    )
    assert coredns_image(cfg) == f"registry.k8s.io/coredns/coredns:{TAGS.coredns}"
    assert coredns.image(cfg) == coredns_image(cfg)
