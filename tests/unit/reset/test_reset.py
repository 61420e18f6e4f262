"""The reset workflow on a temporary root after ``init`` wrote certificates, kubeconfigs, static
Pod manifests and kubelet files: it removes everything of ours, dry-run removes nothing, a second
run has nothing to do, a refused confirmation aborts. The etcd cluster is a fake here (real etcd:
tests/integration/test_reset_etcd.py); the CRI is a real gRPC server speaking the CRI methods."""

from __future__ import annotations

import shutil
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api, workflows
from kubeadm_py.errors import PhaseError
from kubeadm_py.etcd.client import Member
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.phases.reset import etcd as reset_etcd
from kubeadm_py.phases.reset.cleanup import mounts_below
from kubeadm_py.phases.reset.cri import _string_field, parse_sandboxes
from kubeadm_py.workflow import runner
from kubeadm_py.workflow.report import NullReporter

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
    """Stands in for EtcdClient: a member list and a record of calls."""

    def __init__(self, members: list[Member], fail: Exception | None = None) -> None:
        self.list = members
        self.fail = fail
        self.calls: list[str] = []
        self.endpoints: list[str] = []

    def __call__(self, ctx: Any, endpoints: list[str]) -> FakeEtcd:
        self.endpoints = list(endpoints)
        return self

    def members(self) -> list[Member]:
        self.calls.append("members")
        if self.fail is not None:
            raise self.fail
        return list(self.list)

    def remove_member(self, member_id: int) -> None:
        self.calls.append(f"remove {member_id:x}")
        self.list = [m for m in self.list if m.id != member_id]


ME = Member(0xA1, "cp1", [PEER], ["https://10.0.0.1:2379"], False)
OTHER = Member(0xB2, "cp2", ["https://10.0.0.2:2380"], ["https://10.0.0.2:2379"], False)


@pytest.fixture
def etcd(monkeypatch) -> FakeEtcd:
    fake = FakeEtcd([ME, OTHER])
    monkeypatch.setattr(reset_etcd, "_client", fake)
    return fake


@pytest.fixture(scope="module")
def initialized(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("init") / "root"
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


def reset(root: Path, logs: Logs | None = None, **options: Any):
    return api.run("reset", rootfs=str(root), options={**RESET, **options}, reporter=logs)


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
    report = reset(node, logs)

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
    report = reset(node, dry_run=True)
    assert files(node) == before
    assert etcd.calls == []  # the etcd cluster is not contacted in a dry run
    deleted = {c.target for p in report.phases for c in p.changes if c.action == "delete"}
    assert set(before) <= deleted
    assert f"etcd member cp1 ({PEER})" in deleted
    assert report.dry_run


def test_second_run_has_nothing_to_remove(node, etcd):
    reset(node)
    after_first = files(node)
    logs = Logs()
    report = reset(node, logs)
    assert files(node) == after_first
    statuses = {p.path: p.status for p in report.phases}
    assert statuses["remove-etcd-member"] == "unchanged" and statuses["cleanup-node"] == "unchanged"
    assert logs.has("Nothing to remove") and logs.has("No etcd config found")


def _context(root: Path, **options: Any):
    ctx = api.build_context("reset", {"rootfs": str(root), **options})
    ctx.state["preflight_probe"] = FakeProbe()
    return ctx


def test_refused_confirmation_aborts_with_a_clear_error(node, etcd):
    before = files(node)
    asked: list[str] = []
    ctx = _context(node)
    ctx.state["confirm"] = lambda q: asked.append(q) or False
    with pytest.raises(PhaseError, match=r"phase preflight: aborted reset operation \(use --force"):
        runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert "[y/N]" in asked[0]
    assert files(node) == before and etcd.calls == []


def test_accepted_confirmation_proceeds(node, etcd):
    ctx = _context(node)
    ctx.state["confirm"] = lambda q: True
    runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert not (node / "etc/kubernetes/admin.conf").exists()


def test_force_from_the_reset_configuration(node, etcd, tmp_path):
    cfg = tmp_path / "reset.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ResetConfiguration\nforce: true\ncleanupTmpDir: true\n"
    )
    (node / "etc/kubernetes/tmp").mkdir(exist_ok=True)  # init keeps its run journal there
    (node / "etc/kubernetes/tmp/kubeadm-backup").write_text("x")
    ctx = _context(node, config=str(cfg))
    ctx.state["confirm"] = lambda q: pytest.fail("must not ask")
    runner.execute("reset", workflows.get("reset").phases(), ctx)
    assert not (node / "etc/kubernetes/tmp/kubeadm-backup").exists()


