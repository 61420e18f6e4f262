"""Pick the discovery mechanism from the JoinConfiguration and build the TLS bootstrap kubeconfig
(upstream ``discovery/discovery.go``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubeadm_py.discovery import file as file_discovery
from kubeadm_py.discovery import token as token_discovery
from kubeadm_py.discovery.kubeconfig import (
    ClusterEntry,
    has_credentials,
    token_kubeconfig,
    user_kubeconfig,
)
from kubeadm_py.discovery.token import DiscoveryError
from kubeadm_py.effectors.discovery import Fetcher, HttpFetcher
from kubeadm_py.effectors.waiting import Clock

Doc = dict[str, Any]


@dataclass(frozen=True)
class Discovered:
    cluster: ClusterEntry
    bootstrap_kubeconfig: Doc  # what becomes /etc/kubernetes/bootstrap-kubelet.conf
    tls_bootstrap_token: str  # "" when the discovery file carries its own credentials
    method: str  # "token" or "file"


def discover(
    join: Doc,
    *,
    timeout: float = 300.0,
    interval: float = token_discovery.DEFAULT_INTERVAL,
    fetcher: Fetcher | None = None,
    read_file: Callable[[str], bytes | None] = lambda p: None,
    log: Callable[[str], None] = lambda m: None,
    clock: Clock | None = None,
    https_cafile: str | None = None,
) -> Discovered:
    """Run discovery for a (defaulted) JoinConfiguration dict; nothing is written."""
    fetcher = fetcher or HttpFetcher()
    disc = join.get("discovery") or {}
    tls_token = str(disc.get("tlsBootstrapToken") or "")
    bt, fd = disc.get("bootstrapToken"), disc.get("file")
    if isinstance(bt, dict) and bt.get("apiServerEndpoint"):
        entry = token_discovery.retrieve_validated(
            fetcher,
            str(bt["apiServerEndpoint"]),
            str(bt.get("token") or ""),
            [str(h) for h in bt.get("caCertHashes") or []],
            bool(bt.get("unsafeSkipCAVerification")),
            timeout=timeout,
            interval=interval,
            log=log,
            clock=clock,
        )
        method = "token"
        tls_token = tls_token or str(bt.get("token") or "")
    elif isinstance(fd, dict) and fd.get("kubeConfigPath"):
        entry = file_discovery.load(str(fd["kubeConfigPath"]), read_file, https_cafile)
        entry = file_discovery.validate(
            fetcher, entry, tls_token or None, timeout=timeout, interval=interval, log=log, clock=clock
        )
        method = "file"
    else:
        raise DiscoveryError(
            "couldn't find a valid discovery configuration",
            hint="pass the API server endpoint with --token and --discovery-token-ca-cert-hash, "
            "or --discovery-file",
        )
    if tls_token:
        return Discovered(entry, token_kubeconfig(entry, tls_token), tls_token, method)
    if has_credentials(entry.user):
        return Discovered(entry, user_kubeconfig(entry), "", method)
    raise DiscoveryError(
        "couldn't find authentication credentials for the TLS bootstrap process",
        hint="use token discovery, a discovery file with embedded credentials, or add --tls-bootstrap-token",
    )
