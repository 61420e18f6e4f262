"""The ``join`` workflow: phases in upstream order (ControlPlaneKubeletLocalMode era):
preflight, control-plane-prepare (download-certs, certs, kubeconfig, control-plane), kubelet-start,
etcd-join, kubelet-wait-bootstrap, control-plane-join (mark-control-plane), wait-control-plane.

``join [api-server-endpoint] --token T --discovery-token-ca-cert-hash sha256:H``; the flags fill
the JoinConfiguration (flag > config file > default) through :func:`join_overrides`. Discovery
runs lazily, before the first write (see :mod:`kubeadm_py.phases.join.data`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.join.state import JoinContext, JoinState
from kubeadm_py.phases.shared import validate
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.run_options import RunOptions
    from kubeadm_py.workflow.phase import Phase
    from kubeadm_py.workflow.report import RunReport

JOIN_FLAGS = (
    "config",
    "apiserver-advertise-address",
    "apiserver-bind-port",
    "certificate-key",
    "control-plane",
    "cri-socket",
    "discovery-file",
    "discovery-token",
    "discovery-token-ca-cert-hash",
    "discovery-token-unsafe-skip-ca-verification",
    "ignore-preflight-errors",
    "node-name",
    "patches",
    "tls-bootstrap-token",
    "token",
)
ENDPOINT_PARAM = "api_server_endpoint"


def _arguments() -> tuple[inspect.Parameter, ...]:
    import typer

    return (
        inspect.Parameter(
            ENDPOINT_PARAM,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=typer.Argument(
                None,
                metavar="api-server-endpoint",
                help="host:port of the API server to join",
                show_default=False,
            ),
            annotation=list[str] | None,
        ),
    )


def _endpoints(opts: RunOptions) -> list[str]:
    raw: object = opts.api_server_endpoint  # an embedding program may pass one string
    if isinstance(raw, list | tuple):
        return [str(x) for x in raw]
    return [] if raw is None else [str(raw)]


def join_overrides(opts: RunOptions) -> dict[str, Any]:
    """Config overrides from join's own flags (upstream newJoinData): --token fills the discovery
    token and the TLS bootstrap token when they are not given; the bootstrap-token discovery block
    exists only with an API server endpoint."""
    out: dict[str, Any] = {}
    endpoints = _endpoints(opts)
    token = opts.token
    discovery_token = opts.discovery_token or token
    tls_token = opts.tls_bootstrap_token or token
    file = opts.discovery_file
    bt = "join.discovery.bootstrapToken"
    token_discovery = bool(endpoints) or not file
    if endpoints:
        out[f"{bt}.apiServerEndpoint"] = endpoints[0]
    if token_discovery:
        if discovery_token:
            out[f"{bt}.token"] = discovery_token
        if opts.discovery_token_ca_cert_hash:
            out[f"{bt}.caCertHashes"] = list(opts.discovery_token_ca_cert_hash)
        if opts.discovery_token_unsafe_skip_ca_verification:
            out[f"{bt}.unsafeSkipCAVerification"] = True
    if file:
        out["join.discovery.file.kubeConfigPath"] = file
    if tls_token:
        out["join.discovery.tlsBootstrapToken"] = tls_token
    if opts.control_plane:
        out["join.controlPlane"] = True
    return out


def _prepare(ctx: JoinContext) -> None:
    extra = _endpoints(ctx.options)[1:]
    if extra:
        ctx.log(f"[join] WARNING: more than one API server endpoint given; ignoring {' '.join(extra)}")


def _join_preflight(phase: Phase[JoinContext]) -> Phase[JoinContext]:
    """A control-plane join first checks the cluster can take one (controlPlaneEndpoint, shared
    certificates), which runs discovery (reads only), as upstream's preflight does."""
    inner = phase.run
    assert inner is not None

    def run(ctx: JoinContext) -> list[Change] | None:
        from kubeadm_py.phases.join import data as join_data

        if join_data.is_control_plane(ctx):
            join_data.require_control_plane_ready(ctx)
        return inner(ctx)

    return replace(phase, run=run)


