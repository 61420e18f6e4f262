"""Cluster checks: what the API server, etcd and the cluster objects say. Each is a small function
``(env) -> (detail, problems)``; :mod:`kubeadm_py.verify.checks` lists them in its table."""

from __future__ import annotations

import re
from typing import Any

from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS, KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.verify.env import Obj, VerifyEnv, name_of, node_condition, parse_time
from kubeadm_py.verify.model import Problem, Skip

LOGS_FIX = "on {node}: crictl ps -a --name {comp}; crictl logs <container id>"
NETWORK_FIX = "install a pod network (CNI) add-on, e.g. kubectl apply -f <your CNI manifest>"
# What a kubelet reports while no CNI configuration exists (v1.20: "runtime network not ready:
# NetworkReady=false reason:NetworkPluginNotReady message:...: cni config uninitialized").
_NETWORK_ONLY = re.compile(r"network not ready|NetworkPluginNotReady|cni (config|plugin)", re.IGNORECASE)
_IMAGE_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")


# --- API server -------------------------------------------------------------------------------------


def readyz(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """``/readyz?verbose``: one line per failed check of the API server."""
    from kubeadm_py.kube.wire import TransportError

    client = env.client()
    try:
        status, raw = client.transport.send("GET", "/readyz?verbose", None, {"Accept": "text/plain"})
    except TransportError as e:
        env.api_down(f"not read: the API server at {client.endpoint} does not answer (see apiserver-readyz)")
        raise KubeadmError(
            f"the API server at {client.endpoint} does not answer: {e.reason}",
            hint="check the kube-apiserver static Pod on the control-plane nodes "
            "(crictl ps -a --name kube-apiserver; crictl logs <container id>)",
        ) from None
    lines = raw.decode(errors="replace").splitlines()
    checks = [
        (ln[3:].split(" ", 1)[0], ln.startswith("[+]")) for ln in lines if ln.startswith(("[+]", "[-]"))
    ]
    failed = [name for name, ok in checks if not ok]
    problems = [
        Problem(f"the API server's readiness check {name} fails at {client.endpoint}", _readyz_fix(name))
        for name in failed
    ]
    if "etcd" in failed:
        env.api_down(
            f"not read: the API server at {client.endpoint} cannot reach etcd (see apiserver-readyz)"
        )
    if status != 200 and not problems:
        problems.append(
            Problem(
                f"the API server at {client.endpoint} is not ready: HTTP {status} "
                f"{raw[:120].decode(errors='replace')}",
                "check the kube-apiserver logs (crictl logs <container id>)",
            )
        )
    return f"{len(checks) - len(failed)}/{len(checks)} readyz checks ok", problems


def _readyz_fix(check: str) -> str:
    if check == "etcd":
        return "the API server cannot reach etcd: see the etcd check below and the etcd Pod's logs"
    if check.startswith("poststarthook/") or check == "informer-sync":
        return "the API server is still starting: wait (verify --wait 2m) or read its logs"
    return "read the kube-apiserver logs (crictl logs <container id>)"


# --- control-plane components ----------------------------------------------------------------------


def control_plane_pods(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Every control-plane component (and local etcd) has a Running, Ready mirror Pod on every
    control-plane node."""
    nodes = [name_of(n) for n in env.control_plane_nodes()]
    if not nodes:
        return "no control-plane Node", [
            Problem(
                "no Node carries the control-plane label",
                "kubeadm-py init phase mark-control-plane (on each control-plane node)",
            )
        ]
    components = (
        (*CONTROL_PLANE_COMPONENTS, "etcd") if env.cluster_cfg().local_etcd else CONTROL_PLANE_COMPONENTS
    )
    listed = env.pods(KUBE_SYSTEM)
    pods = {name_of(p): p for p in listed}
    problems = []
    for node in nodes:
        for comp in components:
            pod = pods.get(f"{comp}-{node}") or self_hosted_pod(listed, comp, node)
            problem = _pod_problem(env, comp, node, pod)
            if problem is not None:
                problems.append(problem)
    n = len(nodes) * len(components)
    return f"{n - len(problems)}/{n} control-plane Pods running and ready on {len(nodes)} node(s)", problems


def self_hosted_pod(pods: list[Obj], comp: str, node: str) -> Obj | None:
    """The DaemonSet Pod of a self-hosted ``comp`` on ``node`` (docs/selfhosting.md)."""
    from kubeadm_py.selfhosting.contract import ds_name

    return next(
        (
            p
            for p in pods
            if ((p.get("metadata") or {}).get("labels") or {}).get("k8s-app") == ds_name(comp)
            and (p.get("spec") or {}).get("nodeName") == node
        ),
        None,
    )


def _pod_problem(env: VerifyEnv, comp: str, node: str, pod: Obj | None) -> Problem | None:
    manifest = f"{env.manifests_dir}/{comp}.yaml"
    if pod is None:
        return Problem(
            f"{comp} is not running on {node}: no mirror Pod (the kubelet does not run {manifest})",
            f"on {node}: restore {manifest} (kubeadm-py upgrade diff shows what it should be) and check "
            "the kubelet (systemctl status kubelet)",
        )
    status = pod.get("status") or {}
    ready = node_condition(pod, "Ready").get("status") == "True"
    if status.get("phase") == "Running" and ready:
        return None
    why = _container_why(pod) or f"phase {status.get('phase', 'unknown')}, not ready"
    return Problem(f"{comp} on {node} is not healthy: {why}", LOGS_FIX.format(node=node, comp=comp))


def _container_why(pod: Obj) -> str:
    """The first container's waiting or last terminated state, in a few words."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state:
            w = state["waiting"]
            return f"{cs.get('name')} waiting: {w.get('reason', '')} {w.get('message', '')}".strip()
        last = (cs.get("lastState") or {}).get("terminated")
        if last and not cs.get("ready"):
            return f"{cs.get('name')} exited with code {last.get('exitCode')} ({last.get('reason', '')})"
        if not cs.get("ready"):
            return f"{cs.get('name')} is not ready (restarts: {cs.get('restartCount', 0)})"
    return ""


# --- etcd ------------------------------------------------------------------------------------------


def etcd_members(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Every member healthy, one leader all agree on, a quorum of voting members."""
    cfg = env.cluster_cfg()
    if not cfg.local_etcd:
        raise Skip("external etcd: check it with its own tools (etcdctl endpoint health --cluster)")
    endpoints = etcd_endpoints(env)
    if not endpoints:
        raise Skip("no local etcd endpoint known on this node (no kube-apiserver manifest)")
    first = env.fx.etcd(endpoints, cfg.cert_dir)
    first.timeout = min(first.timeout, 5.0)
    try:
        members = first.members()
    except KubeadmError as e:
        return _etcd_unlisted(env, first.endpoint_status(), e)
    urls = [u for m in members for u in m.client_urls[:1]]
    statuses = env.fx.etcd(urls or endpoints, cfg.cert_dir).endpoint_status()
    by_url = {s.endpoint.rstrip("/"): s for s in statuses}
    names = {m.id: m.name or m.hex_id for m in members}
    problems = []
    healthy_voters = 0
    voters = [m for m in members if not m.is_learner]
    leaders = set()
    for m in members:
        name = m.name or m.hex_id
        if not m.started:
            problems.append(
                Problem(
                    f"etcd member {m.hex_id} ({', '.join(m.peer_urls)}) was added but never started",
                    "finish its join (kubeadm-py join --control-plane on that node) or remove it "
                    "(etcdctl member remove)",
                )
            )
            continue
        st = by_url.get(m.client_urls[0].rstrip("/")) if m.client_urls else None
        if st is None or st.error:
            why = st.error if st is not None else "no client URL"
            problems.append(
                Problem(
                    f"etcd member {name} ({', '.join(m.client_urls)}) is not healthy: {why}",
                    LOGS_FIX.format(node=name, comp="etcd") + f"; is {env.manifests_dir}/etcd.yaml there?",
                )
            )
            continue
        if st.leader:
            leaders.add(st.leader)
        if not m.is_learner:
            healthy_voters += 1
    if healthy_voters and not leaders:
        problems.append(Problem("etcd has no leader", "check the etcd logs for election errors"))
    elif len(leaders) > 1:
        problems.append(
            Problem(
                "etcd members disagree on the leader: " + ", ".join(names.get(x, f"{x:x}") for x in leaders),
                "check the network between control-plane nodes (peer port 2380)",
            )
        )
    if voters and healthy_voters <= len(voters) // 2:
        problems.append(
            Problem(
                f"etcd has no quorum: {healthy_voters} of {len(voters)} voting members healthy "
                f"({len(voters) // 2 + 1} needed)",
                "bring the stopped members back; if they are lost for good, restore etcd from a snapshot",
            )
        )
    leader = ", ".join(names.get(x, f"{x:x}") for x in leaders) or "none"
    return (
        f"{len(members)} member(s), {healthy_voters}/{len(voters)} voting healthy, leader {leader}",
        problems,
    )


def _etcd_unlisted(env: VerifyEnv, statuses: list[Any], error: KubeadmError) -> tuple[str, list[Problem]]:
    """etcd did not list its members: each endpoint the API server uses, and the lost quorum."""
    problems = [
        Problem(
            f"etcd at {s.endpoint} is not healthy: {s.error}",
            LOGS_FIX.format(node=env.node_name(), comp="etcd") + f"; is {env.manifests_dir}/etcd.yaml there?",
        )
        for s in statuses
        if s.error
    ]
    problems.append(
        Problem(
            f"etcd has no quorum: its members cannot be listed ({error.message})",
            "bring the stopped members back; if they are lost for good, restore etcd from a snapshot",
        )
    )
    return "members not listed", problems


def etcd_endpoints(env: VerifyEnv) -> list[str]:
    """The API server's ``--etcd-servers`` on this node, else the local member's client URL."""
    pod = env.manifest("kube-apiserver")
    if pod is not None:
        for part in ((pod.get("spec") or {}).get("containers") or [{}])[0].get("command") or []:
            if str(part).startswith("--etcd-servers="):
                return [u for u in str(part).split("=", 1)[1].split(",") if u]
    return []


# --- nodes -----------------------------------------------------------------------------------------


def nodes_ready(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Every Node Ready, no pressure condition, its kubelet's Lease fresh; a Node NotReady only because
    no pod network is installed is a warning saying so."""
    nodes = env.nodes()
    problems = []
    for n in nodes:
        problems += _node_problems(env, n)
    ready = sum(1 for n in nodes if node_condition(n, "Ready").get("status") == "True")
    return f"{ready}/{len(nodes)} Node(s) Ready", problems


def network_only(node: Obj) -> bool:
    """NotReady only because the runtime's network (CNI) is not ready."""
    c = node_condition(node, "Ready")
    return c.get("status") == "False" and bool(_NETWORK_ONLY.search(str(c.get("message", ""))))


def _node_problems(env: VerifyEnv, n: Obj) -> list[Problem]:
    name = name_of(n)
    kubelet_fix = (
        f"on {name}: systemctl status kubelet; journalctl -u kubelet -e (start it: systemctl start kubelet)"
    )
    out = []
    lease = _lease_age(env, name)
    if lease is not None and lease > env.thresholds.lease_stale_seconds:
        out.append(
            Problem(f"node {name}: its kubelet has not renewed its Lease for {lease:.0f}s", kubelet_fix)
        )
    c = node_condition(n, "Ready")
    if c.get("status") != "True":
        msg = str(c.get("message") or c.get("reason") or "no Ready condition")
        if network_only(n):
            out.append(
                Problem(
                    f"node {name} is NotReady only because no pod network is installed ({msg})",
                    NETWORK_FIX,
                    True,
                )
            )
        elif c.get("status") == "Unknown" or not out:
            out.append(Problem(f"node {name} is NotReady: {msg}", kubelet_fix))
    for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        p = node_condition(n, kind)
        if p.get("status") == "True":
            out.append(
                Problem(f"node {name} has {kind}: {p.get('message', '')}", f"free resources on {name}")
            )
    return out


def _lease_age(env: VerifyEnv, node: str) -> float | None:
    try:
        lease = env.client().get("Lease", node, "kube-node-lease")
    except KubeadmError:
        return None
    renewed = parse_time(str(((lease or {}).get("spec") or {}).get("renewTime") or ""))
    if renewed is None:
        return None
    return (env.now() - renewed).total_seconds()


# --- kube-system workloads -------------------------------------------------------------------------


def workloads(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Every Deployment and DaemonSet in kube-system available; when only a missing pod network
    explains it (its Pods Pending on NotReady-for-network nodes), a warning that says so."""
    client = env.client()
    items: list[tuple[str, Obj, int, int]] = []
    for d in client.list("Deployment", KUBE_SYSTEM):
        want = int((d.get("spec") or {}).get("replicas", 1) or 0)
        items.append(("Deployment", d, want, int((d.get("status") or {}).get("availableReplicas") or 0)))
    for ds in client.list("DaemonSet", KUBE_SYSTEM):
        st = ds.get("status") or {}
        items.append(
            ("DaemonSet", ds, int(st.get("desiredNumberScheduled") or 0), int(st.get("numberAvailable") or 0))
        )
    problems = []
    for kind, obj, want, have in items:
        if have >= want:
            continue
        what = f"{kind} {KUBE_SYSTEM}/{name_of(obj)}: {have}/{want} available"
        problems.append(_workload_problem(env, what, _pods_of(env, obj)))
    ok = len(items) - len(problems)
    return f"{ok}/{len(items)} kube-system workloads available", problems


def _pods_of(env: VerifyEnv, obj: Obj) -> list[Obj]:
    want = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return [
        p
        for p in env.pods(KUBE_SYSTEM)
        if want and all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in want.items())
    ]


def _workload_problem(env: VerifyEnv, what: str, pods: list[Obj]) -> Problem:
    for p in pods:
        for cs in (p.get("status") or {}).get("containerStatuses") or []:
            w = (cs.get("state") or {}).get("waiting") or {}
            if w.get("reason") in _IMAGE_REASONS:
                return Problem(
                    f"{what}: Pod {name_of(p)} cannot pull its image {cs.get('image')} ({w.get('reason')})",
                    "make the image available to the nodes (imageRepository, registry access, "
                    "kubeadm-py config images pull)",
                )
            if w.get("reason") == "CrashLoopBackOff":
                return Problem(
                    f"{what}: Pod {name_of(p)} is crash-looping",
                    f"kubectl -n {KUBE_SYSTEM} logs {name_of(p)} --previous",
                )
    nodes = env.nodes()
    schedulable_ready = [n for n in nodes if node_condition(n, "Ready").get("status") == "True"]
    if pods and not schedulable_ready and nodes and all(network_only(n) for n in nodes):
        pending = [p for p in pods if (p.get("status") or {}).get("phase") == "Pending"]
        if len(pending) == len(pods):
            return Problem(
                f"{what}: its Pods are Pending because no Node is Ready, and the Nodes are NotReady only "
                "because no pod network is installed",
                NETWORK_FIX,
                True,
            )
    reasons = "; ".join(f"{name_of(p)}: {_pod_reason(p)}" for p in pods[:3]) or "no Pods"
    return Problem(
        f"{what} ({reasons})", f"kubectl -n {KUBE_SYSTEM} describe pods; kubectl -n {KUBE_SYSTEM} get events"
    )


def _pod_reason(p: Obj) -> str:
    sched = node_condition(p, "PodScheduled")
    if sched.get("status") == "False":
        return f"not scheduled: {sched.get('message', sched.get('reason', ''))}"
    return _container_why(p) or str((p.get("status") or {}).get("phase", "unknown"))
