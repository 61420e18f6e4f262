"""HA pivot on the Kubernetes v1.20.2 test bed (issue #15, "Checks that must pass"): pivot an existing
static-Pod cluster with a second control-plane node joined, while the API stays served.

Two nodes on one bridge, each with a real kubelet and containerd and a PID 1 that calls itself
systemd (so each pivot starts its node's checkpointer through the test bed's systemctl stand-in):
``init`` on A (static Pods, stacked etcd, controlPlaneEndpoint A:6443, ``--upload-certs``), ``join
--control-plane --certificate-key`` of B, then ``kubeadm-py selfhosting pivot`` on A, then on B.
Meanwhile a poller in the bridge's network namespace GETs ``kube-system`` from both API servers every
0.5 s (tests/testbed/apipoll.py). Printed, not asserted (``[selfhosting-ha] seconds: ...``): the
longest gap per server and the longest time neither served, per pivot, and each component's
downtime as the pivot logs it. Then checked: no static manifests of the three components on either
node, one Ready DaemonSet Pod per component per node, ``verify --cluster --wait 3m`` passes (both
etcd members healthy), ``selfhosting status -o json`` says self-hosted on each node. Last, a
config-only ``upgrade apply`` on A (a new API server flag) rolls the API server DaemonSet over both
nodes, one at a time, while both API servers are polled again (printed: the gaps).

Extended (CI time): ``KUBEADM_PY_EXTENDED=1`` runs it. The whole pivot happens in the module's
fixture, so a failure keeps both nodes' logs (/var/tmp/kubeadm-py-testbed-logs/)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kubeadm_py.durations import duration_seconds
from tests.integration.test_selfhosting_testbed import daemonset, write_change
from tests.testbed._proc import wait_for
from tests.testbed.apipoll import ApiPoller, Outages, admin_credentials
from tests.testbed.configs import KUBE_PROXY_CONFIG, init_config_v1beta4

pytestmark = [pytest.mark.testbed, pytest.mark.integration, pytest.mark.extended]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "abcdef.0123456789abcdef"
CRI = "unix:///run/containerd/containerd.sock"
MANIFESTS = "/etc/kubernetes/manifests"
BACKUPS = "/etc/kubernetes/tmp/kubeadm-py-selfhosting"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
LABEL = "[selfhosting-ha]"
PKI = "/etc/kubernetes/pki/etcd"
TIMINGS: dict[str, float] = {}
OUTAGES: dict[str, Outages] = {}
PIVOT_LOG: list[str] = []  # the pivots' own progress lines


def kubeadm_py(node: Any, *args: str, timeout: float = 900, check: bool = True) -> Any:
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


def timed(name: str, node: Any, *args: str, timeout: float = 900) -> Any:
    t0 = time.monotonic()
    try:
        return kubeadm_py(node, *args, timeout=timeout)
    finally:
        TIMINGS[name] = time.monotonic() - t0


def pivot(node: Any, poller: ApiPoller) -> dict[str, Any]:
    """``selfhosting pivot`` on ``node``; its outages and each component's downtime recorded."""
    t0 = time.monotonic()
    try:
        r = kubeadm_py(node, "selfhosting", "pivot", "-o", "json", check=False)
    finally:
        end = time.monotonic()
        TIMINGS[f"pivot-{node.name}"] = end - t0
        OUTAGES[f"pivot {node.name}"] = poller.outages(t0, end)
    lines = [x for x in r.stderr.splitlines() if "[self-hosted]" in x]
    PIVOT_LOG.extend(f"{node.name}: {x}" for x in lines)
    for comp, took in re.findall(
        r"\[self-hosted\] (\S+) is self-hosted on \S+: healthy (\S+) after", r.stderr
    ):
        TIMINGS[f"down-{comp}-{node.name}"] = duration_seconds(took, "pivot log")
    assert r.returncode == 0, f"pivot on {node.name} failed:\n{r.stdout}\n{r.stderr[-4000:]}"
    return dict(json.loads(r.stdout))


