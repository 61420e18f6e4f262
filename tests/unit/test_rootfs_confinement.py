"""--rootfs confines like a chroot: one test per way out (absolute symlink, relative ``..``
symlink, symlinked directory mid-path, ``..`` in the path, a path read from a file), the errors
for a bad --rootfs, and the dry-run overlay, which keeps every write in memory.

Every test works in pytest's temporary directories: ``outside`` stands for the host."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeadm_py import api
from kubeadm_py.effectors.api import kubeconfig_in_root
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.rootfs.memfile import memfiles
from tests.unit.runctx import Logs

PKI = "etc/kubernetes/pki"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root/etc/kubernetes").mkdir(parents=True)
    return tmp_path / "root"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the root with a file: nothing may read, write or delete here."""
    (tmp_path / "outside/sub").mkdir(parents=True)
    (tmp_path / "outside/precious").write_text("host file")
    (tmp_path / "outside/sub/deep").write_text("host file")
    return tmp_path / "outside"


def tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): p.read_text() for p in sorted(d.rglob("*")) if p.is_file()}


def certs_ca(root: Path) -> None:
    api.run("init", phases=["certs/ca"], rootfs=str(root), options={"kubernetes-version": "v1.31.0"})


def inside(root: Path, outside: Path) -> Path:
    """Where ``outside`` lands when resolved in the root (an absolute path re-rooted)."""
    return root / str(outside).lstrip("/")


def test_absolute_symlink_resolves_inside_the_root(root: Path, outside: Path) -> None:
    before = tree(outside)
    (root / PKI).symlink_to(outside)  # /etc/kubernetes/pki -> <outside> (absolute)
    certs_ca(root)
    assert tree(outside) == before
    assert (inside(root, outside) / "ca.key").is_file()  # the link's target, taken in the root
    fs = HostFS(root)
    assert fs.read_bytes("/etc/kubernetes/pki/precious") is None  # the host file is not seen


def test_relative_dotdot_symlink_is_clamped_at_the_root(root: Path, outside: Path) -> None:
    before = tree(outside)
    up = "../" * (len(root.parts) + 3)  # more '..' than the root is deep
    (root / PKI).symlink_to(up + str(outside).lstrip("/"))
    certs_ca(root)
    assert tree(outside) == before
    assert (inside(root, outside) / "ca.key").is_file()
    (root / "etc/kubernetes/up").symlink_to(up + str(outside).lstrip("/") + "/precious")
    assert HostFS(root).read_bytes("/etc/kubernetes/up") is None


def test_symlinked_directory_mid_path(root: Path, outside: Path) -> None:
    before = tree(outside)
    (root / "etc/kubernetes").rmdir()
    (root / "etc/kubernetes").symlink_to(outside)  # /etc/kubernetes -> <outside>, pki below it
    fs = HostFS(root)
    assert fs.read_bytes("/etc/kubernetes/precious") is None
    assert fs.listdir("/etc/kubernetes/sub") == []
    fs.write("/etc/kubernetes/sub/deep", b"written", 0o600)
    assert fs.remove("/etc/kubernetes/precious").action == "unchanged"
    assert tree(outside) == before
    assert (inside(root, outside) / "sub/deep").read_bytes() == b"written"


def test_dotdot_components_stop_at_the_root(root: Path, outside: Path) -> None:
    before = tree(outside)
    fs = HostFS(root)
    climb = "/.." * (len(root.parts) + 2) + str(outside)
    assert fs.read_bytes(climb + "/precious") is None and not fs.exists(climb)
    fs.write(climb + "/precious", b"x", 0o600)
    fs.remove(climb + "/sub")
    assert tree(outside) == before
    assert (inside(root, outside) / "precious").read_bytes() == b"x"


def test_move_stays_inside_the_root(root: Path, outside: Path) -> None:
    (root / "etc/kubernetes/manifests").mkdir()
    (root / "etc/kubernetes/manifests/etcd.yaml").write_text("pod")
    (root / "etc/kubernetes/tmp").symlink_to(outside)  # the parking directory leads "out"
    fs = HostFS(root)
    fs.move("/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/tmp/etcd.yaml")
    assert not (outside / "etcd.yaml").exists() and (inside(root, outside) / "etcd.yaml").read_text() == "pod"
    dry = HostFS(root, dry_run=True)
    dry.move("/etc/kubernetes/tmp/etcd.yaml", "/etc/kubernetes/manifests/etcd.yaml")
    assert dry.read_text("/etc/kubernetes/manifests/etcd.yaml") == "pod"
    assert not dry.exists("/etc/kubernetes/tmp/etcd.yaml")
    assert (inside(root, outside) / "etcd.yaml").exists()  # the dry run moved it in memory only


