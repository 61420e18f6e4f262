"""``kubeadm-py verify`` on the Kubernetes v1.20.2 test bed: one cluster for the module (control
plane A initialised by kubeadm-py, worker B joined, real kubelets and containerd on one bridge).

Healthy: ``verify`` exits 0 on both nodes. The test bed has no pod network (no CNI plugin) and no
CoreDNS image: the Nodes are NotReady and CoreDNS Pending for that reason only, which verify
reports as warnings that say so (exit 0; ``--strict`` makes them fail). Then one fault at a time,
each reported with its line and exit 1, then undone and verify waited on until healthy again:
kube-scheduler stopped (its manifest moved away), a manifest edited so it drifts from
kubeadm-config, a certificate near expiry, the worker's kubelet stopped, the etcd member down."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "abcdef.0123456789abcdef"
MANIFESTS = "/etc/kubernetes/manifests"
CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
TIMINGS: dict[str, float] = {}


def kubeadm_py(node: Any, *args: str, timeout: float = 600, check: bool = True) -> Any:
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


def verify(node: Any, *args: str, timeout: float = 400) -> tuple[int, dict[str, Any], str]:
    """(exit code, the JSON report, stderr) of ``kubeadm-py verify ... -o json`` on ``node``."""
    r = kubeadm_py(node, "verify", *args, "-o", "json", timeout=timeout, check=False)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout), r.stderr


def lines(report: dict[str, Any]) -> list[str]:
    return [f"{p['check']}: {p['message']}" for p in report["problems"]]


def status(report: dict[str, Any], name: str) -> str:
    return next(c["status"] for c in report["checks"] if c["name"] == name)


def until_reported(node: Any, expect: str, *args: str, timeout: float = 120) -> tuple[dict[str, Any], float]:
    """Run verify until a problem line contains ``expect`` (the fault takes effect with a delay:
    the kubelet notices a manifest, a Lease goes stale); exit 1 is asserted with it."""
    t0 = time.monotonic()
    while True:
        rc, report, err = verify(node, *args)
        if any(expect in line for line in lines(report)):
            assert rc == 1 and not report["healthy"], (rc, lines(report))
            assert "error: verify:" in err
            return report, time.monotonic() - t0
        assert time.monotonic() - t0 < timeout, f"never reported {expect!r}: {lines(report)}"
        time.sleep(3)


@contextlib.contextmanager
def nudging(node: Any, pods: tuple[str, ...]) -> Iterator[None]:
    """Annotate the mirror Pods ``pods`` (kube-system) every 3 s while the block runs. The v1.20
    kubelet sets a static Pod's Ready only when it next syncs the Pod after the startup probe
    passed (kubernetes/kubernetes#95140): its periodic sync, 60-90 s later. An annotation change
    on the mirror Pod is an update of the static Pod to the kubelet (v1.20.2 pkg/kubelet/kubelet.go
    handleMirrorPod, config/config.go podsDifferSemantically), so it syncs at once and reports the
    Ready the probe already found; without this each recovery below waited ~95 s for that sync."""
    stop = threading.Event()

    def loop() -> None:
        n = 0
        while not stop.wait(3):
            n += 1
            for pod in pods:
                node.kubectl("-n", "kube-system", "annotate", "--overwrite", "pod", pod,
                             f"kubeadm-py.test/nudge={n}", timeout=15, check=False)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(20)


def healthy_again(node: Any, what: str, *args: str, forget: tuple[str, ...] = ()) -> None:
    """verify --wait passes again; ``forget``: components whose static Pods the fault stopped or
    made restart, whose sandboxes are removed first so the kubelet's crash-loop back-off (up to
    5 min, ~90 s here) does not hold their restart (see Node.forget_pods), and whose mirror Pods
    are nudged so their Ready shows without waiting for the kubelet's periodic sync (see nudging)."""
    pods = tuple(f"{c}-{node.name}" for c in forget)
    if forget:
        node.forget_pods(*pods)
    t0 = time.monotonic()
    with nudging(node, pods):
        rc, report, _ = verify(node, "--wait", "240s", *args)
    TIMINGS[f"recover-{what}"] = time.monotonic() - t0
    assert rc == 0 and report["healthy"], lines(report)


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest):  # noqa: ANN201
    from tests.testbed.fixtures import init_and_join_worker

    with init_and_join_worker(
        request, "verify-testbed", ("vfy-a", "vfy-b"), "kpt-verify", "192.168.97.0/24", TOKEN, TIMINGS
    ) as nodes:
        yield nodes


