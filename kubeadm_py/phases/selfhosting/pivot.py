"""Pivot this node's control plane from static Pods to DaemonSets, one component at a time
(upstream CreateSelfHostedControlPlane, kubernetes/kubernetes v1.17
``cmd/kubeadm/app/phases/selfhosting/selfhosting.go``, made per node and reversible):

0. (phase ``install-checkpointer``, once before the components) install and start the
   checkpointer service, so a restart from here on brings the control plane back;

1. create or update the DaemonSet ``self-hosted-<component>`` (:mod:`kubeadm_py.selfhosting.daemonset`);
2. label this Node ``kubeadm-py.io/self-hosted=true`` (its node selector);
3. wait until the DaemonSet's Pod is on this node and the kubelet has started it (its container
   keeps failing to bind the port the static Pod holds: that is expected);
4. move the static manifest to /etc/kubernetes/tmp/kubeadm-py-selfhosting/ (the kubelet stops the
   static Pod; the DaemonSet Pod's container binds on its next restart, which the pivot brings
   forward once the port is free: :mod:`kubeadm_py.selfhosting.handoff`);
5. wait until the mirror Pod is gone, the DaemonSet Pod on this node is Ready and the component's
   health endpoint (the manifest's liveness probe) answers.

On a failure after step 1 the static manifest goes back, the component's health is waited for,
and what this run added is removed: the DaemonSet if it created it, the label if it added it (so
components pivoted earlier keep running). A rerun continues an interrupted pivot (the manifest is
taken back from the backup first) and leaves a pivoted component alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting import contract
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.changes import Change
    from kubeadm_py.effectors.cri import ContainerRuntime
    from kubeadm_py.kube.client import KubeClient, Obj
    from kubeadm_py.phases.context import AnyContext

POLL_INTERVAL = 1.0
# What a wait target waits for, the second part of its name (``kube-apiserver/self-hosted``).
SCHEDULED, SELF_HOSTED, STATIC = "scheduled", "self-hosted", "static"
FLAGS = ("config", "kubeconfig", "dry-run", "certs-in-secrets")
PREFIX = "[self-hosted]"


def node_name(ctx: AnyContext) -> str:
    """This node as its kubelet.conf names it, else the configuration's node name."""
    from kubeadm_py.upgrade.config import node_local

    return node_local(ctx.fs, ctx.manifests_dir).node_name or ctx.cfg.node_name


def _fail_fast(ctx: AnyContext) -> KubeClient:
    """A client that answers at once while the API server itself is being replaced."""
    from kubeadm_py.kube.client import RetryPolicy

    return ctx.fx.api.from_kubeconfig(ctx.admin_kubeconfig, retry=RetryPolicy(attempts=1))


def pods_on(client: KubeClient, component: str, node: str) -> list[Obj]:
    """The DaemonSet Pods of ``component`` bound to ``node``."""
    pods = client.list("Pod", KUBE_SYSTEM, label_selector=contract.label_selector(component))
    return [p for p in pods if (p.get("spec") or {}).get("nodeName") == node]


def pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def started(pod: Obj) -> bool:
    """The kubelet has run the Pod's container at least once (its volumes are mounted and its image
    is there; while the static Pod holds the port it exits again)."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        state, last = cs.get("state") or {}, cs.get("lastState") or {}
        if "running" in state or "terminated" in state or "terminated" in last:
            return True
    return False


def waiting_reason(pod: Obj) -> str:
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting:
            return f"{waiting.get('reason', 'waiting')} {waiting.get('message', '')}".strip()
    return str(status.get("phase", "Pending"))


def self_hosted_here(client: KubeClient, component: str, node: str) -> bool:
    """The DaemonSet exists and its Pod on ``node`` is Ready."""
    if client.get("DaemonSet", contract.ds_name(component), KUBE_SYSTEM) is None:
        return False
    return any(pod_ready(p) for p in pods_on(client, component, node))


def _guard(check: Callable[[], tuple[bool, str]]) -> Callable[[], tuple[bool, str]]:
    """A waiter check whose API errors count as "not yet" (the API server restarts)."""

    def run() -> tuple[bool, str]:
        try:
            return check()
        except KubeadmError as e:
            return False, str(e)

    return run


class Pivot:
    """One component's pivot on this node (steps in the module documentation)."""

    def __init__(self, ctx: AnyContext, component: str) -> None:
        from kubeadm_py.manifests.write import manifest_path

        self.ctx = ctx
        self.component = component
        self.node = node_name(ctx)
        self.path = manifest_path(ctx.manifests_dir, component)
        self.backup = contract.backup_path(component)
        self.timeout = ctx.cfg.timeout("upgradeManifests")
        self.created = False
        self.labelled = False
        self.restarts = 0  # DaemonSet Pod sandboxes removed to skip the kubelet's back-off
        self.static_stopped = False  # the static Pod's sandbox removed once the DaemonSet Pod serves
        self.runtime: ContainerRuntime | None = None

    def log(self, text: str) -> None:
        self.ctx.log(f"{PREFIX} {text}")

    def manifest(self, client: KubeClient) -> bytes | None:
        """The static manifest, or None when the component is already self-hosted here. A backup
        without a healthy DaemonSet Pod is an interrupted pivot: it is moved back first."""
        fs = self.ctx.fs
        data = fs.read_bytes(self.path)
        if data is not None or self_hosted_here(client, self.component, self.node):
            return data
        if fs.exists(self.backup):
            self.log(f"Continuing an interrupted pivot of {self.component}: restoring {self.path} first")
            fs.move(self.backup, self.path)
            return fs.read_bytes(self.path)
        raise KubeadmError(
            f"{self.path} not found and {self.component} is not self-hosted on {self.node}",
            hint="pivot runs on a control-plane node with its static Pod manifests",
        )

    def run(self) -> list[Change]:
        from kubeadm_py.effectors.waiting import seconds_text
        from kubeadm_py.manifests.pod import from_yaml
        from kubeadm_py.selfhosting.daemonset import build_daemonset, image_version

        client = self.ctx.kube()
        data = self.manifest(client)
        if data is None:
            self.log(f"{self.component} is already self-hosted on {self.node}")
            return []
        pod = from_yaml(data, self.path)
        version = image_version(pod) or self.ctx.cfg.kubernetes_version
        ds = build_daemonset(
            self.component, pod, version, certs_in_secrets=bool(self.ctx.options.certs_in_secrets)
        )
        self.created = client.get("DaemonSet", contract.ds_name(self.component), KUBE_SYSTEM) is None
        client.apply(ds, detail="created" if self.created else "")
        try:
            self._label(client)
            self._wait_scheduled()
            self.log(f"Moving {self.path} to {self.backup}: the kubelet stops the static Pod")
            self.ctx.fs.mkdir(contract.BACKUP_DIR, 0o700)
            self.ctx.fs.move(self.path, self.backup)
            moved = self.ctx.fx.waiter.clock.monotonic()
            self._wait_self_hosted(data)
        except KubeadmError as e:
            self._rollback(data)
            raise KubeadmError(
                f"self-hosting {self.component} on {self.node} failed: {e}; its static Pod is back",
                hint=f"kubectl -n kube-system describe ds {contract.ds_name(self.component)}; "
                f"crictl ps -a --name {self.component}",
            ) from None
        finally:
            if self.runtime is not None:
                self.runtime.close()
        took = seconds_text(self.ctx.fx.waiter.clock.monotonic() - moved)
        self.log(
            f"{self.component} is self-hosted on {self.node}: healthy {took} after its static Pod was stopped"
        )
        return []

    def _label(self, client: KubeClient) -> None:
        node = client.get("Node", self.node)
        labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        self.labelled = labels.get(contract.NODE_LABEL) != contract.NODE_LABEL_VALUE

        def mutate(n: Obj) -> None:
            n["metadata"]["labels"][contract.NODE_LABEL] = contract.NODE_LABEL_VALUE

        client.patch_node(
            self.node, mutate, detail=f"labelled {contract.NODE_LABEL}={contract.NODE_LABEL_VALUE}"
        )

    def _wait(self, kind: str, what: str, check: Callable[[], tuple[bool, str]]) -> None:
        """Poll ``check`` through the run's waiter as the target ``<component>/<kind>``."""
        from kubeadm_py.effectors.waiting import Target

        name = f"{self.component}/{kind}"
        waiter = self.ctx.fx.waiter
        bad = waiter.wait_all([Target(name, what, _guard(check))], self.timeout, interval=POLL_INTERVAL)
        if name in bad:
            raise KubeadmError(f"timed out waiting for {what}: {bad[name]}")

    def _wait_scheduled(self) -> None:
        client = _fail_fast(self.ctx)

        def check() -> tuple[bool, str]:
            pods = pods_on(client, self.component, self.node)
            if not pods:
                return False, f"no {contract.ds_name(self.component)} Pod on {self.node} yet"
            if started(pods[0]):
                return True, ""
            return False, f"Pod {pods[0]['metadata']['name']}: {waiting_reason(pods[0])}"

        self._wait(SCHEDULED, f"the {contract.ds_name(self.component)} Pod to start on {self.node}", check)

    def _wait_self_hosted(self, manifest: bytes) -> None:
        from kubeadm_py.host.health import http_check
        from kubeadm_py.upgrade.waiter import health_url

        client, url = _fail_fast(self.ctx), health_url(manifest)
        mirror = f"{self.component}-{self.node}"

        def check() -> tuple[bool, str]:
            if url is not None:
                ok, detail = http_check(url, timeout=2.0)
                if not ok:
                    self._restart_now(url)
                    return False, f"{url}: {detail}"
            pods = pods_on(client, self.component, self.node)
            if not any(pod_ready(p) for p in pods):
                return False, f"the {contract.ds_name(self.component)} Pod on {self.node} is not Ready"
            if client.get("Pod", mirror, KUBE_SYSTEM) is not None:
                self._stop_static(mirror)
                return False, f"the static Pod's mirror {mirror} is still there"
            return True, ""

        self._wait(SELF_HOSTED, f"the self-hosted {self.component} to be healthy on {self.node}", check)

    def _cri(self) -> ContainerRuntime:
        """The kubelet's container runtime (kubeadm-flags.env, else the configuration's)."""
        from kubeadm_py.effectors.cri import endpoint_under
        from kubeadm_py.kubelet.flags import cri_socket
        from kubeadm_py.upgrade.config import node_local

        if self.runtime is None:
            socket = node_local(self.ctx.fs, self.ctx.manifests_dir).cri_socket or cri_socket(self.ctx.cfg)
            self.runtime = self.ctx.fx.cri(endpoint_under(self.ctx.fs, socket))
        return self.runtime

    def _restart_now(self, url: str) -> None:
        """Once nothing listens on the component's port, remove the sandbox of a DaemonSet Pod
        whose container exited, so the kubelet starts it without its crash-loop back-off
        (:func:`kubeadm_py.selfhosting.handoff.sandboxes_to_remove`), at most ``MAX_RESTARTS``
        times. A runtime that does not answer only leaves the back-off as it is; a removal the
        runtime refuses counts as one of the tries, and the next poll looks again."""
        from kubeadm_py.host.cri import CriError
        from kubeadm_py.host.health import port_free
        from kubeadm_py.selfhosting.handoff import MAX_RESTARTS, restart_exited

        if self.restarts >= MAX_RESTARTS:
            return
        try:
            removed = restart_exited(self._cri(), self.component, port_free(url), self.log)
        except CriError as e:
            self.log(f"WARNING: not restarting {contract.ds_name(self.component)} early (CRI: {e})")
            self.restarts = MAX_RESTARTS
            return
        self.restarts += bool(removed)

    def _stop_static(self, pod: str) -> None:
        """The DaemonSet Pod serves, and the static Pod ``pod`` still terminates: the kubelet gives
        it its grace period (30 s, which the API server takes, finishing requests it no longer
        accepts). Its sandbox goes now (once; :func:`kubeadm_py.selfhosting.handoff.static_sandboxes`)."""
        from kubeadm_py.host.cri import CriError
        from kubeadm_py.selfhosting.handoff import static_sandboxes

        if self.static_stopped:
            return
        self.static_stopped = True
        try:
            runtime = self._cri()
            for sandbox in static_sandboxes(pod, runtime.list_sandboxes()):
                self.log(f"Stopping {sandbox.label} now: the DaemonSet Pod serves in its place")
                runtime.remove_sandbox(sandbox)
        except CriError as e:
            self.log(f"WARNING: leaving the static Pod {pod} to the kubelet (CRI: {e})")

    def _rollback(self, manifest: bytes) -> None:
        from kubeadm_py.host.health import http_check
        from kubeadm_py.upgrade.waiter import health_url

        fs = self.ctx.fs
        if fs.read_bytes(self.path) is None:
            self.log(f"Putting {self.path} back")
            if fs.exists(self.backup):
                fs.move(self.backup, self.path)
            else:
                fs.write(self.path, manifest, 0o600)
        url = health_url(manifest)
        if url is not None:
            try:
                what = f"the static {self.component} to be healthy at {url}"
                self._wait(STATIC, what, lambda: http_check(url))
            except KubeadmError as e:
                self.log(f"WARNING: {e}")
        try:
            client = self.ctx.kube()
            if self.created:
                self.log(f"Deleting the DaemonSet {contract.ds_name(self.component)} this run created")
                client.delete("DaemonSet", contract.ds_name(self.component), KUBE_SYSTEM)
            if self.labelled:
                self.log(f"Removing the label {contract.NODE_LABEL} this run added to {self.node}")

                def unlabel(n: Obj) -> None:
                    n["metadata"]["labels"].pop(contract.NODE_LABEL, None)

                client.patch_node(self.node, unlabel, detail=f"removed label {contract.NODE_LABEL}")
        except KubeadmError as e:
            self.log(f"WARNING: could not undo the API changes of this pivot: {e}")


