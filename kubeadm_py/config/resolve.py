"""Load, convert, override, default and validate kubeadm configuration.

Public entry points:

* :func:`build_config` - what every command uses: file (or nothing) + flag overrides ->
  :class:`~kubeadm_py.config.types.KubeadmConfig` in v1beta4 wire form.
* :func:`load_documents` - parse and check the documents of a file (kinds, apiVersions, schema).
* :func:`validate` - ``config validate``: full check of a file, returns warnings.
* :func:`migrate` - ``config migrate``: v1beta2/v1beta3 -> v1beta4 YAML.
* :func:`print_defaults` - ``config print <kind>-defaults``.
* :func:`to_yaml` / :func:`dump_documents` - serialise like upstream (sorted keys, Go durations).

Precedence is flag (``overrides``) > config file > default."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import yaml

from kubeadm_py.config import defaults as d
from kubeadm_py.config.componentconfigs import COMPONENT_DEFAULTERS
from kubeadm_py.config.convert import TIMEOUT_KINDS, Conversion, convert, new_document
from kubeadm_py.config.hostinfo import DEFAULT_CRI_SOCKET, HostProbe
from kubeadm_py.config.loader import Document, load, parse_documents
from kubeadm_py.config.strict import split_unknown, zero_nulls
from kubeadm_py.config.types import V1BETA4, KubeadmConfig
from kubeadm_py.config.validation import (
    Issue,
    duplicate_issues,
    load_schema,
    raise_first,
    schema_issues,
    semantic_issues,
    semantic_warnings,
)
from kubeadm_py.errors import ConfigError, KubeadmError

Kind = Literal["init", "join", "reset", "upgrade"]
Doc = dict[str, Any]

# KubeadmConfig attribute <-> document kind.
ATTR_KIND = {
    "cluster": "ClusterConfiguration",
    "init": "InitConfiguration",
    "join": "JoinConfiguration",
    "reset": "ResetConfiguration",
    "upgrade": "UpgradeConfiguration",
    "kubelet": "KubeletConfiguration",
    "kubeproxy": "KubeProxyConfiguration",
}
KIND_ATTR = {v: k for k, v in ATTR_KIND.items()}

# Which documents each command reads from --config (others are ignored with a warning).
USES: dict[str, tuple[str, ...]] = {
    "init": ("InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"),
    "join": ("JoinConfiguration",),
    "reset": ("ResetConfiguration",),
    # kubeadm-py extension: a ClusterConfiguration given to upgrade replaces the stored one.
    "upgrade": ("UpgradeConfiguration", "ClusterConfiguration"),
}
# The command's own document, created from defaults when the file has none.
OWN_KIND = {
    "init": "InitConfiguration",
    "join": "JoinConfiguration",
    "reset": "ResetConfiguration",
    "upgrade": "UpgradeConfiguration",
}

# Flag config paths (options.FLAGS, written for init) re-targeted per command: prefix -> prefix.
PATH_REMAP: dict[str, tuple[tuple[str, str], ...]] = {
    "join": (
        ("init.nodeRegistration.", "join.nodeRegistration."),
        ("init.localAPIEndpoint.", "join.controlPlane.localAPIEndpoint."),
        ("init.certificateKey", "join.controlPlane.certificateKey"),
        ("init.patches.", "join.patches."),
        ("init.skipPhases", "join.skipPhases"),
        ("init.dryRun", "join.dryRun"),
    ),
    "reset": (
        ("cluster.certificatesDir", "reset.certificatesDir"),
        ("init.nodeRegistration.criSocket", "reset.criSocket"),
        ("init.nodeRegistration.ignorePreflightErrors", "reset.ignorePreflightErrors"),
    ),
    "upgrade": (),
    "init": (),
}


# --- serialisation ----------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Quotes with double quotes where quoting is needed, as Go's YAML encoder does."""

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_document(doc: Mapping[str, Any]) -> str:
    """One document as upstream prints it: keys sorted, 2-space indent, sequences not indented."""
    text: str = yaml.dump(
        dict(doc), Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=1 << 20, allow_unicode=True
    )
    return text


