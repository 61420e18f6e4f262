"""Unit tests of the test-bed tooling that need neither root nor the built cache."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tarfile

from tests.testbed.cache import REPO_ROOT
from tests.testbed.node import Node
from tests.testbed.process_runner import ProcessRunner


def _images_module():
    path = os.path.join(REPO_ROOT, "testbed", "images.py")
    spec = importlib.util.spec_from_file_location("tb_images", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_oci_archive_layout(tmp_path):
    images = _images_module()
    (tmp_path / "bin").mkdir()
    shutil.copy("/bin/true", tmp_path / "bin" / "pause")
    shutil.copy("/bin/true", tmp_path / "bin" / "kube-scheduler")
    refs = images.build(str(tmp_path), ["k8s.gcr.io", "registry.k8s.io", "example.test/r"],
                        only=["pause", "kube-scheduler"])
    assert refs["pause"] == ["k8s.gcr.io/pause:3.2", "registry.k8s.io/pause:3.2", "example.test/r/pause:3.2"]
    with tarfile.open(tmp_path / "images" / "kube-scheduler.tar") as tf:
        names = tf.getnames()
        assert "oci-layout" in names and "index.json" in names
        index = json.load(tf.extractfile("index.json"))  # type: ignore[arg-type]

        def blob(digest: str) -> bytes:
            data = tf.extractfile("blobs/sha256/" + digest.split(":", 1)[1]).read()  # type: ignore[union-attr]
            assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
            return data

        ann = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
        assert ann == ["k8s.gcr.io/kube-scheduler:v1.20.2", "registry.k8s.io/kube-scheduler:v1.20.2",
                       "example.test/r/kube-scheduler:v1.20.2"]
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
        layer = blob(manifest["layers"][0]["digest"])
        assert manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
        assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
        assert config["config"]["Entrypoint"] == ["/usr/local/bin/kube-scheduler"]
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(layer)
    with tarfile.open(layer_path) as lt:
        member = lt.getmember("usr/local/bin/kube-scheduler")
        assert member.isfile() and member.mode & 0o111
        assert lt.getmember("tmp").mode == 0o1777
    listing = json.loads((tmp_path / "images" / "images.json").read_text())
    assert listing["images"]["pause"]["file"] == "pause.tar"


def test_kubelet_argv_follows_kubeadm_dropin(tmp_path):
    node = Node("n1", workdir=str(tmp_path))
    flags = tmp_path / "root" / "var" / "lib" / "kubelet" / "kubeadm-flags.env"
    flags.parent.mkdir(parents=True)
    flags.write_text('KUBELET_KUBEADM_ARGS="--network-plugin=cni '
                     '--pod-infra-container-image=k8s.gcr.io/pause:3.2"\n')
    argv = node.kubelet_argv(["--v=2"])
    assert argv[:4] == ["kubelet", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                        "--kubeconfig=/etc/kubernetes/kubelet.conf", "--config=/var/lib/kubelet/config.yaml"]
    assert "--pod-infra-container-image=k8s.gcr.io/pause:3.2" in argv
    assert "--container-runtime=remote" in argv
    assert "--container-runtime-endpoint=unix:///run/containerd/containerd.sock" in argv
    assert argv[-1] == "--v=2" and any(a.startswith("--cgroup-root=/kpt-n1-") for a in argv)
    flags.write_text('KUBELET_KUBEADM_ARGS="--container-runtime=remote '
                     '--container-runtime-endpoint=/run/containerd/containerd.sock"\n')
    argv = node.kubelet_argv()
    assert sum(a.startswith("--container-runtime-endpoint") for a in argv) == 1
    admin = tmp_path / "root" / "etc" / "kubernetes" / "admin.conf"
    assert node.path("/etc/kubernetes/admin.conf") == str(admin)
    assert node.path("/usr/bin/kubectl") == "/usr/bin/kubectl"


def test_process_runner_maps_hostpath_mounts(tmp_path):
    mdir = tmp_path / "etc" / "kubernetes" / "manifests"
    mdir.mkdir(parents=True)
    (mdir / "etcd.yaml").write_text("""
apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: kube-system}
spec:
  containers:
  - name: etcd
    command: [etcd, --data-dir=/var/lib/etcd, --cert-file=/etc/kubernetes/pki/etcd/server.crt,
              "--initial-cluster=a=https://10.0.0.1:2380"]
    env: [{name: FOO, value: bar}]
    volumeMounts:
    - {name: etcd-data, mountPath: /var/lib/etcd}
    - {name: etcd-certs, mountPath: /etc/kubernetes/pki/etcd}
  volumes:
  - {name: etcd-data, hostPath: {path: /var/lib/etcd, type: DirectoryOrCreate}}
  - {name: etcd-certs, hostPath: {path: /etc/kubernetes/pki/etcd, type: DirectoryOrCreate}}
""")
    r = ProcessRunner(rootfs=str(tmp_path), binaries={"etcd": "/opt/etcd"})
    r._scan()
    (c,) = r.pods["etcd.yaml"][1]
    assert c.argv == ["/opt/etcd", f"--data-dir={tmp_path}/var/lib/etcd",
                      f"--cert-file={tmp_path}/etc/kubernetes/pki/etcd/server.crt",
                      "--initial-cluster=a=https://10.0.0.1:2380"]
    assert c.env["FOO"] == "bar"


class _UnitNode:
    """What tests/testbed/units.py needs of a Node, on a plain directory (no namespaces)."""

    def __init__(self, root):
        self.root, self.control_dir, self.logdir = str(root), str(root / "control"), str(root / "logs")
        os.makedirs(self.logdir)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def nsenter_argv(self):
        return []

    def env(self):
        return dict(os.environ)


def test_units_run_like_systemd(tmp_path):
    import time

    from tests.testbed.units import Units, parse_service

    node = _UnitNode(tmp_path)
    unit_dir = tmp_path / "etc/systemd/system"
    unit_dir.mkdir(parents=True)
    marker = tmp_path / "starts"
    (unit_dir / "demo.service").write_text(
        "[Unit]\nDescription=demo\n[Service]\nExecStart=\n"
        f"ExecStart=/bin/sh -c 'echo x >> {marker}; sleep 0.2'\nRestart=always\nRestartSec=0\n"
    )
    assert parse_service((unit_dir / "demo.service").read_text())["Restart"] == "always"
    units = Units(node)
    assert units.request("start", "missing") == 5
    assert units.request("enable", "demo") == 0 and units.request("is-enabled", "demo") == 0
    assert units.request("is-active", "demo") == 3  # enable without --now starts nothing
    units.boot()
    assert units.request("is-active", "demo") == 0
    deadline = time.monotonic() + 10
    while units.starts.get("demo", 0) < 3 and time.monotonic() < deadline:  # Restart=always
        units.tick(time.monotonic())
        time.sleep(0.05)
    assert units.starts["demo"] >= 3
    assert units.request("stop", "demo") == 0 and units.request("is-active", "demo") == 3
    units.tick(time.monotonic() + 100)
    assert not units.active("demo")  # stopped units stay down
    assert units.request("disable", "demo") == 0 and units.enabled() == set()
    before = marker.read_text().count("x")
    assert units.request("enable", "demo", now=True) == 0 and units.active("demo")
    deadline = time.monotonic() + 10
    while marker.read_text().count("x") == before and time.monotonic() < deadline:
        time.sleep(0.05)
    units.stop_all()
    assert marker.read_text().count("x") == before + 1 and not units.active("demo")


def test_api_outages_per_server_and_for_both():
    from tests.testbed.apipoll import Sample, longest_gap, outages

    a, b = "10.0.0.1:6443", "10.0.0.2:6443"
    up_a = [0.5, 1.0, 1.5, 6.5, 7.0]  # A down from 1.5 to 6.5
    up_b = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 7.0]  # B down from 3.5 to 7.0
    samples = [Sample(t, a, True) for t in up_a] + [Sample(t, b, True) for t in up_b]
    samples += [Sample(t, a, False) for t in (2.0, 4.0, 6.0)] + [Sample(5.0, b, False), Sample(9.0, a, False)]
    got = outages(samples, [a, b], 0.0, 7.5)
    assert got.longest_gap == {a: 5.0, b: 3.5}
    assert got.neither == 3.0  # 3.5 (B's last answer) to 6.5 (A's first again)
    assert got.polls == {a: 8, b: 9} and got.failed == {a: 3, b: 1}  # 9.0 is outside the window
    assert "neither served for 3.0 s at most" in got.line()
    # the window's edges count: a server that never answered was down all the time
    assert longest_gap([], 2.0, 5.0) == 3.0
    assert longest_gap([0.1, 4.0], 1.0, 5.0) == 3.0
