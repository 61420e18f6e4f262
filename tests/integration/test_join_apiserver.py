"""Join against a REAL Kubernetes v1.20.2 control plane: etcd, kube-apiserver and
kube-controller-manager run as host processes on 127.0.0.1 with the PKI, kubeconfigs and static Pod
command lines that kubeadm-py's own ``init`` phases wrote (ports moved to free ones), and the
cluster objects from ``init phase upload-config``, ``bootstrap-token`` and ``upload-certs``.

Checked for real: the controller-manager's bootstrap signer signs cluster-info and token discovery
(anonymous, unverified first read, JWS, CA pin, verified re-read) trusts it; a wrong pin and a
deleted token are refused; ``join phase kubelet-start`` reads kubeadm-config and kubelet-config-1.20
with the bootstrap token and writes the kubelet files; the TLS bootstrap CSR made with the token is
auto-approved and signed by the real controller-manager and the certificate authenticates as
``system:node:<name>``; the control-plane download of ``kubeadm-certs`` works with the right key and
is refused with a wrong one; ``control-plane-join`` marks the node with the v1.20 cluster's taint.

:class:`RealControlPlane` is also what ``bench/join_bench.py`` uses. Needs
/var/cache/kubeadm-py-testbed/bin/{kube-apiserver,kube-controller-manager} and etcd on PATH."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

TESTBED_BIN = Path(os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")) / "bin"
APISERVER = TESTBED_BIN / "kube-apiserver"
KCM = TESTBED_BIN / "kube-controller-manager"
TOKEN = "abcdef.0123456789abcdef"
CERT_KEY = "1f" * 32
CRI = "unix:///run/containerd/containerd.sock"
SKIP_REASON = f"needs {APISERVER} and {KCM} (testbed/build.sh) and etcd on PATH"


def available() -> bool:
    return os.access(APISERVER, os.X_OK) and os.access(KCM, os.X_OK) and shutil.which("etcd") is not None


pytestmark = [pytest.mark.integration, pytest.mark.skipif(not available(), reason=SKIP_REASON)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RealControlPlane:
    """etcd + kube-apiserver + kube-controller-manager from kubeadm-py's init artifacts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: dict[str, Path] = {}
        self._files: list[Any] = []

    # --- init artifacts -------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        return {
            "apiserver-advertise-address": "127.0.0.1",
            "apiserver-bind-port": self.port,
            "control-plane-endpoint": self.endpoint,
            "kubernetes-version": "v1.20.2",
            "node-name": "cp-a",
            "cri-socket": CRI,
            "token": TOKEN,
            "certificate-key": CERT_KEY,
            "kubeconfig": "/etc/kubernetes/admin.conf",
        }

    def init_files(self) -> None:
        from kubeadm_py import api

        api.run(
            "init",
            phases=["certs", "kubeconfig", "etcd", "control-plane"],
            rootfs=str(self.root),
            options=self.options(),
        )

    def command(self, component: str) -> list[str]:
        """The container command of our static Pod manifest, made runnable on this host: host paths
        under the rootfs, well-known ports replaced by free ones."""
        from kubeadm_py.hostfs import HostFS
        from kubeadm_py.manifests.pod import container_command, from_yaml

        text = HostFS(rootfs=self.root).read_text(f"/etc/kubernetes/manifests/{component}.yaml") or ""
        argv = list(container_command(from_yaml(text, component)))
        out = []
        for a in argv[1:]:
            a = a.replace("/etc/kubernetes", f"{self.root}/etc/kubernetes").replace(
                "/var/lib/etcd", f"{self.root}/var/lib/etcd"
            )
            for old, new in self.ports.items():
                a = a.replace(f":{old}", f":{new}")
            out.append(a)
        return out

    # --- processes --------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        f = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self._files.append(f)
        self.logs[name] = log
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def _wait(self, check: Any, proc: subprocess.Popen[bytes], name: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.logs[name].read_text(errors='replace')[-3000:]}")
            if check():
                return
            time.sleep(0.3)
        raise RuntimeError(
            f"{name} not ready after {timeout}s: {self.logs[name].read_text(errors='replace')[-3000:]}"
        )

    def admin(self) -> Any:
        from kubeadm_py.kube.client import KubeClient, RetryPolicy

        return KubeClient.from_kubeconfig(
            str(self.root / "etc/kubernetes/admin.conf"), retry=RetryPolicy(attempts=1)
        )

    def start(self) -> RealControlPlane:
        self.ports = {
            2379: free_port(),
            2380: free_port(),
            2381: free_port(),
            6443: self.port,
            10257: free_port(),
        }
        self.init_files()
        (self.root / "var/lib/etcd").mkdir(parents=True, exist_ok=True, mode=0o700)
        etcd = self._spawn("etcd", ["etcd", *self.command("etcd")])
        apiserver = self._spawn(
            "kube-apiserver", [str(APISERVER), *self.command("kube-apiserver"), "--bind-address=127.0.0.1"]
        )
        self._wait(lambda: self.admin().reachable(), apiserver, "kube-apiserver")
        assert etcd.poll() is None
        self.kcm = self._spawn_kcm()
        self.cluster_objects()
        return self

    def _spawn_kcm(self) -> subprocess.Popen[bytes]:
        """The controller-manager on a port picked now: a port picked before etcd and the API server
        started can meanwhile be the local port of one of their connections (same ephemeral range)."""
        self.ports[10257] = free_port()
        kcm_args = [a for a in self.command("kube-controller-manager") if not a.startswith("--secure-port")]
        return self._spawn(
            "kube-controller-manager", [str(KCM), *kcm_args, f"--secure-port={self.ports[10257]}"]
        )

    def _kcm_log(self) -> str:
        return self.logs["kube-controller-manager"].read_text(errors="replace")

    def _kcm_alive(self, respawns: list[str]) -> None:
        """Restart an exited controller-manager, at most twice, as the kubelet restarts a static Pod
        (it exits when it loses a port race, or when a controller's service-account token is late on
        a busy machine); a third exit fails with its log."""
        if self.kcm.poll() is None:
            return
        log = self._kcm_log()
        if len(respawns) >= 2:
            raise RuntimeError(
                f"kube-controller-manager exited ({self.kcm.returncode}) 3 times: {log[-3000:]}"
            )
        last = [line for line in log.splitlines() if line.strip()][-1:] or ["(empty log)"]
        respawns.append(f"exit {self.kcm.returncode}: {last[0][:300]}")
        self.kcm = self._spawn_kcm()

    def cluster_objects(self) -> None:
        """upload-config, upload-certs and bootstrap-token through kubeadm-py's init phases."""
        from kubeadm_py import api

        self.admin().apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-a"}})
        api.run(
            "init",
            phases=["upload-config", "upload-certs", "bootstrap-token"],
            rootfs=str(self.root),
            options={**self.options(), "upload-certs": True, "skip-token-print": True},
        )

    def wait_signed(self, token: str = TOKEN, timeout: float = 120.0) -> float:
        """Seconds until the bootstrap signer has added jws-kubeconfig-<id>."""
        start = time.monotonic()
        key = f"jws-kubeconfig-{token.split('.')[0]}"
        respawns: list[str] = []
        while time.monotonic() - start < timeout:
            self._kcm_alive(respawns)
            cm = self.admin().get("ConfigMap", "cluster-info", "kube-public") or {}
            if key in (cm.get("data") or {}):
                if respawns:
                    print(f"[join-apiserver] controller-manager restarted: {respawns}")
                return time.monotonic() - start
            time.sleep(0.2)
        raise RuntimeError(
            f"the bootstrap signer did not sign cluster-info within {timeout}s (controller-manager "
            f"restarts: {respawns or 'none'}); "
            f"controller-manager log (last 4000 characters): {self._kcm_log()[-4000:]}"
        )

    def ca_pem(self) -> bytes:
        return (self.root / "etc/kubernetes/pki/ca.crt").read_bytes()

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for f in self._files:
            f.close()


