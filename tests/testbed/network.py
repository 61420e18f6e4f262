"""A private L2 network for test-bed nodes.

The bridge lives in a "hub" network namespace owned by a keeper process (not in
the host namespace), and every node attached gets a veth pair: one end on the
bridge, the other as ``eth0`` in the node's own network namespace. Nothing is
configured in the host's network namespace, and all addresses exist only inside
namespaces this harness created; when the keepers die the namespaces vanish.

The default subnet 192.168.97.0/24 is chosen outside kubeadm's default service
(10.96.0.0/12) and common pod CIDRs. The hub owns ``.1`` (nodes' default
gateway, so the kubelet finds a default route; packets go no further).
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from . import _proc

KEEPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keeper.py")


def _ip(pid: int, *args: str) -> None:
    subprocess.run(["nsenter", "-t", str(pid), "-n", "ip", *args], check=True,
                   capture_output=True, text=True, timeout=30)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


class Network:
    """A bridge in its own network namespace; ``attach()`` plugs nodes into it."""

    def __init__(self, name: str = "kptnet", subnet: str = "192.168.97.0/24",
                 workdir: str | None = None, max_lifetime: float = 3600) -> None:
        self.name = name
        self.subnet = ipaddress.ip_network(subnet)
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="kpt-net-")
        self.max_lifetime = max_lifetime
        self._hosts = self.subnet.hosts()
        self.gateway = str(next(self._hosts))
        self._lock = threading.Lock()
        self._n = 0
        self._proc: subprocess.Popen | None = None
        self.pid: int | None = None

    @property
    def prefixlen(self) -> int:
        return self.subnet.prefixlen

    def start(self) -> Network:
        os.makedirs(self.workdir, exist_ok=True)
        spec = os.path.join(self.workdir, "hub-spec.json")
        ready = os.path.join(self.workdir, "hub-ready")
        with open(spec, "w") as f:
            json.dump({"ready_file": ready, "net": True, "max_lifetime": self.max_lifetime}, f)
        self._proc = _proc.spawn(
            ["unshare", "--net", "--pid", "--fork", "--mount", "--propagation", "private",
             "--kill-child=SIGKILL", sys.executable, KEEPER, spec],
            log_path=os.path.join(self.workdir, "hub.log"))
        _proc.wait_for(lambda: os.path.exists(ready) or self._proc.poll() is not None, 30,
                       what="network hub keeper")
        if not os.path.exists(ready) or _read(ready) != "ok":
            self.stop()
            raise RuntimeError(f"network hub failed to start; see {self.workdir}/hub.log")
        kids = _proc.wait_for(lambda: _proc.children_of(self._proc.pid), 10, what="hub keeper pid")
        self.pid = kids[0]
        _ip(self.pid, "link", "add", "br0", "type", "bridge")
        _ip(self.pid, "addr", "add", f"{self.gateway}/{self.prefixlen}", "dev", "br0")
        _ip(self.pid, "link", "set", "br0", "up")
        return self

    def allocate(self) -> str:
        with self._lock:
            return str(next(self._hosts))

    def attach(self, node_pid: int, address: str | None = None) -> str:
        """Give the network namespace of ``node_pid`` an ``eth0`` on the bridge; returns its IP."""
        if self.pid is None:
            raise RuntimeError("network not started")
        address = address or self.allocate()
        with self._lock:
            self._n += 1
            host_end = f"kv{self._n}"
        _ip(self.pid, "link", "add", host_end, "type", "veth", "peer", "name", "eth0",
            "netns", str(node_pid))
        _ip(self.pid, "link", "set", host_end, "master", "br0", "up")
        _ip(node_pid, "addr", "add", f"{address}/{self.prefixlen}", "dev", "eth0")
        _ip(node_pid, "link", "set", "eth0", "up")
        _ip(node_pid, "route", "add", "default", "via", self.gateway, "dev", "eth0")
        return address

    def stop(self) -> None:
        if self._proc is not None:
            _proc.terminate(self._proc, grace=0.1)
            self._proc = None
        self.pid = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Network:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
