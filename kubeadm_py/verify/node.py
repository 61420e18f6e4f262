"""Node checks: this machine's kubelet, container runtime, kubeconfig files and, on a control-plane
node, the local health endpoints of its static Pods. Read-only; each is ``(env) -> (detail,
problems)``."""

from __future__ import annotations

from typing import Any

import yaml

from kubeadm_py.constants import (
    ADMIN_KUBECONFIG,
    CONTROLLER_MANAGER_KUBECONFIG,
    KUBELET_KUBECONFIG,
    KUBERNETES_DIR,
    SCHEDULER_KUBECONFIG,
    SUPER_ADMIN_KUBECONFIG,
)
from kubeadm_py.errors import KubeadmError
from kubeadm_py.verify.certs import KUBELET_CONFIG
from kubeadm_py.verify.env import VerifyEnv
from kubeadm_py.verify.model import Problem, Skip

KUBELET_FIX = "systemctl status kubelet; journalctl -u kubelet -e (start it: systemctl start kubelet)"
KUBECONFIGS = (
    ADMIN_KUBECONFIG,
    SUPER_ADMIN_KUBECONFIG,
    KUBELET_KUBECONFIG,
    CONTROLLER_MANAGER_KUBECONFIG,
    SCHEDULER_KUBECONFIG,
)
STATIC_PODS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


def kubelet(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """The kubelet's ``/healthz`` answers ok and its Node is registered."""
    cfg = _kubelet_config(env)
    host = str(cfg.get("healthzBindAddress") or "127.0.0.1")
    port = int(cfg.get("healthzPort", 10248) or 0)
    problems = []
    if port:
        url = f"http://{host}:{port}/healthz"
        ok, why = env.http_check(url)
        if not ok:
            problems.append(Problem(f"the kubelet is not healthy: {url}: {why}", KUBELET_FIX))
    name = env.node_name()
    try:
        node = env.kubelet_client().get("Node", name)
    except KubeadmError as e:
        problems.append(
            Problem(
                f"cannot tell whether Node {name} is registered: {e.message}", "see the kubeconfigs check"
            )
        )
        return f"node {name}", problems
    if node is None:
        problems.append(Problem(f"the kubelet has not registered Node {name}", KUBELET_FIX))
    return f"node {name}", problems


def _kubelet_config(env: VerifyEnv) -> dict[str, Any]:
    text = env.fs.read_text(KUBELET_CONFIG) or ""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


def kubeconfigs(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Each kubeconfig file on this node reaches its API server and its credentials are accepted
    (an authenticated ``GET /api``)."""
    from kubeadm_py.kube.client import RetryPolicy, StatusError

    present = [f for f in KUBECONFIGS if env.fs.exists(f"{KUBERNETES_DIR}/{f}")]
    problems = []
    for f in present:
        path = f"{KUBERNETES_DIR}/{f}"
        try:
            client = env.fx.api.from_kubeconfig(path, retry=RetryPolicy(attempts=1))
            client.request("GET", "/api", what="the API versions")
        except StatusError as e:
            problems.append(
                Problem(
                    f"{path}: {e.message}",
                    f"renew its certificate (kubeadm-py certs renew {f}) or write it again "
                    "(kubeadm-py init phase kubeconfig)",
                )
            )
        except KubeadmError as e:
            problems.append(
                Problem(
                    f"{path}: {e.message}",
                    "check the API server (or load balancer) it names, or fix its server: field",
                )
            )
    return f"{len(present) - len(problems)}/{len(present)} kubeconfig file(s) work", problems


def container_runtime(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """The CRI answers RuntimeService/Status with RuntimeReady (the existing CRI client)."""
    from kubeadm_py.effectors.cri import endpoint_under
    from kubeadm_py.upgrade.config import node_local

    endpoint = (
        node_local(env.fs, env.manifests_dir).cri_socket or env.cfg.node_registration.get("criSocket") or ""
    )
    if not endpoint:
        from kubeadm_py.host.cri import DEFAULT_CRI_SOCKET

        endpoint = DEFAULT_CRI_SOCKET
    runtime = env.fx.cri(endpoint_under(env.fs, str(endpoint)))
    try:
        status = runtime.status()
    finally:
        runtime.close()
    if status.ok:
        return status.message, []
    return endpoint, [
        Problem(
            status.message,
            "systemctl status containerd (or your runtime); check its CRI plugin is enabled",
        )
    ]


def static_pod_health(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Each static Pod of this node answers its own liveness probe (the URL in its manifest)."""
    probed = []
    problems = []
    for comp in STATIC_PODS:
        pod = env.manifest(comp)
        if pod is None:
            continue
        url = _probe_url(pod)
        if not url:
            continue
        probed.append(comp)
        ok, why = env.http_check(url)
        if not ok:
            problems.append(
                Problem(
                    f"{comp} on {env.node_name()} does not answer its liveness probe {url}: {why}",
                    f"crictl ps -a --name {comp}; crictl logs <container id>; "
                    f"is {env.manifests_dir}/{comp}.yaml right?",
                )
            )
    if not probed:
        raise Skip("no static Pod manifests on this node")
    return f"{len(probed) - len(problems)}/{len(probed)} static Pods healthy ({', '.join(probed)})", problems


def _probe_url(pod: dict[str, Any]) -> str:
    try:
        container = pod["spec"]["containers"][0]
        get = container["livenessProbe"]["httpGet"]
    except (KeyError, IndexError, TypeError):
        return ""
    scheme = str(get.get("scheme", "HTTP")).lower()
    host = get.get("host") or "127.0.0.1"
    host = f"[{host}]" if ":" in str(host) else host
    return f"{scheme}://{host}:{get.get('port')}{get.get('path', '/')}"


def checkpoints(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """On a node whose control plane is self-hosted, no checkpoint serves in place of a DaemonSet
    Pod (docs/selfhosting-recovery.md): one does after a restart until the hand-off, during an
    ``upgrade apply`` bridge, and for good after a failed hand-back (its manifest names the Pod)."""
    from kubeadm_py.selfhosting.checkpoint import active_path
    from kubeadm_py.selfhosting.checkpointer import recorded_failed_pods
    from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT, ds_name
    from kubeadm_py.selfhosting.status import self_hosted_components

    hosted = self_hosted_components(env.fs, env.manifests_dir)
    if not hosted:
        raise Skip("no self-hosted control-plane component on this node")
    problems = []
    for comp in hosted:
        path = active_path(comp, env.manifests_dir)
        if not env.fs.exists(path):
            continue
        failed = sorted(recorded_failed_pods(env.fs, comp, env.manifests_dir))
        where = f"{comp} on {env.node_name()} runs from its checkpoint ({path})"
        if failed:
            problems.append(
                Problem(
                    f"{where}: the hand-back to its DaemonSet Pod {', '.join(failed)} failed",
                    f"fix the DaemonSet: kubectl -n kube-system rollout undo ds/{ds_name(comp)} (or edit "
                    f"it), or kubectl -n kube-system delete pod {failed[0]} to try again; "
                    f"journalctl -u {CHECKPOINTER_UNIT}",
                )
            )
        else:
            problems.append(
                Problem(
                    f"{where}: its DaemonSet Pod has not taken over yet",
                    "after a restart the hand-off takes about a minute (verify --wait); else "
                    f"journalctl -u {CHECKPOINTER_UNIT}; kubeadm-py selfhosting status",
                )
            )
    served = len(hosted) - len(problems)
    return f"{served}/{len(hosted)} self-hosted components served by their DaemonSet Pods", problems
