"""A small Kubernetes API client working on plain-dict objects.

Objects are dicts with ``apiVersion``, ``kind`` and ``metadata`` exactly as in YAML. The client
speaks REST through a :class:`Transport` (the real one is built from a kubeconfig with the official
``kubernetes`` package's loader, imported lazily because it is slow to import), retries connection
failures a bounded number of times with backoff, and turns API failures into one-line
:class:`~kubeadm_py.errors.ApiError` messages. Every mutating call records a
:class:`~kubeadm_py.changes.Change` in ``client.changes``, which the runner collects.

``apply(obj)`` is kubeadm's idempotent create-or-update: create; on 409 read the live object and
update it only when a field the desired object sets differs (see :mod:`kubeadm_py.kube.compare`).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kubeadm_py.changes import Action, Change
from kubeadm_py.errors import ApiError
from kubeadm_py.kube.compare import changed_paths, comparable, matches, to_yaml
from kubeadm_py.kube.kinds import describe, kind_info, object_key
from kubeadm_py.kube.wire import Transport, TransportError

Obj = dict[str, Any]
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class StatusError(ApiError):
    """The API server answered with an error status."""

    def __init__(self, message: str, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class NotFoundError(StatusError):
    pass


class ConflictError(StatusError):
    """409: AlreadyExists on create, a stale resourceVersion on update."""


class ForbiddenError(StatusError):
    pass


@dataclass
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 4.0


class KubeClient:
    """Typed operations on dict objects. Build with :meth:`from_kubeconfig` or give a transport."""

    def __init__(
        self,
        transport: Transport,
        *,
        user: str | Callable[[], str] = "",
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = transport
        self._user = user
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self.changes: list[Change] = []
        self.dry_run = False

    @property
    def user(self) -> str:
        """The user name shown in errors (computed on first use: reading it from a client
        certificate needs cryptography)."""
        if callable(self._user):
            self._user = self._user()
        return self._user

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    @classmethod
    def from_kubeconfig(cls, path: str, *, display_path: str | None = None, **kw: Any) -> KubeClient:
        from kubeadm_py.kube.transport import UrllibTransport

        transport, user = UrllibTransport.from_kubeconfig(path, display_path=display_path)
        return cls(transport, user=user, **kw)

    # --- raw requests -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Obj | list[Any] | None = None,
        *,
        content_type: str = "application/json",
        what: str = "",
    ) -> Obj:
        """Send a request with bounded retries on connection failures; return the decoded answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        start = self._clock()
        delay = self.retry.first_delay
        last = ""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                status, raw = self.transport.send(method, path, data, headers)
            except TransportError as e:
                last = e.reason
                if attempt < self.retry.attempts:
                    self._sleep(delay)
                    delay = min(delay * 2, self.retry.max_delay)
                continue
            if status in (429, 503) and attempt < self.retry.attempts:
                last = f"HTTP {status}"
                self._sleep(delay)
                delay = min(delay * 2, self.retry.max_delay)
                continue
            return self._decode(method, path, status, raw, what)
        took = self._clock() - start
        n = self.retry.attempts
        raise ApiError(
            f"cannot reach the API server at {self.endpoint}: {last} "
            f"(after {n} attempt{'s' if n != 1 else ''} over {took:.0f}s)"
        )

    def _decode(self, method: str, path: str, status: int, raw: bytes, what: str) -> Obj:
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"message": raw[:200].decode("utf-8", "replace")}
        if 200 <= status < 300:
            return answer if isinstance(answer, dict) else {"items": answer}
        message = (
            str(answer.get("message") or f"HTTP {status}") if isinstance(answer, dict) else f"HTTP {status}"
        )
        reason = str(answer.get("reason", "")) if isinstance(answer, dict) else ""
        target = what or path
        verb = _VERBS.get(method, method.lower())
        if status == 404:
            raise NotFoundError(f"{target} not found", status, reason)
        if status == 409:
            raise ConflictError(f"{target}: {message}", status, reason)
        if status == 403:
            who = f" as user {self.user!r}" if self.user else ""
            raise ForbiddenError(
                f"the API server at {self.endpoint} refused to {verb} {target}{who}: {message}",
                status,
                reason,
            )
        if status == 401:
            raise StatusError(
                f"the API server at {self.endpoint} did not accept the credentials"
                f"{' of ' + repr(self.user) if self.user else ''} ({verb} {target}): {message}",
                status,
                reason,
            )
        raise StatusError(f"cannot {verb} {target} at {self.endpoint}: {message}", status, reason)

    # --- reads --------------------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        """The live object, or None when it does not exist."""
        info = kind_info(kind)
        try:
            obj = self.request("GET", info.path(namespace, name), what=describe(kind, name, namespace))
        except NotFoundError:
            return None
        return _with_type(obj, kind, info.api_version)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Obj]:
        info = kind_info(kind)
        path = info.path(namespace)
        if label_selector:
            path += "?" + urlencode({"labelSelector": label_selector})
        answer = self.request("GET", path, what=f"{info.plural} in {namespace}" if namespace else info.plural)
        return [_with_type(o, kind, info.api_version) for o in answer.get("items") or []]

    def reachable(self) -> bool:
        try:
            self.request("GET", "/version", what="the server version")
        except ApiError:
            return False
        return True

    # --- writes -------------------------------------------------------------------------------
    def create(self, obj: Obj) -> Obj:
        kind, ns, name = object_key(obj)
        info = kind_info(kind)
        body = comparable(obj)
        return self.request("POST", info.path(ns or None), body, what=describe(kind, name, ns or None))

    def update(self, obj: Obj, resource_version: str) -> Obj:
        kind, ns, name = object_key(obj)
        info = kind_info(kind)
        body = comparable(obj)
        body.setdefault("metadata", {})["resourceVersion"] = resource_version
        return self.request("PUT", info.path(ns or None, name), body, what=describe(kind, name, ns or None))

    def apply(self, obj: Obj, *, merge: bool = False, detail: str = "") -> Change:
        """Create or update ``obj`` so that the cluster matches it; returns what happened.

        ``merge``: update by overlaying ``obj`` on the live object (keeps keys others added, e.g.
        the bootstrap signer's ``jws-kubeconfig-*`` keys in ``cluster-info``) instead of replacing it."""
        kind, ns, name = object_key(obj)
        target = describe(kind, name, ns or None)
        content = to_yaml(obj)
        live = self.get(kind, name, ns or None)
        if live is None:
            try:
                self.create(obj)
                return self.record("create", target, detail or "created", content)
            except ConflictError:
                live = self.get(kind, name, ns or None)
                if live is None:
                    raise
        for _ in range(5):
            if matches(obj, live):
                return self.record("unchanged", target, "already up to date", content)
            paths = ", ".join(changed_paths(comparable(obj), live)[:5])
            body = deep_merge(_strip_server(live), obj) if merge else obj
            rv = str((live.get("metadata") or {}).get("resourceVersion", ""))
            try:
                self.update(body, rv)
                return self.record("update", target, detail or f"updated: {paths}", content)
            except ConflictError:
                live = self.get(kind, name, ns or None)
                if live is None:
                    self.create(obj)
                    return self.record("create", target, detail or "created", content)
        raise ApiError(f"cannot update {target}: it keeps changing under us (resourceVersion conflicts)")

    def create_only(self, obj: Obj, *, exists_message: str | None = None) -> Change:
        """Create; an existing object is an error (``token create`` semantics)."""
        kind, ns, name = object_key(obj)
        target = describe(kind, name, ns or None)
        try:
            self.create(obj)
        except ConflictError:
            raise ApiError(exists_message or f"{target} already exists") from None
        return self.record("create", target, "created", to_yaml(obj))

    def delete(self, kind: str, name: str, namespace: str | None = None) -> Change:
        info = kind_info(kind)
        target = describe(kind, name, namespace)
        try:
            self.request("DELETE", info.path(namespace, name), what=target)
        except NotFoundError:
            return self.record("unchanged", target, "absent")
        return self.record("delete", target, "deleted")

    def patch_node(
        self,
        name: str,
        mutate: Callable[[Obj], None],
        *,
        wait: float = 60.0,
        interval: float = 1.0,
        detail: str = "",
    ) -> Change:
        """Wait (bounded) for Node ``name`` to exist, apply ``mutate`` to a copy and send the
        labels, annotations and taints that changed as a JSON merge patch guarded by resourceVersion.
        The dry-run client shares this and swaps only :meth:`_node_to_patch` and :meth:`_send_node_patch`."""
        target = describe("Node", name)
        deadline = self._clock() + wait
        for _ in range(20):
            node = self._node_to_patch(name, deadline, wait, interval)
            want = copy.deepcopy(node)
            want.setdefault("metadata", {}).setdefault("labels", {})
            want["metadata"].setdefault("annotations", {})
            want.setdefault("spec", {})
            mutate(want)
            patch = node_patch(node, want)
            if not patch:
                return self.record("unchanged", target, "already up to date")
            try:
                shown, done = self._send_node_patch(name, node, want, patch)
            except ConflictError:
                continue
            return self.record("update", target, detail or done, json.dumps(shown, indent=2, sort_keys=True))
        raise ApiError(f"cannot patch {target}: it keeps changing under us (resourceVersion conflicts)")

    def _node_to_patch(self, name: str, deadline: float, wait: float, interval: float) -> Obj:
        """The live Node, waited for until ``deadline`` (the kubelet registers it)."""
        node = self.get("Node", name)
        while node is None:
            if self._clock() >= deadline:
                raise ApiError(
                    f"timed out waiting for the Node {name!r} to be registered (waited {wait:.0f}s)"
                )
            self._sleep(interval)
            node = self.get("Node", name)
        return node

    def _send_node_patch(self, name: str, node: Obj, want: Obj, patch: Obj) -> tuple[Obj, str]:
        """Send ``patch`` guarded by ``node``'s resourceVersion (ConflictError when stale); returns
        what the change shows and its default detail."""
        meta = patch.get("metadata", {})
        rv = node["metadata"].get("resourceVersion", "")
        self.request(
            "PATCH",
            kind_info("Node").path(None, name),
            {**patch, "metadata": {**meta, "resourceVersion": rv}},
            content_type="application/merge-patch+json",
            what=describe("Node", name),
        )
        return {**patch, "metadata": meta}, "patched"

    def record(self, action: Action, target: str, detail: str, content: str | None = None) -> Change:
        change = Change("object", action, target, detail, content)
        self.changes.append(change)
        return change


def node_patch(old: Obj, new: Obj) -> Obj:
    """A merge patch turning ``old``'s labels, annotations and taints into ``new``'s."""
    patch: Obj = {}
    meta: Obj = {}
    for field in ("labels", "annotations"):
        o = (old.get("metadata") or {}).get(field) or {}
        n = (new.get("metadata") or {}).get(field) or {}
        diff: dict[str, Any] = {k: v for k, v in n.items() if o.get(k) != v}
        diff.update({k: None for k in o if k not in n})
        if diff:
            meta[field] = diff
    if meta:
        patch["metadata"] = meta
    old_taints = (old.get("spec") or {}).get("taints") or []
    new_taints = (new.get("spec") or {}).get("taints") or []
    if old_taints != new_taints:
        patch["spec"] = {"taints": new_taints}
    return patch


def deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def _strip_server(live: Obj) -> Obj:
    return comparable(live)


def _with_type(obj: Obj, kind: str, api_version: str) -> Obj:
    # List items come without apiVersion/kind; single GETs have them. Normalise.
    obj.setdefault("apiVersion", api_version)
    obj.setdefault("kind", kind)
    return obj
