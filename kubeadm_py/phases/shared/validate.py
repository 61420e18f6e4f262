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
    can see and that exist on the node, and typed hostPath volumes find their kind of path
    (:mod:`kubeadm_py.manifests.filecheck`), judged on the static Pods the control-plane phase would
    write: same builder, patches applied."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.manifests.controlplane import CONFIG_KEYS, build_control_plane, extra_args
    from kubeadm_py.manifests.filecheck import FILE_FLAGS, file_flag_errors, host_path_type_errors
    from kubeadm_py.phases.shared.kit import run_patches

    c = ctx.cfg.cluster
    patches = run_patches(ctx)

    def user_given(comp: str) -> bool:  # flags to check, volumes a user added (or a patch may add)
        volumes = (c.get(CONFIG_KEYS[comp]) or {}).get("extraVolumes")
        return (
            patches is not None or bool(volumes) or any(n in FILE_FLAGS[comp] for n, _ in extra_args(c, comp))
        )

    wanted = tuple(comp for comp in FILE_FLAGS if user_given(comp))
    if not wanted:
        return
    pods = build_control_plane(ctx.cfg, ctx.fs, wanted).pods
    cert_dir = ctx.cert_dir.rstrip("/") + "/"
    kubeconfigs = ctx.kubeconfig_dir.rstrip("/") + "/"

    def kubeadm_writes(path: str) -> bool:
        return path.startswith(cert_dir) or (path.startswith(kubeconfigs) and path.endswith(".conf"))

    errors: list[str] = []
    for comp in wanted:
        pod = patches.apply(comp, pods[comp]) if patches is not None else pods[comp]
        names = [n for n, _ in extra_args(c, comp)]
        errors += file_flag_errors(comp, pod, names, ctx.fs.exists, kubeadm_writes)
        errors += host_path_type_errors(comp, pod, ctx.fs.kind, kubeadm_writes)
    if errors:
        raise KubeadmError(
            "; ".join(errors),
            hint="the component would not start; nothing was changed on this node",
        )


def extra_arg_names(ctx: AnyContext) -> None:
    """Every ``extraArgs`` name of the static Pod components (and ``kubeletExtraArgs`` name of
    this node's kubelet) is a flag the component has at the run's minor, where kubeadm-py has
    that minor's complete flag table (:func:`kubeadm_py.manifests.known_flags.unknown_flag_errors`);
    elsewhere the builder warns.
    ``--ignore-preflight-errors=UnknownExtraArgs`` (or ``all``, or the configuration's
    ``nodeRegistration.ignorePreflightErrors``) skips it, for flags of a patched build."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.manifests.args import args_from_config
    from kubeadm_py.manifests.controlplane import extra_args
    from kubeadm_py.manifests.known_flags import IGNORE_NAME, unknown_flag_errors
    from kubeadm_py.preflight import config_ignore_list
    from kubeadm_py.preflight.checks import ignore_set
    from kubeadm_py.versions import release_for

    ignore = ignore_set(ctx.options.ignore_preflight_errors, config_ignore_list(ctx.cfg, "init"))
    if IGNORE_NAME.lower() in ignore or "all" in ignore:
        return
    minor = release_for(ctx.cfg.kubernetes_version).minor
    comps = ("etcd",) * ctx.cfg.local_etcd + ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    errors: list[str] = []
    for comp in comps:
        names = list(dict.fromkeys(n for n, _ in extra_args(ctx.cfg.cluster, comp)))
        errors += unknown_flag_errors(comp, names, minor)
    nr = ctx.cfg.node_registration
    kubelet = args_from_config(nr.get("kubeletExtraArgs"), "nodeRegistration.kubeletExtraArgs")
    errors += unknown_flag_errors("kubelet", list(dict.fromkeys(n for n, _ in kubelet)), minor)
    if errors:
        raise KubeadmError(
            "; ".join(errors),
            hint=f"nothing was changed on this node; for a flag of a patched build, "
            f"--ignore-preflight-errors={IGNORE_NAME}",
        )


def patch_targets(ctx: AnyContext) -> None:
    """Every patch applies to what its target will be: a JSON patch op on a missing path fails
    here, naming the file, not halfway through the run. For workflows whose configuration is
    complete before the first phase (init; join and upgrade learn the cluster's later)."""
    from kubeadm_py.phases.shared.kit import run_patches

    patches = run_patches(ctx)
    if patches is None:
        return
    for target in dict.fromkeys(f.target for f in patches.files):
        doc = _patch_target(ctx, target)
        if doc is not None:
            patches.apply(target, doc)  # raises the phase's own error, naming the patch file


def _patch_target(ctx: AnyContext, target: str) -> object | None:
    """The document a phase will patch, built as the phase builds it from the configuration; None
    when it is not built from the configuration alone (the CoreDNS addon): the phase checks it."""
    from kubeadm_py.errors import KubeadmError

    try:
        if target == "kubeletconfiguration":
            from kubeadm_py.kubelet.config import cluster_kubelet_config

            return cluster_kubelet_config(ctx.cfg)
        if target == "etcd":
            from kubeadm_py.manifests.etcd import build_etcd

            return build_etcd(ctx.cfg).pods["etcd"] if ctx.cfg.local_etcd else None
        if target in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            from kubeadm_py.manifests.controlplane import build_control_plane

            return build_control_plane(ctx.cfg, ctx.fs, (target,)).pods[target]
    except (KubeadmError, KeyError, ValueError):
        return None
    return None
