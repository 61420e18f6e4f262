"""A real etcd serving with the generated etcd-server/peer certificates (client-cert-auth), and
etcdctl using the apiserver-etcd-client and healthcheck-client certificates. A client
certificate from another CA must be rejected.

etcd comes from the Debian packages etcd-server and etcd-client (install.sh installs them)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import manager
from tests.integration.pki_helpers import make_cfg, make_node

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("etcd") is None or shutil.which("etcdctl") is None,
        reason="etcd/etcdctl not installed (apt-get install -y etcd-server etcd-client)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    root = tmp_path_factory.mktemp("etcd-node")
    make_node(root, "RSA-2048")
    d = root / "etc/kubernetes/pki"
    client, peer = free_port(), free_port()
    data = root / "var/lib/etcd"
    cmd = [
        "etcd",
        "--name",
        "node1",
        "--data-dir",
        str(data),
        "--listen-client-urls",
        f"https://127.0.0.1:{client}",
        "--advertise-client-urls",
        f"https://127.0.0.1:{client}",
        "--listen-peer-urls",
        f"https://127.0.0.1:{peer}",
        "--initial-advertise-peer-urls",
        f"https://127.0.0.1:{peer}",
        "--initial-cluster",
        f"node1=https://127.0.0.1:{peer}",
        "--cert-file",
        str(d / "etcd/server.crt"),
        "--key-file",
        str(d / "etcd/server.key"),
        "--trusted-ca-file",
        str(d / "etcd/ca.crt"),
        "--client-cert-auth=true",
        "--peer-cert-file",
        str(d / "etcd/peer.crt"),
        "--peer-key-file",
        str(d / "etcd/peer.key"),
        "--peer-trusted-ca-file",
        str(d / "etcd/ca.crt"),
        "--peer-client-cert-auth=true",
        "--snapshot-count",
        "10000",
    ]
    log = open(root / "etcd.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ETCD_UNSUPPORTED_ARCH": ""}
    )
    endpoint = f"https://127.0.0.1:{client}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"etcd exited: {(root / 'etcd.log').read_text()[-2000:]}")
            if etcdctl(endpoint, d, "healthcheck-client").returncode == 0:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"etcd did not become healthy: {(root / 'etcd.log').read_text()[-2000:]}")
        yield endpoint, d, root
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def etcdctl(
    endpoint: str,
    d: Path,
    client: str,
    *args: str,
    cacert: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    base = {
        "healthcheck-client": d / "etcd/healthcheck-client",
        "apiserver-etcd-client": d / "apiserver-etcd-client",
    }
    b = base.get(client)
    cmd = [
        "etcdctl",
        "--endpoints",
        endpoint,
        "--dial-timeout",
        "3s",
        "--command-timeout",
        "5s",
        "--cacert",
        str(cacert or d / "etcd/ca.crt"),
        "--cert",
        str(cert or f"{b}.crt"),
        "--key",
        str(key or f"{b}.key"),
        *(args or ("endpoint", "health")),
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=30, env={**os.environ, "ETCDCTL_API": "3"}
    )


def test_healthcheck_client_endpoint_health(etcd):
    endpoint, d, _ = etcd
    r = etcdctl(endpoint, d, "healthcheck-client", "endpoint", "health")
    assert r.returncode == 0 and "is healthy" in (r.stdout + r.stderr)


def test_apiserver_etcd_client_put_get(etcd):
    endpoint, d, _ = etcd
    assert etcdctl(endpoint, d, "apiserver-etcd-client", "put", "/registry/kubeadm-py", "ok").returncode == 0
    r = etcdctl(endpoint, d, "apiserver-etcd-client", "get", "/registry/kubeadm-py", "--print-value-only")
    assert r.returncode == 0 and r.stdout.strip() == "ok"


def test_client_from_another_ca_is_rejected(etcd, tmp_path):
    endpoint, d, _ = etcd
    other = tmp_path / "other"
    other.mkdir()
    manager.create_pki(
        HostFS(rootfs=other), make_cfg("ECDSA-P256"), names=["etcd-ca", "apiserver-etcd-client"]
    )
    od = other / "etc/kubernetes/pki"
    r = etcdctl(
        endpoint,
        d,
        "x",
        "get",
        "/registry/kubeadm-py",
        cert=od / "apiserver-etcd-client.crt",
        key=od / "apiserver-etcd-client.key",
    )
    assert r.returncode != 0
    # and a server from another CA is not trusted by our client
    r = etcdctl(endpoint, d, "healthcheck-client", "endpoint", "health", cacert=od / "etcd/ca.crt")
    assert r.returncode != 0
