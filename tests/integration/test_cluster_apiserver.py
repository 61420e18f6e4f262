"""The cluster-side phases against a real Kubernetes v1.20.2 API server (and the controller-manager's
bootstrap signer), started as host processes on loopback over a real etcd, with PKI and kubeconfigs
made by kubeadm_py. Objects are checked with kubectl, and the bootstrap token is used for real:
the API server's bootstrap-token authenticator must accept the Secret we wrote, RBAC must let it
read what joining nodes read, and the signer's ``jws-kubeconfig-<id>`` must equal our JWS.

Needs /var/cache/kubeadm-py-testbed/bin/{kube-apiserver,kube-controller-manager} (built by
testbed/build.sh) plus etcd and kubectl on PATH; skipped otherwise."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from kubeadm_py import api
from kubeadm_py.config.defaults import DEFAULT_TIMEOUTS
from kubeadm_py.hostfs import HostFS
from kubeadm_py.phases.context import RunContext

TESTBED_BIN = Path(os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")) / "bin"
APISERVER = TESTBED_BIN / "kube-apiserver"
KCM = TESTBED_BIN / "kube-controller-manager"
TOKEN = "abcdef.0123456789abcdef"
KEY = "0f" * 32

pytestmark = [
    pytest.mark.integration,
    pytest.mark.testbed,
    pytest.mark.skipif(
        not os.access(APISERVER, os.X_OK) or shutil.which("etcd") is None or shutil.which("kubectl") is None,
        reason=f"needs {APISERVER} (testbed/build.sh), etcd and kubectl",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait(check, proc: subprocess.Popen, log: Path, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited: {log.read_text(errors='replace')[-3000:]}")
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} not ready after {timeout}s: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from kubeadm_py.kubeconfig.files import ensure_kubeconfig
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS
    from kubeadm_py.pki import manager
    from tests.integration.pki_helpers import make_cfg

    root = tmp_path_factory.mktemp("cp")
    port = free_port()
    cfg = make_cfg(advertise="127.0.0.1")
    cfg.cluster["controlPlaneEndpoint"] = ""
    cfg.cluster["kubernetesVersion"] = "v1.20.2"
    cfg.cluster["imageRepository"] = "registry.k8s.io"
    cfg.cluster["networking"]["podSubnet"] = "10.244.0.0/16"
    cfg.init["localAPIEndpoint"] = {"advertiseAddress": "127.0.0.1", "bindPort": port}
    cfg.init["nodeRegistration"] = {"name": "node1", "criSocket": "unix:///run/containerd/containerd.sock"}
    cfg.init["timeouts"] = dict(DEFAULT_TIMEOUTS)  # what config defaulting fills
    cfg.init["bootstrapTokens"] = [
        {
            "token": TOKEN,
            "ttl": "24h0m0s",
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
        }
    ]
    fs = HostFS(rootfs=root)
    manager.create_pki(fs, cfg)
    for spec in KUBECONFIGS:
        ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes")
    pki = root / "etc/kubernetes/pki"
    etcd_client, etcd_peer = free_port(), free_port()
    logs = {n: root / f"{n}.log" for n in ("etcd", "apiserver", "kcm")}
    procs: list[subprocess.Popen] = []
    files = [open(p, "wb") for p in logs.values()]  # noqa: SIM115 - closed in teardown
    try:
        etcd = subprocess.Popen(
            [
                "etcd",
                "--name",
                "node1",
                "--data-dir",
                str(root / "etcd-data"),
                "--listen-client-urls",
                f"https://127.0.0.1:{etcd_client}",
                "--advertise-client-urls",
                f"https://127.0.0.1:{etcd_client}",
                "--listen-peer-urls",
                f"https://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"https://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"node1=https://127.0.0.1:{etcd_peer}",
                "--cert-file",
                str(pki / "etcd/server.crt"),
                "--key-file",
                str(pki / "etcd/server.key"),
                "--trusted-ca-file",
                str(pki / "etcd/ca.crt"),
                "--client-cert-auth=true",
                "--peer-cert-file",
                str(pki / "etcd/peer.crt"),
                "--peer-key-file",
                str(pki / "etcd/peer.key"),
                "--peer-trusted-ca-file",
                str(pki / "etcd/ca.crt"),
                "--peer-client-cert-auth=true",
            ],
            stdout=files[0],
            stderr=subprocess.STDOUT,
        )
        procs.append(etcd)
        apiserver = subprocess.Popen(
            [
                str(APISERVER),
                "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                "--insecure-port=0",
                "--allow-privileged=true",
                "--authorization-mode=Node,RBAC",
                f"--client-ca-file={pki}/ca.crt",
                "--enable-admission-plugins=NodeRestriction",
                "--enable-bootstrap-token-auth=true",
                f"--etcd-servers=https://127.0.0.1:{etcd_client}",
                f"--etcd-cafile={pki}/etcd/ca.crt",
                f"--etcd-certfile={pki}/apiserver-etcd-client.crt",
                f"--etcd-keyfile={pki}/apiserver-etcd-client.key",
                f"--kubelet-client-certificate={pki}/apiserver-kubelet-client.crt",
                f"--kubelet-client-key={pki}/apiserver-kubelet-client.key",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki}/sa.pub",
                f"--service-account-signing-key-file={pki}/sa.key",
                "--service-cluster-ip-range=10.96.0.0/12",
                f"--tls-cert-file={pki}/apiserver.crt",
                f"--tls-private-key-file={pki}/apiserver.key",
            ],
            stdout=files[1],
            stderr=subprocess.STDOUT,
        )
        procs.append(apiserver)
        super_admin = root / "etc/kubernetes/super-admin.conf"

        def kubectl(*args: str, kubeconfig: Path = super_admin) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["kubectl", f"--kubeconfig={kubeconfig}", "--request-timeout=10s", *args],
                capture_output=True,
                text=True,
                timeout=30,
            )

        _wait(
            lambda: kubectl("get", "--raw", "/readyz").returncode == 0,
            apiserver,
            logs["apiserver"],
            "kube-apiserver",
            90,
        )
        kcm = subprocess.Popen(
            [
                str(KCM),
                f"--kubeconfig={root}/etc/kubernetes/controller-manager.conf",
                # as kubeadm runs it: each controller with its own service account (the bootstrap signer's
                # RBAC is bound to kube-system/bootstrap-signer), tokens minted by serviceaccount-token
                "--controllers=bootstrapsigner,tokencleaner,serviceaccount-token",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={pki}/sa.key",
                f"--root-ca-file={pki}/ca.crt",
                "--leader-elect=false",
                "--port=0",
                f"--secure-port={free_port()}",
                "--bind-address=127.0.0.1",
                "--v=3",
            ],
            stdout=files[2],
            stderr=subprocess.STDOUT,
        )
        procs.append(kcm)
        yield {"root": root, "cfg": cfg, "kubectl": kubectl, "port": port, "pki": pki, "logs": logs}
    finally:
        for p in reversed(procs):
            _stop(p)
        for f in files:
            f.close()


def _ctx(cluster, **opts) -> RunContext:
    """An init context as kubeadm-py builds it: the real API effector, admin client from --kubeconfig."""
    opts.setdefault("kubeconfig", "/etc/kubernetes/super-admin.conf")
    return api.build_context("init", {"rootfs": str(cluster["root"]), **opts}, cfg=cluster["cfg"])


def _get(cluster, *args: str) -> dict:
    r = cluster["kubectl"]("get", *args, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_phases_create_objects_the_real_apiserver_accepts(cluster) -> None:
    from kubeadm_py.phases.init.bootstrap_token import run_bootstrap_token
    from kubeadm_py.phases.init.upload_certs import run_upload_certs
    from kubeadm_py.phases.shared.addons import run_coredns, run_kube_proxy
    from kubeadm_py.phases.shared.mark_control_plane import run_mark_control_plane
    from kubeadm_py.phases.shared.upload_config import run_upload_kubeadm, run_upload_kubelet

    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node1"}}
    r = subprocess.run(
        ["kubectl", f"--kubeconfig={cluster['root']}/etc/kubernetes/super-admin.conf", "apply", "-f", "-"],
        input=json.dumps(node),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    runs = [
        run_upload_kubeadm,
        run_upload_kubelet,
        run_upload_certs,
        run_mark_control_plane,
        run_bootstrap_token,
        run_coredns,
        run_kube_proxy,
    ]
    ctx = _ctx(cluster, upload_certs=True, certificate_key=KEY)
    for run in runs:
        run(ctx)
    assert all(c.action in ("create", "update") for c in ctx.kube().changes if c.kind == "object")

    cm = _get(cluster, "configmap", "-n", "kube-system", "kubeadm-config")
    assert "kind: ClusterConfiguration" in cm["data"]["ClusterConfiguration"]
    assert _get(cluster, "configmap", "-n", "kube-system", "kubelet-config-1.20")["data"]["kubelet"]
    n = _get(cluster, "node", "node1")
    assert n["metadata"]["labels"]["node-role.kubernetes.io/master"] == ""
    assert {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"} in n["spec"]["taints"]
    svc = _get(cluster, "service", "-n", "kube-system", "kube-dns")
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert _get(cluster, "daemonset", "-n", "kube-system", "kube-proxy")["spec"]["template"]["spec"][
        "hostNetwork"
    ]

    # Second run: nothing to change, nothing written.
    ctx2 = _ctx(cluster, upload_certs=True, certificate_key=KEY)
    for run in runs:
        run(ctx2)
    changed = [c for c in ctx2.kube().changes if c.changed]
    assert changed == [], changed


def test_bootstrap_token_really_authenticates_and_is_authorized(cluster) -> None:
    server = f"https://127.0.0.1:{cluster['port']}"
    ca = cluster["pki"] / "ca.crt"

    def as_token(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "kubectl",
                f"--server={server}",
                f"--certificate-authority={ca}",
                f"--token={TOKEN}",
                "--request-timeout=10s",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )

    who = as_token("auth", "can-i", "create", "certificatesigningrequests.certificates.k8s.io")
    assert who.stdout.strip() == "yes", who.stderr
    assert as_token("get", "configmap", "-n", "kube-system", "kubeadm-config").returncode == 0
    assert as_token("get", "configmap", "-n", "kube-system", "kubelet-config-1.20").returncode == 0
    assert as_token("get", "secret", "-n", "kube-system", "kubeadm-certs").returncode == 0
    assert as_token("get", "nodes", "node1").returncode == 0
    assert as_token("get", "secrets", "-n", "kube-system").returncode != 0, "only kubeadm-certs is readable"
    # anonymous read, as join discovery does it (no credentials at all)
    import ssl

    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.kube.transport import UrllibTransport

    anon = KubeClient(UrllibTransport(server, ssl.create_default_context(cafile=str(ca))))
    info = anon.get("ConfigMap", "cluster-info", "kube-public")
    assert info is not None and "kubeconfig" in info["data"]
    with pytest.raises(Exception, match="refused to get ConfigMap kube-system/kubeadm-config"):
        anon.get("ConfigMap", "kubeadm-config", "kube-system")


def test_download_certs_from_the_real_secret(cluster, tmp_path) -> None:
    from kubeadm_py.cluster.copycerts import download_certs
    from kubeadm_py.kube.client import KubeClient

    client = KubeClient.from_kubeconfig(str(cluster["root"] / "etc/kubernetes/super-admin.conf"))
    files = download_certs(client, cluster["cfg"], KEY)
    for f in files:
        assert (cluster["root"] / f.path.lstrip("/")).read_bytes() == f.data


def test_controller_manager_signature_equals_ours(cluster) -> None:
    from kubeadm_py.tokens.jws import compute_detached_signature

    deadline = time.monotonic() + 60
    data: dict = {}
    while time.monotonic() < deadline:
        data = _get(cluster, "configmap", "-n", "kube-public", "cluster-info")["data"]
        if "jws-kubeconfig-abcdef" in data:
            break
        time.sleep(1)
    else:
        pytest.fail(
            f"bootstrap signer never signed cluster-info: {cluster['logs']['kcm'].read_text()[-3000:]}"
        )
    tid, secret = TOKEN.split(".")
    assert data["jws-kubeconfig-abcdef"] == compute_detached_signature(data["kubeconfig"], tid, secret)
    assert (
        base64.b64decode(
            _get(cluster, "configmap", "-n", "kube-public", "cluster-info")["data"]["kubeconfig"]
            .split("certificate-authority-data: ")[1]
            .split()[0]
        )
        == (cluster["pki"] / "ca.crt").read_bytes()
    )
