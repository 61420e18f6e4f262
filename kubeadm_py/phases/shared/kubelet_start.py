"""``init phase kubelet-start``: write the kubelet's kubeadm-flags.env, instance-config.yaml (minors
with NodeLocalCRISocket) and config.yaml, then (re)start the kubelet (cmd/phases/init/kubelet.go,
phases/kubelet/{config,flags,kubelet}.go).

NodeLocalCRISocket (``MinorRelease.node_local_cri_socket``, kubeadm 1.34+): the CRI socket is not a
kubelet flag any more; ``WriteInstanceConfigToDisk`` writes ``containerRuntimeEndpoint: "<socket>"``
to /var/lib/kubelet/instance-config.yaml and ``WriteConfigToDisk`` applies that file as a strategic
merge patch over config.yaml after the user's ``kubeletconfiguration`` patches.

The writer functions are reusable by join (``register_taints=True`` for worker nodes) and upgrade."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.constants import KUBELET_CONFIG_FILE, KUBELET_FLAGS_ENV, KUBELET_INSTANCE_CONFIG
from kubeadm_py.hostfs import PUBLIC_MODE
from kubeadm_py.phases.shared.kit import run_patches
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext

# The kubelet helpers (yaml, patches) are imported where they are used: building the
# phase tree for any kubeadm-py command imports this module.

FLAGS = ("config", "cri-socket", "node-name", "patches", "dry-run", "rootfs")


def kubelet_config_document(ctx: AnyContext, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The KubeletConfiguration for this node: ``base`` (e.g. from the kubelet-config ConfigMap on join)
    or the cluster defaults, with ``kubeletconfiguration`` patches applied."""
    from kubeadm_py.kubelet.config import cluster_kubelet_config
    from kubeadm_py.kubelet.service import systemd_resolved_active

    doc = (
        base
        if base is not None
        else cluster_kubelet_config(
            ctx.cfg,
            systemd_resolved=systemd_resolved_active(ctx.fx.services),
            warn=lambda m: ctx.log(f"[kubelet-start] WARNING: {m}"),
        )
    )
    patches = run_patches(ctx)
    if patches is not None:
        doc = patches.apply("kubeletconfiguration", doc, ctx.log)
    return apply_instance_config(ctx, doc)


def instance_config_path(ctx: AnyContext) -> str:
    return f"{ctx.kubelet_dir}/{KUBELET_INSTANCE_CONFIG}"


def apply_instance_config(ctx: AnyContext, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with instance-config.yaml (read from disk, as upstream) applied as a strategic merge
    patch, for NodeLocalCRISocket minors; ``doc`` unchanged otherwise."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.patches import PatchFile, PatchSet
    from kubeadm_py.versions import release_for

    if not release_for(ctx.cfg.kubernetes_version).node_local_cri_socket:
        return doc
    import yaml

    path = instance_config_path(ctx)
    raw = ctx.fs.read_bytes(path)
    if raw is None:
        raise KubeadmError(
            f'could not apply kubelet instance configuration as a patch from "{path}": the file is missing',
            hint="run the kubelet-start phase (init/join) or upgrade's kubelet-config phase to write it",
        )
    try:
        patch = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise KubeadmError(f"{path}: invalid YAML: {e}") from None
    if patch is None:
        return doc
    if not isinstance(patch, dict):
        raise KubeadmError(f"{path}: expected a KubeletConfiguration mapping")
    ps = PatchSet(directory="", files=[PatchFile(path, "kubeletconfiguration", "strategic", [patch])])
    return dict(ps.apply("kubeletconfiguration", doc, ctx.log))


def write_instance_config(ctx: AnyContext, endpoint: str | None = None) -> Change | None:
    """instance-config.yaml with this node's CRI socket (or ``endpoint``); None (nothing written) for
    minors without NodeLocalCRISocket."""
    from kubeadm_py.kubelet.flags import instance_config, instance_config_text

    text = instance_config(ctx.cfg) if endpoint is None else instance_config_text(endpoint)
    if text is None:
        return None
    path = instance_config_path(ctx)
    ctx.log(f'[kubelet-start] Writing kubelet configuration to file "{path}"')
    ctx.fs.mkdir(ctx.kubelet_dir, 0o700)
    return ctx.fs.write(path, text.encode(), PUBLIC_MODE)


def write_kubelet_config(ctx: AnyContext, base: dict[str, Any] | None = None) -> Change:
    from kubeadm_py.manifests.pod import to_yaml

    path = f"{ctx.kubelet_dir}/{KUBELET_CONFIG_FILE}"
    ctx.log(f'[kubelet-start] Writing kubelet configuration to file "{path}"')
    ctx.fs.mkdir(ctx.kubelet_dir, 0o700)
    return ctx.fs.write(path, to_yaml(kubelet_config_document(ctx, base)).encode(), PUBLIC_MODE)


def write_kubelet_flags(ctx: AnyContext, register_taints: bool = False) -> Change:
    from kubeadm_py.kubelet.flags import kubeadm_flags_env

    path = f"{ctx.kubelet_dir}/{KUBELET_FLAGS_ENV}"
    ctx.log(f'[kubelet-start] Writing kubelet environment file with flags to file "{path}"')
    ctx.fs.mkdir(ctx.kubelet_dir, 0o700)
    return ctx.fs.write(
        path, kubeadm_flags_env(ctx.cfg, register_taints=register_taints).encode(), PUBLIC_MODE
    )


def write_kubelet_files(
    ctx: AnyContext, register_taints: bool = False, base: dict[str, Any] | None = None
) -> list[Change]:
    """kubeadm-flags.env, instance-config.yaml (NodeLocalCRISocket minors) and config.yaml, in
    upstream's order: config.yaml applies the instance file, so it comes last (init and join)."""
    changes = [write_kubelet_flags(ctx, register_taints=register_taints)]
    instance = write_instance_config(ctx)
    if instance is not None:
        changes.append(instance)
    changes.append(write_kubelet_config(ctx, base))
    return changes


def run_kubelet_start(ctx: AnyContext) -> list[Change]:
    from kubeadm_py.kubelet.service import restart_kubelet, stop_kubelet

    # Stop first so the kubelet does not crash-loop on half-written files (TryStopKubelet).
    stopped = stop_kubelet(ctx.fx.services, ctx.log)
    changes = ([stopped] if stopped is not None else []) + write_kubelet_files(ctx)
    changes.append(restart_kubelet(ctx.fx.services, ctx.fs, ctx.log))
    return changes


def kubelet_start_phase() -> Phase[AnyContext]:
    return Phase(
        "kubelet-start",
        "Write kubelet settings and (re)start the kubelet",
        run=run_kubelet_start,
        flags=FLAGS,
        provides=("kubelet-config",),
    )