def test_tmp_dir_only_with_cleanup_tmp_dir(node, etcd):
    (node / "etc/kubernetes/tmp").mkdir(exist_ok=True)  # init keeps its run journal there
    (node / "etc/kubernetes/tmp/kubeadm-backup").write_text("x")
    reset(node)
    assert (node / "etc/kubernetes/tmp/kubeadm-backup").exists()
    reset(node, cleanup_tmp_dir=True)
    assert not (node / "etc/kubernetes/tmp/kubeadm-backup").exists()


def test_non_default_cert_dir(tmp_path, etcd):
    root = tmp_path / "root"
    api.run("init", phases=["certs"], rootfs=str(root), options={**INIT_OPTIONS, "cert-dir": "/srv/pki"})
    assert (root / "srv/pki/ca.crt").exists()
    logs = Logs()
    reset(root, logs, cert_dir="/srv/pki")
    assert not any((root / "srv/pki").iterdir())
    assert logs.has('WARNING: Cleaning a non-default certificates directory: "/srv/pki"')


def test_home_kubeconfig_is_left_with_a_hint(node, etcd, monkeypatch):
    monkeypatch.setenv("HOME", "/root")
    (node / "root/.kube").mkdir(parents=True)
    (node / "root/.kube/config").write_text("x")
    logs = Logs()
    report = reset(node, logs)
    assert (node / "root/.kube/config").exists()
    assert logs.has("does not clean your kubeconfig files: check /root/.kube/config")
    assert any(m["command"] == f"rm -f {node}/root/.kube/config" for m in report.outputs["manual_cleanup"])


# --- remove-etcd-member -----------------------------------------------------------------------


def run_remove(root: Path, logs: Logs) -> Any:
    ctx = _context(root, force=True)
    ctx.log = logs.message
    report = runner.execute("reset", workflows.get("reset").phases(), ctx, only=["remove-etcd-member"])
    return report, ctx


def test_last_member_is_kept(node, monkeypatch):
    fake = FakeEtcd([ME])
    monkeypatch.setattr(reset_etcd, "_client", fake)
    logs = Logs()
    report, ctx = run_remove(node, logs)
    assert fake.calls == ["members"] and logs.has("only remaining etcd member")
    assert ctx.state["reset_dirs_to_clean"] == ["/var/lib/etcd"]
    assert report.phases[-1].status == "unchanged"


def test_member_already_gone(node, monkeypatch):
    fake = FakeEtcd([OTHER])
    monkeypatch.setattr(reset_etcd, "_client", fake)
    logs = Logs()
    run_remove(node, logs)
    assert fake.calls == ["members"] and logs.has(f"No etcd member with peer URL {PEER}: already removed")


def test_unreachable_etcd_is_a_warning_with_the_manual_command(node, monkeypatch):
    from kubeadm_py.etcd.client import EtcdError

    fake = FakeEtcd(
        [], fail=EtcdError("etcd member list did not succeed within 15s (https://10.0.0.1:2379: refused)")
    )
    monkeypatch.setattr(reset_etcd, "_client", fake)
    logs = Logs()
    report, ctx = run_remove(node, logs)
    assert logs.has("WARNING: Failed to remove etcd member: etcd member list did not succeed")
    manual = ctx.state["outputs"]["manual_cleanup"][0]["command"]
    assert "etcdctl" in manual and "member remove" in manual and PEER in manual
    assert ctx.state["reset_dirs_to_clean"] == ["/var/lib/etcd"]  # the data dir is still cleaned


