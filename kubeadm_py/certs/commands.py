"""Library side of the ``certs`` and ``kubeconfig`` commands (the CLI modules only parse options
and call these). Configuration comes from ``kubeadm_py.config.resolve.build_config`` when it is
available, else from built-in v1beta4 defaults plus the ClusterConfiguration/InitConfiguration
documents of ``--config``; ``cert_dir`` overrides certificatesDir."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import KUBERNETES_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS

if TYPE_CHECKING:
    from kubeadm_py.config.resolve import Kind

Log = Callable[[str], None]


def load_config(config: str | None = None, cert_dir: str | None = None, kind: Kind = "init") -> KubeadmConfig:
    from kubeadm_py.config.resolve import build_config

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
    from kubeadm_py.certs import expiration

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
    planned: bool = False,
) -> list[Change]:
    from kubeadm_py.certs.renew import renew

    return renew(fs, cfg, name, kubeconfig_dir, reuse_key, log, planned)


def run_generate_csr(
    fs: HostFS, cfg: KubeadmConfig, kubeconfig_dir: str = KUBERNETES_DIR, log: Log = print
) -> list[Change]:
    from kubeadm_py.certs.csr import generate_csrs

    return generate_csrs(fs, cfg, kubeconfig_dir, log)


def run_user_kubeconfig(
    fs: HostFS,
    cfg: KubeadmConfig,
    client_name: str,
    orgs: list[str],
    validity_period: str | None = None,
    token: str | None = None,
) -> str:
    from kubeadm_py.durations import duration_timedelta
    from kubeadm_py.kubeconfig.files import user_kubeconfig

    validity = duration_timedelta(validity_period, "--validity-period") if validity_period else None
    if validity is not None and validity.total_seconds() <= 0:
        raise KubeadmError(f'--validity-period "{validity_period}" must be positive', hint="e.g. 8760h")
    return user_kubeconfig(fs, cfg, client_name, orgs, validity, token)
