"""Preflight against this machine and real components.

Each host fact is read independently in the test (a file read or a coreutils tool) and the check's
result must agree with it; nothing about the machine is hard-coded. Real components: TCP
listeners started here, containerd (HTTP/2 handshake on its gRPC socket), etcd over mutual TLS
(``GET /version``), and the ``kubeadm-py preflight`` command run as a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeadm_py.host.cri import status_via_http2
from kubeadm_py.host.probe import RealProbe
from kubeadm_py.hostfs import HostFS
from kubeadm_py.preflight.checks import run_checks
from kubeadm_py.preflight.etcd import ExternalEtcdVersion
from kubeadm_py.preflight.system import CRI, FileContent, Port, Service, Swap
from kubeadm_py.preflight.sysverify import SystemVerification, cgroup_version

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait_for(path_or_port: Path | int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if isinstance(path_or_port, Path):
            if path_or_port.exists():
                return
        else:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", path_or_port)) == 0:
                    return
        time.sleep(0.1)
    raise TimeoutError(f"{path_or_port} did not come up in {timeout}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --- host facts -----------------------------------------------------------------------------------


def test_ip_forward_agrees_with_proc() -> None:
    value = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    warnings, errors = FileContent("/proc/sys/net/ipv4/ip_forward").run(RealProbe())
    if value == "1":
        assert errors == []
    else:
        assert errors == ["/proc/sys/net/ipv4/ip_forward contents are not set to 1"]


def test_swap_agrees_with_proc_swaps() -> None:
    active = [ln for ln in Path("/proc/swaps").read_text().splitlines()[1:] if ln.strip()]
    warnings, errors = Swap().run(RealProbe())
    assert errors == []
    assert bool(warnings) == bool(active)


def test_cgroup_version_agrees_with_sys_fs_cgroup() -> None:
    # Independent reading: the filesystem type of /sys/fs/cgroup as coreutils' stat reports it.
    fstype = subprocess.run(
        ["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
    expected = 2 if fstype == "cgroup2fs" else 1
    probe = RealProbe()
    assert cgroup_version(probe) == expected
    warnings, _ = SystemVerification("v1.32.0").run(probe)
    v1_warning = "cgroups v1 support is in maintenance mode, please migrate to cgroups v2"
    assert (v1_warning in warnings) == (expected == 1)


def test_init_system_agrees_with_proc_1_comm() -> None:
    comm = Path("/proc/1/comm").read_text().strip()
    warnings, errors = Service("kubelet").run(RealProbe())
    assert errors == []
    says_not_systemd = any(w.startswith(f"PID 1 is {comm!r}, not systemd") for w in warnings)
    assert says_not_systemd == (comm != "systemd")


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0"])
def test_port_held_by_listener_is_in_use(address: str) -> None:
    port = _free_port(address)
    probe = RealProbe()
    assert Port(port).run(probe) == ([], [])
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(1)
        warnings, errors = Port(port).run(probe)
        assert len(errors) == 1 and errors[0].startswith(f"Port {port} is in use")
        assert f"(pid {os.getpid()})" in errors[0]  # the holder, found through psutil
    assert Port(port).run(probe) == ([], [])  # free again once the listener is gone


def test_port_held_on_ipv6_wildcard() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    port = _free_port()
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::", port))
    except OSError:
        pytest.skip("IPv6 wildcard bind not possible here")
    with s:
        s.listen(1)
        assert Port(port).run(RealProbe())[1][0].startswith(f"Port {port} is in use")


def test_rootfs_file_checks(tmp_path: Path) -> None:
    from kubeadm_py.preflight.files import DirAvailable, FileAvailable

    (tmp_path / "var/lib/etcd/member").mkdir(parents=True)
    probe = RealProbe(HostFS(rootfs=tmp_path))
    assert DirAvailable("/var/lib/etcd").run(probe) == ([], ["/var/lib/etcd is not empty"])
    assert FileAvailable("/etc/kubernetes/kubelet.conf").run(probe) == ([], [])


# --- containerd: a real gRPC server on a unix socket ----------------------------------------------


def _start_containerd(tmp_path: Path, extra: str = "") -> tuple[subprocess.Popen[bytes], Path]:
    sock = Path("/tmp") / f"kpy-ctd-{os.getpid()}-{tmp_path.name}.sock"  # unix socket paths are short
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'version = 2\nroot = "{tmp_path}/root"\nstate = "{tmp_path}/state"\n{extra}'
        f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n'
    )
    log = (tmp_path / "containerd.log").open("wb")
    proc = subprocess.Popen(["containerd", "--config", str(cfg)], stdout=log, stderr=log)
    log.close()
    return proc, sock


@pytest.fixture(params=["cri", "no-cri"])
def containerd(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, bool]]:
    if not shutil.which("containerd"):
        pytest.skip("containerd not installed")
    with_cri = request.param == "cri"
    extra = "" if with_cri else 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
    proc, sock = _start_containerd(tmp_path, extra)
    try:
        _wait_for(sock)
        yield sock, with_cri
    finally:
        _stop(proc)
        for p in (sock, Path(f"{sock}.ttrpc")):
            p.unlink(missing_ok=True)


def test_cri_status_call_on_real_containerd(containerd: tuple[Path, bool]) -> None:
    sock, with_cri = containerd
    assert status_via_http2(f"unix://{sock}").ok  # a gRPC server answers either way
    warnings, errors = CRI(f"unix://{sock}").run(RealProbe())
    if with_cri:
        assert (warnings, errors) == ([], [])  # RuntimeService/Status answered, RuntimeReady true
    else:
        assert errors == [
            "container runtime is not running: rpc error: code = Unimplemented desc = "
            "unknown service runtime.v1.RuntimeService"
        ]


def test_cri_socket_absent(tmp_path: Path) -> None:
    warnings, errors = CRI(f"unix://{tmp_path}/missing.sock").run(RealProbe())
    assert errors and errors[0].startswith("container runtime is not running")


# --- etcd over mutual TLS -------------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _issue(d: Path, name: str, ext: str) -> None:
    _openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={name}",
        cwd=d,
    )
    (d / f"{name}.ext").write_text(ext)
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        f"{name}.crt",
        "-days",
        "1",
        "-extfile",
        f"{name}.ext",
        cwd=d,
    )


@pytest.fixture
def etcd_tls(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not (shutil.which("etcd") and shutil.which("openssl")):
        pytest.skip("etcd or openssl not installed")
    pki = tmp_path / "pki"
    pki.mkdir()
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=etcd-ca",
        "-days",
        "1",
        cwd=pki,
    )
    _issue(pki, "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    _issue(pki, "client", "extendedKeyUsage=clientAuth\n")
    client, peer = _free_port(), _free_port()
    url = f"https://127.0.0.1:{client}"
    log = (tmp_path / "etcd.log").open("wb")
    proc = subprocess.Popen(
        [
            "etcd",
            "--name",
            "default",
            "--data-dir",
            str(tmp_path / "data"),
            "--listen-client-urls",
            url,
            "--advertise-client-urls",
            url,
            "--listen-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-cluster",
            f"default=http://127.0.0.1:{peer}",
            "--cert-file",
            str(pki / "server.crt"),
            "--key-file",
            str(pki / "server.key"),
            "--trusted-ca-file",
            str(pki / "ca.crt"),
            "--client-cert-auth",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for(client)
        yield url, pki
    finally:
        _stop(proc)
        log.close()


def _etcd_version(url: str) -> str:
    out = subprocess.run(["etcd", "--version"], capture_output=True, text=True, check=True, timeout=10).stdout
    return out.split("etcd Version:")[1].split()[0]


def test_external_etcd_version_over_mtls(etcd_tls: tuple[str, Path]) -> None:
    url, pki = etcd_tls
    version = _etcd_version(url)
    probe = RealProbe()
    ok = ExternalEtcdVersion(
        (url,), str(pki / "ca.crt"), str(pki / "client.crt"), str(pki / "client.key"), "v1.20.2", retries=0
    )
    assert ok.run(probe) == ([], [])  # 1.20 needs >= 3.2.18
    newer = ExternalEtcdVersion(
        (url,), str(pki / "ca.crt"), str(pki / "client.crt"), str(pki / "client.key"), "v1.34.0", retries=0
    )
    _, errors = newer.run(probe)
    if version.split(".")[:2] < ["3", "5"]:
        assert errors == [
            f"this version of kubeadm only supports external etcd version >= 3.5.24-0. "
            f"Current version: {version}"
        ]


def test_external_etcd_without_client_certificate_fails(etcd_tls: tuple[str, Path]) -> None:
    url, pki = etcd_tls
    check = ExternalEtcdVersion(
        (url,), str(pki / "ca.crt"), kubernetes_version="v1.20.2", retries=1, interval=0.1
    )
    _, errors = check.run(RealProbe())
    assert len(errors) == 1 and errors[0].startswith(f"{url}/version:")


# --- the command, as a user runs it ---------------------------------------------------------------


def test_cli_subprocess_json_agrees_with_host() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kubeadm_py", "preflight", "-o", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(proc.stdout)
    assert set(data) == {"checks", "errors", "warnings"}
    results = {c["name"]: c["result"] for c in data["checks"]}
    forward = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
    assert results["FileContent--proc-sys-net-ipv4-ip_forward"] == ("pass" if forward == "1" else "error")
    swaps = [ln for ln in Path("/proc/swaps").read_text().splitlines()[1:] if ln.strip()]
    assert results["Swap"] == ("warning" if swaps else "pass")
    assert results["IsPrivilegedUser"] == ("pass" if os.geteuid() == 0 else "error")
    assert data["errors"] == sum(1 for r in results.values() if r == "error")
    assert (proc.returncode != 0) == (data["errors"] > 0)
    if data["errors"]:
        assert "preflight checks failed" in proc.stderr


def test_full_init_report_runs_fast() -> None:
    from kubeadm_py.preflight.roles import NodeFacts, checks_for_role

    t0 = time.monotonic()
    report = run_checks(checks_for_role("init", NodeFacts()), RealProbe())
    assert time.monotonic() - t0 < 20
    assert len(report.results) > 30
