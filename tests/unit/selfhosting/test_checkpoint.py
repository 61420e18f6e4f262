"""The checkpointer's decisions as a table, the static-Pod form of a DaemonSet Pod, and the loop
against a fake runtime and API client on a real directory (HostFS --rootfs)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.errors import ApiError
from kubeadm_py.host.cri import ContainerInfo, Sandbox
from kubeadm_py.hostfs import HostFS
from kubeadm_py.selfhosting.checkpoint import (
    Action,
    Seen,
    Timing,
    active_path,
    decide,
    is_ds_pod_name,
    stored_path,
    to_static_pod,
)
from kubeadm_py.selfhosting.checkpointer import Checkpointer, states

T = Timing(grace=10, takeover=120)
BASE = dict(
    api_up=True, api_down_for=0.0, api_pod_changed=False, ds_running=True, ds_down_for=0.0,
    ds_sandbox_ready=True, new_ds_container=False, stored=True, active=False,
)  # fmt: skip

# (what changes from BASE, expected action): API up?, DS pod running?, checkpoint stored/active?
TABLE: list[tuple[str, dict[str, Any], Action]] = [
    ("steady state", {}, Action.NONE),
    ("first sight of a running DS Pod", {"stored": False, "api_pod_changed": True}, Action.STORE),
    ("DS Pod spec changed (upgrade)", {"api_pod_changed": True}, Action.STORE),
    (
        "changed but its container not running here",
        {"api_pod_changed": True, "ds_running": False},
        Action.NONE,
    ),
    (
        "after a reboot: no API, no DS Pod, grace passed",
        {
            "api_up": False,
            "api_down_for": 12,
            "ds_running": False,
            "ds_down_for": 12,
            "ds_sandbox_ready": False,
        },
        Action.ACTIVATE,
    ),
    (
        "no API, no DS Pod, within grace",
        {
            "api_up": False,
            "api_down_for": 5,
            "ds_running": False,
            "ds_down_for": 5,
            "ds_sandbox_ready": False,
        },
        Action.NONE,
    ),
    (
        "no API, no DS Pod, nothing stored",
        {
            "api_up": False,
            "api_down_for": 60,
            "ds_running": False,
            "ds_down_for": 60,
            "ds_sandbox_ready": False,
            "stored": False,
        },
        Action.NONE,
    ),
    (
        "API up (another node serves it), DS Pod not running here",
        {"ds_running": False, "ds_down_for": 60, "ds_sandbox_ready": False},
        Action.NONE,
    ),
    (
        "no API, DS Pod sandbox ready but in back-off (hand-off under way)",
        {"api_up": False, "api_down_for": 30, "ds_running": False, "ds_down_for": 30},
        Action.NONE,
    ),
    (
        "no API, DS sandbox stuck without a running container past takeover",
        {"api_up": False, "api_down_for": 130, "ds_running": False, "ds_down_for": 130},
        Action.ACTIVATE,
    ),
    ("no API but the DS Pod runs (API starting)", {"api_up": False, "api_down_for": 30}, Action.NONE),
    (
        "checkpoint active, no new DS sandbox yet",
        {"active": True, "api_up": False, "ds_running": False, "ds_sandbox_ready": False},
        Action.NONE,
    ),
    (
        "checkpoint active, the kubelet created the DS container in a new sandbox",
        {"active": True, "new_ds_container": True},
        Action.DEACTIVATE,
    ),
    (
        "checkpoint active, API up, DS spec changed: no store while active",
        {"active": True, "api_pod_changed": True},
        Action.NONE,
    ),
    (
        "after a hand-back the DS Pod keeps exiting and no API answers: back to the checkpoint",
        {
            "api_up": False,
            "api_down_for": 61,
            "ds_running": False,
            "ds_down_for": 20,
            "handback_failed": True,
        },
        Action.ACTIVATE,
    ),  # fmt: skip
    (
        "a failed hand-back while the DS container happens to run: next poll",
        {"api_up": False, "api_down_for": 61, "handback_failed": True},
        Action.NONE,
    ),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in TABLE], ids=[n for n, _, _ in TABLE])
def test_decide(change: dict[str, Any], expected: Action) -> None:
    action, why = decide(Seen(**{**BASE, **change}), T)
    assert action is expected
    if expected is not Action.NONE:
        assert why, "every transition says why in its log line"


def ds_pod(
    component: str = "kube-apiserver", name: str = "self-hosted-kube-apiserver-x7k2p"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"self-hosted-{component}-",
            "namespace": "kube-system",
            "uid": "1234",
            "resourceVersion": "99",
            "ownerReferences": [
                {"kind": "DaemonSet", "name": f"self-hosted-{component}", "controller": True}
            ],
            "labels": {
                "k8s-app": f"self-hosted-{component}",
                "tier": "control-plane",
                "component": component,
                "controller-revision-hash": "5d8f",
                "pod-template-generation": "3",
            },
            "annotations": {"kubeadm-py.io/checkpoint": "true", "other": "kept"},
        },
        "spec": {
            "nodeName": "cp1",
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "schedulerName": "default-scheduler",
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
            "nodeSelector": {"kubeadm-py.io/self-hosted": "true"},
            "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
            "containers": [
                {
                    "name": component,
                    "image": f"k8s.gcr.io/{component}:v1.20.2",
                    "command": [component, "--secure-port=6443"],
                    "volumeMounts": [
                        {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki", "readOnly": True},
                        {
                            "name": "default-token-abcde",
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        },
                    ],
                }
            ],
            "volumes": [
                {
                    "name": "k8s-certs",
                    "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"},
                },
                {"name": "default-token-abcde", "secret": {"secretName": "default-token-abcde"}},
            ],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_static_pod_form() -> None:
    static = to_static_pod(ds_pod(), "kube-apiserver")
    assert static["metadata"] == {
        "name": "kubeadm-py-checkpoint-kube-apiserver",
        "namespace": "kube-system",
        "labels": {"k8s-app": "kubeadm-py-checkpoint-kube-apiserver", "tier": "control-plane",
                   "component": "kube-apiserver"},
        "annotations": {
            "other": "kept",
            "kubeadm-py.io/checkpoint-source": "kube-system/self-hosted-kube-apiserver-x7k2p",
            "kubeadm-py.io/checkpoint-generation": "3",
        },
    }  # fmt: skip
    spec = static["spec"]
    assert set(spec) == {"hostNetwork", "priorityClassName", "tolerations", "containers", "volumes"}
    assert spec["volumes"] == [
        {"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}}
    ]
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["k8s-certs"]
    assert "status" not in static
    assert ds_pod()["spec"]["nodeName"] == "cp1"  # the source is not changed


@pytest.mark.parametrize(
    ("name", "mine"),
    [
        ("self-hosted-kube-apiserver-x7k2p", True),
        ("kubeadm-py-checkpoint-kube-apiserver-cp1", False),
        ("kube-apiserver-cp1", False),
        ("self-hosted-kube-apiserver-extra-x7k2p", False),
    ],
)
def test_ds_pod_names(name: str, mine: bool) -> None:
    assert is_ds_pod_name("kube-apiserver", name) is mine


class FakeCri:
    endpoint = "unix:///fake.sock"

    def __init__(self) -> None:
        self.running: dict[str, str] = {}  # pod name -> container state
        self.created: dict[str, float] = {}  # pod name -> its container's creation time (default 0)
        self.sandboxes: list[Sandbox] = []
        self.dead: list[ContainerInfo] = []  # more exited containers (a crash-looping Pod's)

    def exit(self, pod: str, created: float) -> None:
        """One more container of ``pod`` created at ``created`` has exited."""
        self.dead.append(ContainerInfo(f"d-{pod}-{created}", "c", pod, "kube-system", "exited", 0, created))

    def container(self, pod: str, state: str, created: float) -> None:
        """The kubelet created (and maybe started) the container of ``pod`` at ``created``."""
        self.running[pod], self.created[pod] = state, created

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        return [
            ContainerInfo(f"c-{p}", "c", p, "kube-system", s, 0, self.created.get(p, 0.0))
            for p, s in self.running.items()
        ] + list(self.dead)

    def list_sandboxes(self) -> list[Sandbox]:
        return list(self.sandboxes)

    def remove_sandbox(self, sandbox: Sandbox) -> None:
        self.sandboxes.remove(sandbox)


class FakeClient:
    def __init__(self) -> None:
        self.pods: list[dict[str, Any]] | None = None  # None: the API server does not answer
        self.queries: list[str] = []

    def request(self, method: str, path: str, what: str = "") -> dict[str, Any]:
        self.queries.append(path)
        if self.pods is None:
            raise ApiError("cannot reach the API server")
        return {"items": self.pods}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def loop(tmp_path: Path) -> tuple[Checkpointer, FakeCri, FakeClient, Clock, HostFS, list[str]]:
    fs = HostFS(rootfs=str(tmp_path))
    cri, client, clock, lines = FakeCri(), FakeClient(), Clock(), []
    cp = Checkpointer(fs, cri, lambda: client, "cp1", lines.append, timing=T, clock=clock)  # type: ignore[arg-type]
    return cp, cri, client, clock, fs, lines


def test_never_acts_on_components_not_self_hosted_here(loop: Any) -> None:
    cp, cri, client, clock, fs, lines = loop
    client.pods = None  # a static control plane that is down: none of the checkpointer's business
    for _ in range(10):
        clock.now += 5
        assert cp.poll() == []
    assert states(fs) == {c: "none" for c in states(fs)}
    assert lines == []


def test_reboot_cycle(loop: Any, tmp_path: Path) -> None:
    cp, cri, client, clock, fs, lines = loop
    pod = ds_pod()
    client.pods = [pod, ds_pod("kube-scheduler", "self-hosted-kube-scheduler-abcde")]
    cri.running = {pod["metadata"]["name"]: "running", "self-hosted-kube-scheduler-abcde": "running"}
    assert [(c, a) for c, a, _ in cp.poll()] == [
        ("kube-apiserver", Action.STORE),
        ("kube-scheduler", Action.STORE),
    ]
    stored = tmp_path / stored_path("kube-apiserver").lstrip("/")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert yaml.safe_load(stored.read_text()) == to_static_pod(pod, "kube-apiserver")
    assert cp.poll() == []  # unchanged: not written again
    pod["spec"]["containers"][0]["image"] = "k8s.gcr.io/kube-apiserver:v1.20.3"
    assert [why for _, _, why in cp.poll()] == ["the DaemonSet Pod runs; changed: spec.containers"]

    # reboot: every container and sandbox gone, no API server
    client.pods, cri.running, cri.sandboxes = None, {}, []
    clock.now += 5
    assert cp.poll() == []  # within the grace period
    clock.now += 6
    assert [(c, a) for c, a, _ in cp.poll()] == [
        ("kube-apiserver", Action.ACTIVATE),
        ("kube-scheduler", Action.ACTIVATE),
    ]
    active = tmp_path / active_path("kube-apiserver").lstrip("/")
    assert yaml.safe_load(active.read_text()) == yaml.safe_load(stored.read_text())
    assert stat.S_IMODE(active.stat().st_mode) == 0o600
    assert states(fs)["kube-apiserver"] == "active" and states(fs)["kube-controller-manager"] == "none"

    # the checkpoint serves the API; the kubelet gets the DaemonSet Pods and makes their sandboxes
    clock.now += 20
    client.pods = [pod]
    cri.running = {"kubeadm-py-checkpoint-kube-apiserver-cp1": "running"}
    assert cp.poll() == []
    checkpoint_sandbox = Sandbox("cp", "kubeadm-py-checkpoint-kube-apiserver-cp1", "kube-system", True)
    cri.sandboxes = [checkpoint_sandbox]
    assert cp.poll() == []  # the checkpoint's own sandbox is not the DaemonSet Pod's
    cri.sandboxes.append(Sandbox("sb1", pod["metadata"]["name"], "kube-system", True, created_at=5000.0))
    # a new sandbox, but the kubelet has not created the container (v1.20: not before its Service
    # informer listed once): the checkpoint's API server must stay up until it has
    assert cp.poll() == []
    cri.running[pod["metadata"]["name"]], cri.created[pod["metadata"]["name"]] = "exited", 5001.0
    assert [(c, a) for c, a, _ in cp.poll()] == [("kube-apiserver", Action.DEACTIVATE)]
    assert not active.exists() and stored.exists()
    assert checkpoint_sandbox not in cri.sandboxes  # its ports freed at once
    assert cri.sandboxes == []  # and the exited DaemonSet Pod restarted at once
    # the kubelet makes its next sandbox; the API is down until its container serves: no re-activation
    cri.sandboxes = [Sandbox("sb2", pod["metadata"]["name"], "kube-system", True, created_at=5010.0)]
    client.pods, cri.running = None, {}
    clock.now += 30
    assert cp.poll() == []
    assert [line.split(" (")[0] for line in lines if ": sees " not in line] == [
        "kube-apiserver: store", "kube-scheduler: store", "kube-apiserver: store",
        "kube-apiserver: activate", "kube-scheduler: activate",
        "kube-apiserver: Restarting pod kube-system/self-hosted-kube-apiserver-x7k2p",
        "kube-apiserver: deactivate",
    ]  # fmt: skip
    # what it saw is logged when it changes (the evidence for each decision), not at every poll
    seen = [line for line in lines if line.startswith("kube-apiserver: sees ")]
    assert seen == [
        "kube-apiserver: sees API up; DaemonSet Pod container runs; its ready sandboxes: none",
        "kube-apiserver: sees API down (cannot reach the API server); DaemonSet Pod container not running;"
        " its ready sandboxes: none",
        "kube-apiserver: sees API up; DaemonSet Pod container not running; its ready sandboxes: none",
        "kube-apiserver: sees API up; DaemonSet Pod container not running; its ready sandboxes: sb1",
        "kube-apiserver: sees API down (cannot reach the API server); DaemonSet Pod container not running;"
        " its ready sandboxes: sb2",
    ]


def test_active_at_start_waits_for_a_new_sandbox(loop: Any, tmp_path: Path) -> None:
    cp, cri, client, clock, fs, lines = loop
    fs.write(
        stored_path("kube-apiserver"),
        yaml.safe_dump(to_static_pod(ds_pod(), "kube-apiserver")).encode(),
        0o600,
    )
    fs.write(active_path("kube-apiserver"), b"{}", 0o600)
    cri.sandboxes = [Sandbox("old", "self-hosted-kube-apiserver-x7k2p", "kube-system", True, 100.0)]
    cp.adopt_active()
    assert cp.poll() == []
    # crash-looping: the kubelet creates its container again and again in the old sandbox
    cri.container("self-hosted-kube-apiserver-x7k2p", "exited", 900.0)
    assert cp.poll() == []
    cri.sandboxes.append(Sandbox("new", "self-hosted-kube-apiserver-q9w8e", "kube-system", True, 1000.0))
    assert cp.poll() == []  # no container in it yet
    cri.container("self-hosted-kube-apiserver-q9w8e", "created", 1001.0)
    assert [a for _, a, _ in cp.poll()] == [Action.DEACTIVATE]


@pytest.mark.parametrize(("ds_state", "ds_restarted"), [("exited", True), ("running", False)])
def test_the_hand_off_restarts_an_exited_daemonset_pod_at_once(
    loop: Any, ds_state: str, ds_restarted: bool
) -> None:
    """Deactivation frees the checkpoint's ports; a DaemonSet Pod whose container exited against
    them loses its sandbox too, so the kubelet starts it now rather than after its back-off."""
    cp, cri, client, clock, fs, lines = loop
    pod = ds_pod()
    fs.write(
        stored_path("kube-apiserver"), yaml.safe_dump(to_static_pod(pod, "kube-apiserver")).encode(), 0o600
    )
    fs.write(active_path("kube-apiserver"), b"{}", 0o600)
    cp.adopt_active()
    checkpoint = Sandbox("cp", "kubeadm-py-checkpoint-kube-apiserver-cp1", "kube-system", True)
    ds = Sandbox("sb1", pod["metadata"]["name"], "kube-system", True)
    cri.sandboxes = [checkpoint, ds]
    cri.running = {checkpoint.name: "running", ds.name: ds_state}
    assert [a for _, a, _ in cp.poll()] == [Action.DEACTIVATE]
    assert checkpoint not in cri.sandboxes
    assert (ds not in cri.sandboxes) is ds_restarted
    assert (
        any("Restarting pod kube-system/self-hosted-kube-apiserver" in line for line in lines) is ds_restarted
    )


def stored_with_a_stuck_sandbox(loop: Any) -> dict[str, Any]:
    """A stored checkpoint of the API server's DaemonSet Pod, whose only sandbox is ready and runs
    nothing; returns the Pod."""
    cp, cri, client, clock, fs, lines = loop
    pod = ds_pod()
    fs.write(
        stored_path("kube-apiserver"), yaml.safe_dump(to_static_pod(pod, "kube-apiserver")).encode(), 0o600
    )
    cri.sandboxes = [Sandbox("stuck", pod["metadata"]["name"], "kube-system", True)]
    return pod


def test_activation_removes_a_stuck_daemonset_sandbox_so_the_hand_off_sees_a_new_one(
    loop: Any, tmp_path: Path
) -> None:
    """CI 2026-12-03: after a hand-off the DaemonSet Pods' sandboxes stayed ready and ran nothing
    (a kubelet without an API server never cleans up sandboxes of Pods it does not know), so the
    checkpoints were activated again after ``takeover``; the kubelet then reused those sandboxes
    for the DaemonSet Pods the checkpoint served, no new sandbox appeared, and the checkpoints
    held the ports for good. Activation removes them, so the kubelet's next sandbox is new."""
    cp, cri, client, clock, fs, lines = loop
    pod = stored_with_a_stuck_sandbox(loop)
    clock.now += 60
    assert cp.poll() == []  # a ready sandbox may still start its container: wait
    clock.now += T.takeover
    assert [a for _, a, _ in cp.poll()] == [Action.ACTIVATE]
    assert cri.sandboxes == [] and "removed the stale pod kube-system/self-hosted-kube-apiserver" in lines[-2]
    # the checkpoint serves; the kubelet syncs the DaemonSet Pod and, its sandbox gone, makes one
    client.pods = [pod]
    assert cp.poll() == []
    cri.sandboxes = [Sandbox("fresh", pod["metadata"]["name"], "kube-system", True, 2000.0)]
    cri.container(pod["metadata"]["name"], "running", 2001.0)
    assert [a for _, a, _ in cp.poll()] == [Action.DEACTIVATE]


