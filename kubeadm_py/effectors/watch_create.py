"""A control-plane container that is never created (issue 17): an image that cannot be pulled, a
volume that cannot be mounted, a container the runtime cannot create. The runtime shows no
container for the component; :class:`CreationWatch` asks it why, through the CRI (the same
answers the kubelet gets; the kubelet's own reasons reach the API server only once it is up, and
during ``init`` it is not):

The signals, each with no container of the component since the wait began and the kubelet
running, and their verdicts:

- for ``IMAGE_GRACE`` s, ``ImageStatus`` of the manifest's image says absent and our own
  ``PullImage`` of it (at most ``PULL_TIMEOUT`` s, once) fails: ``ErrImagePull``, with the
  runtime's error;
- the image present and the Pod's sandbox ready for ``SANDBOX_GRACE`` s: ``CreateContainerError``
  (the kubelet's log says why);
- the image present and no sandbox of the Pod for ``NO_SANDBOX_GRACE`` s: the Pod was not started
  (the kubelet mounts volumes before it creates the sandbox: a volume it cannot mount, or a
  manifest it rejects; the kubelet's log says why).

A pull that only runs out of time is no verdict (a slow registry, a large image): the health wait
goes on. :data:`SIGNALS` is that table, as the docs print it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.host.cri import Sandbox

IMAGE_GRACE = 5.0
PULL_TIMEOUT = 20.0
SANDBOX_GRACE = 30.0
NO_SANDBOX_GRACE = 60.0
SIGNALS = (
    f"no container for {IMAGE_GRACE:.0f}s, the manifest's image absent and a pull of it "
    f"(at most {PULL_TIMEOUT:.0f}s) failing: ErrImagePull, with the runtime's error",
    f"the image present, the Pod's sandbox ready and no container for {SANDBOX_GRACE:.0f}s: "
    "CreateContainerError",
    f"the image present and no sandbox of the Pod for {NO_SANDBOX_GRACE:.0f}s: the Pod was not started "
    "(a volume the kubelet cannot mount, or a manifest it rejects)",
)


@dataclass(frozen=True)
class NotCreated:
    """Why a component has no container: ``reason`` (the kubelet's word for it) and ``message``
    (the runtime's words); ``kubelet_log``: only the kubelet's log says more."""

    reason: str
    message: str
    kubelet_log: bool = False


def _deadline(error: Exception) -> bool:
    return "DEADLINE_EXCEEDED" in str(error) or "DeadlineExceeded" in str(error)


@dataclass
class CreationWatch:
    """Remembers since when each component has had no container and judges it with the table
    above. ``image_of`` reads the image of the component's manifest on the node (None: no
    manifest)."""

    image_of: Callable[[str], str | None]
    now: Callable[[], float]
    _missing: dict[str, float] = field(default_factory=dict)
    _pulled: set[str] = field(default_factory=set)

    def seen(self, component: str) -> None:
        """The component has a container (again)."""
        self._missing.pop(component, None)

    def judge(
        self, rt: ContainerRuntime, component: str, since: float, ran_before: bool = False
    ) -> NotCreated | None:
        """``component`` has no container created since ``since``: a verdict, or None (not yet).
        ``ran_before``: an older container of the component is still listed; then a ready sandbox
        without a container is the kubelet's crash-loop back-off (a rollback restores a Pod whose
        container exited minutes ago, and its next start waits up to 5 min), not a verdict."""
        t = self.now()
        first = self._missing.setdefault(component, t)
        waited = t - first
        if waited < IMAGE_GRACE:
            return None
        image = self.image_of(component)
        if not image:
            return None
        if not rt.image_present(image):
            return self._pull(rt, component, image)
        box = _sandbox(rt.list_sandboxes(), component, since)
        if box is not None and box.ready and not ran_before and waited >= SANDBOX_GRACE:
            return NotCreated(
                "CreateContainerError",
                f"its Pod's sandbox is ready and no container was created for {waited:.0f}s "
                f"(image {image} present)",
                kubelet_log=True,
            )
        if box is None and waited >= NO_SANDBOX_GRACE:
            return NotCreated(
                "PodNotStarted",
                f"no pod sandbox for {waited:.0f}s (image {image} present): the kubelet did not start the "
                "Pod, it mounts its volumes first (a volume it cannot mount, or a manifest it rejects)",
                kubelet_log=True,
            )
        return None

    def _pull(self, rt: ContainerRuntime, component: str, image: str) -> NotCreated | None:
        from kubeadm_py.host.cri import CriError

        if component in self._pulled:
            return None
        self._pulled.add(component)
        try:
            rt.pull_image(image, timeout=PULL_TIMEOUT)
        except CriError as e:
            if _deadline(e):
                return None
            return NotCreated("ErrImagePull", f"image {image} is not on the node and cannot be pulled: {e}")
        return None


def _sandbox(boxes: Sequence[Sandbox], component: str, since: float) -> Sandbox | None:
    """The component's static Pod sandbox (``<component>-<node name>`` in kube-system) created
    since ``since``, the newest."""
    mine = [
        b
        for b in boxes
        if b.namespace == "kube-system" and b.name.startswith(component + "-") and b.created_at >= since
    ]
    return max(mine, key=lambda b: b.created_at, default=None)
