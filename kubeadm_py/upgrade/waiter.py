"""Waiters for the static Pod swap: the real one (mirror Pod hash through the API server, health
endpoint from the manifest's liveness probe) and the dry-run one (prints what it would wait for)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import yaml

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.upgrade.staticpods import WaitError

CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
Check = Callable[[str], "tuple[bool, str]"]


def health_url(manifest: bytes | str) -> str | None:
    """The URL the kubelet's liveness probe of this static Pod polls (hostNetwork: the host
    defaults to 127.0.0.1)."""
    try:
        pod = yaml.safe_load(manifest)
        container = pod["spec"]["containers"][0]
        get = (container.get("livenessProbe") or container.get("startupProbe") or {}).get("httpGet")
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None
    if not get:
        return None
    host = str(get.get("host") or "127.0.0.1")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    scheme = str(get.get("scheme") or "HTTP").lower()
    path = str(get.get("path") or "/")
    return f"{scheme}://{host}:{get.get('port')}{path}"


class ClusterWaiter:
    """Polls the mirror Pod ``kube-system/<component>-<node>`` and the component's health URL.

    ``client`` must fail fast (one attempt per request): the API server is itself restarted."""

    def __init__(
        self,
        client: Any,
        node_name: str,
        log: Callable[[str], None],
        *,
        check: Check | None = None,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from kubeadm_py.host.health import http_check

        self.client = client
        self.node = node_name
        self.log = log
        self.check = check or (lambda url: http_check(url, timeout=2.0))
        self.interval = interval
        self.clock = clock
        self.sleep = sleep

    def config_hash(self, component: str) -> str | None:
        try:
            pod = self.client.get("Pod", f"{component}-{self.node}", KUBE_SYSTEM)
        except KubeadmError:
            return None
        if not pod:
            return None
        ann = (pod.get("metadata") or {}).get("annotations") or {}
        value = ann.get(CONFIG_MIRROR) or ann.get(CONFIG_HASH)
        return str(value) if value else None

    def wait_for_new_pod(self, component: str, old_hash: str | None, timeout: float) -> None:
        deadline = self.clock() + timeout
        while True:
            now_hash = self.config_hash(component)
            if now_hash is not None and now_hash != old_hash:
                self.log(
                    f"[apiclient] Found 1 Pods for label selector component={component} (new config hash)"
                )
                return
            if self.clock() >= deadline:
                seen = "no mirror Pod" if now_hash is None else f"still {now_hash}"
                raise WaitError(
                    f"the kubelet did not restart {component} with the new manifest within {timeout:.0f}s "
                    f"(mirror Pod {KUBE_SYSTEM}/{component}-{self.node}: {seen})"
                )
            self.sleep(self.interval)

    def wait_healthy(self, component: str, manifest: bytes, timeout: float) -> None:
        url = health_url(manifest)
        if url is None:
            return
        deadline = self.clock() + timeout
        last = ""
        while True:
            ok, last = self.check(url)
            if ok:
                self.log(f"[upgrade/staticpods] {component} is healthy at {url}")
                return
            if self.clock() >= deadline:
                raise WaitError(f"{component} is not healthy at {url} after {timeout:.0f}s: {last}")
            self.sleep(self.interval)


class DryRunWaiter:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log

    def config_hash(self, component: str) -> str | None:
        return None

    def wait_for_new_pod(self, component: str, old_hash: str | None, timeout: float) -> None:
        self.log(
            f"[dryrun] Would wait for the kubelet to restart {component} (mirror Pod config hash change)"
        )

    def wait_healthy(self, component: str, manifest: bytes, timeout: float) -> None:
        url = health_url(manifest)
        if url:
            self.log(f"[dryrun] Would wait for {component} to be healthy at {url} (up to {timeout:.0f}s)")
