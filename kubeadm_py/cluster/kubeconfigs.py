"""Reading and writing the kubeconfig files the cluster phases touch (admin.conf's cluster,
the cluster-info kubeconfig, kubelet.conf's user), serialised as client-go's ``clientcmd.Write``
does: keys sorted, empty lists as ``null``, go-yaml's quoting (``name: ""``), ``preferences: {}``
before v1.34 (``ObjectsProfile.kubeconfig_preferences``)."""

from __future__ import annotations

from typing import Any

import yaml

from kubeadm_py import goyaml
from kubeadm_py.errors import KubeadmError

Obj = dict[str, Any]


def load(text: str | bytes, source: str) -> Obj:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise KubeadmError(f"{source} is not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise KubeadmError(f"{source} is not a kubeconfig file")
    return doc


def _named(doc: Obj, section: str, name: str) -> Obj | None:
    for item in doc.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def _entry(doc: Obj, section: str, name: str, missing: str) -> Obj:
    """The item of ``section`` called ``name``; the error ``missing`` when there is none."""
    item = _named(doc, section, name)
    if item is None:
        raise KubeadmError(missing)
    return item


def current_cluster(doc: Obj, source: str) -> Obj:
    """The cluster entry (server, certificate-authority-data...) of the current context."""
    ctx_name = doc.get("current-context") or ""
    ctx = _entry(doc, "contexts", ctx_name, f"{source}: current context {ctx_name!r} not found")
    cluster = _named(doc, "clusters", (ctx.get("context") or {}).get("cluster", ""))
    if cluster is None or not isinstance(cluster.get("cluster"), dict):
        raise KubeadmError(f"{source}: the cluster of context {ctx_name!r} is missing")
    return dict(cluster["cluster"])


def dump(doc: Obj, *, preferences: bool) -> str:
    """clientcmd.Write's layout: sorted keys; contexts/users null when empty; ``preferences``: the
    ``preferences: {}`` client-go writes before v1.34."""
    out: Obj = {
        "apiVersion": doc.get("apiVersion", "v1"),
        "clusters": doc.get("clusters") or None,
        "contexts": doc.get("contexts") or None,
        "current-context": doc.get("current-context", ""),
        "kind": "Config",
        "users": doc.get("users") or None,
    }
    if preferences:
        out["preferences"] = doc.get("preferences") or {}
    if doc.get("extensions"):
        out["extensions"] = doc["extensions"]
    return goyaml.dump(out)


def cluster_info_kubeconfig(admin_conf: str | bytes, source: str = "admin.conf", *, preferences: bool) -> str:
    """The cluster-info kubeconfig: admin.conf's current cluster under an empty name, nothing else."""
    cluster = current_cluster(load(admin_conf, source), source)
    return dump({"clusters": [{"cluster": cluster, "name": ""}]}, preferences=preferences)


def point_user_at_pem(kubelet_conf: str | bytes, pem_path: str, source: str, *, preferences: bool) -> str:
    """kubelet-finalize: the current user's client certificate and key become ``pem_path``."""
    doc = load(kubelet_conf, source)
    ctx_name = doc.get("current-context") or ""
    if not ctx_name:
        raise KubeadmError(f"the file {source!r} does not have current context set")
    ctx = _entry(
        doc,
        "contexts",
        ctx_name,
        f"the file {source!r} is not a valid kubeconfig: {ctx_name!r} set as current-context, "
        "but not found in context list",
    )
    user_name = (ctx.get("context") or {}).get("user") or ""
    if not user_name:
        raise KubeadmError(f"the current context {ctx_name!r} in {source!r} does not have a user set")
    user = _entry(
        doc,
        "users",
        user_name,
        f"user {user_name!r} is set in the current context {ctx_name!r} in {source!r}, "
        "but is missing in the user list",
    )
    info = user.setdefault("user", {}) or {}
    user["user"] = info
    info.pop("client-certificate-data", None)
    info.pop("client-key-data", None)
    info["client-certificate"] = pem_path
    info["client-key"] = pem_path
    return dump(doc, preferences=preferences)
