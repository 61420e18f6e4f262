"""Validation: JSON Schema per (apiVersion, kind) plus the semantic checks a schema cannot express.

Every problem becomes one :class:`Issue` (document, field path, message, hint); callers raise the
first as a one-line :class:`~kubeadm_py.errors.ConfigError` such as::

    cfg.yaml: document 2 (ClusterConfiguration): networking.serviceSubnet: "10.96.0.0/33" is not a valid CIDR
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeadm_py.config import rules
from kubeadm_py.config.formats import (
    FORMATS,
    SECRET_FORMATS,
    check_dns_subdomain,
    check_ip,
    check_token,
)
from kubeadm_py.config.loader import Document
from kubeadm_py.config.schemagen import FLAVORS, SCHEMA_DIR, schema_file_name
from kubeadm_py.config.types import KUBEADM_GROUP, KUBELET_API, KUBEPROXY_API, V1BETA4
from kubeadm_py.errors import ConfigError

if TYPE_CHECKING:  # jsonschema is imported on first validation (keeps `config print` fast)
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import ValidationError

MIGRATE_HINT = "run `kubeadm-py config migrate --old-config <file>` to convert it to kubeadm.k8s.io/v1beta4"
ARGS_LIST_HINT = (
    "v1beta4 uses a list of {name, value}: extraArgs: [{name: ..., value: ...}]; "
    "run `kubeadm-py config migrate` to convert a v1beta3 file"
)
ARGS_MAP_HINT = (
    "before v1beta4 extra arguments are a map: extraArgs: {flag-name: value}; or use apiVersion v1beta4"
)
COMPONENT_KINDS = {"KubeletConfiguration": KUBELET_API, "KubeProxyConfiguration": KUBEPROXY_API}
REMOVED_VERSIONS = ("v1alpha1", "v1alpha2", "v1alpha3", "v1beta1")

# Fields that exist only in v1beta4, looked up by full path, then by last segment.
V1BETA4_ONLY = {
    "extraEnvs",
    "timeouts",
    "dryRun",
    "encryptionAlgorithm",
    "certificateValidityPeriod",
    "caCertificateValidityPeriod",
    "dns.disabled",
    "proxy",
    "imagePullSerial",
}
V1BETA3_NEW = {"skipPhases", "patches", "imagePullPolicy"}
# Fields of older versions that v1beta4 documents may not carry, with the fix.
OLD_FIELD_HINTS = {
    "apiServer.timeoutForControlPlane": "v1beta4 moved it to timeouts.controlPlaneComponentHealthCheck "
    "of the InitConfiguration/JoinConfiguration; run `kubeadm-py config migrate`",
    "discovery.timeout": "v1beta4 moved it to timeouts.discovery; run `kubeadm-py config migrate`",
    "dns.type": "removed in v1beta3: CoreDNS is the only DNS addon",
    "useHyperKubeImage": "removed in v1beta3: kubeadm no longer uses the hyperkube image",
}

@dataclass
class Issue:
    message: str
    field: str | None = None
    hint: str | None = None
    document: Document | None = None
    source: str | None = None  # overrides the document's source, e.g. "flag --service-cidr"
    unknown: tuple[str | int, ...] | None = None  # the path of an unknown field (strict decoding)

    def error(self, more: int = 0) -> ConfigError:
        hint = self.hint
        if more:
            extra = f"{more} more problem{'s' if more > 1 else ''} after this one"
            hint = f"{hint}; {extra}" if hint else extra
        if self.source is not None:
            return ConfigError(self.message, source=self.source, field=self.field, hint=hint)
        if self.document is not None:
            return self.document.error(self.message, self.field, hint)
        return ConfigError(self.message, field=self.field, hint=hint)

    def warning(self) -> str:
        """The one line ``init``/``join`` print for an unknown field they ignore."""
        ignored = Issue(f"{self.message}, ignored", self.field, self.hint, self.document, self.source)
        return str(ignored.error())


def raise_first(issues: list[Issue]) -> None:
    if issues:
        raise issues[0].error(more=len(issues) - 1)


# --- schemas ----------------------------------------------------------------------------------


@functools.cache
def load_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    path = SCHEMA_DIR / schema_file_name(api_version, kind)
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _format_checker() -> FormatChecker:
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(functools.partial(lambda c, v: not isinstance(v, str) or c(v) is None, check))
    return checker


@functools.cache
def validator_for(api_version: str, kind: str) -> Draft202012Validator | None:
    from jsonschema import Draft202012Validator

    schema = load_schema(api_version, kind)
    if schema is None:
        return None
    return Draft202012Validator(schema, format_checker=_format_checker())


def field_path(parts: Any) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value)


_TYPE_NAMES = {
    "object": "a map",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "number": "a number",
    "null": "null",
}


def misplaced_hint(api_version: str, kind: str, path: str) -> str | None:
    """Where a top-level field unknown to ``kind`` belongs: the other kinds of the same API
    version (and the component configs) that have it."""
    if "." in path or "[" in path:
        return None
    group, _, version = api_version.rpartition("/")
    flavor = FLAVORS.get(version)
    candidates = [(api_version, k) for k in (flavor.kinds if flavor else ()) if k != kind]
    candidates += [(api, k) for k, api in COMPONENT_KINDS.items() if k != kind]
    owners = [
        k for api, k in candidates if path in ((load_schema(api, k) or {}).get("properties") or {})
    ]
    if not owners:
        return None
    return f"{path} belongs in {' or '.join(owners)}"


def _unknown_field_hint(version: str, path: str) -> str | None:
    last = path.rsplit(".", 1)[-1]
    if version == "v1beta4":
        for key, hint in OLD_FIELD_HINTS.items():
            if path == key or path.endswith("." + key):
                return hint
        return None
    if path in OLD_FIELD_HINTS:
        return None
    if any(path == k or path.endswith("." + k) for k in V1BETA4_ONLY if "." in k) or last in V1BETA4_ONLY:
        return f"`{last}` is new in kubeadm.k8s.io/v1beta4; {MIGRATE_HINT}, then add it"
    if version == "v1beta2" and last in V1BETA3_NEW:
        return f"`{last}` is not in v1beta2 (added in v1beta3); {MIGRATE_HINT}, then add it"
    return None


def _schema_issues(err: ValidationError, version: str) -> Iterator[tuple[str, str, str | None]]:
    """(field path, message, hint) for one jsonschema error."""
    path = field_path(err.absolute_path)
    value = err.instance
    v = err.validator
    if v == "required":
        missing = str(err.validator_value)
        for name in err.validator_value:
            if isinstance(value, dict) and name not in value:
                missing = str(name)
                break
        yield _join(path, missing), f'missing required field "{missing}"', None
        return
    if v == "type":
        want = err.validator_value
        wants = want if isinstance(want, list) else [want]
        expected = " or ".join(_TYPE_NAMES.get(str(w), str(w)) for w in wants)
        hint = None
        if path.endswith("xtraArgs"):
            hint = ARGS_LIST_HINT if version == "v1beta4" else ARGS_MAP_HINT
        got = _show(value)
        if isinstance(value, int | float | bool) and "string" in wants:
            hint = hint or 'quote the value, e.g. "5"'
        yield path, f"expected {expected}, got {got}", hint
        return
    if v == "format":
        check = FORMATS.get(str(err.validator_value))
        reason = check(value) if check and isinstance(value, str) else None
        shown = "the value (withheld: a secret)" if err.validator_value in SECRET_FORMATS else _show(value)
        yield path, f"{shown} {reason or 'is not valid'}", None
        return
    if v == "enum":
        options = ", ".join(str(o) for o in err.validator_value if o != "")
        yield path, f"{_show(value)} is not one of {options}", None
        return
    if v == "const":
        yield path, f"{_show(value)} must be {_show(err.validator_value)}", None
        return
    if v in ("minimum", "maximum"):
        schema = err.schema if isinstance(err.schema, dict) else {}
        lo, hi = schema.get("minimum"), schema.get("maximum")
        what = (
            "is not a valid port" if path.endswith("Port") or path.endswith("bindPort") else "is out of range"
        )
        yield (
            path,
            f"{value} {what} ({lo}-{hi})" if hi is not None else f"{value} {what} (minimum {lo})",
            None,
        )
        return
    if v == "minLength":
        yield path, "must not be empty", None
        return
    if v == "pattern":
        hint = None
        if "groups" in path:
            hint = "bootstrap token groups must start with system:bootstrappers:"
        yield path, f"{_show(value)} does not match {err.validator_value}", hint
        return
    yield path, err.message, None


def schema_issues(doc: Document) -> list[Issue]:
    """Check one document against the schema of its own apiVersion and kind."""
    issues = kind_issues(doc)
    if issues:
        return issues
    from kubeadm_py.config.fastcheck import known_valid

    if known_valid(doc.api_version, doc.kind, doc.body):  # most documents: jsonschema is not imported
        return []
    validator = validator_for(doc.api_version, doc.kind)
    if validator is None:  # pragma: no cover - kind_issues covers every kind without a schema
        return [Issue(f"no schema for {doc.api_version} {doc.kind}", document=doc)]
    version = doc.api_version.rpartition("/")[2]
    errors = sorted(validator.iter_errors(doc.body), key=lambda e: [str(p) for p in e.absolute_path])
    out: list[Issue] = []
    for err in map(_leaf, errors):
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            out.extend(_unknown_issues(doc, err, version))
            continue
        for path, message, hint in _schema_issues(err, version):
            out.append(Issue(message, path or None, hint, doc))
    return out


def _leaf(err: ValidationError) -> ValidationError:
    """The most relevant branch failure of an anyOf/oneOf error."""
    from jsonschema.exceptions import best_match

    while err.context:
        inner = best_match(err.context)
        if inner is None:
            break
        err = inner
    return err


def _unknown_issues(doc: Document, err: ValidationError, version: str) -> Iterator[Issue]:
    """One issue per unknown field, with the fix: where the field belongs (another kind, or
    another API version)."""
    parent = list(err.absolute_path)
    allowed = set((err.schema or {}).get("properties", {}))
    for key in sorted(set(err.instance) - allowed, key=str):
        full = _join(field_path(parent), str(key))
        hint = (
            _unknown_field_hint(version, full)
            or misplaced_hint(doc.api_version, doc.kind, full)
            or _spelling_hint(str(key), allowed)
        )
        yield Issue(f'unknown field "{key}"', full, hint, doc, unknown=(*parent, key))


def _spelling_hint(key: str, allowed: set[str]) -> str:
    """The fix for an unknown field that belongs nowhere else: the closest known name, if any."""
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
    if close:
        return f'did you mean "{close[0]}"? (field names are case-sensitive)'
    return "remove it, or check its spelling (field names are case-sensitive)"


def kind_issues(doc: Document) -> list[Issue]:
    """Unknown apiVersion / kind combinations, with the fix."""
    api, kind = doc.api_version, doc.kind
    group, _, version = api.rpartition("/")
    if kind in COMPONENT_KINDS:
        if api != COMPONENT_KINDS[kind]:
            return [
                Issue(
                    f"unsupported apiVersion {api!r} for {kind}",
                    "apiVersion",
                    f"kubeadm-py reads {kind} as {COMPONENT_KINDS[kind]}",
                    doc,
                )
            ]
        return []
    if group != KUBEADM_GROUP:
        return [
            Issue(
                f"unknown kind {kind!r} (apiVersion {api!r})",
                "kind",
                "accepted kinds: InitConfiguration, ClusterConfiguration, JoinConfiguration, "
                "ResetConfiguration, UpgradeConfiguration (kubeadm.k8s.io/v1beta4), "
                f"KubeletConfiguration ({KUBELET_API}), KubeProxyConfiguration ({KUBEPROXY_API})",
                doc,
            )
        ]
    if version in REMOVED_VERSIONS:
        return [
            Issue(
                f"{api} is no longer supported",
                "apiVersion",
                "convert it to v1beta2 or newer with an older kubeadm (v1.21 or earlier), "
                "then run `kubeadm-py config migrate`",
                doc,
            )
        ]
    flavor = FLAVORS.get(version)
    if flavor is None:
        return [
            Issue(
                f"unknown apiVersion {api!r}",
                "apiVersion",
                "supported: kubeadm.k8s.io/v1beta4 (and v1beta3, v1beta2 which are converted)",
                doc,
            )
        ]
    if kind not in flavor.kinds:
        hint = None
        if kind in FLAVORS["v1beta4"].kinds:
            hint = f"{kind} is new in kubeadm.k8s.io/v1beta4; set apiVersion: {V1BETA4}"
        else:
            hint = f"{api} kinds: {', '.join(flavor.kinds)}"
        return [Issue(f"unknown kind {kind!r} for {api}", "kind", hint, doc)]
    return []


def duplicate_issues(docs: list[Document]) -> list[Issue]:
    seen: dict[str, Document] = {}
    out: list[Issue] = []
    for doc in docs:
        first = seen.get(doc.kind)
        if first is not None:
            out.append(
                Issue(
                    f"duplicate {doc.kind}: document {first.index} is also a {doc.kind}",
                    "kind",
                    "give each kind at most once per file",
                    doc,
                )
            )
        else:
            seen[doc.kind] = doc
    return out


# --- semantic checks on v1beta4 documents (after defaulting) --------------------------------

Check = Callable[[dict[str, Any]], Iterator[tuple[str, str, str | None]]]


def _cluster_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    etcd = doc.get("etcd") or {}
    if etcd.get("local") is not None and etcd.get("external") is not None:
        yield (
            "etcd",
            "local and external are mutually exclusive",
            "keep only one of etcd.local and etcd.external",
        )
    elif isinstance(etcd.get("external"), dict):
        yield from rules.external_etcd(etcd["external"])
    yield from rules.image_repositories(doc)
    yield from rules.feature_gates(doc)
    net = doc.get("networking") or {}
    svc = net.get("serviceSubnet")
    if isinstance(svc, str) and svc:
        for n in rules.subnets(svc):
            if n.max_prefixlen - n.prefixlen > 20:
                yield (
                    "networking.serviceSubnet",
                    f'"{n}" is too large: at most 20 host bits (/12 for IPv4, /108 for IPv6)',
                    None,
                )
        yield from rules.subnet_size("networking.serviceSubnet", svc, rules.MIN_SERVICE_ADDRESSES)
    pod = net.get("podSubnet")
    if isinstance(pod, str) and pod:
        yield from rules.subnet_size("networking.podSubnet", pod, rules.MIN_POD_ADDRESSES)
        yield from _pod_subnet_node_mask(doc, pod)
    for path, value in (
        ("certificatesDir", doc.get("certificatesDir")),
        ("etcd.local.dataDir", (etcd.get("local") or {}).get("dataDir")),
    ):
        if isinstance(value, str) and value and not value.startswith("/"):
            yield path, f"{_show(value)} is not an absolute path", None
    for path, sans in (
        ("apiServer.certSANs", (doc.get("apiServer") or {}).get("certSANs")),
        ("etcd.local.serverCertSANs", (etcd.get("local") or {}).get("serverCertSANs")),
        ("etcd.local.peerCertSANs", (etcd.get("local") or {}).get("peerCertSANs")),
    ):
        for i, san in enumerate(sans or []):
            if isinstance(san, str) and not _valid_san(san):
                yield f"{path}[{i}]", f"{_show(san)} is not a valid IP address or DNS name", None


def _valid_san(san: str) -> bool:
    if check_ip(san) is None:
        return True
    return check_dns_subdomain(san[2:] if san.startswith("*.") else san) is None


def _last_arg(args: Any, name: str) -> str | None:
    if isinstance(args, list):
        values = [a.get("value") for a in args if isinstance(a, dict) and a.get("name") == name]
        return str(values[-1]) if values else None
    return None


def _pod_subnet_node_mask(doc: dict[str, Any], pod: str) -> Iterator[tuple[str, str, str | None]]:
    """Upstream ValidatePodSubnetNodeMask: the pod subnet must hold whole node subnets
    (kube-controller-manager --node-cidr-mask-size-ipv4/6, default 24/64), at most 16 bits apart."""
    extra = (doc.get("controllerManager") or {}).get("extraArgs")
    if _last_arg(extra, "allocate-node-cidrs") == "false":
        return
    for n in rules.subnets(pod):
        arg = "node-cidr-mask-size-ipv6" if n.version == 6 else "node-cidr-mask-size-ipv4"
        raw = _last_arg(extra, arg)
        try:
            node_mask = int(raw) if raw is not None else (64 if n.version == 6 else 24)
        except ValueError:
            yield "controllerManager.extraArgs", f"{arg}={raw!r} is not an integer", None
            continue
        if n.prefixlen > node_mask:
            yield (
                "networking.podSubnet",
                f'"{n}" is smaller than a node subnet (/{node_mask}, kube-controller-manager --{arg})',
                f"use a larger pod subnet or set controllerManager.extraArgs {arg}",
            )
        elif node_mask - n.prefixlen > 16:
            yield (
                "networking.podSubnet",
                f'"{n}" and the node mask /{node_mask} are more than 16 bits apart',
                f"set controllerManager.extraArgs {arg}",
            )


def _ignore_preflight(owner: dict[str, Any], path: str) -> Iterator[tuple[str, str, str | None]]:
    items = {str(i).lower() for i in owner.get("ignorePreflightErrors") or []}
    if "all" in items and len(items) > 1:
        yield path, "don't specify individual checks if 'all' is used", None


def _node_registration_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    yield from _ignore_preflight(doc.get("nodeRegistration") or {}, "nodeRegistration.ignorePreflightErrors")
    name = (doc.get("nodeRegistration") or {}).get("name")
    if isinstance(name, str) and name:
        reason = check_dns_subdomain(name)
        if reason:
            yield "nodeRegistration.name", f"{_show(name)} {reason}", None


def _init_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    yield from _node_registration_checks(doc)
    yield from rules.bootstrap_tokens(doc.get("bootstrapTokens"))


def _join_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    yield from _node_registration_checks(doc)
    disc = doc.get("discovery") or {}
    token, file = disc.get("bootstrapToken"), disc.get("file")
    yield from rules.ca_cert_path(doc.get("caCertPath"))
    if isinstance(file, dict):
        yield from rules.kubeconfig_path(file.get("kubeConfigPath"))
    if token is not None and file is not None:
        yield "discovery", "bootstrapToken and file are mutually exclusive", None
    elif token is None and file is None:
        yield (
            "discovery",
            "one of bootstrapToken or file must be set",
            "pass --token with the API server endpoint, or --discovery-file",
        )
    if token is not None:
        if not token.get("token"):
            yield (
                "discovery.bootstrapToken.token",
                "missing bootstrap token",
                "pass --token or --discovery-token",
            )
        if not token.get("apiServerEndpoint"):
            yield (
                "discovery.bootstrapToken.apiServerEndpoint",
                "missing API server endpoint",
                "give it as the argument of join, e.g. 10.0.0.1:6443",
            )
        yield from rules.api_server_endpoint(
            token.get("apiServerEndpoint"), "discovery.bootstrapToken.apiServerEndpoint"
        )
        if not token.get("caCertHashes") and not token.get("unsafeSkipCAVerification"):
            yield (
                "discovery.bootstrapToken.caCertHashes",
                "token-based discovery without caCertHashes is unsafe",
                "pass --discovery-token-ca-cert-hash sha256:<hash>, or set unsafeSkipCAVerification: true",
            )
    tls = disc.get("tlsBootstrapToken")
    if isinstance(tls, str) and tls and check_token(tls):
        yield "discovery.tlsBootstrapToken", f"the value (withheld: a secret) {check_token(tls)}", None
    elif not tls and file is not None:
        pass  # the kubeconfig may carry credentials itself


def _reset_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    cert_dir = doc.get("certificatesDir")
    if isinstance(cert_dir, str) and cert_dir and not cert_dir.startswith("/"):
        yield "certificatesDir", f"{_show(cert_dir)} is not an absolute path", None
    yield from _ignore_preflight(doc, "ignorePreflightErrors")


def _upgrade_checks(doc: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """ValidateUpgradeConfiguration: a patches directory, when patches is given, is absolute."""
    for section in ("apply", "node"):
        patches = (doc.get(section) or {}).get("patches")
        if isinstance(patches, dict):
            directory = patches.get("directory") or ""
            if not str(directory).startswith("/"):
                yield f"{section}.patches.directory", f"{_show(directory)} is not an absolute path", None


SEMANTIC_CHECKS: dict[str, Check] = {
    "UpgradeConfiguration": _upgrade_checks,
    "ResetConfiguration": _reset_checks,
    "ClusterConfiguration": _cluster_checks,
    "InitConfiguration": _init_checks,
    "JoinConfiguration": _join_checks,
}


def semantic_issues(kind: str, body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    check = SEMANTIC_CHECKS.get(kind)
    return list(check(body)) if check else []


def semantic_warnings(kind: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field path, message)`` of what upstream accepts with a warning."""
    return list(rules.cluster_warnings(body)) if kind == "ClusterConfiguration" else []


def is_ipv6(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False
