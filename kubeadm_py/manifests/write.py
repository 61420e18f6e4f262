"""Writing and reading static Pod manifests on the node: patches, then ``fs`` (mode 0600, dir 0700)."""

from __future__ import annotations

from collections.abc import Callable

from kubeadm_py.changes import Change
from kubeadm_py.hostfs import MANIFEST_MODE, HostFS
from kubeadm_py.manifests.pod import Pod, from_yaml, to_yaml
from kubeadm_py.patches import PatchSet


def manifest_path(manifests_dir: str, component: str) -> str:
    return f"{manifests_dir.rstrip('/')}/{component}.yaml"


def write_static_pod(
    fs: HostFS,
    manifests_dir: str,
    component: str,
    pod: Pod,
    patches: PatchSet | None = None,
    log: Callable[[str], None] | None = None,
) -> Change:
    """Apply ``patches`` (target ``component``) to ``pod`` and write it to ``manifests_dir``."""
    if patches is not None:
        pod = patches.apply(component, pod, log)
    fs.mkdir(manifests_dir, 0o700)
    return fs.write(manifest_path(manifests_dir, component), to_yaml(pod).encode(), MANIFEST_MODE)


def read_static_pod(fs: HostFS, manifests_dir: str, component: str) -> Pod | None:
    path = manifest_path(manifests_dir, component)
    text = fs.read_text(path)
    if text is None:
        return None
    pod = from_yaml(text, path)
    return pod if isinstance(pod, dict) else None
