"""Real etcd members on loopback for the etcd client and reset integration tests (not a test
module). Certificates come from kubeadm_py.pki through ``api.run("init", phases=["certs"])``;
every process is started in its own session and stopped by :meth:`EtcdMember.stop` (fixtures
call it from ``finally``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubeadm_py import api

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
PKI = "etc/kubernetes/pki"
NODE_OPTIONS = {"apiserver-advertise-address": "127.0.0.1", "kubernetes-version": "v1.31.0"}

needs_etcd = pytest.mark.skipif(
    not (os.access(ETCD, os.X_OK) and os.access(ETCDCTL, os.X_OK)),
    reason="etcd/etcdctl not installed (apt-get install -y etcd-server etcd-client)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_pki(root: Path, node_name: str = "node1") -> Path:
    """A node root with the full kubeadm PKI (etcd CA, server, peer and client certificates)."""
    root.mkdir(parents=True, exist_ok=True)
    api.run("init", phases=["certs"], rootfs=str(root), options={**NODE_OPTIONS, "node-name": node_name})
    return root / PKI


@dataclass
class EtcdMember:
    name: str
    pki: Path
    work: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    trust: str = "etcd/ca.crt"  # --trusted-ca-file and --peer-trusted-ca-file, under pki

    @property
    def client_url(self) -> str:
        return f"https://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"https://127.0.0.1:{self.peer_port}"

    @property
    def log_path(self) -> Path:
        return self.work / f"{self.name}.log"

    def start(self, initial_cluster: str | None = None, state: str = "new") -> None:
        d = self.pki
        data = self.work / f"{self.name}.data"
        cmd = [
            ETCD,
            f"--name={self.name}",
            f"--data-dir={data}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={initial_cluster or f'{self.name}={self.peer_url}'}",
            f"--initial-cluster-state={state}",
            f"--cert-file={d / 'etcd/server.crt'}",
            f"--key-file={d / 'etcd/server.key'}",
            f"--trusted-ca-file={d / self.trust}",
            "--client-cert-auth=true",
            f"--peer-cert-file={d / 'etcd/peer.crt'}",
            f"--peer-key-file={d / 'etcd/peer.key'}",
            f"--peer-trusted-ca-file={d / self.trust}",
            "--peer-client-cert-auth=true",
            "--snapshot-count=10000",
        ]
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ}
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


def etcdctl(
    pki: Path,
    endpoints: list[str],
    *args: str,
    cacert: str = "etcd/ca.crt",
    client: str = "etcd/healthcheck-client",
) -> subprocess.CompletedProcess[str]:
    """The independent checker: Debian's etcdctl, by default trusting etcd/ca.crt with the
    healthcheck-client certificate (``cacert``, ``client``: other files under ``pki``)."""
    cmd = [
        ETCDCTL,
        f"--endpoints={','.join(endpoints)}",
        "--dial-timeout=3s",
        "--command-timeout=5s",
        f"--cacert={pki / cacert}",
        f"--cert={pki / client}.crt",
        f"--key={pki / client}.key",
        *args,
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=30, env={**os.environ, "ETCDCTL_API": "3"}
    )


def wait_serving(member: EtcdMember, timeout: float = 30.0) -> None:
    """Until ``etcdctl endpoint health`` passes on the member (it has joined a quorum)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not member.alive():
            pytest.fail(f"etcd {member.name} exited:\n{member.log_tail()}")
        r = etcdctl(member.pki, [member.client_url], "endpoint", "health")
        if r.returncode == 0:
            return
        last = r.stderr or r.stdout
        time.sleep(0.3)
    pytest.fail(f"etcd {member.name} not healthy after {timeout}s: {last}\n{member.log_tail()}")
