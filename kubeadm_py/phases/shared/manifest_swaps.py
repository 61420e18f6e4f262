"""Static Pod swaps that a kill cannot cut short, shared by ``certs rotate-ca`` and ``certs rotate-sa``.

The manifests are swapped through the upgrade's machine (backup, wait for the kubelet's new Pod and
health, roll back on failure). Before that, each swapped component gets a mark in
``/etc/kubernetes/tmp`` holding its mirror Pod's config hash of before the swap; the mark goes once
the machine returns. A run killed while the machine waited leaves the new manifest in place and the
mark: the rerun finds the manifest already wanted, so nothing is swapped again, but it still waits,
from the hash in the mark, until the kubelet runs the new manifest and the component is healthy,
before the next components and phases (which need it serving)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.constants import TMP_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CONFIG_MODE

if TYPE_CHECKING:
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.upgrade.staticpods import ManifestSwap

WAIT_TIMEOUT = 300.0


def mark_path(mark: str, component: str) -> str:
    """``mark`` is a file name pattern with one ``{}`` for the component."""
    return f"{TMP_DIR}/{mark.format(component)}"


def swap_manifests(ctx: AnyContext, node_name: str, timestamp: str, swaps: list[ManifestSwap]) -> None:
    """Swap static Pod manifests through the upgrade's machine (backup, wait for the kubelet to run
    the new one and for health, roll back on failure)."""
    from kubeadm_py.phases.upgrade.control_plane import make_waiter
    from kubeadm_py.upgrade.staticpods import StaticPodUpgrade

    machine = StaticPodUpgrade(
        fs=ctx.fs,
        waiter=make_waiter(ctx, node_name),
        backup_dir=f"{TMP_DIR}/kubeadm-backup-manifests-{timestamp}",
        timeout=WAIT_TIMEOUT,
        log=ctx.log,
        clock=ctx.fx.waiter.clock.monotonic,
    )
    machine.run(swaps)


def swap_marked(
    ctx: AnyContext, node_name: str, timestamp: str, wanted: list[ManifestSwap], mark: str, prefix: str
) -> bool:
    """Swap the components of ``wanted`` whose manifest differs, after waiting for those an interrupted
    run swapped; False when every manifest was already the wanted one and nothing was waited for."""
    from kubeadm_py.phases.upgrade.control_plane import make_waiter
    from kubeadm_py.upgrade.staticpods import WaitError

    swaps = [s for s in wanted if not s.unchanged]
    resumed = [s for s in wanted if s.unchanged and ctx.fs.exists(mark_path(mark, s.component))]
    if not swaps and not resumed:
        return False
    waiter = make_waiter(ctx, node_name)
    for s in resumed:
        text = ctx.fs.read_bytes(mark_path(mark, s.component)) or b""
        old_hash = text.decode().strip() or None
        ctx.log(
            f"{prefix} An interrupted run swapped the manifest of {s.component}: "
            "waiting for the kubelet to run it"
        )
        try:
            waiter.wait_for_new_pod(s.component, old_hash, WAIT_TIMEOUT)
            waiter.wait_healthy(s.component, s.new, WAIT_TIMEOUT)
        except WaitError as e:
            raise KubeadmError(
                f"{s.component} does not run its new manifest {s.path}: {e}",
                hint=f"see 'crictl ps -a --name {s.component}' and the kubelet's log; then rerun the command",
            ) from None
        ctx.fs.remove(mark_path(mark, s.component))
    if not swaps:
        return True
    for s in swaps:  # before any manifest is written, as the machine records them
        ctx.fs.mkdir(TMP_DIR, 0o700)
        before = waiter.config_hash(s.component) or ""
        ctx.fs.write(
            mark_path(mark, s.component), f"{before}\n".encode(), CONFIG_MODE, detail="swap in progress"
        )
    swap_manifests(ctx, node_name, timestamp, swaps)
    for s in swaps:
        ctx.fs.remove(mark_path(mark, s.component))
    return True