def dump_documents(docs: Iterable[Mapping[str, Any]]) -> str:
    return "---\n".join(dump_document(doc) for doc in docs)


def to_yaml(cfg: KubeadmConfig) -> str:
    """All documents of ``cfg`` (own kinds first, then ClusterConfiguration, then component configs)."""
    order = ("init", "cluster", "join", "reset", "upgrade", "kubelet", "kubeproxy")
    return dump_documents(getattr(cfg, attr) for attr in order if getattr(cfg, attr) is not None)


# --- loading ----------------------------------------------------------------------------------


def load_documents(
    config: str | None = None,
    *,
    text: str | None = None,
    source: str = "<text>",
    warnings: list[str] | None = None,
) -> list[Document]:
    """Parse ``config`` (path, ``-`` or YAML text) or ``text`` and check every document against
    its own apiVersion's schema, plus kinds and duplicates. Documents stay in their own version;
    ``null`` values are dropped (Go's zero value). Unknown fields are errors, unless
    ``warnings`` is given: then they are dropped with a warning each (upstream's lenient
    decoding in ``init``/``join``)."""
    if text is not None:
        docs = parse_documents(text, source)
    elif config is not None:
        docs = load(config)
    else:
        raise ConfigError("no configuration given")
    return check_documents(docs, warnings)


def check_documents(docs: list[Document], warnings: list[str] | None = None) -> list[Document]:
    """The checks of :func:`load_documents` on parsed documents."""
    docs = zero_nulls(docs)
    issues = duplicate_issues(docs)
    for doc in docs:
        issues.extend(schema_issues(doc))
    if warnings is not None:
        issues = split_unknown(issues, warnings)
    raise_first(issues)
    return docs


# A command whose --config file lacks all of these kinds fails as upstream does.
REQUIRED_KINDS = {
    "init": ("InitConfiguration", "ClusterConfiguration"),
    "join": ("JoinConfiguration",),
}


def _source_config(kind: str, config: str | None, warnings: list[str]) -> Conversion:
    if config is None:
        return convert([])
    docs = load(config)
    required = REQUIRED_KINDS.get(kind)
    if required and not any(doc.kind in required for doc in docs):
        raise ConfigError(
            f"no {' or '.join(required)} kind was found in the configuration file",
            source=docs[0].source,
            hint=f"'{kind}' reads {', '.join(USES[kind])}",
        )
    return convert(check_documents(docs, warnings))


# --- overrides --------------------------------------------------------------------------------


def _remap(kind: str, path: str) -> str:
    for old, new in PATH_REMAP.get(kind, ()):
        if path == old or (old.endswith(".") and path.startswith(old)):
            return new + path[len(old) :] if old.endswith(".") else new
    return path


def _schema_node(kind: str, parts: list[str]) -> dict[str, Any] | None:
    schema = load_schema(V1BETA4, kind)
    if schema is None:
        return None
    node: dict[str, Any] | None = schema
    for part in parts:
        while node is not None and "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if node is not None and "anyOf" in node:
            node = next((n for n in node["anyOf"] if n.get("type") != "null"), None)
            while node is not None and "$ref" in node:
                node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if node is None:
            return None
        node = (node.get("properties") or {}).get(part)
    while node is not None and "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _coerce(kind: str, parts: list[str], value: Any, flag: str) -> Any:
    node = _schema_node(kind, parts) or {}
    want = node.get("type")
    if isinstance(value, str):
        if want == "array":
            return [p.strip() for p in value.split(",") if p.strip()]
        if want == "integer":
            try:
                return int(value)
            except ValueError:
                raise ConfigError(f"{value!r} is not an integer", source=flag) from None
        if want == "boolean":
            return value.lower() in ("1", "true", "yes")
        if want == "object" and parts[-1] == "featureGates":
            gates: dict[str, bool] = {}
            for item in filter(None, (p.strip() for p in value.split(","))):
                key, sep, val = item.partition("=")
                if not sep or val.lower() not in ("true", "false"):
                    raise ConfigError(f"{item!r} is not key=true|false", source=flag)
                gates[key.strip()] = val.lower() == "true"
            return gates
    if isinstance(value, tuple):
        return list(value)
    return value


