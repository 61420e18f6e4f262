"""``init phase kubelet-finalize enable-client-cert-rotation`` (called ``experimental-cert-rotation``
up to v1.30, e.g. in the 1.20 test bed's kubeadm): once the kubelet has its rotating client
certificate, point ``kubelet.conf``'s user at ``kubelet-client-current.pem`` and restart the kubelet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.init.state import InitContext

FLAGS = ("cert-dir", "config", "dry-run")
ALIASES = ("experimental-cert-rotation",)


def kubelet_pki_dir(ctx: InitContext) -> str:
    """``--cert-dir`` from ``nodeRegistration.kubeletExtraArgs`` if set, else <kubeletDir>/pki."""
    for arg in ctx.cfg.node_registration.get("kubeletExtraArgs") or []:
        if isinstance(arg, dict) and arg.get("name") == "cert-dir" and arg.get("value"):
            return str(arg["value"])
    return f"{ctx.kubelet_dir}/pki"


def run_cert_rotation(ctx: InitContext) -> list[Change]:
    from kubeadm_py.cluster.kubeconfigs import point_user_at_pem
    from kubeadm_py.constants import KUBELET_KUBECONFIG
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.hostfs import CONFIG_MODE
    from kubeadm_py.kubeconfig.build import kubeconfig_preferences

    pem = f"{kubelet_pki_dir(ctx).rstrip('/')}/kubelet-client-current.pem"
    if not ctx.fs.exists(pem):
        return [Change("note", "unchanged", pem, "absent: kubelet client certificate rotation is disabled")]
    path = f"{ctx.kubeconfig_dir.rstrip('/')}/{KUBELET_KUBECONFIG}"
    data = ctx.fs.read_bytes(path)
    if data is None:
        raise KubeadmError(f"{path} not found", hint="run the kubeconfig kubelet phase first")
    new = point_user_at_pem(data, pem, path, preferences=kubeconfig_preferences(ctx.cfg)).encode()
    ctx.log(
        f'[kubelet-finalize] Updating "{path}" to point to a rotatable kubelet client certificate and key'
    )
    change = ctx.fs.write(path, new, CONFIG_MODE, secret=True)
    if not change.changed or ctx.fs.rootfs is not None:
        return []
    from kubeadm_py.kubelet.service import restart_kubelet

    return [restart_kubelet(ctx.fx.services, ctx.fs, ctx.log)]


def kubelet_finalize_phase() -> Phase[InitContext]:
    return Phase(
        name="kubelet-finalize",
        help="Updates settings relevant to the kubelet after TLS bootstrap",
        children=(
            Phase(
                "enable-client-cert-rotation",
                "Enable kubelet client certificate rotation",
                run=run_cert_rotation,
                flags=FLAGS,
                aliases=ALIASES,
            ),
        ),
    )
