"""A full `kubeadm-py init` on a real node: the v1.20.2 kubelet runs our static Pods in
containerd containers, and every cluster-side object is checked with kubectl and with the
upstream reference kubeadm v1.20.2."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time

import pytest

from tests.testbed import bin_path
from tests.testbed.configs import init_config_v1beta4

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "abcdef.0123456789abcdef"


def init_config(address: str, name: str) -> str:
    return init_config_v1beta4(
        address,
        name,
        token=TOKEN,
        description="kubeadm-py integration test",
        control_plane_endpoint=f"{address}:6443",
    )


def kubeadm_py(node, *args: str, timeout: float = 600, check: bool = True):
    env = {"PYTHONPATH": REPO}
    return node.run([*KUBEADM_PY, *args], env=env, timeout=timeout, check=check)


def kget(node, *args: str) -> dict:
    return json.loads(node.kubectl("get", *args, "-o", "json").stdout)


def json_stream(text: str) -> list[dict]:
    decoder, out, i = json.JSONDecoder(), [], 0
    while i < len(text.strip()):
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
        while i < len(text) and text[i].isspace():
            i += 1
    return out


def wait_for(what: str, fn, timeout: float = 120.0, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


@pytest.fixture(scope="module")
def cluster(request):
    """One node initialised by kubeadm-py, shared by the tests of this module."""
    from tests.testbed.fixtures import control_plane_node

    with control_plane_node(request, "cp-init", "kpt-init", init_config) as (node, cfg):
        t0 = time.monotonic()
        r = kubeadm_py(
            node, "init", "--config", cfg, "--upload-certs", "--ignore-preflight-errors=all", "-o", "json"
        )
        seconds = time.monotonic() - t0
        result = json.loads(r.stdout)
        print(f"\n[init] kubeadm-py init took {seconds:.1f}s")
        yield {"node": node, "result": result, "config": cfg, "stderr": r.stderr}


def test_every_phase_ran(cluster) -> None:
    result = cluster["result"]
    assert result["ok"] and result["error"] is None
    statuses = {p["phase"]: p["status"] for p in result["phases"]}
    for phase in (
        "certs/ca",
        "kubeconfig/admin",
        "etcd/local",
        "control-plane/apiserver",
        "kubelet-start",
        "upload-config/kubeadm",
        "upload-certs",
        "mark-control-plane",
        "bootstrap-token",
        "addon/coredns",
        "addon/kube-proxy",
    ):
        assert statuses[phase] == "changed", (phase, statuses)
    assert statuses["wait-control-plane"] in ("changed", "unchanged")
    out = result["outputs"]
    assert out["token"] == TOKEN
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", out["ca_cert_hash"])
    assert re.fullmatch(r"[0-9a-f]{64}", out["certificate_key"])
    assert "--discovery-token-ca-cert-hash" in out["join_command"]


def test_control_plane_healthy(cluster) -> None:
    node = cluster["node"]
    assert node.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        assert component in node.ctr("containers", "ls").stdout
    pki = "/etc/kubernetes/pki/etcd"
    h = node.run(
        [
            "etcdctl",
            "--endpoints",
            f"https://{node.address}:2379",
            "--cacert",
            f"{pki}/ca.crt",
            "--cert",
            f"{pki}/healthcheck-client.crt",
            "--key",
            f"{pki}/healthcheck-client.key",
            "endpoint",
            "health",
        ],
        env={"ETCDCTL_API": "3"},
        timeout=60,
    )
    assert "is healthy" in h.stdout + h.stderr
    # controller-manager and scheduler serve their health endpoints
    cs = node.kubectl("get", "--raw", "/api/v1/componentstatuses").stdout
    for name in ("controller-manager", "scheduler", "etcd-0"):
        assert f'"name":"{name}"' in cs.replace(" ", ""), cs


def test_node_registered_labelled_and_tainted(cluster) -> None:
    node = cluster["node"]
    obj = wait_for(
        "node",
        lambda: (
            kget(node, "node", node.name)
            if node.kubectl("get", "node", node.name, check=False).returncode == 0
            else None
        ),
    )
    labels = obj["metadata"]["labels"]
    for label in (
        "node-role.kubernetes.io/master",
        "node-role.kubernetes.io/control-plane",
        "node.kubernetes.io/exclude-from-external-load-balancers",
    ):
        assert label in labels, labels
    taints = [(t["key"], t["effect"]) for t in obj["spec"].get("taints", [])]
    assert ("node-role.kubernetes.io/master", "NoSchedule") in taints
    assert obj["metadata"]["annotations"]["kubeadm.alpha.kubernetes.io/cri-socket"]


@pytest.mark.parametrize(
    "args",
    [
        ("configmap", "-n", "kube-system", "kubeadm-config"),
        ("configmap", "-n", "kube-system", "kubelet-config-1.20"),
        ("configmap", "-n", "kube-system", "coredns"),
        ("configmap", "-n", "kube-system", "kube-proxy"),
        ("configmap", "-n", "kube-public", "cluster-info"),
        ("secret", "-n", "kube-system", "bootstrap-token-abcdef"),
        ("secret", "-n", "kube-system", "kubeadm-certs"),
        ("deployment", "-n", "kube-system", "coredns"),
        ("daemonset", "-n", "kube-system", "kube-proxy"),
        ("service", "-n", "kube-system", "kube-dns"),
        ("serviceaccount", "-n", "kube-system", "coredns"),
        ("serviceaccount", "-n", "kube-system", "kube-proxy"),
        ("role", "-n", "kube-system", "kubeadm:nodes-kubeadm-config"),
        ("role", "-n", "kube-public", "kubeadm:bootstrap-signer-clusterinfo"),
        ("role", "-n", "kube-system", "kubeadm:kubeadm-certs"),
        ("clusterrolebinding", "kubeadm:kubelet-bootstrap"),
        ("clusterrolebinding", "kubeadm:node-autoapprove-bootstrap"),
        ("clusterrolebinding", "kubeadm:node-autoapprove-certificate-rotation"),
        ("clusterrole", "kubeadm:get-nodes"),
        ("clusterrole", "system:coredns"),
    ],
)
def test_cluster_object_present(cluster, args) -> None:
    assert kget(cluster["node"], *args)["metadata"]["name"] == args[-1]


def test_cluster_objects_content(cluster) -> None:
    node = cluster["node"]
    stored = kget(node, "configmap", "-n", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"]
    assert "kubernetesVersion: v1.20.2" in stored and f"controlPlaneEndpoint: {node.address}:6443" in stored
    svc = kget(node, "service", "-n", "kube-system", "kube-dns")
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    secret = kget(node, "secret", "-n", "kube-system", "bootstrap-token-abcdef")
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert base64.b64decode(secret["data"]["token-secret"]).decode() == "0123456789abcdef"


def test_bootstrap_signer_jws_equals_ours(cluster) -> None:
    from kubeadm_py.tokens.jws import compute_detached_signature

    node = cluster["node"]
    data = wait_for(
        "the controller-manager's bootstrap signer to sign cluster-info",
        lambda: (
            (d := kget(node, "configmap", "-n", "kube-public", "cluster-info")["data"]).get(
                "jws-kubeconfig-abcdef"
            )
            and d
        ),
        timeout=120,
    )
    ours = compute_detached_signature(data["kubeconfig"], "abcdef", "0123456789abcdef")
    assert data["jws-kubeconfig-abcdef"] == ours


def test_kubeadm_certs_decrypt_with_printed_key(cluster) -> None:
    from kubeadm_py.cluster.copycerts import decode_key, decrypt_secret

    node = cluster["node"]
    secret = kget(node, "secret", "-n", "kube-system", "kubeadm-certs")
    plain = decrypt_secret(secret, decode_key(cluster["result"]["outputs"]["certificate_key"]))
    with open(node.path("/etc/kubernetes/pki/ca.crt"), "rb") as f:
        assert plain["ca.crt"] == f.read()
    with open(node.path("/etc/kubernetes/pki/etcd/ca.key"), "rb") as f:
        assert plain["etcd-ca.key"] == f.read()
    assert set(plain) >= {
        "ca.key",
        "sa.key",
        "sa.pub",
        "front-proxy-ca.crt",
        "front-proxy-ca.key",
        "etcd-ca.crt",
    }


def test_tokens_listed_by_both_tools(cluster) -> None:
    node = cluster["node"]
    ours = json_stream(kubeadm_py(node, "token", "list", "-o", "json").stdout)
    # like upstream, one JSON object per token; the secret half is masked
    assert any(
        t["token"].startswith("abcdef.") and t["description"] == "kubeadm-py integration test" for t in ours
    )
    upstream = node.run(
        [bin_path("kubeadm"), "token", "list", "--kubeconfig", "/etc/kubernetes/admin.conf"], timeout=60
    ).stdout
    assert TOKEN in upstream and "kubeadm-py integration test" in upstream
    created = node.run(
        [
            bin_path("kubeadm"),
            "token",
            "create",
            "--kubeconfig",
            "/etc/kubernetes/admin.conf",
            "--description",
            "made-by-upstream",
        ],
        timeout=60,
    ).stdout.strip()
    listed = kubeadm_py(node, "token", "list").stdout
    assert created.split(".")[0] in listed and "made-by-upstream" in listed


def test_rerun_changes_nothing(cluster) -> None:
    node = cluster["node"]
    r = kubeadm_py(
        node,
        "init",
        "--config",
        cluster["config"],
        "-o",
        "json",
        "--ignore-preflight-errors=all",
    )
    result = json.loads(r.stdout)
    changed = [p["phase"] for p in result["phases"] if p["status"] == "changed"]
    assert changed == [], changed
    # Preflight runs too and is never a change: the whole rerun reports no change.
    assert result["changed"] is False and result["ok"] is True
    assert {p["phase"]: p["status"] for p in result["phases"]}["preflight"] == "unchanged"


def test_rerun_preflight_resumes_past_own_control_plane(cluster) -> None:
    """On the finished node the control plane holds 6443/2379/... and the manifests exist: a rerun
    knows (from the node's run journal) that they are its own, so they are warnings, not errors.
    Other findings of this machine (if any) still count as errors."""
    node = cluster["node"]
    r = kubeadm_py(node, "init", "phase", "preflight", "--config", cluster["config"], check=False)
    out = r.stdout + r.stderr
    assert "resuming: 'kubeadm-py init' already changed this node" in out, out
    assert (
        "[WARNING Port-6443]" in out and "[WARNING FileAvailable--etc-kubernetes-manifests-etcd.yaml]" in out
    )
    errors = [line for line in out.splitlines() if "[ERROR" in line]
    assert not any("Port-" in e or "FileAvailable--etc-kubernetes-manifests" in e for e in errors), errors
    with open(node.path("/etc/kubernetes/tmp/kubeadm-py-init.json")) as f:
        journal = json.load(f)
    assert journal[0]["ok"] and journal[0]["kubernetesVersion"] == "v1.20.2"