@pytest.fixture(scope="module")
def ha(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Nodes A and B, both control planes, both pivoted; the pivots' reports."""
    from tests.testbed import Network, Node, skip_reason
    from tests.testbed.fixtures import cleanup_stale_cgroups

    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    cleanup_stale_cgroups()
    net = Network(name="kpt-shha", subnet="192.168.95.0/24").start()
    a, b = (Node(n, network=net, pid1_name="systemd") for n in ("sh-ha-a", "sh-ha-b"))
    failed = False
    failed_before = request.session.testsfailed
    try:
        for n in (a, b):
            n.start()
            n.supervise_kubelet()
        cfg = os.path.join(a.workdir, "init.yaml")
        with open(cfg, "w") as f:
            text = init_config_v1beta4(
                a.address, a.name, token=TOKEN, control_plane_endpoint=f"{a.address}:6443"
            )
            f.write(text + "---\n" + KUBE_PROXY_CONFIG)  # kube-proxy leaves the conntrack sysctls alone
        r = timed("init-a", a, "init", "--config", cfg, "--upload-certs", "--ignore-preflight-errors=all",
                  "-o", "json")  # fmt: skip
        out = json.loads(r.stdout)["outputs"]
        timed(
            "join-control-plane-b", b, "join", f"{a.address}:6443", "--token", TOKEN,
            "--discovery-token-ca-cert-hash", out["ca_cert_hash"], "--cri-socket", CRI,
            "--node-name", b.name, "--control-plane", "--certificate-key", out["certificate_key"],
            "--apiserver-advertise-address", b.address, "--ignore-preflight-errors=all", "-o", "json",
        )  # fmt: skip

        def b_ready() -> bool:  # B's own API server (its admin.conf names A's address)
            r = b.kubectl(
                "--server", f"https://{b.address}:6443", "get", "--raw", "/readyz", timeout=15, check=False
            )
            return r.returncode == 0 and r.stdout.strip() == "ok"

        wait_for(b_ready, 120, 2, f"the API server of {b.name}")
        creds = admin_credentials(a.path("/etc/kubernetes/admin.conf"), a.workdir)
        assert net.pid is not None
        servers = [f"{a.address}:6443", f"{b.address}:6443"]
        with ApiPoller(net.pid, servers, creds) as poller:
            time.sleep(3)  # a few answers of both before the first pivot
            t0 = time.monotonic()
            reports = {a.name: pivot(a, poller), b.name: pivot(b, poller)}
            OUTAGES["both pivots"] = poller.outages(t0, time.monotonic())
            time.sleep(3)
        before = [s for s in poller.samples if s.t < t0]
        after = [
            s for s in poller.samples if s.t > t0 + TIMINGS[f"pivot-{a.name}"] + TIMINGS[f"pivot-{b.name}"]
        ]
        # the kubelet refuses a Pod its Node (as it knows it) does not match: an event, not a log line
        rejected = a.kubectl("get", "events", "-A", "--field-selector", "reason=NodeAffinity", "-o", "name")
        print(f"\n{LABEL} NodeAffinity rejections during the pivots: {len(rejected.stdout.split())}")
        yield {
            "a": a, "b": b, "reports": reports, "servers": servers, "before": before, "after": after,
            "hub": net.pid, "creds": creds,
        }  # fmt: skip
    except BaseException:
        failed = True
        raise
    finally:
        print(f"\n{LABEL} pivots:\n  " + "\n  ".join(PIVOT_LOG))
        for what, o in OUTAGES.items():
            print(f"{LABEL} API during {what}: {o.line()}")
        print(f"{LABEL} seconds: { {k: round(v, 1) for k, v in TIMINGS.items()} }")
        for n in (b, a):
            kept = n.stop(keep_logs=failed or request.session.testsfailed > failed_before)
            if kept:
                print(f"\n[testbed] kept logs: {kept}")
        net.stop()


def test_both_nodes_pivoted_every_component(ha: dict[str, Any]) -> None:
    for name, report in ha["reports"].items():
        phases = {p["phase"]: p["status"] for p in report["phases"]}
        assert report["ok"], (name, phases)
        assert all(phases[c] == "changed" for c in COMPONENTS), (name, phases)


def test_both_api_servers_answered_before_and_after(ha: dict[str, Any]) -> None:
    """The poller saw each API server answer before the first pivot and after the second (the
    outages themselves are printed, not asserted)."""
    for server in ha["servers"]:
        assert any(s.ok for s in ha["before"] if s.server == server), server
        assert any(s.ok for s in ha["after"] if s.server == server), server


def test_no_static_manifests_and_one_ready_daemonset_pod_per_node(ha: dict[str, Any]) -> None:
    a = ha["a"]
    for node in (ha["a"], ha["b"]):
        listing = node.run(["ls", MANIFESTS]).stdout.split()
        assert listing == ["etcd.yaml"], (node.name, listing)  # local etcd stays static
        assert sorted(node.run(["ls", BACKUPS]).stdout.split()) == sorted(f"{c}.yaml" for c in COMPONENTS)
    want = {ha["a"].name: [True], ha["b"].name: [True]}

    def per_node(comp: str) -> dict[str, list[bool]]:
        r = a.kubectl("-n", "kube-system", "get", "pods", "-l", f"k8s-app=self-hosted-{comp}", "-o", "json")
        out: dict[str, list[bool]] = {}
        for p in json.loads(r.stdout)["items"]:
            conds = (p.get("status") or {}).get("conditions") or []
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conds)
            out.setdefault(p["spec"]["nodeName"], []).append(ready)
        return out

    for comp in COMPONENTS:
        # One Pod per node; its Ready may flicker under load (run ha6: A's API server Pod not Ready
        # right after B's pivot, its /readyz failing for a moment on the shared 2-core machine).
        t0 = time.monotonic()
        wait_for(lambda c=comp: per_node(c) == want, 60, 2, f"one Ready {comp} DaemonSet Pod per node")
        if time.monotonic() - t0 > 2:
            print(f"\n{LABEL} {comp}: one Ready Pod per node after {time.monotonic() - t0:.1f}s")
        for node in (ha["a"], ha["b"]):  # no mirror Pod of a static one left
            r = a.kubectl("-n", "kube-system", "get", "pod", f"{comp}-{node.name}", check=False)
            assert r.returncode != 0 and "NotFound" in r.stderr, (comp, node.name, r.stdout)


