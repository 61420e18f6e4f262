"""Host checks: user, CPUs, memory, ports, executables, swap, sysctls, hostname, versions,
init system, firewalld, container runtime and proxies. Names and messages follow kubeadm's
``preflight/checks.go`` and ``checks_linux.go``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar

from kubeadm_py.constants import SYSTEMD_UNIT_DIRS
from kubeadm_py.host.cri import DEFAULT_CRI_SOCKET, KNOWN_CRI_SOCKETS, socket_path
from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.kubelet import unit as kubelet_unit
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.preflight.proxy import proxy_for
from kubeadm_py.semver import Version, VersionError
from kubeadm_py.versions import kubeadm_version, minimum_kubelet_version


def path_label(prefix: str, path: str) -> str:
    """kubeadm's check names for paths: ``FileAvailable-`` + path with ``/`` replaced by ``-``."""
    return f"{prefix}-{path.replace('/', '-')}"


@dataclass(frozen=True)
class IsPrivilegedUser:
    name: ClassVar[str] = "IsPrivilegedUser"
    severity: ClassVar[Severity] = "error"
    what: ClassVar[str] = "running as root"
    fix: ClassVar[str] = "run the command as root (sudo)"

    def run(self, probe: SystemProbe) -> Findings:
        if probe.euid() != 0:
            return [], ["user is not running as root"]
        return [], []


@dataclass(frozen=True)
class NumCPU:
    minimum: int = 2
    name: ClassVar[str] = "NumCPU"
    severity: ClassVar[Severity] = "error"
    fix: ClassVar[str] = "give the machine at least 2 CPUs (a control-plane node needs them)"

    @property
    def what(self) -> str:
        return f"at least {self.minimum} CPUs"

    def run(self, probe: SystemProbe) -> Findings:
        n = probe.cpu_count()
        if n < self.minimum:
            return [], [f"the number of available CPUs {n} is less than the required {self.minimum}"]
        return [], []


@dataclass(frozen=True)
class Mem:
    minimum_mb: int = 1700
    name: ClassVar[str] = "Mem"
    severity: ClassVar[Severity] = "error"
    fix: ClassVar[str] = "give the machine at least 1700 MB of RAM"

    @property
    def what(self) -> str:
        return f"at least {self.minimum_mb} MB RAM"

    def run(self, probe: SystemProbe) -> Findings:
        mb = probe.memory_bytes() // 1024 // 1024
        if mb < self.minimum_mb:
            return [], [f"the system RAM ({mb} MB) is less than the minimum {self.minimum_mb} MB"]
        return [], []


@dataclass(frozen=True)
class KubernetesVersion:
    """The target version must not be newer than the kubeadm (here: kubeadm-py) minor."""

    kubernetes_version: str
    name: ClassVar[str] = "KubernetesVersion"
    severity: ClassVar[Severity] = "warning"
    fix: ClassVar[str] = (
        "use a kubeadm-py release that supports this Kubernetes version, or lower kubernetesVersion"
    )

    @property
    def what(self) -> str:
        return f"Kubernetes {self.kubernetes_version} is supported by kubeadm-py {kubeadm_version()}"

    def run(self, probe: SystemProbe) -> Findings:
        kadm = kubeadm_version()
        try:
            k8s = Version.parse(self.kubernetes_version)
        except VersionError:
            return [], [f'couldn\'t parse Kubernetes version "{self.kubernetes_version}"']
        first_unsupported = Version(kadm.major, kadm.minor + 1, 0, "0")
        if first_unsupported <= k8s:
            return [
                f"Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. "
                f"Kubernetes version: {k8s}. Kubeadm version: {kadm.major}.{kadm.minor}.x"
            ], []
        return [], []


@dataclass(frozen=True)
class Firewalld:
    ports: tuple[int, ...]
    name: ClassVar[str] = "Firewalld"
    severity: ClassVar[Severity] = "warning"
    what: ClassVar[str] = "firewalld is not running"

    @property
    def fix(self) -> str:
        return (
            "open the ports: "
            + " && ".join(f"firewall-cmd --permanent --add-port={p}/tcp" for p in self.ports)
            + " && firewall-cmd --reload"
        )

    def run(self, probe: SystemProbe) -> Findings:
        # Active = a firewalld process runs (psutil), whatever the init system.
        if probe.process_running("firewalld"):
            ports = " ".join(str(p) for p in self.ports)
            return [
                f"firewalld is active, please ensure ports [{ports}] are open or your cluster may not "
                "function correctly"
            ], []
        return [], []


