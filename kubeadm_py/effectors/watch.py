"""Watching control-plane containers while a wait polls their health (issue 17): the container
runtime knows when a component keeps exiting, with its exit code and its log, long before a health
wait times out. :class:`ComponentWatch` reads the runtime (CRI ``ListContainers`` and
``ContainerStatus``, through the CRI effector) and the kubelet's process, and says which
components have failed; the waiter (:mod:`kubeadm_py.effectors.waiting`) calls it between polls and
ends the wait with :class:`ComponentsFailed`. The dry-run waiter never polls, so a dry run never
watches.

When a component counts as failed (:data:`RULES`): its newest container, created since the wait
began, has exited and

- exited at least ``EXITS`` (2) times: the kubelet has restarted it (``attempt`` >= 1) and it
  exited again, or
- exited with a non-zero code and nothing replaced it for ``EXIT_GRACE`` (10 s) (the kubelet's
  restart back-off starts at 10 s).

kube-controller-manager and kube-scheduler exit by themselves while the API server they talk to is
not up yet; their exits count only once kube-apiserver is healthy (or not waited for). The kubelet
counts as failed when for ``KUBELET_GRACE`` (10 s) no ``kubelet`` process existed and its /healthz
did not answer (a kubelet in another PID namespace still answers).

A component with no container at all since the wait began (never created: an image that cannot be
pulled, a volume that cannot be mounted) is judged by
:class:`~kubeadm_py.effectors.watch_create.CreationWatch` when the watch knows the manifests'
images (``image_of``), while the kubelet runs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubeadm_py.effectors.watch_create import SIGNALS, CreationWatch, NotCreated
from kubeadm_py.errors import KubeadmError

if TYPE_CHECKING:
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.host.cri import ContainerInfo

EXITS = 2
EXIT_GRACE = 10.0
KUBELET_GRACE = 10.0
LOG_LINES = 10
KUBE_SYSTEM = "kube-system"
# Components that exit while the API server is down, by design (they retry by restarting).
NEEDS_APISERVER = ("kube-controller-manager", "kube-scheduler")
KUBELET_LOG = "journalctl -xeu kubelet (or the log file of whatever supervises the kubelet)"
RULES = (
    f"a control-plane container exited {EXITS} times (the kubelet restarted it and it exited again)",
    f"a control-plane container exited with a non-zero code and nothing replaced it for {EXIT_GRACE:.0f}s",
    f"no kubelet process and no kubelet /healthz answer for {KUBELET_GRACE:.0f}s",
    *(f"a control-plane container never created: {s}" for s in SIGNALS),
)


@dataclass(frozen=True)
class ComponentReport:
    """Why a component failed a wait: what ``-o json`` (``outputs.failures``) and the run journal
    keep."""

    component: str
    state: str  # "exited", "not created", "not running" (the kubelet)
    exit_code: int | None = None
    restarts: int = 0
    log_tail: tuple[str, ...] = ()
    log_path: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "state": self.state,
            "exitCode": self.exit_code,
            "restarts": self.restarts,
            "logTail": list(self.log_tail),
            "logPath": self.log_path,
            "reason": self.reason,
        }

    def line(self) -> str:
        if self.component == "kubelet":
            return f"the kubelet is not running: {self.reason}; its log: {self.log_path}"
        if self.state == "not created":
            return f"{self.component}: no container was created ({self.reason})"
        exits = f"exited {self.restarts + 1} times" if self.restarts else "exited"
        return (
            f"{self.component} {exits} (exit code {self.exit_code}, {self.reason}){_telling(self.log_tail)}"
        )


# Lines a component logs when it gives up, best first: cobra's "Error: ..." is the process's last
# word before it exits; klog's fatal, then error levels. Goroutines can log after any of them.
_ERROR_LINES = (
    re.compile(r"^(?:Error: |error: )"),
    re.compile(r"^F\d{4} "),
    re.compile(r"^E\d{4} "),
)


def _telling(tail: Sequence[str]) -> str:
    """The log line that says why: the last line of the best error kind in the tail, else its last
    line. A dying component can log noise after its error: the v1.20 API server's node authorizer
    goroutine logs 'Waiting for caches to sync for node_authorizer' around its 'Error: loading audit
    policy file' (seen last on the test bed once), and controllers log 'E...' connection errors."""
    if not tail:
        return ""
    for kind in _ERROR_LINES:
        errors = [line for line in tail if kind.match(line)]
        if errors:
            if errors[-1] == tail[-1]:
                break
            return f"; last error in its log: {errors[-1]!r}"
    return f"; last log line: {tail[-1]!r}"


