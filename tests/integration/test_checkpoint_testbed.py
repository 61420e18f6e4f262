"""The checkpointer on the Kubernetes v1.20.2 test bed, with a self-hosted control plane made by
hand (the DaemonSets of the pivot contract built from the static manifests in this test), so the
restart recovery is tested on its own: one node, the checkpointer installed as a unit the harness
runs like systemd; then a "reboot" (the kubelet stopped, every pod sandbox and container removed
through the CRI, the units started again as at boot, the kubelet started): the control plane must
come back with no manual step, and no checkpoint stays active."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import pytest
import yaml

from tests.testbed._proc import wait_for
from tests.testbed.configs import KUBE_PROXY_CONFIG, init_config_v1beta4

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
TIMINGS: dict[str, float] = {}


def kubeadm_py(node: Any, *args: str, timeout: float = 600, check: bool = True) -> Any:
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


def daemonset(static: dict[str, Any], component: str) -> dict[str, Any]:
    """The pivot contract's DaemonSet for a static Pod (made by hand here)."""
    labels = {"k8s-app": f"self-hosted-{component}", "tier": "control-plane", "component": component}
    spec = dict(static["spec"])
    spec.update(
        nodeSelector={"kubeadm-py.io/self-hosted": "true"},
        tolerations=[{"operator": "Exists"}],
        automountServiceAccountToken=False,
    )
    annotations = dict(static["metadata"].get("annotations") or {}, **{"kubeadm-py.io/checkpoint": "true"})
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": f"self-hosted-{component}", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": f"self-hosted-{component}"}},
            "template": {"metadata": {"labels": labels, "annotations": annotations}, "spec": spec},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
    }


def ds_pods(node: Any) -> dict[str, str]:
    r = node.kubectl(
        "-n", "kube-system", "get", "pods", "-l", "tier=control-plane", "-o", "json", timeout=20, check=False
    )
    if r.returncode != 0:
        return {}
    out = {}
    for p in json.loads(r.stdout)["items"]:
        name = p["metadata"]["name"]
        conds = {c["type"]: c["status"] for c in p["status"].get("conditions") or []}
        if name.startswith("self-hosted-"):
            out[name] = "Ready" if conds.get("Ready") == "True" else p["status"].get("phase", "?")
    return out


def until(pred: Any, timeout: float, what: str, interval: float = 2) -> float:
    t0 = time.monotonic()
    wait_for(pred, timeout, interval, what)
    return time.monotonic() - t0


def all_ready(node: Any) -> bool:
    pods = ds_pods(node)
    return sorted(n.rsplit("-", 1)[0] for n, s in pods.items() if s == "Ready") == [
        f"self-hosted-{c}" for c in COMPONENTS
    ]


