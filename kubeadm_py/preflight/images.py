"""The ``ImagePull`` check (kubeadm ``preflight/checks.go`` ``ImagePullCheck``, run by
``RunPullImagesCheck`` for init and join --control-plane).

A mutating check: missing images are pulled through the container runtime effector ``runtime``
(``ctx.fx.cri`` of the preflight phase; :func:`kubeadm_py.images.ensure_images`); in a dry run that
is the effector's twin, which records the pulls, and the images it would pull are warnings. Without
a ``runtime`` (the standalone ``preflight`` command) the check only reads: it asks ImageStatus of a
CRI client that pulls nothing and warns about the images a real run would pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from kubeadm_py.config.defaults import DEFAULT_IMAGE_PULL_POLICY as DEFAULT_PULL_POLICY
from kubeadm_py.effectors.cri import ContainerRuntime, CriFactory, DryRunCri, host_cri_factory
from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.images import PULL_POLICIES, ImageResult, ensure_images
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.preflight.system import CRI

SANDBOX_WARNING = (
    'detected that the sandbox image "{cri}" of the container runtime is inconsistent with that used by '
    'kubeadm. It is recommended to use "{kubeadm}" as the CRI sandbox image.'
)


def _message(r: ImageResult) -> tuple[str, str]:
    """(warning, error) for one image result; empty strings when it has nothing to say."""
    if r.action == "failed":
        if r.detail.startswith("image status: "):
            return "", f"cannot get the status of image {r.image}: {r.detail.removeprefix('image status: ')}"
        return "", f"failed to pull image {r.image}: {r.detail}"
    if r.action == "missing":
        return "", f"image {r.image} not present and imagePullPolicy is Never"
    if r.action == "would-pull":
        why = " (imagePullPolicy Always)" if r.detail else ""
        return f"image {r.image} would be pulled{why}; this run pulls nothing", ""
    return "", ""


def _no_log(msg: str) -> None:
    return None


@dataclass(frozen=True)
class ImagePull:
    images: tuple[str, ...]
    cri_socket: str = ""
    policy: str = DEFAULT_PULL_POLICY
    serial: bool = True
    sandbox_image: str = ""  # kubeadm's pause image, compared with the runtime's
    runtime: CriFactory | None = None  # None: read only, pull nothing (the standalone command)
    name: ClassVar[str] = "ImagePull"
    severity: ClassVar[Severity] = "error"

    @property
    def what(self) -> str:
        verb = "present or pulled" if self.runtime is not None else "present or would be pulled"
        return f"{len(self.images)} control-plane images {verb} (imagePullPolicy {self.policy})"

    @property
    def fix(self) -> str:
        return (
            "make the registry reachable from the container runtime (or set imageRepository to one that "
            "is), import the images (e.g. ctr -n k8s.io images import), or pre-pull them with "
            "'kubeadm-py config images pull'"
        )

    def _runtime(self, endpoint: str) -> ContainerRuntime:
        if self.runtime is not None:
            return self.runtime(endpoint)
        return DryRunCri(host_cri_factory(endpoint), _no_log)

    def run(self, probe: SystemProbe) -> Findings:
        if self.policy not in PULL_POLICIES:
            return [], [f'unsupported pull policy "{self.policy}"']
        endpoint, err = CRI(self.cri_socket).endpoint(probe)
        if err:
            return [], [f"images not checked: {err}"]
        warnings: list[str] = []
        errors: list[str] = []
        runtime = self._runtime(endpoint)
        try:
            try:
                runtime_sandbox = runtime.sandbox_image()
            except Exception as e:  # noqa: BLE001 - the runtime is not reachable: say so, once
                msg = f"images not checked or pulled: the container runtime on {endpoint} did not answer: {e}"
                return ([msg], []) if self.runtime is None else ([], [msg])
            if runtime_sandbox and self.sandbox_image and runtime_sandbox != self.sandbox_image:
                warnings.append(SANDBOX_WARNING.format(cri=runtime_sandbox, kubeadm=self.sandbox_image))
            for r in ensure_images(runtime, self.images, self.policy, self.serial):
                warning, error = _message(r)
                if warning:
                    warnings.append(warning)
                if error:
                    errors.append(error)
        finally:
            runtime.close()
        return warnings, errors
