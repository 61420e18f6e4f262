"""The flag registry: one :class:`FlagSpec` per command-line flag.

Phases name the flags they use (``Phase.flags``); the CLI binder builds each command's options
from these specs, and :func:`kubeadm_py.config.resolve.build_config` applies flag values on top of
the config file through ``config_path`` (flag > config file > default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeadm_py.errors import KubeadmError

if TYPE_CHECKING:
    from kubeadm_py.run_options import RunOptions


@dataclass(frozen=True)
class FlagSpec:
    name: str  # CLI name without dashes, e.g. "cert-dir"
    type: type  # str, int, bool or list (comma-separated / repeatable strings)
    help: str
    # Dotted path into KubeadmConfig the flag overrides: "<doc>.<field>.<field>", doc one of
    # cluster, init, join, reset, upgrade. None: the flag is an option of the run, not config.
    config_path: str | None = None
    short: str | None = None
    default: Any = None  # shown in help; the effective default comes from config defaulting

    @property
    def param(self) -> str:
        return self.name.replace("-", "_")


_F = FlagSpec
FLAGS: dict[str, FlagSpec] = {
    f.name: f
    for f in [
        _F("config", str, "Path to a kubeadm configuration file ('-' for standard input)."),
        _F("dry-run", bool, "Do not change any state, just output what would be done."),
        _F(
            "rootfs",
            str,
            "Host paths (/etc/kubernetes, /var/lib/kubelet, /var/lib/etcd) resolve inside this directory, "
            "as in a chroot.",
        ),
        _F("skip-phases", list, "List of phases to be skipped."),
        _F(
            "ignore-preflight-errors",
            list,
            "Checks whose errors are shown as warnings, e.g. 'Swap,NumCPU'; 'all' ignores all.",
        ),
        _F(
            "kubeconfig",
            str,
            "The kubeconfig file to use when talking to the cluster.",
            default="/etc/kubernetes/admin.conf",
        ),
        _F("kubeconfig-dir", str, "Where to save the kubeconfig files.", default="/etc/kubernetes"),
        _F(
            "cert-dir",
            str,
            "Where to save and store the certificates.",
            "cluster.certificatesDir",
            default="/etc/kubernetes/pki",
        ),
        _F(
            "apiserver-advertise-address",
            str,
            "The IP address the API server advertises it's listening on.",
            "init.localAPIEndpoint.advertiseAddress",
        ),
        _F(
            "apiserver-bind-port",
            int,
            "Port for the API server to bind to.",
            "init.localAPIEndpoint.bindPort",
            default=6443,
        ),
        _F(
            "apiserver-cert-extra-sans",
            list,
            "Extra Subject Alternative Names (IPs or DNS names) for the API server certificate.",
            "cluster.apiServer.certSANs",
        ),
        _F(
            "control-plane-endpoint",
            str,
            "A stable IP address or DNS name for the control plane.",
            "cluster.controlPlaneEndpoint",
        ),
        _F("pod-network-cidr", str, "IP address range for the pod network.", "cluster.networking.podSubnet"),
        _F(
            "service-cidr",
            str,
            "IP address range for service VIPs.",
            "cluster.networking.serviceSubnet",
            default="10.96.0.0/12",
        ),
        _F(
            "service-dns-domain",
            str,
            "DNS domain for services.",
            "cluster.networking.dnsDomain",
            default="cluster.local",
        ),
        _F(
            "kubernetes-version",
            str,
            "The Kubernetes version of the control plane.",
            "cluster.kubernetesVersion",
        ),
        _F(
            "image-repository",
            str,
            "Container registry to pull control plane images from.",
            "cluster.imageRepository",
            default="registry.k8s.io",
        ),
        _F("feature-gates", str, "Feature gates, key=value pairs, comma-separated.", "cluster.featureGates"),
        _F("node-name", str, "The node name.", "init.nodeRegistration.name"),
        _F("cri-socket", str, "Path to the CRI socket.", "init.nodeRegistration.criSocket"),
        _F(
            "patches",
            str,
            "Directory with patch files (target[suffix][+patchtype].yaml|json).",
            "init.patches.directory",
        ),
        _F("upload-certs", bool, "Upload the control-plane certificates to the kubeadm-certs Secret."),
        _F(
            "certificate-key",
            str,
            "Key used to encrypt the control-plane certificates in the kubeadm-certs Secret (64 hex).",
            "init.certificateKey",
        ),
        _F(
            "skip-certificate-key-print",
            bool,
            "Don't print the key used to encrypt the control-plane certificates.",
        ),
        _F("token", str, "The bootstrap token ([a-z0-9]{6}.[a-z0-9]{16})."),
        _F("token-ttl", str, "Duration before the bootstrap token is deleted (0: never).", default="24h0m0s"),
        _F("skip-token-print", bool, "Skip printing of the default bootstrap token."),
        _F("print-manifest", bool, "Print the addon manifests to STDOUT instead of installing them."),
        _F("force", bool, "Do not ask for confirmation.", short="f"),
        _F("cleanup-tmp-dir", bool, "Also remove /etc/kubernetes/tmp."),
        _F("control-plane", bool, "Create a new control plane instance on this node."),
        _F("discovery-token", str, "Token used to validate cluster information fetched from the API server."),
        _F("discovery-token-ca-cert-hash", list, "Expected CA public key pin(s): 'sha256:<hex>'."),
        _F("discovery-token-unsafe-skip-ca-verification", bool, "Join without pinning the CA (unsafe)."),
        _F("discovery-file", str, "A kubeconfig file or https URL to load cluster information from."),
        _F("tls-bootstrap-token", str, "Token used for the kubelet's TLS bootstrap."),
        # Booleans that default to true, as in kubeadm upgrade apply: turned off with =false.
        _F(
            "certificate-renewal",
            bool,
            "Renew certificates during upgrade (--certificate-renewal=false: don't).",
            default=True,
        ),
        _F("etcd-upgrade", bool, "Upgrade the local etcd (--etcd-upgrade=false: don't).", default=True),
        _F("yes", bool, "Perform the upgrade without asking.", short="y"),
        _F("allow-experimental-upgrades", bool, "Allow upgrading to alpha/beta/rc versions."),
        _F("allow-release-candidate-upgrades", bool, "Allow upgrading to release candidate versions."),
        _F("finish", bool, "Finish a service-account key rotation: stop trusting the previous key."),
        _F("front-proxy", bool, "certs rotate-ca begin: rotate the front-proxy CA with the cluster CA."),
        _F("etcd", bool, "certs rotate-ca begin: rotate the local etcd's CA with the cluster CA."),
        _F(
            "certs-in-secrets",
            bool,
            "Self-hosting: the control plane mounts its certificates and kubeconfigs from Secrets.",
        ),
        _F("print-config", bool, "Print the configuration that will be used in the upgrade."),
        _F("context-lines", int, "How many lines of context in the diff.", short="c", default=3),
        _F("api-server-manifest", str, "Path to the current kube-apiserver manifest (upgrade diff)."),
        _F("controller-manager-manifest", str, "Path to the current kube-controller-manager manifest."),
        _F("scheduler-manifest", str, "Path to the current kube-scheduler manifest (upgrade diff)."),
        _F(
            "upgrade-timeout",
            str,
            "How long to wait for each upgraded component, e.g. 30s "
            "(overrides UpgradeConfiguration timeouts.upgradeManifests).",
        ),
    ]
}


# Flags kubeadm takes next to --config (validation.ValidateMixedArguments, isAllowedFlag: these and
# every "skip-*" flag); init, join, reset, upgrade apply and upgrade node, phases included, refuse
# any other flag with --config.
CONFIG_COMPANIONS = frozenset(
    {
        "config",
        "ignore-preflight-errors",
        "dry-run",
        "kubeconfig",
        "node-name",
        "kubeconfig-dir",
        "upload-certs",
        "print-join-command",
        "rootfs",
        "v",
        "log-file",
        "yes",  # upgrade apply's non-interactive mode (kubernetes/kubernetes#125566, kubeadm v1.31)
        # kubeadm-py's own flags, which no kubeadm command line has: the refusal is about kubeadm's
        # flags that have a configuration field; this one only caps the run's waits.
        "upgrade-timeout",
    }
)


def refuse_mixed_config(values: Mapping[str, object]) -> None:
    """kubeadm's "can not mix '--config' with arguments [...]" for flag values keyed by parameter
    name (None: not given), listing the offending flags in kubeadm's (sorted) order."""
    if values.get("config") is None:
        return
    mixed = sorted(
        s.name
        for s in FLAGS.values()
        if values.get(s.param) is not None
        and s.name not in CONFIG_COMPANIONS
        and not s.name.startswith("skip-")
    )
    if mixed:
        raise KubeadmError(
            f"can not mix '--config' with arguments [{' '.join(mixed)}]",
            hint="set these in the configuration file, or drop --config",
        )


