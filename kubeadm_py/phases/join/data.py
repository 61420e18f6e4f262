"""What the join phases share, computed once per run and kept in ``ctx.state`` (a
:class:`~kubeadm_py.phases.join.state.JoinState`; upstream ``cmd/join.go`` joinData:
TLSBootstrapCfg, InitCfg, Client).

* :func:`discovered` runs discovery (nothing written) the first time a phase needs the cluster;
* :func:`bootstrap_client` talks to the API server as the bootstrap token (or the discovery file's
  credentials);
* :func:`ensure_cluster_config` reads ``kube-system/kubeadm-config`` with that client and makes it
  ``ctx.cfg.cluster``: the joining node then builds certificates, kubeconfigs, manifests and kubelet
  flags for the cluster's real configuration (version, networking, certificatesDir...); a
  control-plane node without ``nodeRegistration.taints`` gets that version's default taints;
* :func:`is_control_plane` / :func:`require_control_plane_ready` for the control-plane-only phases.

Discovery reads through ``ctx.fx.discovery_fetcher`` and polls with the run's waiter (its clock,
its caps on timeouts and intervals); the bootstrap client comes from ``ctx.fx.api.bootstrap``.
Tests and embedding programs replace them with ``Hooks(discovery_fetcher=..., bootstrap=...,
waiter=...)``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from kubeadm_py.constants import CLUSTER_CONFIGURATION_KEY, KUBE_SYSTEM, KUBEADM_CONFIG_CONFIGMAP
from kubeadm_py.errors import KubeadmError

if TYPE_CHECKING:
    from kubeadm_py.config.types import TimeoutKey
    from kubeadm_py.discovery.discover import Discovered
    from kubeadm_py.discovery.kubeconfig import ReadFile
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.phases.join.state import JoinContext


def join_doc(ctx: AnyContext) -> dict[str, Any]:
    doc = ctx.cfg.join
    if doc is None:
        raise KubeadmError("internal: the join phases need a JoinConfiguration")
    return dict(doc)


def timeout(ctx: AnyContext, key: TimeoutKey) -> float:
    """``join.timeouts.<key>`` in seconds, capped by the run's waiter."""
    return ctx.fx.waiter.timeout(ctx.cfg.timeout(key))


def is_control_plane(ctx: AnyContext) -> bool:
    return isinstance((ctx.cfg.join or {}).get("controlPlane"), dict)


def certificate_key(ctx: AnyContext) -> str:
    cp = (ctx.cfg.join or {}).get("controlPlane") or {}
    return str(cp.get("certificateKey") or "")


def discovered(ctx: JoinContext) -> Discovered:
    """The discovery result, run once."""
    if ctx.state.discovered is None:
        from kubeadm_py.discovery.discover import discover
        from kubeadm_py.discovery.token import DEFAULT_INTERVAL

        waiter = ctx.fx.waiter
        ctx.state.discovered = discover(
            join_doc(ctx),
            timeout=timeout(ctx, "discovery"),
            interval=waiter.interval(DEFAULT_INTERVAL),
            fetcher=ctx.fx.discovery_fetcher,
            read_file=_reader(ctx),
            log=ctx.log,
            clock=waiter.clock,
        )
        ctx.outputs.api_server = ctx.state.discovered.cluster.server
    return ctx.state.discovered


def _reader(ctx: AnyContext) -> ReadFile:
    def read(path: str) -> bytes | None:
        return ctx.fs.read_bytes(path if path.startswith("/") else os.path.abspath(path))

    return read


def bootstrap_client(ctx: JoinContext) -> KubeClient:
    """A client authenticated as the TLS bootstrap identity, trusting the discovered CA."""
    if ctx.state.bootstrap_client is None:
        d = discovered(ctx)
        token = d.tls_bootstrap_token or str(d.cluster.user.get("token") or "") or None
        ca = None if d.cluster.insecure and not d.cluster.ca_pem else d.cluster.ca_pem
        ctx.state.bootstrap_client = ctx.fx.api.bootstrap(d.cluster.server, ca, token)
    return ctx.state.bootstrap_client


def ensure_cluster_config(ctx: JoinContext) -> None:
    """Replace ``ctx.cfg.cluster`` by the cluster's ClusterConfiguration (once)."""
    if ctx.state.cluster_config_loaded:
        return
    from kubeadm_py.config.defaults import default_control_plane_taints
    from kubeadm_py.config.resolve import build_config

    cm = bootstrap_client(ctx).get("ConfigMap", KUBEADM_CONFIG_CONFIGMAP, KUBE_SYSTEM)
    text = ((cm or {}).get("data") or {}).get(CLUSTER_CONFIGURATION_KEY)
    if not text:
        raise KubeadmError(
            f"unable to fetch the kubeadm-config ConfigMap: {KUBE_SYSTEM}/{KUBEADM_CONFIG_CONFIGMAP} "
            f"{'has no ' + CLUSTER_CONFIGURATION_KEY + ' key' if cm else 'not found'}",
            hint="has 'init phase upload-config kubeadm' run on the control plane?",
        )
    try:
        cluster = build_config("init", str(text), dynamic_defaults=False).cluster
    except KubeadmError as e:
        msg = f"the cluster's ClusterConfiguration (kube-system/kubeadm-config) is invalid: {e}"
        raise KubeadmError(msg) from None
    ctx.cfg.cluster = cluster
    if is_control_plane(ctx):  # the default taints follow the cluster's version (kubelet-start, mark)
        default_control_plane_taints(ctx.cfg.node_registration, str(cluster.get("kubernetesVersion", "")))
    ctx.state.cluster_config_loaded = True
    ctx.state.pki_settings = None  # computed again for the cluster's configuration
    ctx.log(
        f"[preflight] Read the cluster configuration from {KUBE_SYSTEM}/{KUBEADM_CONFIG_CONFIGMAP} "
        f"(Kubernetes {cluster.get('kubernetesVersion')})"
    )


def shared_certs_missing(ctx: AnyContext) -> list[str]:
    """The shared CA files missing on disk (certs.SharedCertificateExists)."""
    from kubeadm_py.cluster.copycerts import certs_to_transfer

    return [p for p in certs_to_transfer(ctx.cfg).values() if p and not ctx.fs.exists(p)]


def require_control_plane_ready(ctx: JoinContext) -> None:
    """checkIfReadyForAdditionalControlPlane: a stable controlPlaneEndpoint, and the shared
    certificates either downloadable (--certificate-key) or already on disk."""
    if ctx.state.control_plane_ready:
        return
    ensure_cluster_config(ctx)
    if not ctx.cfg.cluster.get("controlPlaneEndpoint"):
        raise KubeadmError(
            "unable to add a new control plane instance to a cluster that doesn't have a stable "
            "controlPlaneEndpoint address",
            hint="set controlPlaneEndpoint in the ClusterConfiguration (kube-system/kubeadm-config) to a "
            "load balancer or DNS name; see 'kubeadm init --control-plane-endpoint'",
        )
    if not certificate_key(ctx):
        missing = shared_certs_missing(ctx)
        if missing:
            raise KubeadmError(
                f"the shared certificates are not on this node ({', '.join(missing[:3])}"
                f"{'...' if len(missing) > 3 else ''}) and no --certificate-key was given",
                hint="pass --certificate-key (from 'init phase upload-certs --upload-certs') or copy them",
            )
    ctx.state.control_plane_ready = True