def test_healthy_cluster_passes_with_the_missing_pod_network_said_plainly(bed: dict[str, Any]) -> None:
    a, b = bed["a"], bed["b"]
    t0 = time.monotonic()
    rc, report, _ = verify(a, "--wait", "240s")
    TIMINGS["first-healthy"] = time.monotonic() - t0
    if rc != 0:  # what the kube-system Pods said, for the record
        print(a.kubectl("-n", "kube-system", "get", "pods", "-o", "wide", check=False).stdout)
        for flag in ("--previous", "--timestamps"):
            r = a.kubectl("-n", "kube-system", "logs", "-l", "k8s-app=kube-proxy", flag, check=False)
            print(r.stdout, r.stderr)
    assert rc == 0 and report["healthy"], lines(report)
    by_name = {c["name"]: c for c in report["checks"]}
    for name in (
        "apiserver-readyz",
        "control-plane-pods",
        "etcd",
        "cluster-info",
        "bootstrap-rbac",
        "version-skew",
        "manifest-drift",
        "kubelet",
        "kubeconfigs",
        "container-runtime",
        "static-pods",
        "certificates",
        "serving-certificates",
        "kubelet-client-certificate",
    ):
        assert by_name[name]["status"] == "pass", by_name[name]
    # No CNI plugin, no CoreDNS image on the test bed: warnings naming the pod network, not passes.
    assert by_name["nodes"]["status"] == "warn"
    assert all(
        "only because no pod network is installed" in p["message"] for p in by_name["nodes"]["problems"]
    )
    coredns = [p for p in by_name["kube-system-workloads"]["problems"] if "coredns" in p["message"]]
    assert coredns and coredns[0]["severity"] == "warning" and "no pod network" in coredns[0]["message"]
    rc, strict, _ = verify(a, "--cluster", "--strict")
    assert rc == 1 and not strict["healthy"]
    rc, worker, _ = verify(b, "--node")
    assert rc == 0 and worker["healthy"], lines(worker)
    assert status(worker, "static-pods") == "skip" and status(worker, "kubelet") == "pass"


def test_workload_pods_prove_scheduling_logs_and_exec(bed: dict[str, Any]) -> None:
    a = bed["a"]
    t0 = time.monotonic()
    rc, report, _ = verify(a, "--cluster", "--workload")
    TIMINGS["workload"] = time.monotonic() - t0
    assert rc == 0 and status(report, "workload") == "pass", lines(report)
    left = json.loads(
        a.kubectl("get", "pods", "-n", "default", "-l", "kubeadm-py/verify", "-o", "json").stdout
    )
    assert all(p["metadata"].get("deletionTimestamp") for p in left["items"])


def test_scheduler_stopped(bed: dict[str, Any]) -> None:
    a = bed["a"]
    src, aside = (
        a.path(f"{MANIFESTS}/kube-scheduler.yaml"),
        a.path("/etc/kubernetes/kube-scheduler.yaml.moved"),
    )
    shutil.move(src, aside)
    try:
        report, took = until_reported(a, "kube-scheduler is not running on vfy-a: no mirror Pod")
        TIMINGS["detect-scheduler"] = took
        assert any("kube-scheduler" in ln for ln in lines(report) if ln.startswith("control-plane-pods"))
    finally:
        shutil.move(aside, src)
    healthy_again(a, "scheduler", forget=("kube-scheduler",))


