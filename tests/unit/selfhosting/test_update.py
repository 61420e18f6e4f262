"""What ``upgrade apply`` decides about a self-hosted DaemonSet (kubeadm_py/selfhosting/update.py):
when the rolling update is done, when this node needs the checkpoint as a bridge, and whether the
live DaemonSet already has what kubeadm-config renders."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeadm_py.selfhosting.update import changed, needs_bridge, previous, rolled_out, unchanged, wanted


def ds(generation: int = 2, **status: int) -> dict[str, Any]:
    base = {
        "observedGeneration": 2,
        "desiredNumberScheduled": 1,
        "updatedNumberScheduled": 1,
        "numberReady": 1,
    }
    return {
        "metadata": {"name": "self-hosted-kube-apiserver", "generation": generation},
        "status": {**base, **status},
    }


def pod(generation: str = "2", ready: bool = True, deleting: bool = False) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "self-hosted-kube-apiserver-abcde",
            "labels": {"pod-template-generation": generation},
            **({"deletionTimestamp": "2026-12-04T05:00:00Z"} if deleting else {}),
        },
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


@pytest.mark.parametrize(
    ("live", "pods", "done", "why"),
    [
        (ds(), [pod()], True, ""),
        (None, [pod()], False, "the DaemonSet is gone"),
        (ds(observedGeneration=1), [pod()], False, "has not seen generation 2 yet"),
        (
            ds(desiredNumberScheduled=3, updatedNumberScheduled=2, numberReady=3),
            [pod()],
            False,
            "2/3 Pods updated",
        ),
        (ds(desiredNumberScheduled=3, updatedNumberScheduled=3, numberReady=2), [pod()], False, "2/3 Ready"),
        (ds(), [pod("1")], True, ""),  # the same template by hash: a rollback leaves it alone
        (ds(), [pod(deleting=True)], False, "no Pod of generation 2 on cp1 yet"),
        (ds(), [pod(ready=False)], False, "is not Ready"),
        (ds(), [], False, "no Pod of generation 2 on cp1 yet"),
    ],
)
def test_rolled_out(live: dict[str, Any] | None, pods: list[dict[str, Any]], done: bool, why: str) -> None:
    ok, detail = rolled_out(live, pods, "cp1")
    assert ok is done and why in detail


@pytest.mark.parametrize(("desired", "bridge"), [(0, True), (1, True), (2, False), (3, False)])
def test_a_bridge_only_for_a_single_pod(desired: int, bridge: bool) -> None:
    assert needs_bridge(ds(desiredNumberScheduled=desired)) is bridge


MANIFEST = yaml.safe_dump(
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
        "spec": {
            "hostNetwork": True,
            "containers": [
                {
                    "name": "kube-scheduler",
                    "image": "k8s.gcr.io/kube-scheduler:v1.20.2",
                    "command": ["kube-scheduler", "--leader-elect=true"],
                }
            ],
        },
    }
).encode()


def test_the_live_daemonset_with_api_defaults_is_unchanged_and_a_new_flag_is_not() -> None:
    live = wanted("kube-scheduler", MANIFEST, None)
    live["metadata"].update({"generation": 4, "resourceVersion": "77", "uid": "u"})
    live["spec"]["revisionHistoryLimit"] = 10  # defaults the API server adds
    live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"
    live["status"] = {"desiredNumberScheduled": 1}
    assert unchanged(wanted("kube-scheduler", MANIFEST, live), live)
    flagged = MANIFEST.replace(b"--leader-elect=true", b"--leader-elect=true\n    - --v=2")
    want = wanted("kube-scheduler", flagged, live)
    assert not unchanged(want, live)
    assert changed(want, live) == ["spec.template.spec.containers"]
    back = previous(live)
    assert "status" not in back and "resourceVersion" not in back["metadata"]
    assert back["spec"] == live["spec"]
