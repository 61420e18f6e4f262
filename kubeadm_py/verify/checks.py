"""The verify checks as a table (name, scope, function) and how a run goes through them: once, or
again until healthy or a deadline (``--wait``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubeadm_py.errors import KubeadmError
from kubeadm_py.verify import certs, cluster, node, objects, workload
from kubeadm_py.verify.env import VerifyEnv
from kubeadm_py.verify.model import Check, Problem, Report, Result, Scope, Skip, outcome

CHECKS: tuple[Check, ...] = (
    Check(
        "apiserver-readyz",
        "cluster",
        cluster.readyz,
        "the API server's /readyz?verbose, one line per failed check",
    ),
    Check(
        "control-plane-pods",
        "cluster",
        cluster.control_plane_pods,
        "kube-apiserver, kube-controller-manager, kube-scheduler (and local etcd) Running and Ready on every "
        "control-plane Node",
    ),
    Check(
        "etcd", "cluster", cluster.etcd_members, "every etcd member healthy, one leader, a quorum of voters"
    ),
    Check(
        "nodes",
        "cluster",
        cluster.nodes_ready,
        "every Node Ready (or why not), no pressure, its kubelet's Lease fresh",
    ),
    Check(
        "kube-system-workloads",
        "cluster",
        cluster.workloads,
        "every kube-system Deployment and DaemonSet available (a warning when only a missing pod "
        "network explains it)",
    ),
    Check(
        "cluster-info",
        "cluster",
        objects.cluster_info,
        "kube-public/cluster-info signed for every valid signing token",
    ),
    Check(
        "bootstrap-rbac",
        "cluster",
        objects.bootstrap_rbac,
        "kubeadm's bootstrap RBAC (ClusterRoleBindings, cluster-info Role)",
    ),
    Check(
        "version-skew",
        "cluster",
        objects.version_skew,
        "control-plane components and kubelets within the version skew policy",
    ),
    Check(
        "serving-certificates",
        "cluster",
        objects.serving_certificates,
        "serving certificates of every reachable API server and kubelet not near expiry",
    ),
    Check(
        "manifest-drift",
        "cluster",
        objects.manifest_drift,
        "this node's static Pod manifests equal what kube-system/kubeadm-config renders",
    ),
    Check("kubelet", "node", node.kubelet, "the kubelet's /healthz ok and its Node registered"),
    Check(
        "kubelet-client-certificate",
        "node",
        certs.kubelet_client_certificate,
        "kubelet.conf's client certificate valid, in a file the kubelet rotates, rotation on",
    ),
    Check(
        "kubeconfigs",
        "node",
        node.kubeconfigs,
        "each kubeconfig in /etc/kubernetes reaches its API server and is accepted",
    ),
    Check("container-runtime", "node", node.container_runtime, "the CRI Status call answers RuntimeReady"),
    Check(
        "static-pods",
        "node",
        node.static_pod_health,
        "each static Pod of this node answers its liveness probe",
    ),
    Check(
        "selfhosting-checkpoints",
        "node",
        node.checkpoints,
        "no checkpoint serves in place of a self-hosted component's DaemonSet Pod on this node",
    ),
    Check(
        "certificates",
        "node",
        certs.node_certificates,
        "this node's certificates present and not near expiry",
    ),
    Check(
        "workload",
        "workload",
        workload.workload,
        "a short-lived host-network Pod per Node: scheduled, logs and exec through the API server, "
        "then deleted",
    ),
)


def run_once(env: VerifyEnv, scopes: Iterable[Scope], checks: Sequence[Check] = CHECKS) -> list[Result]:
    """Every check of ``scopes``, in table order. A check that cannot read what it needs fails with
    the reason, once: the same reason in a later check fails it without a second line."""
    env.reset()
    wanted = set(scopes)
    results: list[Result] = []
    seen: set[str] = set()
    for check in checks:
        if check.scope not in wanted:
            continue
        try:
            detail, problems = check.fn(env)
        except Skip as s:
            results.append(Result(check.name, check.scope, "skip", str(s)))
            continue
        except KubeadmError as e:
            first = e.message not in seen
            seen.add(e.message)
            problems = [Problem(e.message, e.hint or "see the first line with this reason")] if first else []
            results.append(Result(check.name, check.scope, "fail", "not checked: " + e.message, problems))
            continue
        results.append(outcome(check.name, check.scope, detail, problems))
    return results


def verify(
    env: VerifyEnv,
    scopes: Iterable[Scope],
    *,
    wait: float = 0.0,
    interval: float = 5.0,
    strict: bool = False,
    checks: Sequence[Check] = CHECKS,
) -> Report:
    """Run the checks; with ``wait`` seconds, again every ``interval`` until healthy or the deadline
    (the last attempt's results are reported)."""
    scopes = tuple(scopes)
    start = env.clock.monotonic()
    attempts = 0
    while True:
        attempts += 1
        report = Report(run_once(env, scopes, checks), attempts=attempts, strict=strict)
        elapsed = env.clock.monotonic() - start
        report.seconds = elapsed
        if report.healthy or elapsed + interval > wait:
            return report
        bad = ", ".join(r.name for r in report.results if r.status == "fail")
        env.log(f"[verify] attempt {attempts}: check(s) failing: {bad}; again in {interval:g}s")
        env.clock.sleep(interval)
