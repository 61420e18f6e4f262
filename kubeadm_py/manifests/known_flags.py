"""Flags each static Pod component accepts, to catch misspelt ``extraArgs`` names (issue 17).

Two kinds of table:

* ``COMPLETE``: per minor, each component's full flag set, generated from a named source
  (v1.20: ``known_flags_v120``, from the test bed's binaries by ``tools/gen_known_flags.py``). An
  ``extraArgs`` name missing there is an error before anything changes
  (:func:`unknown_flag_errors`, run by ``phases/shared/validate.py``), with the nearest flag as a
  suggestion; ``--ignore-preflight-errors=UnknownExtraArgs`` (or ``all``) turns it back into a
  warning, for flags of a patched build.
* ``HAND_FLAGS``: hand-written, for the minors without a complete table: every flag kubeadm itself
  sets for any minor in the version table, plus the flags users commonly pass
  (authentication/authorization, admission, audit, encryption, OIDC, TLS, logging, leader
  election, feature gates, profiling, metrics). It is NOT the components' full flag set, so an
  unknown name there only produces a warning.
"""

from __future__ import annotations

_COMMON = {
    "feature-gates",
    "v",
    "vmodule",
    "log-flush-frequency",
    "logging-format",
    "profiling",
    "contention-profiling",
    "bind-address",
    "secure-port",
    "cert-dir",
    "tls-cert-file",
    "tls-private-key-file",
    "tls-cipher-suites",
    "tls-min-version",
    "tls-sni-cert-key",
    "permit-port-sharing",
    "permit-address-sharing",
    "help",
    "version",
    "show-hidden-metrics-for-version",
    "allow-metric-labels",
    "disabled-metrics",
}

_DELEGATED_AUTH = {
    "authentication-kubeconfig",
    "authorization-kubeconfig",
    "client-ca-file",
    "requestheader-client-ca-file",
    "requestheader-allowed-names",
    "requestheader-extra-headers-prefix",
    "requestheader-group-headers",
    "requestheader-username-headers",
    "authentication-skip-lookup",
    "authentication-token-webhook-cache-ttl",
    "authentication-tolerate-lookup-failure",
    "authorization-always-allow-paths",
    "authorization-webhook-cache-authorized-ttl",
    "authorization-webhook-cache-unauthorized-ttl",
    "kubeconfig",
    "master",
    "kube-api-qps",
    "kube-api-burst",
    "kube-api-content-type",
    "leader-elect",
    "leader-elect-lease-duration",
    "leader-elect-renew-deadline",
    "leader-elect-retry-period",
    "leader-elect-resource-lock",
    "leader-elect-resource-name",
    "leader-elect-resource-namespace",
    "port",
    "address",
    "http2-max-streams-per-connection",
}