# Config paths set from a command's arguments rather than a flag.
ARGUMENT_PATHS = {"join.discovery.bootstrapToken.apiServerEndpoint": "argument api-server-endpoint"}


def flag_for_path(path: str) -> str:
    from kubeadm_py.options import FLAGS

    for spec in FLAGS.values():
        if spec.config_path == path:
            return f"flag --{spec.name}"
    return ARGUMENT_PATHS.get(path, f"override {path}")


def apply_overrides(kind: str, docs: dict[str, Doc], overrides: Mapping[str, Any]) -> dict[str, str]:
    """Apply dotted-path overrides; returns {final v1beta4 path: source label} of applied values."""
    applied: dict[str, str] = {}
    remapped = [(_remap(kind, p), p, v) for p, v in overrides.items() if v is not None]
    # "join.controlPlane" (turning a join into a control-plane join) must come first.
    remapped.sort(key=lambda t: t[0].count("."))
    for path, original, value in remapped:
        attr, _, rest = path.partition(".")
        if attr not in ATTR_KIND or attr in ("kubelet", "kubeproxy"):
            raise ConfigError(
                f"unknown configuration path {original!r}",
                hint="paths start with cluster., init., join., reset. or upgrade.",
            )
        doc = docs.get(attr)
        if doc is None:
            continue  # a document this command does not use
        if not rest:
            raise ConfigError(f"configuration path {original!r} names a whole document")
        parts = rest.split(".")
        if attr == "join" and parts[0] == "controlPlane":
            if len(parts) == 1:
                if value is True or isinstance(value, dict):
                    cp = doc.get("controlPlane")
                    doc["controlPlane"] = (
                        cp if isinstance(cp, dict) else dict(value if isinstance(value, dict) else {})
                    )
                elif value is False:
                    doc["controlPlane"] = None
                applied[path] = flag_for_path(original)
                continue
            if not isinstance(doc.get("controlPlane"), dict):
                continue  # control-plane settings on a worker join are ignored, as upstream does
        label = flag_for_path(original)
        owner = doc
        for part in parts[:-1]:
            nxt = owner.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                owner[part] = nxt
            owner = nxt
        owner[parts[-1]] = _coerce(ATTR_KIND[attr], parts, copy.deepcopy(value), label)
        applied[path] = label
    return applied


# --- build ------------------------------------------------------------------------------------


def _final_issues(docs: dict[str, Doc], origin: dict[str, Document], applied: dict[str, str]) -> list[Issue]:
    """Schema and semantic checks of the final v1beta4 documents; errors name the flag that set
    a value, else the document it came from."""
    issues: list[Issue] = []
    for attr, body in docs.items():
        kind = ATTR_KIND[attr]
        doc = origin.get(kind) or Document(0, body.get("apiVersion", V1BETA4), kind, body, "<defaults>")
        doc = Document(doc.index, str(body.get("apiVersion")), kind, body, doc.source)
        found: list[tuple[str | None, str, str | None]] = [
            (i.field, i.message, i.hint) for i in schema_issues(doc)
        ]
        found.extend(semantic_issues(kind, body))
        for path, message, hint in found:
            full = f"{attr}.{path}" if path else attr
            label = next(
                (
                    lab
                    for p, lab in applied.items()
                    if full == p or full.startswith(p + ".") or full.startswith(p + "[")
                ),
                None,
            )
            if label is not None:
                issues.append(Issue(message, path, hint, doc, source=label))
            elif kind in origin:
                issues.append(Issue(message, path, hint, origin[kind]))
            else:
                issues.append(Issue(message, path, hint, source=f"{kind} (defaults)"))
    return issues