def test_a_stale_sandbox_that_cannot_be_removed_does_not_count_as_new(loop: Any) -> None:
    from kubeadm_py.host.cri import CriError

    cp, cri, client, clock, fs, lines = loop
    pod = stored_with_a_stuck_sandbox(loop)

    def refuse(sandbox: Sandbox) -> None:
        raise CriError("rpc error: code = DeadlineExceeded desc = context deadline exceeded")

    cri.remove_sandbox = refuse
    clock.now += T.takeover + 1
    assert [a for _, a, _ in cp.poll()] == [Action.ACTIVATE]
    assert "could not remove the stale pod" in lines[-2]
    client.pods = [pod]
    cri.container(pod["metadata"]["name"], "running", 2001.0)
    assert cp.poll() == []  # the same sandbox: not the kubelet's answer to the checkpoint


def test_runtime_down_decides_nothing(loop: Any) -> None:
    cp, cri, client, clock, fs, lines = loop

    def down(namespace: str = "") -> list[ContainerInfo]:
        raise OSError("connection refused")

    cri.list_containers = down
    assert cp.poll() == [] and cp.poll() == []
    assert len(lines) == 1 and "container runtime not answering" in lines[0]


def test_secrets_kept_as_files(loop: Any, tmp_path: Path) -> None:
    import base64

    cp, cri, client, clock, fs, lines = loop
    pod = ds_pod()
    pod["spec"]["volumes"][0] = {
        "name": "k8s-certs",
        "projected": {"sources": [
            {"secret": {"name": "ca", "items": [{"key": "tls.crt", "path": "ca.crt"}]}},
            {"secret": {"name": "etcd", "optional": True,
                        "items": [{"key": "ca.crt", "path": "etcd/ca.crt"}]}},
        ]},
    }  # fmt: skip
    secrets = {"ca": {"tls.crt": base64.b64encode(b"CERT").decode(), "tls.key": "eA=="}}
    client.get = lambda kind, name, ns: {"data": secrets[name]} if name in secrets else None
    client.pods = [pod]
    cri.running = {pod["metadata"]["name"]: "running"}
    assert [a for _, a, _ in cp.poll()] == [Action.STORE]
    base = tmp_path / "etc/kubernetes/selfhosting/checkpoints/secrets/kube-apiserver/k8s-certs"
    assert (base / "ca.crt").read_bytes() == b"CERT" and not (base / "etcd").exists()
    assert stat.S_IMODE((base / "ca.crt").stat().st_mode) == 0o600
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    stored = yaml.safe_load((tmp_path / stored_path("kube-apiserver").lstrip("/")).read_text())
    assert stored["spec"]["volumes"][0] == {
        "name": "k8s-certs",
        "hostPath": {"path": "/etc/kubernetes/selfhosting/checkpoints/secrets/kube-apiserver/k8s-certs",
                     "type": "Directory"},
    }  # fmt: skip
    digest = stored["metadata"]["annotations"]["kubeadm-py.io/checkpoint-secrets"]
    assert cp.poll() == []  # unchanged
    secrets["ca"]["tls.crt"] = base64.b64encode(b"ROTATED").decode()
    clock.now += 61  # the Secrets are read again after a minute
    assert [a for _, a, _ in cp.poll()] == [Action.STORE]
    assert (base / "ca.crt").read_bytes() == b"ROTATED"
    stored = yaml.safe_load((tmp_path / stored_path("kube-apiserver").lstrip("/")).read_text())
    assert stored["metadata"]["annotations"]["kubeadm-py.io/checkpoint-secrets"] != digest
    del secrets["ca"]
    clock.now += 61
    assert cp.poll() == [] and "cannot checkpoint yet: secret kube-system/ca" in lines[-1]


