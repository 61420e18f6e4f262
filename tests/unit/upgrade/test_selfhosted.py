"""``upgrade apply`` on a node whose control plane is self-hosted (docs/selfhosting.md, "Upgrades"):
the ``control-plane`` phase swaps this node's static etcd only and renews the certificates; the
``self-hosted`` phase updates the DaemonSets that differ from kubeadm-config (a configuration or a
version change), bridges the replacement of a single node's Pod with its checkpoint, and rolls
a DaemonSet back when its new Pod keeps exiting. The waiter plays the DaemonSet controller and the
kubelet; a fake runtime lists the DaemonSet Pods' sandboxes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.effectors.waiting import Log, Target, Waiter
from kubeadm_py.effectors.watch import ComponentReport, ComponentsFailed, Watch
from kubeadm_py.errors import KubeadmError, PhaseError
from kubeadm_py.host.cri import ContainerInfo, Sandbox
from kubeadm_py.phases.upgrade.selfhosted import DaemonSetUpdate
from kubeadm_py.selfhosting.checkpoint import SANDBOXES_ANNOTATION, active_path, stored_path
from kubeadm_py.selfhosting.contract import backup_path
from kubeadm_py.selfhosting.daemonset import build_daemonset, image_version
from tests.unit.upgrade.conftest import BASE_VERSION, NODE, Node

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
MANIFESTS = "/etc/kubernetes/manifests"


def test_plan_says_the_mode_of_each_component(node: Node) -> None:
    from kubeadm_py.upgrade import plan as planlib

    result = planlib.plan(*node.open())
    assert result["controlPlaneMode"] == dict.fromkeys(COMPONENTS, "static")
    assert "Control plane mode on this node: static Pods" in planlib.render_text(result)
    backup = node.path(backup_path("kube-scheduler"))
    backup.parent.mkdir(parents=True)
    node.path(f"{MANIFESTS}/kube-scheduler.yaml").rename(backup)
    result = planlib.plan(*node.open())
    assert result["controlPlaneMode"]["kube-scheduler"] == "self-hosted"
    text = planlib.render_text(result)
    assert (
        "kube-scheduler self-hosted (self-hosted components are DaemonSets: 'upgrade apply' updates" in text
    )


# --- the self-hosted phase ---------------------------------------------------------------------------
class DaemonSetWaiter(Waiter):
    """Waits as if the DaemonSet controller and the kubelet ran: ``<component>/updated`` and
    ``<component>/rolled back`` succeed, except ``updated`` of the ``broken`` components, whose new
    Pod keeps exiting (the CRI watch's verdict); ``<component>/api`` (the checkpoint serving during a
    rollback) succeeds. Records ``(kind, component)`` per wait, and the checkpoint files then."""

    def __init__(self, node: Node, broken: set[str] | None = None) -> None:
        super().__init__()
        self.node = node
        self.broken = broken or set()
        self.calls: list[tuple[str, str]] = []
        self.active: list[bool] = []
        self.never_recovers: set[str] = set()  # their rollback's wait times out too

    def wait_all(
        self,
        targets: Sequence[Target],
        timeout: float,
        *,
        interval: float = 1.0,
        log: Log | None = None,
        prefix: str = "",
        watch: Watch | None = None,
    ) -> dict[str, str]:
        for t in targets:
            component, _, kind = t.name.partition("/")
            self.calls.append((kind, component))
            self.active.append(self.node.path(active_path(component)).exists())
            if kind == "updated" and component in self.broken:
                raise ComponentsFailed(
                    [
                        ComponentReport(
                            component,
                            "exited",
                            exit_code=1,
                            restarts=1,
                            log_tail=("Error: unknown flag: --no-such-flag",),
                            log_path=f"/var/log/pods/kube-system_self-hosted-{component}-x1x2x/{component}/1.log",
                            reason="Error",
                        )
                    ]
                )
            if kind == "rolled back" and component in self.never_recovers:
                return {t.name: f"{component} stays down"}
        return {}


class FakeCri:
    """The node's runtime: the DaemonSet Pods' sandboxes (one each, ready) and their containers."""

    endpoint = "unix:///run/containerd/containerd.sock"

    def __init__(self) -> None:
        self.sandboxes = [
            Sandbox(f"sb-{c}", f"self-hosted-{c}-x1x2x", "kube-system", True, 100.0) for c in COMPONENTS
        ]
        self.removed: list[str] = []

    def __call__(self, endpoint: str) -> FakeCri:
        return self

    def list_containers(self, namespace: str = "") -> list[ContainerInfo]:
        return [
            ContainerInfo(
                f"c-{s.id}", s.name.split("-x1x2x")[0][12:], s.name, "kube-system", "running", 0, 101.0
            )
            for s in self.sandboxes
        ]

    def list_sandboxes(self) -> list[Sandbox]:
        return list(self.sandboxes)

    def remove_sandbox(self, sandbox: Sandbox) -> None:
        self.removed.append(sandbox.id)
        self.sandboxes.remove(sandbox)

    def close(self) -> None:
        return None


def self_hosted(node: Node, desired: int = 1, in_secrets: bool = False) -> dict[str, dict[str, Any]]:
    """Pivot the node as ``selfhosting pivot`` leaves it: DaemonSets from its manifests (with
    ``desired`` Pods scheduled; ``in_secrets``: certificates from Secrets, stored too), the
    manifests parked, a checkpoint of each stored."""
    from kubeadm_py.selfhosting.secrets import secret_objects

    if in_secrets:
        for secret in secret_objects(lambda file, kc: _host_file(node, file, kc)):
            node.api.put(secret)
    out = {}
    for c in COMPONENTS:
        manifest = node.path(f"{MANIFESTS}/{c}.yaml")
        pod = yaml.safe_load(manifest.read_text())
        ds = build_daemonset(c, pod, image_version(pod), certs_in_secrets=in_secrets)
        ds["status"] = {"desiredNumberScheduled": desired}
        out[c] = node.api.put(ds)
        backup = node.path(backup_path(c))
        backup.parent.mkdir(parents=True, exist_ok=True)
        manifest.rename(backup)
        stored = node.path(stored_path(c))
        stored.parent.mkdir(parents=True, exist_ok=True)
        meta = {"name": f"kubeadm-py-checkpoint-{c}", "namespace": "kube-system"}
        stored.write_text(
            yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod["spec"]})
        )
    return out


def _host_file(node: Node, file: str, kubeconfig: bool) -> bytes | None:
    path = node.path(f"/etc/kubernetes/{'' if kubeconfig else 'pki/'}{file}")
    return path.read_bytes() if path.exists() else None


def config_change(node: Node, tmp_path: Path, **args: str) -> Path:
    doc = yaml.safe_load(node.stored_cluster())
    extra = doc.setdefault("apiServer", {}).setdefault("extraArgs", [])
    extra.extend({"name": k, "value": v} for k, v in args.items())
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def command(node: Node, component: str) -> list[str]:
    ds = node.api.obj("DaemonSet", f"self-hosted-{component}", "kube-system")
    assert ds is not None
    return list(ds["spec"]["template"]["spec"]["containers"][0]["command"])


@pytest.fixture
def shnode(node: Node) -> tuple[Node, DaemonSetWaiter, FakeCri]:
    self_hosted(node)
    waiter = DaemonSetWaiter(node)
    node.waiter = waiter
    return node, waiter, FakeCri()


def run(node: Node, cri: FakeCri, cfg: Path, logs: list[str] | None = None, **options: Any) -> Any:
    from kubeadm_py import api
    from kubeadm_py.effectors.bundle import Hooks
    from tests.unit.runctx import Logs

    reporter = Logs()
    if logs is not None:
        reporter.lines = logs
    hooks = Hooks(kubeconfig_client=node.connect, waiter=node.waiter, cri=cri, etcd=node.etcd.for_node)  # type: ignore[arg-type]
    return api.run(
        "upgrade-apply",
        rootfs=str(node.root),
        hooks=hooks,
        reporter=reporter,
        options={"version": BASE_VERSION, "config": str(cfg), "yes": True, **options},
    )


def test_a_config_change_updates_the_daemonset_over_the_checkpoint(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    before = {c: command(node, c) for c in COMPONENTS}
    report = run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    phases = {p.path: p.status for p in report.phases}
    assert phases["self-hosted"] == "changed", phases
    # control-plane: certificates renewed (the default), no manifest written (etcd's is the same)
    written = {c.target for p in report.phases if p.path == "control-plane" for c in p.changes}
    assert written and not any(t.endswith(".yaml") for t in written), written
    assert "--audit-log-maxage=7" in command(node, "kube-apiserver")
    assert [command(node, c) for c in COMPONENTS[1:]] == [before[c] for c in COMPONENTS[1:]]
    # the checkpoint was written (and still is: this waiter does not hand it back) before the wait
    assert waiter.calls == [("updated", "kube-apiserver")] and waiter.active == [True]
    checkpoint = yaml.safe_load(node.path(active_path("kube-apiserver")).read_text())
    assert checkpoint["metadata"]["annotations"][SANDBOXES_ANNOTATION] == "sb-kube-apiserver"
    assert checkpoint["spec"] == yaml.safe_load(node.path(stored_path("kube-apiserver")).read_text())["spec"]
    assert cri.removed == []  # recorded, not removed
    assert report.outputs["upgraded"] == ["kube-apiserver"]
    assert report.outputs["unchanged"] == ["etcd", "kube-controller-manager", "kube-scheduler"]
    stored = yaml.safe_load(node.stored_cluster())
    assert {"name": "audit-log-maxage", "value": "7"} in stored["apiServer"]["extraArgs"]


def test_the_same_configuration_again_changes_nothing(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    cfg = config_change(node, tmp_path)
    writes = [m for m in node.api.mutations() if m[0] != "GET"]
    report = run(node, cri, cfg)
    assert {p.path: p.status for p in report.phases}["self-hosted"] == "unchanged"
    assert waiter.calls == []
    assert not any(node.path(active_path(c)).exists() for c in COMPONENTS)
    assert [m for m in node.api.mutations() if "daemonsets" in m[1]] == [
        m for m in writes if "daemonsets" in m[1]
    ]


def test_a_broken_flag_is_rolled_back(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    waiter.broken = {"kube-apiserver"}
    before = command(node, "kube-apiserver")
    stored_before = node.stored_cluster()
    # the hand-back happened (the new Pod then kept exiting): the checkpoint is gone
    node_path = node.path(active_path("kube-apiserver"))
    waiter_calls = waiter.wait_all

    def handed_back(targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
        if node_path.exists() and targets[0].name.endswith("/updated"):
            node_path.unlink()
        return waiter_calls(targets, timeout, **kw)

    waiter.wait_all = handed_back  # type: ignore[method-assign]
    with pytest.raises(PhaseError) as e:
        run(node, cri, config_change(node, tmp_path, **{"no-such-flag": "1"}), **{
            "ignore-preflight-errors": ["UnknownExtraArgs"]})  # fmt: skip
    message = str(e.value)
    assert (
        "the update of the DaemonSet kube-system/self-hosted-kube-apiserver failed: kube-apiserver "
        in message
    )
    assert "Error: unknown flag: --no-such-flag" in message
    assert "rolled back, kube-apiserver healthy again with the previous template" in message
    assert (
        "its log: /var/log/pods/kube-system_self-hosted-kube-apiserver-x1x2x/kube-apiserver/1.log" in message
    )
    assert command(node, "kube-apiserver") == before
    # updated; then the checkpoint again (serving the API for the rollback), the old template back
    assert waiter.calls == [
        ("updated", "kube-apiserver"),
        ("api", "kube-apiserver"),
        ("rolled back", "kube-apiserver"),
    ]
    assert waiter.active == [False, True, True]
    assert node.stored_cluster() == stored_before  # upload-config is not reached


def test_ha_replaces_the_pods_without_a_checkpoint(node: Node, tmp_path: Path) -> None:
    self_hosted(node, desired=3)
    node.waiter = waiter = DaemonSetWaiter(node)
    report = run(node, FakeCri(), config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    assert report.ok and waiter.calls == [("updated", "kube-apiserver")] and waiter.active == [False]


def test_dry_run_prints_the_daemonset_and_the_checkpoint(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    before = command(node, "kube-apiserver")
    report = run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}), **{"dry-run": True})
    targets = {(c.action, c.target) for p in report.phases if p.path == "self-hosted" for c in p.changes}
    assert ("update", "DaemonSet kube-system/self-hosted-kube-apiserver") in targets, targets
    assert any(t.endswith("kubeadm-py-checkpoint-kube-apiserver.yaml") for _, t in targets), targets
    assert command(node, "kube-apiserver") == before
    assert not node.path(active_path("kube-apiserver")).exists()
    assert waiter.calls == []


def test_a_missing_daemonset_is_one_error(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    node.api.objects = {k: v for k, v in node.api.objects.items() if k[0] != "DaemonSet"}
    with pytest.raises(KubeadmError, match="kube-apiserver is self-hosted on cp-1 but the DaemonSet"):
        run(node, cri, config_change(node, tmp_path))
    assert NODE == "cp-1"


def test_a_refused_write_takes_the_checkpoint_back(shnode: Any, tmp_path: Path) -> None:
    """The old Pod keeps running when its DaemonSet cannot be written: no bridge is left behind."""
    node, waiter, cri = shnode
    node.api.forbid.add(("PUT", "daemonsets"))
    with pytest.raises(PhaseError, match="daemonsets is forbidden"):
        run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    assert not node.path(active_path("kube-apiserver")).exists() and waiter.calls == []


def test_the_replaced_pod_is_stopped_once_the_checkpoint_serves(
    shnode: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kubelet gives the old Pod its grace period, and the controller waits for it to be gone:
    once it is being deleted and the checkpoint's container runs and answers, its recorded sandbox
    goes through the CRI (the check, run once as the real wait would)."""
    from kubeadm_py.host import health

    node, waiter, cri = shnode
    monkeypatch.setattr(health, "http_check", lambda url, timeout=5.0: (True, ""))
    monkeypatch.setattr(health, "port_free", lambda url, timeout=2.0: False)
    old = node.api.put(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "self-hosted-kube-apiserver-x1x2x",
                "namespace": "kube-system",
                "labels": {"k8s-app": "self-hosted-kube-apiserver", "tier": "control-plane"},
            },
            "spec": {"nodeName": NODE},
        }
    )
    seen: list[tuple[bool, str]] = []

    def check_once(targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
        if targets[0].name == "kube-apiserver/updated":
            seen.append(targets[0].check())  # the old Pod runs: nothing stopped
            old["metadata"]["deletionTimestamp"] = "2026-12-03T18:00:00Z"
            node.api.put(old)
            cri.sandboxes.append(
                Sandbox("sb-cp", f"kubeadm-py-checkpoint-kube-apiserver-{NODE}", "kube-system", True)
            )
            seen.append(targets[0].check())
        return {}

    waiter.wait_all = check_once  # type: ignore[method-assign]
    run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    assert [ok for ok, _ in seen] == [False, False]
    assert "the checkpoint of kube-apiserver serves" in seen[1][1]
    assert cri.removed == ["sb-kube-apiserver"]


def test_a_rollback_that_does_not_recover_says_so(shnode: Any, tmp_path: Path) -> None:
    node, waiter, cri = shnode
    waiter.broken = waiter.never_recovers = {"kube-apiserver"}
    with pytest.raises(PhaseError) as e:
        run(node, cri, config_change(node, tmp_path, **{"no-such-flag": "1"}), **{
            "ignore-preflight-errors": ["UnknownExtraArgs"]})  # fmt: skip
    assert (
        "; the rollback did not complete, kube-apiserver is NOT healthy: timed out waiting for the rolled"
        in str(e.value)
    )


def image(node: Node, component: str) -> str:
    ds = node.api.obj("DaemonSet", f"self-hosted-{component}", "kube-system")
    assert ds is not None
    return str(ds["spec"]["template"]["spec"]["containers"][0]["image"])


def test_a_version_change_upgrades_etcd_then_each_daemonset(shnode: Any) -> None:
    """Static etcd first (the control-plane phase: manifest swap, snapshot), then the three
    DaemonSets at the target version (the self-hosted phase); no static manifest appears for them."""
    from kubeadm_py import api
    from kubeadm_py.effectors.bundle import Hooks

    node, waiter, cri = shnode
    etcd_before = node.manifest("etcd")
    assert "etcd:3.5.15-0" in etcd_before and all(BASE_VERSION in image(node, c) for c in COMPONENTS)
    hooks = Hooks(kubeconfig_client=node.connect, waiter=node.waiter, cri=cri, etcd=node.etcd.for_node)  # type: ignore[arg-type]
    report = api.run(
        "upgrade-apply", rootfs=str(node.root), hooks=hooks, options={"version": "v1.31.14", "yes": True}
    )
    phases = {p.path: p.status for p in report.phases}
    assert phases["control-plane"] == "changed" and phases["self-hosted"] == "changed", phases
    assert "etcd:3.5.24-0" in node.manifest("etcd")
    assert [image(node, c) for c in COMPONENTS] == [f"registry.k8s.io/{c}:v1.31.14" for c in COMPONENTS]
    assert not any(node.path(f"{MANIFESTS}/{c}.yaml").exists() for c in COMPONENTS)
    assert report.outputs["upgraded"] == ["etcd", *COMPONENTS]
    # one DaemonSet at a time, each bridged by its checkpoint (one Pod each)
    assert [c for kind, c in waiter.calls if kind == "updated"] == list(COMPONENTS)
    assert yaml.safe_load(node.stored_cluster())["kubernetesVersion"] == "v1.31.14"
    changed = {c.target for p in report.phases if p.path == "control-plane" for c in p.changes}
    assert any(t.endswith("pki/apiserver.crt") for t in changed), changed  # renewed on the host


def test_upgrade_node_on_a_self_hosted_node_leaves_the_daemonsets_alone(shnode: Any) -> None:
    from kubeadm_py import api
    from kubeadm_py.effectors.bundle import Hooks

    node, waiter, cri = shnode
    before = {c: command(node, c) for c in COMPONENTS}
    hooks = Hooks(kubeconfig_client=node.connect, waiter=node.waiter, cri=cri, etcd=node.etcd.for_node)  # type: ignore[arg-type]
    report = api.run("upgrade-node", rootfs=str(node.root), hooks=hooks, options={"yes": True})
    assert report.ok
    assert {c: command(node, c) for c in COMPONENTS} == before
    assert "self-hosted" not in {p.path for p in report.phases}
    assert not any(node.path(f"{MANIFESTS}/{c}.yaml").exists() for c in COMPONENTS)
    assert not [kind for kind, _ in waiter.calls if kind in ("updated", "rolled back")]


def test_certificates_in_secrets_get_the_renewed_files(node: Node, tmp_path: Path) -> None:
    """``--certs-in-secrets``: the Secrets the DaemonSets mount are refreshed from the certificates
    the control-plane phase renewed (before the DaemonSets are written)."""
    import base64

    self_hosted(node, in_secrets=True)
    node.waiter = DaemonSetWaiter(node)
    secret = node.api.obj("Secret", "apiserver", "kube-system")
    assert secret is not None
    before = base64.b64decode(secret["data"]["tls.crt"])
    assert before == _host_file(node, "apiserver.crt", False)
    report = run(node, FakeCri(), config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    renewed = _host_file(node, "apiserver.crt", False)
    assert report.ok and renewed != before
    secret = node.api.obj("Secret", "apiserver", "kube-system")
    assert secret is not None and base64.b64decode(secret["data"]["tls.crt"]) == renewed
    scheduler = node.api.obj("Secret", "scheduler.conf", "kube-system")
    assert scheduler is not None
    assert base64.b64decode(scheduler["data"]["scheduler.conf"]) == _host_file(node, "scheduler.conf", True)


def test_plan_compares_the_live_daemonsets_with_the_target(node: Node) -> None:
    from kubeadm_py.upgrade import plan as planlib

    self_hosted(node)
    same = planlib.plan(*node.open(version=BASE_VERSION))["plans"][0]
    rows = {c["name"]: c for c in same["components"]}
    assert {c: (r["mode"], r["manifestChanged"]) for c, r in rows.items()} == dict.fromkeys(
        COMPONENTS, ("self-hosted", False)
    )
    target = planlib.plan(*node.open(version="v1.31.14"))["plans"][0]
    rows = {c["name"]: c for c in target["components"]}
    assert all(rows[c]["current"] == BASE_VERSION and rows[c]["target"] == "v1.31.14" for c in COMPONENTS)
    assert all(rows[c]["manifestChanged"] for c in COMPONENTS)
    assert target["etcd"]["upgrade"] is True  # the static etcd of this node


def test_without_a_bridge_the_watch_starts_once_the_replaced_pod_stopped(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HA: the kubelet may start the new Pod while the replaced one holds the port in its grace
    period (host network); those exits are not the new template's fault. The watch starts only once
    this node's replaced Pod sandbox has stopped (the rest of the check goes on meanwhile)."""
    import dataclasses

    from kubeadm_py.host import health

    monkeypatch.setattr(health, "http_check", lambda url, timeout=5.0: (True, ""))
    updates: list[DaemonSetUpdate] = []
    init = DaemonSetUpdate.__init__

    def record(self: DaemonSetUpdate, *args: Any) -> None:
        init(self, *args)
        updates.append(self)

    monkeypatch.setattr(DaemonSetUpdate, "__init__", record)
    self_hosted(node, desired=2)
    cri = FakeCri()
    seen: list[tuple[bool, str]] = []
    watched: list[int] = []
    started: list[float | None] = []

    class Probe(DaemonSetWaiter):
        def wait_all(self, targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
            t, watch = targets[0], kw.get("watch")
            if t.name.endswith("/updated") and watch is not None:
                seen.append(t.check())
                watched.append(len(watch([t.name])))  # nothing watched yet
                started.append(updates[-1].handed_back_at)
                old = next(s for s in cri.sandboxes if s.id == "sb-kube-apiserver")
                cri.sandboxes[cri.sandboxes.index(old)] = dataclasses.replace(old, ready=False)
                seen.append(t.check())
                started.append(updates[-1].handed_back_at)
            return super().wait_all(targets, timeout, **kw)

    node.waiter = Probe(node)
    report = run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}))
    assert report.ok
    assert not seen[0][0] and not seen[1][0], seen  # the fake DaemonSet has no status: not rolled out
    assert watched == [0] and started[0] is None and started[1] is not None, started


def test_a_checkpoint_the_service_activates_meanwhile_bridges_like_the_phases_own(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HA with the endpoint naming this node: while the DaemonSet controller replaces this node's
    Pod, the checkpointer service finds the API and the Pod down for its grace and activates the
    checkpoint, which holds the port. The wait treats it as a bridge: the watch restarts after its
    hand-back, so the new Pod's exits on that port do not fail the update."""
    import dataclasses

    from kubeadm_py.host import health

    monkeypatch.setattr(health, "http_check", lambda url, timeout=5.0: (True, ""))
    self_hosted(node, desired=2)
    cri = FakeCri()
    seen: list[tuple[bool, str]] = []
    watched: list[int] = []
    active = node.path(active_path("kube-apiserver"))

    class Probe(DaemonSetWaiter):
        def wait_all(self, targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
            t, watch = targets[0], kw.get("watch")
            if t.name.endswith("/updated") and watch is not None:
                old = next(s for s in cri.sandboxes if s.id == "sb-kube-apiserver")
                cri.sandboxes[cri.sandboxes.index(old)] = dataclasses.replace(old, ready=False)
                seen.append(t.check())  # the old Pod stopped: watched from here
                active.write_text(node.path(stored_path("kube-apiserver")).read_text())  # the service
                seen.append(t.check())
                watched.append(len(watch([t.name])))
                active.unlink()  # the service handed it back
                seen.append(t.check())
            return super().wait_all(targets, timeout, **kw)

    node.waiter = Probe(node)
    logs: list[str] = []
    report = run(node, cri, config_change(node, tmp_path, **{"audit-log-maxage": "7"}), logs)
    assert report.ok
    assert "checkpoint" not in seen[0][1], seen
    assert seen[1] == (
        False,
        "the checkpoint of kube-apiserver serves until the new self-hosted-kube-apiserver Pod starts",
    )
    assert watched == [0]  # the watch started at the first check was closed
    assert "checkpoint" not in seen[2][1], seen
    assert any(
        "The checkpointer service activated the checkpoint of kube-apiserver on cp-1" in x for x in logs
    )


def test_ha_rollback_of_this_nodes_failing_pod_goes_over_its_checkpoint(node: Node, tmp_path: Path) -> None:
    """HA: no bridge for the update; when this node's new Pod keeps exiting, its checkpoint serves
    this node's address while the previous template is written back (the endpoint may name this
    node, whose API server is the broken one)."""
    self_hosted(node, desired=2)
    node.waiter = waiter = DaemonSetWaiter(node, broken={"kube-apiserver"})
    before = command(node, "kube-apiserver")
    with pytest.raises(PhaseError, match="rolled back, kube-apiserver healthy again"):
        run(node, FakeCri(), config_change(node, tmp_path, **{"no-such-flag": "1"}), **{
            "ignore-preflight-errors": ["UnknownExtraArgs"]})  # fmt: skip
    assert waiter.calls == [
        ("updated", "kube-apiserver"),
        ("api", "kube-apiserver"),
        ("rolled back", "kube-apiserver"),
    ]
    assert waiter.active == [False, True, True]
    assert command(node, "kube-apiserver") == before


def other_node_pod(name: str, restarts: int, node: str = "cp-2") -> dict[str, Any]:
    """A Pod of the API server's DaemonSet on ``node`` whose container restarted ``restarts`` times."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "kube-system",
                     "labels": {"k8s-app": "self-hosted-kube-apiserver"}},
        "spec": {"nodeName": node, "containers": [{"name": "kube-apiserver", "image": "x"}]},
        "status": {
            "containerStatuses": [
                {
                    "name": "kube-apiserver",
                    "ready": False,
                    "restartCount": restarts,
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                                 "message": "Error: unknown flag: --no-such-flag\n"}},
                }
            ]
        },
    }  # fmt: skip


def test_ha_a_new_pod_failing_on_another_node_ends_the_wait(node: Node, tmp_path: Path) -> None:
    """HA: this node's runtime cannot see another node's containers; the new Pod there that the API
    shows restarted 3 times and not ready ends the wait (before: only --upgrade-timeout did), and
    the rollback goes without this node's checkpoint (this node's Pod is not the failing one)."""
    self_hosted(node, desired=2)
    node.api.put(other_node_pod("self-hosted-kube-apiserver-old12", 7))  # there before: not judged
    node.api.put(other_node_pod("self-hosted-kube-apiserver-h3r3x", 5, node=NODE))  # this node's: the CRI's
    seen: list[list[ComponentReport]] = []

    class Probe(DaemonSetWaiter):
        def wait_all(self, targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
            t, watch = targets[0], kw.get("watch")
            if t.name.endswith("/updated") and watch is not None:
                node.api.put(other_node_pod("self-hosted-kube-apiserver-n3w12", 2))
                seen.append(watch([t.name]))  # 2 restarts: may be the old Pod's port, not yet
                node.api.put(other_node_pod("self-hosted-kube-apiserver-n3w12", 3))
                seen.append(watch([t.name]))
                if seen[-1]:
                    raise ComponentsFailed(seen[-1])
            return super().wait_all(targets, timeout, **kw)

    node.waiter = waiter = Probe(node)
    before = command(node, "kube-apiserver")
    logs: list[str] = []
    with pytest.raises(PhaseError) as e:
        run(node, FakeCri(), config_change(node, tmp_path, **{"no-such-flag": "1"}), logs, **{
            "ignore-preflight-errors": ["UnknownExtraArgs"]})  # fmt: skip
    assert seen[0] == [] and [r.component for r in seen[1]] == ["kube-apiserver on cp-2"], seen
    assert (
        "kube-apiserver on cp-2 exited 4 times (exit code 1, Error, Pod self-hosted-kube-apiserver-n3w12)"
        in str(e.value)
    ), str(e.value)
    assert "rolled back, kube-apiserver healthy again" in str(e.value)
    assert waiter.calls == [("api", "kube-apiserver"), ("rolled back", "kube-apiserver")]
    assert waiter.active == [False, False]  # no checkpoint: this node's Pod was not the failing one
    assert command(node, "kube-apiserver") == before
