"""Static Pod swaps of ``certs rotate-ca`` that a kill cannot cut short: before the manifests are
swapped (through the upgrade's machine: backup, wait for the kubelet's new Pod and health, rollback),
each swapped component gets a mark in ``/etc/kubernetes/tmp`` holding its mirror Pod's config hash of
before the swap; the mark goes once the machine returns. A run killed while the machine waited leaves
the new manifest in place and the mark: the rerun finds the manifest already wanted, so nothing is
swapped again, but it still waits, from the hash in the mark, until the kubelet runs the new manifest
and the component is healthy, before the next components and phases (which need it serving)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.constants import TMP_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CONFIG_MODE
from kubeadm_py.phases.rotateca.common import PREFIX

if TYPE_CHECKING:
    from kubeadm_py.phases.rotateca.state import RotateCAContext
    from kubeadm_py.upgrade.staticpods import ManifestSwap

MARK = "kubeadm-py-ca-rotation-swap-{}"


def mark_path(component: str) -> str:
    return f"{TMP_DIR}/{MARK.format(component)}"


def swap(ctx: RotateCAContext, wanted: list[ManifestSwap]) -> bool:
    """Swap the components of ``wanted`` whose manifest differs, after waiting for those an interrupted
    run swapped; False when every manifest was already the wanted one and nothing was waited for."""
    from kubeadm_py.phases.rotatesa.phases import WAIT_TIMEOUT, swap_manifests
    from kubeadm_py.phases.upgrade.control_plane import make_waiter
    from kubeadm_py.upgrade.staticpods import WaitError

    swaps = [s for s in wanted if not s.unchanged]
    resumed = [s for s in wanted if s.unchanged and ctx.fs.exists(mark_path(s.component))]
    if not swaps and not resumed:
        return False
    waiter = make_waiter(ctx, ctx.state.node_name)
    for s in resumed:
        text = ctx.fs.read_bytes(mark_path(s.component)) or b""
        old_hash = text.decode().strip() or None
        ctx.log(
            f"{PREFIX} An interrupted run swapped the manifest of {s.component}: waiting for the kubelet "
            "to run it"
        )
        try:
            waiter.wait_for_new_pod(s.component, old_hash, WAIT_TIMEOUT)
            waiter.wait_healthy(s.component, s.new, WAIT_TIMEOUT)
        except WaitError as e:
            raise KubeadmError(
                f"{s.component} does not run its new manifest {s.path}: {e}",
                hint=f"see 'crictl ps -a --name {s.component}' and the kubelet's log; then rerun the command",
            ) from None
        ctx.fs.remove(mark_path(s.component))
    if not swaps:
        return True
    for s in swaps:  # before any manifest is written, as the machine records them
        ctx.fs.mkdir(TMP_DIR, 0o700)
        before = waiter.config_hash(s.component) or ""
        ctx.fs.write(mark_path(s.component), f"{before}\n".encode(), CONFIG_MODE, detail="swap in progress")
    swap_manifests(ctx, ctx.state.node_name, ctx.state.timestamp, swaps)
    for s in swaps:
        ctx.fs.remove(mark_path(s.component))
    return True