@dataclass(frozen=True)
class Port:
    port: int
    severity: ClassVar[Severity] = "error"

    @property
    def name(self) -> str:
        return f"Port-{self.port}"

    @property
    def what(self) -> str:
        return f"port {self.port} is free"

    @property
    def fix(self) -> str:
        return (
            f"stop what listens on port {self.port} (ss -ltnp 'sport = :{self.port}'), "
            "or run kubeadm-py reset"
        )

    def run(self, probe: SystemProbe) -> Findings:
        free, reason = probe.port_free(self.port)
        if free:
            return [], []
        if "in use" in reason:
            holder = probe.port_holder(self.port)
            return [], [f"Port {self.port} is in use" + (f" by {holder}" if holder else "")]
        return [], [f"Port {self.port} cannot be opened: {reason}"]


@dataclass(frozen=True)
class InPath:
    executable: str
    mandatory: bool = True
    suggestion: str = ""

    @property
    def name(self) -> str:
        return path_label("FileExisting", self.executable)

    @property
    def severity(self) -> Severity:
        return "error" if self.mandatory else "warning"

    @property
    def what(self) -> str:
        return f"{self.executable} is in PATH"

    @property
    def fix(self) -> str:
        return self.suggestion or f"install the package that provides {self.executable}"

    def run(self, probe: SystemProbe) -> Findings:
        if probe.which(self.executable):
            return [], []
        msg = f"{self.executable} not found in system path"
        return ([], [msg]) if self.mandatory else ([msg], [])


# Packages providing the tools on Debian/Ubuntu and RHEL-like systems (for the fix column).
TOOL_PACKAGES = {
    "conntrack": "conntrack / conntrack-tools",
    "ip": "iproute2 / iproute",
    "iptables": "iptables",
    "mount": "mount / util-linux",
    "nsenter": "util-linux",
    "ebtables": "ebtables",
    "ethtool": "ethtool",
    "socat": "socat",
    "tc": "iproute2 / iproute-tc",
    "touch": "coreutils",
}


def tool_check(exe: str, mandatory: bool) -> InPath:
    return InPath(exe, mandatory, f"install {TOOL_PACKAGES[exe]}" if exe in TOOL_PACKAGES else "")


@dataclass(frozen=True)
class Swap:
    name: ClassVar[str] = "Swap"
    severity: ClassVar[Severity] = "warning"
    what: ClassVar[str] = "no active swap (/proc/swaps)"
    fix: ClassVar[str] = (
        "swapoff -a and remove swap entries from /etc/fstab, or configure the kubelet for swap "
        "(failSwapOn: false, memorySwap) on cgroup v2"
    )

    def run(self, probe: SystemProbe) -> Findings:
        data = probe.kernel_read("/proc/swaps")
        if data is None:
            return [], []
        lines = [ln for ln in data.decode(errors="replace").splitlines() if ln.strip()]
        if len(lines) > 1:
            return [
                "swap is supported for cgroup v2 only. The kubelet must be properly configured to use swap. "
                "Please refer to https://kubernetes.io/docs/concepts/architecture/nodes/#swap-memory, "
                "or disable swap on the node"
            ], []
        return [], []


# sysctl files and how to set them persistently.
SYSCTL_FIX = {
    "/proc/sys/net/ipv4/ip_forward": "net.ipv4.ip_forward",
    "/proc/sys/net/ipv6/conf/default/forwarding": "net.ipv6.conf.default.forwarding",
    "/proc/sys/net/bridge/bridge-nf-call-iptables": "net.bridge.bridge-nf-call-iptables",
    "/proc/sys/net/bridge/bridge-nf-call-ip6tables": "net.bridge.bridge-nf-call-ip6tables",
}


@dataclass(frozen=True)
class FileContent:
    """A kernel file (sysctl) starts with ``content``."""

    path: str
    content: str = "1"
    severity: ClassVar[Severity] = "error"

    @property
    def name(self) -> str:
        return path_label("FileContent", self.path)

    @property
    def what(self) -> str:
        return f"{self.path} is {self.content}"

    @property
    def fix(self) -> str:
        key = SYSCTL_FIX.get(self.path)
        if key is None:
            return f"set {self.path} to {self.content}"
        pre = "modprobe br_netfilter; " if "bridge" in key else ""
        return (
            f"{pre}sysctl -w {key}={self.content} and persist it: "
            f"echo '{key} = {self.content}' >> /etc/sysctl.d/k8s.conf"
        )

    def run(self, probe: SystemProbe) -> Findings:
        data = probe.kernel_read(self.path)
        if data is None:
            return [], [f"{self.path} does not exist"]
        want = self.content.encode()
        if data[: len(want)] != want:
            return [], [f"{self.path} contents are not set to {self.content}"]
        return [], []


