"""An in-memory Kubernetes API server speaking the REST subset kubeadm-py uses, plugged in as a
:class:`~kubeadm_py.kube.client.Transport`: create (POST), get/list (GET), update (PUT with
resourceVersion check), JSON merge patch (PATCH), delete; 404/409 like the real server; server-side
defaults on some kinds (so "unchanged" detection is exercised); injectable 403s and outages."""

from __future__ import annotations

import copy
import itertools
import json
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from kubeadm_py.kube.client import KubeClient, RetryPolicy
from kubeadm_py.kube.kinds import KINDS
from kubeadm_py.kube.wire import TransportError

_PLURAL = {(k.api_version, k.plural): k for k in KINDS.values()}
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<ver>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/?]+))?(?:\?(?P<q>.*))?$"
)


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class FakeAPIServer:
    endpoint = "https://fake-apiserver:6443"

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.forbid: set[tuple[str, str]] = set()  # (METHOD, plural)
        self.down = False
        # Answers for paths outside the REST subset (/readyz, pods/<name>/log): each handler gets
        # (method, path) and returns (status, body) or None to pass.
        self.handlers: list[Callable[[str, str], tuple[int, bytes] | None]] = []
        self._rv = itertools.count(100)

    def client(self, **kw: Any) -> KubeClient:
        kw.setdefault("retry", RetryPolicy(attempts=2, first_delay=0.0))
        kw.setdefault("sleep", lambda s: None)
        return KubeClient(self, user="kubernetes-admin", **kw)

    # helpers for tests
    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        info = KINDS[obj["kind"]]
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta["resourceVersion"] = str(next(self._rv))
        self._default(obj)
        self.objects[(obj["kind"], meta.get("namespace", "") if info.namespaced else "", meta["name"])] = obj
        return obj

    def obj(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    def mutations(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    @staticmethod
    def _drop_false_read_only(node: Any) -> None:
        """Go's omitempty: ``readOnly: false`` is not stored (seen on a real v1.20 API server)."""
        if isinstance(node, dict):
            if node.get("readOnly") is False:
                del node["readOnly"]
            for v in node.values():
                FakeAPIServer._drop_false_read_only(v)
        elif isinstance(node, list):
            for v in node:
                FakeAPIServer._drop_false_read_only(v)

    @staticmethod
    def _default(obj: dict[str, Any]) -> None:
        """A few server-side defaults, as the real API server adds them."""
        FakeAPIServer._drop_false_read_only(obj)
        if obj["kind"] == "Deployment":
            spec = obj.setdefault("spec", {})
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            tspec = spec.get("template", {}).get("spec", {})
            tspec.setdefault("restartPolicy", "Always")
            tspec.setdefault("schedulerName", "default-scheduler")
        if obj["kind"] == "Service":
            obj["spec"].setdefault("sessionAffinity", "None")
            obj["spec"].setdefault("type", "ClusterIP")
        if obj["kind"] in ("RoleBinding", "ClusterRoleBinding"):
            for s in obj.get("subjects") or []:
                if s.get("kind") in ("User", "Group"):
                    s.setdefault("apiGroup", "rbac.authorization.k8s.io")

    def _status(self, code: int, reason: str, message: str) -> tuple[int, bytes]:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": reason,
            "message": message,
            "code": code,
        }
        return code, json.dumps(body).encode()

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        self.requests.append((method, path))
        if self.down:
            raise TransportError("connection refused")
        for handler in self.handlers:
            answer = handler(method, path)
            if answer is not None:
                return answer
        if path == "/version":
            return 200, json.dumps({"major": "1", "minor": "20", "gitVersion": "v1.20.2"}).encode()
        m = _PATH.match(path)
        if not m:
            return self._status(404, "NotFound", f"no route {path}")
        api_version = "v1" if m.group("core") else f"{m.group('group')}/{m.group('ver')}"
        info = _PLURAL.get((api_version, m.group("plural")))
        if info is None:
            return self._status(404, "NotFound", f"unknown resource {path}")
        if (method, info.plural) in self.forbid:
            return self._status(
                403,
                "Forbidden",
                f'{info.plural} is forbidden: User "kubernetes-admin" cannot {method.lower()} resource '
                f'"{info.plural}" in API group "" in the namespace "{m.group("ns") or ""}"',
            )
        ns = m.group("ns") or ""
        name = m.group("name")
        key = (info.kind, ns, name or "")
        data = json.loads(body) if body else None
        if method == "GET" and name is None:
            items = [
                copy.deepcopy(o)
                for k, o in sorted(self.objects.items())
                if k[0] == info.kind and (not ns or k[1] == ns)
            ]
            selector = parse_qs(m.group("q") or "").get("labelSelector", [""])[0]
            sel = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
            items = [
                o
                for o in items
                if all((o["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())
            ]
            for o in items:
                o.pop("apiVersion", None)
                o.pop("kind", None)
            return 200, json.dumps({"kind": f"{info.kind}List", "items": items}).encode()
        if method == "GET":
            if key not in self.objects:
                return self._status(404, "NotFound", f'{info.plural} "{name}" not found')
            return 200, json.dumps(self.objects[key]).encode()
        if method == "POST":
            assert data is not None
            key = (info.kind, ns, data["metadata"]["name"])
            if key in self.objects:
                return self._status(409, "AlreadyExists", f'{info.plural} "{key[2]}" already exists')
            if ns:
                data["metadata"]["namespace"] = ns
            return 201, json.dumps(self.put(data)).encode()
        if key not in self.objects:
            return self._status(404, "NotFound", f'{info.plural} "{name}" not found')
        live = self.objects[key]
        if method == "DELETE":
            del self.objects[key]
            return 200, json.dumps({"kind": "Status", "status": "Success"}).encode()
        assert data is not None
        want_rv = (data.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != live["metadata"]["resourceVersion"]:
            return self._status(409, "Conflict", "the object has been modified; please apply your changes")
        if method == "PUT":
            new = data
            new["metadata"]["uid"] = live["metadata"]["uid"]
        elif method == "PATCH":
            assert headers.get("Content-Type") == "application/merge-patch+json"
            new = merge_patch(live, data)
        else:
            return self._status(405, "MethodNotAllowed", method)
        new["metadata"]["namespace"] = ns or new["metadata"].get("namespace")
        if not ns:
            new["metadata"].pop("namespace", None)
        return 200, json.dumps(self.put(new)).encode()