def test_external_etcd(tmp_path, etcd):
    root = tmp_path / "root"
    api.run("init", phases=["certs"], rootfs=str(root), options=INIT_OPTIONS)
    logs = Logs()
    run_remove(root, logs)
    assert logs.has("No etcd config found. Assuming external etcd") and etcd.calls == []


def test_read_local_etcd_from_the_init_manifest(tmp_path):
    root = tmp_path / "root"
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


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _sandbox(sid: str, name: str, ns: str) -> bytes:
    meta = _string_field(1, name) + _string_field(2, "uid-" + name) + _string_field(3, ns)
    body = _string_field(1, sid) + b"\x12" + _varint(len(meta)) + meta + b"\x18\x00"
    return b"\x0a" + _varint(len(body)) + body


class FakeRuntime:
    """A gRPC server on a unix socket answering the CRI RuntimeService calls reset makes."""

    def __init__(self, socket: Path) -> None:
        import grpc

        self.pods = {"a" * 64: ("kube-apiserver-cp1", "kube-system"), "b" * 64: ("etcd-cp1", "kube-system")}
        self.calls: list[str] = []
        runtime = self

        class Handler(grpc.GenericRpcHandler):
            def service(self, details: Any) -> Any:
                name = details.method.rsplit("/", 1)[1]
                return grpc.unary_unary_rpc_method_handler(lambda req, ctx: runtime.handle(name, req))

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers((Handler(),))
        self.server.add_insecure_port(f"unix://{socket}")
        self.server.start()

    def handle(self, name: str, req: bytes) -> bytes:
        if name == "ListPodSandbox":
            self.calls.append(name)
            return b"".join(_sandbox(i, n, ns) for i, (n, ns) in self.pods.items())
        sid = req[2:].decode()
        self.calls.append(f"{name} {sid[:4]}")
        if name == "RemovePodSandbox":
            self.pods.pop(sid, None)
        return b""

    def stop(self) -> None:
        self.server.stop(None)


@pytest.fixture
def runtime(node):
    rt = FakeRuntime(node / "cri.sock")
    try:
        yield rt
    finally:
        rt.stop()


def test_pod_sandboxes_are_stopped_and_removed_through_the_cri(node, etcd, runtime):
    report = reset(node, dry_run=True, cri_socket="unix:///cri.sock")
    listed = {c.target for p in report.phases for c in p.changes if c.kind == "process"}
    assert listed == {
        "pod kube-system/kube-apiserver-cp1 (sandbox aaaaaaaaaaaaa)",
        "pod kube-system/etcd-cp1 (sandbox bbbbbbbbbbbbb)",
    }
    assert runtime.calls == ["ListPodSandbox"]  # dry run: listed only

    runtime.calls.clear()
    reset(node, cri_socket="unix:///cri.sock")
    assert runtime.calls == [
        "ListPodSandbox",
        "StopPodSandbox aaaa",
        "RemovePodSandbox aaaa",
        "StopPodSandbox bbbb",
        "RemovePodSandbox bbbb",
    ]
    assert runtime.pods == {}
    runtime.calls.clear()
    logs = Logs()
    reset(node, logs, cri_socket="unix:///cri.sock")
    assert runtime.calls == ["ListPodSandbox"] and logs.has("Nothing to remove")


def test_parse_sandboxes_state():
    raw = _sandbox("c" * 64, "p", "default")
    assert [(s.id[:2], s.name, s.namespace, s.ready) for s in parse_sandboxes(raw)] == [
        ("cc", "p", "default", True)
    ]


def test_missing_cri_socket_is_reported(node, etcd):
    logs = Logs()
    reset(node, logs, cri_socket="unix:///nope.sock")
    assert logs.has(f"no container runtime socket at {node}/nope.sock: no containers to remove")