class ComponentsFailed(KubeadmError):
    """A wait ended early: components (or the kubelet) failed; ``reports`` says how."""

    def __init__(self, reports: Sequence[ComponentReport]) -> None:
        logs = [f"{r.component}: {r.log_path}" for r in reports if r.log_path and r.component != "kubelet"]
        tails = [
            f"last log lines of {r.component}:\n  " + "\n  ".join(r.log_tail) for r in reports if r.log_tail
        ]
        super().__init__(
            "; ".join(r.line() for r in reports),
            hint=("logs: " + ", ".join(logs) if logs else None),
        )
        self.reports = list(reports)
        self.details = "\n".join(tails)


# What the watch checks each poll: the names still unhealthy (pending) -> failures found now.
Watch = Callable[[Collection[str]], "list[ComponentReport]"]


def _newest(containers: Sequence[ContainerInfo], name: str, since: float) -> ContainerInfo | None:
    mine = [c for c in containers if c.name == name and c.created_at >= since]
    return max(mine, key=lambda c: c.created_at, default=None)


@dataclass
class ComponentWatch:
    """Watches ``components`` (container names in kube-system) through ``runtime`` and the kubelet
    through ``kubelet_running``; call with the names a wait still waits for. ``since`` (seconds
    since the epoch) leaves out containers from before the wait (an upgrade's previous Pod)."""

    runtime: Callable[[], ContainerRuntime]
    components: Sequence[str]
    kubelet_running: Callable[[], bool] | None = None
    since: float = 0.0
    log_tail: Callable[[str, int], list[str]] | None = None
    now: Callable[[], float] = time.time
    image_of: Callable[[str], str | None] | None = None
    _kubelet_missing: float | None = field(default=None, init=False)
    _client: ContainerRuntime | None = field(default=None, init=False)
    _creation: CreationWatch | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.image_of is not None:
            self._creation = CreationWatch(self.image_of, self.now)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ComponentWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __call__(self, pending: Collection[str]) -> list[ComponentReport]:
        out = self._kubelet()
        if out:
            return out
        watched = [c for c in self.components if not (c in NEEDS_APISERVER and "kube-apiserver" in pending)]
        creation = self._creation if self._kubelet_missing is None else None
        if not watched and creation is None:
            return []
        from kubeadm_py.host.cri import CriError

        try:
            if self._client is None:
                self._client = self.runtime()
            rt = self._client
            containers = rt.list_containers(KUBE_SYSTEM)
            for name in self.components:
                newest = _newest(containers, name, self.since)
                if newest is None and creation is not None and name in pending:
                    ran_before = any(c.name == name for c in containers)
                    verdict = creation.judge(rt, name, self.since, ran_before)
                    if verdict is not None:
                        out.append(_not_created(name, verdict))
                elif newest is not None and creation is not None:
                    creation.seen(name)
                if newest is None or name not in watched or newest.state != "exited":
                    continue
                report = self._judge(rt.container_status(newest.id))
                if report is not None:
                    out.append(report)
        except CriError:
            return []  # the runtime itself is not answering: the health wait goes on and says why
        return out

    def _kubelet(self) -> list[ComponentReport]:
        if self.kubelet_running is None or self.kubelet_running():
            self._kubelet_missing = None
            return []
        t = self.now()
        if self._kubelet_missing is None:
            self._kubelet_missing = t
        if t - self._kubelet_missing < KUBELET_GRACE:
            return []
        return [
            ComponentReport(
                "kubelet",
                "not running",
                reason=f"no kubelet process on this node and no answer on its /healthz for "
                f"{t - self._kubelet_missing:.0f}s",
                log_path=KUBELET_LOG,
            )
        ]

    def _judge(self, st: ContainerInfo) -> ComponentReport | None:
        exits = st.attempt + 1
        since_exit = self.now() - st.finished_at if st.finished_at else 0.0
        if exits < EXITS and not (st.exit_code != 0 and since_exit >= EXIT_GRACE):
            return None
        tail = tuple(self.log_tail(st.log_path, LOG_LINES)) if self.log_tail and st.log_path else ()
        reason = st.reason or "Error"
        if st.message:
            reason = f"{reason}: {st.message}"
        return ComponentReport(st.name, "exited", st.exit_code, st.attempt, tail, st.log_path, reason)


def _not_created(component: str, verdict: NotCreated) -> ComponentReport:
    return ComponentReport(
        component,
        "not created",
        reason=f"{verdict.reason}: {verdict.message}",
        log_path=KUBELET_LOG if verdict.kubelet_log else "",
    )
