"""The ``ImagePull`` check (kubeadm ``preflight/checks.go`` ``ImagePullCheck``, run by
``RunPullImagesCheck`` for init and join --control-plane).

A mutating check: with ``pull=True`` missing images are pulled through the CRI ImageService
(:func:`kubeadm_py.images.ensure_images`). With ``pull=False`` (dry-run, the standalone
``preflight`` command) it only asks ImageStatus and warns about the images a real run would pull.

The image service comes from ``probe.image_service(endpoint)`` when the probe has one (tests, embedding
programs), else :class:`kubeadm_py.host.cri.CriImageService` on the CRI socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.images import DEFAULT_PULL_POLICY, PULL_POLICIES, ImageResult, ensure_images
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.preflight.system import CRI

SANDBOX_WARNING = (
    'detected that the sandbox image "{cri}" of the container runtime is inconsistent with that used by '
    'kubeadm. It is recommended to use "{kubeadm}" as the CRI sandbox image.'
)


def _message(r: ImageResult, pull: bool) -> tuple[str, str]:
    """(warning, error) for one image result; empty strings when it has nothing to say."""
    if r.action == "failed":
        what = "failed to pull image" if pull else "cannot get the status of image"
        return "", f"{what} {r.image}: {r.detail.removeprefix('image status: ')}"
    if r.action == "missing":
        return "", f"image {r.image} not present and imagePullPolicy is Never"
    if r.action == "would-pull":
        why = " (imagePullPolicy Always)" if r.detail else ""
        return f"image {r.image} would be pulled{why}; this run pulls nothing", ""
    return "", ""


@dataclass(frozen=True)
class ImagePull:
    images: tuple[str, ...]
    cri_socket: str = ""
    policy: str = DEFAULT_PULL_POLICY
    serial: bool = True
    sandbox_image: str = ""  # kubeadm's pause image, compared with the runtime's
    pull: bool = True  # False: report only (dry-run)
    name: ClassVar[str] = "ImagePull"
    severity: ClassVar[Severity] = "error"

    @property
    def what(self) -> str:
        verb = "present or pulled" if self.pull else "present or would be pulled"
        return f"{len(self.images)} control-plane images {verb} (imagePullPolicy {self.policy})"

    @property
    def fix(self) -> str:
        return (
            "make the registry reachable from the container runtime (or set imageRepository to one that "
            "is), import the images (e.g. ctr -n k8s.io images import), or pre-pull them with "
            "'kubeadm-py config images pull'"
        )

    def _service(self, probe: SystemProbe, endpoint: str) -> Any:
        factory = getattr(probe, "image_service", None)
        if callable(factory):
            return factory(endpoint)
        from kubeadm_py.host.cri import CriImageService

        return CriImageService(endpoint)

    def run(self, probe: SystemProbe) -> Findings:
        if self.policy not in PULL_POLICIES:
            return [], [f'unsupported pull policy "{self.policy}"']
        endpoint, err = CRI(self.cri_socket).endpoint(probe)
        if err:
            return [], [f"images not checked: {err}"]
        warnings: list[str] = []
        errors: list[str] = []
        service = self._service(probe, endpoint)
        try:
            try:
                runtime_sandbox = service.sandbox_image() if hasattr(service, "sandbox_image") else ""
            except Exception as e:  # noqa: BLE001 - the runtime is not reachable: say so, once
                msg = f"images not checked or pulled: the container runtime on {endpoint} did not answer: {e}"
                return ([msg], []) if not self.pull else ([], [msg])
            if runtime_sandbox and self.sandbox_image and runtime_sandbox != self.sandbox_image:
                warnings.append(SANDBOX_WARNING.format(cri=runtime_sandbox, kubeadm=self.sandbox_image))
            for r in ensure_images(service, self.images, self.policy, self.serial, dry_run=not self.pull):
                warning, error = _message(r, self.pull)
                if warning:
                    warnings.append(warning)
                if error:
                    errors.append(error)
        finally:
            close = getattr(service, "close", None)
            if callable(close):
                close()
        return warnings, errors
