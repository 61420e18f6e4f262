"""Library side of the ``certs`` and ``kubeconfig`` commands (the CLI modules only parse options
and call these). Configuration comes from ``kubeadm_py.config.resolve.build_config`` when it is
available, else from built-in v1beta4 defaults plus the ClusterConfiguration/InitConfiguration
documents of ``--config``; ``cert_dir`` overrides certificatesDir."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import KUBERNETES_DIR
from kubeadm_py.hostfs import HostFS

Log = Callable[[str], None]

DEFAULT_CLUSTER: dict[str, Any] = {
    "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
    "certificatesDir": "/etc/kubernetes/pki",
    "apiServer": {},
    "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
    "encryptionAlgorithm": "RSA-2048",
    "certificateValidityPeriod": "8760h0m0s",
    "caCertificateValidityPeriod": "87600h0m0s",
    "controlPlaneEndpoint": "",
    "clusterName": "kubernetes",
}
DEFAULT_INIT: dict[str, Any] = {
    "localAPIEndpoint": {"advertiseAddress": "", "bindPort": 6443},
    "nodeRegistration": {"name": ""},
}


def _fallback_config(config: str | None) -> KubeadmConfig:
    cluster = copy.deepcopy(DEFAULT_CLUSTER)
    init = copy.deepcopy(DEFAULT_INIT)
    if config:
        from kubeadm_py.config.loader import load

        for doc in load(config):
            body = getattr(doc, "body", None) or getattr(doc, "data", None) or {}
            kind = getattr(doc, "kind", None) or body.get("kind")
            target = (
                cluster if kind == "ClusterConfiguration" else init if kind == "InitConfiguration" else None
            )
            if target is None:
                continue
            for k, v in body.items():
                if k in ("apiVersion", "kind"):
                    continue
                if isinstance(v, dict) and isinstance(target.get(k), dict):
                    target[k] = {**target[k], **v}
                else:
                    target[k] = v
    return KubeadmConfig(cluster=cluster, init=init, source=config or "<defaults>")


def load_config(config: str | None = None, cert_dir: str | None = None, kind: str = "init") -> KubeadmConfig:
    try:
        from kubeadm_py.config.resolve import build_config
    except ImportError:
        cfg = _fallback_config(config)
    else:
        cfg = build_config(kind, config=config)
    if cert_dir:
        cfg.cluster["certificatesDir"] = cert_dir
    return cfg


def certificate_key() -> str:
    """A new key for the kubeadm-certs Secret: 32 random bytes as 64 hex characters."""
    return secrets.token_hex(32)


def run_check_expiration(
    fs: HostFS, cfg: KubeadmConfig, kubeconfig_dir: str = KUBERNETES_DIR, output: str = "text"
) -> tuple[str, dict[str, Any]]:
    """Returns (text table, output document); the caller prints the one asked for."""
    from kubeadm_py.pki import expiration

    expiration.ensure_readable(fs, cfg)
    certs, cas = expiration.check_expiration(fs, cfg, kubeconfig_dir)
    return expiration.format_text(certs, cas), expiration.output_document(certs, cas)


def run_renew(
    fs: HostFS,
    cfg: KubeadmConfig,
    name: str,
    kubeconfig_dir: str = KUBERNETES_DIR,
    reuse_key: bool = False,
    log: Log = print,
) -> list[Change]:
    from kubeadm_py.pki.renew import renew

    return renew(fs, cfg, name, kubeconfig_dir, reuse_key, log)


def run_generate_csr(
    fs: HostFS, cfg: KubeadmConfig, kubeconfig_dir: str = KUBERNETES_DIR, log: Log = print
) -> list[Change]:
    from kubeadm_py.pki.csr import generate_csrs

    return generate_csrs(fs, cfg, kubeconfig_dir, log)


def run_user_kubeconfig(
    fs: HostFS,
    cfg: KubeadmConfig,
    client_name: str,
    orgs: list[str],
    validity_period: str | None = None,
    token: str | None = None,
) -> str:
    from kubeadm_py.kubeconfig.files import user_kubeconfig
    from kubeadm_py.pki.timeutil import parse_duration

    validity = parse_duration(validity_period, "--validity-period") if validity_period else None
    return user_kubeconfig(fs, cfg, client_name, orgs, validity, token)