def test_manifest_drift(bed: dict[str, Any]) -> None:
    a = bed["a"]
    path = a.path(f"{MANIFESTS}/kube-scheduler.yaml")
    with open(path) as f:
        original = f.read()
    assert "    - --leader-elect=true\n" in original
    try:
        with open(path, "w") as f:
            f.write(
                original.replace("    - --leader-elect=true\n", "    - --leader-elect=true\n    - --v=3\n")
            )
        rc, report, err = verify(a, "--cluster")
        assert rc == 1 and "error: verify:" in err
        drift = [ln for ln in lines(report) if ln.startswith("manifest-drift")]
        assert drift == [
            "manifest-drift: /etc/kubernetes/manifests/kube-scheduler.yaml on vfy-a drifted from "
            "kubeadm-config: --v=3 not in kubeadm-config"
        ], lines(report)
    finally:
        with open(path, "w") as f:
            f.write(original)
    healthy_again(a, "drift", forget=("kube-scheduler",))


def test_certificate_near_expiry(bed: dict[str, Any]) -> None:
    from tests.unit.verify.pki import reissue

    a = bed["a"]
    pki = a.path("/etc/kubernetes/pki")
    crt = os.path.join(pki, "front-proxy-client.crt")
    with open(crt, "rb") as f:
        original = f.read()
    with (
        open(os.path.join(pki, "front-proxy-ca.crt"), "rb") as f1,
        open(os.path.join(pki, "front-proxy-ca.key"), "rb") as f2,
    ):
        now = datetime.datetime.now(datetime.UTC)
        short, _ = reissue(original, f1.read(), f2.read(), now + datetime.timedelta(hours=20))
    try:
        with open(crt, "wb") as f:
            f.write(short)
        rc, report, _ = verify(a, "--node")
        assert rc == 1
        cert_lines = [ln for ln in lines(report) if "front-proxy-client" in ln]
        assert len(cert_lines) == 1, lines(report)
        expected = r"certificates: certificate front-proxy-client expires in (19|20)\.\dh \("
        assert re.match(expected, cert_lines[0]), cert_lines
        fixes = [p["fix"] for p in report["problems"] if "front-proxy-client" in p["message"]]
        assert fixes == ["kubeadm-py certs renew front-proxy-client, then restart the components using it"]
    finally:
        with open(crt, "wb") as f:
            f.write(original)
    rc, report, _ = verify(a, "--node")
    assert rc == 0, lines(report)


def test_worker_kubelet_stopped(bed: dict[str, Any]) -> None:
    a, b = bed["a"], bed["b"]
    b.run(["systemctl", "stop", "kubelet"], timeout=60)
    try:
        rc, report, _ = verify(b, "--node")
        assert rc == 1
        assert any(
            ln.startswith("kubelet: the kubelet is not healthy: http://127.0.0.1:10248/healthz")
            for ln in lines(report)
        ), lines(report)
        report, took = until_reported(a, "node vfy-b: its kubelet has not renewed its Lease", "--cluster")
        TIMINGS["detect-worker-kubelet-from-cluster"] = took
    finally:
        b.run(["systemctl", "start", "kubelet"], timeout=60)
    healthy_again(a, "worker-kubelet", "--cluster")


def test_etcd_member_down(bed: dict[str, Any]) -> None:
    """The only etcd member (a second one would not keep quorum either: 1 of 2 is no quorum; a
    three-member etcd costs two more control-plane joins)."""
    a = bed["a"]
    src, aside = a.path(f"{MANIFESTS}/etcd.yaml"), a.path("/etc/kubernetes/etcd.yaml.moved")
    shutil.move(src, aside)
    try:
        report, took = until_reported(a, "etcd has no quorum", "--cluster", timeout=180)
        TIMINGS["detect-etcd"] = took
        etcd = [ln for ln in lines(report) if ln.startswith("etcd:")]
        assert any(ln.startswith("etcd: etcd at https://") and "is not healthy" in ln for ln in etcd), etcd
        assert "apiserver-readyz: the API server's readiness check etcd fails" in " ".join(
            lines(report)
        ) or any("does not answer" in ln for ln in lines(report)), lines(report)
    finally:
        shutil.move(aside, src)
    # without etcd the API server fails its liveness probe and the controller-manager and
    # scheduler lose their leases: all four restart
    healthy_again(a, "etcd", forget=("etcd", *CONTROL_PLANE))
