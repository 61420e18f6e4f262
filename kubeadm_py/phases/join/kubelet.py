"""``join phase kubelet-start`` and ``join phase kubelet-wait-bootstrap``
(upstream ``cmd/phases/join/kubelet.go``).

kubelet-start: discovery (if not done yet), the cluster's ClusterConfiguration, then
``/etc/kubernetes/bootstrap-kubelet.conf`` (token user ``tls-bootstrap-token-user``, cluster from
discovery), the CA at ``caCertPath`` if missing, a check that no Ready Node has this name, the
kubelet configuration from ``kube-system/kubelet-config`` (``kubelet-config-1.x`` before 1.24),
``/var/lib/kubelet/config.yaml`` and ``kubeadm-flags.env``, and a kubelet (re)start.

kubelet-wait-bootstrap: wait (bounded) for the kubelet's /healthz, then until the kubelet has
written ``/etc/kubernetes/kubelet.conf`` after its TLS bootstrap and its Node exists; then remove
``bootstrap-kubelet.conf``."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import Any

import yaml

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_SYSTEM, KUBELET_BOOTSTRAP_KUBECONFIG, KUBELET_KUBECONFIG
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CERT_MODE, CONFIG_MODE
from kubeadm_py.phases.join import data as join_data
from kubeadm_py.workflow.phase import Phase

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


def bootstrap_kubeconfig_path(ctx: Any) -> str:
    return f"{ctx.kubeconfig_dir}/{KUBELET_BOOTSTRAP_KUBECONFIG}"


def kubelet_kubeconfig_path(ctx: Any) -> str:
    return f"{ctx.kubeconfig_dir}/{KUBELET_KUBECONFIG}"


def bootstrap_kubeconfig_text(ctx: Any) -> str:
    from kubeadm_py.kubeconfig.build import dump

    return dump(join_data.discovered(ctx).bootstrap_kubeconfig)


def fetch_kubelet_config(ctx: Any) -> dict[str, Any]:
    """The KubeletConfiguration stored in the cluster (read with the bootstrap identity)."""
    from kubeadm_py.cluster.versioned import kubelet_config_name

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


def check_no_ready_node(ctx: Any) -> None:
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


def run_kubelet_start(ctx: Any) -> list[Change]:
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
    stop_kubelet(ctx.fs, ctx.dry_run, ctx.log)
    changes += write_kubelet_files(ctx, not join_data.is_control_plane(ctx), kubelet_cfg)
    changes.append(restart_kubelet(ctx.fs, ctx.dry_run, ctx.log))
    return changes


def kubelet_start_phase() -> Phase:
    return Phase(
        "kubelet-start",
        "Write kubelet settings, certificates and (re)start the kubelet",
        run=run_kubelet_start,
        flags=START_FLAGS,
        provides=("kubelet-config", "bootstrap-kubeconfig"),
    )


# --- kubelet-wait-bootstrap -------------------------------------------------------------------


def _resolved_kubeconfig(ctx: Any, text: str) -> str:
    """kubelet.conf with file references mapped to where they are on this machine (--rootfs)."""
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise KubeadmError(f"{kubelet_kubeconfig_path(ctx)} is not a kubeconfig")
    for section, inner, keys in (
        ("clusters", "cluster", ("certificate-authority",)),
        ("users", "user", ("client-certificate", "client-key")),
    ):
        for item in doc.get(section) or []:
            body = (item or {}).get(inner) or {}
            for k in keys:
                if isinstance(body.get(k), str) and body[k].startswith("/"):
                    body[k] = str(ctx.fs.read_path(body[k]))
    return yaml.safe_dump(doc)


def kubelet_node_exists(ctx: Any) -> tuple[bool, str]:
    """(True, "") once kubelet.conf works and the Node is registered; else (False, why)."""
    from kubeadm_py.kube.client import KubeClient, RetryPolicy

    text = ctx.fs.read_text(kubelet_kubeconfig_path(ctx))
    if text is None:
        return False, f"{kubelet_kubeconfig_path(ctx)} not written yet"
    fd, tmp = tempfile.mkstemp(prefix="kubelet-conf-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(_resolved_kubeconfig(ctx, text))
        client = KubeClient.from_kubeconfig(
            tmp, display_path=kubelet_kubeconfig_path(ctx), retry=RetryPolicy(attempts=1)
        )
        node = client.get("Node", ctx.cfg.node_name)
    except KubeadmError as e:
        return False, str(e)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    if node is None:
        return False, f"Node {ctx.cfg.node_name!r} not registered yet"
    return True, ""


def run_kubelet_wait_bootstrap(ctx: Any) -> list[Change]:
    from kubeadm_py.phases.shared.wait_control_plane import kubelet_target, wait_for

    tls_timeout = join_data.timeout(ctx, "tlsBootstrap")
    if ctx.dry_run:
        ctx.log(
            f"[dryrun] Would wait for the kubelet to perform the TLS bootstrap (up to {tls_timeout:.0f}s)"
        )
        return []
    kubelet = kubelet_target(ctx)
    health_timeout = join_data.timeout(ctx, "kubeletHealthCheck")
    ctx.log(
        f"[kubelet-check] Waiting for a healthy kubelet at {kubelet.url}. "
        f"This can take up to {health_timeout:.0f}s"
    )
    check = ctx.state.get("kubelet_health_check")
    bad = wait_for(
        [kubelet], health_timeout, ctx.log, "[kubelet-check]", **({"check": check} if check else {})
    )
    if bad:
        raise KubeadmError(
            f"the kubelet is not healthy after {health_timeout:.0f}s: {kubelet.url}: {bad['kubelet']}",
            hint="check that the kubelet runs ('systemctl status kubelet', 'journalctl -xeu kubelet')",
        )
    ctx.log(
        f"[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap (up to {tls_timeout:.0f}s)"
    )
    probe = ctx.state.get("kubelet_node_probe") or kubelet_node_exists
    deadline = time.monotonic() + tls_timeout
    while True:
        ok, why = probe(ctx)
        if ok:
            break
        if time.monotonic() >= deadline:
            raise KubeadmError(
                f"the kubelet did not complete the TLS bootstrap within {tls_timeout:.0f}s: {why}",
                hint="look at the kubelet's log; its CSR must be approved (kubectl get csr) — the "
                "kubeadm:node-autoapprove-bootstrap binding and the controller-manager do that",
            )
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))
    ctx.log(
        f"[kubelet-start] The kubelet wrote {kubelet_kubeconfig_path(ctx)} and Node "
        f"{ctx.cfg.node_name!r} is registered"
    )
    return [ctx.fs.remove(bootstrap_kubeconfig_path(ctx))]


def kubelet_wait_bootstrap_phase() -> Phase:
    return Phase(
        "kubelet-wait-bootstrap",
        "Wait for the kubelet to bootstrap itself",
        run=run_kubelet_wait_bootstrap,
        flags=WAIT_FLAGS,
    )
