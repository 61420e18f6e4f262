"""The container runtime (CRI) as an effector: what phases and the image pulls use of it, the real
factory (one :class:`~kubeadm_py.host.cri.CriClient` per endpoint) and the dry-run twin, which
reads the real runtime (sandboxes, image status) and only records and logs removals and pulls."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from kubeadm_py.changes import Change

if TYPE_CHECKING:  # the CRI client (gRPC) loads when a runtime is reached
    from kubeadm_py.host.cri import ContainerInfo, CriStatus, Pulled, Sandbox
    from kubeadm_py.hostfs import HostFS


class ContainerRuntime(Protocol):
    """Calls raise :class:`~kubeadm_py.host.cri.CriError` (``CriNotRunning`` when nothing listens)."""

    endpoint: str

    def status(self) -> CriStatus:
        """RuntimeService/Status: the call succeeds and ``RuntimeReady`` is true (never raises)."""
        ...

    def sandbox_image(self) -> str: ...

    def image_present(self, image: str) -> bool: ...

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        """PullImage; ``timeout`` (seconds) instead of the client's own pull timeout."""
        ...

    def list_sandboxes(self) -> list[Sandbox]: ...

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        """Stop and remove one pod sandbox and its containers."""
        ...

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        """Containers (of pods in ``namespace``), without exit codes or log paths."""
        ...

    def container_status(self, container_id: str) -> ContainerInfo:
        """One container with its exit code, reason and log path."""
        ...

    def close(self) -> None: ...


# endpoint (``unix:///run/containerd/containerd.sock``) -> a client of the runtime there.
CriFactory = Callable[[str], ContainerRuntime]


def host_cri_factory(endpoint: str) -> ContainerRuntime:
    from kubeadm_py.host.cri import CriClient

    return CriClient(endpoint)


def endpoint_under(fs: HostFS, endpoint: str) -> str:
    """``endpoint`` with a unix socket path mapped through ``--rootfs`` (reset reaches the runtime
    of the node root it cleans); other endpoints unchanged."""
    from kubeadm_py.host.cri import endpoint_url, socket_path

    url = endpoint_url(endpoint)
    if not url.startswith("unix://"):
        return url
    return f"unix://{fs.confined_path(socket_path(url))}"


class DryRunCri:
    """Reads the real runtime (images, sandboxes, containers); stopping and removing sandboxes and
    pulling images are only logged and recorded (``removed``, ``pulled``)."""

    def __init__(self, real: ContainerRuntime, log: Callable[[str], None]) -> None:
        self.real = real
        self.log = log
        self.endpoint = real.endpoint
        self.removed: list[Sandbox] = []
        self.pulled: list[str] = []

    def status(self) -> CriStatus:
        return self.real.status()

    def sandbox_image(self) -> str:
        return self.real.sandbox_image()

    def image_present(self, image: str) -> bool:
        return self.real.image_present(image)

    def list_sandboxes(self) -> list[Sandbox]:
        return self.real.list_sandboxes()

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        return self.real.list_containers(namespace)

    def container_status(self, container_id: str) -> ContainerInfo:
        return self.real.container_status(container_id)

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        self.log(f"[dryrun] Would pull the image {image}")
        self.pulled.append(image)
        from kubeadm_py.host.cri import Pulled

        return Pulled(image, ran=False)

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        self.log(f"[dryrun] Would stop and remove {sandbox.label} and its containers")
        self.removed.append(sandbox)
        return Change("process", "delete", sandbox.label, "would be stopped and removed")

    def close(self) -> None:
        self.real.close()


def dry_run_cri_factory(real: CriFactory, log: Callable[[str], None]) -> CriFactory:
    def make(endpoint: str) -> ContainerRuntime:
        return DryRunCri(real(endpoint), log)

    return make