def build_config(
    kind: Kind,
    config: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    dynamic_defaults: bool = True,
    probe: d.Probe | None = None,
) -> KubeadmConfig:
    """Load ``config`` (path, ``-`` or YAML text; ``None``: defaults only), convert it to v1beta4,
    apply ``overrides`` (dotted config paths, flag > config > default), default and validate.

    ``kind`` selects the command: ``init`` reads Init/Cluster/Kubelet/KubeProxy documents, ``join``
    the JoinConfiguration, ``reset`` the ResetConfiguration, ``upgrade`` the UpgradeConfiguration;
    other documents are ignored with a warning. ``init.nodeRegistration.*`` paths apply to the
    JoinConfiguration for ``join`` (and ``init.localAPIEndpoint.*`` to ``join.controlPlane`` when
    the join is a control-plane join; override ``join.controlPlane: True`` makes it one).

    With ``dynamic_defaults`` the host is probed (``probe``, default :class:`HostProbe`): node name,
    advertise address, CRI socket, a random bootstrap token, the control-plane taint, and the
    Kubernetes version (``versions.DEFAULT_KUBERNETES_VERSION`` when unset)."""
    if kind not in OWN_KIND:
        raise ConfigError(f"unknown command kind {kind!r}", hint="one of init, join, reset, upgrade")
    warnings: list[str] = []
    conv = _source_config(kind, config, warnings)
    warnings[:0] = conv.warnings
    used = USES[kind]
    origin: dict[str, Document] = {}
    docs: dict[str, Doc] = {}
    for doc in conv.documents:
        if doc.kind not in used:
            warnings.append(f"{doc.source}: {doc.where} is not used by '{kind}' and is ignored")
            continue
        origin[doc.kind] = doc
        docs[KIND_ATTR[doc.kind]] = copy.deepcopy(doc.body)
    components = {a: docs.pop(a, None) for a in ("kubelet", "kubeproxy")}
    docs.setdefault("cluster", {"apiVersion": V1BETA4, "kind": "ClusterConfiguration"})
    own_attr = KIND_ATTR[OWN_KIND[kind]]
    if own_attr not in docs:
        docs[own_attr] = new_document(OWN_KIND[kind], conv)

    applied = apply_overrides(kind, docs, overrides or {})

    for attr, body in docs.items():
        d.STATIC_DEFAULTERS[ATTR_KIND[attr]](body)
    where = {
        attr: (
            f"{origin[ATTR_KIND[attr]].source}: {origin[ATTR_KIND[attr]].where}"
            if ATTR_KIND[attr] in origin
            else ATTR_KIND[attr]
        )
        for attr in docs
    }
    for attr in ("init", "join"):
        if attr in docs:
            d.fix_cri_socket(docs[attr]["nodeRegistration"], "criSocket", warnings, where[attr])
    if "reset" in docs:
        d.fix_cri_socket(docs["reset"], "criSocket", warnings, where["reset"])

    # Validate what the user and the flags gave before probing the host.
    raise_first(_final_issues(docs, origin, applied))

    if dynamic_defaults:
        host = probe if probe is not None else HostProbe()
        try:
            d.dynamic_cluster(docs["cluster"])
        except ConfigError as exc:
            src = applied.get("cluster.kubernetesVersion") or where["cluster"]
            raise ConfigError(
                exc.message.split(": ", 1)[-1], source=src, field="kubernetesVersion", hint=exc.hint
            ) from None
        if "init" in docs:
            d.dynamic_init(docs["init"], host, str(docs["cluster"].get("kubernetesVersion", "")))
        if "join" in docs:
            d.dynamic_join(docs["join"], host)
        if "reset" in docs:
            d.dynamic_reset(docs["reset"], host)
        warnings.extend(getattr(host, "warnings", []))
        raise_first(_final_issues(docs, origin, applied))
    else:
        for attr in ("init", "join", "reset"):
            if attr in docs:
                d.static_cri_socket(docs[attr], ATTR_KIND[attr])

    warnings.extend(
        f"{where['cluster']}: {path}: {message}"
        for path, message in semantic_warnings("ClusterConfiguration", docs["cluster"])
    )
    return KubeadmConfig(
        cluster=docs["cluster"],
        init=docs.get("init"),
        join=docs.get("join"),
        reset=docs.get("reset"),
        upgrade=docs.get("upgrade"),
        kubelet=components["kubelet"],
        kubeproxy=components["kubeproxy"],
        source=config
        if config is not None and "\n" not in config
        else ("<text>" if config else "<defaults>"),
        warnings=warnings,
    )