@pytest.fixture(scope="module")
def cp(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    plane = RealControlPlane(tmp_path_factory.mktemp("cp-a"))
    try:
        plane.start()
        plane.wait_signed()
        yield plane
    finally:
        plane.stop()


def _join_options(cp: RealControlPlane, **extra: Any) -> dict[str, Any]:
    from kubeadm_py.tokens.pubkeypin import hash_pem

    opts: dict[str, Any] = {
        "api_server_endpoint": [cp.endpoint],
        "token": TOKEN,
        "discovery-token-ca-cert-hash": [hash_pem(cp.ca_pem())],
        "node-name": "node-b",
        "cri-socket": CRI,
    }
    opts.update(extra)
    return opts


def _fast() -> Any:
    """Discovery polls every 0.5 s and gives up after 20 s (the waiter caps timeouts and intervals)."""
    from kubeadm_py.api import Hooks
    from kubeadm_py.effectors.waiting import Waiter

    return Hooks(waiter=Waiter(max_timeout=20, max_interval=0.5))


def test_token_discovery_against_real_apiserver(cp: RealControlPlane) -> None:
    from kubeadm_py.discovery.discover import discover
    from kubeadm_py.tokens.pubkeypin import hash_pem

    logs: list[str] = []
    join = {
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": cp.endpoint,
                "token": TOKEN,
                "caCertHashes": ["sha256:" + "0" * 64, hash_pem(cp.ca_pem())],
            },
            "tlsBootstrapToken": TOKEN,
        }
    }
    d = discover(join, timeout=20, interval=0.5, log=logs.append)
    assert d.cluster.ca_pem == cp.ca_pem() and not d.cluster.insecure
    assert d.cluster.server == f"https://{cp.endpoint}"  # from cluster-info (controlPlaneEndpoint)
    assert any("validates against pinned roots" in m for m in logs)


