"""``config images pull`` and the ImagePull preflight check against a real containerd (CRI plugin on,
root and state in a temp dir) holding the test bed's v1.20.2 images (``ctr -n k8s.io images import``
of /var/cache/kubeadm-py-testbed/images/*.tar, as tests/testbed does). Absent images point at a
closed loopback port, so a pull fails fast without leaving the machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kubeadm_py.config.resolve import build_config
from kubeadm_py.effectors.cri import ContainerRuntime, DryRunCri, host_cri_factory
from kubeadm_py.host.probe import RealProbe
from kubeadm_py.images import control_plane_images
from kubeadm_py.preflight.images import ImagePull
from kubeadm_py.preflight.roles import checks_for_role, facts_from_config
from tests.testbed import cache
from tests.testbed.configs import init_config_v1beta2

pytestmark = pytest.mark.integration

REPO = "k8s.gcr.io"  # the test bed's imageRepository (tests/testbed/configs.py)
VERSION = cache.K8S_VERSION
COREDNS_STANDIN = f"{REPO}/coredns:1.7.0"  # the cache has no CoreDNS image: tag pause under its name


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (containerd)"
    for tool in ("containerd", "ctr"):
        if not shutil.which(tool):
            return f"{tool} not installed"
    missing = [i for i in cache.REQUIRED_IMAGES + ("kube-proxy",)
               if not os.path.isfile(os.path.join(cache.image_dir(), i + ".tar"))]
    if missing:
        return f"test-bed image cache incomplete ({', '.join(missing)}); run testbed/build.sh"
    return None


class Containerd:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.sock = f"/tmp/kpy-img-{os.getpid()}.sock"  # unix socket paths are short
        self.log = base / "containerd.log"
        cfg = base / "config.toml"
        cfg.write_text(
            f'version = 2\nroot = "{base}/root"\nstate = "{base}/state"\n'
            f'[grpc]\n  address = "{self.sock}"\n[ttrpc]\n  address = "{self.sock}.ttrpc"\n'
        )
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(["containerd", "--config", str(cfg)], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while self.ctr("version", check=False).returncode != 0:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"containerd did not come up; see {self.log}")
            time.sleep(0.2)

    @property
    def endpoint(self) -> str:
        return f"unix://{self.sock}"

    def ctr(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ctr", "-a", self.sock, "-n", "k8s.io", *args], capture_output=True,
                              text=True, timeout=timeout, check=check)

    def pull_attempts(self, image: str) -> int:
        return self.log.read_text(errors="replace").count(f'msg="PullImage \\"{image}\\""')

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for p in (self.sock, f"{self.sock}.ttrpc"):
            if os.path.exists(p):
                os.unlink(p)


@pytest.fixture(scope="module")
def ctd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    c = Containerd(tmp_path_factory.mktemp("containerd"))
    try:
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "pause",
                     "etcd"):
            c.ctr("images", "import", os.path.join(cache.image_dir(), name + ".tar"))
        c.ctr("images", "tag", "--force", f"{REPO}/pause:3.2", COREDNS_STANDIN)
        yield c
    finally:
        c.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, ctd: Containerd, extra_cluster: str = "", nodereg: str = "") -> str:
    text = init_config_v1beta2("127.0.0.1", "node1", kubernetes_version=VERSION, image_repository=REPO,
                               cri_socket=ctd.endpoint, extra_cluster_yaml=extra_cluster)
    if nodereg:  # v1beta4 fields (imagePullPolicy) need a v1beta4 InitConfiguration
        text = text.replace("apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration",
                            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration", 1)
        text = text.replace(f"  criSocket: {ctd.endpoint}\n", f"  criSocket: {ctd.endpoint}\n{nodereg}", 1)
        text = text.replace("apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration",
                            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration", 1)
    p = tmp_path / "kubeadm.yaml"
    p.write_text(text)
    return str(p)


def _dry_run_cri(endpoint: str) -> ContainerRuntime:
    return DryRunCri(host_cri_factory(endpoint), lambda line: None)


def _image_pull_check(config: str, pull: bool = True) -> ImagePull:
    """The check as the preflight phase runs it: with the real CRI effector, or its dry-run twin."""
    cfg = build_config("init", config=config)
    check = checks_for_role("init", facts_from_config(cfg, "init"))[-1]
    assert isinstance(check, ImagePull)
    return replace(check, runtime=host_cri_factory if pull else _dry_run_cri)


def test_present_images_pass_and_pull_reports_them(ctd: Containerd, tmp_path: Path) -> None:
    config = _config(tmp_path, ctd)
    cfg = build_config("init", config=config)
    images = control_plane_images(cfg)
    # v1.20's order, as its kubeadm binary lists them (versions.py image_order)
    assert images == [f"{REPO}/kube-apiserver:{VERSION}", f"{REPO}/kube-controller-manager:{VERSION}",
                      f"{REPO}/kube-scheduler:{VERSION}", f"{REPO}/kube-proxy:{VERSION}",
                      f"{REPO}/pause:3.2", f"{REPO}/etcd:3.4.13-0", COREDNS_STANDIN]
    warnings, errors = _image_pull_check(config).run(RealProbe())
    assert errors == []
    # containerd's built-in sandbox image differs from kubeadm's pause image: upstream's warning
    assert len(warnings) == 1 and "is inconsistent with that used by kubeadm" in warnings[0]
    assert f'"{REPO}/pause:3.2"' in warnings[0]
    r = subprocess.run([sys.executable, "-m", "kubeadm_py", "config", "images", "pull", "--config", config],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"[config/images] Image is present: {i}" for i in images]
    assert all(ctd.pull_attempts(i) == 0 for i in images)


def test_absent_image_pull_fails_with_cri_message(ctd: Containerd, tmp_path: Path) -> None:
    port = _closed_port()
    config = _config(tmp_path, ctd, f"etcd:\n  local:\n    imageRepository: 127.0.0.1:{port}\n")
    missing = f"127.0.0.1:{port}/etcd:3.4.13-0"
    t0 = time.monotonic()
    warnings, errors = _image_pull_check(config).run(RealProbe())
    assert time.monotonic() - t0 < 60
    assert len(errors) == 1 and errors[0].startswith(f"failed to pull image {missing}: rpc error: code = ")
    assert "connection refused" in errors[0]
    assert ctd.pull_attempts(missing) == 5  # upstream PullImageRetry
    # dry-run (the CRI effector's twin): ImageStatus, no pull
    warnings, errors = _image_pull_check(config, pull=False).run(RealProbe())
    assert errors == [] and f"image {missing} would be pulled; this run pulls nothing" in warnings
    assert ctd.pull_attempts(missing) == 5
    r = subprocess.run([sys.executable, "-m", "kubeadm_py", "config", "images", "pull", "--config", config,
                        "--timeout", "20"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    err = [line for line in r.stderr.strip().splitlines() if not line.startswith("W: ")]  # v1beta2 warning
    assert len(err) == 1 and err[0].startswith(f"error: failed to pull image '{missing}': rpc error")
    assert "Traceback" not in r.stderr


def test_policy_never_reports_missing_without_pull(ctd: Containerd, tmp_path: Path) -> None:
    port = _closed_port()
    config = _config(tmp_path, ctd, f"etcd:\n  local:\n    imageRepository: 127.0.0.1:{port}\n",
                     nodereg="  imagePullPolicy: Never\n")
    missing = f"127.0.0.1:{port}/etcd:3.4.13-0"
    check = _image_pull_check(config)
    assert check.policy == "Never"
    _, errors = check.run(RealProbe())
    assert errors == [f"image {missing} not present and imagePullPolicy is Never"]
    assert ctd.pull_attempts(missing) == 0


def test_unreachable_runtime_is_a_clear_error(tmp_path: Path) -> None:
    check = ImagePull((f"{REPO}/pause:3.2",), f"unix://{tmp_path}/none.sock", runtime=host_cri_factory)
    _, errors = check.run(RealProbe())
    sock = f"{tmp_path}/none.sock"
    assert errors == [f"images not checked or pulled: the container runtime on unix://{sock} did not answer: "
                      f"container runtime is not running: {sock} does not exist"]
