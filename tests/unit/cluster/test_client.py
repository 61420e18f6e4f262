"""KubeClient against the in-memory API server, plus real-socket failure behaviour."""

from __future__ import annotations

import json
import socket
import time

import pytest

from kubeadm_py.errors import ApiError
from kubeadm_py.kube.client import ForbiddenError, KubeClient, RetryPolicy
from kubeadm_py.kube.dryrun import DryRunKubeClient
from kubeadm_py.kube.transport import UrllibTransport
from tests.unit.cluster.fakeapi import FakeAPIServer

CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "demo", "namespace": "kube-system"},
    "data": {"a": "1"},
}


def test_apply_create_then_unchanged_then_update() -> None:
    api = FakeAPIServer()
    c = api.client()
    assert c.apply(CM).action == "create"
    assert api.obj("ConfigMap", "demo", "kube-system")["data"] == {"a": "1"}
    n = len(api.mutations())
    assert c.apply(CM).action == "unchanged"
    assert len(api.mutations()) == n, "an unchanged object must not be written"
    changed = {**CM, "data": {"a": "2"}}
    ch = c.apply(changed)
    assert ch.action == "update" and "data.a" in ch.detail
    assert api.obj("ConfigMap", "demo", "kube-system")["data"] == {"a": "2"}
    assert [x.action for x in c.changes] == ["create", "unchanged", "update"]
    assert all(x.kind == "object" and x.target == "ConfigMap kube-system/demo" for x in c.changes)


def test_server_defaults_do_not_count_as_drift() -> None:
    api = FakeAPIServer()
    c = api.client()
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "kube-system"},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]},
    }
    c.apply(svc)
    assert api.obj("Service", "s", "kube-system")["spec"]["sessionAffinity"] == "None"
    assert c.apply(svc).action == "unchanged"


def test_go_zero_values_dropped_by_the_server_are_not_drift() -> None:
    api = FakeAPIServer()
    c = api.client()
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "d", "namespace": "kube-system"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "volumeMounts": [
                                {"mountPath": "/run/xtables.lock", "name": "x", "readOnly": False}
                            ],
                        }
                    ]
                }
            }
        },
    }
    c.apply(ds)
    assert (
        "readOnly"
        not in api.obj("DaemonSet", "d", "kube-system")["spec"]["template"]["spec"]["containers"][0][
            "volumeMounts"
        ][0]
    )
    assert c.apply(ds).action == "unchanged"


def test_merge_keeps_foreign_keys() -> None:
    api = FakeAPIServer()
    api.put({**CM, "data": {"a": "0", "jws-kubeconfig-abcdef": "sig"}})
    c = api.client()
    assert c.apply(CM, merge=True).action == "update"
    assert api.obj("ConfigMap", "demo", "kube-system")["data"] == {"a": "1", "jws-kubeconfig-abcdef": "sig"}
    assert c.apply(CM, merge=True).action == "unchanged"


def test_update_conflict_is_retried() -> None:
    api = FakeAPIServer()
    api.put(CM)
    c = api.client()
    real_send = api.send
    bumped = {"done": False}

    def racing_send(method, path, body, headers):  # another writer bumps the object before our PUT
        if method == "PUT" and not bumped["done"]:
            bumped["done"] = True
            api.put(api.obj("ConfigMap", "demo", "kube-system"))
        return real_send(method, path, body, headers)

    api.send = racing_send  # type: ignore[method-assign]
    assert c.apply({**CM, "data": {"a": "3"}}).action == "update"
    assert api.obj("ConfigMap", "demo", "kube-system")["data"]["a"] == "3"
    assert [m for m, _ in api.requests].count("PUT") == 2


def test_get_missing_is_none_and_delete_reports() -> None:
    api = FakeAPIServer()
    c = api.client()
    assert c.get("Secret", "nope", "kube-system") is None
    assert c.delete("Secret", "nope", "kube-system").action == "unchanged"
    api.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "kube-system"}})
    assert c.delete("Secret", "x", "kube-system").action == "delete"
    assert api.obj("Secret", "x", "kube-system") is None


def test_list_with_selector_returns_typed_dicts() -> None:
    api = FakeAPIServer()
    for i, lab in enumerate(["a", "b", "a"]):
        api.put(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s{i}", "namespace": "kube-system", "labels": {"l": lab}},
            }
        )
    c = api.client()
    got = c.list("Secret", "kube-system", label_selector="l=a")
    assert [o["metadata"]["name"] for o in got] == ["s0", "s2"]
    assert all(o["kind"] == "Secret" and o["apiVersion"] == "v1" for o in got)


def test_forbidden_names_user_verb_and_object() -> None:
    api = FakeAPIServer()
    api.forbid.add(("POST", "secrets"))
    c = api.client()
    with pytest.raises(ForbiddenError) as e:
        c.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "kube-system"}})
    msg = str(e.value)
    assert "refused to create Secret kube-system/x" in msg
    assert "as user 'kubernetes-admin'" in msg and "forbidden" in msg
    assert "\n" not in msg


def test_patch_node_waits_for_registration_then_patches() -> None:
    api = FakeAPIServer()
    polls = {"n": 0}
    real_send = api.send

    def send(method, path, body, headers):
        if method == "GET" and path == "/api/v1/nodes/cp-1":
            polls["n"] += 1
            if polls["n"] == 3:  # the kubelet registers the node while we wait
                api.put(
                    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1", "labels": {"x": "y"}}}
                )
        return real_send(method, path, body, headers)

    api.send = send  # type: ignore[method-assign]
    c = api.client()

    def mutate(n):
        n["metadata"]["labels"]["role"] = ""
        n["spec"]["taints"] = [{"key": "k", "effect": "NoSchedule"}]

    ch = c.patch_node("cp-1", mutate, wait=10, interval=0)
    assert ch.action == "update"
    node = api.obj("Node", "cp-1")
    assert node["metadata"]["labels"] == {"x": "y", "role": ""}
    assert node["spec"]["taints"] == [{"key": "k", "effect": "NoSchedule"}]
    assert c.patch_node("cp-1", mutate, wait=10, interval=0).action == "unchanged"


