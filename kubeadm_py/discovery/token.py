"""Bootstrap-token discovery (upstream ``discovery/token/token.go``).

1. Read ``kube-public/cluster-info`` from ``https://<endpoint>`` **without** verifying TLS, polling
   until it carries ``jws-kubeconfig-<token-id>`` (the controller-manager's bootstrap signer adds it
   a little after the token Secret appears) or the discovery timeout expires.
2. Verify the detached JWS over the exact ``kubeconfig`` string with the token secret: only someone
   who knows the token could have signed it.
3. Parse the kubeconfig; unless ``unsafeSkipCAVerification``, at least one CA certificate in it must
   match one of the pinned public-key hashes.
4. Read ``cluster-info`` again, now verifying TLS against that CA; the ``kubeconfig`` bytes must be
   identical to the first read.

Only then is the CA trusted. Nothing is written on the node here."""

from __future__ import annotations

from collections.abc import Callable

from kubeadm_py.discovery.kubeconfig import ClusterEntry, cluster_from, parse, parse_certs
from kubeadm_py.effectors.discovery import Fetcher, FetchError, Obj
from kubeadm_py.effectors.waiting import Clock, SystemClock, seconds_text
from kubeadm_py.errors import KubeadmError
from kubeadm_py.tokens import jws
from kubeadm_py.tokens.model import TokenError, TokenString
from kubeadm_py.tokens.pubkeypin import PinSet

DEFAULT_INTERVAL = 5.0  # constants.DiscoveryRetryInterval
KUBECONFIG_KEY = "kubeconfig"
UNSAFE_WARNING = (
    "[discovery] WARNING: --discovery-token-unsafe-skip-ca-verification is set: the cluster CA is NOT "
    "verified against a pinned public key. Anyone who can intercept the connection to {endpoint} and "
    "knows the token could impersonate the control plane. Pass --discovery-token-ca-cert-hash "
    "sha256:<hash> (printed by 'kubeadm-py init') instead."
)


class DiscoveryError(KubeadmError):
    pass


def endpoint_url(endpoint: str) -> str:
    e = endpoint.strip()
    if e.startswith("https://"):
        return e.rstrip("/")
    if "://" in e:
        raise DiscoveryError(f"invalid API server endpoint {endpoint!r}: only https is supported")
    return f"https://{e}"


def poll_cluster_info(
    fetcher: Fetcher,
    server: str,
    ca_pem: bytes | None,
    token_id: str,
    timeout: float,
    interval: float,
    log: Callable[[str], None],
    clock: Clock,
) -> Obj:
    """getClusterInfo: poll until the ConfigMap has this token's signature, or time out with the
    last problem seen."""
    interval = min(interval, timeout) if timeout > 0 else interval
    deadline = clock.monotonic() + timeout
    key = jws.signature_key(token_id)
    last = ""
    attempt = 0
    while True:
        attempt += 1
        try:
            cm = fetcher.cluster_info(server, ca_pem)
        except FetchError as e:
            cm, last = None, f"failed to request the cluster-info ConfigMap: {e.reason}"
        else:
            if cm is None:
                last = (
                    "the cluster-info ConfigMap does not exist in kube-public (has 'init phase "
                    "bootstrap-token' run on the control plane?)"
                )
            elif key not in (cm.get("data") or {}):
                last = (
                    f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{token_id}"'
                )
            else:
                return cm
        if clock.monotonic() >= deadline:
            break
        if attempt == 1 or attempt % 6 == 0:
            every, most = seconds_text(interval), seconds_text(timeout)
            log(f"[discovery] {last}; retrying every {every} for up to {most}")
        clock.sleep(max(0.0, min(interval, deadline - clock.monotonic())))
    if "JWS signature" in last:
        raise DiscoveryError(
            f'token id "{token_id}" is invalid for this cluster or it has expired (no JWS signature for it '
            f"in cluster-info after {seconds_text(timeout)})",
            hint='use "kubeadm-py token create" on a control-plane node to create a new valid token',
        )
    raise DiscoveryError(
        f"couldn't validate the identity of the API server at {server} within {seconds_text(timeout)}: "
        f"{last}",
        hint="check the endpoint and that the API server is reachable from this node "
        "(timeouts.discovery sets how long to try)",
    )