# --- upgrade apply's bridge: activate() while the DaemonSet Pod runs ---------------------------------
def test_a_bridge_hands_back_only_to_a_container_in_a_sandbox_it_did_not_record(
    loop: Any, tmp_path: Path
) -> None:
    from kubeadm_py.selfhosting.checkpoint import SANDBOXES_ANNOTATION

    cp, cri, client, clock, fs, lines = loop
    old, new = ds_pod(), ds_pod(name="self-hosted-kube-apiserver-n3w4p")
    client.pods = [old]
    cri.sandboxes = [Sandbox("sb-old", old["metadata"]["name"], "kube-system", True, created_at=100.0)]
    cri.container(old["metadata"]["name"], "running", 101.0)
    cp.activate("kube-apiserver")  # nothing stored yet: taken from the running Pod first
    active = tmp_path / active_path("kube-apiserver").lstrip("/")
    doc = yaml.safe_load(active.read_text())
    assert doc["metadata"]["annotations"][SANDBOXES_ANNOTATION] == "sb-old"
    assert (tmp_path / stored_path("kube-apiserver").lstrip("/")).exists()
    assert cri.sandboxes[0].id == "sb-old"  # recorded, not removed
    # the service did not activate it: the annotation tells it the running Pod's sandbox is old
    service = Checkpointer(fs, cri, lambda: client, "cp1", lines.append, timing=T, clock=clock)  # type: ignore[arg-type]
    clock.now += 2
    assert service.poll() == [] and cp.poll() == []
    # the DaemonSet controller replaced the Pod; the kubelet created its container (it cannot bind)
    cri.sandboxes = [Sandbox("sb-new", new["metadata"]["name"], "kube-system", True, created_at=200.0)]
    cri.running, cri.created = {}, {}
    cri.container(new["metadata"]["name"], "exited", 201.0)
    client.pods = [new]
    assert [(c, a) for c, a, _ in service.poll()] == [("kube-apiserver", Action.DEACTIVATE)]
    assert not active.exists()
    assert cri.sandboxes == []  # the new Pod restarted at once: no back-off