def test_patch_node_wait_is_bounded() -> None:
    api = FakeAPIServer()
    now = {"t": 0.0}

    def sleep(s: float) -> None:
        now["t"] += s

    c = KubeClient(api, retry=RetryPolicy(attempts=1), sleep=sleep, clock=lambda: now["t"])
    with pytest.raises(
        ApiError, match=r"timed out waiting for the Node 'cp-1' to be registered \(waited 5s\)"
    ):
        c.patch_node("cp-1", lambda n: None, wait=5, interval=1)
    assert now["t"] == pytest.approx(5.0)


def test_dry_run_patch_node_records_the_patch_and_sends_nothing() -> None:
    api = FakeAPIServer()
    api.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1", "labels": {"x": "y"}}})
    c = DryRunKubeClient(api.client())

    def mutate(n):
        n["metadata"]["labels"]["role"] = ""

    ch = c.patch_node("cp-1", mutate)
    assert (ch.action, ch.detail) == ("update", "would patch")
    assert json.loads(ch.content or "") == {"metadata": {"labels": {"role": ""}}}
    assert [m for m, _ in api.requests if m != "GET"] == []
    assert api.obj("Node", "cp-1")["metadata"]["labels"] == {"x": "y"}
    assert c.patch_node("cp-1", mutate).action == "unchanged"  # the run sees what it would have written


def test_dry_run_patch_node_without_a_cluster_makes_the_node_up() -> None:
    c = DryRunKubeClient()
    ch = c.patch_node("cp-1", lambda n: n["spec"].update(taints=[{"key": "k", "effect": "NoSchedule"}]))
    assert ch.action == "update"
    assert json.loads(ch.content or "") == {"spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}
    assert c.get("Node", "cp-1")["spec"]["taints"] == [{"key": "k", "effect": "NoSchedule"}]


def test_dry_run_list_never_hides_a_real_object_behind_its_canned_stand_in() -> None:
    """A dry run on a node of a live cluster (certs rotate-ca finish --dry-run) lists the real Node,
    with its annotations, not the bare Node a dry-run init makes up for itself."""
    from kubeadm_py.kube.dryrun import canned_node

    api = FakeAPIServer()
    api.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1", "annotations": {"a": "synced"}}})  # noqa: E501
    c = DryRunKubeClient(api.client(), [canned_node("cp-1"), canned_node("cp-2")])
    nodes = {n["metadata"]["name"]: n for n in c.list("Node")}
    assert nodes["cp-1"]["metadata"]["annotations"] == {"a": "synced"}
    assert c.get("Node", "cp-1")["metadata"]["annotations"] == {"a": "synced"}
    assert "cp-2" in nodes  # a stand-in the cluster does not have is still listed


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more: connections are refused
    return port


def test_unreachable_api_server_real_socket_bounded_retries() -> None:
    port = _closed_port()
    endpoint = f"https://127.0.0.1:{port}"
    c = KubeClient(
        UrllibTransport(endpoint, None, timeout=2),
        retry=RetryPolicy(attempts=5, first_delay=0.05, max_delay=0.2),
    )
    start = time.monotonic()
    with pytest.raises(ApiError) as e:
        c.get("ConfigMap", "kubeadm-config", "kube-system")
    took = time.monotonic() - start
    msg = str(e.value)
    assert msg.startswith(
        f"cannot reach the API server at {endpoint}: connection refused (after 5 attempts over"
    )
    assert took < 5, "retries must be bounded"
    assert took >= 0.05 + 0.1 + 0.2 + 0.2 - 0.01, "there must be a backoff between attempts"


def test_from_kubeconfig_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ApiError, match="^kubeconfig /etc/kubernetes/admin.conf not found"):
        KubeClient.from_kubeconfig(str(tmp_path / "nope.conf"), display_path="/etc/kubernetes/admin.conf")


def test_from_kubeconfig_with_client_cert_reports_user_and_endpoint(tmp_path) -> None:
    import base64

    import yaml
    from cryptography.hazmat.primitives import serialization

    from tests.unit.cluster.conftest import _ca, _key, _pem_key

    key = _key()
    cert = _ca("kubernetes-admin", key).public_bytes(serialization.Encoding.PEM)
    port = _closed_port()
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "k",
                "cluster": {
                    "server": f"https://127.0.0.1:{port}",
                    "certificate-authority-data": base64.b64encode(cert).decode(),
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "current-context": "c",
        "users": [
            {
                "name": "u",
                "user": {
                    "client-certificate-data": base64.b64encode(cert).decode(),
                    "client-key-data": base64.b64encode(_pem_key(key)).decode(),
                },
            }
        ],
    }
    path = tmp_path / "admin.conf"
    path.write_text(yaml.safe_dump(doc))
    c = KubeClient.from_kubeconfig(str(path), retry=RetryPolicy(attempts=2, first_delay=0.01))
    assert c.user == "kubernetes-admin"
    assert c.endpoint == f"https://127.0.0.1:{port}"
    with pytest.raises(ApiError, match=r"connection refused \(after 2 attempts"):
        c.apply(CM)
