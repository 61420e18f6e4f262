"""``join phase kubelet-start`` and ``join phase kubelet-wait-bootstrap``
(upstream ``cmd/phases/join/kubelet.go``).

kubelet-start: discovery (if not done yet), the cluster's ClusterConfiguration, then
``/etc/kubernetes/bootstrap-kubelet.conf`` (token user ``tls-bootstrap-token-user``, cluster from
discovery), the CA at ``caCertPath`` if missing, a check that no Ready Node has this name, the
kubelet configuration from ``kube-system/kubelet-config`` (``kubelet-config-1.x`` before 1.24),
``/var/lib/kubelet/config.yaml`` and ``kubeadm-flags.env``, and a kubelet (re)start through the
service manager effector (``kubelet.service``).

kubelet-wait-bootstrap: wait (through the run's waiter, bounded) for the kubelet's /healthz, then
until the kubelet has written ``/etc/kubernetes/kubelet.conf`` after its TLS bootstrap and its Node
is registered (read with the bootstrap identity); then remove ``bootstrap-kubelet.conf``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from kubeadm_py.constants import KUBE_SYSTEM, KUBELET_BOOTSTRAP_KUBECONFIG, KUBELET_KUBECONFIG
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CERT_MODE, CONFIG_MODE
from kubeadm_py.phases.join import data as join_data
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.phases.join.state import JoinContext

START_FLAGS = (
    "config",
    "cri-socket",
    "node-name",
    "patches",
    "dry-run",
    "token",
    "discovery-token",
    "discovery-token-ca-cert-hash",
    "discovery-token-unsafe-skip-ca-verification",
    "discovery-file",
    "tls-bootstrap-token",
)
WAIT_FLAGS = ("config", "dry-run")
POLL_INTERVAL = 1.0  # constants.TLSBootstrapRetryInterval


def bootstrap_kubeconfig_path(ctx: AnyContext) -> str:
    return f"{ctx.kubeconfig_dir}/{KUBELET_BOOTSTRAP_KUBECONFIG}"


def kubelet_kubeconfig_path(ctx: AnyContext) -> str:
    return f"{ctx.kubeconfig_dir}/{KUBELET_KUBECONFIG}"


def bootstrap_kubeconfig_text(ctx: JoinContext) -> str:
    from kubeadm_py.kubeconfig.build import dump

    return dump(join_data.discovered(ctx).bootstrap_kubeconfig)


def fetch_kubelet_config(ctx: JoinContext) -> dict[str, Any]:
    """The KubeletConfiguration stored in the cluster (read with the bootstrap identity)."""
    from kubeadm_py.versioned import kubelet_config_name

    name = kubelet_config_name(ctx.cfg.kubernetes_version)
    cm = join_data.bootstrap_client(ctx).get("ConfigMap", name, KUBE_SYSTEM)
    text = ((cm or {}).get("data") or {}).get("kubelet")
    if not text:
        raise KubeadmError(
            f"unable to read the kubelet configuration: ConfigMap {KUBE_SYSTEM}/{name} "
            f"{'has no kubelet key' if cm else 'not found'}",
            hint="has 'init phase upload-config kubelet' run on the control plane?",
        )
    doc = yaml.safe_load(str(text))
    if not isinstance(doc, dict):
        raise KubeadmError(f"ConfigMap {KUBE_SYSTEM}/{name}: the kubelet key is not a KubeletConfiguration")
    return doc


def check_no_ready_node(ctx: JoinContext) -> None:
    """A Ready Node with this name means another machine already joined under it."""
    from kubeadm_py.kube.client import ForbiddenError

    name = ctx.cfg.node_name
    try:
        node = join_data.bootstrap_client(ctx).get("Node", name)
    except ForbiddenError:
        ctx.log(
            f"[kubelet-start] Cannot check for an existing Node {name!r} (no kubeadm:get-nodes access); "
            "continuing"
        )
        return
    if node is None:
        return
    conds = (node.get("status") or {}).get("conditions") or []
    if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
        raise KubeadmError(
            f'a Node with name "{name}" and status "Ready" already exists in the cluster. You must delete '
            "the existing Node or change the name of this new joining Node",
            hint="kubectl delete node <name> on a control plane, or --node-name",
        )


def run_kubelet_start(ctx: JoinContext) -> list[Change]:
    from kubeadm_py.kubelet.service import restart_kubelet, stop_kubelet
    from kubeadm_py.phases.shared.kubelet_start import write_kubelet_files

    d = join_data.discovered(ctx)  # reads only: fails before anything is written
    join_data.ensure_cluster_config(ctx)
    kubelet_cfg = fetch_kubelet_config(ctx)
    check_no_ready_node(ctx)
    changes: list[Change] = []
    path = bootstrap_kubeconfig_path(ctx)
    ctx.log(f'[kubelet-start] Writing the TLS bootstrap kubeconfig to file "{path}"')
    changes.append(ctx.fs.write(path, bootstrap_kubeconfig_text(ctx).encode(), CONFIG_MODE, secret=True))
    ca_path = str((ctx.cfg.join or {}).get("caCertPath") or f"{ctx.cert_dir}/ca.crt")
    if not ctx.fs.exists(ca_path) and d.cluster.ca_pem:
        ctx.log(f'[kubelet-start] Writing the cluster CA certificate to "{ca_path}"')
        changes.append(ctx.fs.write(ca_path, d.cluster.ca_pem, CERT_MODE))
    # Stop first so the kubelet does not crash-loop on half-written files (TryStopKubelet).
    stopped = stop_kubelet(ctx.fx.services, ctx.log)
    if stopped is not None:
        changes.append(stopped)
    changes += write_kubelet_files(ctx, not join_data.is_control_plane(ctx), kubelet_cfg)
    changes.append(restart_kubelet(ctx.fx.services, ctx.fs, ctx.log))
    return changes


def join_kubelet_start_phase() -> Phase[JoinContext]:
    return Phase(
        "kubelet-start",
        "Write kubelet settings, certificates and (re)start the kubelet",
        run=run_kubelet_start,
        flags=START_FLAGS,
        provides=("kubelet-config", "bootstrap-kubeconfig"),
    )


# --- kubelet-wait-bootstrap -------------------------------------------------------------------


def kubelet_bootstrapped(ctx: JoinContext) -> tuple[bool, str]:
    """(True, "") once the kubelet wrote kubelet.conf and its Node is registered; else (False, why).
    The Node is read with the bootstrap identity (kubeadm:get-nodes); without that access, kubelet.conf
    on disk is what counts, as upstream's waitForTLSBootstrappedClient."""
    from kubeadm_py.kube.client import ForbiddenError

    path = kubelet_kubeconfig_path(ctx)
    if not ctx.fs.exists(path):
        return False, f"{path} not written yet"
    name = ctx.cfg.node_name
    try:
        node = join_data.bootstrap_client(ctx).get("Node", name)
    except ForbiddenError:
        return True, ""
    except KubeadmError as e:
        return False, str(e)
    if node is None:
        return False, f"Node {name!r} not registered yet"
    return True, ""