def test_symlink_loop_is_absent_and_unreadable(root: Path) -> None:
    (root / "etc/a").symlink_to("b")
    (root / "etc/b").symlink_to("/etc/a")
    fs = HostFS(root)
    assert not fs.exists("/etc/a/x") and fs.listdir("/etc/a") == []
    with pytest.raises(KubeadmError, match="cannot read /etc/a: Too many levels of symbolic links"):
        fs.read_bytes("/etc/a")
    assert fs.remove("/etc/a").action == "delete" and not (root / "etc/a").is_symlink()  # the link only


def test_symlink_swapped_in_as_the_last_component_is_removed_not_followed(root: Path, outside: Path) -> None:
    (root / "etc/kubernetes/admin.conf").symlink_to(outside / "precious")
    fs = HostFS(root)
    assert fs.remove("/etc/kubernetes/admin.conf").action == "delete"
    assert not (root / "etc/kubernetes/admin.conf").is_symlink()
    assert (outside / "precious").read_text() == "host file"


def test_paths_inside_a_kubeconfig_are_read_inside_the_root(root: Path, outside: Path) -> None:
    (root / "var/lib/kubelet/pki").mkdir(parents=True)
    (root / "var/lib/kubelet/pki/client.pem").write_text("INSIDE")
    kubeconfig = (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://1.2.3.4:6443\n"
        f"    certificate-authority: {outside}/precious\nusers:\n- name: u\n  user:\n"
        "    client-certificate: /var/lib/kubelet/pki/client.pem\n"
        f"    client-key: {outside}/sub/../precious\n"
    )
    (root / "etc/kubernetes/kubelet.conf").write_text(kubeconfig)
    text = (kubeconfig_in_root(HostFS(root), "/etc/kubernetes/kubelet.conf") or b"").decode()
    assert "client-certificate-data: SU5TSURF" in text  # base64 of INSIDE
    assert "host file" not in text and "aG9zdCBmaWxl" not in text  # nor its base64
    assert f"certificate-authority: {inside(root, outside)}/precious" in text  # absent in the root


def test_probe_tls_files_are_read_inside_the_root(root: Path, outside: Path) -> None:
    from kubeadm_py.host.probe import RealProbe

    api.run("init", phases=["certs/etcd-ca", "certs/apiserver-etcd-client"], rootfs=str(root))
    (root / "etc/kubernetes/ca-link.crt").symlink_to("/etc/kubernetes/pki/etcd/ca.crt")  # absolute
    pki = "/etc/kubernetes/pki"
    client = f"{pki}/apiserver-etcd-client"
    ctx = RealProbe(HostFS(root))._tls("/etc/kubernetes/ca-link.crt", f"{client}.crt", f"{client}.key")
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "etcd-ca"),),)]
    with pytest.raises(FileNotFoundError):
        RealProbe(HostFS(root))._tls("", str(outside / "precious"), str(outside / "precious"))


