"""The checkpointer loop (``kubeadm-py selfhosting checkpointer run``, a host service): every
``interval`` seconds it looks at the API server (this node's control-plane Pods) and the container
runtime (the DaemonSet Pods' containers and sandboxes), asks :func:`~.checkpoint.decide` what to
do per component, and does it through the node's files. One log line per transition; components
with neither a checkpoint on this node nor a DaemonSet Pod bound to it are never touched."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from kubeadm_py.constants import KUBE_SYSTEM, MANIFESTS_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.host.cri import CriError
from kubeadm_py.hostfs import MANIFEST_MODE
from kubeadm_py.kube.compare import changed_paths
from kubeadm_py.manifests.pod import from_yaml, to_yaml
from kubeadm_py.manifests.write import write_static_pod
from kubeadm_py.selfhosting.checkpoint import (
    FAILED_PODS_ANNOTATION,
    FAILED_STARTS,
    HANDBACK_JUDGED,
    SANDBOXES_ANNOTATION,
    Action,
    Seen,
    Timing,
    active_path,
    checkpoint_name,
    decide,
    is_checkpoint_pod_name,
    is_ds_pod_name,
    stored_path,
    to_static_pod,
)
from kubeadm_py.selfhosting.checkpoint_secrets import materialize, secret_names
from kubeadm_py.selfhosting.contract import CHECKPOINTER_UNIT, COMPONENTS, ds_name
from kubeadm_py.selfhosting.handoff import restart_exited

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.host.cri import Sandbox
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient


@dataclass
class Handback:
    """The last hand-back of a component's checkpoint: to which DaemonSet Pods, after which of their
    containers (creation time, seconds since the epoch, as the runtime says), when (the loop's
    clock), and the ids of their containers created after it that have exited since (kept here:
    the kubelet's garbage collection removes all but the newest dead one)."""

    pods: frozenset[str]
    after: float
    at: float
    exited: set[str] = field(default_factory=set)


@dataclass
class Track:
    """What the loop remembers of one component between polls."""

    ds_seen_at: float  # a DaemonSet container last ran (or the last transition)
    stored: dict[str, Any] | None = None
    sandboxes_at_activation: set[str] = field(default_factory=set)
    seen_line: str = ""  # what the last poll saw, as logged
    handback: Handback | None = None  # until the API serves the DaemonSet Pod it went to
    failed_pods: set[str] = field(default_factory=set)  # DaemonSet Pods a hand-back failed to


@dataclass(frozen=True)
class RuntimeView:
    running: dict[str, bool]  # component -> a DaemonSet Pod container runs
    ready_sandboxes: dict[str, list[Sandbox]]  # component -> ready DaemonSet Pod sandboxes
    checkpoints: dict[str, list[Sandbox]]  # component -> sandboxes of its checkpoint's static Pod
    created: dict[str, float]  # DaemonSet Pod name -> when its newest container was created
    exited: tuple[tuple[str, str, float], ...] = ()  # (Pod name, container id, created) of exited ones

    def ready_ids(self, component: str) -> set[str]:
        return {s.id for s in self.ready_sandboxes[component]}

    def new_ds_pods(self, component: str, old: set[str], ignore: Collection[str] = ()) -> set[str]:
        """The DaemonSet Pods (not in ``ignore``) of which the kubelet created a container in a ready
        sandbox not in ``old``. A new sandbox alone is not enough: the v1.20 kubelet makes it, then
        refuses to create the containers of an API Pod until its Service informer has listed once
        ("services have not yet been read at least once"); a hand-off then would leave it with no
        API server to list from, for good."""
        return {
            s.name
            for s in self.ready_sandboxes[component]
            if s.id not in old and s.name not in ignore and self.created.get(s.name, -1.0) >= s.created_at
        }


def runtime_view(cri: ContainerRuntime) -> RuntimeView:
    containers = cri.list_containers(KUBE_SYSTEM)
    sandboxes = [s for s in cri.list_sandboxes() if s.namespace == KUBE_SYSTEM]
    created: dict[str, float] = {}
    for k in containers:
        created[k.pod] = max(created.get(k.pod, k.created_at), k.created_at)
    return RuntimeView(
        {c: any(is_ds_pod_name(c, k.pod) and k.state == "running" for k in containers) for c in COMPONENTS},
        {c: [s for s in sandboxes if s.ready and is_ds_pod_name(c, s.name)] for c in COMPONENTS},
        {c: [s for s in sandboxes if s.name.startswith(checkpoint_name(c) + "-")] for c in COMPONENTS},
        created,
        tuple((k.pod, k.id, k.created_at) for k in containers if k.state == "exited"),
    )


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conds.get("Ready") == "True"


def ready_ds_pods(pods: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    """component -> its Running and Ready DaemonSet Pod among ``pods`` (None: no API answer)."""
    if pods is None:
        return None
    out: dict[str, dict[str, Any]] = {}
    for pod in pods:
        name = str((pod.get("metadata") or {}).get("name", ""))
        for c in COMPONENTS:
            if is_ds_pod_name(c, name) and _ready(pod):
                out[c] = pod
    return out


def being_deleted(pods: list[dict[str, Any]]) -> set[str]:
    """The names of the Pods of ``pods`` that have a deletionTimestamp."""
    return {
        str(meta.get("name", "")) for p in pods if (meta := p.get("metadata") or {}).get("deletionTimestamp")
    }


def node_pods(client: KubeClient, node: str) -> list[dict[str, Any]]:
    """The control-plane Pods bound to ``node`` (a node's own credentials may list these)."""
    query = urlencode({"labelSelector": "tier=control-plane", "fieldSelector": f"spec.nodeName={node}"})
    answer = client.request("GET", f"/api/v1/namespaces/{KUBE_SYSTEM}/pods?{query}", what="pods")
    return list(answer.get("items") or [])


class Checkpointer:
    def __init__(
        self,
        fs: HostFS,
        cri: ContainerRuntime,
        client: Callable[[], KubeClient],
        node: str,
        log: Callable[[str], None],
        *,
        manifests_dir: str = MANIFESTS_DIR,
        timing: Timing = Timing(),
        clock: Callable[[], float] = time.monotonic,
        components: tuple[str, ...] = COMPONENTS,
    ) -> None:
        self.fs, self.cri, self.client, self.node, self.log = fs, cri, client, node, log
        self.manifests_dir = manifests_dir
        self.timing = timing
        self.clock = clock
        self.components = components  # the upgrade's own loop looks after one component only
        now = clock()
        self.api_seen_at = now
        self.tracks = {c: Track(now) for c in components}
        self._last_error = ""
        self._api_error = ""
        self._secrets: tuple[float, dict[str, dict[str, str] | None]] = (-1e9, {})

    # --- files ----------------------------------------------------------------------------------
    def _read_stored(self, component: str) -> dict[str, Any] | None:
        return read_stored(self.fs, component)

    def _mkdirs(self, path: str) -> None:
        """``path`` and its parents below /etc/kubernetes, mode 0700 where they are made here."""
        parts = path.strip("/").split("/")
        for i in range(3, len(parts) + 1):
            self.fs.mkdir("/" + "/".join(parts[:i]), 0o700)

    def _active(self, component: str) -> bool:
        return self.fs.exists(active_path(component, self.manifests_dir))

    def _handback_failed(self, c: str, view: RuntimeView, now: float) -> bool:
        """Since the last hand-back of ``c``, no API server for :attr:`Timing.handback` and
        :data:`FAILED_STARTS` containers of the Pod it went to exited (counted across polls)."""
        h = self.tracks[c].handback
        if h is None:
            return False
        h.exited |= {cid for pod, cid, created in view.exited if pod in h.pods and created > h.after}
        quiet = now - max(h.at, self.api_seen_at)
        return quiet >= self.timing.handback and len(h.exited) >= FAILED_STARTS

    def _handback_pods(self, c: str, view: RuntimeView, deleting: set[str]) -> set[str]:
        """With ``c``'s checkpoint active: the DaemonSet Pods it may be handed back to
        (:meth:`RuntimeView.new_ds_pods`), from one read of the active manifest. Sandboxes that do
        not count as new: those there when this loop activated it (or found it active at start),
        and those its :data:`SANDBOXES_ANNOTATION` records (activated by another process:
        ``upgrade apply``). Pods that never get it: those a hand-back failed to (this loop's, and
        those its :data:`FAILED_PODS_ANNOTATION` names, written before this process started), and
        those being deleted (``deleting``): the kubelet, not yet aware of the deletion, may give
        one a new sandbox when its old one is removed (upgrade apply's rollback, test bed
        2026-12-04: the hand-back went to the broken Pod the rollback was replacing)."""
        t = self.tracks[c]
        recorded = active_annotations(self.fs, c, self.manifests_dir)
        old = t.sandboxes_at_activation | _listed(recorded, SANDBOXES_ANNOTATION)
        ignore = t.failed_pods | _listed(recorded, FAILED_PODS_ANNOTATION) | deleting
        return view.new_ds_pods(c, old, ignore)

    # --- one poll -------------------------------------------------------------------------------
    def _node_pods(self) -> list[dict[str, Any]] | None:
        """This node's control-plane Pods as the API has them; None: no API server (noted for the
        log)."""
        try:
            return node_pods(self.client(), self.node)
        except KubeadmError as e:
            self._api_error = str(e).splitlines()[0] if str(e) else type(e).__name__
            if getattr(e, "status", None) is not None and isinstance(self.client, ClientCache):
                self.client.forget()  # the server answered but refused: build the client again
            return None

    def _secret_data(self, names: set[str], now: float) -> dict[str, dict[str, str] | None]:
        """The data of the Secrets a Pod mounts, read again at most every minute (or when another
        one is needed)."""
        at, cached = self._secrets
        if now - at < 60 and names <= set(cached):
            return cached
        client = self.client()
        data = {
            n: (obj or {}).get("data") if (obj := client.get("Secret", n, KUBE_SYSTEM)) else None
            for n in names
        }
        self._secrets = (now, data)
        return data

    def _checkpoint_of(
        self, pod: dict[str, Any], c: str, now: float
    ) -> tuple[dict[str, Any], dict[str, bytes]] | None:
        """The static-Pod form of ``pod`` and the Secret files it needs; None (logged) when a
        Secret cannot be read now."""
        static = to_static_pod(pod, c)
        names = secret_names(static["spec"])
        if not names:
            return static, {}
        try:
            return materialize(static, c, self._secret_data(names, now))
        except KubeadmError as e:
            self._say(f"{c}: cannot checkpoint yet: {e}")
            return None

    def poll(self) -> list[tuple[str, Action, str]]:
        """Look once and act; returns the transitions made (component, action, why)."""
        try:
            view = runtime_view(self.cri)
        except Exception as e:  # the runtime is not up (yet): nothing can run, decide nothing
            self._say(f"container runtime not answering: {e}")
            return []
        self._last_error = ""
        pods = self._node_pods()
        api = ready_ds_pods(pods)
        deleting = being_deleted(pods or [])
        now = self.clock()
        if api is not None:
            self.api_seen_at = now
        done: list[tuple[str, Action, str]] = []
        for c in self.components:
            t = self.tracks[c]
            if t.stored is None:
                t.stored = self._read_stored(c)
            if view.running[c]:
                t.ds_seen_at = now
            active = self._active(c)
            if t.stored is None and not active and not (api and c in api):
                continue  # not self-hosted on this node
            if api and c in api:
                t.handback = None  # the API serves the DaemonSet Pod: the hand-back worked
            form = self._checkpoint_of(api[c], c, now) if api and c in api else None
            static = form[0] if form else None
            new = self._handback_pods(c, view, deleting) if active else set()
            seen = Seen(
                api_up=api is not None,
                api_down_for=now - self.api_seen_at,
                api_pod_changed=static is not None and static != t.stored,
                ds_running=view.running[c],
                ds_down_for=now - t.ds_seen_at,
                ds_sandbox_ready=bool(view.ready_sandboxes[c]),
                new_ds_container=bool(new),
                stored=t.stored is not None,
                active=active,
                handback_failed=not active and self._handback_failed(c, view, now),
            )
            self._observe(c, seen, view)
            action, why = decide(seen, self.timing)
            if action is Action.NONE:
                continue
            if action is Action.STORE and t.stored is not None and static is not None:
                why += "; changed: " + ", ".join(changed_paths(static, t.stored)[:4])
            self._apply(c, action, form, view, new)
            t.ds_seen_at = now if action is not Action.STORE else t.ds_seen_at
            self.log(f"{c}: {action.value} ({why})")
            done.append((c, action, why))
        return done

    def _apply(
        self,
        c: str,
        action: Action,
        form: tuple[dict[str, Any], dict[str, bytes]] | None,
        view: RuntimeView,
        new: Collection[str] = (),
    ) -> None:
        t = self.tracks[c]
        if action is Action.STORE:
            assert form is not None
            static, files = form
            for path in sorted({stored_path(c).rsplit("/", 1)[0], *(p.rsplit("/", 1)[0] for p in files)}):
                self._mkdirs(path)
            for path, data in sorted(files.items()):
                self.fs.write(path, data, 0o600, secret=True)
            self.fs.write(stored_path(c), to_yaml(static).encode(), MANIFEST_MODE)
            t.stored = static
        elif action is Action.ACTIVATE:
            self._note_failed_handback(c)
            stuck = [s for s in view.ready_sandboxes[c] if s.name not in t.failed_pods]
            t.sandboxes_at_activation = self._remove_stale(c, stuck)
            assert t.stored is not None
            pod = t.stored
            if t.failed_pods:
                pod = copy.deepcopy(t.stored)
                annotations = pod["metadata"].setdefault("annotations", {})
                annotations[FAILED_PODS_ANNOTATION] = ",".join(sorted(t.failed_pods))
            write_static_pod(self.fs, self.manifests_dir, checkpoint_name(c), pod)
        elif action is Action.DEACTIVATE:
            self.fs.remove(active_path(c, self.manifests_dir))
            t.sandboxes_at_activation = set()
            if c in HANDBACK_JUDGED:
                after = max((view.created.get(p, 0.0) for p in new), default=0.0)
                t.handback = Handback(frozenset(new), after, self.clock())
            # Free the host ports now rather than when the kubelet gets to the static Pod: the
            # DaemonSet Pod's next start then binds.
            freed = True
            for sandbox in view.checkpoints[c]:
                try:
                    self.cri.remove_sandbox(sandbox)
                except CriError as e:  # the kubelet stops it anyway
                    freed = False
                    self.log(f"{c}: could not stop {sandbox.label}: {e}")
            self._restart_ds_pod(c, freed)

    def activate(self, c: str) -> Change:
        """Activate ``c``'s checkpoint while its DaemonSet Pod still runs (``upgrade apply``'s bridge
        over the replacement of that Pod): from the stored checkpoint, else from the running Pod as
        the API has it (stored first). The DaemonSet Pod's ready sandboxes are recorded in the
        manifest (:data:`SANDBOXES_ANNOTATION`), not removed: the hand-back then waits for a
        container in a sandbox newer than those, whichever process decides it."""
        t = self.tracks[c]
        t.stored = t.stored or self._read_stored(c)
        if t.stored is None:
            api = ready_ds_pods(self._node_pods())
            form = self._checkpoint_of(api[c], c, self.clock()) if api and c in api else None
            if form is None:
                raise KubeadmError(
                    f"no checkpoint of {c} on {self.node} to serve while its DaemonSet Pod is replaced: "
                    "none stored and no Running, Ready DaemonSet Pod to take one from",
                    hint=f"systemctl status {CHECKPOINTER_UNIT} (it stores the checkpoints)",
                )
            self._apply(c, Action.STORE, form, runtime_view(self.cri))
        assert t.stored is not None
        old = runtime_view(self.cri).ready_ids(c)
        t.sandboxes_at_activation = set(old)
        pod = copy.deepcopy(t.stored)
        pod["metadata"].setdefault("annotations", {})[SANDBOXES_ANNOTATION] = ",".join(sorted(old))
        change = write_static_pod(self.fs, self.manifests_dir, checkpoint_name(c), pod)
        t.ds_seen_at = self.clock()
        self.log(f"{c}: activate (bridge while its DaemonSet Pod is replaced; its sandboxes now: "
                 f"{', '.join(s[:13] for s in sorted(old)) or 'none'})")  # fmt: skip
        return change

    def _note_failed_handback(self, c: str) -> None:
        """At an activation: the Pods of the last hand-back, when :data:`FAILED_STARTS` of their
        containers exited since, get no hand-back any more (they keep failing: a broken template
        written by hand, or a rollout the controller made while this node's API server was the only
        one). The checkpoint serves until the DaemonSet's Pod changes."""
        t = self.tracks[c]
        h, t.handback = t.handback, None
        if h is None or len(h.exited) < FAILED_STARTS:
            return
        t.failed_pods |= h.pods
        self.log(
            f"{c}: the hand-back to {', '.join(sorted(h.pods))} failed ({len(h.exited)} of its containers "
            "exited, no API server): the checkpoint serves until the DaemonSet's Pod changes; fix the "
            f"DaemonSet (kubectl -n {KUBE_SYSTEM} rollout undo ds/{ds_name(c)}, or edit it), or delete "
            "that Pod to try it again"
        )

    def hurry_checkpoint(self, c: str, port_free: bool) -> list[str]:
        """An active checkpoint whose containers all exited (they could not bind the port its
        DaemonSet Pod held) while the port is free now: remove its sandbox so the kubelet starts it
        at once instead of after its crash-loop back-off. The labels of the sandboxes tried."""
        return restart_exited(
            self.cri, c, port_free, self.log, pod_of=is_checkpoint_pod_name, prefix=f"{c}: "
        )

    def _remove_stale(self, c: str, ready: list[Sandbox]) -> set[str]:
        """At activation: remove the DaemonSet Pod's ready sandboxes (activation means none of its
        containers ran for ``takeover`` seconds: stuck, or orphans of a kubelet that restarted
        without an API server and so never cleans them up). Kept, the kubelet would reuse such a
        sandbox once the checkpoint serves the DaemonSet Pod to it, the hand-off would never see
        a new sandbox, and the checkpoint would keep the ports its DaemonSet Pod needs. The ids
        of those that could not be removed (they do not count as new)."""
        left = set()
        for sandbox in ready:
            try:
                self.cri.remove_sandbox(sandbox)
                self.log(f"{c}: removed the stale {sandbox.label}")
            except CriError as e:
                left.add(sandbox.id)
                self.log(f"{c}: could not remove the stale {sandbox.label}: {e}")
        return left

    def _observe(self, c: str, seen: Seen, view: RuntimeView) -> None:
        """One log line whenever what the checkpointer sees of ``c`` changes: the evidence for its
        next decision."""
        api = "API up" if seen.api_up else f"API down ({self._api_error})"
        ds = "runs" if seen.ds_running else "not running"
        ids = ", ".join(sorted(s.id[:13] for s in view.ready_sandboxes[c])) or "none"
        line = f"{c}: sees {api}; DaemonSet Pod container {ds}; its ready sandboxes: {ids}"
        if line != self.tracks[c].seen_line:
            self.tracks[c].seen_line = line
            self.log(line)

    def _restart_ds_pod(self, c: str, port_free: bool) -> None:
        """After a hand-off: the DaemonSet Pod whose container exited (it failed to bind the
        checkpoint's port) starts again at once instead of after the kubelet's back-off
        (:mod:`kubeadm_py.selfhosting.handoff`)."""
        try:
            restart_exited(self.cri, c, port_free, self.log, prefix=f"{c}: ")
        except CriError as e:  # the back-off runs out by itself
            self.log(f"{c}: could not restart the DaemonSet Pod early: {e}")

    def adopt_active(self) -> None:
        """At start: a checkpoint already active keeps running until a DaemonSet sandbox appears
        that is not there now."""
        try:
            view = runtime_view(self.cri)
        except Exception:
            return
        for c in self.components:
            self.tracks[c].sandboxes_at_activation = view.ready_ids(c)
            self.tracks[c].failed_pods = recorded_failed_pods(self.fs, c, self.manifests_dir)

    def _say(self, message: str) -> None:
        if message != self._last_error:
            self.log(message)
            self._last_error = message

    def run(self, interval: float, stop: Callable[[], bool], sleep: Callable[[float], None]) -> None:
        self.adopt_active()
        self.log(f"checkpointer on node {self.node}: polling every {interval:g}s")
        while not stop():
            self.poll()
            self.fs.sync()
            sleep(interval)


class ClientCache:
    """One API client for the loop, built again only after the server refused it (a rotated
    kubelet certificate) or could not be built (no kubeconfig yet)."""

    def __init__(self, build: Callable[[], KubeClient]) -> None:
        self.build = build
        self._client: KubeClient | None = None

    def __call__(self) -> KubeClient:
        if self._client is None:
            self._client = self.build()
        return self._client

    def forget(self) -> None:
        self._client = None


def recorded_failed_pods(fs: HostFS, component: str, manifests_dir: str = MANIFESTS_DIR) -> set[str]:
    """The DaemonSet Pods an active checkpoint's :data:`FAILED_PODS_ANNOTATION` names (empty when it
    has none, or is not active)."""
    return _listed(active_annotations(fs, component, manifests_dir), FAILED_PODS_ANNOTATION)


def active_annotations(fs: HostFS, component: str, manifests_dir: str = MANIFESTS_DIR) -> dict[str, Any]:
    """The annotations of ``component``'s active checkpoint (empty when it is not active)."""
    text = fs.read_text(active_path(component, manifests_dir))
    if not text:
        return {}
    try:
        doc = from_yaml(text, active_path(component, manifests_dir))
    except KubeadmError:
        return {}
    return ((doc or {}).get("metadata") or {}).get("annotations") or {} if isinstance(doc, dict) else {}


def _listed(annotations: dict[str, Any], key: str) -> set[str]:
    """The comma-separated values of the annotation ``key``."""
    return {s for s in str(annotations.get(key, "")).split(",") if s}


def read_stored(fs: HostFS, component: str) -> dict[str, Any] | None:
    text = fs.read_text(stored_path(component))
    if text is None:
        return None
    doc = from_yaml(text, stored_path(component))
    return doc if isinstance(doc, dict) else None


def states(
    fs: HostFS, manifests_dir: str = MANIFESTS_DIR, components: Iterable[str] = COMPONENTS
) -> dict[str, str]:
    """component -> ``active``, ``stored`` or ``none`` (for recover)."""
    from kubeadm_py.selfhosting.status import checkpoint_state

    return {c: checkpoint_state(fs, manifests_dir, c) for c in components}
