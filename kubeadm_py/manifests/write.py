"""Writing static Pods through the run context: patches, then ``ctx.fs`` (mode 0600, dir 0700)."""

from __future__ import annotations

from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.hostfs import MANIFEST_MODE
from kubeadm_py.manifests.pod import Pod, from_yaml, to_yaml
from kubeadm_py.patches import load_patches_for


def manifest_path(ctx: Any, component: str) -> str:
    return f"{ctx.manifests_dir.rstrip('/')}/{component}.yaml"


def write_static_pod(ctx: Any, component: str, pod: Pod) -> Change:
    patches = load_patches_for(ctx)
    if patches is not None:
        pod = patches.apply(component, pod, ctx.log)
    ctx.fs.mkdir(ctx.manifests_dir, 0o700)
    return ctx.fs.write(manifest_path(ctx, component), to_yaml(pod).encode(), MANIFEST_MODE)


def read_static_pod(ctx: Any, component: str) -> Pod | None:
    path = manifest_path(ctx, component)
    text = ctx.fs.read_text(path)
    if text is None:
        return None
    pod = from_yaml(text, path)
    return pod if isinstance(pod, dict) else None
