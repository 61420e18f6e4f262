"""Small pieces the phases of every workflow share: requirements, the API timeout, the patch set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.workflow.phase import Requirement

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kubeadm_py.effectors.watch import ComponentWatch
    from kubeadm_py.patches import PatchSet
    from kubeadm_py.phases.context import AnyContext


def _admin_present(ctx: AnyContext) -> bool:
    return bool(ctx.fs.exists(ctx.admin_kubeconfig))


ADMIN_KUBECONFIG: Requirement[AnyContext] = Requirement(
    "kubeconfig/admin",
    "the admin kubeconfig (/etc/kubernetes/admin.conf, or --kubeconfig) to talk to the API server",
    present=_admin_present,
)


def api_timeout(ctx: AnyContext) -> float:
    """timeouts.kubernetesAPICall, capped by the run's waiter."""
    return ctx.fx.waiter.timeout(ctx.cfg.timeout("kubernetesAPICall"))


def run_patches(ctx: AnyContext) -> PatchSet | None:
    """The run's patch set (``--patches`` or the configuration's ``patches.directory``), read once."""
    from kubeadm_py.patches import load_patches_for, patches_directory

    directory = patches_directory(ctx.cfg, ctx.options.patches)
    return load_patches_for(ctx.fs, directory, ctx.state.patchsets, ctx.log)


def component_watch(ctx: AnyContext, components: Sequence[str], since: float = 0.0) -> ComponentWatch:
    """A watch of ``components``' containers through the run's CRI effector (the node's CRI
    socket, under ``--rootfs``) and of the kubelet (its process, else its /healthz) through the
    probe, for a wait
    (:mod:`kubeadm_py.effectors.watch`); close it after the wait."""
    from kubeadm_py.effectors.cri import endpoint_under
    from kubeadm_py.effectors.watch import ComponentWatch
    from kubeadm_py.host.cri import log_tail
    from kubeadm_py.host.health import http_check
    from kubeadm_py.kubelet.flags import cri_socket
    from kubeadm_py.phases.shared.wait_control_plane import kubelet_url
    from kubeadm_py.upgrade.config import read_manifest

    endpoint = endpoint_under(ctx.fs, cri_socket(ctx.cfg))
    healthz = kubelet_url(ctx)

    def kubelet_running() -> bool:
        # A kubelet outside this PID namespace (kubeadm-py in a container, --rootfs) still answers.
        return ctx.fx.probe.process_running("kubelet") or http_check(healthz, timeout=2.0)[0]

    def image_of(component: str) -> str | None:
        # The image of the manifest on the node now (an upgrade's new one), as the kubelet reads it.
        pod = read_manifest(ctx.fs, f"{ctx.manifests_dir}/{component}.yaml") or {}
        containers = (pod.get("spec") or {}).get("containers") or [{}]
        image = containers[0].get("image") if isinstance(containers[0], dict) else None
        return str(image) if image else None

    return ComponentWatch(
        runtime=lambda: ctx.fx.cri(endpoint),
        components=list(components),
        kubelet_running=kubelet_running,
        since=since,
        log_tail=lambda path, lines: log_tail(str(ctx.fs.real_path(path)), lines),
        image_of=image_of,
    )
