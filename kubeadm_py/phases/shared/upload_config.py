"""``init phase upload-config [kubeadm|kubelet]``: store the ClusterConfiguration and the cluster's
KubeletConfiguration in ConfigMaps, with the RBAC that lets joining nodes read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG, api_timeout
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.phases.context import AnyContext

FLAGS = ("config", "kubeconfig", "dry-run")


def run_upload_kubeadm(ctx: AnyContext) -> None:
    from kubeadm_py.cluster.uploadconfig import kubeadm_config_objects

    ctx.log(
        '[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" '
        'in the "kube-system" Namespace'
    )
    client = ctx.kube()
    cm, role, binding = kubeadm_config_objects(ctx.cfg.cluster)
    # CreateOrMutate: only the ClusterConfiguration key is replaced
    client.apply(cm, merge=True, detail=f"ClusterConfiguration at {ctx.cfg.kubernetes_version}")
    client.apply(role)
    client.apply(binding)


def upload_kubelet_configmap(ctx: AnyContext) -> None:
    """The cluster-wide KubeletConfiguration ConfigMap and its RBAC (init and upgrade)."""
    from kubeadm_py.cluster.uploadconfig import kubelet_config_objects, kubelet_configuration
    from kubeadm_py.versioned import kubelet_config_name

    version = ctx.cfg.kubernetes_version
    name = kubelet_config_name(version)
    ctx.log(
        f'[kubelet] Creating a ConfigMap "{name}" in namespace kube-system with the configuration '
        "for the kubelets in the cluster"
    )
    from kubeadm_py.kubelet.service import systemd_resolved_active

    kubelet, user_supplied = kubelet_configuration(
        ctx.cfg,
        systemd_resolved=systemd_resolved_active(ctx.fx.services),
        warn=lambda m: ctx.log(f"[kubelet] WARNING: {m}"),
    )
    client = ctx.kube()
    for obj in kubelet_config_objects(kubelet, version, user_supplied=user_supplied):
        client.apply(obj)


def run_upload_kubelet(ctx: AnyContext) -> None:
    from kubeadm_py.cluster.uploadconfig import CRI_SOCKET_ANNOTATION
    from kubeadm_py.versioned import profile_for

    upload_kubelet_configmap(ctx)
    client = ctx.kube()
    version = ctx.cfg.kubernetes_version
    cri = str(ctx.cfg.node_registration.get("criSocket") or "")
    node = ctx.cfg.node_name
    if profile_for(version).annotate_cri_socket and cri and node:
        ctx.log("[upload-config] Preserving the CRISocket information for the control-plane node")
        ctx.log(
            f'[patchnode] Uploading the CRI Socket information "{cri}" to the Node API object "{node}" '
            "as an annotation"
        )

        def annotate(n: dict[str, Any]) -> None:
            n["metadata"]["annotations"][CRI_SOCKET_ANNOTATION] = cri

        client.patch_node(node, annotate, wait=api_timeout(ctx))


def upload_config_phase(
    help_text: str = "Upload the kubeadm and kubelet configuration to a ConfigMap",
    *,
    kubelet: Callable[[AnyContext], None] = run_upload_kubelet,
    provides: bool = True,
) -> Phase[AnyContext]:
    """init's upload-config; upgrade's has its own help, uploads the kubelet ConfigMap without
    annotating the Node (``kubelet=upload_kubelet_configmap``) and provides nothing."""
    return Phase(
        name="upload-config",
        help=help_text,
        children=(
            Phase(
                "kubeadm",
                'Upload the kubeadm ClusterConfiguration to the "kubeadm-config" ConfigMap',
                run=run_upload_kubeadm,
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
                provides=("upload-config/kubeadm",) if provides else (),
            ),
            Phase(
                "kubelet",
                'Upload the kubelet configuration to the "kubelet-config" ConfigMap',
                run=kubelet,
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
                provides=("upload-config/kubelet",) if provides else (),
            ),
        ),
    )