@pytest.fixture(scope="module")
def node(request: pytest.FixtureRequest):  # noqa: ANN201
    from tests.testbed.fixtures import control_plane_node

    def config(address: str, name: str) -> str:
        text = init_config_v1beta4(address, name, control_plane_endpoint=f"{address}:6443")
        return text + "---\n" + KUBE_PROXY_CONFIG

    t0 = time.monotonic()
    with control_plane_node(request, "ckpt-a", "kpt-ckpt", config) as (n, cfg):
        kubeadm_py(n, "init", "--config", cfg, "--ignore-preflight-errors=all")
        n.wait_for_apiserver()
        # the hand-made pivot: DaemonSets, node label, their Pods bound, then the static manifests away
        docs = []
        for c in COMPONENTS:
            with open(n.path(f"/etc/kubernetes/manifests/{c}.yaml")) as f:
                docs.append(daemonset(yaml.safe_load(f), c))
        path = os.path.join(n.workdir, "ds.yaml")
        with open(path, "w") as f:
            yaml.safe_dump_all(docs, f)
        n.run(["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "apply", "-f", path])
        n.kubectl("label", "node", n.name, "kubeadm-py.io/self-hosted=true")
        until(lambda: len(ds_pods(n)) == 3, 120, "the DaemonSet Pods")
        for c in COMPONENTS:
            os.replace(n.path(f"/etc/kubernetes/manifests/{c}.yaml"), os.path.join(n.workdir, f"{c}.static"))
        TIMINGS["pivot-by-hand"] = until(lambda: all_ready(n), 300, "the self-hosted control plane")
        TIMINGS["setup"] = time.monotonic() - t0
        yield n
        print(f"\n[checkpoint-testbed] seconds: { {k: round(v, 1) for k, v in TIMINGS.items()} }")


def test_checkpoints_stored(node: Any) -> None:
    kubeadm_py(node, "selfhosting", "checkpointer", "install")
    node.run(["systemctl", "enable", "--now", "kubeadm-py-checkpointer"])
    stored = "/etc/kubernetes/selfhosting/checkpoints/{}.yaml"
    TIMINGS["stored"] = until(
        lambda: all(os.path.exists(node.path(stored.format(c))) for c in COMPONENTS), 60, "stored checkpoints"
    )
    with open(node.path(stored.format("kube-apiserver"))) as f:
        pod = yaml.safe_load(f)
    assert pod["metadata"]["name"] == "kubeadm-py-checkpoint-kube-apiserver"
    assert "nodeName" not in pod["spec"]
    assert oct(os.stat(node.path(stored.format("kube-apiserver"))).st_mode & 0o777) == "0o600"


def test_control_plane_back_after_a_reboot(node: Any) -> None:
    node.run(["systemctl", "stop", "kubelet"])
    node.units.stop_all()
    node.remove_all_pods()
    node.units.boot()
    node.run(["systemctl", "start", "kubelet"])
    active = "/etc/kubernetes/manifests/kubeadm-py-checkpoint-{}.yaml"

    def back() -> bool:
        return all_ready(node) and not any(os.path.exists(node.path(active.format(c))) for c in COMPONENTS)

    try:
        TIMINGS["reboot-recovery"] = until(back, 400, "the control plane after the reboot", interval=3)
    finally:
        with open(os.path.join(node.logdir, "kubeadm-py-checkpointer.log")) as f:
            print(f.read()[-4000:])
    node.wait_for_apiserver(60)


def test_recover_without_the_checkpointer(node: Any) -> None:
    """The manual path: no checkpointer running, the scheduler's checkpoint gone; ``recover``
    starts the control plane from the stored checkpoints and from --config, then hands over."""
    node.run(["systemctl", "disable", "--now", "kubeadm-py-checkpointer"])
    os.unlink(node.path("/etc/kubernetes/selfhosting/checkpoints/kube-scheduler.yaml"))
    node.run(["systemctl", "stop", "kubelet"])
    node.remove_all_pods()
    node.run(["systemctl", "start", "kubelet"])
    t0 = time.monotonic()
    active = "/etc/kubernetes/manifests/kubeadm-py-checkpoint-{}.yaml"
    r = kubeadm_py(node, "selfhosting", "recover", "--wait", "6m", check=False, timeout=420)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "no stored checkpoint for kube-scheduler" in r.stderr and "--config" in r.stderr
    assert not os.path.exists(node.path(active.format("kube-apiserver")))
    cfg = os.path.join(node.workdir, "kubeadm-py.yaml")
    r = kubeadm_py(node, "selfhosting", "recover", "--config", cfg, "--wait", "6m", check=False, timeout=420)
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stderr
    assert "kube-apiserver: started from its stored checkpoint" in r.stdout
    assert "kube-scheduler: started from the kubeadm configuration" in r.stdout
    assert not any(os.path.exists(node.path(active.format(c))) for c in COMPONENTS)
    until(lambda: all_ready(node), 300, "the DaemonSet Pods after recover")  # back-offs: up to 5 min
    TIMINGS["recover"] = time.monotonic() - t0
