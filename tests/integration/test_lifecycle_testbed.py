"""``certs rotate-sa`` on a real node (v1.20.2 kubelet, containerd, our static Pods): a
ServiceAccount token issued before the rotation keeps working until ``--finish``; tokens issued after
it work; after ``--finish`` the old token is refused and the token controller has rewritten the
legacy token Secret with the new key. The API is polled throughout and the longest gap reported."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time

import pytest

from tests.testbed.configs import init_config_v1beta4

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kubeadm_py(node, *args: str, timeout: float = 600, check: bool = True):  # type: ignore[no-untyped-def]
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


def wait_for(what: str, fn, timeout: float = 180.0, interval: float = 2.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def lifecycle_config(address: str, name: str) -> str:
    return init_config_v1beta4(address, name, control_plane_endpoint=f"{address}:6443")


@pytest.fixture(scope="module")
def cluster(request):  # type: ignore[no-untyped-def]
    from tests.testbed.fixtures import control_plane_node

    with control_plane_node(request, "cp-rsa", "kpt-rsa", lifecycle_config) as (node, cfg):
        kubeadm_py(node, "init", "--config", cfg, "--ignore-preflight-errors=all")
        yield node


def token_works(node, token: str) -> bool:  # type: ignore[no-untyped-def]
    """An authenticated request with ``token`` (discovery is allowed to every authenticated user)."""
    r = node.run(
        [
            "kubectl", f"--server=https://{node.address}:6443", f"--token={token}",
            "--certificate-authority=/etc/kubernetes/pki/ca.crt", "--request-timeout=10s",
            "get", "--raw", "/apis",
        ],
        check=False, timeout=30,
    )  # fmt: skip
    if r.returncode == 0:
        return True
    assert "Unauthorized" in r.stderr or "401" in r.stderr, r.stderr  # refused, not unreachable
    return False


def legacy_token(node) -> str | None:  # type: ignore[no-untyped-def]
    """The token of the default ServiceAccount's legacy Secret (what a v1.20 Pod mounts)."""
    r = node.kubectl("-n", "default", "get", "secrets", "-o", "json", check=False)
    if r.returncode != 0:
        return None
    for s in json.loads(r.stdout)["items"]:
        if s.get("type") == "kubernetes.io/service-account-token" and (s.get("data") or {}).get("token"):
            return base64.b64decode(s["data"]["token"]).decode()
    return None


def requested_token(node) -> str:  # type: ignore[no-untyped-def]
    """A bound token from the TokenRequest API (signed by the API server's current key)."""
    req = os.path.join(node.workdir, "token-request.json")
    with open(req, "w") as f:
        json.dump({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}, f)
    r = node.kubectl("create", "--raw", "/api/v1/namespaces/default/serviceaccounts/default/token", "-f", req)
    return str(json.loads(r.stdout)["status"]["token"])


class Poller:
    """Polls /readyz every 0.5 s through admin.conf; records the longest gap without an answer."""

    def __init__(self, node) -> None:  # type: ignore[no-untyped-def]
        self.node, self.stop, self.longest, self.failures = node, threading.Event(), 0.0, 0
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        last_ok = time.monotonic()
        while not self.stop.is_set():
            r = self.node.kubectl("get", "--raw", "/readyz", timeout=10, check=False)
            now = time.monotonic()
            if r.returncode == 0:
                self.longest = max(self.longest, now - last_ok)
                last_ok = now
            else:
                self.failures += 1
            time.sleep(0.5)
        self.longest = max(self.longest, time.monotonic() - last_ok)

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def test_old_tokens_work_until_finish(cluster) -> None:  # type: ignore[no-untyped-def]
    node = cluster
    old = wait_for("the default ServiceAccount's token Secret", lambda: legacy_token(node))
    assert token_works(node, old)

    t0 = time.monotonic()
    with Poller(node) as poll:
        r = kubeadm_py(node, "certs", "rotate-sa", "-o", "json")
    begin = json.loads(r.stdout)
    print(
        f"\n[rotate-sa] begin took {time.monotonic() - t0:.1f}s, longest API gap {poll.longest:.1f}s "
        f"({poll.failures} failed polls, API server restarted)"
    )
    assert begin["ok"] and begin["changed"]
    assert token_works(node, old), "a token from before the rotation must keep working until --finish"
    new = requested_token(node)
    assert token_works(node, new)

    again = json.loads(kubeadm_py(node, "certs", "rotate-sa", "-o", "json").stdout)
    assert again["ok"] and not again["changed"]

    t0 = time.monotonic()
    with Poller(node) as poll:
        kubeadm_py(node, "certs", "rotate-sa", "--finish")
    print(f"[rotate-sa] finish took {time.monotonic() - t0:.1f}s, longest API gap {poll.longest:.1f}s")
    assert not token_works(node, old)
    assert token_works(node, new)
    # the token controller rewrote the default ServiceAccount's Secret with the new key
    rewritten = wait_for("a new legacy token", lambda: (t := legacy_token(node)) and t != old and t)
    assert token_works(node, rewritten)
    assert not os.path.exists(node.path("/etc/kubernetes/pki/sa-previous.pub"))


def configmap_exists(node, name: str) -> bool:  # type: ignore[no-untyped-def]
    return node.kubectl("-n", "default", "get", "configmap", name, check=False).returncode == 0


def test_snapshot_restore_brings_back_the_cluster_as_saved(cluster) -> None:  # type: ignore[no-untyped-def]
    node = cluster
    node.kubectl("-n", "default", "create", "configmap", "before-snapshot")
    snap = "/etc/kubernetes/tmp/etcd-test.db"
    saved = kubeadm_py(node, "etcd", "snapshot", "save", snap)
    assert f"Snapshot saved at {snap}" in saved.stdout
    node.kubectl("-n", "default", "create", "configmap", "after-snapshot")

    t0 = time.monotonic()
    r = kubeadm_py(node, "etcd", "snapshot", "restore", snap)  # stops etcd, restores, starts it again
    assert "The previous member directory is kept at" in r.stdout and "etcd has stopped" in r.stdout
    node.wait_for_apiserver()
    print(f"\n[snapshot] restore and restart took {time.monotonic() - t0:.1f}s")
    assert configmap_exists(node, "before-snapshot")
    assert not configmap_exists(node, "after-snapshot")
