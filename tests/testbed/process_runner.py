"""Fallback for machines where containers cannot run: run static Pods as host processes.

:class:`ProcessRunner` watches a static Pod manifest directory like the kubelet
does and runs every container's ``command + args`` as a plain process:

* the image is ignored; ``command[0]`` is looked up in ``binaries`` (default: the
  cached v1.20.2 binaries, Debian's ``etcd``), then on PATH;
* hostPath volumes are honoured by rewriting argument paths under a container
  ``mountPath`` to the volume's ``hostPath``, and every host path gets the
  ``rootfs`` prefix (so a test whose kubeadm-py writes under ``/tmp/root/etc/kubernetes``
  uses ``rootfs="/tmp/root"``);
* a process that exits is restarted after ``restart_delay`` (kubelet-style,
  doubling up to ``max_delay``); a changed manifest restarts its pod; a removed
  manifest stops it; :meth:`stop` stops everything.

Optionally ``prefix`` (e.g. ``node.nsenter_argv()``) runs the processes inside a node.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Mapping, Sequence

import yaml

from . import _proc, cache


def default_binaries() -> dict[str, str]:
    b = {c: cache.bin_path(c) for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                                        "kube-proxy", "kubelet", "kubeadm")}
    for tool in ("etcd", "etcdctl"):
        p = shutil.which(tool)
        if p:
            b[tool] = p
    return b


class _Container:
    def __init__(self, pod: str, name: str, argv: list[str], env: dict[str, str], log: str) -> None:
        self.pod, self.name, self.argv, self.env, self.log = pod, name, argv, env, log
        self.proc = None
        self.restarts = 0
        self.next_start = 0.0
        self.delay = 0.0


class ProcessRunner:
    def __init__(
        self,
        manifest_dir: str = "/etc/kubernetes/manifests",
        rootfs: str = "/",
        logdir: str | None = None,
        binaries: Mapping[str, str] | None = None,
        restart_delay: float = 1.0,
        max_delay: float = 10.0,
        poll: float = 0.5,
        prefix: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.rootfs = rootfs
        self.manifest_dir = self.host_path(manifest_dir)
        self.logdir = logdir or os.path.join(self.host_path("/var/log"), "kpt-process-runner")
        self.binaries = dict(default_binaries())
        self.binaries.update(binaries or {})
        self.restart_delay, self.max_delay, self.poll = restart_delay, max_delay, poll
        self.prefix = list(prefix)
        self.base_env = dict(env) if env is not None else dict(os.environ)
        self.pods: dict[str, tuple[str, list[_Container]]] = {}  # file -> (hash, containers)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def host_path(self, p: str) -> str:
        if self.rootfs in ("", "/"):
            return p
        return os.path.join(self.rootfs, p.lstrip("/"))

    # -------------------------------------------------------------- manifests
    def _containers_for(self, fname: str, doc: dict) -> list[_Container]:
        meta = doc.get("metadata") or {}
        spec = doc.get("spec") or {}
        pod = meta.get("name") or os.path.splitext(os.path.basename(fname))[0]
        vols = {}
        for v in spec.get("volumes") or []:
            if v.get("hostPath"):
                vols[v["name"]] = v["hostPath"]["path"]
        out = []
        for c in spec.get("containers") or []:
            mounts = []  # (mountPath, hostPath)
            for m in c.get("volumeMounts") or []:
                if m.get("name") in vols:
                    mounts.append((m["mountPath"].rstrip("/") or "/", vols[m["name"]]))
            mounts.sort(key=lambda t: len(t[0]), reverse=True)

            def tr(path: str, mounts=mounts) -> str:
                for mp, hp in mounts:
                    if path == mp or path.startswith(mp + "/"):
                        return self.host_path(hp + path[len(mp):])
                return path

            def tr_arg(a: str, tr=tr) -> str:
                if a.startswith("/"):
                    return tr(a)
                if a.startswith("-") and "=" in a:
                    k, v = a.split("=", 1)
                    return k + "=" + ",".join(tr(x) if x.startswith("/") else x for x in v.split(","))
                return a

            argv = [tr_arg(a) for a in list(c.get("command") or []) + list(c.get("args") or [])]
            if not argv:
                self.errors.append("{}/{}: no command".format(pod, c.get("name")))
                continue
            exe = argv[0]
            if "/" not in exe:
                exe = self.binaries.get(exe) or shutil.which(exe) or exe
            argv[0] = exe
            env = dict(self.base_env)
            for e in c.get("env") or []:
                if "value" in e:
                    env[e["name"]] = str(e["value"])
            log = os.path.join(self.logdir, "{}_{}.log".format(pod, c.get("name")))
            out.append(_Container(pod, c.get("name", "c"), argv, env, log))
        return out

    def _scan(self) -> None:
        try:
            files = sorted(f for f in os.listdir(self.manifest_dir)
                           if f.endswith((".yaml", ".yml", ".json")) and not f.startswith("."))
        except OSError:
            files = []
        seen = set()
        for f in files:
            p = os.path.join(self.manifest_dir, f)
            try:
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            h = hashlib.sha256(data).hexdigest()
            seen.add(f)
            old = self.pods.get(f)
            if old and old[0] == h:
                continue
            try:
                doc = yaml.safe_load(data) or {}
                containers = self._containers_for(f, doc)
            except Exception as e:
                self.errors.append(f"{f}: {e!r}")
                continue
            if old:
                self._stop_containers(old[1])
            self.pods[f] = (h, containers)
        for f in list(self.pods):
            if f not in seen:
                self._stop_containers(self.pods.pop(f)[1])

    # -------------------------------------------------------------- processes
    def _tick(self) -> None:
        now = time.monotonic()
        for _h, cs in self.pods.values():
            for c in cs:
                if c.proc is not None and c.proc.poll() is not None:
                    with open(c.log, "a") as f:
                        f.write(f"\n[process-runner] exited with {c.proc.returncode}\n")
                    c.proc = None
                    c.restarts += 1
                    c.delay = min(self.max_delay, max(self.restart_delay, c.delay * 2))
                    c.next_start = now + c.delay
                if c.proc is None and now >= c.next_start:
                    os.makedirs(self.logdir, exist_ok=True)
                    with open(c.log, "a") as f:
                        f.write(f"\n[process-runner] {time.strftime('%H:%M:%S')} start: {' '.join(c.argv)}\n")
                    try:
                        c.proc = _proc.spawn(self.prefix + c.argv, log_path=c.log, env=c.env)
                    except OSError as e:
                        self.errors.append(f"{c.pod}/{c.name}: {e!r}")
                        c.next_start = now + self.max_delay

    def _stop_containers(self, cs: list[_Container]) -> None:
        for c in cs:
            if c.proc is not None:
                _proc.terminate(c.proc, grace=10)
                c.proc = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._scan()
                self._tick()
            self._stop.wait(self.poll)
        with self._lock:
            for _h, cs in self.pods.values():
                self._stop_containers(cs)
            self.pods.clear()

    def start(self) -> ProcessRunner:
        os.makedirs(self.logdir, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="process-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def running(self) -> dict[str, int]:
        """``{"<pod>/<container>": pid}`` of the processes running now."""
        with self._lock:
            return {f"{c.pod}/{c.name}": c.proc.pid for _h, cs in self.pods.values()
                    for c in cs if c.proc is not None and c.proc.poll() is None}

    def restarts(self) -> dict[str, int]:
        with self._lock:
            return {f"{c.pod}/{c.name}": c.restarts for _h, cs in self.pods.values() for c in cs}

    def __enter__(self) -> ProcessRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