# --- the typed run options, generated from FLAGS ---------------------------------------------------

# Positional arguments of workflow commands, as options: (parameter, type text, help).
ARGUMENTS: tuple[tuple[str, str, str], ...] = (
    ("api_server_endpoint", "list[str] | None", "join: host:port of the API server to join"),
    ("version", "str | None", "upgrade apply: the Kubernetes version to upgrade to"),
    ("stage", "str | None", "certs rotate-ca: begin, sync, switch, finish or status"),
)
_TYPE_TEXT = {str: "str | None", int: "int | None", bool: "bool | None", list: "list[str] | None"}
GENERATED = "kubeadm_py/run_options.py"


def render_run_options() -> str:
    """The source of :mod:`kubeadm_py.run_options` (``python -m kubeadm_py.options`` rewrites it;
    a unit test keeps it equal to this)."""
    lines = [
        '"""Typed run options: one field per flag of :data:`kubeadm_py.options.FLAGS` and per positional',
        "argument. GENERATED by ``python -m kubeadm_py.options`` from the flag registry: do not edit.",
        "",
        'None means "not given": the configuration file or its defaults decide."""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "",
        "",
        "@dataclass",
        "class RunOptions:",
    ]
    for spec in sorted(FLAGS.values(), key=lambda s: s.param):
        lines.append(f"    {spec.param}: {_TYPE_TEXT[spec.type]} = None")
    for param, type_text, help_text in ARGUMENTS:
        lines.append(f"    {param}: {type_text} = None  # argument: {help_text}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    Path(__file__).resolve().parent.parent.joinpath(GENERATED).write_text(render_run_options())


def _split_list(value: object) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return [p.strip() for v in items for p in str(v).split(",") if p.strip()]


# strconv.ParseBool, what pflag accepts for a boolean flag (--dry-run=false, --force=1).
GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


def _coerce(name: str, kind: type | str, value: object) -> object:
    if value is None:
        return None
    if kind is list:
        return _split_list(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        b = GO_BOOLS.get(str(value).strip())
        if b is None:
            raise KubeadmError(f"option {name}: {value!r} is not a boolean (true or false)")
        return b
    if kind is int:
        if isinstance(value, bool):
            raise KubeadmError(f"option {name}: {value!r} is not a whole number")
        try:
            return int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise KubeadmError(f"option {name}: {value!r} is not a whole number") from None
    if kind is str:
        return str(value)
    return value  # arguments: as given


def run_options(values: Mapping[str, object]) -> RunOptions:
    """Typed run options from flag values keyed by flag or parameter name (``cert-dir`` or
    ``cert_dir``). An unknown name is an error that suggests the closest one."""
    import difflib

    from kubeadm_py.run_options import RunOptions

    kinds: dict[str, type | str] = {s.param: s.type for s in FLAGS.values()}
    kinds.update({param: "argument" for param, _, _ in ARGUMENTS})
    out: dict[str, object] = {}
    for key, value in values.items():
        param = key.replace("-", "_")
        if param not in kinds:
            names = sorted(kinds)
            close = difflib.get_close_matches(param, names, n=1)
            hint = f"did you mean {close[0].replace('_', '-')!r}?" if close else None
            raise KubeadmError(f"unknown option {key!r}", hint=hint)
        out[param] = _coerce(key, kinds[param], value)
    return RunOptions(**out)  # type: ignore[arg-type]


def config_overrides(options: RunOptions) -> dict[str, Any]:
    """Config values given as flags, keyed by dotted config path (flag > config file > default)."""
    out: dict[str, Any] = {}
    for spec in FLAGS.values():
        value = getattr(options, spec.param)
        if spec.config_path is None or value is None or value == []:
            continue
        out[spec.config_path] = _feature_gates(value) if spec.name == "feature-gates" else value
    return out


def _feature_gates(text: str) -> dict[str, bool]:
    gates: dict[str, bool] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, val = part.partition("=")
        if not sep or val.lower() not in ("true", "false"):
            raise KubeadmError(f"--feature-gates: {part!r} is not key=true|false")
        gates[key.strip()] = val.lower() == "true"
    return gates
