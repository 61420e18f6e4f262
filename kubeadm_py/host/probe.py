"""The system probe: every read preflight checks make of the machine.

Two kinds of files are distinguished:

- **node files** (``/etc/kubernetes``, ``/var/lib/etcd``, systemd unit files, certificates):
  read through :class:`~kubeadm_py.hostfs.HostFS`, so ``--rootfs`` and the dry-run overlay apply;
- **kernel files** (``/proc``, ``/sys``, the running kernel's config): always the live kernel,
  since a root filesystem image has no kernel of its own.

Reads use psutil, ``/proc`` and ``/sys``; a program is run only where no file form exists
(``kubelet --version``, ``crictl info``). :class:`RealProbe` is the implementation;
:class:`~kubeadm_py.host.fake.FakeProbe` is the stand-in for unit tests.
"""

from __future__ import annotations

import errno
import os
import platform
import shutil
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kubeadm_py.host.cri import CriStatus, status_via_crictl, status_via_grpc, status_via_http2
from kubeadm_py.hostfs import HostFS
from kubeadm_py.tls import client_context


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


@runtime_checkable
class SystemProbe(Protocol):
    """Read-only questions about the machine. Implementations must not change anything
    (the port test binds and closes at once)."""

    def euid(self) -> int: ...
    def cpu_count(self) -> int: ...
    def memory_bytes(self) -> int: ...
    def hostname(self) -> str: ...
    def kernel_release(self) -> str: ...
    def os_name(self) -> str: ...
    def environ(self) -> Mapping[str, str]: ...

    # node files (rootfs-aware)
    def node_exists(self, path: str) -> bool: ...
    def node_is_dir(self, path: str) -> bool: ...
    def node_listdir(self, path: str) -> list[str]: ...
    def node_read(self, path: str) -> bytes | None: ...

    # kernel files (live system)
    def kernel_read(self, path: str) -> bytes | None: ...
    def kernel_exists(self, path: str) -> bool: ...

    def port_free(self, port: int) -> tuple[bool, str]: ...
    def port_holder(self, port: int) -> str | None: ...
    def which(self, executable: str) -> str | None: ...
    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult: ...
    def resolve(self, name: str) -> tuple[list[str], str | None]: ...
    def init_process(self) -> str: ...
    def process_running(self, name: str) -> bool: ...
    def cri_status(self, endpoint: str) -> CriStatus: ...
    def http_get(
        self, url: str, *, ca_file: str = "", cert_file: str = "", key_file: str = "", timeout: float = 10.0
    ) -> HttpResponse: ...


