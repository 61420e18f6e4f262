"""The addons an upgrade redeploys (CoreDNS, kube-proxy) and when it leaves them alone (upstream
``phases/upgrade/postupgrade.go``): disabled in the configuration, removed from the cluster, or a
control plane node not yet on the new kube-apiserver."""

from __future__ import annotations

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.kube.client import KubeClient

ADDONS = {
    # addon (phase name) -> (ClusterConfiguration section, ConfigMap that must exist)
    "coredns": ("dns", "coredns"),
    "kube-proxy": ("proxy", "kube-proxy"),
}


def unupgraded_control_planes(client: KubeClient, cfg: KubeadmConfig) -> list[str]:
    """kube-apiserver mirror Pods not yet running the target image (upstream ``isControlPlaneUpgraded``)."""
    from kubeadm_py.manifests.images import kubernetes_image

    want = kubernetes_image("kube-apiserver", cfg)
    try:
        pods = client.list("Pod", KUBE_SYSTEM, label_selector="component=kube-apiserver")
    except KubeadmError:
        return []
    out = []
    for p in pods:
        images = [c.get("image") for c in (p.get("spec") or {}).get("containers") or []]
        if want not in images:
            out.append(str((p.get("spec") or {}).get("nodeName") or (p.get("metadata") or {}).get("name")))
    return out


def skip_reason(client: KubeClient, cfg: KubeadmConfig, name: str) -> str | None:
    """Why the addon ``name`` is not redeployed (None: it is)."""
    section, cm = ADDONS[name]
    if (cfg.cluster.get(section) or {}).get("disabled"):
        return f"{section}.disabled is set in the ClusterConfiguration"
    if client.get("ConfigMap", cm, KUBE_SYSTEM) is None:
        return f"the ConfigMap {KUBE_SYSTEM}/{cm} does not exist (the addon was not installed or was removed)"
    pending = unupgraded_control_planes(client, cfg)
    if pending:
        return f"control plane nodes {', '.join(pending)} do not run the new kube-apiserver yet"
    return None
