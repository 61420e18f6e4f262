"""Stand-ins for what decides ConfigMap kube-system/extension-apiserver-authentication during a CA
rotation: the API server's cluster-authentication-trust controller (k8s.io/kubernetes
``pkg/controlplane/controller/clusterauthenticationtrust``, v1.20) and a waiter that polls the
rotation's wait for it (without sleeping) while the static Pod waits stay the fake ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from kubeadm_py.effectors.waiting import Target
from kubeadm_py.phases.rotateca.published import AUTH_CONFIGMAP
from tests.unit.join.conftest import FakeClock
from tests.unit.upgrade.conftest import FakeWaiter, Node

# ConfigMap key -> the kube-apiserver flag naming the CA file the controller publishes there
PUBLISHED_FLAGS = {
    "client-ca-file": "--client-ca-file",
    "requestheader-client-ca-file": "--requestheader-client-ca-file",
}


def union(*bundles: str | bytes) -> str:
    """combineCertLists: every certificate of the bundles once, in order (none has expired here)."""
    seen: dict[bytes, x509.Certificate] = {}
    for b in bundles:
        text = b.encode() if isinstance(b, str) else b
        if b"BEGIN CERTIFICATE" in text:
            for c in x509.load_pem_x509_certificates(text):
                seen.setdefault(c.public_bytes(Encoding.DER), c)
    return "".join(c.public_bytes(Encoding.PEM).decode() for c in seen.values())


class TrustController:
    """The controller as v1.20 runs it: on every event of the ConfigMap (and at API server start) it
    writes the union of what the ConfigMap holds and the CA files it loaded; with the ConfigMap absent,
    its files alone. A changed file is loaded again at start (a new manifest) or after ``lag`` reads of
    the ConfigMap (standing for the minute of ``FileRefreshDuration``). It reacts before the next
    request reaches the server, as the real one does within milliseconds."""

    def __init__(self, node: Node, lag: int = 0) -> None:
        self.node, self.lag = node, lag
        self.manifest = ""
        self.loaded: dict[str, bytes] = {}
        self.countdown: int | None = None
        self.pending = True
        self.deletes = 0

    def set_lag(self, lag: int) -> None:
        """From now on a changed file is loaded after ``lag`` reads of the ConfigMap."""
        self.lag, self.countdown = lag, None

    def files(self) -> dict[str, bytes]:
        pod = yaml.safe_load(self.node.manifest("kube-apiserver"))
        command = [str(w) for w in pod["spec"]["containers"][0]["command"]]
        out = {}
        for key, flag in PUBLISHED_FLAGS.items():
            path = next(w.split("=", 1)[1] for w in command if w.startswith(flag + "="))
            out[key] = self.node.path(path).read_bytes()
        return out

    def before(self, method: str, path: str) -> None:
        manifest = self.node.manifest("kube-apiserver")
        if manifest != self.manifest:  # (re)started: reads its files
            self.manifest, self.loaded, self.countdown, self.pending = manifest, self.files(), None, True
        elif self.files() != self.loaded:
            self.countdown = self.lag if self.countdown is None else self.countdown
            if self.countdown <= 0:
                self.loaded, self.countdown, self.pending = self.files(), None, True
            elif method == "GET" and path.endswith(f"/configmaps/{AUTH_CONFIGMAP}"):
                self.countdown -= 1
        if self.pending:
            self.sync()

    def after(self, method: str, path: str) -> None:
        if method != "GET" and path.endswith(f"/configmaps/{AUTH_CONFIGMAP}"):
            self.pending = True
            self.deletes += method == "DELETE"

    def sync(self) -> None:
        self.pending = False
        api = self.node.api
        cm = api.obj("ConfigMap", AUTH_CONFIGMAP, "kube-system")
        data: dict[str, Any] = dict((cm or {}).get("data") or {})
        for key, pem in self.loaded.items():
            data[key] = union(data.get(key, ""), pem)
        if cm is None or data != cm.get("data"):
            meta = {"name": AUTH_CONFIGMAP, "namespace": "kube-system"}
            api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data})


class PollingWaiter(FakeWaiter):
    """FakeWaiter, except that the wait for the published trust polls its check for real, on a clock
    that advances by each sleep instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()

    def wait_all(self, targets: Sequence[Target], timeout: float, **kw: Any) -> dict[str, str]:
        polled = [t for t in targets if AUTH_CONFIGMAP in t.name]
        rest = [t for t in targets if t not in polled]
        bad = super().wait_all(rest, timeout, **kw) if rest else {}
        if polled:
            self.calls += [("polled", t.name) for t in polled]
            bad |= self._poll(polled, timeout, kw.get("interval", 1.0), lambda m: None, "")
        return bad
