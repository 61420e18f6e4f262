"""``--workload``: a short-lived host-network Pod on each Node proves scheduling (the scheduler binds
it to that Node), logs and exec (the API server reaches the kubelet), then is deleted.

The Pod uses only the pause image, which every node has (it is the runtime's sandbox image): an
init container runs ``/pause -v`` (prints ``pause.c v...``, read back as logs), the main container
runs ``/pause``, and ``/pause -v`` is exec'ed in it. Host network: no pod network is needed."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from kubeadm_py.errors import KubeadmError
from kubeadm_py.verify.env import Obj, VerifyEnv, name_of
from kubeadm_py.verify.model import Problem

NAMESPACE = "default"
LABEL = "kubeadm-py/verify"
POD_TIMEOUT = 60.0  # seconds for a Pod to run
POLL = 1.0
PAUSE_BANNER = b"pause.c"


def pod_for(node: str, image: str, suffix: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"kubeadm-py-verify-{node}"[:50].rstrip("-.") + f"-{suffix}",
            "namespace": NAMESPACE,
            "labels": {LABEL: "workload"},
        },
        "spec": {
            "hostNetwork": True,
            "nodeSelector": {"kubernetes.io/hostname": node},  # the scheduler places it (no nodeName)
            "tolerations": [{"operator": "Exists"}],  # control-plane and not-ready taints
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "initContainers": [{"name": "hello", "image": image, "command": ["/pause", "-v"]}],
            "containers": [{"name": "pause", "image": image, "command": ["/pause"]}],
        },
    }


def workload_image(env: VerifyEnv) -> str:
    """``--workload-image``, else the pause image of the cluster's version and repository."""
    if env.workload_image:
        return env.workload_image
    from kubeadm_py.manifests.images import pause_image

    return pause_image(env.cluster_cfg())


def workload(env: VerifyEnv) -> tuple[str, list[Problem]]:
    client = env.client()
    image = workload_image(env)
    nodes = [name_of(n) for n in env.nodes()]
    suffix = secrets.token_hex(3)
    problems = []
    for node in nodes:
        pod = pod_for(node, image, suffix)
        name = pod["metadata"]["name"]
        client.create(pod)
        try:
            problems += _prove(env, node, name)
        finally:
            try:
                client.request(
                    "DELETE", f"/api/v1/namespaces/{NAMESPACE}/pods/{name}", {"gracePeriodSeconds": 0}
                )
            except KubeadmError as e:
                problems.append(
                    Problem(
                        f"cannot delete the verify Pod {NAMESPACE}/{name}: {e.message}",
                        f"kubectl -n {NAMESPACE} delete pod {name}",
                    )
                )
    ok = len(nodes) - len({p.message.split(":", 1)[0] for p in problems})
    return f"{max(ok, 0)}/{len(nodes)} Node(s) ran a Pod (image {image}), logs and exec ok", problems


def _prove(env: VerifyEnv, node: str, name: str) -> list[Problem]:
    client = env.client()
    where = f"workload Pod on {node}"
    deadline = env.clock.monotonic() + POD_TIMEOUT
    live: Obj | None = None
    while True:
        live = client.get("Pod", name, NAMESPACE)
        phase = ((live or {}).get("status") or {}).get("phase")
        if phase == "Running" and _ready(live):
            break
        if phase in ("Failed", "Succeeded") or env.clock.monotonic() >= deadline:
            return [
                Problem(f"{where}: did not run within {POD_TIMEOUT:.0f}s ({_why(live)})", _fix(live, node))
            ]
        env.clock.sleep(POLL)
    placed = ((live or {}).get("spec") or {}).get("nodeName")
    if placed != node:
        return [Problem(f"{where}: scheduled to {placed!r}", "check the scheduler and the Node's labels")]
    out = []
    status, raw = client.transport.send(
        "GET", f"/api/v1/namespaces/{NAMESPACE}/pods/{name}/log?container=hello", None, {"Accept": "*/*"}
    )
    if status != 200 or PAUSE_BANNER not in raw:
        out.append(
            Problem(
                f"{where}: logs through the API server failed: HTTP {status} "
                f"{raw[:120].decode(errors='replace')}",
                f"the API server must reach the kubelet on {node} "
                "(port 10250, its --kubelet-client certificate)",
            )
        )
    out += _exec(env, where, node, name)
    return out


def _exec(env: VerifyEnv, where: str, node: str, name: str) -> list[Problem]:
    from kubeadm_py.kube.wire import TransportError

    stream: Any = getattr(env.client().transport, "stream", None)
    if stream is None:
        return [
            Problem(f"{where}: this API client cannot exec (no streaming transport)", "use a kubeconfig file")
        ]
    query = urlencode(
        [
            ("container", "pause"),
            ("command", "/pause"),
            ("command", "-v"),
            ("stdout", "true"),
            ("stderr", "true"),
        ]
    )
    try:
        channels: dict[int, bytes] = stream(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}/exec?{query}")
    except TransportError as e:
        return [
            Problem(
                f"{where}: exec through the API server failed: {e.reason}",
                f"the API server must reach the kubelet on {node} (port 10250)",
            )
        ]
    status = channels.get(3, b"")
    if PAUSE_BANNER not in channels.get(1, b"") or b'"Success"' not in status:
        return [
            Problem(
                f"{where}: exec did not answer as expected: "
                f"{(channels.get(2, b'') + status)[:160].decode(errors='replace')}",
                f"the API server must reach the kubelet on {node} (port 10250)",
            )
        ]
    return []


def _ready(pod: Obj | None) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in ((pod or {}).get("status") or {}).get("conditions") or []
    )


def _why(pod: Obj | None) -> str:
    if pod is None:
        return "the Pod disappeared"
    from kubeadm_py.verify.cluster import _pod_reason

    return _pod_reason(pod)


def _fix(pod: Obj | None, node: str) -> str:
    if not ((pod or {}).get("spec") or {}).get("nodeName"):
        return "check kube-scheduler (see control-plane-pods) and the Node's taints and conditions"
    return f"check the kubelet and the container runtime on {node} (kubectl describe pod; crictl ps -a)"