def test_a_bridge_without_a_checkpoint_or_a_running_pod_is_one_error(loop: Any) -> None:
    from kubeadm_py.errors import KubeadmError

    cp, cri, client, clock, fs, lines = loop
    client.pods = []
    with pytest.raises(KubeadmError, match="no checkpoint of kube-apiserver on cp1 to serve"):
        cp.activate("kube-apiserver")
    assert states(fs)["kube-apiserver"] == "none"


@pytest.mark.parametrize(
    ("port_free", "state", "removed"),
    [(True, "exited", True), (False, "exited", False), (True, "running", False)],
)
def test_a_waiting_checkpoint_starts_at_once_when_the_port_is_free(
    loop: Any, port_free: bool, state: str, removed: bool
) -> None:
    cp, cri, client, clock, fs, lines = loop
    name = "kubeadm-py-checkpoint-kube-apiserver-cp1"
    cri.sandboxes = [Sandbox("sb-cp", name, "kube-system", True, created_at=100.0)]
    cri.container(name, state, 101.0)
    assert cp.hurry_checkpoint("kube-apiserver", port_free) == (
        [f"pod kube-system/{name} (sandbox sb-cp)"] if removed else []
    )
    assert (cri.sandboxes == []) is removed


# --- a hand-back to a DaemonSet Pod that keeps failing ----------------------------------------------
BROKEN = "self-hosted-kube-apiserver-br0k3"