def test_wrong_pin_refused_by_real_cluster(cp: RealControlPlane) -> None:
    from kubeadm_py.discovery.discover import discover
    from kubeadm_py.errors import KubeadmError

    join = {
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": cp.endpoint,
                "token": TOKEN,
                "caCertHashes": ["sha256:" + "0" * 64],
            }
        }
    }
    with pytest.raises(KubeadmError, match="none of the public keys"):
        discover(join, timeout=10, interval=0.5)


def test_deleted_token_refused(cp: RealControlPlane) -> None:
    from kubeadm_py.discovery.discover import discover
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.tokens.model import BootstrapToken
    from kubeadm_py.tokens.pubkeypin import hash_pem

    other = "zyxwvu.0123456789zyxwvu"
    admin = cp.admin()
    admin.apply(BootstrapToken.from_config({"token": other}).to_secret())
    cp.wait_signed(other)
    admin.delete("Secret", "bootstrap-token-zyxwvu", "kube-system")
    join = {
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": cp.endpoint,
                "token": other,
                "caCertHashes": [hash_pem(cp.ca_pem())],
            }
        }
    }
    start = time.monotonic()
    deadline = start + 30
    # the signer drops the signature shortly after the Secret goes away
    while time.monotonic() < deadline:
        cm = admin.get("ConfigMap", "cluster-info", "kube-public") or {}
        if "jws-kubeconfig-zyxwvu" not in (cm.get("data") or {}):
            break
        time.sleep(0.3)
    with pytest.raises(KubeadmError, match='token id "zyxwvu" is invalid for this cluster or it has expired'):
        discover(join, timeout=3, interval=0.5)


def test_unreachable_endpoint_is_bounded(cp: RealControlPlane) -> None:
    from kubeadm_py.discovery.discover import discover
    from kubeadm_py.errors import KubeadmError

    join = {
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": f"127.0.0.1:{free_port()}",
                "token": TOKEN,
                "unsafeSkipCAVerification": True,
            }
        }
    }
    start = time.monotonic()
    with pytest.raises(KubeadmError, match="connection refused"):
        discover(join, timeout=2, interval=0.5)
    assert time.monotonic() - start < 15