_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def qualified_name_errors(value: str) -> list[str]:
    """apimachinery ``validation.IsQualifiedName``: ``[prefix/]name``."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix):
            errs.append("prefix part must be a lowercase RFC 1123 subdomain")
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
            "end with an alphanumeric character with an optional DNS subdomain prefix and '/'"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errs.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')"
        )
    return errs


@dataclass(frozen=True)
class Hostname:
    node_name: str
    name: ClassVar[str] = "Hostname"
    severity: ClassVar[Severity] = "warning"

    @property
    def what(self) -> str:
        if not self.node_name:
            return "the hostname is a valid node name and resolves"
        return f'node name "{self.node_name}" is valid and resolves'

    @property
    def fix(self) -> str:
        return (
            f"add {self.node_name or 'the hostname'} to /etc/hosts or DNS, or set nodeRegistration.name / "
            "--node-name to a resolvable lowercase DNS name"
        )

    def run(self, probe: SystemProbe) -> Findings:
        node = self.node_name or probe.hostname().lower()  # kubeadm's default node name
        warnings = [f'invalid node name format "{node}": {m}' for m in qualified_name_errors(node)]
        addrs, err = probe.resolve(node)
        if not addrs:
            warnings.append(f'hostname "{node}" could not be reached')
        if err:
            warnings.append(f'hostname "{node}": {err}')
        return warnings, []


@dataclass(frozen=True)
class KubeletVersion:
    """``kubelet --version`` is at least kubeadm's minimum and (init) not newer than the control plane."""

    kubernetes_version: str = ""
    name: ClassVar[str] = "KubeletVersion"
    severity: ClassVar[Severity] = "error"

    @property
    def what(self) -> str:
        cp = f", not newer than {self.kubernetes_version}" if self.kubernetes_version else ""
        return f"kubelet at least {minimum_kubelet_version(self.kubernetes_version).tag}{cp}"

    @property
    def fix(self) -> str:
        target = self.kubernetes_version or "the cluster's version"
        return f"install the kubelet of {target} (same minor as the control plane, or up to 3 minors older)"

    def run(self, probe: SystemProbe) -> Findings:
        r = probe.run(["kubelet", "--version"], 10.0)
        kubelet = Version.search(r.stdout) if r.returncode == 0 else None
        if kubelet is None:
            why = (r.stderr or r.stdout).strip() or f"exit status {r.returncode}"
            return [], [f"couldn't get kubelet version: {why}"]
        minimum = minimum_kubelet_version(self.kubernetes_version)
        if kubelet < minimum:
            return [], [
                f'Kubelet version "{kubelet.tag}" is lower than kubeadm can support. Please upgrade kubelet'
            ]
        if self.kubernetes_version:
            try:
                k8s = Version.parse(self.kubernetes_version)
            except VersionError:
                return [], [f'couldn\'t parse Kubernetes version "{self.kubernetes_version}"']
            if kubelet.major > k8s.major or kubelet.minor > k8s.minor:
                return [], [
                    "the kubelet version is higher than the control plane version. This is not a supported "
                    f'version skew and may lead to a malfunctional cluster. Kubelet version: "{kubelet.tag}" '
                    f'Control plane version: "{k8s.tag}"'
                ]
        return [], []




INSTALL_UNIT_HINT = (
    "install the kubelet and kubeadm packages, or write the unit and kubeadm's drop-in with "
    "'kubeadm-py kubelet install-unit'"
)


@dataclass(frozen=True)
class Service:
    """A systemd unit exists and is enabled, read from unit files and ``*.wants`` links (node
    files, so ``--rootfs`` images can be checked). Without systemd as PID 1 it can only warn."""

    service: str = "kubelet"
    severity: ClassVar[Severity] = "warning"

    @property
    def name(self) -> str:
        return f"Service-{self.service.title()}"

    @property
    def what(self) -> str:
        return f"{self.service}.service exists and is enabled"

    @property
    def fix(self) -> str:
        return f"install the {self.service} package and run 'systemctl enable {self.service}.service'"

    def run(self, probe: SystemProbe) -> Findings:
        unit = f"{self.service}.service"
        init = probe.init_process()
        warnings: list[str] = []
        if init != "systemd":
            warnings.append(
                f"PID 1 is {init or 'unknown'!r}, not systemd: the {self.service} service cannot be "
                f"managed with systemctl; make sure your init system starts the {self.service}"
            )
        found = [d for d in SYSTEMD_UNIT_DIRS if probe.node_exists(f"{d}/{unit}")]
        if not found:
            hint = f": {INSTALL_UNIT_HINT}" if self.service == "kubelet" else ""
            warnings.append(f"{self.service} service does not exist{hint}")
            return warnings, []
        if self.service == "kubelet" and kubelet_unit.find(probe.node_exists).dropin is None:
            warnings.append(
                f"the kubelet service has no kubeadm drop-in ({kubelet_unit.DROPIN}): the kubelet would "
                f"start without kubeadm's flags and configuration; {INSTALL_UNIT_HINT}"
            )
        if not self._enabled(probe, unit):
            warnings.append(f"{self.service} service is not enabled, please run 'systemctl enable {unit}'")
        return warnings, []

    @staticmethod
    def _enabled(probe: SystemProbe, unit: str) -> bool:
        for base in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"):
            for d in probe.node_listdir(base):
                if (d.endswith(".wants") or d.endswith(".requires")) and probe.node_exists(
                    f"{base}/{d}/{unit}"
                ):
                    return True
        return False