def handed_back_to_a_broken_pod(loop: Any) -> Sandbox:
    """After a restart the checkpoint serves; the DaemonSet's Pod is a broken one (a bad flag
    written by hand); the kubelet creates its container in a new sandbox: the hand-back. Returns
    the broken Pod's sandbox."""
    cp, cri, client, clock, fs, lines = loop
    fs.write(
        stored_path("kube-apiserver"),
        yaml.safe_dump(to_static_pod(ds_pod(), "kube-apiserver")).encode(),
        0o600,
    )
    clock.now += 11
    assert [a for _, a, _ in cp.poll()] == [Action.ACTIVATE]
    client.pods = []  # the checkpoint serves; the broken Pod is never Ready
    sandbox = Sandbox("sb-broken", BROKEN, "kube-system", True, created_at=2000.0)
    cri.sandboxes = [sandbox]
    cri.container(BROKEN, "exited", 2001.0)  # it could not bind: the checkpoint held the port
    assert [a for _, a, _ in cp.poll()] == [Action.DEACTIVATE]
    cri.sandboxes, client.pods = [sandbox], None  # no restart to count here: the sandbox is kept
    return sandbox


def test_a_failed_hand_back_goes_back_to_the_checkpoint_for_good(loop: Any, tmp_path: Path) -> None:
    """Run ha2 (2026-12-04): a broken DaemonSet Pod got the hand-back, crash-looped, the
    ``takeover`` activated the checkpoint after 120 s, the kubelet made the broken Pod a new
    sandbox, the checkpoint handed back again: the API server came and went every two minutes.
    Now the Pod a hand-back failed to gets no other one; a changed Pod (the DaemonSet fixed) does."""
    from kubeadm_py.selfhosting.checkpoint import FAILED_PODS_ANNOTATION

    cp, cri, client, clock, fs, lines = loop
    sandbox = handed_back_to_a_broken_pod(loop)
    clock.now += 15
    cri.exit(BROKEN, 2015.0)
    assert cp.poll() == []
    clock.now += 25
    cri.exit(BROKEN, 2040.0)
    assert cp.poll() == []  # two exits, but only 40 s without an API server: it may still come up
    clock.now += 21
    assert [(a, why) for _, a, why in cp.poll()] == [
        (Action.ACTIVATE, "the DaemonSet Pod keeps exiting since the hand-back and no API server answers")
    ]
    assert sandbox in cri.sandboxes  # not removed as stale: the kubelet keeps it, no new sandbox
    assert any(f"the hand-back to {BROKEN} failed (2 of its containers exited" in line for line in lines)
    active = yaml.safe_load((tmp_path / active_path("kube-apiserver").lstrip("/")).read_text())
    assert active["metadata"]["annotations"][FAILED_PODS_ANNOTATION] == BROKEN
    # the checkpoint serves again; the kubelet makes the broken Pod another sandbox: no hand-back
    client.pods = []
    cri.sandboxes = [Sandbox("sb-broken-2", BROKEN, "kube-system", True, created_at=2100.0)]
    cri.container(BROKEN, "exited", 2101.0)
    for _ in range(3):
        clock.now += 2
        assert cp.poll() == []
    # a restarted service reads the failed Pod from the active checkpoint
    service = Checkpointer(fs, cri, lambda: client, "cp1", lines.append, timing=T, clock=clock)  # type: ignore[arg-type]
    service.adopt_active()
    assert service.poll() == []
    # the DaemonSet fixed: its controller makes a new Pod, which gets the hand-back
    fixed = "self-hosted-kube-apiserver-f1x3d"
    cri.sandboxes.append(Sandbox("sb-fixed", fixed, "kube-system", True, created_at=2200.0))
    cri.container(fixed, "running", 2201.0)
    assert [a for _, a, _ in service.poll()] == [Action.DEACTIVATE]