# --- validate / migrate / print ---------------------------------------------------------------


def _check_converted(documents: list[Document], warnings: list[str]) -> list[Doc]:
    """Statically default copies of the converted kubeadm documents and check them (schema and
    semantics); returns the defaulted bodies (component configs as given), in document order."""
    issues: list[Issue] = []
    bodies: list[Doc] = []
    for doc in documents:
        body = copy.deepcopy(doc.body)
        bodies.append(body)
        defaulter = d.STATIC_DEFAULTERS.get(doc.kind)
        if defaulter is None:
            issues.extend(schema_issues(doc))
            continue
        defaulter(body)
        where = f"{doc.source}: {doc.where}"
        if doc.kind in ("InitConfiguration", "JoinConfiguration"):
            d.fix_cri_socket(body["nodeRegistration"], "criSocket", warnings, where)
        elif doc.kind == "ResetConfiguration":
            d.fix_cri_socket(body, "criSocket", warnings, where)
        checked = Document(doc.index, V1BETA4, doc.kind, body, doc.source)
        issues.extend(Issue(i.message, i.field, i.hint, doc) for i in schema_issues(checked))
        issues.extend(Issue(m, p, h, doc) for p, m, h in semantic_issues(doc.kind, body))
        issues.extend(_version_issues(doc, body))
        warnings.extend(f"{where}: {p}: {m}" for p, m in semantic_warnings(doc.kind, body))
    raise_first(issues)
    return bodies


def _version_issues(doc: Document, body: Doc) -> list[Issue]:
    """The Kubernetes version check ``init`` makes (``config validate`` refuses what ``init``
    refuses, as upstream's ValidateConfig runs the init defaulting)."""
    if doc.kind != "ClusterConfiguration" or not body.get("kubernetesVersion"):
        return []
    from kubeadm_py.versions import release_for

    try:
        release_for(d.resolve_kubernetes_version(str(body["kubernetesVersion"])))
    except KubeadmError as exc:
        return [Issue(exc.message.split(": ", 1)[-1], "kubernetesVersion", exc.hint, doc)]
    return []


def validate(config: str | None = None, *, text: str | None = None, source: str = "<text>") -> list[str]:
    """``config validate``: check every document (any kind), converted and statically defaulted.
    Returns warnings; raises :class:`ConfigError` on the first problem."""
    docs = load_documents(config, text=text, source=source)
    conv = convert(docs)
    warnings = list(conv.warnings)
    _check_converted(conv.documents, warnings)
    return warnings


def migrate(
    text: str, *, source: str = "<text>", warnings: list[str] | None = None, defaults: bool = True
) -> str:
    """Convert v1beta2/v1beta3 documents to v1beta4 YAML, validated.

    With ``defaults`` (upstream's behaviour: "the output is what kubeadm would read internally") the
    static defaults are filled in, as ``config print`` shows them; host-dependent values (node
    name, advertise address, CRI socket detection, a random token) are never written. Without,
    only the converted fields are written. Component-config documents pass through unchanged."""
    docs = load_documents(text=text, source=source)
    conv = convert(docs)
    notes: list[str] = [w for w in conv.warnings if "deprecated API version" not in w]
    if conv.control_plane_timeout and not any(doc.kind in TIMEOUT_KINDS for doc in conv.documents):
        # As upstream's migrate writes an InitConfiguration next to a ClusterConfiguration, and as
        # init reads the file: the converted timeout lands in a new InitConfiguration.
        cluster = next(i for i, doc in enumerate(conv.documents) if doc.kind == "ClusterConfiguration")
        new = Document(0, V1BETA4, "InitConfiguration", new_document("InitConfiguration", conv), source)
        conv.documents.insert(cluster, new)
        notes.append(
            f"{source}: apiServer.timeoutForControlPlane ({conv.control_plane_timeout}) moved to "
            "timeouts.controlPlaneComponentHealthCheck of a new InitConfiguration"
        )
    defaulted = _check_converted(conv.documents, notes)
    if warnings is not None:
        warnings.extend(notes)
    return dump_documents(defaulted if defaults else [doc.body for doc in conv.documents])