HAND_FLAGS: dict[str, frozenset[str]] = {
    "kube-apiserver": frozenset(
        _COMMON
        | {
            "advertise-address",
            "allow-privileged",
            "authorization-mode",
            "authorization-config",
            "authorization-policy-file",
            "authorization-webhook-config-file",
            "authorization-webhook-version",
            "authentication-config",
            "authentication-token-webhook-config-file",
            "anonymous-auth",
            "client-ca-file",
            "enable-admission-plugins",
            "disable-admission-plugins",
            "admission-control-config-file",
            "enable-bootstrap-token-auth",
            "etcd-servers",
            "etcd-servers-overrides",
            "etcd-cafile",
            "etcd-certfile",
            "etcd-keyfile",
            "etcd-prefix",
            "etcd-compaction-interval",
            "etcd-count-metric-poll-period",
            "encryption-provider-config",
            "encryption-provider-config-automatic-reload",
            "insecure-port",
            "insecure-bind-address",
            "kubelet-client-certificate",
            "kubelet-client-key",
            "kubelet-certificate-authority",
            "kubelet-preferred-address-types",
            "kubelet-timeout",
            "proxy-client-cert-file",
            "proxy-client-key-file",
            "requestheader-allowed-names",
            "requestheader-client-ca-file",
            "requestheader-extra-headers-prefix",
            "requestheader-group-headers",
            "requestheader-username-headers",
            "service-account-issuer",
            "service-account-key-file",
            "service-account-signing-key-file",
            "service-account-lookup",
            "service-account-max-token-expiration",
            "service-account-extend-token-expiration",
            "api-audiences",
            "service-cluster-ip-range",
            "service-node-port-range",
            "audit-log-path",
            "audit-log-maxage",
            "audit-log-maxbackup",
            "audit-log-maxsize",
            "audit-log-format",
            "audit-policy-file",
            "audit-webhook-config-file",
            "audit-log-mode",
            "audit-webhook-mode",
            "oidc-issuer-url",
            "oidc-client-id",
            "oidc-username-claim",
            "oidc-username-prefix",
            "oidc-groups-claim",
            "oidc-groups-prefix",
            "oidc-ca-file",
            "oidc-required-claim",
            "oidc-signing-algs",
            "token-auth-file",
            "runtime-config",
            "storage-backend",
            "storage-media-type",
            "default-watch-cache-size",
            "watch-cache",
            "watch-cache-sizes",
            "max-requests-inflight",
            "max-mutating-requests-inflight",
            "min-request-timeout",
            "request-timeout",
            "enable-aggregator-routing",
            "endpoint-reconciler-type",
            "apiserver-count",
            "event-ttl",
            "external-hostname",
            "cloud-provider",
            "cloud-config",
            "enable-priority-and-fairness",
            "goaway-chance",
            "shutdown-delay-duration",
            "shutdown-send-retry-after",
            "livez-grace-period",
            "cors-allowed-origins",
            "strict-transport-security-directives",
            "egress-selector-config-file",
            "tracing-config-file",
            "kubernetes-service-node-port",
            "audit-log-batch-max-size",
            "default-not-ready-toleration-seconds",
            "default-unreachable-toleration-seconds",
            "enable-garbage-collector",
            "delete-collection-workers",
            "service-account-jwks-uri",
            "emulated-version",
            "peer-advertise-ip",
            "peer-advertise-port",
            "peer-ca-file",
        }
    ),
    "kube-controller-manager": frozenset(
        _COMMON
        | _DELEGATED_AUTH
        | {
            "allocate-node-cidrs",
            "cluster-cidr",
            "cluster-name",
            "cluster-signing-cert-file",
            "cluster-signing-key-file",
            "cluster-signing-duration",
            "experimental-cluster-signing-duration",
            "cluster-signing-kubelet-serving-cert-file",
            "cluster-signing-kubelet-serving-key-file",
            "cluster-signing-kubelet-client-cert-file",
            "cluster-signing-kubelet-client-key-file",
            "cluster-signing-kube-apiserver-client-cert-file",
            "cluster-signing-kube-apiserver-client-key-file",
            "cluster-signing-legacy-unknown-cert-file",
            "cluster-signing-legacy-unknown-key-file",
            "controllers",
            "root-ca-file",
            "service-account-private-key-file",
            "service-cluster-ip-range",
            "use-service-account-credentials",
            "node-cidr-mask-size",
            "node-cidr-mask-size-ipv4",
            "node-cidr-mask-size-ipv6",
            "node-monitor-grace-period",
            "node-monitor-period",
            "node-startup-grace-period",
            "pod-eviction-timeout",
            "terminated-pod-gc-threshold",
            "flex-volume-plugin-dir",
            "configure-cloud-routes",
            "cloud-provider",
            "cloud-config",
            "concurrent-deployment-syncs",
            "concurrent-replicaset-syncs",
            "concurrent-service-syncs",
            "concurrent-namespace-syncs",
            "concurrent-gc-syncs",
            "horizontal-pod-autoscaler-sync-period",
            "large-cluster-size-threshold",
            "unhealthy-zone-threshold",
            "min-resync-period",
            "enable-garbage-collector",
            "enable-hostpath-provisioner",
            "pv-recycler-pod-template-filepath-hostpath",
            "pv-recycler-pod-template-filepath-nfs",
            "attach-detach-reconcile-sync-period",
            "disable-attach-detach-reconcile-sync",
            "route-reconciliation-period",
            "node-eviction-rate",
            "secondary-node-eviction-rate",
            "controller-start-interval",
            "external-cloud-volume-plugin",
            "concurrent-statefulset-syncs",
            "concurrent-endpoint-syncs",
        }
    ),
    "kube-scheduler": frozenset(
        _COMMON
        | _DELEGATED_AUTH
        | {
            "config",
            "write-config-to",
            "policy-config-file",
            "policy-configmap",
            "policy-configmap-namespace",
            "use-legacy-policy-config",
            "scheduler-name",
            "lock-object-name",
            "lock-object-namespace",
            "algorithm-provider",
            "hard-pod-affinity-symmetric-weight",
            "pod-max-in-unschedulable-pods-duration",
        }
    ),
    "etcd": frozenset(
        {
            "name",
            "data-dir",
            "wal-dir",
            "snapshot-count",
            "heartbeat-interval",
            "election-timeout",
            "listen-peer-urls",
            "listen-client-urls",
            "listen-client-http-urls",
            "listen-metrics-urls",
            "initial-advertise-peer-urls",
            "advertise-client-urls",
            "initial-cluster",
            "initial-cluster-state",
            "initial-cluster-token",
            "cert-file",
            "key-file",
            "trusted-ca-file",
            "client-cert-auth",
            "auto-tls",
            "peer-cert-file",
            "peer-key-file",
            "peer-trusted-ca-file",
            "peer-client-cert-auth",
            "peer-auto-tls",
            "cipher-suites",
            "tls-min-version",
            "tls-max-version",
            "quota-backend-bytes",
            "auto-compaction-mode",
            "auto-compaction-retention",
            "max-request-bytes",
            "max-snapshots",
            "max-wals",
            "metrics",
            "log-level",
            "logger",
            "log-outputs",
            "enable-pprof",
            "grpc-keepalive-min-time",
            "grpc-keepalive-interval",
            "grpc-keepalive-timeout",
            "experimental-initial-corrupt-check",
            "experimental-corrupt-check-time",
            "experimental-watch-progress-notify-interval",
            "experimental-compact-hash-check-enabled",
            "watch-progress-notify-interval",
            "feature-gates",
            "strict-reconfig-check",
            "enable-v2",
            "discovery",
            "discovery-srv",
            "unsafe-no-fsync",
            "socket-reuse-address",
            "socket-reuse-port",
            "backend-batch-interval",
            "backend-batch-limit",
            "snapshot-catchup-entries",
            "experimental-snapshot-catchup-entries",
            "initial-corrupt-check",
            "self-signed-cert-validity",
            "client-crl-file",
            "peer-crl-file",
            "peer-cert-allowed-cn",
            "peer-cert-allowed-hostname",
            "cors",
            "host-whitelist",
            "proxy",
        }
    ),
}