class RealProbe:
    """The machine itself. ``fs`` decides where node files live (``--rootfs``, dry-run overlay)."""

    def __init__(self, fs: HostFS | None = None) -> None:
        self.fs = fs or HostFS()

    def euid(self) -> int:
        return os.geteuid()

    def cpu_count(self) -> int:
        # Go's runtime.NumCPU counts the CPUs in the process's affinity mask.
        try:
            return len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            return os.cpu_count() or 1

    def memory_bytes(self) -> int:
        import psutil

        return int(psutil.virtual_memory().total)

    def hostname(self) -> str:
        return socket.gethostname()

    def kernel_release(self) -> str:
        return os.uname().release

    def os_name(self) -> str:
        return platform.system()

    def environ(self) -> Mapping[str, str]:
        return dict(os.environ)

    def node_exists(self, path: str) -> bool:
        return self.fs.exists(path)

    def node_is_dir(self, path: str) -> bool:
        return self.fs.is_dir(path)

    def node_listdir(self, path: str) -> list[str]:
        return self.fs.listdir(path)

    def node_read(self, path: str) -> bytes | None:
        return self.fs.read_bytes(path)

    def kernel_read(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def kernel_exists(self, path: str) -> bool:
        return os.path.exists(path)

    def port_free(self, port: int) -> tuple[bool, str]:
        """Listen on the wildcard address like Go's ``net.Listen("tcp", ":<port>")``: an IPv6
        dual-stack socket when the kernel has IPv6, else IPv4; SO_REUSEADDR as Go sets it."""
        attempts: list[tuple[socket.AddressFamily, str]] = []
        if socket.has_ipv6:
            attempts.append((socket.AF_INET6, "::"))
        attempts.append((socket.AF_INET, "0.0.0.0"))
        last = ""
        for family, addr in attempts:
            try:
                s = socket.socket(family, socket.SOCK_STREAM)
            except OSError as e:
                last = str(e)
                continue
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind((addr, port))
                s.listen(1)
                return True, f"listened on {addr}:{port}"
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    return False, "address already in use"
                if e.errno == errno.EACCES:
                    return False, f"permission denied binding port {port}"
                last = e.strerror or str(e)
            finally:
                s.close()
        return False, last or "cannot listen"

    def port_holder(self, port: int) -> str | None:
        import psutil

        try:
            conns = psutil.net_connections(kind="tcp")
        except (psutil.AccessDenied, OSError):
            return None
        for c in conns:
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port:
                where = f"{c.laddr.ip}:{port}"
                if c.pid:
                    try:
                        return f"{psutil.Process(c.pid).name()} (pid {c.pid}) on {where}"
                    except psutil.Error:
                        return f"pid {c.pid} on {where}"
                return f"a socket on {where}"
        return None

    def which(self, executable: str) -> str | None:
        return shutil.which(executable)

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        try:
            p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
        except FileNotFoundError:
            return CommandResult(127, "", f"{argv[0]}: executable file not found")
        except subprocess.TimeoutExpired:
            return CommandResult(124, "", f"{argv[0]}: timed out after {timeout:g}s")
        except OSError as e:
            return CommandResult(126, "", f"{argv[0]}: {e.strerror or e}")
        return CommandResult(p.returncode, p.stdout, p.stderr)

    def resolve(self, name: str) -> tuple[list[str], str | None]:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:
            return [], f"lookup {name}: {getattr(e, 'strerror', None) or e}"
        return sorted({str(i[4][0]) for i in infos}), None

    def init_process(self) -> str:
        data = self.kernel_read("/proc/1/comm")
        return data.decode(errors="replace").strip() if data else ""

    def process_running(self, name: str) -> bool:
        import psutil

        return any(p.info.get("name") == name for p in psutil.process_iter(["name"]))

    def cri_status(self, endpoint: str) -> CriStatus:
        try:
            return status_via_grpc(endpoint)
        except ImportError:
            pass
        crictl = self.which("crictl")
        if crictl:

            def run(argv: Sequence[str], timeout: float) -> tuple[int, str, str]:
                r = self.run(argv, timeout)
                return r.returncode, r.stdout, r.stderr

            return status_via_crictl(crictl, endpoint, run)
        return status_via_http2(endpoint)

    def _tls(self, ca_file: str, cert_file: str, key_file: str) -> ssl.SSLContext:
        """A client context from node files read inside the root (in memory: ``ssl`` only takes
        paths for a client certificate, so those are in-memory files)."""
        from kubeadm_py.rootfs.memfile import memfiles

        ca = self.fs.read_bytes(ca_file) if ca_file else None
        ctx = client_context(cadata=ca.decode("ascii", "replace")) if ca is not None else client_context()
        if cert_file and key_file:
            pair = [self.fs.read_bytes(cert_file), self.fs.read_bytes(key_file)]
            if pair[0] is None or pair[1] is None:
                raise FileNotFoundError(f"{cert_file} or {key_file} not found")
            with memfiles(pair[0], pair[1]) as (crt, key):
                ctx.load_cert_chain(crt, key)
        return ctx

    def http_get(
        self, url: str, *, ca_file: str = "", cert_file: str = "", key_file: str = "", timeout: float = 10.0
    ) -> HttpResponse:
        ctx: ssl.SSLContext | None = None
        if url.startswith("https://"):
            ctx = self._tls(ca_file, cert_file, key_file)
        try:
            with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:
                return HttpResponse(resp.status, resp.read(1 << 20))
        except urllib.error.HTTPError as e:
            return HttpResponse(e.code, e.read(1 << 20))
