"""``upgrade apply phase self-hosted``: update the DaemonSets of the components that run self-hosted
on this node (docs/selfhosting.md, "Upgrades"), for a configuration or a version change (the
``control-plane`` phase before it upgraded this node's static etcd and renewed the certificates;
DaemonSets that mount them from Secrets get the renewed files first), one component at a time, in
pivot order:

1. render the component's static Pod from kubeadm-config (as ``init`` and the control-plane phase
   do, ``--patches`` applied) and turn it into its DaemonSet as the pivot does
   (:mod:`kubeadm_py.selfhosting.update`); a live DaemonSet that already has it is ``unchanged``;
2. on a single control-plane node (the DaemonSet has one Pod), activate the node's checkpoint of
   the component first (:meth:`~kubeadm_py.selfhosting.checkpointer.Checkpointer.activate`): a
   static Pod that serves while the DaemonSet Pod is replaced, so the API stays served and a
   controller-manager and a scheduler are there to create and bind the new Pod. Its container fails
   to bind the port until the old Pod is gone; then it is started at once. Once the old Pod is being
   deleted and the checkpoint serves, the old Pod's sandbox is removed rather than left its grace
   period (the controller creates the new Pod only when the old one is gone);
3. write the DaemonSet (RollingUpdate, one node at a time);
4. wait (``--upgrade-timeout``) until the checkpoint has handed back (the checkpointer's rule: the
   kubelet created the new Pod's container in a new sandbox; the phase runs that rule itself too,
   the service does the same), the health endpoint answers, and every node runs a Ready Pod of the
   new generation. The new Pod's containers are watched through the CRI, as the static Pod
   upgrade's are (docs/failfast.md): one that keeps exiting ends the wait; so does a new Pod on
   another node (HA) whose container the API shows restarted 3 times and not ready;
5. on a failure, activate the checkpoint again (single node), write the previous template back,
   wait for it the same way, and fail naming the component and why (its last log line).

A dry run prints the DaemonSets and the checkpoint it would write and waits for nothing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting import contract
from kubeadm_py.selfhosting.checkpoint import active_path
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from kubeadm_py.changes import Change
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.effectors.watch import ComponentReport, ComponentWatch
    from kubeadm_py.kube.client import KubeClient, Obj
    from kubeadm_py.phases.upgrade.state import UpgradeContext
    from kubeadm_py.selfhosting.checkpointer import Checkpointer

FLAGS = ("config", "kubeconfig", "dry-run", "patches", "upgrade-timeout")
PREFIX = "[upgrade/self-hosted]"
POLL_INTERVAL = 0.5
NO_COMPONENT = "no control-plane component runs self-hosted on this node"


def self_hosted(ctx: UpgradeContext) -> list[str]:
    """The components whose DaemonSet Pods run this node's control plane (pivot's copies of their
    static manifests are there, the manifests are not)."""
    from kubeadm_py.selfhosting.status import self_hosted_components

    return self_hosted_components(ctx.fs, ctx.manifests_dir)


def any_self_hosted(ctx: UpgradeContext) -> bool:
    return bool(self_hosted(ctx))


def _guard(check: Callable[[], tuple[bool, str]]) -> Callable[[], tuple[bool, str]]:
    """A waiter check whose API and CRI errors count as "not yet" (the API server is replaced)."""
    from kubeadm_py.host.cri import CriError

    def run() -> tuple[bool, str]:
        try:
            return check()
        except (KubeadmError, CriError) as e:
            return False, str(e).splitlines()[0] if str(e) else type(e).__name__

    return run


class UpdateFailed(KubeadmError):
    """The new template failed; ``here``: this node's new Pod kept exiting (the CRI watch)."""

    def __init__(self, message: str, *, here: bool = False) -> None:
        super().__init__(message)
        self.here = here


