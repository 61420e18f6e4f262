"""Each verify check on the fake healthy cluster (pass), then with one thing broken (its line)."""

from __future__ import annotations

from datetime import timedelta

import yaml

from kubeadm_py.etcd.client import EndpointStatus, Member
from kubeadm_py.host.cri import CriStatus
from kubeadm_py.verify.checks import CHECKS, run_once
from kubeadm_py.verify.model import Result
from tests.unit.verify.conftest import (
    ADVERTISE,
    NETWORK_MESSAGE,
    NODE,
    WORKER,
    World,
    lease,
    node_object,
    short_cert,
)


def results(world: World, *scopes: str) -> dict[str, Result]:
    return {r.name: r for r in run_once(world.env(), scopes or ("node", "cluster"))}  # type: ignore[arg-type]


def messages(r: Result) -> list[str]:
    return [p.message for p in r.problems]


def test_the_healthy_cluster_passes_every_check(world: World) -> None:
    got = results(world)
    assert {n: r.status for n, r in got.items()} == {
        c.name: "skip" if c.name == "selfhosting-checkpoints" else "pass"  # a static control plane
        for c in CHECKS
        if c.scope != "workload"
    }, {n: messages(r) for n, r in got.items()}
    assert got["etcd"].detail == f"1 member(s), 1/1 voting healthy, leader {NODE}"
    assert got["control-plane-pods"].detail == "4/4 control-plane Pods running and ready on 1 node(s)"


def test_checks_table_has_one_function_per_name() -> None:
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    assert {c.scope for c in CHECKS} == {"cluster", "node", "workload"}


# --- cluster ----------------------------------------------------------------------------------------


def test_readyz_failed_check_and_etcd_makes_api_readers_fail_fast(world: World) -> None:
    world.server.readyz = (500, b"[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n")
    got = results(world, "cluster")
    assert messages(got["apiserver-readyz"]) == [
        "the API server's readiness check etcd fails at https://fake-apiserver:6443"
    ]
    assert got["control-plane-pods"].status == "fail"
    assert got["control-plane-pods"].detail.startswith("not checked: not read: the API server")
    assert not any(path.startswith("/api/v1/pods") for _, path in world.server.requests)


def test_readyz_unreachable_api_server(world: World) -> None:
    world.server.down = True
    got = results(world, "cluster")
    assert messages(got["apiserver-readyz"]) == [
        "the API server at https://fake-apiserver:6443 does not answer: connection refused"
    ]
    # One line for the reason; every check reading the API fails without repeating it.
    assert got["nodes"].status == "fail" and len([r for r in got.values() if r.problems]) <= 3


def test_scheduler_without_mirror_pod(world: World) -> None:
    del world.server.objects[("Pod", "kube-system", f"kube-scheduler-{NODE}")]
    assert messages(results(world, "cluster")["control-plane-pods"]) == [
        f"kube-scheduler is not running on {NODE}: no mirror Pod (the kubelet does not run "
        "/etc/kubernetes/manifests/kube-scheduler.yaml)"
    ]


def test_crash_looping_component(world: World) -> None:
    pod = world.pod(f"kube-controller-manager-{NODE}")
    pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    pod["status"]["containerStatuses"] = [
        {
            "name": "kube-controller-manager",
            "ready": False,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        }
    ]
    r = results(world, "cluster")["control-plane-pods"]
    assert messages(r) == [
        f"kube-controller-manager on {NODE} is not healthy: kube-controller-manager waiting: CrashLoopBackOff"
    ]
    assert r.problems[0].fix.startswith(f"on {NODE}: crictl ps -a --name kube-controller-manager")


def _three_members(world: World, down: set[int]) -> None:
    members = [
        Member(i, f"m{i}", [f"https://10.0.0.{i}:2380"], [f"https://10.0.0.{i}:2379"], False)
        for i in (1, 2, 3)
    ]
    world.etcd.members_ = members
    world.etcd.status = {
        f"https://10.0.0.{i}:2379": EndpointStatus(
            f"https://10.0.0.{i}:2379", i, 1, "connection refused" if i in down else ""
        )
        for i in (1, 2, 3)
    }


def test_etcd_member_down_with_quorum_kept(world: World) -> None:
    _three_members(world, {3})
    r = results(world, "cluster")["etcd"]
    assert r.status == "fail"
    assert messages(r) == ["etcd member m3 (https://10.0.0.3:2379) is not healthy: connection refused"]
    assert r.detail == "3 member(s), 2/3 voting healthy, leader m1"


