"""``upgrade apply`` against a real etcd (/usr/bin/etcd) and a real kube-apiserver v1.20.2 run as host
processes by a small supervisor that plays the kubelet's part for static Pods: it runs each manifest's
command (host paths mapped into the test's rootfs), restarts the process when the manifest file
changes or the process exits, and once the component's liveness probe answers, publishes the mirror
Pod ``kube-system/<component>-<node>`` with the ``kubernetes.io/config.hash`` of the manifest it runs.

Scenarios: a configuration-only upgrade (a new apiServer extraArg and certSAN) — manifests rewritten,
backups kept, the API server running with the new flag (``/proc/<pid>/cmdline``) and serving a
certificate with the new SAN, ``kubeadm-config`` updated (read with kubectl); then a broken upgrade
(an extraArg the API server rejects) rolled back automatically — previous manifest restored, API
server healthy again, the command exits non-zero saying what happened."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.integration

BIN = Path(os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")) / "bin"
BINARIES = {"kube-apiserver": BIN / "kube-apiserver", "etcd": Path(shutil.which("etcd") or "/usr/bin/etcd")}
NODE = "upgrade-it"
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "kubeadm_py"]

if not BINARIES["kube-apiserver"].exists():
    pytest.skip(
        f"{BINARIES['kube-apiserver']} is absent (build the test bed: testbed/build.sh)",
        allow_module_level=True,
    )
if not BINARIES["etcd"].exists():
    pytest.skip("etcd is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def health(url: str) -> bool:
    from kubeadm_py.host.health import http_check

    return http_check(url, timeout=2.0)[0]


class Supervisor:
    """A kubelet stand-in for the etcd and kube-apiserver static Pods of one rootfs."""

    COMPONENTS = ("etcd", "kube-apiserver")

    def __init__(self, root: Path, logs: Path) -> None:
        self.root = root
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.hashes: dict[str, str] = {}
        self.published: dict[str, str] = {}
        self.restarts: dict[str, int] = {c: 0 for c in self.COMPONENTS}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def manifest(self, comp: str) -> Path:
        return self.root / f"etc/kubernetes/manifests/{comp}.yaml"

    def _map(self, value: str) -> str:
        for prefix in ("/etc/kubernetes", "/var/lib/etcd"):
            value = value.replace(prefix, f"{self.root}{prefix}")
        return value

    def _start(self, comp: str, data: bytes) -> None:
        pod = yaml.safe_load(data)
        cmd = pod["spec"]["containers"][0]["command"]
        argv = [str(BINARIES[comp])] + [self._map(a) for a in cmd[1:]]
        log = open(self.logs / f"{comp}.log", "ab")  # noqa: SIM115 - owned by the child
        log.write(f"\n=== start {time.strftime('%H:%M:%S')}: {' '.join(argv)}\n".encode())
        log.flush()
        self.procs[comp] = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.hashes[comp] = hashlib.sha256(data).hexdigest()[:32]
        self.restarts[comp] += 1

    def _kill(self, comp: str) -> None:
        p = self.procs.pop(comp, None)
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)

    def pid(self, comp: str) -> int:
        return self.procs[comp].pid

    def _loop(self) -> None:
        backoff: dict[str, float] = {}
        while not self._stop.is_set():
            for comp in self.COMPONENTS:
                try:
                    data = self.manifest(comp).read_bytes()
                except FileNotFoundError:
                    continue
                digest = hashlib.sha256(data).hexdigest()[:32]
                proc = self.procs.get(comp)
                if proc is not None and self.hashes.get(comp) != digest:
                    self._kill(comp)
                    proc = None
                if proc is not None and proc.poll() is not None:  # crashed: restart after a back-off
                    if time.monotonic() < backoff.get(comp, 0):
                        continue
                    proc = None
                if proc is None:
                    self._start(comp, data)
                    backoff[comp] = time.monotonic() + 2
                    continue
                if self.published.get(comp) != self.hashes[comp]:
                    self._publish(comp, data)
            self._stop.wait(0.3)

    def _publish(self, comp: str, data: bytes) -> None:
        """Create/replace the mirror Pod once the component is healthy (as the kubelet does after
        starting a static Pod)."""
        from kubeadm_py.errors import KubeadmError
        from kubeadm_py.kube.client import KubeClient, RetryPolicy
        from kubeadm_py.upgrade.waiter import health_url

        url = health_url(data)
        if url is None or not health(url):
            return
        pod = yaml.safe_load(data)
        h = self.hashes[comp]
        ann = dict(pod["metadata"].get("annotations") or {})
        ann.update(
            {
                "kubernetes.io/config.hash": h,
                "kubernetes.io/config.mirror": h,
                "kubernetes.io/config.source": "file",
            }
        )
        mirror: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{comp}-{NODE}",
                "namespace": "kube-system",
                "labels": pod["metadata"].get("labels") or {},
                "annotations": ann,
            },
            "spec": {**pod["spec"], "nodeName": NODE},
        }
        try:
            client = KubeClient.from_kubeconfig(
                str(self.root / "etc/kubernetes/admin.conf"), retry=RetryPolicy(attempts=1)
            )
            # A Pod bound to a node is deleted gracefully (waiting for its kubelet): force it.
            path = f"/api/v1/namespaces/kube-system/pods/{mirror['metadata']['name']}?gracePeriodSeconds=0"
            with contextlib.suppress(KubeadmError):
                client.request("DELETE", path)
            client.create(mirror)
        except KubeadmError as e:
            with open(self.logs / "supervisor.log", "a") as f:
                f.write(f"publish {comp}: {e}\n")
            return
        self.published[comp] = h

    def start(self) -> None:
        self._serve_healthz()
        self._thread.start()

    def _serve_healthz(self) -> None:
        """Answer the kubelet's /healthz on its default address (upgrade apply rewrites the node's
        kubelet config.yaml, so the default is what the fail-fast watch asks), as the kubelet this
        stands in for does: the watch ends a wait when no kubelet answers. If something already
        answers there, that does."""
        import http.server

        class Healthz(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._healthz: http.server.ThreadingHTTPServer | None = None
        try:
            self._healthz = http.server.ThreadingHTTPServer(("127.0.0.1", 10248), Healthz)
        except OSError:
            return
        threading.Thread(target=self._healthz.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        if self._healthz is not None:
            self._healthz.shutdown()
            self._healthz.server_close()
        for comp in reversed(self.COMPONENTS):  # the API server before its etcd
            self._kill(comp)

    def wait_published(self, comp: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if comp in self.hashes and self.published.get(comp) == self.hashes[comp]:
                return
            time.sleep(0.3)
        raise AssertionError(f"{comp} did not come up within {timeout}s; see {self.logs}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from kubeadm_py import api

    root = tmp_path_factory.mktemp("upgrade-root")
    logs = tmp_path_factory.mktemp("upgrade-logs")
    api_port, e_client, e_peer, e_metrics = (free_port() for _ in range(4))
    etcd_args = {
        "listen-client-urls": f"https://127.0.0.1:{e_client}",
        "advertise-client-urls": f"https://127.0.0.1:{e_client}",
        "listen-peer-urls": f"https://127.0.0.1:{e_peer}",
        "initial-advertise-peer-urls": f"https://127.0.0.1:{e_peer}",
        "initial-cluster": f"{NODE}=https://127.0.0.1:{e_peer}",
        "listen-metrics-urls": f"http://127.0.0.1:{e_metrics}",
    }
    config = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.20.2",
        "etcd": {"local": {"extraArgs": [{"name": k, "value": v} for k, v in etcd_args.items()]}},
        "apiServer": {"extraArgs": [{"name": "etcd-servers", "value": f"https://127.0.0.1:{e_client}"}]},
    }
    init = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": "127.0.0.1", "bindPort": api_port},
        "nodeRegistration": {"name": NODE, "criSocket": "unix:///run/containerd/containerd.sock"},
    }
    cfg_path = root.parent / f"{root.name}-init.yaml"
    cfg_path.write_text(yaml.safe_dump_all([init, config]))
    api.run(
        "init",
        phases=["certs", "kubeconfig", "etcd", "control-plane"],
        rootfs=str(root),
        config=str(cfg_path),
    )
    sup = Supervisor(root, logs)
    sup.start()
    try:
        sup.wait_published("etcd", 60)
        sup.wait_published("kube-apiserver", 120)
        api.run("init", phases=["upload-config/kubeadm"], rootfs=str(root), config=str(cfg_path))
        yield {"root": root, "sup": sup, "port": api_port, "logs": logs, "config": config}
    finally:
        sup.stop()


def kubectl(root: Path, *args: str) -> str:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(root / "etc/kubernetes/admin.conf"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def stored_config(root: Path) -> dict[str, Any]:
    text = kubectl(
        root,
        "-n",
        "kube-system",
        "get",
        "configmap",
        "kubeadm-config",
        "-o",
        "jsonpath={.data.ClusterConfiguration}",
    )
    return dict(yaml.safe_load(text))


def serving_sans(port: int) -> list[str]:
    from cryptography import x509

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    return list(
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    )


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def write_cluster_config(root: Path, change: dict[str, Any]) -> Path:
    doc = stored_config(root)
    doc["apiServer"].setdefault("extraArgs", []).extend(change.get("extraArgs", []))
    if "certSANs" in change:
        doc["apiServer"]["certSANs"] = change["certSANs"]
    path = root.parent / f"{root.name}-change-{len(list(root.parent.glob(root.name + '-change-*')))}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def upgrade(root: Path, config: Path, timeout: str, *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "upgrade", "apply", "v1.20.2", "--config", str(config), "--rootfs", str(root), "-y",
         "--upgrade-timeout", timeout, *more],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )  # fmt: skip


def test_config_change_then_broken_upgrade_rolled_back(cluster: Any) -> None:
    root, sup, port = cluster["root"], cluster["sup"], cluster["port"]
    manifest = root / "etc/kubernetes/manifests/kube-apiserver.yaml"

    # 1. configuration-only upgrade: new flag and certSAN
    before = manifest.read_text()
    assert "upgrade.example.test" not in serving_sans(port)
    cfg = write_cluster_config(
        root,
        {"extraArgs": [{"name": "event-ttl", "value": "2h0m0s"}], "certSANs": ["upgrade.example.test"]},
    )
    t0 = time.monotonic()
    res = upgrade(root, cfg, "120s")
    took = time.monotonic() - t0
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr}\nlogs: {cluster['logs']}"
    assert "[upgrade/staticpods] Component 'kube-apiserver' upgraded successfully!" in res.stdout
    after = manifest.read_text()
    assert "--event-ttl=2h0m0s" in after
    [backup_dir] = list((root / "etc/kubernetes/tmp").glob("kubeadm-backup-manifests-*"))
    assert (backup_dir / "kube-apiserver.yaml").read_text() == before
    assert health(f"https://127.0.0.1:{port}/livez")
    assert "--event-ttl=2h0m0s" in cmdline(sup.pid("kube-apiserver"))
    assert "upgrade.example.test" in serving_sans(port)
    stored = stored_config(root)
    assert {"name": "event-ttl", "value": "2h0m0s"} in stored["apiServer"]["extraArgs"]
    assert stored["apiServer"]["certSANs"] == ["upgrade.example.test"]
    print(f"config-only upgrade took {took:.1f}s")

    # 2. a broken upgrade: the API server rejects the flag; rolled back automatically
    good = manifest.read_text()
    good_pid = sup.pid("kube-apiserver")
    cfg = write_cluster_config(root, {"extraArgs": [{"name": "no-such-flag", "value": "1"}]})
    refused = upgrade(root, cfg, "25s")  # v1.20's flag table is complete: refused before any change
    assert refused.returncode == 1 and "kube-apiserver v1.20 has no flag --no-such-flag" in refused.stderr
    assert manifest.read_text() == good
    t0 = time.monotonic()
    res = upgrade(root, cfg, "25s", "--ignore-preflight-errors=UnknownExtraArgs")  # as a patched build's flag
    took = time.monotonic() - t0
    assert res.returncode == 1, res.stdout + res.stderr
    err = res.stderr
    assert "the upgrade of kube-apiserver failed" in err
    assert "did not restart kube-apiserver with the new manifest" in err
    assert "rolled back the manifests of kube-apiserver" in err
    assert "kube-apiserver healthy again with the previous manifest" in err
    assert manifest.read_text() == good
    assert len(list((root / "etc/kubernetes/tmp").glob("kubeadm-backup-manifests-*"))) == 2
    sup.wait_published("kube-apiserver", 60)
    assert health(f"https://127.0.0.1:{port}/livez")
    assert sup.pid("kube-apiserver") != good_pid  # it was restarted with the broken flag, then again
    assert "--no-such-flag=1" not in cmdline(sup.pid("kube-apiserver"))
    assert "unknown flag: --no-such-flag" in (cluster["logs"] / "kube-apiserver.log").read_text()
    assert "no-such-flag" not in str(stored_config(root))  # kubeadm-config untouched
    print(f"broken upgrade + rollback took {took:.1f}s")


def test_plan_and_diff_against_the_live_cluster(cluster: Any) -> None:
    root = cluster["root"]
    cfg = write_cluster_config(root, {"extraArgs": [{"name": "profiling", "value": "false"}]})
    res = subprocess.run([*CLI, "upgrade", "diff", "--config", str(cfg), "--rootfs", str(root)],
                         capture_output=True, text=True, timeout=120, cwd=REPO)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "+    - --profiling=false" in res.stdout
    res = subprocess.run([*CLI, "upgrade", "plan", "v1.30.14", "--rootfs", str(root)],
                         capture_output=True, text=True, timeout=120, cwd=REPO)  # fmt: skip
    assert res.returncode == 1
    assert "too high; kubeadm can upgrade only 1 minor version at a time" in res.stderr
    res = subprocess.run([*CLI, "upgrade", "plan", "--rootfs", str(root), "-o", "json"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert '"clusterVersion": "v1.20.2"' in res.stdout  # the API server's own /version answer


def test_etcd_change_backs_up_the_data_directory(cluster: Any) -> None:
    root, sup = cluster["root"], cluster["sup"]
    doc = stored_config(root)
    doc["etcd"]["local"].setdefault("extraArgs", []).append({"name": "snapshot-count", "value": "5000"})
    cfg = root.parent / f"{root.name}-etcd.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    old_pid = sup.pid("etcd")
    res = upgrade(root, cfg, "120s")
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr}"
    assert "[upgrade/etcd] Backing up the etcd data directory /var/lib/etcd" in res.stdout
    assert "Component 'etcd' upgraded successfully!" in res.stdout
    assert "Current and new manifests of kube-apiserver are equal, skipping upgrade" in res.stdout
    [etcd_backup] = list((root / "etc/kubernetes/tmp").glob("kubeadm-backup-etcd-*"))
    assert (etcd_backup / "etcd/member/wal").is_dir() and any((etcd_backup / "etcd/member/wal").iterdir())
    assert sup.pid("etcd") != old_pid
    assert "--snapshot-count=5000" in cmdline(sup.pid("etcd"))
    stored = stored_config(root)
    assert {"name": "snapshot-count", "value": "5000"} in stored["etcd"]["local"]["extraArgs"]


def test_upgrade_node_after_apply_changes_no_manifest(cluster: Any) -> None:
    root = cluster["root"]
    manifests = {p.name: p.read_bytes() for p in (root / "etc/kubernetes/manifests").iterdir()}
    res = subprocess.run([*CLI, "upgrade", "node", "--rootfs", str(root), "--upgrade-timeout", "60s"],
                         capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "The upgrade for this node was successfully completed" in res.stdout
    assert {p.name: p.read_bytes() for p in (root / "etc/kubernetes/manifests").iterdir()} == manifests


def test_upgrade_node_on_a_worker_with_the_kubelet_identity(cluster: Any) -> None:
    """A worker (kubelet.conf only, ``system:node:<name>``) against the real API server's Node and RBAC
    authorizers: ``upgrade node`` without --kubeconfig reads the cluster with kubelet.conf and skips
    the addon phase (the kubelet's identity may not read the addons' objects: the Ansible upgrade.yml
    failure on the test bed, upstream kubernetes/kubeadm#3109). Then ``CARotationInProgress``: a 403
    on the rotation ConfigMap (no Role yet) lets it run; once begin's Role and ConfigMap exist the
    worker reads it and is refused before any change."""
    import datetime
    import json

    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.cluster.uploadconfig import kubelet_config_objects
    from kubeadm_py.pki import issue, keys

    root = cluster["root"]
    # the kubelet ConfigMap and its Role as upload-config/kubelet writes them (that phase also
    # annotates the Node, which needs a kubelet: none runs here)
    kubelet = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "maxPods": 42}
    objs = root.parent / f"{root.name}-kubelet-config.json"
    items = kubelet_config_objects(kubelet, "v1.20.2", user_supplied=True)
    objs.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    kubectl(root, "apply", "-f", str(objs))
    worker = root.parent / f"{root.name}-worker"
    (worker / "etc/kubernetes/pki").mkdir(parents=True)
    shutil.copy(root / "etc/kubernetes/kubelet.conf", worker / "etc/kubernetes/kubelet.conf")
    shutil.copy(root / "etc/kubernetes/pki/ca.crt", worker / "etc/kubernetes/pki/ca.crt")
    (worker / "var/lib/kubelet").mkdir(parents=True)
    (worker / "var/lib/kubelet/config.yaml").write_text("kind: KubeletConfiguration\nold: true\n")

    def upgrade_worker() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "upgrade", "node", "--rootfs", str(worker), "-o", "json"],
                              capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip

    res = upgrade_worker()
    assert res.returncode == 0, res.stdout + res.stderr
    phases = {p["phase"]: p for p in json.loads(res.stdout)["phases"]}
    for addon in ("addon/coredns", "addon/kube-proxy"):
        assert (phases[addon]["status"], phases[addon]["reason"]) == ("skipped", "Not a control plane node")
    assert "maxPods: 42" in (worker / "var/lib/kubelet/config.yaml").read_text()

    now = datetime.datetime.now(datetime.UTC)
    new_ca = issue.encode_cert(
        issue.self_signed_ca(
            "kubernetes", keys.generate_key("ECDSA-P256"), now, now + datetime.timedelta(days=1)
        )
    )
    old_ca = (root / "etc/kubernetes/pki/ca.crt").read_bytes()
    objs = root.parent / f"{root.name}-rotation.json"
    begun = [*rc.reader_rbac(), rc.Rotation(1, "begin", old_ca, new_ca).configmap()]
    objs.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": begun}))
    kubectl(root, "apply", "-f", str(objs))
    try:
        written = (worker / "var/lib/kubelet/config.yaml").read_bytes()
        res = upgrade_worker()
        assert res.returncode == 1, res.stdout + res.stderr
        # with -o json the progress lines go to stderr too; the refusal is one line among them
        found = [x for x in res.stderr.splitlines() if x.startswith("error:")]
        assert len(found) == 1, res.stderr
        [line] = found
        assert "CARotationInProgress: a CA rotation is in progress" in line and "stage begin" in line, line
        assert (worker / "var/lib/kubelet/config.yaml").read_bytes() == written
    finally:
        kubectl(root, "-n", "kube-system", "delete", "configmap", rc.NAME)
