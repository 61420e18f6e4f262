"""The pivot's hand-off from the static Pod to the DaemonSet Pod on this node: which of the
DaemonSet Pod's sandboxes to remove so the kubelet starts its container at once.

Until the pivot parks the static manifest, the DaemonSet Pod's container exits (the static Pod
holds the port), and every exit lengthens the kubelet's crash-loop back-off (10 s, 20 s, 40 s ...).
Once nothing listens on the component's port any more, removing the Pod's sandbox through the CRI
ends that wait: the kubelet sees the sandbox die, syncs the Pod at once, makes a new sandbox, and
starts the container without back-off (it has no exited container of that name left to count
from). Removing only the exited container would not do: the kubelet does not sync a Pod for a
removed container, and waits for its next retry (10-15 s). The decision is the table below; the
pivot (:mod:`kubeadm_py.phases.selfhosting.pivot`) and the checkpointer, when it hands a
checkpoint back to the DaemonSet Pod (:mod:`kubeadm_py.selfhosting.checkpointer`), do the CRI
calls. Once the DaemonSet Pod serves, the pivot also removes the static Pod's sandbox rather than
wait out its grace period (:func:`static_sandboxes`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.selfhosting.checkpoint import is_ds_pod_name

if TYPE_CHECKING:
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.host.cri import ContainerInfo, Sandbox

# At most this many restarts per component's pivot: one is the rule (the port is free when it
# happens); a container that still fails after that is the wait's timeout to report.
MAX_RESTARTS = 3
# A container in one of these states is (about to be) running: nothing to speed up.
ALIVE = ("running", "created")
# A sandbox younger than this is left alone: the kubelet's PLEG relists every second, and a sandbox
# created and removed between two relists is never seen, so the kubelet syncs its Pod only at the
# next periodic sync (``--sync-frequency`` 1m plus jitter). On the test bed (2026-12-03) ``upgrade
# apply``'s hand-back removed the new API server Pod's sandbox within a second of its creation, and
# the kubelet made the next one 80 s later.
MIN_AGE = 5.0


def sandboxes_to_remove(
    component: str,
    port_free: bool,
    containers: Sequence[ContainerInfo],
    sandboxes: Sequence[Sandbox],
    *,
    pod_of: Callable[[str, str], bool] = is_ds_pod_name,
    now: float | None = None,
) -> list[Sandbox]:
    """The sandboxes of ``component``'s DaemonSet Pod (``pod_of``: or another Pod of it, the
    checkpoint's static Pod while ``upgrade apply`` replaces the DaemonSet Pod) to remove (empty:
    leave the kubelet alone):

    | when | what |
    |---|---|
    | something still listens on the component's port (the static Pod, or the DaemonSet Pod) | nothing |
    | no container of the DaemonSet Pod is listed (not created yet) | nothing |
    | one is running or created | nothing |
    | all of them exited | its sandboxes older than :data:`MIN_AGE` (``now``: seconds since the epoch) |

    Only containers in ready sandboxes decide. A sandbox that is no longer ready (a removal that
    failed half-way leaves one: on the test bed the kubelet was removing its exited container at
    the same moment) is replaced by the kubelet anyway, and its exited containers must not make us
    remove the new sandbox before the kubelet has created its container. When the Pod is restarted,
    such sandboxes go too: their exited containers are what the kubelet counts its back-off from.
    """
    if not port_free:
        return []
    stopped = {s.id for s in sandboxes if not s.ready}
    mine = [
        c
        for c in containers
        if c.namespace == KUBE_SYSTEM and pod_of(component, c.pod) and c.sandbox_id not in stopped
    ]
    if not mine or any(c.state in ALIVE for c in mine):
        return []
    pods = {c.pod for c in mine}
    now = time.time() if now is None else now
    return [
        s
        for s in sandboxes
        if s.namespace == KUBE_SYSTEM and s.name in pods and now - s.created_at >= MIN_AGE
    ]


def restart_exited(
    runtime: ContainerRuntime,
    component: str,
    port_free: bool,
    log: Callable[[str], None],
    *,
    pod_of: Callable[[str, str], bool] = is_ds_pod_name,
    prefix: str = "",
) -> list[str]:
    """Remove the sandboxes :func:`sandboxes_to_remove` names (``pod_of``: whose Pod), so the
    kubelet starts the Pod at once; the labels of those tried. A removal the runtime refuses (on
    the test bed: "container is already in removing state", the kubelet removing the same exited
    container) is logged and counts as tried: the caller's next poll looks again. Listing errors
    (:class:`~kubeadm_py.host.cri.CriError`) are the caller's."""
    from kubeadm_py.host.cri import CriError

    stale = sandboxes_to_remove(
        component, port_free, runtime.list_containers(KUBE_SYSTEM), runtime.list_sandboxes(), pod_of=pod_of
    )
    for sandbox in stale:
        log(f"{prefix}Restarting {sandbox.label} at once: the port is free, no back-off to wait out")
        try:
            runtime.remove_sandbox(sandbox)
        except CriError as e:
            log(f"{prefix}WARNING: removing {sandbox.label} failed, the next poll looks again (CRI: {e})")
    return [s.label for s in stale]


def static_sandboxes(static_pod: str, sandboxes: Sequence[Sandbox]) -> list[Sandbox]:
    """The sandboxes of the static Pod ``<component>-<node>`` to remove once the DaemonSet Pod is
    Ready and the component's health endpoint answers: the DaemonSet Pod has bound the port, so the
    static Pod serves nothing, but the kubelet gives it its grace period, and its mirror Pod stays
    until then (the API server took the whole 30 s on the test bed)."""
    return [s for s in sandboxes if s.namespace == KUBE_SYSTEM and s.name == static_pod]
