"""Checks of a run's inputs that a phase would otherwise fail on halfway, after earlier phases
wrote to the node: the workflows list them (``Workflow.validate``) and the API runs them when the
run's context is built, before any phase. Each calls the code the phase itself uses, so a check
and the phase can't disagree (a patch set loaded here is the one the phases apply)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeadm_py.phases.context import AnyContext


def pki_settings(ctx: AnyContext) -> None:
    """Certificate validity periods and the key algorithm (``pki.manager.settings``)."""
    from kubeadm_py.pki import manager

    manager.settings(ctx.cfg)


def patch_files(ctx: AnyContext) -> None:
    """``--patches`` / ``patches.directory``: the directory exists, every file parses and names a
    known target. Loaded into the run's cache, which the phases read."""
    from kubeadm_py.phases.shared.kit import run_patches

    run_patches(ctx)


def component_files(ctx: AnyContext) -> None:
    """File-path flags in the control-plane components' ``extraArgs`` name files their containers
    can see and that exist on the node (:mod:`kubeadm_py.manifests.filecheck`), judged on the static
    Pods the control-plane phase would write: same builder, patches applied."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.manifests.controlplane import build_control_plane, extra_args
    from kubeadm_py.manifests.filecheck import FILE_FLAGS, file_flag_errors
    from kubeadm_py.phases.shared.kit import run_patches

    c = ctx.cfg.cluster
    wanted = tuple(comp for comp in FILE_FLAGS if any(n in FILE_FLAGS[comp] for n, _ in extra_args(c, comp)))
    if not wanted:
        return
    pods = build_control_plane(ctx.cfg, ctx.fs, wanted).pods
    patches = run_patches(ctx)
    cert_dir = ctx.cert_dir.rstrip("/") + "/"
    kubeconfigs = ctx.kubeconfig_dir.rstrip("/") + "/"

    def kubeadm_writes(path: str) -> bool:
        return path.startswith(cert_dir) or (path.startswith(kubeconfigs) and path.endswith(".conf"))

    errors: list[str] = []
    for comp in wanted:
        pod = patches.apply(comp, pods[comp]) if patches is not None else pods[comp]
        names = [n for n, _ in extra_args(c, comp)]
        errors += file_flag_errors(comp, pod, names, ctx.fs.exists, kubeadm_writes)
    if errors:
        raise KubeadmError(
            "; ".join(errors), hint="the component would exit at start; nothing was changed on this node"
        )
