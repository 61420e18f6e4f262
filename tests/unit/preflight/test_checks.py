"""Every check's pass, warning and error outcomes against a fake probe (table-driven)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from kubeadm_py.host.cri import CriStatus
from kubeadm_py.host.fake import KERNEL_CONFIG, FakeProbe
from kubeadm_py.host.probe import CommandResult, HttpResponse
from kubeadm_py.preflight.checks import Check
from kubeadm_py.preflight.etcd import ExternalEtcdVersion
from kubeadm_py.preflight.files import DirAvailable, FileAvailable, FileExisting
from kubeadm_py.preflight.system import (
    CRI,
    FileContent,
    Firewalld,
    Hostname,
    HTTPProxy,
    HTTPProxyCIDR,
    InPath,
    IsPrivilegedUser,
    KubeletVersion,
    KubernetesVersion,
    Mem,
    NumCPU,
    Port,
    Service,
    Swap,
)
from kubeadm_py.preflight.sysverify import SystemVerification

Setup = Callable[[FakeProbe], Any]
V1_MOUNTS = (
    b"tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
    b"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
)
PROC_CGROUPS_ALL = b"#subsys_name\thierarchy\tnum_cgroups\tenabled\n" + b"".join(
    f"{c}\t1\t1\t1\n".encode()
    for c in ("cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "pids", "hugetlb")
)


def _set(**fields: Any) -> Setup:
    def apply(p: FakeProbe) -> None:
        for k, v in fields.items():
            setattr(p, k, v)

    return apply


def _kernel(path: str, data: bytes | None) -> Setup:
    def apply(p: FakeProbe) -> None:
        if data is None:
            p.kernel_files.pop(path, None)
        else:
            p.kernel_files[path] = data

    return apply


def _node(path: str, data: bytes = b"x") -> Setup:
    return lambda p: p.node_files.__setitem__(path, data)


def _cgroup_v1(p: FakeProbe) -> None:
    p.kernel_files["/proc/self/mounts"] = V1_MOUNTS
    p.kernel_files["/proc/cgroups"] = PROC_CGROUPS_ALL


def _kubelet(version: str) -> Setup:
    return lambda p: p.commands.__setitem__("kubelet", CommandResult(0, f"Kubernetes {version}\n", ""))


def _systemd_unit(enabled: bool) -> Setup:
    def apply(p: FakeProbe) -> None:
        p.node_files["/lib/systemd/system/kubelet.service"] = b"[Service]\n"
        p.node_files["/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"] = b"[Service]\n"
        if enabled:
            p.node_files["/etc/systemd/system/multi-user.target.wants/kubelet.service"] = b"[Service]\n"

    return apply


def _etcd(version: str | None, status: int = 200) -> Setup:
    def apply(p: FakeProbe) -> None:
        if version is not None:
            body = json.dumps({"etcdserver": version, "etcdcluster": "3.5.0"}).encode()
            p.http["https://10.0.0.5:2379/version"] = HttpResponse(status, body)

    return apply


def _release(release: str) -> Setup:
    """Run a different kernel release (with its own config file)."""

    def apply(p: FakeProbe) -> None:
        p.release = release
        p.kernel_files[f"/boot/config-{release}"] = KERNEL_CONFIG.encode()

    return apply


def _noop(p: FakeProbe) -> None:
    return None


ETCD = ExternalEtcdVersion(
    ("https://10.0.0.5:2379",), "/etc/etcd/ca.crt", "", "", "v1.34.0", retries=1, interval=0.0
)

CASES: list[tuple[str, Check, Setup, str, str]] = [
    # id, check, probe setup, expected outcome, substring of the message ("" for pass)
    ("root", IsPrivilegedUser(), _noop, "pass", ""),
    ("not-root", IsPrivilegedUser(), _set(uid=1000), "error", "user is not running as root"),
    ("cpu-ok", NumCPU(2), _set(cpus=2), "pass", ""),
    (
        "cpu-low",
        NumCPU(2),
        _set(cpus=1),
        "error",
        "the number of available CPUs 1 is less than the required 2",
    ),
    ("mem-ok", Mem(1700), _set(memory=1700 * 1024 * 1024), "pass", ""),
    ("mem-low", Mem(1700), _set(memory=1024 * 1024 * 1024), "error", "the system RAM (1024 MB) is less than"),
    ("k8s-version-ok", KubernetesVersion("v1.20.2"), _noop, "pass", ""),
    (
        "k8s-version-newer",
        KubernetesVersion("v9.99.0"),
        _noop,
        "warning",
        "Kubernetes version is greater than",
    ),
    ("k8s-version-bad", KubernetesVersion("stable"), _noop, "error", "couldn't parse Kubernetes version"),
    ("firewalld-off", Firewalld((6443, 10250)), _noop, "pass", ""),
    (
        "firewalld-on",
        Firewalld((6443, 10250)),
        _set(processes={"firewalld"}),
        "warning",
        "firewalld is active, please ensure ports [6443 10250] are open",
    ),
    ("port-free", Port(6443), _noop, "pass", ""),
    (
        "port-used",
        Port(6443),
        _set(ports_in_use={6443: "etcd (pid 7) on 127.0.0.1:6443"}),
        "error",
        "Port 6443 is in use by etcd (pid 7)",
    ),
    ("tool-present", InPath("ip", True), _noop, "pass", ""),
    (
        "tool-missing-mandatory",
        InPath("ip", True),
        lambda p: p.executables.pop("ip"),
        "error",
        "ip not found in system path",
    ),
    (
        "tool-missing-optional",
        InPath("socat", False),
        lambda p: p.executables.pop("socat"),
        "warning",
        "socat not found in system path",
    ),
    ("swap-off", Swap(), _noop, "pass", ""),
    (
        "swap-on",
        Swap(),
        _kernel("/proc/swaps", b"Filename Type Size Used Priority\n/swap file 1024 0 -2\n"),
        "warning",
        "swap is supported for cgroup v2 only",
    ),
    ("swap-no-proc", Swap(), _kernel("/proc/swaps", None), "pass", ""),
    ("ip-forward-1", FileContent("/proc/sys/net/ipv4/ip_forward"), _noop, "pass", ""),
    (
        "ip-forward-0",
        FileContent("/proc/sys/net/ipv4/ip_forward"),
        _kernel("/proc/sys/net/ipv4/ip_forward", b"0\n"),
        "error",
        "/proc/sys/net/ipv4/ip_forward contents are not set to 1",
    ),
    (
        "bridge-missing",
        FileContent("/proc/sys/net/bridge/bridge-nf-call-iptables"),
        _kernel("/proc/sys/net/bridge/bridge-nf-call-iptables", None),
        "error",
        "does not exist",
    ),
    ("hostname-ok", Hostname("node-1"), _noop, "pass", ""),
    ("hostname-default", Hostname(""), _noop, "pass", ""),
    ("hostname-unresolvable", Hostname("node-2"), _noop, "warning", 'hostname "node-2" could not be reached'),
    (
        "hostname-invalid",
        Hostname("Bad_Name!"),
        _set(addresses={"Bad_Name!": ["10.0.0.1"]}),
        "warning",
        'invalid node name format "Bad_Name!"',
    ),
    ("kubelet-ok", KubeletVersion("v1.20.2"), _kubelet("v1.20.2"), "pass", ""),
    (
        "kubelet-missing",
        KubeletVersion("v1.20.2"),
        lambda p: p.commands.pop("kubelet"),
        "error",
        "couldn't get kubelet version",
    ),
    ("kubelet-too-old", KubeletVersion(""), _kubelet("v1.2.0"), "error", "is lower than kubeadm can support"),
    (
        "kubelet-newer-than-cp",
        KubeletVersion("v1.20.2"),
        _kubelet("v1.21.0"),
        "error",
        "the kubelet version is higher than the control plane version",
    ),
    ("service-enabled", Service("kubelet"), _systemd_unit(True), "pass", ""),
    (
        "service-disabled",
        Service("kubelet"),
        _systemd_unit(False),
        "warning",
        "kubelet service is not enabled, please run 'systemctl enable kubelet.service'",
    ),
    (
        "service-missing",
        Service("kubelet"),
        _noop,
        "warning",
        "kubelet service does not exist: install the kubelet and kubeadm packages, or write the unit and "
        "kubeadm's drop-in with 'kubeadm-py kubelet install-unit'",
    ),
    (
        "service-without-kubeadm-dropin",
        Service("kubelet"),
        lambda p: (
            _systemd_unit(True)(p),
            p.node_files.pop("/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"),
        ),
        "warning",
        "the kubelet service has no kubeadm drop-in (kubelet.service.d/10-kubeadm.conf)",
    ),
    (
        "service-no-systemd",
        Service("kubelet"),
        lambda p: (_systemd_unit(True)(p), _set(init="tini")(p)),
        "warning",
        "PID 1 is 'tini', not systemd",
    ),
    ("cri-ok", CRI("unix:///run/containerd/containerd.sock"), _noop, "pass", ""),
    (
        "cri-down",
        CRI("unix:///run/containerd/containerd.sock"),
        _set(cri=CriStatus(False, "container runtime is not running: connection refused", "status-call")),
        "error",
        "container runtime is not running",
    ),
    (
        "cri-handshake-only",
        CRI("/run/containerd/containerd.sock"),
        _set(cri=CriStatus(True, "answers HTTP/2", "http2-handshake")),
        "warning",
        "install crictl",
    ),
    (
        "cri-multiple",
        CRI(""),
        lambda p: p.kernel_files.update(
            {"/var/run/containerd/containerd.sock": b"", "/var/run/crio/crio.sock": b""}
        ),
        "error",
        "found multiple CRI endpoints on the host",
    ),
    ("http-proxy-none", HTTPProxy("10.0.0.10"), _noop, "pass", ""),
    (
        "http-proxy-used",
        HTTPProxy("10.0.0.10"),
        _set(env={"HTTPS_PROXY": "proxy:3128"}),
        "warning",
        'Connection to "https://10.0.0.10" uses proxy "http://proxy:3128"',
    ),
    (
        "http-proxy-no-proxy-cidr",
        HTTPProxy("10.0.0.10"),
        _set(env={"https_proxy": "http://proxy:3128", "no_proxy": "10.0.0.0/8"}),
        "pass",
        "",
    ),
    (
        "proxy-cidr-used",
        HTTPProxyCIDR("10.96.0.0/12"),
        _set(env={"HTTPS_PROXY": "http://p:1"}),
        "warning",
        'connection to "10.96.0.0/12" uses proxy "http://p:1"',
    ),
    (
        "proxy-cidr-excluded",
        HTTPProxyCIDR("10.96.0.0/12"),
        _set(env={"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost,10.96.0.0/12"}),
        "pass",
        "",
    ),
    ("proxy-cidr-bad", HTTPProxyCIDR("10.96.0.0/99"), _noop, "error", 'error parsing CIDR "10.96.0.0/99"'),
    ("file-available", FileAvailable("/etc/kubernetes/kubelet.conf"), _noop, "pass", ""),
    (
        "file-exists",
        FileAvailable("/etc/kubernetes/kubelet.conf"),
        _node("/etc/kubernetes/kubelet.conf"),
        "error",
        "/etc/kubernetes/kubelet.conf already exists",
    ),
    ("dir-absent", DirAvailable("/var/lib/etcd"), _noop, "pass", ""),
    ("dir-empty", DirAvailable("/var/lib/etcd"), lambda p: p.node_dirs.add("/var/lib/etcd"), "pass", ""),
    (
        "dir-not-empty",
        DirAvailable("/var/lib/etcd"),
        _node("/var/lib/etcd/member/snap/db"),
        "error",
        "/var/lib/etcd is not empty",
    ),
    (
        "cert-present",
        FileExisting("/etc/etcd/ca.crt", "ExternalEtcdClientCertificates"),
        _node("/etc/etcd/ca.crt"),
        "pass",
        "",
    ),
    (
        "cert-missing",
        FileExisting("/etc/etcd/ca.crt", "ExternalEtcdClientCertificates"),
        _noop,
        "error",
        "/etc/etcd/ca.crt doesn't exist",
    ),
    ("sysverify-ok", SystemVerification("v1.32.0"), _noop, "pass", ""),
    (
        "sysverify-cgroup-v1",
        SystemVerification("v1.32.0"),
        _cgroup_v1,
        "warning",
        "cgroups v1 support is in maintenance mode",
    ),
    ("sysverify-cgroup-v1-before-1.31", SystemVerification("v1.20.2"), _cgroup_v1, "pass", ""),
    (
        "sysverify-old-kernel-1.32",
        SystemVerification("v1.32.0"),
        _release("4.18.0-553.el8"),
        "error",
        "kernel release 4.18.0-553.el8 is unsupported. Recommended LTS version from the 4.x series is 4.19",
    ),
    (
        "sysverify-old-kernel-1.34",
        SystemVerification("v1.34.0"),
        _release("4.18.0-553.el8"),
        "warning",
        "kernel release 4.18.0-553.el8 is unsupported. Supported LTS versions from the 5.x series",
    ),
    (
        "sysverify-old-kernel-1.20",
        SystemVerification("v1.20.2"),
        _release("3.2.0"),
        "error",
        "unsupported kernel release: 3.2.0",
    ),
    (
        "sysverify-missing-config-option",
        SystemVerification("v1.32.0"),
        _kernel(
            "/boot/config-6.8.0-generic", KERNEL_CONFIG.replace("CONFIG_MEMCG=y", "CONFIG_MEMCG=n").encode()
        ),
        "error",
        "unexpected kernel config: CONFIG_MEMCG",
    ),
    (
        "sysverify-no-config",
        SystemVerification("v1.32.0"),
        _kernel("/boot/config-6.8.0-generic", None),
        "error",
        "failed to parse kernel config",
    ),
    (
        "sysverify-proc-config-gz",
        SystemVerification("v1.32.0"),
        lambda p: p.kernel_files.update(
            {"/proc/config.gz": gzip.compress(KERNEL_CONFIG.encode()), "/boot/config-6.8.0-generic": b""}
        ),
        "pass",
        "",
    ),
    (
        "sysverify-missing-cgroup",
        SystemVerification("v1.32.0"),
        _kernel("/sys/fs/cgroup/cgroup.controllers", b"cpuset cpu io memory hugetlb\n"),
        "error",
        "missing required cgroups: pids",
    ),
    (
        "sysverify-missing-optional-cgroup",
        SystemVerification("v1.32.0"),
        _kernel("/sys/fs/cgroup/cgroup.controllers", b"cpuset cpu memory pids\n"),
        "warning",
        "missing optional cgroups: hugetlb io",
    ),
    (
        "sysverify-not-linux",
        SystemVerification("v1.32.0"),
        _set(os="Darwin"),
        "error",
        "unsupported operating system: Darwin",
    ),
    ("etcd-ok", ETCD, _etcd("3.5.24"), "pass", ""),
    ("etcd-too-old", ETCD, _etcd("3.4.13"), "error", "only supports external etcd version >= 3.5.24-0"),
    ("etcd-unreachable", ETCD, _etcd(None), "error", "connection refused"),
    ("etcd-5xx", ETCD, _etcd("3.5.24", status=503), "error", "non-successful status: 503"),
]


@pytest.mark.parametrize(
    ("check", "setup", "expected", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check_outcome(check: Check, setup: Setup, expected: str, message: str) -> None:
    probe = FakeProbe()
    setup(probe)
    warnings, errors = check.run(probe)
    outcome = "error" if errors else "warning" if warnings else "pass"
    assert outcome == expected, (warnings, errors)
    if message:
        assert any(message in m for m in errors + warnings), (warnings, errors)


def test_every_check_class_has_pass_warning_or_error_cases() -> None:
    """Each check type appears with a passing case and a failing case in the table."""
    by_type: dict[str, set[str]] = {}
    for _, check, _, expected, _ in CASES:
        by_type.setdefault(type(check).__name__, set()).add(expected)
    for name, outcomes in by_type.items():
        assert "pass" in outcomes, name
        assert outcomes - {"pass"}, name


def test_names_match_upstream() -> None:
    assert Port(6443).name == "Port-6443"
    assert (
        FileAvailable("/etc/kubernetes/manifests/etcd.yaml").name
        == "FileAvailable--etc-kubernetes-manifests-etcd.yaml"
    )
    assert DirAvailable("/var/lib/etcd").name == "DirAvailable--var-lib-etcd"
    assert FileContent("/proc/sys/net/ipv4/ip_forward").name == "FileContent--proc-sys-net-ipv4-ip_forward"
    assert InPath("conntrack").name == "FileExisting-conntrack"
    assert Service("kubelet").name == "Service-Kubelet"
    assert FileExisting("/x", "ExternalEtcdClientCertificates").name == "ExternalEtcdClientCertificates"


def test_etcd_retries_then_succeeds() -> None:
    probe = FakeProbe()
    calls = {"n": 0}
    body = json.dumps({"etcdserver": "3.5.24"}).encode()

    def flaky(url: str, **kw: Any) -> HttpResponse:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionRefusedError("connection refused")
        return HttpResponse(200, body)

    probe.http_get = flaky  # type: ignore[method-assign]
    slept: list[float] = []
    check = ExternalEtcdVersion(
        ("https://e:2379",), kubernetes_version="v1.34.0", retries=3, interval=5.0, sleep=slept.append
    )
    assert check.run(probe) == ([], [])
    assert calls["n"] == 3 and slept == [5.0, 5.0]
