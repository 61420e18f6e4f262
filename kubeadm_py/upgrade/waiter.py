"""Waiting for a swapped static Pod: the kubelet runs the new manifest (the mirror Pod's config hash
changes, read through the API server) and the component's health endpoint (the manifest's liveness
probe) answers. Polling goes through the run's waiter effector, so its clock, its caps and its
dry-run twin (which only says what it would wait for) apply.

While it waits, a watch of the component's containers (:mod:`kubeadm_py.effectors.watch`, made by
``watch`` for the component and the time the wait began) ends the wait as soon as the new
container keeps exiting: the upgrade then rolls back within seconds instead of at the timeout. The
reports of such failures are kept in ``failures``."""

from __future__ import annotations

import time
from collections.abc import Callable

import yaml

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.effectors.waiting import Target, Waiter
from kubeadm_py.effectors.watch import ComponentReport, ComponentsFailed, ComponentWatch
from kubeadm_py.errors import KubeadmError
from kubeadm_py.host.health import http_check
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.upgrade.staticpods import WaitError

CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
POLL_INTERVAL = 0.5
# What a target waits for, the second part of its name (``kube-apiserver/healthy``).
NEW_POD, HEALTHY = "new-pod", "healthy"
HealthCheck = Callable[[str], "tuple[bool, str]"]
Log = Callable[[str], None]
# (component, wall-clock time its wait began) -> a watch of its containers since then
WatchFactory = Callable[[str, float], ComponentWatch]


def _health(url: str) -> tuple[bool, str]:
    return http_check(url, timeout=2.0)


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
        client: KubeClient,
        node_name: str,
        waiter: Waiter,
        log: Log,
        *,
        check: HealthCheck = _health,
        watch: WatchFactory | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.node = node_name
        self.waiter = waiter
        self.log = log
        self.check = check
        self.watch = watch
        self.now = now
        self.failures: list[ComponentReport] = []
        # When the wait for a component's new Pod began: its health wait watches from then on too.
        self._since: dict[str, float] = {}

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

    def _wait(
        self, component: str, kind: str, what: str, check: Callable[[], tuple[bool, str]], timeout: float
    ) -> str | None:
        """Poll ``check``; the last failure's detail when ``timeout`` passed, else None."""
        name = f"{component}/{kind}"
        since = self._since.pop(component, None) if kind == HEALTHY else None
        if since is None:
            since = self.now()
        if self.watch is None:
            bad = self.waiter.wait_all([Target(name, what, check)], timeout, interval=POLL_INTERVAL)
            return bad.get(name)
        with self.watch(component, since) as watch:
            try:
                bad = self.waiter.wait_all(
                    [Target(name, what, check)],
                    timeout,
                    interval=POLL_INTERVAL,
                    watch=lambda _: watch([component]),
                )
            except ComponentsFailed as e:
                self.failures.extend(e.reports)
                if e.details:
                    self.log(f"[upgrade/staticpods] {e.details}")
                raise WaitError(e.message) from None
        if kind == NEW_POD and name not in bad:
            self._since[component] = since  # the health wait that follows watches the same Pod
        return bad.get(name)

    def wait_for_new_pod(self, component: str, old_hash: str | None, timeout: float) -> None:
        def check() -> tuple[bool, str]:
            now = self.config_hash(component)
            if now is not None and now != old_hash:
                self.log(
                    f"[apiclient] Found 1 Pods for label selector component={component} (new config hash)"
                )
                return True, ""
            return False, "no mirror Pod" if now is None else f"still {now}"

        what = f"the kubelet to restart {component} (mirror Pod config hash change)"
        seen = self._wait(component, NEW_POD, what, check, timeout)
        if seen is not None:
            raise WaitError(
                f"the kubelet did not restart {component} with the new manifest within "
                f"{self.waiter.timeout(timeout):.0f}s "
                f"(mirror Pod {KUBE_SYSTEM}/{component}-{self.node}: {seen})"
            )

    def wait_healthy(self, component: str, manifest: bytes, timeout: float) -> None:
        url = health_url(manifest)
        if url is None:
            return

        def check() -> tuple[bool, str]:
            ok, detail = self.check(url)
            if ok:
                self.log(f"[upgrade/staticpods] {component} is healthy at {url}")
            return ok, detail

        last = self._wait(component, HEALTHY, f"{component} to be healthy at {url}", check, timeout)
        if last is not None:
            raise WaitError(
                f"{component} is not healthy at {url} after {self.waiter.timeout(timeout):.0f}s: {last}"
            )
