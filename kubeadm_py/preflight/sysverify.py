"""``SystemVerification``: kubeadm's system validators (``k8s.io/system-validators``) for the
kernel release, the kernel config, the OS and the cgroup controllers.

The requirements changed over time; they are kept as a table keyed by the first Kubernetes
minor that used them, and chosen by the *target* Kubernetes version (the kubeadm release that
deploys a version ships that version's validators).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from typing import ClassVar

from kubeadm_py.host.probe import SystemProbe
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.semver import major_minor


@dataclass(frozen=True)
class KernelSpec:
    since: tuple[int, int]  # first Kubernetes minor using this spec
    versions: tuple[str, ...]  # regexes over the kernel release
    note: str  # appended to the failure message ("" = old message form)
    severity: Severity  # of an unsupported kernel release
    cgroup_v1_warning: bool  # "cgroups v1 support is in maintenance mode"


KERNEL_SPECS: tuple[KernelSpec, ...] = (
    # system-validators < 1.9: 3.10+
    KernelSpec(
        (1, 0), (r"^3\.[1-9][0-9].*$", r"^([4-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$"), "", "error", False
    ),
    # cgroup v1 in maintenance mode (KEP-4569, Kubernetes 1.31)
    KernelSpec(
        (1, 31), (r"^3\.[1-9][0-9].*$", r"^([4-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$"), "", "error", True
    ),
    # system-validators 1.9 (Kubernetes 1.32): 4.19 LTS or newer
    KernelSpec(
        (1, 32),
        (r"^4\.19.*$", r"^4\.[2-9][0-9].*$", r"^([5-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$"),
        "Recommended LTS version from the 4.x series is 4.19. Any 5.x or 6.x versions are also supported. "
        "For cgroups v2 support, the minimal version is 4.15 and the recommended version is 5.8+",
        "error",
        True,
    ),
    # system-validators 1.10.1 (Kubernetes 1.34): 5.4 LTS or newer, and only a warning
    KernelSpec(
        (1, 34),
        (r"^5\.4.*$", r"^5\.10.*$", r"^5\.15.*$", r"^([6-9]|[1-9][0-9]+)\.([0-9]+)\.([0-9]+).*$"),
        "Supported LTS versions from the 5.x series are 5.4, 5.10 and 5.15. "
        "Any 6.x version is also supported. For cgroups v2 support, the recommended version is 5.10 or newer",
        "warning",
        True,
    ),
)

KERNEL_REQUIRED = (
    ("NAMESPACES",),
    ("NET_NS",),
    ("PID_NS",),
    ("IPC_NS",),
    ("UTS_NS",),
    ("CGROUPS",),
    ("CGROUP_BPF",),
    ("CGROUP_CPUACCT",),
    ("CGROUP_DEVICE",),
    ("CGROUP_FREEZER",),
    ("CGROUP_PIDS",),
    ("CGROUP_SCHED",),
    ("CPUSETS",),
    ("MEMCG",),
    ("INET",),
    ("EXT4_FS",),
    ("PROC_FS",),
    ("NETFILTER_XT_TARGET_REDIRECT", "IP_NF_TARGET_REDIRECT"),
    ("NETFILTER_XT_MATCH_COMMENT",),
    ("FAIR_GROUP_SCHED",),
)
# Optional options only change the verification printout upstream (never a warning), so they are not checked.

CGROUPS_V1_REQUIRED = ("cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids")
CGROUPS_V1_OPTIONAL = ("hugetlb", "blkio")
CGROUPS_V2_REQUIRED = ("cpu", "cpuset", "devices", "freezer", "memory", "pids")
CGROUPS_V2_OPTIONAL = ("hugetlb", "io")

_CONFIG_LINE = re.compile(r"^CONFIG_[A-Z0-9_]+=[myn]")


def kernel_spec(kubernetes_version: str) -> KernelSpec:
    key = major_minor(kubernetes_version, KERNEL_SPECS[-1].since)
    chosen = KERNEL_SPECS[0]
    for spec in KERNEL_SPECS:
        if key >= spec.since:
            chosen = spec
    return chosen


def kernel_config_paths(release: str) -> list[str]:
    return [
        "/proc/config.gz",
        f"/boot/config-{release}",
        f"/usr/src/linux-{release}/.config",
        "/usr/src/linux/.config",
        f"/usr/lib/modules/{release}/config",
        f"/usr/lib/ostree-boot/config-{release}",
        f"/usr/lib/kernel/config-{release}",
        f"/usr/src/linux-headers-{release}/.config",
        f"/lib/modules/{release}/build/.config",
    ]


def read_kernel_config(probe: SystemProbe, release: str) -> dict[str, str] | None:
    for path in kernel_config_paths(release):
        data = probe.kernel_read(path)
        if data is None:
            continue
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        out: dict[str, str] = {}
        for line in data.decode(errors="replace").splitlines():
            line = line.strip()
            if _CONFIG_LINE.match(line):
                key, _, val = line.partition("=")
                out[key] = val[0]
        return out
    return None


def cgroup_version(probe: SystemProbe) -> int:
    """2 when /sys/fs/cgroup itself is a cgroup2 mount (the kubelet's and runc's definition);
    a hybrid host (v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified) counts as v1."""
    data = probe.kernel_read("/proc/self/mounts") or b""
    fstype = ""
    for line in data.decode(errors="replace").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "/sys/fs/cgroup":
            fstype = fields[2]  # the last mount on the path wins
    return 2 if fstype == "cgroup2" else 1


def cgroup_controllers(probe: SystemProbe, version: int) -> list[str] | None:
    if version == 1:
        data = probe.kernel_read("/proc/cgroups")
        if data is None:
            return None
        subs = []
        for line in data.decode(errors="replace").splitlines():
            parts = line.split()
            if parts and not parts[0].startswith("#") and len(parts) >= 4 and parts[3] != "0":
                subs.append(parts[0])
        return subs
    data = probe.kernel_read("/sys/fs/cgroup/cgroup.controllers")
    if data is None:
        return None
    subs = ["devices"]  # implicit in the kernel since 4.15
    freeze = any(
        probe.kernel_exists(f"/sys/fs/cgroup/{d}/cgroup.freeze")
        for d in ("init.scope", "system.slice", "user.slice")
    )
    if freeze:
        subs.append("freezer")
    return subs + data.decode(errors="replace").split()


@dataclass(frozen=True)
class SystemVerification:
    kubernetes_version: str
    name: ClassVar[str] = "SystemVerification"
    severity: ClassVar[Severity] = "error"
    what: ClassVar[str] = "kernel release and config, OS and cgroup controllers meet the requirements"
    fix: ClassVar[str] = (
        "upgrade the kernel to a supported LTS release, enable the missing kernel options and "
        "cgroup controllers, and prefer cgroup v2 (systemd.unified_cgroup_hierarchy=1)"
    )

    def run(self, probe: SystemProbe) -> Findings:
        warnings: list[str] = []
        errors: list[str] = []
        spec = kernel_spec(self.kubernetes_version)
        self._kernel(probe, spec, warnings, errors)
        if probe.os_name() != "Linux":
            errors.append(f"unsupported operating system: {probe.os_name()}")
        self._cgroups(probe, spec, warnings, errors)
        return warnings, errors

    @staticmethod
    def _kernel(probe: SystemProbe, spec: KernelSpec, warnings: list[str], errors: list[str]) -> None:
        release = probe.kernel_release()
        if not any(re.match(rx, release) for rx in spec.versions):
            msg = (
                f"kernel release {release} is unsupported. {spec.note}"
                if spec.note
                else f"unsupported kernel release: {release}"
            )
            (errors if spec.severity == "error" else warnings).append(msg)
        config = read_kernel_config(probe, release)
        if config is None:
            errors.append(
                "failed to parse kernel config: no config path in "
                f"[{' '.join(kernel_config_paths(release))}] is available"
            )
            return
        bad = []
        for names in KERNEL_REQUIRED:
            opt = next((config[f"CONFIG_{n}"] for n in names if f"CONFIG_{n}" in config), None)
            if opt not in ("y", "m"):
                bad.append(f"CONFIG_{names[0]}")
        if bad:
            errors.append(f"unexpected kernel config: {' '.join(bad)}")

    @staticmethod
    def _cgroups(probe: SystemProbe, spec: KernelSpec, warnings: list[str], errors: list[str]) -> None:
        version = cgroup_version(probe)
        if version == 1 and spec.cgroup_v1_warning:
            warnings.append("cgroups v1 support is in maintenance mode, please migrate to cgroups v2")
        subs = cgroup_controllers(probe, version)
        if subs is None:
            errors.append(f"failed to get cgroups v{version} subsystems")
            return
        required, optional = (
            (CGROUPS_V1_REQUIRED, CGROUPS_V1_OPTIONAL)
            if version == 1
            else (CGROUPS_V2_REQUIRED, CGROUPS_V2_OPTIONAL)
        )
        missing = [c for c in required if c not in subs]
        if missing:
            errors.append(f"missing required cgroups: {' '.join(missing)}")
        missing_opt = [c for c in optional if c not in subs]
        if missing_opt:
            warnings.append(f"missing optional cgroups: {' '.join(missing_opt)}")