def test_etcd_without_quorum(world: World) -> None:
    _three_members(world, {2, 3})
    assert messages(results(world, "cluster")["etcd"])[-1] == (
        "etcd has no quorum: 1 of 3 voting members healthy (2 needed)"
    )


def test_etcd_that_cannot_list_its_members(world: World) -> None:
    world.etcd.unlisted = True
    world.etcd.status = {}
    r = results(world, "cluster")["etcd"]
    assert messages(r) == [
        "etcd at https://127.0.0.1:2379 is not healthy: connection refused",
        "etcd has no quorum: its members cannot be listed (etcd member list failed: no answer within 5.0s)",
    ]


def test_etcd_without_leader(world: World) -> None:
    url = f"https://{ADVERTISE}:2379"
    world.etcd.status = {url: EndpointStatus(url, 1, 0)}
    assert messages(results(world, "cluster")["etcd"]) == ["etcd has no leader"]


def _not_ready(world: World, name: str, address: str, status: str, message: str) -> None:
    cp = name == NODE
    world.server.put(
        node_object(name, address, cp, {"type": "Ready", "status": status, "reason": "x", "message": message})
    )


def test_nodes_not_ready_only_for_the_pod_network_is_a_warning_saying_so(world: World) -> None:
    for name, addr in ((NODE, ADVERTISE), (WORKER, "10.0.0.2")):
        _not_ready(world, name, addr, "False", NETWORK_MESSAGE)
    r = results(world, "cluster")["nodes"]
    assert r.status == "warn"
    assert (
        messages(r)[0]
        == f"node {NODE} is NotReady only because no pod network is installed ({NETWORK_MESSAGE})"
    )
    assert r.problems[0].fix.startswith("install a pod network (CNI) add-on")


def test_node_whose_kubelet_stopped(world: World) -> None:
    _not_ready(world, WORKER, "10.0.0.2", "Unknown", "Kubelet stopped posting node status.")
    world.server.put(lease(WORKER, world.now - timedelta(seconds=95)))
    r = results(world, "cluster")["nodes"]
    assert messages(r) == [
        f"node {WORKER}: its kubelet has not renewed its Lease for 95s",
        f"node {WORKER} is NotReady: Kubelet stopped posting node status.",
    ]
    assert r.problems[0].fix.startswith(f"on {WORKER}: systemctl status kubelet")


def test_a_stale_lease_fails_before_the_node_turns_unknown(world: World) -> None:
    world.server.put(lease(WORKER, world.now - timedelta(seconds=50)))
    assert messages(results(world, "cluster")["nodes"]) == [
        f"node {WORKER}: its kubelet has not renewed its Lease for 50s"
    ]


def _coredns_pending(world: World, waiting: dict[str, str] | None = None) -> None:
    dep = world.server.obj("Deployment", "coredns", "kube-system")
    assert dep is not None
    dep["status"] = {"availableReplicas": 0}
    for i in (1, 2):
        status: dict[str, object] = {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/2 nodes are available: 2 node(s) had taint "
                    "{node.kubernetes.io/not-ready: }",
                }
            ],
        }
        if waiting:
            status = {
                "phase": "Pending",
                "containerStatuses": [
                    {"name": "coredns", "image": "x/coredns:v1", "state": {"waiting": waiting}}
                ],
            }
        world.server.put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"coredns-{i}",
                    "namespace": "kube-system",
                    "labels": {"k8s-app": "kube-dns"},
                },
                "spec": {},
                "status": status,
            }
        )


def test_coredns_pending_only_for_the_missing_pod_network_is_a_plain_warning(world: World) -> None:
    for name, addr in ((NODE, ADVERTISE), (WORKER, "10.0.0.2")):
        _not_ready(world, name, addr, "False", NETWORK_MESSAGE)
    _coredns_pending(world)
    r = results(world, "cluster")["kube-system-workloads"]
    assert r.status == "warn"
    assert messages(r) == [
        "Deployment kube-system/coredns: 0/2 available: its Pods are Pending because no Node is Ready, "
        "and the "
        "Nodes are NotReady only because no pod network is installed"
    ]


