"""``upgrade apply|node phase kubelet-config``: write this node's kubelet configuration from the
cluster's ``kubelet-config`` ConfigMap (plus ``kubeletconfiguration`` patches), after backing up the
current ``/var/lib/kubelet/config.yaml`` to ``/etc/kubernetes/tmp/kubeadm-kubelet-config<suffix>/``.
The kubelet is not restarted (upstream: the user upgrades and restarts the kubelet package).

For a NodeLocalCRISocket target minor a node without /var/lib/kubelet/instance-config.yaml (set up by
an older kubeadm) gets one, with the ``--container-runtime-endpoint`` taken out of kubeadm-flags.env
(upstream ``phases/upgrade/postupgrade.go`` ``WriteKubeletConfigFiles``); config.yaml then gets the
socket from it."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from kubeadm_py.constants import KUBE_SYSTEM, KUBELET_CONFIG_FILE, TMP_DIR
from kubeadm_py.hostfs import PUBLIC_MODE
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.upgrade.state import UpgradeContext

FLAGS = ("config", "kubeconfig", "dry-run", "patches")


def cluster_kubelet_document(ctx: UpgradeContext) -> dict[str, Any] | None:
    import yaml

    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.versioned import kubelet_config_name

    try:
        cm = ctx.kube().get("ConfigMap", kubelet_config_name(ctx.cfg.kubernetes_version), KUBE_SYSTEM)
    except KubeadmError:
        return None
    text = ((cm or {}).get("data") or {}).get("kubelet")
    doc = yaml.safe_load(text) if text else None
    return doc if isinstance(doc, dict) else None


def run_kubelet_config(ctx: UpgradeContext) -> list[Change]:
    from kubeadm_py.manifests.pod import to_yaml
    from kubeadm_py.phases.shared.kubelet_start import kubelet_config_document

    path = f"{ctx.kubelet_dir}/{KUBELET_CONFIG_FILE}"
    ensure_instance_config(ctx)
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


def ensure_instance_config(ctx: UpgradeContext) -> None:
    """Write instance-config.yaml when the target minor uses it and the node has none, moving the CRI
    socket out of kubeadm-flags.env. Upstream reads the socket only from the flags file (the default
    socket in dry-run when the file is missing); kubeadm-py also falls back to the configured
    ``nodeRegistration.criSocket`` when the file has no endpoint flag (upstream would write "")."""
    from kubeadm_py.constants import KUBELET_FLAGS_ENV
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.kubelet.flags import (
        DEFAULT_CRI_SOCKET,
        cri_socket,
        flags_env_text,
        split_runtime_endpoint,
    )
    from kubeadm_py.phases.shared.kubelet_start import instance_config_path, write_instance_config
    from kubeadm_py.versions import release_for

    if not release_for(ctx.cfg.kubernetes_version).node_local_cri_socket:
        return
    if ctx.fs.exists(instance_config_path(ctx)):
        return
    env_path = f"{ctx.kubelet_dir}/{KUBELET_FLAGS_ENV}"
    default = flags_env_text([("container-runtime-endpoint", DEFAULT_CRI_SOCKET)])
    text, assumed = ctx.fs.read_or_assume(env_path, default)  # assumed: only a dry run
    if text is None:
        raise KubeadmError(
            f"error reading kubeadm flags file: {env_path} is missing",
            hint="this node was not set up by kubeadm(-py) kubelet-start",
        )
    endpoint, rest = split_runtime_endpoint(text)
    if assumed:
        ctx.log(
            f'[dryrun] would read the flag --container-runtime-endpoint value from "{KUBELET_FLAGS_ENV}", '
            f'which is missing. Using default socket "{DEFAULT_CRI_SOCKET}" instead'
        )
    elif endpoint:
        ctx.fs.write(env_path, flags_env_text(rest).encode(), PUBLIC_MODE)
    write_instance_config(ctx, endpoint or cri_socket(ctx.cfg))


def upgrade_kubelet_config_phase() -> Phase[UpgradeContext]:
    return Phase(
        "kubelet-config",
        "Upgrade the kubelet configuration for this node",
        run=run_kubelet_config,
        flags=FLAGS,
    )
