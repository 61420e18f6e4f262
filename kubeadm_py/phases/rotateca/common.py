"""Helpers every ``certs rotate-ca`` phase uses: paths, the run's API client, idempotent writes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBELET_KUBECONFIG
from kubeadm_py.hostfs import KEY_MODE

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.rotateca.state import RotateCAContext

PREFIX = "[rotate-ca]"


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
