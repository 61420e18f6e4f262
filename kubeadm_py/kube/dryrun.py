"""The dry-run client: records every write as a :class:`~kubeadm_py.changes.Change` (content = the
object's YAML, Secret values redacted) and never writes.

Reads are served, in order, from objects this run "wrote" earlier, from the real cluster when one
is reachable, and from canned objects (e.g. the Node that ``mark-control-plane`` patches, which
cannot exist before a real init). Actions are computed exactly as the real client computes them,
so a dry run against a live cluster says ``unchanged`` where a real run would change nothing."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.errors import ApiError
from kubeadm_py.kube.client import KubeClient, Obj, deep_merge
from kubeadm_py.kube.compare import changed_paths, comparable, matches, to_yaml
from kubeadm_py.kube.kinds import describe, kind_info, object_key
from kubeadm_py.kube.wire import TransportError

Key = tuple[str, str, str]


class _Offline:
    endpoint = "(dry-run: no API server)"

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        raise TransportError("dry run without a reachable cluster")


class DryRunKubeClient(KubeClient):
    def __init__(self, real: KubeClient | None = None, canned: Iterable[Obj] = ()) -> None:
        super().__init__(real.transport if real is not None else _Offline(), user=real.user if real else "")
        self.real = real
        self._real_ok: bool | None = None if real is not None else False
        self.dry_run = True
        self.store: dict[Key, Obj] = {}
        self.deleted: set[Key] = set()
        self.canned: dict[Key, Obj] = {object_key(o): _fill_meta(copy.deepcopy(o)) for o in canned}

    # --- reads --------------------------------------------------------------------------------
    def real_reachable(self) -> bool:
        if self._real_ok is None:
            assert self.real is not None
            self._real_ok = self.real.reachable()
        return self._real_ok

    def _live(self, kind: str, name: str, namespace: str | None) -> Obj | None:
        ns = (namespace or "") if kind_info(kind).namespaced else ""
        key = (kind, ns, name)
        if key in self.deleted:
            return None
        if key in self.store:
            return self.store[key]
        if self.real is not None and self.real_reachable():
            live = self.real.get(kind, name, namespace)
            if live is not None:
                return live
        return self.canned.get(key)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        live = self._live(kind, name, namespace)
        return copy.deepcopy(live) if live is not None else None

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Obj]:
        found: dict[Key, Obj] = {}
        if self.real is not None and self.real_reachable():
            for o in self.real.list(kind, namespace, label_selector):
                found[object_key(o)] = o
        sel = _parse_selector(label_selector)
        for src in (self.canned, self.store):
            for key, o in src.items():
                if src is self.canned and key in found:
                    continue  # a canned stand-in never hides the real object (as in get)
                if key[0] == kind and (namespace is None or key[1] == namespace) and _selected(o, sel):
                    found[key] = o
        return [copy.deepcopy(o) for k, o in sorted(found.items()) if k not in self.deleted]

    def reachable(self) -> bool:
        return True

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        what: str = "",
    ) -> Obj:
        if method == "GET" and self.real is not None and self.real_reachable():
            return self.real.request(method, path, body, content_type=content_type, what=what)
        raise ApiError(f"internal: raw {method} {path} is not available in dry-run")

    # --- writes (recorded only) ---------------------------------------------------------------
    def _keep(self, obj: Obj) -> None:
        key = object_key(obj)
        self.deleted.discard(key)
        self.store[key] = _fill_meta(copy.deepcopy(obj))

    def apply(self, obj: Obj, *, merge: bool = False, detail: str = "") -> Change:
        kind, ns, name = object_key(obj)
        target = describe(kind, name, ns or None)
        content = to_yaml(obj)
        live = self._live(kind, name, ns or None)
        if live is None:
            self._keep(obj)
            return self.record("create", target, detail or "would create", content)
        if matches(obj, live):
            return self.record("unchanged", target, "already up to date", content)
        paths = ", ".join(changed_paths(comparable(obj), live)[:5])
        new = deep_merge(comparable(live), obj) if merge else obj
        self._keep(new)
        return self.record("update", target, detail or f"would update: {paths}", content)

    def create_only(self, obj: Obj, *, exists_message: str | None = None) -> Change:
        kind, ns, name = object_key(obj)
        target = describe(kind, name, ns or None)
        if self._live(kind, name, ns or None) is not None:
            raise ApiError(exists_message or f"{target} already exists")
        self._keep(obj)
        return self.record("create", target, "would create", to_yaml(obj))

    def delete(self, kind: str, name: str, namespace: str | None = None) -> Change:
        target = describe(kind, name, namespace)
        if self._live(kind, name, namespace) is None:
            return self.record("unchanged", target, "absent")
        ns = (namespace or "") if kind_info(kind).namespaced else ""
        self.store.pop((kind, ns, name), None)
        self.deleted.add((kind, ns, name))
        return self.record("delete", target, "would delete")

    def _node_to_patch(self, name: str, deadline: float, wait: float, interval: float) -> Obj:
        """No waiting: a Node that no source has (a dry-run init's own node) is made up."""
        node = self.get("Node", name)
        if node is None:
            node = _fill_meta({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
        return node

    def _send_node_patch(self, name: str, node: Obj, want: Obj, patch: Obj) -> tuple[Obj, str]:
        """Recorded only: later reads in this run see ``want``."""
        self._keep(want)
        return patch, "would patch"


def canned_node(name: str) -> Obj:
    """The Node a dry-run init pretends the kubelet registered (as upstream's dry-run client does)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}, "annotations": {}},
        "spec": {},
    }


def _fill_meta(obj: Obj) -> Obj:
    meta = obj.setdefault("metadata", {})
    meta.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, "dry-run/" + "/".join(object_key(obj)))))
    meta.setdefault("resourceVersion", "1")
    return obj


def _parse_selector(sel: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (sel or "").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip().lstrip("=")
    return out


def _selected(obj: Obj, sel: dict[str, str]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in sel.items())