def validate_signature(cm: Obj, token: TokenString) -> str:
    """validateClusterInfoToken: the exact kubeconfig string, once its JWS checks out."""
    data = cm.get("data") or {}
    content = data.get(KUBECONFIG_KEY)
    if not content:
        raise DiscoveryError(
            f"there is no {KUBECONFIG_KEY} key in the cluster-info ConfigMap. This API Server isn't set up "
            "for token bootstrapping, can't connect"
        )
    sig = data.get(jws.signature_key(token.id))
    if not sig:
        raise DiscoveryError(
            f'token id "{token.id}" is invalid for this cluster or it has expired',
            hint='use "kubeadm-py token create" on a control-plane node to create a new valid token',
        )
    if not jws.verify_detached_signature(str(content), str(sig), token.id, token.secret):
        raise DiscoveryError(
            "failed to verify JWS signature of received cluster info object, can't trust this API Server",
            hint="the cluster-info ConfigMap was not signed with this token: check the token, or someone "
            "is tampering with the connection",
        )
    return str(content)


def retrieve_validated(
    fetcher: Fetcher,
    endpoint: str,
    token: str,
    ca_cert_hashes: list[str],
    unsafe_skip_ca_verification: bool = False,
    *,
    timeout: float = 300.0,
    interval: float = DEFAULT_INTERVAL,
    log: Callable[[str], None] = lambda m: None,
    clock: Clock | None = None,
) -> ClusterEntry:
    """RetrieveValidatedConfigInfo: the trusted cluster (server and CA from cluster-info)."""
    clock = clock or SystemClock()
    try:
        tok = TokenString.parse(token)
    except TokenError as e:
        raise DiscoveryError(str(e), hint="a bootstrap token looks like abcdef.0123456789abcdef") from None
    pins = PinSet()
    for h in ca_cert_hashes:
        try:
            pins.add(h)
        except KubeadmError as e:
            raise DiscoveryError(f"invalid discovery token CA certificate hash: {e.message}") from None
    if pins.empty() and not unsafe_skip_ca_verification:
        raise DiscoveryError(
            "token discovery needs --discovery-token-ca-cert-hash (or unsafeSkipCAVerification)",
        )
    server = endpoint_url(endpoint)
    log(f"[discovery] Requesting cluster-info from {server} (TLS not verified yet)")
    insecure = poll_cluster_info(fetcher, server, None, tok.id, timeout, interval, log, clock)
    content = validate_signature(insecure, tok)
    doc = parse(content, "the cluster-info ConfigMap")
    entry = cluster_from(doc, "the cluster-info ConfigMap")
    if pins.empty():
        log(UNSAFE_WARNING.format(endpoint=server))
        log(f"[discovery] Cluster info signature and contents are valid; using API Server {entry.server}")
        return ClusterEntry(entry.name, entry.server, entry.ca_pem, insecure=True)
    certs = parse_certs(entry.ca_pem, "the cluster-info ConfigMap")
    try:
        pins.check(certs)
    except KubeadmError as e:
        raise DiscoveryError(
            f"cluster CA found in cluster-info ConfigMap is invalid: {e.message}",
            hint="the CA of this API server does not match --discovery-token-ca-cert-hash: check the hash "
            "('kubeadm-py token create --print-join-command' prints the right one)",
        ) from None
    log(
        f"[discovery] Cluster CA matches a pinned public key; requesting cluster-info from {server} again "
        "over verified TLS"
    )
    secure = poll_cluster_info(fetcher, server, entry.ca_pem, tok.id, timeout, interval, log, clock)
    second = (secure.get("data") or {}).get(KUBECONFIG_KEY)
    if second != content:
        raise DiscoveryError(
            "the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from "
            "the first"
        )
    log(
        f"[discovery] Cluster info signature and contents are valid and TLS certificate validates against "
        f"pinned roots, will use API Server {entry.server}"
    )
    return entry