class DaemonSetUpdate:
    """One component's update (steps in the module documentation)."""

    def __init__(self, ctx: UpgradeContext, component: str, manifest: bytes) -> None:
        from kubeadm_py.phases.selfhosting.pivot import node_name
        from kubeadm_py.phases.upgrade.control_plane import upgrade_timeout
        from kubeadm_py.upgrade.waiter import health_url

        self.ctx = ctx
        self.component = component
        self.ds = contract.ds_name(component)
        self.manifest = manifest
        self.node = node_name(ctx)
        self.url = health_url(manifest)
        self.timeout = upgrade_timeout(ctx)
        self.bridge = False
        self.handed_back_at: float | None = None  # wall clock, for the CRI watch
        self.hurried = 0  # checkpoint sandboxes removed to skip the kubelet's back-off
        self.restarts = 0  # the new Pod's sandboxes removed, the same way
        self.old_stopped = False  # the replaced Pod's sandboxes removed once the checkpoint serves
        self.replaced: set[str] = set()  # without a bridge: this node's Pod sandboxes when written
        self.service_bridge = False  # the checkpointer service activated the checkpoint meanwhile
        self.runtime: ContainerRuntime | None = None
        self.checkpointer: Checkpointer | None = None
        self.watching: ComponentWatch | None = None
        self.failures: list[ComponentReport] = []
        self.known: set[str] | None = None  # the DaemonSet's Pods when its template was written

    def log(self, text: str) -> None:
        self.ctx.log(f"{PREFIX} {text}")

    # --- the API and the runtime ------------------------------------------------------------------
    def _fail_fast(self) -> KubeClient:
        from kubeadm_py.kube.client import RetryPolicy

        return self.ctx.fx.api.from_kubeconfig(self.ctx.admin_kubeconfig, retry=RetryPolicy(attempts=1))

    def _cri(self) -> ContainerRuntime:
        from kubeadm_py.effectors.cri import endpoint_under
        from kubeadm_py.kubelet.flags import cri_socket
        from kubeadm_py.upgrade.config import node_local

        if self.runtime is None:
            fs = self.ctx.fs
            socket = node_local(fs, self.ctx.manifests_dir).cri_socket or cri_socket(self.ctx.cfg)
            self.runtime = self.ctx.fx.cri(endpoint_under(fs, socket))
        return self.runtime

    def _checkpointer(self) -> Checkpointer:
        """The checkpointer's rules for this component, run by this phase (the service runs the same
        ones; the active checkpoint's annotation keeps the two in agreement)."""
        from kubeadm_py.selfhosting.checkpointer import Checkpointer, ClientCache

        if self.checkpointer is None:
            self.checkpointer = Checkpointer(
                self.ctx.fs,
                self._cri(),
                ClientCache(self._fail_fast),
                self.node,
                self.log,
                manifests_dir=self.ctx.manifests_dir,
                clock=self.ctx.fx.waiter.clock.monotonic,
                components=(self.component,),
            )
        return self.checkpointer

    def _activate(self) -> None:
        from kubeadm_py.host.cri import CriError

        self.hurried = self.restarts = 0
        self.old_stopped = False
        try:
            self._checkpointer().activate(self.component)
        except CriError as e:
            raise KubeadmError(
                f"cannot activate the checkpoint of {self.component}: the container runtime: {e}"
            ) from None

    def _active(self) -> bool:
        return self.ctx.fs.exists(active_path(self.component, self.ctx.manifests_dir))

    # --- the update -------------------------------------------------------------------------------
    def run(self) -> bool:
        """Update the DaemonSet; False when it already matches kubeadm-config."""
        from kubeadm_py.selfhosting import update

        client = self.ctx.kube()
        live = client.get("DaemonSet", self.ds, KUBE_SYSTEM)
        if live is None:
            raise KubeadmError(
                f"{self.component} is self-hosted on {self.node} but the DaemonSet {KUBE_SYSTEM}/{self.ds} "
                "does not exist",
                hint="kubeadm-py selfhosting status; docs/selfhosting.md (going back to static Pods)",
            )
        want = update.wanted(self.component, self.manifest, live)
        if update.unchanged(want, live):
            self.log(f"The DaemonSet {self.ds} matches kubeadm-config: unchanged")
            return False
        self.log(
            f"The DaemonSet {self.ds} differs from kubeadm-config at {', '.join(update.changed(want, live))}"
        )
        before = update.previous(live)
        self.bridge = update.needs_bridge(live)
        if self.bridge:
            self.log(
                f"One {self.ds} Pod: activating the checkpoint of {self.component} on {self.node} to serve "
                "while that Pod is replaced"
            )
            self._activate()
        else:
            self.replaced = self._ready_sandboxes()
        t0 = self.ctx.fx.waiter.clock.monotonic()
        self.known = self._pod_names()
        try:
            client.apply(want, detail="updated from kubeadm-config")
        except KubeadmError:
            if self.bridge:  # the old Pod keeps running: nothing to bridge
                self.ctx.fs.remove(active_path(self.component, self.ctx.manifests_dir))
            self._close()
            raise
        try:
            try:
                self._wait_rolled_out("updated")
            except UpdateFailed as e:
                self._rollback(before, str(e), here=e.here)
        finally:
            self._close()
        took = self.ctx.fx.waiter.clock.monotonic() - t0
        self.log(f"{self.component} updated on {self.node} in {took:.1f}s")
        return True

    def _rollback(self, before: Obj, reason: str, *, here: bool = False) -> None:
        self.log(f"Rolling {self.ds} back to its previous template: {reason}")
        outcome = f"rolled back, {self.component} healthy again with the previous template"
        try:
            if (self.bridge or here) and not self._active():
                # This node's new Pod keeps failing (on HA too): its checkpoint serves this node's
                # address while the previous template is written back (the endpoint may name it).
                self.bridge = True
                self._activate()
            self.handed_back_at = None
            self._close_watch()
            self._wait_api()
            if not self.bridge:
                self.replaced = self._ready_sandboxes()
            self.known = self._pod_names()
            self._fail_fast().apply(before, detail="rolled back to the previous template")
            self._wait_rolled_out("rolled back")
        except KubeadmError as e:
            outcome = f"the rollback did not complete, {self.component} is NOT healthy: {e}"
        logs = ", ".join(r.log_path for r in self.failures if r.log_path)
        raise KubeadmError(
            f"the update of the DaemonSet {KUBE_SYSTEM}/{self.ds} failed: {reason}; {outcome}",
            hint=(f"its log: {logs}; " if logs else "")
            + f"crictl ps -a --name {self.component}; kubectl -n {KUBE_SYSTEM} describe ds {self.ds}",
        ) from None

    # --- waiting ----------------------------------------------------------------------------------
    def _wait_api(self) -> None:
        from kubeadm_py.effectors.waiting import Target

        client = self._fail_fast()

        def check() -> tuple[bool, str]:
            if self._active():
                self._hurry()
            client.get("DaemonSet", self.ds, KUBE_SYSTEM)
            return True, ""

        name = f"{self.component}/api"
        what = f"the API server (the checkpoint of {self.component} serving)"
        bad = self.ctx.fx.waiter.wait_all(
            [Target(name, what, _guard(check))], self.timeout, interval=POLL_INTERVAL
        )
        if name in bad:
            raise KubeadmError(f"timed out waiting for {what}: {bad[name]}")

    def _wait_rolled_out(self, how: str) -> None:
        from kubeadm_py.effectors.waiting import Target
        from kubeadm_py.effectors.watch import ComponentsFailed

        name = f"{self.component}/{how}"
        what = f"the {how} DaemonSet {self.ds} to roll out, healthy on {self.node}"
        try:
            bad = self.ctx.fx.waiter.wait_all(
                [Target(name, what, _guard(self._rolled_out))],
                self.timeout,
                interval=POLL_INTERVAL,
                watch=self._watch,
            )
        except ComponentsFailed as e:
            self.failures.extend(e.reports)
            self.ctx.outputs.failures = [r.to_json() for r in self.failures]
            if e.details:
                self.log(e.details)
            here = any(r.component == self.component for r in e.reports)
            raise UpdateFailed(e.message, here=here) from None
        if name in bad:
            raise UpdateFailed(f"timed out waiting for {what}: {bad[name]}")

    def _rolled_out(self) -> tuple[bool, str]:
        from kubeadm_py.host.health import http_check
        from kubeadm_py.phases.selfhosting.pivot import pods_on
        from kubeadm_py.selfhosting.update import rolled_out

        if not self.bridge and self._active():
            self._service_bridge()
        bridged = self.bridge or self.service_bridge
        if bridged:
            if self._active():
                self._checkpointer().poll()  # hands back when the kubelet runs the new Pod
            if self._active():
                self._hurry()
                if self.bridge:
                    self._stop_old()
                return False, f"the checkpoint of {self.component} serves until the new {self.ds} Pod starts"
            self._checkpointer().poll()  # stores the new Pod as the checkpoint once it runs
        # Watched from here: the new Pod's container that exited on the checkpoint's port (the one
        # the hand-back waited for) was created before, and is not a failure. Without a bridge, from
        # when this node's replaced Pod has stopped: the kubelet may start the new Pod while the old
        # one is in its grace period, holding the port (host network). Until then the watch waits
        # (the rollout may not touch this node's Pod at all: a rollback leaves a Pod of the previous
        # template alone; another node's Pod is replaced first) and the rest of the check goes on.
        if self.handed_back_at is None and (bridged or not self.replaced & self._ready_sandboxes()):
            self.handed_back_at = time.time()
            if bridged:
                self.log(f"The checkpoint of {self.component} handed back to the new {self.ds} Pod")
        if self.url is not None:
            ok, detail = http_check(self.url, timeout=2.0)
            if not ok:
                self._restart_now(self.url)
                return False, f"{self.url}: {detail}"
        client = self._fail_fast()
        return rolled_out(
            client.get("DaemonSet", self.ds, KUBE_SYSTEM),
            pods_on(client, self.component, self.node),
            self.node,
        )

    def _service_bridge(self) -> None:
        """The checkpointer service activated this node's checkpoint of the component: its API
        server (the endpoint this node's kubeconfigs name) and its DaemonSet Pod were down for the
        service's grace, as on HA while the DaemonSet controller replaces this node's Pod. It serves
        until the new Pod runs, as the phase's own bridge does: the watch starts again after its
        hand-back (the new Pod's exits on the port it holds are not failures)."""
        if not self.service_bridge:
            self.log(
                f"The checkpointer service activated the checkpoint of {self.component} on {self.node}: "
                f"it serves until the new {self.ds} Pod starts"
            )
        self.service_bridge = True
        self.handed_back_at = None
        self._close_watch()

    def _ready_sandboxes(self) -> set[str]:
        """This node's ready sandboxes of the component's DaemonSet Pods (none when the runtime
        does not answer: the watch then starts at once)."""
        from kubeadm_py.host.cri import CriError
        from kubeadm_py.selfhosting.checkpoint import is_ds_pod_name

        try:
            sandboxes = self._cri().list_sandboxes()
        except CriError:
            return set()
        return {s.id for s in sandboxes if s.ready and is_ds_pod_name(self.component, s.name)}

    def _watch(self, pending: Collection[str]) -> list[ComponentReport]:
        """The component's containers since the hand-back (before it the checkpoint, whose
        container has the same name, crash-loops on purpose)."""
        from kubeadm_py.phases.shared.kit import component_watch

        elsewhere = self._failing_elsewhere()
        if self.handed_back_at is None:
            return elsewhere
        if self.watching is None:
            self.watching = component_watch(self.ctx, [self.component], self.handed_back_at)
        return [*self.watching([self.component]), *elsewhere]

    def _ds_pods(self) -> list[Obj] | None:
        """The DaemonSet's Pods on every node (None: the API did not answer)."""
        selector = contract.label_selector(self.component)
        try:
            return self._fail_fast().list("Pod", KUBE_SYSTEM, label_selector=selector)
        except KubeadmError:
            return None

    def _pod_names(self) -> set[str] | None:
        """The names of the DaemonSet's Pods now (None: the API did not answer; then no Pod on
        another node is judged)."""
        pods = self._ds_pods()
        return None if pods is None else {str((p.get("metadata") or {}).get("name", "")) for p in pods}

    def _failing_elsewhere(self) -> list[ComponentReport]:
        """New Pods of the DaemonSet on other nodes that keep failing, as the API shows them
        (:func:`~kubeadm_py.selfhosting.update.failing_elsewhere`), one report each, named
        ``<component> on <node>``."""
        from kubeadm_py.effectors.watch import ComponentReport
        from kubeadm_py.selfhosting.update import failing_elsewhere

        if self.known is None:
            return []
        pods = self._ds_pods()
        if pods is None:
            return []
        reports = []
        for pod, cs in failing_elsewhere(pods, self.node, self.known):
            last = (cs.get("lastState") or {}).get("terminated") or {}
            message = str(last.get("message") or "").strip().splitlines()
            reports.append(
                ComponentReport(
                    f"{self.component} on {pod['spec']['nodeName']}",
                    "exited",
                    last.get("exitCode"),
                    int(cs.get("restartCount") or 0),
                    tuple(message[-3:]),
                    "",
                    f"{last.get('reason') or 'Error'}, Pod {pod['metadata']['name']}",
                )
            )
        return reports

    def _hurry(self) -> None:
        """The checkpoint's container exited (its DaemonSet Pod held the port) and the port is free
        now: start it at once (at most 3 times)."""
        from kubeadm_py.host.health import port_free
        from kubeadm_py.selfhosting.handoff import MAX_RESTARTS

        if self.url is None or self.hurried >= MAX_RESTARTS:
            return
        self.hurried += bool(self._checkpointer().hurry_checkpoint(self.component, port_free(self.url)))

    def _stop_old(self) -> None:
        """The DaemonSet controller deletes the old Pod, and the kubelet gives it its grace period
        (30 s, which the API server takes); the controller creates the new Pod only once the old
        one is gone. Once the old Pod is being deleted and the checkpoint serves in its place (its
        container runs and the health endpoint answers), the old Pod's sandboxes, as recorded at
        the activation, go now (once), as the pivot stops the static Pod it replaced."""
        from kubeadm_py.host.health import http_check
        from kubeadm_py.phases.selfhosting.pivot import pods_on
        from kubeadm_py.selfhosting.checkpoint import is_checkpoint_pod_name

        if self.old_stopped or self.url is None:
            return
        try:
            pods = pods_on(self._fail_fast(), self.component, self.node)
        except KubeadmError:
            return
        if not any((p.get("metadata") or {}).get("deletionTimestamp") for p in pods):
            return
        runtime = self._cri()
        containers = runtime.list_containers(KUBE_SYSTEM)
        if not any(
            k.state == "running" and is_checkpoint_pod_name(self.component, k.pod) for k in containers
        ):
            return
        if not http_check(self.url, timeout=2.0)[0]:
            return
        self.old_stopped = True
        old = self._checkpointer().tracks[self.component].sandboxes_at_activation
        for sandbox in runtime.list_sandboxes():
            if sandbox.id in old:
                self.log(f"Stopping {sandbox.label} now: it is being deleted and the checkpoint serves")
                runtime.remove_sandbox(sandbox)

    def _restart_now(self, url: str) -> None:
        """After the hand-back: the new Pod's container exited on the port the checkpoint held;
        once it is free, start it at once (the pivot's rule, once per hand-back: a container that
        exits again has another reason, and restarting it would only hide that from the watch)."""
        from kubeadm_py.host.health import port_free
        from kubeadm_py.selfhosting.handoff import restart_exited

        if not (self.bridge or self.service_bridge) or self.restarts >= 1:
            return
        self.restarts += len(restart_exited(self._cri(), self.component, port_free(url), self.log))

    def _close_watch(self) -> None:
        if self.watching is not None:
            self.watching.close()
            self.watching = None

    def _close(self) -> None:
        self._close_watch()
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None
            self.checkpointer = None


