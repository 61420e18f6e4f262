"""The container images a control plane needs, and getting them onto the node through the CRI.

- :func:`control_plane_images`: upstream ``images.GetControlPlaneImages``
  (``cmd/kubeadm/app/images/images.go``), in its order: kube-apiserver, kube-controller-manager,
  kube-scheduler, kube-proxy (unless ``proxy.disabled``), CoreDNS (unless ``dns.disabled``), pause,
  etcd (local etcd only). Names come from :mod:`kubeadm_py.manifests.images`, so the list is the
  images the manifests and addons use.
- :func:`images_document`: the ``output.kubeadm.k8s.io/v1alpha3`` ``Images`` object of
  ``config images list -o json|yaml``.
- :func:`ensure_images`: ImageStatus / PullImage per image, honouring ``imagePullPolicy``
  (Always, IfNotPresent, Never) and ``imagePullSerial``; used by ``config images pull`` and the
  ``ImagePull`` preflight check. Pulls go through the container runtime effector: its dry-run twin
  records a pull instead of making it, and the image is then reported as ``would-pull``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from kubeadm_py.config.defaults import DEFAULT_IMAGE_PULL_POLICY as DEFAULT_PULL_POLICY
from kubeadm_py.config.schemagen import PULL_POLICIES as _SCHEMA_PULL_POLICIES
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.manifests.images import coredns_image, etcd_image, kubernetes_image, pause_image

if TYPE_CHECKING:
    from kubeadm_py.effectors.cri import ContainerRuntime

OUTPUT_API = "output.kubeadm.k8s.io/v1alpha3"
PULL_POLICIES = tuple(_SCHEMA_PULL_POLICIES)  # the values the config schema accepts
PULL_RETRIES = 5  # constants.PullImageRetry


def _enabled(cfg: KubeadmConfig, addon: str) -> bool:
    return not bool((cfg.cluster.get(addon) or {}).get("disabled"))


# (what, image function, included?) in upstream's order.
IMAGE_TABLE: tuple[tuple[str, Callable[[KubeadmConfig], str], Callable[[KubeadmConfig], bool]], ...] = (
    ("kube-apiserver", lambda c: kubernetes_image("kube-apiserver", c), lambda c: True),
    ("kube-controller-manager", lambda c: kubernetes_image("kube-controller-manager", c), lambda c: True),
    ("kube-scheduler", lambda c: kubernetes_image("kube-scheduler", c), lambda c: True),
    ("kube-proxy", lambda c: kubernetes_image("kube-proxy", c), lambda c: _enabled(c, "proxy")),
    ("coredns", coredns_image, lambda c: _enabled(c, "dns")),
    ("pause", pause_image, lambda c: True),
    ("etcd", etcd_image, lambda c: c.local_etcd),
)


def control_plane_images(cfg: KubeadmConfig) -> list[str]:
    """The images ``kubeadm init`` uses on a control-plane node, in the order that minor's kubeadm
    lists them (``MinorRelease.image_order``: v1.20 puts CoreDNS last)."""
    from kubeadm_py.versions import release_for

    order = release_for(cfg.kubernetes_version).image_order
    rows = sorted(IMAGE_TABLE, key=lambda row: order.index(row[0]))
    return [image(cfg) for _, image, included in rows if included(cfg)]


def images_document(images: Sequence[str]) -> dict[str, Any]:
    """``config images list -o json|yaml`` (``output.kubeadm.k8s.io/v1alpha3`` ``Images``)."""
    return {"kind": "Images", "apiVersion": OUTPUT_API, "images": list(images)}


Action = Literal["present", "pulled", "would-pull", "missing", "failed"]


@dataclass(frozen=True)
class ImageResult:
    image: str
    action: Action  # missing: absent and policy Never
    detail: str = ""  # image ref after a pull, or the error

    @property
    def ok(self) -> bool:
        return self.action in ("present", "pulled", "would-pull")

    def to_dict(self) -> dict[str, str]:
        d = {"image": self.image, "action": self.action}
        if self.detail:
            d["detail"] = self.detail
        return d


def check_policy(policy: str) -> str:
    from kubeadm_py.errors import KubeadmError

    policy = policy or DEFAULT_PULL_POLICY
    if policy not in PULL_POLICIES:
        raise KubeadmError(f"unsupported pull policy {policy!r}", hint="one of " + ", ".join(PULL_POLICIES))
    return policy


def _pull(runtime: ContainerRuntime, image: str, policy: str, retries: int) -> ImageResult:
    err = ""
    for _ in range(max(1, retries)):
        try:
            pulled = runtime.pull_image(image)
        except Exception as e:  # noqa: BLE001 - the CRI's error is the result
            err = str(e) or type(e).__name__
            continue
        if not pulled.ran:
            return ImageResult(image, "would-pull", "Always pulls again" if policy == "Always" else "")
        return ImageResult(image, "pulled", pulled.ref)
    return ImageResult(image, "failed", err)


def _one(runtime: ContainerRuntime, image: str, policy: str, retries: int) -> ImageResult:
    present = False
    if policy != "Always":
        try:
            present = runtime.image_present(image)
        except Exception as e:  # noqa: BLE001 - like upstream ImageExists: an error means "not present"
            if policy == "Never":
                return ImageResult(image, "failed", f"image status: {e}")
    if policy == "Never":
        return ImageResult(image, "present" if present else "missing")
    if present:
        return ImageResult(image, "present")
    return _pull(runtime, image, policy, retries)


def ensure_images(
    runtime: ContainerRuntime,
    images: Sequence[str],
    policy: str = DEFAULT_PULL_POLICY,
    serial: bool = True,
    retries: int = PULL_RETRIES,
    on_result: Callable[[ImageResult], None] | None = None,
) -> list[ImageResult]:
    """Make ``images`` present: IfNotPresent asks ImageStatus and pulls the absent ones; Always
    pulls every image; Never pulls nothing and reports absent images as ``missing``. A pull is tried
    ``retries`` times (upstream PullImageRetry). ``serial=False`` runs the images in parallel
    (results still in list order). A pull the runtime only recorded (its dry-run twin) is
    ``would-pull``."""
    policy = check_policy(policy)

    def one(image: str) -> ImageResult:
        r = _one(runtime, image, policy, retries)
        if on_result is not None:
            on_result(r)
        return r

    if serial or len(images) < 2:
        return [one(i) for i in images]
    with ThreadPoolExecutor(max_workers=len(images)) as pool:
        return list(pool.map(one, images))


def load_config(
    config: str | None = None,
    kubernetes_version: str = "",
    image_repository: str = "",
    feature_gates: str = "",
    cri_socket: str = "",
    host: bool = False,
) -> KubeadmConfig:
    """The init configuration ``config images list|pull`` work from: ``--config`` plus the flags.
    ``host=False`` (list) probes nothing on the host (upstream's SkipCRIDetect); ``host=True``
    (pull) detects the CRI socket when none is given."""
    from kubeadm_py.config import defaults as d
    from kubeadm_py.config.resolve import build_config

    overrides: dict[str, Any] = {}
    for path, value in (
        ("cluster.kubernetesVersion", kubernetes_version),
        ("cluster.imageRepository", image_repository),
        ("cluster.featureGates", feature_gates),
        ("init.nodeRegistration.criSocket", cri_socket),
    ):
        if value:
            overrides[path] = value
    cfg = build_config("init", config=config, overrides=overrides, dynamic_defaults=host)
    if not host:
        d.dynamic_cluster(cfg.cluster)
    return cfg


def pull_settings(nodereg: Mapping[str, Any]) -> tuple[str, bool]:
    """(imagePullPolicy, imagePullSerial) of a nodeRegistration, with upstream's defaults."""
    policy = str(nodereg.get("imagePullPolicy") or DEFAULT_PULL_POLICY)
    return policy, nodereg.get("imagePullSerial", True) is not False