def test_a_hand_back_that_worked_is_not_failed_by_later_exits(loop: Any) -> None:
    """The API server answered with the Pod Ready after the hand-back: a later crash loop is not the
    hand-back's failure (the takeover rule's business, the Pod may be handed back to again)."""
    cp, cri, client, clock, fs, lines = loop
    handed_back_to_a_broken_pod(loop)
    clock.now += 20
    client.pods = [ds_pod(name=BROKEN)]
    cri.container(BROKEN, "running", 2010.0)
    assert [a for _, a, _ in cp.poll()] == [Action.STORE]
    client.pods, cri.running = None, {BROKEN: "exited"}
    for created in (2100.0, 2120.0, 2160.0):
        cri.exit(BROKEN, created)
        clock.now += 30
        assert cp.poll() == []  # 60 s and more without an API server, 2 exits and more: not failed
    clock.now += T.takeover - 90
    assert [why for _, _, why in cp.poll()] == ["no API server and no DaemonSet Pod running"]
    assert not any("failed (" in line for line in lines)


def test_a_pod_being_deleted_never_gets_the_hand_back(loop: Any) -> None:
    """Test bed, 2026-12-04: ``upgrade apply``'s rollback removed the sandbox of the broken Pod it was
    replacing (being deleted, the checkpoint serving); the kubelet, not yet aware of the deletion,
    gave that Pod a new sandbox and a container, the hand-back went to it, and the rollback failed
    on its exits. A Pod the API shows being deleted is not the DaemonSet's next Pod."""
    cp, cri, client, clock, fs, lines = loop
    old = ds_pod(name=BROKEN)
    old["metadata"]["deletionTimestamp"] = "2026-12-04T10:03:00Z"
    old["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    client.pods = [old]
    cri.sandboxes = [Sandbox("sb-old", BROKEN, "kube-system", True, created_at=100.0)]
    cri.container(BROKEN, "exited", 101.0)
    fs.write(
        stored_path("kube-apiserver"),
        yaml.safe_dump(to_static_pod(ds_pod(), "kube-apiserver")).encode(),
        0o600,
    )
    cp.activate("kube-apiserver")
    cri.sandboxes = [Sandbox("sb-again", BROKEN, "kube-system", True, created_at=200.0)]
    cri.container(BROKEN, "exited", 201.0)
    for _ in range(3):
        clock.now += 2
        assert cp.poll() == []
    new = "self-hosted-kube-apiserver-r0llb"
    client.pods = [ds_pod(name=new)]
    cri.sandboxes.append(Sandbox("sb-new", new, "kube-system", True, created_at=300.0))
    cri.container(new, "exited", 301.0)
    assert [a for _, a, _ in cp.poll()] == [Action.DEACTIVATE]