def test_verify_cluster_passes_with_both_etcd_members(ha: dict[str, Any]) -> None:
    t0 = time.monotonic()
    r = kubeadm_py(ha["a"], "verify", "--cluster", "--wait", "3m", "-o", "json", check=False, timeout=400)
    TIMINGS["verify-cluster"] = time.monotonic() - t0
    print(f"\n{LABEL} verify:\n" + "\n".join(x for x in r.stderr.splitlines() if "[verify]" in x))
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["healthy"], [
        f"{p['check']}: {p['message']}" for p in report["problems"]
    ]
    checks = {c["name"]: c for c in report["checks"]}
    for name in ("control-plane-pods", "etcd", "manifest-drift", "apiserver-readyz"):
        assert checks[name]["status"] == "pass", checks[name]
    print(f"{LABEL} etcd: {checks['etcd']['detail']}")
    etcd = ha["a"].run(
        ["etcdctl", "--endpoints", ",".join(f"https://{n.address}:2379" for n in (ha["a"], ha["b"])),
         "--cacert", f"{PKI}/ca.crt", "--cert", f"{PKI}/healthcheck-client.crt",
         "--key", f"{PKI}/healthcheck-client.key", "endpoint", "health"],
        env={"ETCDCTL_API": "3"}, timeout=60, check=False,
    )  # fmt: skip
    assert (etcd.stdout + etcd.stderr).count("is healthy") == 2, etcd.stdout + etcd.stderr


