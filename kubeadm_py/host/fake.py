"""An in-memory :class:`~kubeadm_py.host.probe.SystemProbe` for tests: every answer is a field.

The defaults describe a healthy control-plane host (root, 4 CPUs, 8 GiB, systemd, containerd
answering, all tools in PATH, forwarding on, cgroup v2, kernel 6.8 with a full config)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubeadm_py.changes import Change
from kubeadm_py.host.cri import ContainerInfo, CriStatus, Pulled, Sandbox
from kubeadm_py.host.probe import CommandResult, HttpResponse

TOOLS = (
    "conntrack",
    "ip",
    "iptables",
    "mount",
    "nsenter",
    "ebtables",
    "ethtool",
    "socat",
    "tc",
    "touch",
    "crictl",
    "kubelet",
)

KERNEL_CONFIG = (
    "\n".join(
        f"CONFIG_{n}=y"
        for n in [
            "NAMESPACES", "NET_NS", "PID_NS", "IPC_NS", "UTS_NS", "CGROUPS", "CGROUP_BPF", "CGROUP_CPUACCT",
            "CGROUP_DEVICE", "CGROUP_FREEZER", "CGROUP_PIDS", "CGROUP_SCHED", "CPUSETS", "MEMCG", "INET",
            "EXT4_FS", "PROC_FS", "NETFILTER_XT_TARGET_REDIRECT", "NETFILTER_XT_MATCH_COMMENT",
            "FAIR_GROUP_SCHED", "OVERLAY_FS", "BLK_DEV_DM", "CFS_BANDWIDTH", "CGROUP_HUGETLB", "SECCOMP",
            "SECCOMP_FILTER",
        ]
    )
    + "\n# CONFIG_AUFS_FS is not set\n"
)


def _default_kernel_files() -> dict[str, bytes]:
    return {
        "/proc/sys/net/ipv4/ip_forward": b"1\n",
        "/proc/sys/net/ipv6/conf/default/forwarding": b"1\n",
        "/proc/sys/net/bridge/bridge-nf-call-iptables": b"1\n",
        "/proc/sys/net/bridge/bridge-nf-call-ip6tables": b"1\n",
        "/proc/swaps": b"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
        "/proc/self/mounts": b"sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n",
        "/sys/fs/cgroup/cgroup.controllers": b"cpuset cpu io memory hugetlb pids rdma misc\n",
        "/sys/fs/cgroup/init.scope/cgroup.freeze": b"0\n",
        "/boot/config-6.8.0-generic": KERNEL_CONFIG.encode(),
        "/proc/cgroups": b"#subsys_name\thierarchy\tnum_cgroups\tenabled\n",
    }


@dataclass
class FakeProbe:
    uid: int = 0
    cpus: int = 4
    memory: int = 8 * 1024**3
    host: str = "node-1"
    release: str = "6.8.0-generic"
    os: str = "Linux"
    env: dict[str, str] = field(default_factory=dict)
    node_files: dict[str, bytes] = field(default_factory=dict)
    node_dirs: set[str] = field(default_factory=set)
    kernel_files: dict[str, bytes] = field(default_factory=_default_kernel_files)
    ports_in_use: dict[int, str] = field(default_factory=dict)  # port -> holder description
    executables: dict[str, str] = field(default_factory=lambda: {t: f"/usr/bin/{t}" for t in TOOLS})
    commands: dict[str, CommandResult] = field(
        default_factory=lambda: {"kubelet": CommandResult(0, "Kubernetes v1.20.2\n", "")}
    )
    addresses: dict[str, list[str]] = field(default_factory=lambda: {"node-1": ["10.0.0.10"]})
    init: str = "systemd"
    processes: set[str] = field(default_factory=set)
    cri: CriStatus = field(default_factory=lambda: CriStatus(True, "RuntimeReady", "status-call"))
    http: dict[str, HttpResponse | Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # CRI ImageService (the ImagePull check): images the runtime has (None: every image), pull
    # failures by image, the runtime's sandbox image, and whether the runtime answers at all.
    images: set[str] | None = None
    pull_errors: dict[str, str] = field(default_factory=dict)
    runtime_sandbox_image: str = ""
    cri_unreachable: str = ""

    def image_service(self, endpoint: str) -> FakeImageService:
        """A container runtime on ``endpoint`` (a CRI factory: ``Hooks(cri=probe.image_service)``)."""
        self.calls.append(f"images {endpoint}")
        return FakeImageService(self, endpoint)

    def euid(self) -> int:
        return self.uid

    def cpu_count(self) -> int:
        return self.cpus

    def memory_bytes(self) -> int:
        return self.memory

    def hostname(self) -> str:
        return self.host

    def kernel_release(self) -> str:
        return self.release

    def os_name(self) -> str:
        return self.os

    def environ(self) -> Mapping[str, str]:
        return self.env

    # node files
    def _all_dirs(self) -> set[str]:
        dirs = set(self.node_dirs)
        for p in self.node_files:
            d = posixpath.dirname(p)
            while d not in ("", "/"):
                dirs.add(d)
                d = posixpath.dirname(d)
        return dirs

    def node_exists(self, path: str) -> bool:
        return path in self.node_files or path in self._all_dirs()

    def node_is_dir(self, path: str) -> bool:
        return path in self._all_dirs()

    def node_listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        names = {
            p[len(prefix) :].split("/")[0]
            for p in (*self.node_files, *self._all_dirs())
            if p.startswith(prefix)
        }
        return sorted(n for n in names if n)

    def node_read(self, path: str) -> bytes | None:
        return self.node_files.get(path)

    def kernel_read(self, path: str) -> bytes | None:
        return self.kernel_files.get(path)

    def kernel_exists(self, path: str) -> bool:
        return path in self.kernel_files

    def port_free(self, port: int) -> tuple[bool, str]:
        if port in self.ports_in_use:
            return False, "address already in use"
        return True, f"listened on :::{port}"

    def port_holder(self, port: int) -> str | None:
        return self.ports_in_use.get(port) or None

    def which(self, executable: str) -> str | None:
        return self.executables.get(executable)

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        self.calls.append(" ".join(argv))
        name = posixpath.basename(argv[0])
        return self.commands.get(name, CommandResult(127, "", f"{name}: executable file not found"))

    def resolve(self, name: str) -> tuple[list[str], str | None]:
        if name in self.addresses:
            return list(self.addresses[name]), None
        return [], f"lookup {name}: no such host"

    def init_process(self) -> str:
        return self.init

    def process_running(self, name: str) -> bool:
        return name in self.processes

    def cri_status(self, endpoint: str) -> CriStatus:
        self.calls.append(f"cri {endpoint}")
        return self.cri

    def http_get(
        self, url: str, *, ca_file: str = "", cert_file: str = "", key_file: str = "", timeout: float = 10.0
    ) -> HttpResponse:
        self.calls.append(f"GET {url}")
        r = self.http.get(url)
        if r is None:
            raise ConnectionRefusedError(f"connect {url}: connection refused")
        if isinstance(r, Exception):
            raise r
        return r


class FakeImageService:
    """The container runtime of a :class:`FakeProbe` (the CRI effector's interface, images only: no
    pod sandboxes, no containers); records ``status <image>`` and ``pull <image>`` in
    ``probe.calls``; a successful pull adds the image to ``probe.images``."""

    def __init__(self, probe: FakeProbe, endpoint: str = "") -> None:
        self.probe = probe
        self.endpoint = endpoint

    def close(self) -> None:
        return None

    def list_sandboxes(self) -> list[Sandbox]:
        self._reachable()
        return []

    def remove_sandbox(self, sandbox: Sandbox) -> Change:
        raise AssertionError(f"no sandbox {sandbox.id} to remove")

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        self._reachable()
        return []

    def container_status(self, container_id: str) -> ContainerInfo:
        raise AssertionError(f"no container {container_id}")

    def _reachable(self) -> None:
        if self.probe.cri_unreachable:
            raise ConnectionError(self.probe.cri_unreachable)

    def sandbox_image(self) -> str:
        self._reachable()
        return self.probe.runtime_sandbox_image

    def image_present(self, image: str) -> bool:
        self._reachable()
        self.probe.calls.append(f"status {image}")
        return self.probe.images is None or image in self.probe.images

    def pull_image(self, image: str, timeout: float | None = None) -> Pulled:
        self._reachable()
        self.probe.calls.append(f"pull {image}")
        if image in self.probe.pull_errors:
            raise RuntimeError(self.probe.pull_errors[image])
        if self.probe.images is not None:
            self.probe.images.add(image)
        return Pulled(image, "sha256:" + format(abs(hash(image)), "x"))