def upload_secrets(ctx: AnyContext) -> list[Change]:
    """The certificates and kubeconfigs of this node as Secrets in kube-system (unchanged ones are
    not written)."""
    from kubeadm_py.selfhosting.secrets import secret_objects

    def read(file: str, kubeconfig: bool) -> bytes | None:
        return ctx.fs.read_bytes(f"{ctx.kubeconfig_dir if kubeconfig else ctx.cert_dir}/{file}")

    client = ctx.kube()
    return [client.apply(s, detail="stored for self-hosting") for s in secret_objects(read)]


def run_upload_secrets(ctx: AnyContext) -> list[Change]:
    """With --certs-in-secrets, on the only control-plane node: the Secrets are cluster-wide, and
    kube-apiserver's serving certificate names this node's address (another node's API server would
    serve it, and a later pivot of another node would replace it under this one)."""
    from kubeadm_py.selfhosting.status import control_plane_nodes

    me = node_name(ctx)
    others = [n for n in control_plane_nodes(ctx.kube()) if n != me]
    if others:
        raise KubeadmError(
            f"--certs-in-secrets needs a single control-plane node; {', '.join(others)} is one too "
            "(the Secrets are cluster-wide, the API server's serving certificate is this node's)",
            hint="pivot without --certs-in-secrets (certificates from host paths, the default)",
        )
    return upload_secrets(ctx)