def test_kubelet_start_and_tls_bootstrap_with_real_controller_manager(
    cp: RealControlPlane, tmp_path: Path
) -> None:
    import yaml
    from cryptography import x509

    from kubeadm_py import api
    from kubeadm_py.discovery.csr import request_node_certificate
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.kube.transport import UrllibTransport

    report = api.run(
        "join", phases=["kubelet-start"], rootfs=str(tmp_path), options=_join_options(cp), hooks=_fast()
    )
    assert report.phases[0].status == "changed"
    conf = yaml.safe_load((tmp_path / "etc/kubernetes/bootstrap-kubelet.conf").read_text())
    assert conf["users"] == [{"name": "tls-bootstrap-token-user", "user": {"token": TOKEN}}]
    kc = yaml.safe_load((tmp_path / "var/lib/kubelet/config.yaml").read_text())
    assert kc["kind"] == "KubeletConfiguration" and kc["clusterDNS"] == ["10.96.0.10"]
    assert (tmp_path / "etc/kubernetes/pki/ca.crt").read_bytes() == cp.ca_pem()
    # the kubelet's part, with the bootstrap-kubelet.conf credentials
    boot = KubeClient.from_kubeconfig(str(tmp_path / "etc/kubernetes/bootstrap-kubelet.conf"))
    issued = request_node_certificate(boot, "node-b", timeout=60)
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert cert.subject.rfc4514_string() == "CN=system:node:node-b,O=system:nodes"
    ca = x509.load_pem_x509_certificate(cp.ca_pem())
    cert.verify_directly_issued_by(ca)
    # the certificate authenticates as the node: it may register its own Node (NodeRestriction)
    (tmp_path / "node.crt").write_bytes(issued.cert_pem)
    (tmp_path / "node.key").write_bytes(issued.key_pem)
    import ssl

    sctx = ssl.create_default_context(cadata=cp.ca_pem().decode())
    sctx.load_cert_chain(tmp_path / "node.crt", tmp_path / "node.key")
    node_client = KubeClient(UrllibTransport(f"https://{cp.endpoint}", sctx), user="system:node:node-b")
    node_client.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b"}})
    assert cp.admin().get("Node", "node-b") is not None


def test_download_certs_right_and_wrong_key(cp: RealControlPlane, tmp_path: Path) -> None:
    from kubeadm_py import api
    from kubeadm_py.errors import PhaseError

    cp_opts = {"control_plane": True, "apiserver-advertise-address": "127.0.0.2", "node-name": "cp-c"}
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    with pytest.raises(PhaseError, match="message authentication failed"):
        api.run(
            "join",
            phases=["control-plane-prepare/download-certs"],
            rootfs=str(wrong),
            options=_join_options(cp, certificate_key="2e" * 32, **cp_opts),
            hooks=_fast(),
        )
    assert not wrong.exists() or not any(p.is_file() for p in wrong.rglob("*"))
    right = tmp_path / "right"
    right.mkdir()

    def join_right(phase: str) -> None:
        options = _join_options(cp, certificate_key=CERT_KEY, **cp_opts)
        api.run("join", phases=[phase], rootfs=str(right), options=options, hooks=_fast())

    join_right("control-plane-prepare")
    for name in ("ca.key", "sa.key", "front-proxy-ca.crt", "etcd/ca.key"):
        assert (right / "etc/kubernetes/pki" / name).read_bytes() == (
            cp.root / "etc/kubernetes/pki" / name
        ).read_bytes()
    assert (right / "etc/kubernetes/manifests/kube-apiserver.yaml").exists()
    assert (
        "--advertise-address=127.0.0.2"
        in (right / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
    )
    # control-plane-join (mark-control-plane) with the admin.conf just written: the default taint
    # is the v1.20 cluster's (kubeadm-config), not the library default version's control-plane taint
    cp.admin().apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-c"}})
    join_right("control-plane-join")
    node = cp.admin().get("Node", "cp-c") or {}
    assert node["spec"]["taints"] == [{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]
    assert node["metadata"]["labels"]["node-role.kubernetes.io/master"] == ""
