"""Secrets in a checkpoint. A static Pod cannot mount a Secret (the kubelet has no API server to
read it from after a restart), so the certificates a self-hosted Pod mounts from Secrets (the
pivot's certificates-from-Secrets option: ``secret`` and ``projected`` volumes of Secret sources)
are kept as files next to the checkpoint, mode 0600, under
``/etc/kubernetes/selfhosting/checkpoints/secrets/<component>/<volume>/``, and the checkpoint
mounts that directory by hostPath. The Secrets are read with the node's credentials (the Node
authorizer lets a node read the Secrets its Pods reference)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from kubeadm_py.errors import KubeadmError
from kubeadm_py.selfhosting.checkpoint import CHECKPOINTS_DIR

SECRETS_ANNOTATION = "kubeadm-py.io/checkpoint-secrets"  # sha256 of the files kept
# (secret name, data key or None for every key, path in the volume or None for the key, optional)
Source = tuple[str, str | None, str | None, bool]


def secrets_dir(component: str, volume: str) -> str:
    return f"{CHECKPOINTS_DIR}/secrets/{component}/{volume}"


def sources(volume: Mapping[str, Any]) -> list[Source] | None:
    """The Secret sources of a volume; None when it is not a Secret volume (or mixes in others)."""
    if "secret" in volume:
        s = volume["secret"] or {}
        name, optional = str(s.get("secretName", "")), bool(s.get("optional"))
        items = s.get("items") or [{"key": None, "path": None}]
        return [(name, i["key"], i["path"], optional) for i in items]
    projected = (volume.get("projected") or {}).get("sources")
    if not projected or any(set(p) != {"secret"} for p in projected):
        return None
    out: list[Source] = []
    for p in projected:
        s = p["secret"]
        items = s.get("items") or [{"key": None, "path": None}]
        out += [(str(s.get("name", "")), i["key"], i["path"], bool(s.get("optional"))) for i in items]
    return out


def secret_names(spec: Mapping[str, Any]) -> set[str]:
    return {src[0] for v in spec.get("volumes") or [] for src in sources(v) or []}


def materialize(
    pod: dict[str, Any], component: str, secrets: Mapping[str, Mapping[str, str] | None]
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``pod`` (a static-Pod form) with its Secret volumes turned into hostPath directories, and the
    files (host path -> bytes) to write there. ``secrets``: name -> its ``data`` (base64 values),
    None when it does not exist (an error unless the source is optional)."""
    files: dict[str, bytes] = {}
    volumes = []
    for v in pod["spec"].get("volumes") or []:
        srcs = sources(v)
        if srcs is None:
            volumes.append(v)
            continue
        base = secrets_dir(component, v["name"])
        for name, key, path, optional in srcs:
            data = secrets.get(name)
            if data is None:
                if optional:
                    continue
                raise KubeadmError(f"secret kube-system/{name} (volume {v['name']}) not found")
            keys = [key] if key is not None else sorted(data)
            for k in keys:
                if k not in data:
                    if optional:
                        continue
                    raise KubeadmError(f"secret kube-system/{name} has no key {k!r}")
                files[f"{base}/{path if key is not None and path else k}"] = base64.b64decode(data[k])
        volumes.append({"name": v["name"], "hostPath": {"path": base, "type": "Directory"}})
    if not files:
        return pod, files
    digest = hashlib.sha256()
    for p in sorted(files):
        digest.update(p.encode() + b"\0" + files[p] + b"\0")
    out = {**pod, "spec": {**pod["spec"], "volumes": volumes}}
    out["metadata"] = {**pod["metadata"], "annotations": {**pod["metadata"]["annotations"]}}
    out["metadata"]["annotations"][SECRETS_ANNOTATION] = digest.hexdigest()
    return out, files
