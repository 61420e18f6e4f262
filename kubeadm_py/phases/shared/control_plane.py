"""``init phase control-plane apiserver|controller-manager|scheduler|all`` (cmd/phases/init/controlplane.go)."""  # noqa: E501

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.shared.kit import run_patches
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext

COMMON_FLAGS = (
    "cert-dir",
    "config",
    "kubernetes-version",
    "image-repository",
    "patches",
    "dry-run",
    "rootfs",
)
FLAGS = {
    "kube-apiserver": (
        *COMMON_FLAGS,
        "apiserver-advertise-address",
        "apiserver-bind-port",
        "control-plane-endpoint",
        "feature-gates",
        "service-cidr",
    ),
    "kube-controller-manager": (*COMMON_FLAGS, "pod-network-cidr"),
    "kube-scheduler": COMMON_FLAGS,
}
PHASE_NAMES = {
    "kube-apiserver": "apiserver",
    "kube-controller-manager": "controller-manager",
    "kube-scheduler": "scheduler",
}
HELP = {
    "kube-apiserver": "Generates the kube-apiserver static Pod manifest",
    "kube-controller-manager": "Generates the kube-controller-manager static Pod manifest",
    "kube-scheduler": "Generates the kube-scheduler static Pod manifest",
}


def write_control_plane(ctx: AnyContext, components: tuple[str, ...]) -> list[Change]:
    # Imported here: the manifest builders (yaml, patches) are not needed to build the phase tree.
    from kubeadm_py.manifests.controlplane import build_control_plane
    from kubeadm_py.manifests.write import write_static_pod

    result = build_control_plane(ctx.cfg, ctx.fs, components)
    for w in result.warnings:
        ctx.log(f"[control-plane] WARNING: {w}")
    changes: list[Change] = []
    for comp in components:
        ctx.log(f'[control-plane] Creating static Pod manifest for "{comp}"')
        changes.append(
            write_static_pod(ctx.fs, ctx.manifests_dir, comp, result.pods[comp], run_patches(ctx), ctx.log)
        )
    return changes


def _runner(component: str) -> Callable[[AnyContext], list[Change]]:
    def run(ctx: AnyContext) -> list[Change]:
        return write_control_plane(ctx, (component,))

    run.__name__ = f"run_{PHASE_NAMES[component].replace('-', '_')}"
    return run


def _announce(ctx: AnyContext) -> list[Change]:
    ctx.log(f'[control-plane] Using manifest folder "{ctx.manifests_dir}"')
    return []


def control_plane_phase() -> Phase[AnyContext]:
    children = tuple(
        Phase(PHASE_NAMES[c], HELP[c], run=_runner(c), flags=FLAGS[c], provides=(f"manifest-{c}",))
        for c in FLAGS
    )
    return Phase(
        "control-plane",
        "Generate all static Pod manifest files necessary to establish the control plane",
        run=_announce,
        children=children,
    )
