"""Self-hosting on the Kubernetes v1.20.2 test bed (real kubelet and containerd): ONE cluster for the
module, initialised by kubeadm-py with the SelfHosting feature gate, so init's selfhosting phase
pivots kube-apiserver, kube-controller-manager and kube-scheduler to DaemonSets.

The cluster is the module-scoped fixture ``selfhosted``; a test that restarts the node (the
checkpointer's) takes it as well and leaves the control plane healthy for the tests after it.
Seconds per step are printed (``[selfhosting-testbed] seconds: ...``)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any

import pytest

from kubeadm_py.durations import duration_seconds
from tests.testbed.configs import KUBE_PROXY_CONFIG, init_config_v1beta4
from tests.testbed.fixtures import control_plane_node

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "abcdef.0123456789abcdef"
MANIFESTS = "/etc/kubernetes/manifests"
BACKUPS = "/etc/kubernetes/tmp/kubeadm-py-selfhosting"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
CHECKPOINTER_UNIT = "/etc/systemd/system/kubeadm-py-checkpointer.service"
TIMINGS: dict[str, float] = {}


def kubeadm_py(node: Any, *args: str, timeout: float = 600, check: bool = True) -> Any:
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


def config(address: str, name: str) -> str:
    text = init_config_v1beta4(address, name, token=TOKEN, control_plane_endpoint=f"{address}:6443")
    text = text.replace(
        "kind: ClusterConfiguration\n", "kind: ClusterConfiguration\nfeatureGates:\n  SelfHosting: true\n"
    )
    # kube-proxy leaves the global conntrack sysctls alone in a node's network namespace.
    return text + "---\n" + KUBE_PROXY_CONFIG


@pytest.fixture(scope="module")
def selfhosted(request: pytest.FixtureRequest):  # noqa: ANN201
    """The self-hosted control-plane node (a test bed Node), after ``init`` with SelfHosting on."""
    with control_plane_node(request, "sh-a", "kpt-selfhost", config) as (node, cfg):
        t0 = time.monotonic()
        try:
            r = kubeadm_py(node, "init", "--config", cfg, "--ignore-preflight-errors=all", "-o", "json")
            TIMINGS["init-with-selfhosting"] = time.monotonic() - t0
            node.init_report = json.loads(r.stdout)
            # how long each component was down: from its static Pod's stop to its DaemonSet Pod's health
            for comp, took in re.findall(
                r"\[self-hosted\] (\S+) is self-hosted on \S+: healthy (\S+) after", r.stderr
            ):
                TIMINGS[f"down-{comp}"] = duration_seconds(took, "pivot log")
            yield node
        finally:
            print(f"\n[selfhosting-testbed] seconds: { {k: round(v, 1) for k, v in TIMINGS.items()} }")


def pods(node: Any, component: str) -> list[dict[str, Any]]:
    r = node.kubectl(
        "-n", "kube-system", "get", "pods", "-l", f"k8s-app=self-hosted-{component}", "-o", "json"
    )
    return list(json.loads(r.stdout)["items"])


def ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def test_init_runs_the_control_plane_as_daemonset_pods(selfhosted: Any) -> None:
    node = selfhosted
    phases = {p["phase"]: p["status"] for p in node.init_report["phases"]}
    for comp in COMPONENTS:
        assert phases[f"selfhosting/{comp}"] == "changed", phases
    # the checkpointer's unit lands before the pivot; PID 1 of a test-bed node is not systemd, so
    # kubeadm-py only writes it (enabling and starting it is the node's service manager's business)
    assert phases["selfhosting/install-checkpointer"] == "changed", phases
    with open(node.path(CHECKPOINTER_UNIT)) as f:
        unit = f.read()
    assert f"selfhosting checkpointer run --node-name {node.name} --cri-socket " in unit, unit
    listing = node.run(["ls", MANIFESTS]).stdout.split()
    assert listing == ["etcd.yaml"], listing  # local etcd stays static; no control-plane manifest left
    assert sorted(node.run(["ls", BACKUPS]).stdout.split()) == sorted(f"{c}.yaml" for c in COMPONENTS)
    for comp in COMPONENTS:
        ds = json.loads(
            node.kubectl("-n", "kube-system", "get", "ds", f"self-hosted-{comp}", "-o", "json").stdout
        )
        template = ds["spec"]["template"]
        assert template["metadata"]["labels"] == {"k8s-app": f"self-hosted-{comp}", "tier": "control-plane"}
        assert template["metadata"]["annotations"]["kubeadm-py.io/checkpoint"] == "true"
        assert template["spec"]["nodeSelector"] == {"kubeadm-py.io/self-hosted": "true"}
        assert template["spec"]["hostNetwork"] is True
        assert template["spec"]["priorityClassName"] == "system-node-critical"
        assert ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1
        mine = [p for p in pods(node, comp) if p["spec"]["nodeName"] == node.name]
        assert len(mine) == 1 and ready(mine[0]), mine
        # No mirror Pod of a static one is left.
        r = node.kubectl("-n", "kube-system", "get", "pod", f"{comp}-{node.name}", check=False)
        assert r.returncode != 0 and "NotFound" in r.stderr
    labels = json.loads(node.kubectl("get", "node", node.name, "-o", "json").stdout)["metadata"]["labels"]
    assert labels["kubeadm-py.io/self-hosted"] == "true"
    status = json.loads(kubeadm_py(node, "selfhosting", "status", "-o", "json").stdout)
    mine = {r["component"]: r for r in status["components"] if r["node"] == node.name}
    assert {c: mine[c]["mode"] for c in COMPONENTS} == dict.fromkeys(COMPONENTS, "self-hosted")
    assert all(mine[c]["pod"] == "Running, Ready" for c in COMPONENTS), mine


def test_verify_passes_with_the_components_self_hosted(selfhosted: Any) -> None:
    t0 = time.monotonic()
    r = kubeadm_py(selfhosted, "verify", "--wait", "240s", "-o", "json", check=False, timeout=400)
    TIMINGS["verify"] = time.monotonic() - t0
    report = json.loads(r.stdout)
    problems = [f"{p['check']}: {p['message']}" for p in report["problems"]]
    assert r.returncode == 0 and report["healthy"], problems
    by_name = {c["name"]: c for c in report["checks"]}
    for name in ("control-plane-pods", "manifest-drift", "apiserver-readyz", "etcd"):
        assert by_name[name]["status"] == "pass", by_name[name]


def test_pivot_again_changes_nothing(selfhosted: Any) -> None:
    t0 = time.monotonic()
    r = kubeadm_py(selfhosted, "selfhosting", "pivot", "-o", "json")
    TIMINGS["pivot-rerun"] = time.monotonic() - t0
    phases = {p["phase"]: p["status"] for p in json.loads(r.stdout)["phases"]}
    assert all(phases[c] == "unchanged" for c in (*COMPONENTS, "install-checkpointer")), phases