def test_coredns_pending_on_ready_nodes_is_a_failure(world: World) -> None:
    _coredns_pending(world)
    r = results(world, "cluster")["kube-system-workloads"]
    assert r.status == "fail"
    assert messages(r)[0].startswith(
        "Deployment kube-system/coredns: 0/2 available (coredns-1: not scheduled: 0/2"
    )


def test_coredns_image_that_cannot_be_pulled(world: World) -> None:
    _coredns_pending(world, {"reason": "ImagePullBackOff", "message": "no such image"})
    assert messages(results(world, "cluster")["kube-system-workloads"]) == [
        "Deployment kube-system/coredns: 0/2 available: Pod coredns-1 cannot pull its image x/coredns:v1 "
        "(ImagePullBackOff)"
    ]


def test_cluster_info_not_signed_or_badly_signed(world: World) -> None:
    cm = world.server.obj("ConfigMap", "cluster-info", "kube-public")
    assert cm is not None
    cm["data"]["jws-kubeconfig-abcdef"] = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..AAAA"
    assert messages(results(world, "cluster")["cluster-info"]) == [
        "cluster-info's signature for token abcdef does not match its content"
    ]
    del cm["data"]["jws-kubeconfig-abcdef"]
    r = results(world, "cluster")["cluster-info"]
    assert messages(r) == ["cluster-info is not signed for token abcdef"]
    assert "bootstrapsigner" in r.problems[0].fix


def test_bootstrap_rbac_missing_binding(world: World) -> None:
    del world.server.objects[("ClusterRoleBinding", "", "kubeadm:node-autoapprove-bootstrap")]
    r = results(world, "cluster")["bootstrap-rbac"]
    assert messages(r) == ["ClusterRoleBinding kubeadm:node-autoapprove-bootstrap is missing"]
    assert r.problems[0].fix == "kubeadm-py init phase bootstrap-token"


def test_version_skew_kubelet_newer_than_the_api_server(world: World) -> None:
    node = node_object(WORKER, "10.0.0.2", False)
    node["status"]["nodeInfo"]["kubeletVersion"] = "v1.31.2"
    world.server.put(node)
    assert messages(results(world, "cluster")["version-skew"]) == [
        f"the kubelet 1.31.2 on {WORKER} is outside the skew policy for API server 1.30.14 "
        "(not newer, at most 3 minors older)"
    ]


def test_serving_certificate_near_expiry_across_nodes(world: World) -> None:
    world.serving[("10.0.0.2", 10250)] = short_cert(
        world, "/etc/kubernetes/pki/apiserver-kubelet-client.crt", "ca", timedelta(hours=30)
    )
    r = results(world, "cluster")["serving-certificates"]
    assert [m.split(" (")[0] for m in messages(r)] == [
        f"kubelet serving certificate of {WORKER} expires in 30.0h"
    ]
    del world.serving[("10.0.0.2", 10250)]
    assert results(world, "cluster")["serving-certificates"].detail == "2/3 serving certificates read"


def test_manifest_drift(world: World) -> None:
    path = world.path("/etc/kubernetes/manifests/kube-scheduler.yaml")
    pod = yaml.safe_load(path.read_text())
    pod["spec"]["containers"][0]["command"].append("--v=3")
    path.write_text(yaml.safe_dump(pod))
    r = results(world, "cluster")["manifest-drift"]
    assert messages(r) == [
        f"/etc/kubernetes/manifests/kube-scheduler.yaml on {NODE} drifted from kubeadm-config: "
        "--v=3 not in kubeadm-config"
    ]
    pod["spec"]["containers"][0]["command"].remove("--v=3")
    pod["spec"]["containers"][0]["image"] = "registry.k8s.io/kube-scheduler:v1.30.1"
    path.write_text(yaml.safe_dump(pod))
    assert messages(results(world, "cluster")["manifest-drift"]) == [
        f"/etc/kubernetes/manifests/kube-scheduler.yaml on {NODE} drifted from kubeadm-config: differs at "
        "spec.containers"
    ]


# --- node -------------------------------------------------------------------------------------------


def test_kubelet_unhealthy_and_unregistered(world: World) -> None:
    world.health["http://127.0.0.1:10248/healthz"] = (False, "[Errno 111] Connection refused")
    del world.server.objects[("Node", "", NODE)]
    r = results(world, "node")["kubelet"]
    assert messages(r) == [
        "the kubelet is not healthy: http://127.0.0.1:10248/healthz: [Errno 111] Connection refused",
        f"the kubelet has not registered Node {NODE}",
    ]


