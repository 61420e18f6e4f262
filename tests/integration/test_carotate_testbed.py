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
stay NotReady for that reason alone: the worker's liveness is its Lease.

The etcd CA rotates with them (``begin --front-proxy --etcd``; etcd is a static Pod the kubelet
restarts at begin and at finish): etcd's server, peer and healthcheck-client certificates and
apiserver-etcd-client chain to the new etcd CA, etcd/ca-bundle.crt holds it alone, and etcd refuses a
client certificate of the old etcd CA (made at the start) and accepts one of the new.

Four commands are killed with SIGKILL (their whole process group) mid-command and run again, which
must complete: begin while it waits for the kubelet to restart etcd, the worker's switch sync right
after it wrote its new kubelet client certificate and before it restarts the kubelet, switch while it
waits for the controller-manager's restart, finish while it waits for the API servers to publish the
new CAs alone. Every end-state check above holds after those reruns."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
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
ETCD = True  # begin --etcd and the etcd checks
KILLED: list[str] = []  # per killed command: where the kill landed, how long the rerun took
PROBLEMS: list[str] = []  # a rerun after a kill that failed


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


def killed(node: Any, trigger: str, *args: str) -> tuple[float, list[str]]:
    """Run ``certs rotate-ca ARGS`` on ``node`` and SIGKILL it, with everything it started (its process
    group), as soon as a line of its log contains ``trigger``; (seconds into the command, its log)."""
    argv = [*node.nsenter_argv(), *KUBEADM_PY, "certs", "rotate-ca", *args, "-o", "json"]
    env = node.env({"PYTHONPATH": REPO, "PYTHONUNBUFFERED": "1"})
    t0 = time.monotonic()
    p = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    watchdog = threading.Timer(600, os.killpg, (p.pid, signal.SIGKILL))  # the trigger never shows
    watchdog.start()
    lines: list[str] = []
    landed = None
    assert p.stderr is not None
    try:
        for line in p.stderr:
            lines.append(f"{time.monotonic() - t0:5.1f}s {line.rstrip()}")
            if trigger in line:
                landed = time.monotonic() - t0
                os.killpg(p.pid, signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        p.wait(60)
        p.stderr.close()
    assert landed is not None and p.returncode == -signal.SIGKILL, (
        f"'{trigger}' not seen before the command ended ({p.returncode}):\n" + "\n".join(lines[-20:])
    )
    return landed, lines


def step(node: Any, what: str, *args: str, kill: str = "") -> dict[str, Any]:
    """``certs rotate-ca ARGS`` on node["on"] while node["poll"]'s API is polled; with ``kill``, first
    killed (SIGKILL) when its log shows ``kill``, then run again, which must complete."""
    t0 = time.monotonic()
    with Poller(node["poll"]) as poll:
        if kill:
            landed, log = killed(node["on"], kill, *args)
            t1 = time.monotonic()
        r = kubeadm_py(node["on"], "certs", "rotate-ca", *args, "-o", "json", check=not kill)
        if r.returncode != 0:  # recorded (the test fails at its end), and run once more to go on
            PROBLEMS.append(f"{what}: the rerun after the kill failed: {r.stderr.strip()[-800:]}")
            print(f"\n[rotate-ca] {PROBLEMS[-1]}")
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
    if kill:
        rerun = time.monotonic() - t1
        TIMINGS[f"{what}-rerun"] = rerun
        redone = [p["phase"] for p in report["phases"] if p["changes"]]
        resumed = [
            line for line in r.stderr.splitlines() if "interrupted run" in line or "Restarting the" in line
        ]
        note = (
            f"{what}: SIGKILL {landed:.1f}s in, at '{kill}'; rerun {rerun:.1f}s, phases that changed "
            f"something: {', '.join(redone) or 'none'}; " + " | ".join(resumed)
        )
        KILLED.append(note)
        print(f"[rotate-ca] {note}\n[rotate-ca] {what}, the killed run's log:\n  " + "\n  ".join(log))
        report["killed_log"] = log
    slow = [f"{p['phase']} {p['seconds']:.1f}s" for p in report["phases"] if p["seconds"] >= 1]
    print(f"[rotate-ca] {what}: phases of 1 s or more: {', '.join(slow) or 'none'}")
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
    old_etcd_ca = read(a, f"{PKI}/etcd/ca.crt")
    for ext in ("crt", "key"):  # an etcd client certificate the old etcd CA signed
        with open(a.path(f"{OLD_ETCD_CLIENT}.{ext}"), "wb") as out:
            out.write(read(a, f"{PKI}/apiserver-etcd-client.{ext}"))
    if ETCD:
        assert etcd_request(a, OLD_ETCD_CLIENT) == "200", "etcd refuses its own client certificate"

    flags = [*(["--front-proxy"] if FRONT_PROXY else []), *(["--etcd"] if ETCD else [])]
    # killed while it waits for the kubelet to restart etcd (its first static Pod swap)
    begin = step({"on": a, "poll": a}, "begin", "begin", *flags, kill=KILL_AT["begin"])
    # the rerun finds the rotation begun and converges this node: the key was printed before the kill
    printed = re.findall(r"--certificate-key ([0-9a-f]{64})", "\n".join(begin["killed_log"]))
    assert len(printed) == 1, begin["killed_log"]
    step({"on": b, "poll": a}, "sync-begin-worker", "sync")
    step({"on": a, "poll": a}, "switch", "switch", kill=KILL_AT["switch"])
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
    # killed after it wrote the kubelet's new client certificate, before it restarts the kubelet
    step({"on": b, "poll": a}, "sync-switch-worker", "sync", kill=KILL_AT["sync"])
    # its new client certificate is read at start only: the (re)run restarted the worker's kubelet
    assert b.kubelet_starts > starts, "the worker's kubelet was not restarted by its switch sync"
    # killed while it deletes extension-apiserver-authentication until it lists the new CAs alone
    step({"on": a, "poll": a}, "finish", "finish", kill=KILL_AT["finish"])
    step({"on": b, "poll": a}, "sync-finish-worker", "sync")
    print("[rotate-ca] killed and rerun:\n  " + "\n  ".join(KILLED))

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
    rows = {
        r["node"]: (r["synced"], r["issuer"], r.get("front-proxy"), r.get("etcd")) for r in status["nodes"]
    }
    done = f"{status['generation']}/finished"
    assert rows == {
        a.name: (done, "new", "new" if FRONT_PROXY else None, "new" if ETCD else None),
        # a worker: no front-proxy or etcd file
        b.name: (done, "new", "-" if FRONT_PROXY else None, "-" if ETCD else None),
    }
    if FRONT_PROXY:
        check_front_proxy(a, b, old_fp_ca, fpc)
    if ETCD:
        check_etcd(a, b, old_etcd_ca)
    # reruns change nothing
    again = json.loads(kubeadm_py(b, "certs", "rotate-ca", "sync", "-o", "json").stdout)
    assert again["ok"] and not again["changed"], again
    assert not PROBLEMS, PROBLEMS


OLD_ETCD_CLIENT = "/etc/kubernetes/tmp/old-etcd-client"
# where each killed command is killed: the first log line that contains this
KILL_AT = {
    "begin": "Waiting for the kubelet to restart the component etcd",
    "switch": "Waiting for the kubelet to restart the component kube-controller-manager",
    "sync": "[rotate-ca] Restarting the kubelet",
    "finish": "Deleting ConfigMap kube-system/extension-apiserver-authentication",
}


def etcd_request(node: Any, client: str) -> str:
    """HTTP status of etcd's /version on this node with client certificate ``client``.crt/.key, the
    server verified against the etcd CA (000: the TLS handshake failed)."""
    r = node.run(
        [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
            "--cacert", f"{PKI}/etcd/ca.crt", "--cert", f"{client}.crt", "--key", f"{client}.key",
            "https://127.0.0.1:2379/version",
        ],
        check=False, timeout=30,
    )  # fmt: skip
    return str(r.stdout).strip()


def check_etcd(a: Any, b: Any, old_etcd_ca: bytes) -> None:
    """The etcd CA is new, every certificate it issues chains to it, the bundle holds it alone, and
    etcd (restarted by finish's sync: it reads its trusted CA files at start) refuses the old CA's
    client certificate and accepts the new one."""
    new = read(a, f"{PKI}/etcd/ca.crt")
    assert public_key(new) != public_key(old_etcd_ca)
    for leaf in ("etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"):
        openssl_verify(a, f"{PKI}/etcd/ca.crt", f"{PKI}/{leaf}.crt")
    assert read(a, f"{PKI}/etcd/ca-bundle.crt") == new
    assert not any(os.path.exists(a.path(f"{PKI}/etcd/ca-{n}.crt")) for n in ("old", "new"))
    assert not os.path.exists(b.path(f"{PKI}/etcd/ca-bundle.crt")), "a worker got an etcd file"
    assert etcd_request(a, f"{PKI}/apiserver-etcd-client") == "200"
    assert etcd_request(a, f"{PKI}/etcd/healthcheck-client") == "200"
    refused = etcd_request(a, OLD_ETCD_CLIENT)
    assert refused == "000", f"etcd answered {refused} to a client certificate of the old etcd CA"
    print("[rotate-ca] etcd: old etcd-CA client certificate refused, new ones accepted")


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