def _refresh_secrets(ctx: UpgradeContext, components: list[str]) -> None:
    """DaemonSets that mount their certificates from Secrets (pivot's ``--certs-in-secrets``): the
    Secrets get the files the ``control-plane`` phase renewed (unchanged ones are not written)."""
    from kubeadm_py.phases.selfhosting.pivot import upload_secrets
    from kubeadm_py.selfhosting.checkpoint_secrets import secret_names
    from kubeadm_py.selfhosting.update import template_spec

    client = ctx.kube()
    if any(
        secret_names(template_spec(client.get("DaemonSet", contract.ds_name(c), KUBE_SYSTEM)))
        for c in components
    ):
        upload_secrets(ctx)


def run_self_hosted(ctx: UpgradeContext) -> list[Change]:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.shared.kit import run_patches
    from kubeadm_py.upgrade.manifests import NodeManifests

    components = self_hosted(ctx)
    _refresh_secrets(ctx, components)
    node = NodeManifests(ctx.cfg, ctx.fs, ctx.manifests_dir, run_patches(ctx), ctx.log)
    rendered = node.generate(tuple(components))
    updated: list[str] = []
    unchanged: list[str] = []
    for c in components:
        (updated if DaemonSetUpdate(ctx, c, rendered[c]).run() else unchanged).append(c)
    ctx.outputs.upgraded = [*(ctx.outputs.upgraded or []), *updated]
    ctx.outputs.unchanged = [*(ctx.outputs.unchanged or []), *unchanged]
    if not updated:
        return [
            Change(
                "note", "unchanged", "self-hosted", f"DaemonSets match kubeadm-config: {', '.join(unchanged)}"
            )
        ]
    return []  # the DaemonSets and checkpoints written are collected by the runner


def upgrade_self_hosted_phase() -> Phase[UpgradeContext]:
    return Phase(
        "self-hosted",
        "Update the DaemonSets of the self-hosted control plane (rolling, with rollback)",
        run=run_self_hosted,
        flags=FLAGS,
        run_if=any_self_hosted,
        skip_reason=NO_COMPONENT,
    )
