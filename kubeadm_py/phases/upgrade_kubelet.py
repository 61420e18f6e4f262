"""``upgrade apply|node phase kubelet-config``: write this node's kubelet configuration from the
cluster's ``kubelet-config`` ConfigMap (plus ``kubeletconfiguration`` patches), after backing up the
current ``/var/lib/kubelet/config.yaml`` to ``/etc/kubernetes/tmp/kubeadm-kubelet-config<suffix>/``.
The kubelet is not restarted (upstream: the user upgrades and restarts the kubelet package)."""

from __future__ import annotations

import secrets
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_SYSTEM, KUBELET_CONFIG_FILE, TMP_DIR
from kubeadm_py.hostfs import PUBLIC_MODE
from kubeadm_py.workflow.phase import Phase

FLAGS = ("config", "kubeconfig", "dry-run", "patches")


def cluster_kubelet_document(ctx: Any) -> dict[str, Any] | None:
    import yaml

    from kubeadm_py.cluster.versioned import kubelet_config_name
    from kubeadm_py.errors import KubeadmError

    try:
        cm = ctx.kube().get("ConfigMap", kubelet_config_name(ctx.cfg.kubernetes_version), KUBE_SYSTEM)
    except KubeadmError:
        return None
    text = ((cm or {}).get("data") or {}).get("kubelet")
    doc = yaml.safe_load(text) if text else None
    return doc if isinstance(doc, dict) else None


def run_kubelet_config(ctx: Any) -> list[Change]:
    from kubeadm_py.manifests.pod import to_yaml
    from kubeadm_py.phases.kubelet_start import kubelet_config_document

    path = f"{ctx.kubelet_dir}/{KUBELET_CONFIG_FILE}"
    base = cluster_kubelet_document(ctx)
    if base is None:
        ctx.log(
            "[upgrade/kubelet-config] No kubelet-config ConfigMap found: "
            "using the kubelet defaults kubeadm-py generates"
        )
    new = to_yaml(kubelet_config_document(ctx, base)).encode()
    old = ctx.fs.read_bytes(path)
    if old == new:
        ctx.log(f"[upgrade/kubelet-config] {path} is already up to date")
        return []
    if old is not None:
        backup_dir = f"{TMP_DIR}/kubeadm-kubelet-config{secrets.randbelow(10**9):09d}"
        ctx.fs.mkdir(TMP_DIR, 0o700)
        ctx.fs.mkdir(backup_dir, 0o700)
        ctx.fs.write(f"{backup_dir}/{KUBELET_CONFIG_FILE}", old, PUBLIC_MODE, detail=f"backup of {path}")
        ctx.log(f"[upgrade] Backing up kubelet config file to {backup_dir}/{KUBELET_CONFIG_FILE}")
    ctx.fs.mkdir(ctx.kubelet_dir, 0o700)
    ctx.log(f'[kubelet-start] Writing kubelet configuration to file "{path}"')
    ctx.fs.write(path, new, PUBLIC_MODE)
    return []  # files written through ctx.fs are collected by the runner


def kubelet_config_phase() -> Phase:
    return Phase(
        "kubelet-config",
        "Upgrade the kubelet configuration for this node",
        run=run_kubelet_config,
        flags=FLAGS,
    )
