"""What the checks read, as explicit values: this node's files (``fs``), the effectors (API clients
from kubeconfigs, the host probe for health endpoints, the CRI and etcd clients), the configuration,
the clock, and read caches shared by the checks of one attempt. Nothing here writes, except the
workload check's short-lived Pods through the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kubeadm_py.constants import (
    ADMIN_KUBECONFIG,
    KUBE_SYSTEM,
    KUBELET_KUBECONFIG,
    KUBERNETES_DIR,
    LABEL_CONTROL_PLANE,
    MANIFESTS_DIR,
)
from kubeadm_py.effectors.waiting import Clock, SystemClock

if TYPE_CHECKING:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.effectors.bundle import Effectors
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.run_options import RunOptions
    from kubeadm_py.upgrade.manifests import NodeManifests

Obj = dict[str, Any]
API_DOWN = "api-down"
LEGACY_CONTROL_PLANE_LABEL = "node-role.kubernetes.io/master"  # v1.20 labels both


def _peer_cert(host: str, port: int) -> bytes:
    from kubeadm_py.host.health import peer_certificate

    return peer_certificate(host, port, timeout=3.0)


def _http_check(url: str) -> tuple[bool, str]:
    from kubeadm_py.host.health import http_check

    return http_check(url, timeout=3.0)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Thresholds:
    """When a certificate's remaining validity is a warning or a failure."""

    cert_fail_days: float = 7.0
    cert_warn_days: float = 30.0
    lease_stale_seconds: float = 40.0  # the kubelet renews its Lease every 10 s (duration 40 s)


@dataclass
class VerifyEnv:
    fs: HostFS
    fx: Effectors
    cfg: KubeadmConfig
    options: RunOptions
    kubeconfig: str = f"{KUBERNETES_DIR}/{ADMIN_KUBECONFIG}"
    manifests_dir: str = MANIFESTS_DIR
    workload_image: str = ""  # "" : the runtime's sandbox (pause) image of the configured repository
    thresholds: Thresholds = field(default_factory=Thresholds)
    now: Callable[[], datetime] = _utcnow
    clock: Clock = field(default_factory=SystemClock)
    log: Callable[[str], None] = lambda msg: None
    # (host, port) -> the DER certificate served there (OSError when nothing answers)
    peer_cert: Callable[[str, int], bytes] = _peer_cert
    # url -> (healthy, detail): one GET of a health endpoint, TLS not verified (as the kubelet's probes)
    http_check: Callable[[str], tuple[bool, str]] = _http_check
    _cache: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget what the last attempt read (``--wait`` reads everything again)."""
        self._cache.clear()

    def api_down(self, reason: str) -> None:
        """The API server cannot serve reads (etcd unreachable): the checks that read through it
        fail at once with ``reason`` instead of waiting for each request to time out."""
        self._cache[API_DOWN] = reason

    def _memo(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # --- the API ------------------------------------------------------------------------------
    def client(self) -> KubeClient:
        """The admin client (``--kubeconfig``); one quick attempt per call, no long retries."""
        from kubeadm_py.errors import ApiError
        from kubeadm_py.kube.client import RetryPolicy

        if API_DOWN in self._cache:  # set by the readyz check: the API server cannot serve reads
            raise ApiError(self._cache[API_DOWN], hint="these checks read the API: fix that first")
        client: KubeClient = self._memo(
            "client",
            lambda: self.fx.api.from_kubeconfig(
                self.kubeconfig, retry=RetryPolicy(attempts=2, first_delay=0.5)
            ),
        )
        return client

    def kubelet_client(self) -> KubeClient:
        """A client with the kubelet's own credentials (``kubelet.conf``)."""
        from kubeadm_py.kube.client import RetryPolicy

        path = f"{KUBERNETES_DIR}/{KUBELET_KUBECONFIG}"
        client: KubeClient = self._memo(
            "kubelet-client",
            lambda: self.fx.api.from_kubeconfig(path, retry=RetryPolicy(attempts=2, first_delay=0.5)),
        )
        return client

    def nodes(self) -> list[Obj]:
        return self._memo("nodes", lambda: self.client().list("Node"))  # type: ignore[no-any-return]

    def control_plane_nodes(self) -> list[Obj]:
        return [n for n in self.nodes() if is_control_plane_node(n)]

    def pods(self, namespace: str = KUBE_SYSTEM) -> list[Obj]:
        return self._memo(f"pods/{namespace}", lambda: self.client().list("Pod", namespace))  # type: ignore[no-any-return]

    # --- this node ----------------------------------------------------------------------------
    def node_name(self) -> str:
        """This node's name: the kubelet's client certificate, the etcd manifest, else the config."""

        def find() -> str:
            from kubeadm_py.upgrade.config import node_local

            return (
                self.options.node_name
                or node_local(self.fs, self.manifests_dir).node_name
                or self.cfg.node_name
            )

        return self._memo("node-name", find)  # type: ignore[no-any-return]

    def manifest(self, component: str) -> Obj | None:
        """This node's static Pod manifest of ``component`` (parsed), None when absent or unreadable."""

        def read() -> Obj | None:
            from kubeadm_py.selfhosting.contract import backup_path
            from kubeadm_py.upgrade.config import read_manifest

            found = read_manifest(self.fs, f"{self.manifests_dir}/{component}.yaml")
            # a self-hosted component: the manifest pivot kept (its flags and probes still apply)
            return found if found is not None else read_manifest(self.fs, backup_path(component))

        return self._memo(f"manifest/{component}", read)  # type: ignore[no-any-return]

    def is_control_plane(self) -> bool:
        """A kube-apiserver manifest, or the one a self-hosting pivot moved aside."""
        return self.manifest("kube-apiserver") is not None

    # --- the cluster's configuration ----------------------------------------------------------
    def cluster_version(self) -> str:
        """The API server's version (``/version``), else the configuration's."""

        def ask() -> str:
            from kubeadm_py.upgrade.facts import api_server_version

            return api_server_version(self.client()) or self.cfg.kubernetes_version

        return self._memo("cluster-version", ask)  # type: ignore[no-any-return]

    def cluster_cfg(self) -> KubeadmConfig:
        """The cluster's configuration for this node when kubeadm-config can be read, else ``cfg``."""
        from kubeadm_py.errors import KubeadmError

        def pick() -> KubeadmConfig:
            try:
                return self.rendered()[0]
            except KubeadmError:
                return self.cfg

        return self._memo("cluster-cfg", pick)  # type: ignore[no-any-return]

    def rendered(self) -> tuple[KubeadmConfig, NodeManifests]:
        """The configuration kubeadm-config gives this node and the manifests it renders here."""

        def make() -> tuple[KubeadmConfig, NodeManifests]:
            from kubeadm_py.upgrade.plan import rendered

            return rendered(self.client(), self.fs, self.cfg, self.options)

        return self._memo("rendered", make)  # type: ignore[no-any-return]


def is_control_plane_node(node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return LABEL_CONTROL_PLANE in labels or LEGACY_CONTROL_PLANE_LABEL in labels


def node_condition(node: Obj, kind: str) -> Obj:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


def name_of(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", "?"))


def parse_time(text: str) -> datetime | None:
    """An API timestamp (RFC 3339, ``Z`` or micro-seconds) as an aware datetime."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