def test_reset_through_a_symlinked_manifests_dir_deletes_nothing_outside(root: Path, outside: Path) -> None:
    """The issue's reproduction: ln -s /tmp/out R/etc/kubernetes/manifests; reset -f --rootfs R."""
    before = tree(outside)
    (root / "etc/kubernetes/manifests").symlink_to(outside)
    r = subprocess.run(
        [sys.executable, "-m", "kubeadm_py", "reset", "-f", "--rootfs", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert tree(outside) == before


# cleanup-node alone reads the data directory from the manifest (no etcd to reach)
RESET = {"force": True, "ignore-preflight-errors": "all", "skip-phases": ["remove-etcd-member"]}
ETCD_MANIFEST = """apiVersion: v1
kind: Pod
metadata: {{name: etcd, namespace: kube-system}}
spec:
  containers:
  - name: etcd
    command: [etcd, --data-dir={data}, --initial-advertise-peer-urls=https://10.0.0.1:2380,
      --advertise-client-urls=https://10.0.0.1:2379]
  volumes:
  - name: etcd-data
    hostPath: {{path: {data}}}
"""


def test_etcd_data_dir_read_from_the_manifest_is_taken_in_the_root(root: Path, outside: Path) -> None:
    before = tree(outside)
    (root / "etc/kubernetes/manifests").mkdir()
    (root / "etc/kubernetes/manifests/etcd.yaml").write_text(ETCD_MANIFEST.format(data=outside))
    (inside(root, outside) / "member").mkdir(parents=True)
    (inside(root, outside) / "member/db").write_text("etcd data in the root")
    report = api.run("reset", rootfs=str(root), options=RESET)
    assert report.ok
    assert tree(outside) == before  # the host's directory of that name is untouched
    assert not (inside(root, outside) / "member").exists()  # the root's copy was cleaned


@pytest.mark.parametrize("data_dir", ["/", "/var", "/var/lib", "/etc"])
def test_reset_refuses_a_data_dir_that_would_wipe_the_node(root: Path, data_dir: str) -> None:
    (root / "etc/kubernetes/manifests").mkdir()
    (root / "etc/kubernetes/manifests/etcd.yaml").write_text(ETCD_MANIFEST.format(data=data_dir))
    (root / "var/lib/other").mkdir(parents=True)
    (root / "var/lib/other/file").write_text("not kubeadm's")
    logs = Logs()
    api.run("reset", rootfs=str(root), options=RESET, reporter=logs)
    assert (root / "var/lib/other/file").read_text() == "not kubeadm's"
    assert any(f"Not cleaning {data_dir}" in line for line in logs.lines), logs.lines


def test_reset_deletes_kubeconfig_files_not_a_directory_of_that_name(root: Path) -> None:
    (root / "etc/kubernetes/admin.conf").mkdir()
    (root / "etc/kubernetes/admin.conf/mine").write_text("not kubeadm's")
    (root / "etc/kubernetes/scheduler.conf").write_text("kubeadm's")
    logs = Logs()
    api.run("reset", rootfs=str(root), options=RESET, reporter=logs)
    assert (root / "etc/kubernetes/admin.conf/mine").exists()
    assert not (root / "etc/kubernetes/scheduler.conf").exists()
    assert any("Not deleting /etc/kubernetes/admin.conf: a directory" in line for line in logs.lines)


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "--rootfs is empty"), ("missing", "no such directory"), ("file", "not a directory")],
)
def test_bad_rootfs_is_a_one_line_error(
    tmp_path: Path, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "kubeadm_py", "init", "phase", "certs", "ca", "--rootfs", value],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert r.returncode == 1 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("error: ") and message in r.stderr
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KubeadmError, match=message):
        api.run("init", phases=["certs/ca"], options={"rootfs": value})
    with pytest.raises(KubeadmError, match=message):
        api.run("init", phases=["certs/ca"], rootfs=value)


# --- the dry-run overlay -------------------------------------------------------------------------


def test_overlay_reads_its_writes_and_hides_its_deletions(root: Path) -> None:
    (root / PKI).mkdir()
    (root / PKI / "old.crt").write_text("on disk")
    fs = HostFS(root, dry_run=True)
    fs.write("/etc/kubernetes/pki/ca.key", b"KEY", 0o600, secret=True)
    fs.write("/srv/new/dir/file", b"x", 0o644)
    assert fs.read_bytes("/etc/kubernetes/pki/ca.key") == b"KEY"
    assert fs.mode("/etc/kubernetes/pki/ca.key") == 0o600
    assert fs.listdir("/etc/kubernetes/pki") == ["ca.key", "old.crt"]
    assert fs.is_dir("/srv/new/dir") and fs.listdir("/srv") == ["new"]
    fs.remove("/etc/kubernetes/pki")
    assert fs.listdir("/etc/kubernetes") == [] and not fs.exists("/etc/kubernetes/pki/old.crt")
    fs.write("/etc/kubernetes/pki/again", b"y", 0o600)  # a write below a deleted directory
    assert fs.listdir("/etc/kubernetes/pki") == ["again"]
    assert fs.read_bytes("/etc/kubernetes/pki/old.crt") is None
    assert tree(root) == {"etc/kubernetes/pki/old.crt": "on disk"}  # the disk never changed
    assert fs.in_overlay("/etc/kubernetes/pki/again") and not fs.in_overlay("/etc/kubernetes")


def test_overlay_entries_shadow_symlinks_of_the_root(root: Path, outside: Path) -> None:
    (root / "etc/kubernetes/admin.conf").symlink_to("/elsewhere/admin.conf")
    fs = HostFS(root, dry_run=True)
    fs.write("/etc/kubernetes/admin.conf", b"new", 0o600)  # replaces the link, as the real write
    assert fs.read_bytes("/etc/kubernetes/admin.conf") == b"new"
    assert fs.read_bytes("/elsewhere/admin.conf") is None


def test_memfiles_hold_data_only_while_open() -> None:
    with memfiles(b"cert", b"") as (a, b):
        assert Path(a).read_bytes() == b"cert" and Path(b).read_bytes() == b""
        assert a.startswith("/proc/self/fd/")
    assert not os.path.exists(a) or "memfd:kubeadm-py" not in os.readlink(a)  # closed: the data is gone