def run_kubelet_wait_bootstrap(ctx: JoinContext) -> list[Change]:
    from kubeadm_py.effectors.waiting import Target
    from kubeadm_py.phases.shared.wait_control_plane import kubelet_target, kubelet_url

    url = kubelet_url(ctx)
    health_timeout = join_data.timeout(ctx, "kubeletHealthCheck")
    ctx.log(
        f"[kubelet-check] Waiting for a healthy kubelet at {url}. This can take up to {health_timeout:.0f}s"
    )
    bad = ctx.fx.waiter.wait_all(
        [kubelet_target(ctx, url)],
        health_timeout,
        interval=POLL_INTERVAL,
        log=ctx.log,
        prefix="[kubelet-check]",
    )
    if bad:
        raise KubeadmError(
            f"the kubelet is not healthy after {health_timeout:.0f}s: {url}: {bad['kubelet']}",
            hint="check that the kubelet runs ('systemctl status kubelet', 'journalctl -xeu kubelet')",
        )
    tls_timeout = join_data.timeout(ctx, "tlsBootstrap")
    ctx.log(
        f"[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap (up to {tls_timeout:.0f}s)"
    )
    bootstrap = Target(
        "bootstrap", "the kubelet to perform the TLS bootstrap", lambda: kubelet_bootstrapped(ctx)
    )
    bad = ctx.fx.waiter.wait_all([bootstrap], tls_timeout, interval=POLL_INTERVAL)
    if bad:
        raise KubeadmError(
            f"the kubelet did not complete the TLS bootstrap within {tls_timeout:.0f}s: {bad['bootstrap']}",
            hint="look at the kubelet's log; its CSR must be approved (kubectl get csr) — the "
            "kubeadm:node-autoapprove-bootstrap binding and the controller-manager do that",
        )
    ctx.log(
        f"[kubelet-start] The kubelet wrote {kubelet_kubeconfig_path(ctx)} and Node "
        f"{ctx.cfg.node_name!r} is registered"
    )
    return [ctx.fs.remove(bootstrap_kubeconfig_path(ctx))]


def kubelet_wait_bootstrap_phase() -> Phase[JoinContext]:
    return Phase(
        "kubelet-wait-bootstrap",
        "Wait for the kubelet to bootstrap itself",
        run=run_kubelet_wait_bootstrap,
        flags=WAIT_FLAGS,
    )
