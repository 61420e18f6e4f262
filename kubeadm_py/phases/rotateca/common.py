"""Helpers every ``certs rotate-ca`` phase uses: paths, the run's API client, idempotent writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBELET_KUBECONFIG
from kubeadm_py.hostfs import CERT_MODE, KEY_MODE

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.rotateca.state import RotateCAContext

PREFIX = "[rotate-ca]"
# In the kubelet's directory while a file the running kubelet read at start (its clientCAFile, client
# certificate, config.yaml) has changed and the kubelet has not been restarted since: a run killed
# between the write and the restart leaves it, and the rerun restarts the kubelet for it.
RESTART_MARK = "kubeadm-py-ca-rotation-restart"


def pki_path(ctx: RotateCAContext, name: str) -> str:
    return f"{ctx.cert_dir.rstrip('/')}/{name}"


def kubelet_conf(ctx: RotateCAContext) -> str:
    return f"{ctx.kubeconfig_dir.rstrip('/')}/{KUBELET_KUBECONFIG}"


def rotation_of(ctx: RotateCAContext) -> Rotation | None:
    return ctx.state.rotation


def run_client(ctx: RotateCAContext) -> KubeClient:
    if ctx.state.client is None:
        if ctx.state.control_plane:
            ctx.state.client = ctx.kube()
        else:
            ctx.state.client = ctx.fx.api.from_kubeconfig(kubelet_conf(ctx))
    return ctx.state.client


def write_if_changed(ctx: RotateCAContext, path: str, data: bytes, mode: int, detail: str) -> list[Change]:
    if ctx.fs.read_bytes(path) == data:
        return []
    return [ctx.fs.write(path, data, mode, secret=mode == KEY_MODE, detail=detail)]


def restart_mark(ctx: RotateCAContext) -> str:
    return f"{ctx.kubelet_dir.rstrip('/')}/{RESTART_MARK}"


def mark_kubelet_restart(ctx: RotateCAContext, why: str) -> list[Change]:
    """Before writing a file the kubelet reads at start: the kubelet phase restarts it while the mark
    is there and removes the mark once it runs again (so a kill in between is not forgotten)."""
    mark = restart_mark(ctx)
    if ctx.fs.exists(mark):
        return []
    return [ctx.fs.write(mark, f"{why}\n".encode(), CERT_MODE, detail="the kubelet must restart")]
