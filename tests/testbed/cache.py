"""Where the test bed's binaries and images are (built by ``testbed/build.sh``)."""
from __future__ import annotations

import json
import os
import shutil

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_SCRIPT = os.path.join(REPO_ROOT, "testbed", "build.sh")
K8S_VERSION = "v1.20.2"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubeadm")
REQUIRED_IMAGES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "pause")
HOST_TOOLS = ("containerd", "ctr", "runc", "unshare", "nsenter", "ip", "mount", "etcdctl")


def cache_dir() -> str:
    return os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")


def bin_path(name: str) -> str:
    """Path of a cached v1.20.2 binary (kubelet, kubeadm, kube-apiserver, ..., pause)."""
    return os.path.join(cache_dir(), "bin", name)


def image_dir() -> str:
    return os.path.join(cache_dir(), "images")


def image_archives() -> list[str]:
    d = image_dir()
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".tar"))


def image_index() -> dict:
    """Content of ``images/images.json``: {"repos": [...], "images": {name: {"tag", "file", "refs"}}}."""
    with open(os.path.join(image_dir(), "images.json")) as f:
        return json.load(f)


def image_ref(name: str, repo: str = "registry.k8s.io") -> str:
    tag = image_index()["images"][name]["tag"]
    return f"{repo}/{name}:{tag}"


def missing() -> list[str]:
    """What is missing for the test bed; empty when it is usable."""
    out = []
    for c in COMPONENTS:
        if not os.access(bin_path(c), os.X_OK):
            out.append("bin/" + c)
    for i in REQUIRED_IMAGES:
        if not os.path.isfile(os.path.join(image_dir(), i + ".tar")):
            out.append(f"images/{i}.tar")
    for t in HOST_TOOLS:
        if shutil.which(t) is None:
            out.append("host tool " + t)
    return out


def skip_reason() -> str | None:
    """Reason to skip test-bed tests on this machine, or None when they can run."""
    if os.geteuid() != 0:
        return "test bed needs root"
    m = missing()
    if m:
        return "test bed cache {} incomplete (missing {}); run: sudo bash {}".format(
            cache_dir(), ", ".join(m[:6]) + (" ..." if len(m) > 6 else ""), BUILD_SCRIPT)
    return None
