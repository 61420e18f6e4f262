"""A test-bed node: real kubelet + containerd + runc in private namespaces.

A :class:`Node` owns a keeper process (PID 1 of a new PID namespace, with its
own mount and UTS namespaces and, when attached to a :class:`Network`, its own
network namespace). Inside its private mount namespace the node's directories
are bind-mounted over the well-known host paths (``/etc/kubernetes``,
``/var/lib/kubelet``, ``/var/lib/etcd``, ``/var/lib/containerd``,
``/run/containerd``, ``/var/log/pods``, ...), so a command run with
:meth:`Node.run` sees the node's own files at the usual places.

Killing the keeper kills every process of the node, containers included.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from . import _proc, cache
from .network import Network
from .units import Units

KEEPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keeper.py")
#: testbed/shims: a minimal ``crictl`` over ``ctr`` (cri-tools is not in Debian bookworm)
SHIMS = os.path.join(cache.REPO_ROOT, "testbed", "shims")

#: node path -> relative dir under ``<workdir>/root``; all bind-mounted in the node
NODE_DIRS = (
    "/etc/kubernetes",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/var/lib/containerd",
    "/run/containerd",
    "/var/log/pods",
    "/var/log/containers",
    "/etc/cni/net.d",
    "/opt/cni/bin",
    "/usr/libexec/kubernetes",
    # kubeadm reset empties these: keep the host's own untouched
    "/var/lib/cni",
    "/var/lib/dockershim",
    "/run/kubernetes",
    "/etc/systemd/system",  # units the node's tools install (tests/testbed/units.py runs them)
)
CONTAINERD_SOCK = "/run/containerd/containerd.sock"
KUBELET_SYSCTLS = ("vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_active_lock = threading.Lock()
_active: set[str] = set()
_saved_sysctls: dict[str, str] = {}


class NodeCommandError(subprocess.CalledProcessError):
    def __str__(self) -> str:
        def tail(s: object) -> str:
            s = s if isinstance(s, str) else (s or b"").decode("utf-8", "replace")  # type: ignore[union-attr]
            return "\n".join(s.rstrip().splitlines()[-40:])
        return (f"{super().__str__()}\n--- stdout (tail) ---\n{tail(self.stdout)}"
                f"\n--- stderr (tail) ---\n{tail(self.stderr)}")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def _sanitize(name: str) -> str:
    s = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")
    return s[:40] or "node"


def _sysctl_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _save_sysctls() -> None:
    with _active_lock:
        if _active:
            return
        for k in KUBELET_SYSCTLS:
            try:
                with open(_sysctl_path(k)) as f:
                    _saved_sysctls[k] = f.read().strip()
            except OSError:
                pass


def _restore_sysctls() -> None:
    with _active_lock:
        if _active:
            return
        for k, v in _saved_sysctls.items():
            try:
                with open(_sysctl_path(k), "w") as f:
                    f.write(v)
            except OSError:
                pass


def containerd_config(sandbox_image: str) -> str:
    return f"""version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{CONTAINERD_SOCK}"

[ttrpc]
  address = "/run/containerd/containerd.sock.ttrpc"

[debug]
  address = "/run/containerd/debug.sock"
  level = "info"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  disable_cgroup = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
