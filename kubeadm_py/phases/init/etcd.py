"""``init phase etcd local``: the local etcd static Pod manifest (cmd/phases/init/etcd.go)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.shared.kit import run_patches
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.init.state import InitContext

FLAGS = ("config", "dry-run", "image-repository", "patches", "kubernetes-version", "rootfs")


def run_etcd_local(ctx: InitContext) -> list[Change]:
    from kubeadm_py.manifests.etcd import build_etcd, etcd_data_dir
    from kubeadm_py.manifests.write import write_static_pod

    cfg = ctx.cfg
    if not cfg.local_etcd:
        ctx.log("[etcd] External etcd mode: Skipping the creation of a manifest for local etcd")
        return []
    result = build_etcd(cfg)
    for w in result.warnings:
        ctx.log(f"[etcd] WARNING: {w}")
    changes = [ctx.fs.mkdir(etcd_data_dir(cfg), 0o700)]
    ctx.log(f'[etcd] Creating static Pod manifest for local etcd in "{ctx.manifests_dir}"')
    changes.append(
        write_static_pod(ctx.fs, ctx.manifests_dir, "etcd", result.pods["etcd"], run_patches(ctx), ctx.log)
    )
    return changes


def etcd_phase() -> Phase[InitContext]:
    local = Phase(
        "local",
        "Generate the static Pod manifest file for a local, single-node local etcd instance",
        run=run_etcd_local,
        flags=FLAGS,
        provides=("manifest-etcd",),
    )
    return Phase(
        "etcd", "Generate static Pod manifest file for local etcd", children=(local,), all_command=False
    )