def test_kubelet_client_certificate_embedded_and_rotation_off(world: World) -> None:
    import base64

    conf_path = world.path("/etc/kubernetes/kubelet.conf")
    conf = yaml.safe_load(conf_path.read_text())
    pem = world.path("/var/lib/kubelet/pki/kubelet-client-current.pem").read_bytes()
    user = conf["users"][0]["user"]
    del user["client-certificate"], user["client-key"]
    user["client-certificate-data"] = base64.b64encode(pem).decode()
    user["client-key-data"] = base64.b64encode(pem).decode()
    conf_path.write_text(yaml.safe_dump(conf))
    world.path("/var/lib/kubelet/config.yaml").write_text("rotateCertificates: false\n")
    r = results(world, "node")["kubelet-client-certificate"]
    assert r.status == "warn"
    assert messages(r) == [
        "/etc/kubernetes/kubelet.conf embeds its client certificate: the kubelet cannot rotate it",
        "client certificate rotation is off in /var/lib/kubelet/config.yaml",
    ]


def test_kubeconfig_whose_credentials_are_refused(world: World) -> None:
    world.server.handlers.insert(
        0, lambda m, p: (401, b'{"message":"Unauthorized"}') if p == "/api" else None
    )
    r = results(world, "node")["kubeconfigs"]
    assert r.status == "fail" and len(r.problems) == 5
    assert messages(r)[0].startswith(
        "/etc/kubernetes/admin.conf: the API server at https://fake-apiserver:6443 did not accept"
    )


def test_container_runtime_not_ready(world: World) -> None:
    world.runtime.ready = CriStatus(
        False, 'container runtime condition "RuntimeReady" is not true', "status-call"
    )
    assert messages(results(world, "node")["container-runtime"]) == [
        'container runtime condition "RuntimeReady" is not true'
    ]


def test_static_pod_liveness(world: World) -> None:
    world.health["https://127.0.0.1:10259/healthz"] = (False, "[Errno 111] Connection refused")
    r = results(world, "node")["static-pods"]
    assert messages(r) == [
        f"kube-scheduler on {NODE} does not answer its liveness probe https://127.0.0.1:10259/healthz: "
        "[Errno 111] Connection refused"
    ]
    assert f"https://{ADVERTISE}:6443/livez" in world.checked_urls


def test_certificate_near_expiry_and_missing(world: World) -> None:
    short_cert(world, "/etc/kubernetes/pki/front-proxy-client.crt", "front-proxy-ca", timedelta(hours=20))
    world.path("/etc/kubernetes/pki/apiserver-etcd-client.crt").unlink()
    r = results(world, "node")["certificates"]
    assert [(m.split(" (")[0], p.fix) for m, p in zip(messages(r), r.problems, strict=True)] == [
        ("certificate apiserver-etcd-client is missing", "kubeadm-py init phase certs apiserver-etcd-client"),
        (
            "certificate front-proxy-client expires in 20.0h",
            "kubeadm-py certs renew front-proxy-client, then restart the components using it",
        ),
    ]


def test_certificate_within_the_warning_threshold(world: World) -> None:
    short_cert(world, "/etc/kubernetes/pki/front-proxy-client.crt", "front-proxy-ca", timedelta(days=20))
    r = results(world, "node")["certificates"]
    assert r.status == "warn" and messages(r)[0].startswith("certificate front-proxy-client expires in 20d")


def test_worker_node_checks(world: World) -> None:
    import shutil

    shutil.rmtree(world.path("/etc/kubernetes/manifests"))
    for name in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
        world.path(f"/etc/kubernetes/{name}").unlink()
    got = results(world, "node")
    assert got["static-pods"].status == "skip"
    assert got["certificates"].detail == "cluster CA checked" and got["certificates"].status == "pass"
    assert got["kubeconfigs"].detail == "1/1 kubeconfig file(s) work"


def test_manifest_that_is_not_yaml(world: World) -> None:
    world.path("/etc/kubernetes/manifests/kube-scheduler.yaml").write_text("spec: [unclosed\n")
    r = results(world, "cluster")["manifest-drift"]
    assert [m.split(":")[0] for m in messages(r)] == [
        "/etc/kubernetes/manifests/kube-scheduler.yaml is not valid YAML"
    ]
    assert r.problems[0].fix.startswith("put the rendered manifest back")
