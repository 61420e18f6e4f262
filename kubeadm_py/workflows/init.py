"""The ``init`` workflow: phases in upstream order (kubeadm v1.31+ ordering, where etcd and the
control-plane manifests come before kubelet-start)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.phases.init.state import InitContext, InitState
from kubeadm_py.phases.shared import validate
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.run_options import RunOptions
    from kubeadm_py.workflow.phase import Phase

INIT_FLAGS = (
    "config",
    "apiserver-advertise-address",
    "apiserver-bind-port",
    "apiserver-cert-extra-sans",
    "cert-dir",
    "certificate-key",
    "control-plane-endpoint",
    "cri-socket",
    "feature-gates",
    "ignore-preflight-errors",
    "image-repository",
    "kubernetes-version",
    "node-name",
    "patches",
    "pod-network-cidr",
    "service-cidr",
    "service-dns-domain",
    "skip-certificate-key-print",
    "skip-token-print",
    "token",
    "token-ttl",
    "upload-certs",
)


def phases() -> tuple[Phase[InitContext], ...]:
    from kubeadm_py.phases.init.bootstrap_token import bootstrap_token_phase
    from kubeadm_py.phases.init.etcd import etcd_phase
    from kubeadm_py.phases.init.kubelet_finalize import kubelet_finalize_phase
    from kubeadm_py.phases.init.show_join_command import show_join_command_phase
    from kubeadm_py.phases.init.upload_certs import upload_certs_phase
    from kubeadm_py.phases.selfhosting.pivot import selfhosting_phase
    from kubeadm_py.phases.shared.addons import addon_phase
    from kubeadm_py.phases.shared.certs import certs_phase
    from kubeadm_py.phases.shared.control_plane import control_plane_phase
    from kubeadm_py.phases.shared.kubeconfig import kubeconfig_phase
    from kubeadm_py.phases.shared.kubelet_start import kubelet_start_phase
    from kubeadm_py.phases.shared.mark_control_plane import mark_control_plane_phase
    from kubeadm_py.phases.shared.preflight import preflight_phase
    from kubeadm_py.phases.shared.upload_config import upload_config_phase
    from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase

    return (
        preflight_phase("init"),
        certs_phase(),
        kubeconfig_phase(),
        etcd_phase(),
        control_plane_phase(),
        kubelet_start_phase(),
        wait_control_plane_phase(),
        upload_config_phase(),
        upload_certs_phase(),
        mark_control_plane_phase(),
        bootstrap_token_phase(),
        kubelet_finalize_phase(),
        addon_phase(),
        selfhosting_phase(),  # kubeadm-py's SelfHosting feature gate: after the addons, as upstream's alpha
        show_join_command_phase(),
    )


def _token_overrides(opts: RunOptions) -> dict[str, Any]:
    token, ttl = opts.token, opts.token_ttl
    if not token and not ttl:
        return {}
    entry: dict[str, Any] = {}
    if token:
        entry["token"] = token
    if ttl:
        from kubeadm_py.durations import normalize_duration

        entry["ttl"] = normalize_duration(ttl, "--token-ttl")
    return {"init.bootstrapTokens": [entry]}


def _bootstrap_tokens(ctx: InitContext) -> None:
    """Every bootstrap token (--token, --token-ttl, bootstrapTokens) as the bootstrap-token phase
    builds it; a generated token is written back, so the phase uses the same one."""
    from kubeadm_py.phases.init.bootstrap_token import init_tokens

    init_tokens(ctx)


def _bind_admin(ctx: InitContext, client: KubeClient) -> None:
    """init's client is the admin.conf client, with admin.conf's group bound to cluster-admin first."""
    from kubeadm_py.cluster.adminbinding import ensure_admin_binding
    from kubeadm_py.constants import SUPER_ADMIN_KUBECONFIG, host_join

    super_admin = host_join(ctx.kubeconfig_dir, SUPER_ADMIN_KUBECONFIG)
    ensure_admin_binding(
        client, ctx.cfg.kubernetes_version, lambda: ctx.fx.api.from_kubeconfig(super_admin), ctx.log
    )


def _skip_from_config(ctx: InitContext) -> list[str]:
    return list((ctx.cfg.init or {}).get("skipPhases") or [])


WORKFLOW = Workflow(
    name="init",
    help="Run this command in order to set up the Kubernetes control plane",
    config_kind="init",
    new_state=InitState,
    phases=phases,
    flags=INIT_FLAGS,
    extra_overrides=_token_overrides,
    validate=(
        validate.pki_settings,
        validate.patch_files,
        validate.patch_targets,
        validate.extra_arg_names,
        validate.component_files,
        _bootstrap_tokens,
    ),
    on_connect=_bind_admin,
    skip_phases_from=_skip_from_config,
)
