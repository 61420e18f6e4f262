"""File discovery (upstream ``discovery/file`` and ``discovery/https``): the cluster comes from a
kubeconfig given as a local path or an ``https://`` URL (fetched with the host's CA bundle).

The kubeconfig is trusted as given (the user vouches for it). It is then checked against the
cluster: ``cluster-info`` is read over TLS verified with the file's CA (with the file's own
credentials if it has any); a Forbidden answer is accepted (the file's data is used), another
failure is retried until the discovery timeout. A CA missing from the file is taken from
``cluster-info``; a different server there only produces a warning."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from kubeadm_py.discovery.kubeconfig import ClusterEntry, cluster_from, parse
from kubeadm_py.discovery.token import DiscoveryError
from kubeadm_py.effectors.discovery import Fetcher, FetchError, Obj
from kubeadm_py.effectors.waiting import Clock, SystemClock, seconds_text
from kubeadm_py.errors import KubeadmError
from kubeadm_py.tls import client_context

MAX_DOWNLOAD = 1 << 20


def download(url: str, cafile: str | None = None, timeout: float = 30.0) -> str:
    """GET an https URL verified with the host CA bundle (or ``cafile``)."""
    if not url.startswith("https://"):
        raise DiscoveryError(f"discovery file URL {url!r} must use https")
    ctx = client_context(cafile=cafile)
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:  # noqa: S310 - https only
            data: bytes = r.read(MAX_DOWNLOAD + 1)
    except urllib.error.HTTPError as e:
        raise DiscoveryError(f"cannot download the discovery file {url}: HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        raise DiscoveryError(f"cannot download the discovery file {url}: {getattr(e, 'reason', e)}") from None
    if len(data) > MAX_DOWNLOAD:
        raise DiscoveryError(f"the discovery file at {url} is larger than {MAX_DOWNLOAD} bytes")
    return data.decode("utf-8", errors="replace")


def load(
    location: str,
    read_file: Callable[[str], bytes | None],
    cafile: str | None = None,
) -> ClusterEntry:
    """The cluster named by the discovery file (path or https URL)."""
    if location.startswith("https://"):
        text, source = download(location, cafile), location
    elif "://" in location and not location.startswith("file://"):
        raise DiscoveryError(f"unsupported discovery file URL {location!r}: use a path or an https:// URL")
    else:
        path = location[len("file://") :] if location.startswith("file://") else location
        data = read_file(path)
        if data is None:
            raise DiscoveryError(f"discovery file {path} not found")
        text, source = data.decode("utf-8", errors="replace"), path
    try:
        return cluster_from(parse(text, source), source, read_file)
    except DiscoveryError:
        raise
    except KubeadmError as e:
        raise DiscoveryError(e.message, hint=e.hint) from None


def validate(
    fetcher: Fetcher,
    entry: ClusterEntry,
    token: str | None,
    *,
    timeout: float = 300.0,
    interval: float = 5.0,
    log: Callable[[str], None] = lambda m: None,
    clock: Clock | None = None,
) -> ClusterEntry:
    """ValidateConfigInfo: check the file's cluster over verified TLS, refresh the CA if missing."""
    clock = clock or SystemClock()
    user_token = str(entry.user.get("token") or "") or token
    deadline = clock.monotonic() + timeout
    ca = entry.ca_pem  # b"": the host's CA bundle
    log(f"[discovery] Using the cluster from the discovery file: {entry.server}; checking it over TLS")
    last = ""
    while True:
        try:
            cm = fetcher.cluster_info(entry.server, ca, user_token or None)
        except FetchError as e:
            if e.forbidden:
                log(
                    "[discovery] Could not access the cluster-info ConfigMap for refreshing the cluster "
                    "information, but the TLS certificate is valid so proceeding"
                )
                return entry
            last = e.reason
        else:
            return _refresh(entry, cm, log)
        if clock.monotonic() >= deadline:
            raise DiscoveryError(
                f"abort reading the cluster-info ConfigMap after timeout of {seconds_text(timeout)}: {last}",
                hint="check the server and CA in the discovery file and that the API server is reachable",
            )
        clock.sleep(max(0.0, min(interval, deadline - clock.monotonic())))


def _refresh(entry: ClusterEntry, cm: Obj | None, log: Callable[[str], None]) -> ClusterEntry:
    content = ((cm or {}).get("data") or {}).get("kubeconfig")
    if not content:
        return entry
    try:
        fresh = cluster_from(parse(str(content), "the cluster-info ConfigMap"), "the cluster-info ConfigMap")
    except KubeadmError as e:
        log(
            f"[discovery] The cluster-info ConfigMap isn't set up properly ({e.message}), but the TLS "
            "certificate is valid so proceeding"
        )
        return entry
    if fresh.server != entry.server:
        log(
            f'[discovery] WARNING: the API Server endpoint "{entry.server}" in use is different from the '
            f'endpoint "{fresh.server}" defined in the cluster-info ConfigMap'
        )
    if not entry.ca_pem and fresh.ca_pem:
        return ClusterEntry(entry.name, entry.server, fresh.ca_pem, user=entry.user)
    return entry