def gate_on(ctx: AnyContext) -> bool:
    return contract.enabled(ctx.cfg.cluster.get("featureGates"))


def component_phase(component: str, *, gated: bool = False) -> Phase[AnyContext]:
    def run(ctx: AnyContext) -> list[Change]:
        return Pivot(ctx, component).run()

    return Phase(
        component,
        f"Run {component} as the DaemonSet {contract.ds_name(component)} on this node",
        run=run,
        flags=FLAGS,
        run_if=gate_on if gated else None,
        skip_reason=GATE_OFF,
    )


GATE_OFF = f"the {contract.FEATURE_GATE} feature gate is off"


def pivot_phases(*, gated: bool = False) -> tuple[Phase[AnyContext], ...]:
    """Secrets (with --certs-in-secrets), the checkpointer service, then each component in
    upstream's order. ``gated``: each runs only when the SelfHosting feature gate is on (init)."""
    from kubeadm_py.phases.shared.selfhosting_checkpointer import install_checkpointer_phase

    def secrets_wanted(ctx: AnyContext) -> bool:
        return bool(ctx.options.certs_in_secrets) and (not gated or gate_on(ctx))

    return (
        Phase(
            "upload-secrets",
            "With --certs-in-secrets: store the certificates and kubeconfigs as Secrets",
            run=run_upload_secrets,
            flags=FLAGS,
            run_if=secrets_wanted,
            skip_reason="certificates come from host paths (no --certs-in-secrets)",
        ),
        # Before the first component is pivoted, so a restart during the pivot is covered.
        install_checkpointer_phase(gate_on if gated else None, GATE_OFF),
        *(component_phase(c, gated=gated) for c in contract.COMPONENTS),
    )


def selfhosting_phase() -> Phase[AnyContext]:
    """``init phase selfhosting``: its children run when the SelfHosting feature gate is on."""
    return Phase(
        "selfhosting",
        f"Run the control plane of this node as DaemonSets (feature gate {contract.FEATURE_GATE})",
        children=pivot_phases(gated=True),
    )
