"""verify on a node whose kube-scheduler is self-hosted (docs/selfhosting.md): its DaemonSet Pod
counts as the control-plane Pod, and the DaemonSet's template is checked for drift."""

from __future__ import annotations

import yaml

from kubeadm_py.selfhosting import contract
from kubeadm_py.selfhosting.daemonset import build_daemonset, image_version
from tests.unit.verify.conftest import NODE, World
from tests.unit.verify.test_checks import messages, results

COMP = "kube-scheduler"


def pivot_scheduler(world: World, *, ready: bool = True) -> dict:
    """What ``selfhosting pivot`` leaves: the manifest moved aside, the DaemonSet and its Pod."""
    manifest = world.path(f"/etc/kubernetes/manifests/{COMP}.yaml")
    backup = world.path(contract.backup_path(COMP))
    backup.parent.mkdir(parents=True)
    manifest.rename(backup)
    pod = yaml.safe_load(backup.read_text())
    ds = build_daemonset(COMP, pod, image_version(pod))
    ds["status"] = {
        "desiredNumberScheduled": 1,
        "numberAvailable": 1,
        "numberReady": 1,
        "updatedNumberScheduled": 1,
    }
    world.server.put(ds)
    del world.server.objects[("Pod", "kube-system", f"{COMP}-{NODE}")]
    world.server.put(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "self-hosted-kube-scheduler-a1b2c",
                "namespace": "kube-system",
                "labels": contract.pod_labels(COMP),
                "ownerReferences": [{"kind": "DaemonSet", "name": contract.ds_name(COMP)}],
            },
            "spec": {"nodeName": NODE, **ds["spec"]["template"]["spec"]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                "containerStatuses": [{"name": COMP, "ready": ready, "restartCount": 3}],
            },
        }
    )
    return ds


def test_a_self_hosted_component_passes(world: World) -> None:
    pivot_scheduler(world)
    got = results(world)
    bad = {n: messages(r) for n, r in got.items() if r.status != "pass"}
    assert not bad
    assert got["control-plane-pods"].detail == "4/4 control-plane Pods running and ready on 1 node(s)"


def test_a_self_hosted_pod_not_ready_is_reported(world: World) -> None:
    pivot_scheduler(world, ready=False)
    got = results(world, "cluster")
    assert messages(got["control-plane-pods"]) == [
        f"{COMP} on {NODE} is not healthy: {COMP} is not ready (restarts: 3)"
    ]


def test_a_daemonset_drifting_from_kubeadm_config_is_reported(world: World) -> None:
    ds = pivot_scheduler(world)
    command = ds["spec"]["template"]["spec"]["containers"][0]["command"]
    command.append("--v=5")
    world.server.put(ds)
    got = results(world, "cluster")
    assert messages(got["manifest-drift"]) == [
        "DaemonSet kube-system/self-hosted-kube-scheduler drifted from kubeadm-config: "
        "--v=5 not in kubeadm-config"
    ]


def test_version_skew_reads_the_daemonset_pods(world: World) -> None:
    ds = pivot_scheduler(world)
    pod = world.pod("self-hosted-kube-scheduler-a1b2c")
    image = ds["spec"]["template"]["spec"]["containers"][0]["image"]
    pod["spec"]["containers"][0]["image"] = image.rsplit(":", 1)[0] + ":v1.99.0"
    world.server.put(pod)
    got = results(world, "cluster")
    assert any(
        m.startswith("kube-scheduler 1.99.0 on cp-1 is outside the skew policy")
        for m in messages(got["version-skew"])
    )


def activate_checkpoint(world: World, failed: str = "") -> str:
    """The checkpointer's active checkpoint of the scheduler (``failed``: the Pod a hand-back failed to)."""
    from kubeadm_py.selfhosting.checkpoint import FAILED_PODS_ANNOTATION, active_path

    path = active_path(COMP)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"kubeadm-py-checkpoint-{COMP}"}}
    if failed:
        pod["metadata"]["annotations"] = {FAILED_PODS_ANNOTATION: failed}
    world.path(path).write_text(yaml.safe_dump(pod))
    return path


def test_no_checkpoint_serving_passes_and_a_static_node_skips(world: World) -> None:
    assert results(world, "node")["selfhosting-checkpoints"].status == "skip"
    pivot_scheduler(world)
    got = results(world, "node")["selfhosting-checkpoints"]
    assert got.status == "pass" and got.detail == "1/1 self-hosted components served by their DaemonSet Pods"


def test_a_checkpoint_serving_is_one_line_with_its_fix(world: World) -> None:
    pivot_scheduler(world)
    path = activate_checkpoint(world)
    got = results(world, "node")["selfhosting-checkpoints"]
    assert got.status == "fail"
    assert messages(got) == [
        f"{COMP} on {NODE} runs from its checkpoint ({path}): its DaemonSet Pod has not taken over yet"
    ]
    activate_checkpoint(world, failed="self-hosted-kube-scheduler-br0k3")
    got = results(world, "node")["selfhosting-checkpoints"]
    assert messages(got) == [
        f"{COMP} on {NODE} runs from its checkpoint ({path}): the hand-back to its DaemonSet Pod "
        "self-hosted-kube-scheduler-br0k3 failed"
    ]
    assert "rollout undo ds/self-hosted-kube-scheduler" in got.problems[0].fix
