"""``ExternalEtcdVersion``: every external etcd endpoint answers ``GET <endpoint>/version`` over
(m)TLS with a version kubeadm supports. Retries like kubeadm: 3 retries 5 s apart on connection
errors and 5xx, 10 s timeout per request (tests shorten the interval)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from kubeadm_py.host.probe import HttpResponse, SystemProbe
from kubeadm_py.preflight.checks import Findings, Severity
from kubeadm_py.semver import Version, VersionError, major_minor

# kubeadm's MinExternalEtcdVersion by Kubernetes minor: (first minor, version).
# 3.2.18 is upstream's constant in the 1.20 era, 3.5.24-0 its current one; the minor where the
# newest value starts is approximate (it was raised through several releases and backports).
MIN_EXTERNAL_ETCD: tuple[tuple[tuple[int, int], str], ...] = (
    ((1, 0), "3.2.18"),
    ((1, 34), "3.5.24-0"),
)


def min_external_etcd(kubernetes_version: str) -> str:
    key = major_minor(kubernetes_version, None)
    if key is None:
        return MIN_EXTERNAL_ETCD[-1][1]
    chosen = MIN_EXTERNAL_ETCD[0][1]
    for since, ver in MIN_EXTERNAL_ETCD:
        if key >= since:
            chosen = ver
    return chosen


@dataclass(frozen=True)
class ExternalEtcdVersion:
    endpoints: tuple[str, ...]
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    kubernetes_version: str = ""
    retries: int = 3
    interval: float = 5.0
    timeout: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    name: ClassVar[str] = "ExternalEtcdVersion"
    severity: ClassVar[Severity] = "error"

    @property
    def what(self) -> str:
        return (
            f"external etcd at {', '.join(self.endpoints)} is reachable and at least "
            f"{min_external_etcd(self.kubernetes_version)}"
        )

    @property
    def fix(self) -> str:
        return (
            "check etcd.external.endpoints and the caFile/certFile/keyFile client credentials, and upgrade "
            f"etcd to {min_external_etcd(self.kubernetes_version)} or newer"
        )

    def _get(self, probe: SystemProbe, url: str) -> HttpResponse:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.interval)
            try:
                r = probe.http_get(
                    url,
                    ca_file=self.ca_file,
                    cert_file=self.cert_file,
                    key_file=self.key_file,
                    timeout=self.timeout,
                )
            except OSError as e:  # connection refused, TLS failure, timeout (URLError is an OSError)
                last = e
                continue
            if 500 <= r.status <= 599:
                last = RuntimeError(f"server responded with non-successful status: {r.status}")
                continue
            return r
        assert last is not None
        raise last

    def run(self, probe: SystemProbe) -> Findings:
        errors: list[str] = []
        minimum = Version.parse(min_external_etcd(self.kubernetes_version), "etcd version")
        for endpoint in self.endpoints:
            url = endpoint.rstrip("/") + "/version"
            try:
                r = self._get(probe, url)
                server = str(json.loads(r.body.decode()).get("etcdserver", ""))
            except (OSError, RuntimeError, ValueError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
                continue
            try:
                version = Version.parse(server, "etcd version")
            except VersionError:
                errors.append(f'couldn\'t parse external etcd version "{server}"')
                continue
            if version < minimum:
                errors.append(
                    f"this version of kubeadm only supports external etcd version >= {minimum}. "
                    f"Current version: {server}"
                )
        return [], errors