COMPONENT_NAMES = {name.lower(): name for name in COMPONENT_DEFAULTERS}


def print_defaults(kind: Kind, component_configs: Iterable[str] = (), hostname: str | None = None) -> str:
    """``config print <kind>-defaults``: the static defaults with upstream's placeholders
    (token abcdef.0123456789abcdef, advertiseAddress 1.2.3.4, init's node name ``node``). The
    JoinConfiguration has no placeholder name: upstream's getDefaultNodeConfigBytes (cmd/config.go)
    leaves it empty and defaulting fills in the host name (the v1.20.2 test bed's kubeadm prints
    ``name: <hostname>``), as ``hostname`` (default: this host's) gives it here."""
    if kind not in OWN_KIND:
        raise ConfigError(f"unknown defaults kind {kind!r}", hint="one of init, join, reset, upgrade")
    wanted: list[str] = []
    for name in component_configs:
        for part in str(name).split(","):
            part = part.strip()
            if not part:
                continue
            real = COMPONENT_NAMES.get(part.lower())
            if real is None:
                raise ConfigError(
                    f"--component-configs: unknown component config {part!r}",
                    hint=f"choose from {', '.join(COMPONENT_DEFAULTERS)}",
                )
            if real not in wanted:
                wanted.append(real)
    cluster: Doc = {"apiVersion": V1BETA4, "kind": "ClusterConfiguration"}
    d.default_cluster(cluster)
    placeholder_nr = {"name": d.PLACEHOLDER_NODE_NAME, "criSocket": DEFAULT_CRI_SOCKET}
    docs: list[Doc] = []
    init: Doc | None = None
    if kind == "init":
        init = {
            "apiVersion": V1BETA4,
            "kind": "InitConfiguration",
            "bootstrapTokens": [{"token": d.PLACEHOLDER_TOKEN}],
            "localAPIEndpoint": {"advertiseAddress": d.PLACEHOLDER_ADVERTISE_ADDRESS},
            "nodeRegistration": dict(placeholder_nr),
        }
        d.default_init(init)
        docs += [init, cluster]
    elif kind == "join":
        join: Doc = {
            "apiVersion": V1BETA4,
            "kind": "JoinConfiguration",
            "discovery": {
                "bootstrapToken": {
                    "apiServerEndpoint": d.PLACEHOLDER_API_SERVER_ENDPOINT,
                    "token": d.PLACEHOLDER_TOKEN,
                    "unsafeSkipCAVerification": True,
                }
            },
            "nodeRegistration": {**placeholder_nr, "name": hostname or HostProbe().hostname()},
        }
        d.default_join(join)
        docs.append(join)
    elif kind == "reset":
        reset: Doc = {"apiVersion": V1BETA4, "kind": "ResetConfiguration", "criSocket": DEFAULT_CRI_SOCKET}
        d.default_reset(reset)
        docs.append(reset)
    else:
        upgrade: Doc = {"apiVersion": V1BETA4, "kind": "UpgradeConfiguration"}
        d.default_upgrade(upgrade)
        docs.append(upgrade)
    if wanted:
        cfg = KubeadmConfig(cluster=cluster, init=init)
        if init is None:
            cfg.init = {"localAPIEndpoint": {"advertiseAddress": d.PLACEHOLDER_ADVERTISE_ADDRESS}}
        docs.extend(COMPONENT_DEFAULTERS[name](cfg) for name in wanted)
    return dump_documents(docs)
