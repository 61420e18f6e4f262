"""The reset workflow on a temporary root after ``init`` wrote certificates, kubeconfigs, static
Pod manifests and kubelet files: it removes everything of ours, dry-run removes nothing, a second
run has nothing to do, a refused confirmation aborts. The etcd cluster is a fake here (real etcd:
tests/integration/test_reset_etcd.py), given through ``Hooks(etcd=...)``; the CRI is a real gRPC
server speaking the CRI methods; the service manager and mounts are fakes given through Hooks."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api, workflows
from kubeadm_py.changes import Change
from kubeadm_py.cli.main import main
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.mounts import mounts_below
from kubeadm_py.errors import PhaseError
from kubeadm_py.etcd.client import Member
from kubeadm_py.host.cri import CriClient
from kubeadm_py.host.criapi import api_pb2 as pb
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.phases.reset import etcd as reset_etcd
from kubeadm_py.phases.reset.state import ResetContext
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.report import NullReporter
from tests.unit.cri_server import CriServer
from tests.unit.runctx import Answer

INIT_PHASES = ["certs", "kubeconfig", "etcd", "control-plane", "kubelet-start"]
INIT_OPTIONS = {
    "node-name": "cp1",
    "apiserver-advertise-address": "10.0.0.1",
    "kubernetes-version": "v1.31.0",
}
PEER = "https://10.0.0.1:2380"
RESET = {"force": True, "ignore-preflight-errors": "all"}


class Logs(NullReporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def message(self, text: str) -> None:
        self.lines.append(text)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)


class FakeEtcd:
    """Stands in for the etcd membership factory and its clients (``Hooks(etcd=...)``): a member
    list and a record of calls; ``endpoints`` are those of the latest client."""

    def __init__(self, members: list[Member], fail: Exception | None = None) -> None:
        self.list = members
        self.fail = fail
        self.calls: list[str] = []
        self.endpoints: list[str] = []
        self.cert_dirs: list[str] = []
        self.timeout = 0.0
        self.timeouts: list[float] = []  # the client's timeout at each call

    def __call__(self, endpoints: list[str], cert_dir: str) -> FakeEtcd:
        self.endpoints = list(endpoints)
        self.cert_dirs.append(cert_dir)
        return self

    def members(self) -> list[Member]:
        self.calls.append("members")
        self.timeouts.append(self.timeout)
        if self.fail is not None:
            raise self.fail
        return list(self.list)

    def remove_member(self, member_id: int) -> None:
        self.calls.append(f"remove {member_id:x}")
        self.timeouts.append(self.timeout)
        self.list = [m for m in self.list if m.id != member_id]


ME = Member(0xA1, "cp1", [PEER], ["https://10.0.0.1:2379"], False)
OTHER = Member(0xB2, "cp2", ["https://10.0.0.2:2380"], ["https://10.0.0.2:2379"], False)


@pytest.fixture
def etcd() -> FakeEtcd:
    return FakeEtcd([ME, OTHER])


@pytest.fixture(scope="module")
def initialized(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("init") / "root"
    root.mkdir()
    api.run("init", phases=INIT_PHASES, rootfs=str(root), options=INIT_OPTIONS)
    return root


@pytest.fixture
def node(initialized, tmp_path) -> Path:
    """A fresh copy of a root ``init`` wrote (generating keys once per module)."""
    root = tmp_path / "root"
    shutil.copytree(initialized, root, symlinks=True)
    return root


def files(root: Path) -> dict[str, bytes]:
    return {"/" + str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def reset(
    root: Path, etcd: FakeEtcd, logs: Logs | None = None, hooks: Hooks | None = None, **options: Any
) -> Any:
    hooks = hooks or Hooks()
    hooks.etcd = etcd
    return api.run("reset", rootfs=str(root), options={**RESET, **options}, reporter=logs, hooks=hooks)


def test_init_wrote_what_reset_must_remove(node):
    written = files(node)
    assert "/etc/kubernetes/pki/ca.key" in written and "/etc/kubernetes/manifests/etcd.yaml" in written
    assert "/etc/kubernetes/admin.conf" in written and "/var/lib/kubelet/config.yaml" in written


def test_reset_leaves_nothing_of_ours(node, etcd):
    (node / "etc/cni/net.d").mkdir(parents=True)
    (node / "etc/cni/net.d/10-bridge.conf").write_text("{}")
    (node / "var/lib/etcd/member/snap").mkdir(parents=True)
    (node / "var/lib/etcd/member/snap/db").write_bytes(b"x")
    logs = Logs()
    report = reset(node, etcd, logs)

    assert files(node) == {"/etc/cni/net.d/10-bridge.conf": b"{}"}  # CNI config is left, as upstream
    for d in ("etc/kubernetes/manifests", "etc/kubernetes/pki", "var/lib/kubelet", "var/lib/etcd"):
        assert (node / d).is_dir() and not any((node / d).iterdir())  # contents go, directories stay
    assert etcd.calls == ["members", "remove a1"]
    # the members that stay are asked first, then this node's own client URL from etcd.yaml
    assert etcd.endpoints == ["https://10.0.0.2:2379", "https://10.0.0.1:2379"]
    deleted = {c.target for p in report.phases for c in p.changes if c.action == "delete"}
    assert "/etc/kubernetes/pki/etcd/ca.key" in deleted and "/var/lib/etcd/member/snap/db" in deleted
    assert f"etcd member cp1 ({PEER})" in deleted
    assert logs.has("rm -rf") and logs.has("/etc/cni/net.d")
    manual = {m["what"]: m["command"] for m in report.outputs["manual_cleanup"]}
    assert manual["IPVS tables (kube-proxy ipvs mode)"] == "ipvsadm --clear"
    assert "nft delete table ip kube-proxy" in manual["nftables rules (kube-proxy nftables mode)"]
    assert "iptables -t nat -F" in manual["iptables rules (kube-proxy iptables mode, CNI plugins)"]


def test_dry_run_lists_everything_and_removes_nothing(node, etcd):
    before = files(node)
    report = reset(node, etcd, dry_run=True)
    assert files(node) == before
    assert etcd.calls == []  # the etcd cluster is not contacted in a dry run
    deleted = {c.target for p in report.phases for c in p.changes if c.action == "delete"}
    assert set(before) <= deleted
    assert f"etcd member cp1 ({PEER})" in deleted
    assert report.dry_run


def test_second_run_has_nothing_to_remove(node, etcd):
    reset(node, etcd)
    after_first = files(node)
    logs = Logs()
    report = reset(node, etcd, logs)
    assert files(node) == after_first
    statuses = {p.path: p.status for p in report.phases}
    assert statuses["remove-etcd-member"] == "unchanged" and statuses["cleanup-node"] == "unchanged"
    assert logs.has("Nothing to remove") and logs.has("No etcd config found")


def _context(root: Path, etcd: FakeEtcd, prompt: Answer | None = None, **options: Any) -> ResetContext:
    hooks = Hooks(probe=FakeProbe(), etcd=etcd, prompt=prompt)
    ctx: ResetContext = api.build_context("reset", {"rootfs": str(root), **options}, hooks=hooks)
    return ctx


def test_refused_confirmation_aborts_with_a_clear_error(node, etcd):
    before = files(node)
    answer = Answer(False)
    ctx = _context(node, etcd, answer)
    with pytest.raises(PhaseError, match=r"phase preflight: aborted reset operation \(use --force"):
        runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert "[y/N]" in answer.asked[0]
    assert files(node) == before and etcd.calls == []


def test_accepted_confirmation_proceeds(node, etcd):
    ctx = _context(node, etcd, Answer(True))
    runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert not (node / "etc/kubernetes/admin.conf").exists()


def test_force_from_the_reset_configuration(node, etcd, tmp_path):
    cfg = tmp_path / "reset.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\nforce: true\ncleanupTmpDir: true\n"
    )
    (node / "etc/kubernetes/tmp").mkdir(exist_ok=True)  # init keeps its run journal there
    (node / "etc/kubernetes/tmp/kubeadm-backup").write_text("x")
    answer = Answer(False)
    ctx = _context(node, etcd, answer, config=str(cfg))
    runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert answer.asked == []  # force: true in the configuration: no question
    assert not (node / "etc/kubernetes/tmp/kubeadm-backup").exists()


def test_tmp_dir_only_with_cleanup_tmp_dir(node, etcd):
    (node / "etc/kubernetes/tmp").mkdir(exist_ok=True)  # init keeps its run journal there
    (node / "etc/kubernetes/tmp/kubeadm-backup").write_text("x")
    reset(node, etcd)
    assert (node / "etc/kubernetes/tmp/kubeadm-backup").exists()
    reset(node, etcd, cleanup_tmp_dir=True)
    assert not (node / "etc/kubernetes/tmp/kubeadm-backup").exists()


def test_non_default_cert_dir(tmp_path, etcd):
    root = tmp_path / "root"
    root.mkdir()
    api.run("init", phases=["certs"], rootfs=str(root), options={**INIT_OPTIONS, "cert-dir": "/srv/pki"})
    assert (root / "srv/pki/ca.crt").exists()
    logs = Logs()
    reset(root, etcd, logs, cert_dir="/srv/pki")
    assert not any((root / "srv/pki").iterdir())
    assert logs.has('WARNING: Cleaning a non-default certificates directory: "/srv/pki"')


def test_home_kubeconfig_is_left_with_a_hint(node, etcd, monkeypatch):
    monkeypatch.setenv("HOME", "/root")
    (node / "root/.kube").mkdir(parents=True)
    (node / "root/.kube/config").write_text("x")
    logs = Logs()
    report = reset(node, etcd, logs)
    assert (node / "root/.kube/config").exists()
    assert logs.has("does not clean your kubeconfig files: check /root/.kube/config")
    assert any(m["command"] == f"rm -f {node}/root/.kube/config" for m in report.outputs["manual_cleanup"])


# --- remove-etcd-member -----------------------------------------------------------------------


def run_remove(root: Path, logs: Logs, etcd: FakeEtcd) -> Any:
    ctx = _context(root, etcd, force=True)
    ctx.log = logs.message
    report = runner.execute("reset", workflows.get("reset").phases(), ctx, only=["remove-etcd-member"])
    return report, ctx


def test_last_member_is_kept(node):
    fake = FakeEtcd([ME])
    logs = Logs()
    report, ctx = run_remove(node, logs, fake)
    assert fake.calls == ["members"] and logs.has("only remaining etcd member")
    assert ctx.state.dirs_to_clean == ["/var/lib/etcd"]
    assert report.phases[-1].status == "unchanged"


def test_member_already_gone(node):
    fake = FakeEtcd([OTHER])
    logs = Logs()
    run_remove(node, logs, fake)
    assert fake.calls == ["members"] and logs.has(f"No etcd member with peer URL {PEER}: already removed")


def test_member_list_waits_briefly_and_removal_gets_the_etcd_api_timeout(node, etcd):
    run_remove(node, Logs(), etcd)
    assert etcd.calls == ["members", "remove a1"]
    # the member list waits REACH_TIMEOUT; the removal timeouts.etcdAPICall (2m by default)
    assert etcd.timeouts == [reset_etcd.REACH_TIMEOUT, 120.0]
    assert etcd.cert_dirs == ["/etc/kubernetes/pki", "/etc/kubernetes/pki"]


def test_unreachable_etcd_is_a_warning_with_the_manual_command(node):
    from kubeadm_py.etcd.client import EtcdError

    fake = FakeEtcd(
        [], fail=EtcdError("etcd member list did not succeed within 15s (https://10.0.0.1:2379: refused)")
    )
    logs = Logs()
    report, ctx = run_remove(node, logs, fake)
    assert logs.has("WARNING: Failed to remove etcd member: etcd member list did not succeed")
    manual = ctx.outputs.manual_cleanup[0].command
    assert "etcdctl" in manual and "member remove" in manual and PEER in manual
    assert ctx.state.dirs_to_clean == ["/var/lib/etcd"]  # the data dir is still cleaned


def test_external_etcd(tmp_path, etcd):
    root = tmp_path / "root"
    root.mkdir()
    api.run("init", phases=["certs"], rootfs=str(root), options=INIT_OPTIONS)
    logs = Logs()
    run_remove(root, logs, etcd)
    assert logs.has("No etcd config found. Assuming external etcd") and etcd.calls == []


def test_read_local_etcd_from_the_init_manifest(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    cfg = tmp_path / "init.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.0\n"
        "etcd:\n  local:\n    dataDir: /data/etcd\n"
    )
    opts = {k: v for k, v in INIT_OPTIONS.items() if k != "kubernetes-version"}
    api.run("init", phases=["etcd"], rootfs=str(root), options={**opts, "config": str(cfg)})
    text = (root / "etc/kubernetes/manifests/etcd.yaml").read_text()
    local = reset_etcd.read_local_etcd(text, "etcd.yaml")
    assert local == reset_etcd.LocalEtcd("cp1", PEER, ["https://10.0.0.1:2379"], "/data/etcd")


# --- mounts and CRI ---------------------------------------------------------------------------


def test_mounts_below_the_kubelet_dir_deepest_first():
    info = "\n".join(
        [
            "22 1 0:21 / /var/lib/kubelet rw - ext4 /dev/sda rw",
            "23 22 0:22 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/tok rw - tmpfs tmpfs rw",
            "24 22 0:23 / /var/lib/kubelet/pods/u\\0402/volumes/x rw - tmpfs tmpfs rw",
            "25 22 0:24 / /var/lib/kubelet-other rw - tmpfs tmpfs rw",
        ]
    )
    assert mounts_below("/var/lib/kubelet", info) == [
        "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/tok",
        "/var/lib/kubelet/pods/u 2/volumes/x",
    ]


def _sandbox(sid: str, name: str, ns: str, state: int = pb.SANDBOX_READY) -> pb.PodSandbox:
    meta = pb.PodSandboxMetadata(name=name, uid="uid-" + name, namespace=ns)
    return pb.PodSandbox(id=sid, metadata=meta, state=state)


class FakeRuntime:
    """A container runtime answering the CRI RuntimeService calls reset makes over gRPC."""

    def __init__(self, socket: Path) -> None:
        self.pods = {"a" * 64: ("kube-apiserver-cp1", "kube-system"), "b" * 64: ("etcd-cp1", "kube-system")}
        answers = {"ListPodSandbox": self.list, "StopPodSandbox": self.stopped}
        self.server = CriServer(socket, {**answers, "RemovePodSandbox": self.remove})

    def stopped(self, req: bytes) -> bytes:
        return b""

    def list(self, req: bytes) -> bytes:
        items = [_sandbox(i, n, ns) for i, (n, ns) in self.pods.items()]
        return pb.ListPodSandboxResponse(items=items).SerializeToString()

    def remove(self, req: bytes) -> bytes:
        self.pods.pop(pb.RemovePodSandboxRequest.FromString(req).pod_sandbox_id, None)
        return b""

    @property
    def calls(self) -> list[str]:
        out = []
        for name, req in self.server.calls:
            sid = pb.StopPodSandboxRequest.FromString(req).pod_sandbox_id  # same field in Remove
            out.append(f"{name} {sid[:4]}" if sid else name)
        return out

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def runtime(node):
    rt = FakeRuntime(node / "cri.sock")
    try:
        yield rt
    finally:
        rt.stop()


def test_pod_sandboxes_are_stopped_and_removed_through_the_cri(node, etcd, runtime):
    report = reset(node, etcd, dry_run=True, cri_socket="unix:///cri.sock")
    listed = {c.target for p in report.phases for c in p.changes if c.kind == "process"}
    assert listed == {
        "pod kube-system/kube-apiserver-cp1 (sandbox aaaaaaaaaaaaa)",
        "pod kube-system/etcd-cp1 (sandbox bbbbbbbbbbbbb)",
    }
    assert runtime.calls == ["ListPodSandbox"]  # dry run: listed only

    runtime.server.calls.clear()
    reset(node, etcd, cri_socket="unix:///cri.sock")
    assert runtime.calls == [
        "ListPodSandbox",
        "StopPodSandbox aaaa",
        "RemovePodSandbox aaaa",
        "StopPodSandbox bbbb",
        "RemovePodSandbox bbbb",
    ]
    assert runtime.pods == {}
    runtime.server.calls.clear()
    logs = Logs()
    reset(node, etcd, logs, cri_socket="unix:///cri.sock")
    assert runtime.calls == ["ListPodSandbox"] and logs.has("Nothing to remove")


def test_sandbox_state_and_label(tmp_path):
    pods = [_sandbox("c" * 64, "p", "default"), _sandbox("d" * 64, "q", "", state=pb.SANDBOX_NOTREADY)]
    listed = pb.ListPodSandboxResponse(items=pods).SerializeToString()
    server = CriServer(tmp_path / "c.sock", {"ListPodSandbox": lambda req: listed})
    try:
        with CriClient(f"unix://{tmp_path}/c.sock", timeout=5) as client:
            got = client.list_sandboxes()
    finally:
        server.stop()
    assert [(s.id[:2], s.name, s.namespace, s.ready, s.label) for s in got] == [
        ("cc", "p", "default", True, "pod default/p (sandbox ccccccccccccc)"),
        ("dd", "q", "", False, "pod q (sandbox ddddddddddddd)"),
    ]


def test_missing_cri_socket_is_reported(node, etcd):
    logs = Logs()
    reset(node, etcd, logs, cri_socket="unix:///nope.sock")
    assert logs.has(
        f"container runtime is not running: {node}/nope.sock does not exist: no containers to remove"
    )


class Services:
    """A service manager (``Hooks(services=...)``): systemd, kubelet active, stop may fail."""

    def __init__(self, manager: str = "systemd", active: bool = True, fail: str = "") -> None:
        self.name, self.active, self.fail = manager, active, fail
        self.calls: list[str] = []

    def manager(self) -> str:
        return self.name

    def exists(self, unit: str) -> bool:
        return True

    def is_active(self, unit: str) -> bool:
        return self.active

    def restart(self, unit: str) -> Change:
        raise AssertionError("reset restarts nothing")

    def stop(self, unit: str) -> Change:
        self.calls.append(f"stop {unit}")
        if self.fail:
            return Change("process", "run", f"systemctl stop {unit}", f"failed: {self.fail}")
        return Change("process", "run", f"systemctl stop {unit}", f"{unit} stopped")


def _cleanup(root: Path, etcd: FakeEtcd, hooks: Hooks, dry_run: bool = False) -> tuple[Any, Logs]:
    logs = Logs()
    report = reset(root, etcd, logs, hooks, dry_run=dry_run)
    return next(p for p in report.phases if p.path == "cleanup-node"), logs


def test_kubelet_is_stopped_through_the_service_manager(node, etcd):
    services = Services()
    outcome, logs = _cleanup(node, etcd, Hooks(services=services), dry_run=True)
    assert services.calls == [] and logs.has("[dryrun] Would stop the kubelet")
    assert "systemctl stop kubelet" in [c.target for c in outcome.changes]

    outcome, logs = _cleanup(node, etcd, Hooks(services=services))
    assert services.calls == ["stop kubelet"]
    assert ("systemctl stop kubelet", "kubelet stopped") in [(c.target, c.detail) for c in outcome.changes]


def test_kubelet_not_running_or_not_stoppable(node, etcd, tmp_path):
    services = Services(active=False)
    _, logs = _cleanup(node, etcd, Hooks(services=services))
    assert services.calls == [] and logs.has("The kubelet service is not running")

    root = tmp_path / "again"
    shutil.copytree(node, root, symlinks=True)
    services, logs = Services(fail="Unit kubelet.service not loaded."), Logs()
    report = reset(root, etcd, logs, Hooks(services=services))
    assert logs.has("[reset] WARNING: could not stop the kubelet: Unit kubelet.service not loaded.")
    manual = {m["what"]: m["command"] for m in report.outputs["manual_cleanup"]}
    assert manual["stop the kubelet"] == "systemctl stop kubelet"


def test_no_systemd_names_the_kubelet_to_stop(node, etcd, monkeypatch):
    from kubeadm_py.phases.reset import cleanup

    monkeypatch.setattr(cleanup, "_kubelet_pids", lambda: [4242])
    report = reset(node, etcd, Logs(), Hooks(services=Services(manager="bash")))
    manual = {m["what"]: m["command"] for m in report.outputs["manual_cleanup"]}
    assert manual["stop the running kubelet"] == "kill 4242"


class Mounts:
    """Mount points below the kubelet directory (``Hooks(mounts=...)``); unmounting may fail."""

    def __init__(self, mounts: list[str], busy: str = "") -> None:
        self.mounts, self.busy = mounts, busy
        self.unmounted: list[tuple[str, int]] = []

    def below(self, path: Path) -> list[str]:
        return [m for m in self.mounts if m.startswith(f"{path}/")]

    def unmount(self, mount_point: str, flags: int) -> Change:
        if mount_point == self.busy:
            raise OSError(16, "Device or resource busy")
        self.unmounted.append((mount_point, flags))
        return Change("note", "run", f"umount {mount_point}", "unmounted")


def test_mounts_below_the_kubelet_dir_are_unmounted_first(node, etcd, tmp_path):
    kubelet = node / "var/lib/kubelet"
    vols = [f"{kubelet}/pods/u1/volumes/a/b", f"{kubelet}/pods/u1/volumes/a"]
    mounts = Mounts(vols)
    outcome, logs = _cleanup(node, etcd, Hooks(mounts=mounts), dry_run=True)
    assert mounts.unmounted == [] and (kubelet / "config.yaml").exists()
    assert [(c.target, c.detail) for c in outcome.changes if c.target.startswith("umount")] == [
        (f"umount {v}", "would unmount") for v in vols
    ]
    assert logs.has('Mounted directories in "/var/lib/kubelet" to unmount')

    cfg = tmp_path / "reset.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\nunmountFlags: [MNT_DETACH]\n"
    )
    report = reset(node, etcd, None, Hooks(mounts=mounts), config=str(cfg))
    assert mounts.unmounted == [(v, 2) for v in vols]  # deepest first, with MNT_DETACH
    assert report.phases[-1].status == "changed" and not (kubelet / "config.yaml").exists()


def test_busy_mount_keeps_the_kubelet_dir(node, etcd):
    kubelet = node / "var/lib/kubelet"
    busy = f"{kubelet}/pods/u1/volumes/a"
    report = reset(node, etcd, Logs(), Hooks(mounts=Mounts([busy], busy=busy)))
    assert (kubelet / "config.yaml").exists()  # not cleaned: a volume is still mounted there
    assert not (node / "etc/kubernetes/admin.conf").exists()
    manual = {m["what"]: m["command"] for m in report.outputs["manual_cleanup"]}
    assert manual[f"unmount directories below {kubelet}"] == f"umount -R {busy}"


def test_reset_leaves_the_kubelet_unit_install_unit_wrote(node, etcd):
    assert main(["kubelet", "install-unit", "--rootfs", str(node)]) == 0
    units = {p: c for p, c in files(node).items() if p.startswith("/etc/systemd/")}
    assert set(units) == {
        "/etc/systemd/system/kubelet.service",
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
    }
    reset(node, etcd)
    assert {p: c for p, c in files(node).items() if p.startswith("/etc/systemd/")} == units
