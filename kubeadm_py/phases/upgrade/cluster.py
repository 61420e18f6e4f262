"""The cluster-side phases of ``upgrade apply`` / ``upgrade node``: upload-config, bootstrap-token,
addon and post-upgrade (upstream ``cmd/phases/upgrade/apply`` and ``phases/upgrade/postupgrade.go``)."""

from __future__ import annotations

from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG
from kubeadm_py.phases.shared.upload_config import run_upload_kubeadm
from kubeadm_py.phases.shared.upload_config import upload_kubelet_configmap as run_upload_kubelet
from kubeadm_py.workflow.phase import Phase

FLAGS = ("config", "kubeconfig", "dry-run")


# --- upload-config ---------------------------------------------------------------------------------


def upload_config_phase() -> Phase:
    return Phase(
        "upload-config",
        "Upload the kubeadm and kubelet configurations to ConfigMaps",
        children=(
            Phase(
                "kubeadm",
                'Upload the kubeadm ClusterConfiguration to the "kubeadm-config" ConfigMap',
                run=run_upload_kubeadm,
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
            ),
            Phase(
                "kubelet",
                'Upload the kubelet configuration to the "kubelet-config" ConfigMap',
                run=run_upload_kubelet,
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
            ),
        ),
    )


# --- bootstrap-token -------------------------------------------------------------------------------


def run_bootstrap_token(ctx: Any) -> None:
    """Re-ensure the RBAC rules that let nodes join and rotate certificates, and cluster-info's RBAC
    (no token is created or changed)."""
    from kubeadm_py.cluster import bootstraptoken as bt

    client = ctx.kube()
    for message, objs in bt.node_rbac(ctx.cfg.kubernetes_version):
        for obj in objs:
            client.apply(obj)
        if message:
            ctx.log(f"[bootstrap-token] {message}")
    for obj in bt.cluster_info_rbac():
        client.apply(obj)


def bootstrap_token_phase() -> Phase:
    return Phase(
        "bootstrap-token",
        "Configures bootstrap token and cluster-info RBAC rules",
        run=run_bootstrap_token,
        flags=FLAGS,
        requires=(ADMIN_KUBECONFIG,),
    )


# --- addon ---------------------------------------------------------------------------------------

ADDONS = {
    # phase name -> (config section, ConfigMap that must exist, object label)
    "coredns": ("dns", "coredns"),
    "kube-proxy": ("proxy", "kube-proxy"),
}


def unupgraded_control_planes(ctx: Any) -> list[str]:
    """kube-apiserver mirror Pods not yet running the target image (upstream ``isControlPlaneUpgraded``)."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.manifests.images import kubernetes_image

    want = kubernetes_image("kube-apiserver", ctx.cfg)
    try:
        pods = ctx.kube().list("Pod", KUBE_SYSTEM, label_selector="component=kube-apiserver")
    except KubeadmError:
        return []
    out = []
    for p in pods:
        images = [c.get("image") for c in (p.get("spec") or {}).get("containers") or []]
        if want not in images:
            out.append(str((p.get("spec") or {}).get("nodeName") or (p.get("metadata") or {}).get("name")))
    return out


def addon_skip_reason(ctx: Any, name: str) -> str | None:
    section, cm = ADDONS[name]
    if (ctx.cfg.cluster.get(section) or {}).get("disabled"):
        return f"{section}.disabled is set in the ClusterConfiguration"
    if ctx.kube().get("ConfigMap", cm, KUBE_SYSTEM) is None:
        return f"the ConfigMap {KUBE_SYSTEM}/{cm} does not exist (the addon was not installed or was removed)"
    pending = unupgraded_control_planes(ctx)
    if pending:
        return f"control plane nodes {', '.join(pending)} do not run the new kube-apiserver yet"
    return None


def _addon_runner(name: str) -> Any:
    def run(ctx: Any) -> list[Change]:
        from kubeadm_py.phases.shared.addons import run_coredns, run_kube_proxy

        reason = addon_skip_reason(ctx, name)
        if reason:
            ctx.log(f"[upgrade/addon] Skipping the addon {name}: {reason}")
            return [Change("note", "unchanged", f"addon {name}", f"skipped: {reason}")]
        (run_coredns if name == "coredns" else run_kube_proxy)(ctx)
        return []

    return run


def addon_phase() -> Phase:
    return Phase(
        "addon",
        "Upgrade the default kubeadm addons (skipped when disabled or removed)",
        children=tuple(
            Phase(
                name,
                f"Upgrade the {name} addon",
                run=_addon_runner(name),
                flags=FLAGS,
                requires=(ADMIN_KUBECONFIG,),
            )
            for name in ADDONS
        ),
    )


# --- post-upgrade ----------------------------------------------------------------------------------


def run_post_upgrade(ctx: Any) -> list[Change]:
    from kubeadm_py.phases.shared.kit import outputs
    from kubeadm_py.phases.upgrade.prepare import facts

    f = facts(ctx)
    outputs(ctx, version=f.target, previous_version=f.cluster_version)
    messages = []
    if f.section == "node":
        messages.append("[upgrade] The upgrade for this node was successfully completed.")
    else:
        messages.append(
            f'[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{f.target}".'
        )
        messages.append(
            "[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order."
        )
    messages.append(
        "[upgrade] The kubelet was not restarted: upgrade the kubelet package on this node and restart it "
        "('systemctl restart kubelet')."
    )
    ctx.state.setdefault("outputs", {}).setdefault("messages", []).extend(messages)
    return []


def post_upgrade_phase() -> Phase:
    return Phase("post-upgrade", "Run post upgrade tasks", run=run_post_upgrade, flags=FLAGS)