def _reporting_writes(phase: Phase[JoinContext]) -> Phase[JoinContext]:
    """On failure, say which files this run already wrote (nothing is rolled back)."""
    if phase.children:
        return replace(
            phase,
            children=tuple(_reporting_writes(c) for c in phase.children),
            run=_wrap_run(phase.run) if phase.run else None,
        )
    return replace(phase, run=_wrap_run(phase.run) if phase.run else None)


RunFn = Callable[[JoinContext], "list[Change] | None"]


def _wrap_run(inner: RunFn) -> RunFn:
    def run(ctx: JoinContext) -> list[Change] | None:
        try:
            return inner(ctx)
        except KubeadmError as e:
            written = [c.target for c in ctx.fs.changes if c.kind == "file" and c.changed]
            if written and not ctx.state.written_reported:
                ctx.state.written_reported = True
                files = list(dict.fromkeys(written))
                shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
                e.hint = (e.hint + "; " if e.hint else "") + (
                    f"this run already wrote {shown} - 'kubeadm-py reset' undoes a partial join"
                )
            raise

    run.__name__ = getattr(inner, "__name__", "run")
    return run


def phases() -> tuple[Phase[JoinContext], ...]:
    from kubeadm_py.phases.join.control_plane import (
        control_plane_join_phase,
        control_plane_prepare_phase,
        join_wait_control_plane_phase,
    )
    from kubeadm_py.phases.join.etcd import etcd_join_phase
    from kubeadm_py.phases.join.kubelet import join_kubelet_start_phase, kubelet_wait_bootstrap_phase
    from kubeadm_py.phases.shared.preflight import preflight_phase

    return tuple(
        _reporting_writes(p)
        for p in (
            _join_preflight(preflight_phase("join")),
            control_plane_prepare_phase(),
            join_kubelet_start_phase(),
            etcd_join_phase(),
            kubelet_wait_bootstrap_phase(),
            control_plane_join_phase(),
            join_wait_control_plane_phase(),
        )
    )


def _skip_from_config(ctx: JoinContext) -> list[str]:
    return list((ctx.cfg.join or {}).get("skipPhases") or [])


WORKER_DONE = """
This node has joined the cluster:
* Certificate signing request was sent to apiserver and a response was received.
* The Kubelet was informed of the new secure connection details.

Run 'kubectl get nodes' on the control-plane to see this node join the cluster.
"""
CONTROL_PLANE_DONE = """
This node has joined the cluster and a new control plane instance was created:

* Certificate signing request was sent to apiserver and approval was received.
* The Kubelet was informed of the new secure connection details.
* Control plane label and taint were applied to the new node.
* The Kubernetes control plane instances scaled up.
* A new etcd member was added to the local/stacked etcd cluster.

To start administering your cluster from this node, you need to run the following as a regular user:

\tmkdir -p $HOME/.kube
\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config
\tsudo chown $(id -u):$(id -g) $HOME/.kube/config

Run 'kubectl get nodes' to see this node join the cluster.
"""


def _finish(ctx: JoinContext, report: RunReport) -> None:
    from kubeadm_py.phases.join import data as join_data

    text = CONTROL_PLANE_DONE if join_data.is_control_plane(ctx) else WORKER_DONE
    ctx.outputs.messages.extend(text.strip("\n").splitlines())


def _lazy_arguments() -> tuple[inspect.Parameter, ...]:
    try:
        return _arguments()
    except ImportError:  # typer missing: the library API still works
        return ()


WORKFLOW = Workflow(
    name="join",
    help="Run this on any machine you wish to join an existing cluster",
    config_kind="join",
    new_state=JoinState,
    phases=phases,
    flags=JOIN_FLAGS,
    arguments=_lazy_arguments(),
    extra_overrides=join_overrides,
    prepare=_prepare,
    validate=(validate.pki_settings, validate.patch_files),
    finish=_finish,
    skip_phases_from=_skip_from_config,
)