# The check's name for --ignore-preflight-errors / ignorePreflightErrors (lower-cased there).
IGNORE_NAME = "UnknownExtraArgs"


def complete_table(minor: str) -> dict[str, frozenset[str]] | None:
    """The complete flag sets of ``minor`` ("1.20"), or None when kubeadm-py has none for it."""
    if minor == "1.20":
        from kubeadm_py.manifests.known_flags_v120 import FLAGS

        return FLAGS
    return None


def unknown_flags(component: str, names: list[str], minor: str = "") -> list[str]:
    """The names among ``names`` that ``component`` does not have (at ``minor`` when its table is
    complete, else by the hand-written table)."""
    known = (complete_table(minor) or HAND_FLAGS).get(component)
    if known is None:
        return []
    return [n for n in names if n not in known]


def unknown_flag_errors(component: str, names: list[str], minor: str) -> list[str]:
    """One line per name ``component`` at ``minor`` does not have, with the nearest flag; [] when
    the minor has no complete table (the builder warns instead)."""
    from difflib import get_close_matches

    table = complete_table(minor)
    if table is None or component not in table:
        return []
    out = []
    for n in unknown_flags(component, names, minor):
        near = get_close_matches(n, sorted(table[component]), n=1, cutoff=0.6)
        hint = f"; did you mean --{near[0]}?" if near else ""
        out.append(f"{component} v{minor} has no flag --{n}{hint}")
    return out