def test_status_says_self_hosted_on_each_node(ha: dict[str, Any]) -> None:
    names = {ha["a"].name, ha["b"].name}
    for node in (ha["a"], ha["b"]):
        status = json.loads(kubeadm_py(node, "selfhosting", "status", "-o", "json").stdout)
        rows = {(r["component"], r["node"]): r for r in status["components"]}
        for comp in COMPONENTS:
            for name in names:
                assert rows[(comp, name)]["mode"] == "self-hosted", (node.name, rows)
                assert rows[(comp, name)]["pod"] == "Running, Ready", (node.name, rows)
            assert rows[(comp, node.name)]["checkpoint"] != "active", (node.name, rows)


def test_upgrade_apply_rolls_the_api_server_over_both_nodes(ha: dict[str, Any]) -> None:
    """The issue's upgrade on HA: ``upgrade apply`` (config only) on A updates the API server
    DaemonSet; the DaemonSet controller replaces one node's Pod at a time (no checkpoint bridge with
    two Pods), the phase waits for both, and the other API server serves meanwhile (printed)."""
    a, b = ha["a"], ha["b"]
    before = {c: daemonset(a, c) for c in COMPONENTS}
    config = write_change(a, "ha-flag", {"event-ttl": "2h0m0s"})
    t0 = time.monotonic()
    with ApiPoller(ha["hub"], ha["servers"], ha["creds"]) as poller:
        r = kubeadm_py(
            a, "upgrade", "apply", "v1.20.2", "--config", config, "-y", "-o", "json",
            "--upgrade-timeout", "480s", check=False, timeout=700,
        )  # fmt: skip
        end = time.monotonic()
        OUTAGES["upgrade apply"] = poller.outages(t0, end)
        time.sleep(2)
        after_samples = [s for s in poller.samples if s.t > end]
    TIMINGS["upgrade-apply"] = end - t0
    api = OUTAGES["upgrade apply"].line()
    print(f"\n{LABEL} upgrade apply {end - t0:.1f}s, exit {r.returncode}; API: {api}")
    print("  " + "\n  ".join(x for x in r.stderr.splitlines() if "self-hosted" in x or x.startswith("error")))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    phases = {p["phase"]: p["status"] for p in json.loads(r.stdout)["phases"]}
    assert phases["self-hosted"] == "changed", phases
    ds = daemonset(a, "kube-apiserver")
    assert "--event-ttl=2h0m0s" in ds["spec"]["template"]["spec"]["containers"][0]["command"]
    for c in ("kube-controller-manager", "kube-scheduler"):  # unchanged: not written
        assert daemonset(a, c)["metadata"]["generation"] == before[c]["metadata"]["generation"], c
    r = a.kubectl(
        "-n", "kube-system", "get", "pods", "-l", "k8s-app=self-hosted-kube-apiserver", "-o", "json"
    )
    pods = json.loads(r.stdout)["items"]
    by_node = {
        p["spec"]["nodeName"]: (
            "--event-ttl=2h0m0s" in p["spec"]["containers"][0]["command"],
            any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or []),
        )
        for p in pods
    }
    assert by_node == {a.name: (True, True), b.name: (True, True)}, by_node
    for server in ha["servers"]:  # both serve after it
        assert any(s.ok for s in after_samples if s.server == server), server
    stored = a.kubectl("-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "yaml").stdout
    assert "event-ttl" in stored


def test_a_broken_flag_on_ha_is_rolled_back(ha: dict[str, Any]) -> None:
    """A flag the API server refuses, applied on A: the DaemonSet controller replaces one node's Pod
    (either), the new Pod keeps exiting, and the phase writes the previous template back (the CRI
    watch sees A's containers; a Pod replaced on B ends the wait at the timeout instead); both Pods
    are Ready on the previous template afterwards, and kubeadm-config keeps the previous flags."""
    a = ha["a"]
    before = daemonset(a, "kube-apiserver")
    config = write_change(a, "ha-broken", {"no-such-flag": "1"})
    t0 = time.monotonic()
    with ApiPoller(ha["hub"], ha["servers"], ha["creds"]) as poller:
        r = kubeadm_py(
            a, "upgrade", "apply", "v1.20.2", "--config", config, "-y", "-o", "json",
            "--upgrade-timeout", "240s", "--ignore-preflight-errors=UnknownExtraArgs",
            check=False, timeout=900,
        )  # fmt: skip
        end = time.monotonic()
        OUTAGES["broken flag"] = poller.outages(t0, end)

        def both_ready() -> bool:
            r = a.kubectl(
                "-n", "kube-system", "get", "pods", "-l", "k8s-app=self-hosted-kube-apiserver", "-o", "json",
                check=False, timeout=20,
            )  # fmt: skip
            if r.returncode != 0:
                return False
            pods = json.loads(r.stdout)["items"]
            return len(pods) == 2 and all(
                any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in p["status"].get("conditions") or []
                )
                and "--no-such-flag=1" not in p["spec"]["containers"][0]["command"]
                for p in pods
            )

        wait_for(both_ready, 240, 3, "both API server Pods Ready on the previous template")
    TIMINGS["broken-flag"] = end - t0
    print(f"\n{LABEL} broken flag {end - t0:.1f}s, exit {r.returncode}; API: {OUTAGES['broken flag'].line()}")
    print("  " + "\n  ".join(x for x in r.stderr.splitlines() if "self-hosted" in x or x.startswith("error")))
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-5000:]
    assert "the update of the DaemonSet kube-system/self-hosted-kube-apiserver failed" in r.stderr, r.stderr
    assert "rolled back, kube-apiserver healthy again" in r.stderr, r.stderr[-3000:]
    assert daemonset(a, "kube-apiserver")["spec"]["template"] == before["spec"]["template"]
    # Not asserted: how long neither API server answered. One run (2026-12-04) replaced both Pods
    # with the broken template and neither answered for 43.7 s (docs/selfhosting.md, HA).
    stored = a.kubectl("-n", "kube-system", "get", "cm", "kubeadm-config", "-o", "yaml").stdout
    assert "no-such-flag" not in stored