"""


class Node:
    """One node of the test bed.

    ``network=None`` runs the node in the host network namespace (``address``
    defaults to 127.0.0.1); with a :class:`Network` it gets its own network
    namespace and an address on that network's bridge.
    """

    def __init__(
        self,
        name: str = "node1",
        workdir: str | None = None,
        network: Network | None = None,
        address: str | None = None,
        image_repos: Sequence[str] = ("k8s.gcr.io", "registry.k8s.io"),
        sandbox_image: str | None = None,
        kubelet_extra_args: Sequence[str] = (),
        extra_binds: Mapping[str, str] | None = None,
        max_lifetime: float | None = None,
        import_images: bool = True,
        images: Sequence[str] | None = None,
        pid1_name: str | None = None,
    ) -> None:
        self.name = _sanitize(name)
        if workdir is None:
            base = os.environ.get("KUBEADM_PY_TESTBED_WORKDIR", "/var/tmp/kubeadm-py-testbed")
            os.makedirs(base, exist_ok=True)
            workdir = tempfile.mkdtemp(prefix=self.name + "-", dir=base)
        self.workdir = workdir
        self.network = network
        self.address = address or ("127.0.0.1" if network is None else None)
        self.image_repos = list(image_repos)
        self.sandbox_image = sandbox_image or f"{self.image_repos[0]}/pause:3.2"
        self.kubelet_extra_args = list(kubelet_extra_args)
        self.extra_binds = dict(extra_binds or {})
        # the keeper (and so every process of the node) exits after this many seconds at most
        self.max_lifetime = max_lifetime or float(os.environ.get("KUBEADM_PY_TESTBED_MAX_LIFETIME", "1800"))
        self._import = import_images
        self.images = list(images) if images is not None else None  # None: every cached image
        # what PID 1 (the keeper) calls itself in /proc/1/comm; "systemd": kubeadm-py, which drives
        # systemctl only under a systemd PID 1, then restarts the kubelet through testbed/shims/systemctl
        # (and so the supervisor) as on a systemd host; None: "python3", kubeadm-py only prints the step
        self.pid1_name = pid1_name
        self.cgroup_root = f"/kpt-{self.name}-{os.getpid()}"
        self.logdir = os.path.join(self.workdir, "logs")
        self.control_dir = os.path.join(self.workdir, "control")  # systemctl shim <-> supervisor
        self.pid: int | None = None  # keeper, host PID view
        self._unshare: subprocess.Popen | None = None
        self._containerd: subprocess.Popen | None = None
        self._kubelet: subprocess.Popen | None = None
        self._kubelet_lock = threading.RLock()
        self._kubelet_started_at = 0.0
        self._kubelet_inputs: tuple = ()
        self.kubelet_starts = 0
        self._sup_thread: threading.Thread | None = None
        self._sup_stop = threading.Event()
        self._registered = False
        self.timings: dict[str, float] = {}
        self.units = Units(self)

    # ------------------------------------------------------------------ paths
    def path(self, node_path: str) -> str:
        """Host path of a file as seen inside the node (e.g. ``/etc/kubernetes/admin.conf``)."""
        p = os.path.normpath(node_path)
        for d in list(NODE_DIRS) + list(self.extra_binds):
            if p == d or p.startswith(d.rstrip("/") + "/"):
                return os.path.join(self.workdir, "root", p.lstrip("/"))
        if p == "/etc/hosts":
            return os.path.join(self.workdir, "hosts")
        return p

    def _binds(self) -> list[tuple[str, str]]:
        binds = [(os.path.join(self.workdir, "root", d.lstrip("/")), d) for d in NODE_DIRS]
        for dst, src in self.extra_binds.items():
            binds.append((src, dst))
        return binds

    # -------------------------------------------------------------- lifecycle
    def start(self, containerd: bool = True) -> Node:
        """Create the namespaces and mounts, start containerd, import the images."""
        t0 = time.monotonic()
        _save_sysctls()
        with _active_lock:
            _active.add(self.workdir)
        self._registered = True
        os.makedirs(self.logdir, exist_ok=True)
        with open(os.path.join(self.workdir, "owner.pid"), "w") as f:  # for stale clean-up
            f.write(f"{os.getpid()}\n")
        for src, _dst in self._binds():
            os.makedirs(src, exist_ok=True)
        if self.network is not None and self.address is None:
            self.address = self.network.allocate()
        with open(os.path.join(self.workdir, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
                    f"{self.address} {self.name}\n")
        spec_path = os.path.join(self.workdir, "keeper.json")
        ready = os.path.join(self.workdir, "keeper.ready")
        with open(spec_path, "w") as f:
            json.dump({
                "ready_file": ready,
                "hostname": self.name,
                "binds": self._binds(),
                "file_binds": [(os.path.join(self.workdir, "hosts"), "/etc/hosts")],
                "net": self.network is not None,
                "max_lifetime": self.max_lifetime,
                "comm": self.pid1_name,
            }, f, indent=1)
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--mount", "--uts",
                "--propagation", "private", "--kill-child=SIGKILL"]
        if self.network is not None:
            argv.append("--net")
        argv += [sys.executable, KEEPER, spec_path]
        self._unshare = _proc.spawn(argv, log_path=os.path.join(self.logdir, "keeper.log"))
        try:
            _proc.wait_for(lambda: os.path.exists(ready) or self._unshare.poll() is not None,  # type: ignore
                           30, what="node keeper")
            status = _read(ready) if os.path.exists(ready) else "keeper exited"
            if status != "ok":
                raise RuntimeError(f"node {self.name} keeper failed: {status} (see {self.logdir})")
            self.pid = _proc.wait_for(lambda: _proc.children_of(self._unshare.pid), 10,  # type: ignore
                                      what="keeper pid")[0]
            if self.network is not None:
                self.network.attach(self.pid, self.address)
            self._make_cgroups()
            self.timings["namespaces"] = time.monotonic() - t0
            if containerd:
                self.start_containerd()
                if self._import:
                    self.import_images()
        except BaseException:
            self.stop(keep_logs=True)
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def stop(self, keep_logs: bool = False, remove: bool = True) -> str | None:
        """Stop everything; remove the work dir (unless ``remove=False``).

        With ``keep_logs`` the logs (kubelet, containerd, keeper, pod logs,
        manifests, kubelet config) are copied to a directory whose path is
        printed and returned.
        """
        self._sup_stop.set()
        if self._sup_thread is not None:
            self._sup_thread.join(15)
            self._sup_thread = None
        kept = None
        self.units.stop_all()
        if self.pid is not None and self._alive() and self._containerd is not None \
                and self._containerd.poll() is None:
            with contextlib.suppress(Exception):
                self._kill_tasks()
        self.stop_kubelet()
        if self._containerd is not None:
            _proc.terminate(self._containerd, grace=10)
            self._containerd = None
        if self._unshare is not None:
            _proc.terminate(self._unshare, grace=5)
            self._unshare = None
        self.pid = None
        self._remove_cgroups()
        if keep_logs or os.environ.get("KUBEADM_PY_TESTBED_KEEP") == "always":
            kept = self.collect_logs()
        if remove and os.path.isdir(self.workdir):
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self._registered:
            with _active_lock:
                _active.discard(self.workdir)
            self._registered = False
            _restore_sysctls()
        return kept

    def _alive(self) -> bool:
        return self._unshare is not None and self._unshare.poll() is None

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(keep_logs=exc_type is not None)

    # -------------------------------------------------------------- commands
    def _nsenter(self, net: bool = True) -> list[str]:
        if self.pid is None:
            raise RuntimeError(f"node {self.name} is not running")
        argv = ["nsenter", "-t", str(self.pid), "-m", "-p", "-u"]
        if net and self.network is not None:
            argv.append("-n")
        return argv

    def nsenter_argv(self, net: bool = True) -> list[str]:
        """``nsenter ...`` prefix that enters this node's namespaces (for Popen-style use)."""
        return self._nsenter(net)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG",)}
        venv_bin = os.path.dirname(sys.executable)
        env["PATH"] = ":".join([os.path.join(cache.cache_dir(), "bin"), SHIMS, venv_bin, DEFAULT_PATH])
        env.setdefault("HOME", "/root")
        env["KPT_NODE_CONTROL"] = self.control_dir
        if extra:
            env.update(extra)
        return env

    def run(self, argv: Sequence[str], env: Mapping[str, str] | None = None, check: bool = True,
            timeout: float = 300, input: str | None = None, cwd: str | None = None,
            capture: bool = True) -> subprocess.CompletedProcess:
        """Run ``argv`` inside the node's namespaces (mount, PID, UTS, network).

        PATH: the cached v1.20.2 binaries, testbed/shims (crictl), this interpreter's bin dir,
        then the usual system dirs.
        The command and everything it forks are killed when ``timeout`` expires (returncode -9,
        :class:`NodeCommandError` if ``check``).
        """
        cmd = self._nsenter() + list(argv)
        p = subprocess.Popen(cmd, env=self.env(env), cwd=cwd, text=True,
                             stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE if capture else None,
                             stderr=subprocess.PIPE if capture else None,
                             start_new_session=True)
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            err = (err or "") + f"\n[timed out after {timeout}s]"
            if check:
                raise NodeCommandError(-9, list(argv), out, err) from None
            return subprocess.CompletedProcess(list(argv), -9, out, err)
        if check and p.returncode != 0:
            raise NodeCommandError(p.returncode, list(argv), out, err)
        return subprocess.CompletedProcess(list(argv), p.returncode, out, err)

    def sh(self, script: str, **kw) -> subprocess.CompletedProcess:
        return self.run(["/bin/sh", "-c", script], **kw)

    def kubectl(self, *args: str, kubeconfig: str = "/etc/kubernetes/admin.conf", timeout: float = 60,
                check: bool = True) -> subprocess.CompletedProcess:
        req_timeout = f"--request-timeout={max(1, int(timeout) - 5)}s"
        return self.run(["kubectl", "--kubeconfig", kubeconfig, req_timeout, *args],
                        timeout=timeout, check=check)

    def ctr(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(["ctr", "-a", CONTAINERD_SOCK, "-n", "k8s.io", *args], timeout=timeout, check=check)

    def wait_for_apiserver(self, timeout: float = 240,
                           kubeconfig: str = "/etc/kubernetes/admin.conf") -> None:
        """Wait until ``kubectl get --raw /readyz`` answers ``ok``."""
        def ok() -> bool:
            if not os.path.exists(self.path(kubeconfig)):
                return False
            r = self.kubectl("get", "--raw", "/readyz", kubeconfig=kubeconfig, timeout=15, check=False)
            return r.returncode == 0 and r.stdout.strip() == "ok"
        _proc.wait_for(ok, timeout, interval=2, what=f"kube-apiserver /readyz on node {self.name}")

    def remove_all_pods(self) -> None:
        """Stop and remove every pod sandbox, and so every container, through the CRI (what
        ``crictl rmp -a -f`` does; the shim's crictl goes through ctr instead): with the kubelet
        stopped, the node is as after a reboot."""
        script = ("from kubeadm_py.host.cri import CriClient\n"
                  f"c = CriClient('unix://{CONTAINERD_SOCK}')\n"
                  "for s in c.list_sandboxes():\n    c.remove_sandbox(s)\n"
                  "print(len(c.list_sandboxes()), len(c.list_containers()))\n")
        left = self.run([sys.executable, "-c", script], env={"PYTHONPATH": cache.REPO_ROOT}).stdout.split()
        if left != ["0", "0"]:
            raise RuntimeError(f"node {self.name}: sandboxes and containers left: {left}")

    def forget_pods(self, *pods: str) -> int:
        """Remove every sandbox (with its containers) of the pods named ``pods`` in kube-system,
        the number removed. The kubelet's crash-loop back-off only holds a container whose exited
        predecessor the runtime still lists: a static Pod whose manifest a test moved away and
        back starts at once instead of after up to five minutes of back-off (a fault undone
        completely, the kubelet's memory of it included)."""
        script = ("import sys\nfrom kubeadm_py.host.cri import CriClient\n"
                  f"c = CriClient('unix://{CONTAINERD_SOCK}')\n"
                  "gone = [c.remove_sandbox(s) for s in c.list_sandboxes()\n"
                  "        if s.namespace == 'kube-system' and s.name in sys.argv[1:]]\n"
                  "print(len(gone))\n")
        out = self.run([sys.executable, "-c", script, *pods], env={"PYTHONPATH": cache.REPO_ROOT}).stdout
        return int(out.split()[-1])

    # -------------------------------------------------------------- containerd
    def start_containerd(self, timeout: float = 60) -> None:
        t0 = time.monotonic()
        cfg = os.path.join(self.workdir, "containerd.toml")
        with open(cfg, "w") as f:
            f.write(containerd_config(self.sandbox_image))
        self._containerd = _proc.spawn(self._nsenter() + ["containerd", "--config", cfg],
                                       log_path=os.path.join(self.logdir, "containerd.log"),
                                       env=self.env())

        def up() -> bool:
            if self._containerd.poll() is not None:  # type: ignore[union-attr]
                raise RuntimeError(f"containerd exited; see {self.logdir}/containerd.log")
            if not os.path.exists(self.path(CONTAINERD_SOCK)):
                return False
            r = self.run(["ctr", "-a", CONTAINERD_SOCK, "version"], check=False, timeout=10)
            return r.returncode == 0
        _proc.wait_for(up, timeout, interval=0.3, what=f"containerd on node {self.name}")
        self.timings["containerd"] = time.monotonic() - t0

    def import_images(self, archives: Iterable[str] | None = None,
                      repos: Iterable[str] | None = None) -> None:
        """Import the cached image archives (under their names for k8s.gcr.io and registry.k8s.io),
        then tag them for every extra repository in ``repos`` / ``self.image_repos``."""
        t0 = time.monotonic()
        if archives is None:
            archives = [a for a in cache.image_archives()
                        if self.images is None or os.path.basename(a)[:-4] in self.images]
        archives = list(archives)
        imported = {os.path.basename(a)[:-4] for a in archives}
        # largest first, two at a time (ingest + unpack of ~330 MiB; the machine has 2 cores)
        archives.sort(key=lambda a: os.path.getsize(a), reverse=True)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for fut in [pool.submit(self.ctr, "images", "import", a, timeout=300) for a in archives]:
                fut.result()
        repos = list(repos) if repos is not None else self.image_repos
        idx = cache.image_index()
        have = set(self.ctr("images", "ls", "-q").stdout.split())
        for name, info in idx["images"].items():
            if name not in imported:
                continue
            src = info["refs"][0]
            for r in repos:
                dst = "{}/{}:{}".format(r.rstrip("/"), name, info["tag"])
                if dst not in have:
                    self.ctr("images", "tag", "--force", src, dst)
        self.timings["import_images"] = time.monotonic() - t0

    def _kill_tasks(self) -> None:
        r = self.ctr("tasks", "ls", "-q", timeout=20, check=False)
        for cid in r.stdout.split():
            self.ctr("tasks", "kill", "-s", "SIGKILL", cid, timeout=20, check=False)

    # -------------------------------------------------------------- kubelet
    def _kubelet_inputs_now(self) -> tuple:
        out = []
        for p in ("/var/lib/kubelet/config.yaml", "/var/lib/kubelet/kubeadm-flags.env",
                  "/etc/default/kubelet"):
            try:
                st = os.stat(self.path(p))
                out.append((p, st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((p, None, None))
        return tuple(out)

    def kubelet_argv(self, extra_args: Sequence[str] = ()) -> list[str]:
        """The kubelet command line, as kubeadm's systemd drop-in (10-kubeadm.conf) builds it."""
        flags_env = self._read_env_file(self.path("/var/lib/kubelet/kubeadm-flags.env"),
                                        "KUBELET_KUBEADM_ARGS")
        extra_env = self._read_env_file(self.path("/etc/default/kubelet"), "KUBELET_EXTRA_ARGS")
        args = ["kubelet",
                "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                "--kubeconfig=/etc/kubernetes/kubelet.conf",
                "--config=/var/lib/kubelet/config.yaml"]
        args += flags_env + extra_env
        joined = " ".join(args)
        if "--container-runtime=" not in joined:
            args.append("--container-runtime=remote")
        if "--container-runtime-endpoint" not in joined:
            args.append("--container-runtime-endpoint=unix://" + CONTAINERD_SOCK)
        args.append("--cgroup-root=" + self.cgroup_root)
        args += self.kubelet_extra_args + list(extra_args)
        return args

    @staticmethod
    def _read_env_file(path: str, var: str) -> list[str]:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            return []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(var + "="):
                val = line[len(var) + 1:]
                parts = shlex.split(val)  # strips the surrounding quotes
                return shlex.split(parts[0]) if len(parts) == 1 else parts
        return []

    def start_kubelet(self, extra_args: Sequence[str] = ()) -> None:
        """Start the kubelet now (stops a running one first)."""
        with self._kubelet_lock:
            self.stop_kubelet()
            argv = self.kubelet_argv(extra_args)
            self._kubelet_inputs = self._kubelet_inputs_now()
            log = os.path.join(self.logdir, "kubelet.log")
            with open(log, "a") as f:
                f.write(f"\n===== {time.strftime('%H:%M:%S')} kubelet start #{self.kubelet_starts + 1}: "
                        f"{' '.join(argv)}\n")
            self._kubelet = _proc.spawn(self._nsenter() + argv, log_path=log, env=self.env())
            self._kubelet_started_at = time.monotonic()
            self.kubelet_starts += 1

    def stop_kubelet(self) -> None:
        with self._kubelet_lock:
            if self._kubelet is not None:
                _proc.terminate(self._kubelet, grace=10)
                self._kubelet = None

    def restart_kubelet(self) -> None:
        self.start_kubelet()

    def kubelet_running(self) -> bool:
        return self._kubelet is not None and self._kubelet.poll() is None

    def supervise_kubelet(self, restart_on_change: bool = True, restart_delay: float = 2.0,
                          settle: float = 1.0) -> None:
        """Run the kubelet like systemd runs kubeadm's kubelet unit (enabled, ``Restart=always``),
        in a background thread:

        * start it once ``/var/lib/kubelet/config.yaml`` exists; restart it ``restart_delay`` s
          after it exits;
        * obey ``systemctl start|stop|restart kubelet`` run inside the node (testbed/shims/systemctl
          is first on PATH in :meth:`run`; kubeadm v1.20 calls it in kubelet-start, kubelet-finalize
          and reset); after ``stop`` it stays down until ``start``/``restart``;
        * ``restart_on_change``: also restart when config.yaml, kubeadm-flags.env or
          /etc/default/kubelet change (for tools that write them without calling systemctl).
        """
        if self._sup_thread is not None:
            return
        self._sup_stop.clear()
        cfg = self.path("/var/lib/kubelet/config.yaml")
        ctl = self.control_dir
        os.makedirs(ctl, exist_ok=True)
        state = {"wanted": True, "enabled": True}

        def write_state() -> None:
            st = "{} {}".format("active" if self.kubelet_running() else "inactive",
                            "enabled" if state["enabled"] else "disabled")
            with open(os.path.join(ctl, "kubelet.state.tmp"), "w") as f:
                f.write(st + "\n")
            os.replace(os.path.join(ctl, "kubelet.state.tmp"), os.path.join(ctl, "kubelet.state"))

        def handle_requests() -> None:
            for fn in sorted(os.listdir(ctl)):
                if not fn.startswith("req-") or fn.endswith(".tmp"):
                    continue
                rp = os.path.join(ctl, fn)
                try:
                    verb = _read(rp)
                except OSError:
                    continue
                rc = 0
                words = verb.split()
                if len(words) > 1:  # "verb unit [now]": another unit (tests/testbed/units.py)
                    rc = self.units.request(words[0], words[1], "now" in words[2:])
                    self._log_supervisor(f"systemctl {verb} -> {rc}")
                    os.unlink(rp)
                    with open(os.path.join(ctl, fn.replace("req-", "ack-", 1)), "w") as f:
                        f.write(f"{rc}\n")
                    continue
                if verb in ("start", "restart", "try-restart", "reload-or-restart"):
                    running = self.kubelet_running()
                    if (verb == "try-restart" and not running) or (verb == "start" and running):
                        pass
                    else:
                        state["wanted"] = True
                        if os.path.exists(cfg):
                            self.start_kubelet()
                        else:  # systemd would start it and it would exit at once
                            self.stop_kubelet()
                elif verb == "stop":
                    state["wanted"] = False
                    self.stop_kubelet()
                elif verb == "enable":
                    state["enabled"] = True
                elif verb == "disable":
                    state["enabled"] = False
                self._log_supervisor(f"systemctl {verb} kubelet -> {rc}")
                os.unlink(rp)
                with open(os.path.join(ctl, fn.replace("req-", "ack-", 1)), "w") as f:
                    f.write(f"{rc}\n")
                write_state()

        def loop() -> None:
            last_exit = 0.0
            seen_cfg_at = None
            with open(os.path.join(ctl, "supervisor.alive"), "w") as f:
                f.write(f"{os.getpid()}\n")
            self.units.boot()  # the enabled units, as at the node's boot
            try:
                while not self._sup_stop.wait(0.3):
                    try:
                        with self._kubelet_lock:
                            if self._sup_stop.is_set():
                                return
                            handle_requests()
                            self.units.tick(time.monotonic())
                            if self._kubelet is not None and self._kubelet.poll() is not None:
                                self._log_supervisor(f"kubelet exited with {self._kubelet.returncode}")
                                last_exit = time.monotonic()
                                self._kubelet = None
                            if not state["wanted"] or not os.path.exists(cfg):
                                seen_cfg_at = None
                            else:
                                if seen_cfg_at is None:
                                    seen_cfg_at = time.monotonic()
                                if time.monotonic() - seen_cfg_at >= settle:
                                    if not self.kubelet_running():
                                        if time.monotonic() - last_exit >= restart_delay:
                                            self.start_kubelet()
                                    elif (restart_on_change
                                          and self._kubelet_inputs_now() != self._kubelet_inputs):
                                        time.sleep(settle)
                                        self._log_supervisor("kubelet inputs changed; restarting")
                                        self.start_kubelet()
                            write_state()
                    except Exception as e:  # keep supervising
                        self._log_supervisor(f"supervisor error: {e!r}")
            finally:
                for fn in ("supervisor.alive", "kubelet.state"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(ctl, fn))

        # kubelets started by this thread are nsenter children with PR_SET_PDEATHSIG tied to
        # it; the keeper's death (stop()) is what finally kills everything anyway.
        self._sup_thread = threading.Thread(target=loop, name="kubelet-supervisor-" + self.name, daemon=True)
        self._sup_thread.start()

    def _log_supervisor(self, msg: str) -> None:
        with open(os.path.join(self.logdir, "supervisor.log"), "a") as f:
            f.write("{} {}\n".format(time.strftime("%H:%M:%S"), msg))

    # -------------------------------------------------------------- cgroups
    @staticmethod
    def _cgroup_hierarchies() -> list[str]:
        root = "/sys/fs/cgroup"
        out = []
        try:
            entries = sorted(os.listdir(root))
        except OSError:
            return out
        for e in entries:
            p = os.path.join(root, e)
            if e == "unified" or os.path.islink(p) or not os.path.isdir(p):
                continue
            if os.path.exists(os.path.join(p, "cgroup.procs")):
                out.append(p)
        return out

    def _make_cgroups(self) -> None:
        for h in self._cgroup_hierarchies():
            d = h + self.cgroup_root
            os.makedirs(d, exist_ok=True)
            if os.path.basename(h).startswith("cpuset") or os.path.exists(os.path.join(h, "cpuset.cpus")):
                for f in ("cpuset.cpus", "cpuset.mems"):
                    try:
                        with open(os.path.join(h, f)) as src:
                            v = src.read().strip()
                        with open(os.path.join(d, f), "w") as dst:
                            dst.write(v)
                    except OSError:
                        pass

    def _remove_cgroups(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        for h in self._cgroup_hierarchies():
            top = h + self.cgroup_root
            while os.path.isdir(top):
                dirs = [dp for dp, _dn, _fn in os.walk(top)]
                for d in sorted(dirs, key=len, reverse=True):
                    with contextlib.suppress(OSError):
                        os.rmdir(d)
                if not os.path.isdir(top) or time.monotonic() > deadline:
                    break
                time.sleep(0.3)

    # -------------------------------------------------------------- logs
    def collect_logs(self, dest: str | None = None) -> str:
        """Copy logs, pod logs, manifests and kubelet config out of the work dir; returns the path."""
        base = os.environ.get("KUBEADM_PY_TESTBED_LOGS", "/var/tmp/kubeadm-py-testbed-logs")
        dest = dest or os.path.join(base, "{}-{}".format(self.name, time.strftime("%Y%m%d-%H%M%S")))
        os.makedirs(dest, exist_ok=True)
        for rel in ("logs", "root/var/log/pods", "root/etc/kubernetes/manifests",
                    "root/var/lib/kubelet/config.yaml", "root/var/lib/kubelet/kubeadm-flags.env",
                    "containerd.toml", "keeper.json", "hosts"):
            src = os.path.join(self.workdir, rel)
            dst = os.path.join(dest, rel.replace("root/", "node/"))
            try:
                if os.path.isdir(src):
                    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
                elif os.path.exists(src):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copy2(src, dst)
            except OSError:
                pass
        print(f"[testbed] logs of node {self.name} kept in {dest}", file=sys.stderr)
        return dest
