"""``certs check-expiration``: expiry of every renewable certificate and of the CAs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubeadm_py.certs.renew import targets
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import host_join
from kubeadm_py.durations import short_human_duration
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import issue, specs, timeutil
from kubeadm_py.pki.store import PKIStore

OUTPUT_API = "output.kubeadm.k8s.io/v1alpha3"


@dataclass(frozen=True)
class ExpirationInfo:
    name: str
    expiration: datetime | None
    residual_seconds: int
    ca_name: str
    externally_managed: bool
    missing: bool

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "expirationDate": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") if self.expiration else None,
            "residualTimeSeconds": self.residual_seconds,
        }
        if self.ca_name:
            d["caName"] = self.ca_name
        d["externallyManaged"] = self.externally_managed
        if self.missing:
            d["missing"] = True
        return d


def check_expiration(
    fs: HostFS, cfg: KubeadmConfig, kubeconfig_dir: str, now: datetime | None = None
) -> tuple[list[ExpirationInfo], list[ExpirationInfo]]:
    now = now or timeutil.now()
    store = PKIStore(fs, cfg.cert_dir)
    certs: list[ExpirationInfo] = []
    for t in targets(cfg.local_etcd):
        ext = not store.has_key(specs.get(t.ca).base)
        cert = None
        if t.cert is not None:
            cert = store.read_cert(t.cert.base)
        else:
            from kubeadm_py.kubeconfig.files import client_credentials, load

            assert t.kubeconfig is not None
            doc = load(fs, host_join(kubeconfig_dir, t.kubeconfig))
            if doc is not None:
                cert, _ = client_credentials(doc, host_join(kubeconfig_dir, t.kubeconfig))
        certs.append(_info(t.name, cert, t.ca, ext, now))
    cas = []
    for c in specs.cert_list(cfg.local_etcd):
        if c.is_ca:
            cas.append(_info(c.name, store.read_cert(c.base), "", not store.has_key(c.base), now))
    return sorted(certs, key=lambda i: i.name), sorted(cas, key=lambda i: i.name)


def _info(name: str, cert: Any, ca: str, ext: bool, now: datetime) -> ExpirationInfo:
    if cert is None:
        return ExpirationInfo(name, None, 0, ca, ext, True)
    exp = issue.not_after(cert)
    return ExpirationInfo(name, exp, int((exp - now).total_seconds()), ca, ext, False)


def output_document(certs: list[ExpirationInfo], cas: list[ExpirationInfo]) -> dict[str, Any]:
    return {
        "kind": "CertificateExpirationInfo",
        "apiVersion": OUTPUT_API,
        "certificates": [c.to_dict() for c in certs],
        "certificateAuthorities": [c.to_dict() for c in cas],
    }


def _table(rows: list[list[str]]) -> list[str]:
    # Go tabwriter(minwidth 10, tabwidth 4, padding 3): every column but the last is padded.
    n = len(rows[0])
    widths = [max([10] + [len(r[i]) + 3 for r in rows if len(r) == n]) for i in range(n - 1)]
    out = []
    for r in rows:
        if len(r) == 1:
            out.append(r[0])
            continue
        out.append("".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + r[-1])
    return out


def _yes(b: bool) -> str:
    return f"{'yes' if b else 'no':<8}"


def format_text(certs: list[ExpirationInfo], cas: list[ExpirationInfo], now: datetime | None = None) -> str:
    now = now or timeutil.now()

    def row(i: ExpirationInfo, with_ca: bool) -> list[str]:
        if i.missing or i.expiration is None:
            return [f"!MISSING! {i.name}"]
        cells = [
            i.name,
            i.expiration.strftime("%b %d, %Y %H:%M UTC"),
            short_human_duration(i.expiration - now),
        ]
        if with_ca:
            cells.append(i.ca_name)
        return [*cells, _yes(i.externally_managed)]

    head = ["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"]
    lines = _table([head] + [row(i, True) for i in certs])
    lines.append("")
    lines += _table(
        [["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"]]
        + [row(i, False) for i in cas]
    )
    return "\n".join(line.rstrip() for line in lines) + "\n"


def ensure_readable(fs: HostFS, cfg: KubeadmConfig) -> None:
    if not fs.exists(cfg.cert_dir):
        raise KubeadmError(f"certificate directory {cfg.cert_dir} does not exist")
