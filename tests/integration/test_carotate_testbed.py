"""``certs rotate-ca`` on the Kubernetes v1.20.2 test bed: one cluster for the module (control plane
A initialised by kubeadm-py, worker B joined, real kubelets and containerd on one bridge).

The full sequence ``begin --front-proxy`` (A), ``sync`` (B), ``switch`` (A), ``sync`` (B), ``finish``
(A), ``sync`` (B) runs while a thread polls the API server every half second through admin.conf; at
the end the CA's public key is new, every certificate and kubeconfig client certificate on both nodes
chains to it (``openssl verify``), a client certificate the old CA signed is refused, and the
worker's kubelet runs with a client certificate from the new CA and still renews its Lease. The
front-proxy CA rotates with it: A's front-proxy-client.crt chains to the new front-proxy CA
(``openssl verify``), the front-proxy bundle holds the new CA alone, the API server accepts a
front-proxy request with the new client certificate and refuses one with the old, and B got no
front-proxy file. ConfigMap kube-system/extension-apiserver-authentication ends listing the new
cluster CA and the new front-proxy CA alone (finish deletes it until the API server's trust
controller writes it back from its reloaded files). The test bed has no pod network, so Nodes
stay NotReady for that reason alone: the worker's liveness is its Lease."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from typing import Any

import pytest
import yaml

from tests.integration.test_lifecycle_testbed import Poller  # /readyz through admin.conf every 0.5 s

pytestmark = [pytest.mark.testbed, pytest.mark.integration]

KUBEADM_PY = [sys.executable, "-m", "kubeadm_py"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "abcdef.0123456789abcdef"
PKI = "/etc/kubernetes/pki"
TIMINGS: dict[str, float] = {}
FRONT_PROXY = True  # begin --front-proxy and the front-proxy checks


def kubeadm_py(node: Any, *args: str, timeout: float = 600, check: bool = True) -> Any:
    return node.run([*KUBEADM_PY, *args], env={"PYTHONPATH": REPO}, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def bed(request: pytest.FixtureRequest):  # noqa: ANN201
    from tests.testbed.fixtures import init_and_join_worker

    # PID 1 named systemd: kubeadm-py restarts the kubelets through the systemctl shim (the supervisor);
    # under the keeper's own name it cannot, and rotate-ca stops at its kubelet phase
    with init_and_join_worker(
        request, "carotate-testbed", ("car-a", "car-b"), "kpt-carot", "192.168.96.0/24", TOKEN, TIMINGS,
        pid1_name="systemd",
    ) as nodes:  # fmt: skip
        yield nodes


def read(node: Any, path: str) -> bytes:
    with open(node.path(path), "rb") as f:
        return f.read()


def public_key(pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return (
        x509.load_pem_x509_certificate(pem)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )


def openssl_verify(node: Any, ca: str, cert: str) -> None:
    r = node.run(["openssl", "verify", "-CAfile", ca, cert], check=False, timeout=30)
    assert r.returncode == 0 and ": OK" in r.stdout, f"{cert}: {r.stdout} {r.stderr}"


def kubeconfig_pems(node: Any, path: str) -> tuple[bytes, bytes | None]:
    """(CA data, embedded client certificate PEM or None) of a kubeconfig on ``node``."""
    doc = yaml.safe_load(read(node, path))
    ca = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    user = doc["users"][0]["user"]
    if "client-certificate-data" in user:
        return ca, base64.b64decode(user["client-certificate-data"])
    return (
        ca,
        None,
    )  # a file (kubelet-client-current.pem, an absolute symlink inside the node): checked as a file


def check_chains(node: Any, files: list[str], kubeconfigs: list[str]) -> None:
    """Every certificate file and kubeconfig client certificate verifies against ca.crt (openssl)."""
    for i, path in enumerate(kubeconfigs):
        ca, cert = kubeconfig_pems(node, path)
        assert public_key(ca) == public_key(read(node, f"{PKI}/ca.crt")), f"{path} trusts another CA"
        if cert is not None:
            tmp = f"/etc/kubernetes/tmp/chain-{i}.crt"
            os.makedirs(os.path.dirname(node.path(tmp)), exist_ok=True)
            with open(node.path(tmp), "wb") as f:
                f.write(cert)
            files = [*files, tmp]
    for path in files:
        openssl_verify(node, f"{PKI}/ca.crt", path)


def front_proxy_request(node: Any, cert: str, key: str) -> str:
    """HTTP status of a request the way the aggregator proxies one: the front-proxy client certificate
    and the user in X-Remote-* headers (the API server trusts those only from a certificate its
    --requestheader-client-ca-file verifies; otherwise the request is anonymous)."""
    r = node.run(
        [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
            "--cacert", f"{PKI}/ca.crt", "--cert", cert, "--key", key,
            "-H", "X-Remote-User: kubernetes-admin", "-H", "X-Remote-Group: system:masters",
            f"https://{node.address}:6443/api/v1/namespaces/kube-system/configmaps",
        ],
        check=False, timeout=30,
    )  # fmt: skip
    return str(r.stdout).strip()


def wait_front_proxy(node: Any, cert: str, key: str, answers: tuple[str, ...], what: str) -> float:
    """Seconds until a front-proxy request with ``cert`` gets one of ``answers`` (at most 90: the API
    server reloads its --requestheader-client-ca-file when it changes, it is not restarted)."""
    t0 = time.monotonic()
    while (code := front_proxy_request(node, cert, key)) not in answers:
        assert time.monotonic() - t0 < 90, f"{what}: HTTP {code}"
        time.sleep(3)
    return time.monotonic() - t0


def step(node: Any, what: str, *args: str) -> dict[str, Any]:
    t0 = time.monotonic()
    with Poller(node["poll"]) as poll:
        r = kubeadm_py(node["on"], "certs", "rotate-ca", *args, "-o", "json")
    took = time.monotonic() - t0
    TIMINGS[what] = took
    TIMINGS[f"{what}-gap"] = poll.longest
    print(
        f"\n[rotate-ca] {what}: {took:.1f}s, longest API gap {poll.longest:.1f}s, "
        f"{poll.failures} failed polls"
    )
    report: dict[str, Any] = json.loads(r.stdout)
    assert report["ok"], report
    for p in report["phases"]:  # after finish: how long until the API server republished new-only
        deletes = sum(c["action"] == "delete" and "authentication" in c["target"] for c in p["changes"])
        if p["phase"] == "published-trust" and deletes:
            print(f"[rotate-ca] {what}: published-trust {p['seconds']:.1f}s, {deletes} delete(s)")
    return report


def test_full_rotation_keeps_the_api_served_and_every_node_on_the_new_ca(bed: dict[str, Any]) -> None:
    a, b = bed["a"], bed["b"]
    old_ca = read(a, f"{PKI}/ca.crt")
    old_admin = read(a, "/etc/kubernetes/admin.conf")
    old_fp_ca = read(a, f"{PKI}/front-proxy-ca.crt")
    os.makedirs(a.path("/etc/kubernetes/tmp"), exist_ok=True)
    for ext in ("crt", "key"):  # the front-proxy client certificate the old front-proxy CA signed
        with open(a.path(f"/etc/kubernetes/tmp/old-front-proxy-client.{ext}"), "wb") as f:
            f.write(read(a, f"{PKI}/front-proxy-client.{ext}"))
    fpc = (f"{PKI}/front-proxy-client.crt", f"{PKI}/front-proxy-client.key")
    if FRONT_PROXY:
        wait_front_proxy(a, *fpc, ("200",), "front-proxy request before the rotation")

    begin = step({"on": a, "poll": a}, "begin", "begin", *(["--front-proxy"] if FRONT_PROXY else []))
    key = begin["outputs"]["certificate_key"]
    assert len(key) == 64
    step({"on": b, "poll": a}, "sync-begin-worker", "sync")
    step({"on": a, "poll": a}, "switch", "switch")
    served = a.sh(
        f"openssl s_client -connect {a.address}:6443 </dev/null 2>/dev/null | openssl x509", check=False
    )
    reloaded = served.stdout.strip() == read(a, f"{PKI}/apiserver.crt").decode().strip()
    print(f"[rotate-ca] after switch the API server serves the re-issued certificate: {reloaded}")
    refused = kubeadm_py(a, "certs", "rotate-ca", "finish", check=False)
    assert refused.returncode == 1 and b.name in refused.stderr and "Traceback" not in refused.stderr, (
        refused.stderr
    )
    starts = b.kubelet_starts
    step({"on": b, "poll": a}, "sync-switch-worker", "sync")
    # its new client certificate is read at start only: the sync restarted the worker's kubelet
    assert b.kubelet_starts > starts, "the worker's kubelet was not restarted by its switch sync"
    step({"on": a, "poll": a}, "finish", "finish")
    step({"on": b, "poll": a}, "sync-finish-worker", "sync")

    # the CA is new on both nodes, and every certificate chains to it
    new_ca = read(a, f"{PKI}/ca.crt")
    assert public_key(new_ca) != public_key(old_ca)
    assert read(b, f"{PKI}/ca.crt") == new_ca
    check_chains(
        a,
        [
            f"{PKI}/apiserver.crt",
            f"{PKI}/apiserver-kubelet-client.crt",
            "/var/lib/kubelet/pki/kubelet-client-current.pem",
        ],
        [
            f"/etc/kubernetes/{n}"
            for n in ("admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf")
        ],
    )
    check_chains(b, ["/var/lib/kubelet/pki/kubelet-client-current.pem"], ["/etc/kubernetes/kubelet.conf"])
    assert read(a, f"{PKI}/ca-bundle.crt") == new_ca and read(b, f"{PKI}/ca-bundle.crt") == new_ca

    # a client certificate the old CA signed is refused (TLS verified against the new CA)
    doc = yaml.safe_load(old_admin)
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(new_ca).decode()
    with open(a.path("/etc/kubernetes/tmp/old-admin.conf"), "w") as f:
        yaml.safe_dump(doc, f)
    t0 = time.monotonic()
    while True:  # the API server reloads ca-bundle.crt when it changes (no restart at finish)
        r = a.kubectl(
            "get",
            "--raw",
            "/readyz",
            kubeconfig="/etc/kubernetes/tmp/old-admin.conf",
            check=False,
            timeout=30,
        )
        if r.returncode != 0:
            break
        assert time.monotonic() - t0 < 90, "a client certificate from the old CA is still accepted"
        time.sleep(3)
    assert "Unauthorized" in r.stderr, r.stderr
    print(f"[rotate-ca] old-CA client certificate refused {time.monotonic() - t0:.0f}s after the last sync")
    assert a.kubectl("get", "--raw", "/readyz", timeout=30).returncode == 0
    # aggregated API servers read the client CA from here: finish left only the new cluster CA
    assert published_cas(a, "client-ca-file") == [public_key(new_ca)]

    # the worker's kubelet talks to the API server with its new certificate: its Lease renews
    def renew_time() -> str:
        lease = json.loads(a.kubectl("-n", "kube-node-lease", "get", "lease", b.name, "-o", "json").stdout)
        return str(lease["spec"]["renewTime"])

    first = renew_time()
    deadline = time.monotonic() + 90
    while renew_time() == first:
        assert time.monotonic() < deadline, "the worker's kubelet stopped renewing its Lease"
        time.sleep(3)
    status = json.loads(kubeadm_py(a, "certs", "rotate-ca", "status", "-o", "json").stdout)["outputs"][
        "ca_rotation"
    ]
    assert status["stage"] == "finished"
    assert {r["node"]: (r["synced"], r["issuer"], r.get("front-proxy")) for r in status["nodes"]} == {
        a.name: (f"{status['generation']}/finished", "new", "new" if FRONT_PROXY else None),
        b.name: (
            f"{status['generation']}/finished",
            "new",
            "-" if FRONT_PROXY else None,
        ),  # a worker: no file
    }
    if FRONT_PROXY:
        check_front_proxy(a, b, old_fp_ca, fpc)
    # reruns change nothing
    again = json.loads(kubeadm_py(b, "certs", "rotate-ca", "sync", "-o", "json").stdout)
    assert again["ok"] and not again["changed"], again


def check_front_proxy(a: Any, b: Any, old_fp_ca: bytes, fpc: tuple[str, str]) -> None:
    # the front-proxy CA is new, its client certificate chains to it, the bundle holds it alone
    new_fp_ca = read(a, f"{PKI}/front-proxy-ca.crt")
    assert public_key(new_fp_ca) != public_key(old_fp_ca)
    openssl_verify(a, f"{PKI}/front-proxy-ca.crt", f"{PKI}/front-proxy-client.crt")
    assert read(a, f"{PKI}/front-proxy-ca-bundle.crt") == new_fp_ca
    assert not any(
        os.path.exists(b.path(f"{PKI}/front-proxy-{n}")) for n in ("ca.crt", "ca-bundle.crt", "client.crt")
    )
    wait_front_proxy(a, *fpc, ("200",), "front-proxy request with the new client certificate")
    old_fpc = (
        "/etc/kubernetes/tmp/old-front-proxy-client.crt",
        "/etc/kubernetes/tmp/old-front-proxy-client.key",
    )
    # refused (401), or anonymous (403): never served as the X-Remote-User
    took = wait_front_proxy(
        a, *old_fpc, ("401", "403"), "front-proxy request with the old client certificate"
    )
    print(f"[rotate-ca] old front-proxy client certificate refused {took:.0f}s after the checks above")
    # aggregated API servers read the front-proxy trust from here: only the new CA is published
    assert published_cas(a, "requestheader-client-ca-file") == [public_key(new_fp_ca)]


def published_cas(a: Any, key: str) -> list[bytes]:
    """The public keys of the CAs ConfigMap kube-system/extension-apiserver-authentication lists
    under ``key`` (the API server's trust controller writes it; finish made it drop the old CAs)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cm = a.kubectl(
        "-n", "kube-system", "get", "configmap", "extension-apiserver-authentication", "-o", "json"
    )
    pem = json.loads(cm.stdout)["data"][key].encode()
    return [
        c.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        for c in x509.load_pem_x509_certificates(pem)
    ]