@dataclass(frozen=True)
class CRI:
    """The container runtime answers on its CRI socket (see :mod:`kubeadm_py.host.cri` for depth)."""

    cri_socket: str = ""
    name: ClassVar[str] = "CRI"
    severity: ClassVar[Severity] = "error"

    @property
    def what(self) -> str:
        return f"container runtime answers on {self.cri_socket or 'its CRI socket'}"

    @property
    def fix(self) -> str:
        return (
            "install and start a CRI runtime (e.g. systemctl enable --now containerd) or set "
            "nodeRegistration.criSocket / --cri-socket to its socket"
        )

    def endpoint(self, probe: SystemProbe) -> tuple[str, str | None]:
        if self.cri_socket:
            return self.cri_socket, None
        found = [s for s in KNOWN_CRI_SOCKETS if probe.kernel_exists(socket_path(s))]
        if len(found) > 1:
            return "", (
                "found multiple CRI endpoints on the host. Please define which one do you wish to use by "
                "setting the 'criSocket' field in the kubeadm configuration file: " + ", ".join(found)
            )
        return (found[0] if found else DEFAULT_CRI_SOCKET), None

    def run(self, probe: SystemProbe) -> Findings:
        endpoint, err = self.endpoint(probe)
        if err:
            return [], [err]
        st = probe.cri_status(endpoint)
        if not st.ok:
            return [], [st.message]
        if st.depth != "status-call":
            return [f"{st.message} (install crictl for a full CRI status check)"], []
        return [], []


@dataclass(frozen=True)
class HTTPProxy:
    host: str
    proto: str = "https"
    name: ClassVar[str] = "HTTPProxy"
    severity: ClassVar[Severity] = "warning"

    @property
    def what(self) -> str:
        if not self.host:
            return "no address configured to check"
        return f"{self.proto}://{self.host} is reached directly (no proxy)"

    @property
    def fix(self) -> str:
        return f"add {self.host} to NO_PROXY (and no_proxy)"

    def run(self, probe: SystemProbe) -> Findings:
        if not self.host:
            return [], []
        url = f"{self.proto}://[{self.host}]:1234" if ":" in self.host else f"{self.proto}://{self.host}"
        proxy = proxy_for(self.proto, self.host, probe.environ(), "1234" if ":" in self.host else "")
        if proxy:
            return [
                f'Connection to "{url}" uses proxy "{proxy}". If that is not intended, adjust your proxy '
                "settings"
            ], []
        return [], []


@dataclass(frozen=True)
class HTTPProxyCIDR:
    cidr: str
    proto: str = "https"
    name: ClassVar[str] = "HTTPProxyCIDR"
    severity: ClassVar[Severity] = "warning"

    @property
    def what(self) -> str:
        return f"{self.cidr} is reached directly (no proxy)"

    @property
    def fix(self) -> str:
        return f"add {self.cidr} to NO_PROXY (and no_proxy)"

    def run(self, probe: SystemProbe) -> Findings:
        if not self.cidr:
            return [], []
        try:
            net = ipaddress.ip_network(self.cidr.strip(), strict=False)
        except ValueError as e:
            return [], [f'error parsing CIDR "{self.cidr}": {e}']
        if net.num_addresses < 2:
            return [], [f"unable to get first IP address from the given CIDR ({net})"]
        first = net.network_address + 1
        proxy = proxy_for(self.proto, str(first), probe.environ(), "1234")
        if proxy:
            return [
                f'connection to "{self.cidr}" uses proxy "{proxy}". This may lead to malfunctional cluster '
                "setup. Make sure that Pod and Services IP ranges specified correctly as exceptions in proxy "
                "configuration"
            ], []
        return [], []