def test_upgrade_node_on_the_other_node_keeps_its_daemonset_pods(ha: dict[str, Any]) -> None:
    """``upgrade node`` on B after A's ``upgrade apply``: B counts as a control-plane node (pivot's
    copies), its static etcd is upgraded when its manifest differs, its certificates are renewed;
    the DaemonSets (cluster-wide, A's apply updated them) and B's Pods stay as they are, no static
    manifest appears for them."""
    a, b = ha["a"], ha["b"]
    before = {c: daemonset(a, c)["metadata"]["generation"] for c in COMPONENTS}
    crt = b.path("/etc/kubernetes/pki/apiserver.crt")
    mtime = os.stat(crt).st_mtime
    t0 = time.monotonic()
    r = kubeadm_py(b, "upgrade", "node", "-o", "json", check=False, timeout=600)
    print(f"\n{LABEL} upgrade node on B {time.monotonic() - t0:.1f}s, exit {r.returncode}")
    print("  " + "\n  ".join(x for x in r.stderr.splitlines() if x.startswith(("[wait]", "[phase]"))))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-5000:]
    report = json.loads(r.stdout)
    phases = {p["phase"]: p for p in report["phases"]}
    written = [c["target"] for c in phases["control-plane"]["changes"]]
    assert not any(t.endswith(f"manifests/{c}.yaml") for c in COMPONENTS for t in written), written
    assert os.stat(crt).st_mtime > mtime  # renewed on the host, where its DaemonSet Pod reads it
    assert "run as DaemonSets on this node" in r.stderr, r.stderr[-3000:]
    assert {c: daemonset(a, c)["metadata"]["generation"] for c in COMPONENTS} == before
    assert not any(os.path.exists(b.path(f"{MANIFESTS}/{c}.yaml")) for c in COMPONENTS)
    for comp in COMPONENTS:
        r = b.kubectl("-n", "kube-system", "get", "pods", "-l", f"k8s-app=self-hosted-{comp}", "-o", "json")
        mine = [p for p in json.loads(r.stdout)["items"] if p["spec"]["nodeName"] == b.name]
        assert len(mine) == 1 and mine[0]["status"]["phase"] == "Running", (comp, mine)
