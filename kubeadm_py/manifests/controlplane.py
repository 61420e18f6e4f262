"""kube-apiserver, kube-controller-manager and kube-scheduler static Pods
(``phases/controlplane/manifests.go``), for any minor of :mod:`kubeadm_py.versions`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import (
    CONTROLLER_MANAGER_KUBECONFIG,
    CONTROLLER_MANAGER_PORT,
    KUBERNETES_DIR,
    SCHEDULER_KUBECONFIG,
    SCHEDULER_PORT,
)
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.args import Arg, args_from_config, arguments_to_command, get_arg, set_arg
from kubeadm_py.manifests.images import kubernetes_image
from kubeadm_py.manifests.known_flags import unknown_flags
from kubeadm_py.manifests.pod import (
    Pod,
    add_probes,
    component_pod,
    env_from_config,
    is_ipv6,
    join_host_port,
    merge_env,
    probe_address,
    proxy_env,
    requests,
)
from kubeadm_py.manifests.volumes import control_plane_mounts, split
from kubeadm_py.versioned import profile_for
from kubeadm_py.versions import MinorRelease, release_for

AUTHZ_MODES = ("Node", "RBAC", "Webhook", "ABAC", "AlwaysAllow", "AlwaysDeny")

# (liveness, readiness or "", startup) probe paths; the kube-scheduler's change per minor
# (versioned.ObjectsProfile.scheduler_probe_paths).
APISERVER_PROBE_PATHS = ("/livez", "/readyz", "/livez")
CONTROLLER_MANAGER_PROBE_PATHS = ("/healthz", "", "/healthz")

# ClusterConfiguration key of each component's ControlPlaneComponent section.
CONFIG_KEYS = {
    "kube-apiserver": "apiServer",
    "kube-controller-manager": "controllerManager",
    "kube-scheduler": "scheduler",
}


@dataclass
class BuildResult:
    pods: dict[str, Pod]
    warnings: list[str] = field(default_factory=list)


def extra_args(cluster: Mapping[str, Any], component: str) -> list[Arg]:
    if component == "etcd":
        local = (cluster.get("etcd") or {}).get("local") or {}
        return args_from_config(local.get("extraArgs"), "ClusterConfiguration.etcd.local.extraArgs")
    key = CONFIG_KEYS[component]
    return args_from_config(
        (cluster.get(key) or {}).get("extraArgs"), f"ClusterConfiguration.{key}.extraArgs"
    )


def unknown_arg_warnings(component: str, args: list[Arg], minor: str = "") -> list[str]:
    """Names ``component`` does not have (at ``minor`` when its flag table is complete: then only
    when the run's check was skipped with --ignore-preflight-errors, see known_flags)."""
    names = list(dict.fromkeys(n for n, _ in args))
    return [
        f"{component}: extraArgs name {n!r} is not a flag kubeadm-py knows for {component}; "
        f"it is passed as --{n} anyway (check the spelling)"
        for n in unknown_flags(component, names, minor)
    ]


def _cert(cert_dir: str, name: str) -> str:
    return f"{cert_dir.rstrip('/')}/{name}"


def _feature_gate_args(rel: MinorRelease, cluster: Mapping[str, Any]) -> list[Arg]:
    gates = cluster.get("featureGates") or {}
    parts = [f"{g}={'true' if gates[g] else 'false'}" for g in rel.forwarded_feature_gates if g in gates]
    return [("feature-gates", ",".join(parts))] if parts else []


def _version_args(rel: MinorRelease, component: str) -> list[Arg]:
    return list(rel.component_flags.get(component, ()))


def _leader_elected_args(rel: MinorRelease, component: str, kubeconfig_file: str) -> list[Arg]:
    """How the controller-manager and the scheduler both start (upstream's first five default
    arguments of each): local binding, leader election, one kubeconfig for client, authentication
    and authorization; after the version's own flags."""
    kubeconfig = f"{KUBERNETES_DIR}/{kubeconfig_file}"
    return [
        *_version_args(rel, component),
        ("bind-address", "127.0.0.1"),
        ("leader-elect", "true"),
        ("kubeconfig", kubeconfig),
        ("authentication-kubeconfig", kubeconfig),
        ("authorization-kubeconfig", kubeconfig),
    ]


def _authz_modes(requested: str | None, warn: Callable[[str], None]) -> str:
    default = ["Node", "RBAC"]
    if requested:
        modes = []
        for m in requested.split(","):
            if m in AUTHZ_MODES:
                modes.append(m)
            else:
                warn(f"ignoring unknown kube-apiserver authorization-mode {m!r}")
        if modes:
            if modes != default:
                warn(
                    f"the default kube-apiserver authorization-mode is {','.join(default)!r}; using {','.join(modes)!r}"  # noqa: E501
                )
            return ",".join(modes)
    return ",".join(default)


def apiserver_command(rel: MinorRelease, cfg: KubeadmConfig, warn: Callable[[str], None]) -> list[str]:
    c = cfg.cluster
    cd = cfg.cert_dir
    net = c.get("networking") or {}
    adv = cfg.advertise_address
    args: list[Arg] = [
        ("advertise-address", adv),
        ("enable-admission-plugins", "NodeRestriction"),
        ("service-cluster-ip-range", str(net.get("serviceSubnet", "10.96.0.0/12"))),
        ("service-account-key-file", _cert(cd, "sa.pub")),
        ("service-account-signing-key-file", _cert(cd, "sa.key")),
        ("service-account-issuer", f"https://kubernetes.default.svc.{net.get('dnsDomain', 'cluster.local')}"),
        ("client-ca-file", _cert(cd, "ca.crt")),
        ("tls-cert-file", _cert(cd, "apiserver.crt")),
        ("tls-private-key-file", _cert(cd, "apiserver.key")),
        ("kubelet-client-certificate", _cert(cd, "apiserver-kubelet-client.crt")),
        ("kubelet-client-key", _cert(cd, "apiserver-kubelet-client.key")),
        ("enable-bootstrap-token-auth", "true"),
        ("secure-port", str(cfg.bind_port)),
        ("allow-privileged", "true"),
        ("kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname"),
        ("requestheader-username-headers", "X-Remote-User"),
        ("requestheader-group-headers", "X-Remote-Group"),
        ("requestheader-extra-headers-prefix", "X-Remote-Extra-"),
        ("requestheader-client-ca-file", _cert(cd, "front-proxy-ca.crt")),
        ("requestheader-allowed-names", "front-proxy-client"),
        ("proxy-client-cert-file", _cert(cd, "front-proxy-client.crt")),
        ("proxy-client-key-file", _cert(cd, "front-proxy-client.key")),
    ]
    args += _version_args(rel, "kube-apiserver")
    etcd = c.get("etcd") or {}
    external = etcd.get("external")
    if external:
        set_arg(args, "etcd-servers", ",".join(external.get("endpoints") or []))
        if external.get("caFile"):
            set_arg(args, "etcd-cafile", external["caFile"])
        if external.get("certFile") and external.get("keyFile"):
            set_arg(args, "etcd-certfile", external["certFile"])
            set_arg(args, "etcd-keyfile", external["keyFile"])
    else:
        local_ip = "::1" if is_ipv6(adv) else "127.0.0.1"
        set_arg(args, "etcd-servers", f"https://{join_host_port(local_ip, 2379)}")
        set_arg(args, "etcd-cafile", _cert(cd, "etcd/ca.crt"))
        set_arg(args, "etcd-certfile", _cert(cd, "apiserver-etcd-client.crt"))
        set_arg(args, "etcd-keyfile", _cert(cd, "apiserver-etcd-client.key"))
        adv_urls = get_arg(extra_args(c, "etcd"), "advertise-client-urls")
        if adv_urls is not None:
            set_arg(args, "etcd-servers", adv_urls)
    args += _feature_gate_args(rel, c)
    extra = extra_args(c, "kube-apiserver")
    if get_arg(extra, "authorization-config") is None:
        set_arg(args, "authorization-mode", _authz_modes(get_arg(extra, "authorization-mode"), warn))
        # an explicit authorization-mode extraArg is filtered to valid modes, as upstream does
        extra = [
            (n, v) if n != "authorization-mode" else (n, _authz_modes(v, lambda _m: None)) for n, v in extra
        ]
    return ["kube-apiserver", *arguments_to_command(args, extra)]


def controller_manager_command(rel: MinorRelease, cfg: KubeadmConfig, fs: HostFS) -> list[str]:
    c = cfg.cluster
    cd = cfg.cert_dir
    ca = _cert(cd, "ca.crt")
    args: list[Arg] = [
        *_leader_elected_args(rel, "kube-controller-manager", CONTROLLER_MANAGER_KUBECONFIG),
        ("client-ca-file", ca),
        ("requestheader-client-ca-file", _cert(cd, "front-proxy-ca.crt")),
        ("root-ca-file", ca),
        ("service-account-private-key-file", _cert(cd, "sa.key")),
        ("cluster-signing-cert-file", ca),
        ("cluster-signing-key-file", _cert(cd, "ca.key")),
        ("use-service-account-credentials", "true"),
        ("controllers", "*,bootstrapsigner,tokencleaner"),
    ]
    if using_external_ca(cfg, fs):
        set_arg(args, "cluster-signing-key-file", "")
        set_arg(args, "cluster-signing-cert-file", "")
    net = c.get("networking") or {}
    if net.get("podSubnet"):
        set_arg(args, "allocate-node-cidrs", "true")
        set_arg(args, "cluster-cidr", str(net["podSubnet"]))
        if net.get("serviceSubnet"):
            set_arg(args, "service-cluster-ip-range", str(net["serviceSubnet"]))
    if c.get("clusterName"):
        set_arg(args, "cluster-name", str(c["clusterName"]))
    args += _feature_gate_args(rel, c)
    return ["kube-controller-manager", *arguments_to_command(args, extra_args(c, "kube-controller-manager"))]


def scheduler_command(rel: MinorRelease, cfg: KubeadmConfig) -> list[str]:
    args = _leader_elected_args(rel, "kube-scheduler", SCHEDULER_KUBECONFIG)
    args += _feature_gate_args(rel, cfg.cluster)
    return ["kube-scheduler", *arguments_to_command(args, extra_args(cfg.cluster, "kube-scheduler"))]


def using_external_ca(cfg: KubeadmConfig, fs: HostFS) -> bool:
    """External CA mode: ca.crt present without ca.key (certs.UsingExternalCA, simplified to the key test)."""
    cd = cfg.cert_dir
    return fs.exists(_cert(cd, "ca.crt")) and not fs.exists(_cert(cd, "ca.key"))


def _env(
    rel: MinorRelease, cluster: Mapping[str, Any], component: str, environ: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    key = CONFIG_KEYS[component]
    extra = env_from_config(
        (cluster.get(key) or {}).get("extraEnvs"), f"ClusterConfiguration.{key}.extraEnvs"
    )
    return merge_env(proxy_env(environ), extra)


def build_control_plane(
    cfg: KubeadmConfig,
    fs: HostFS,
    components: tuple[str, ...] | None = None,
    environ: Mapping[str, str] | None = None,
) -> BuildResult:
    """The static Pods of ``components`` (default: all three) for ``cfg.kubernetes_version``."""
    rel = release_for(cfg.kubernetes_version)
    profile = profile_for(cfg.kubernetes_version)
    c = cfg.cluster
    warnings: list[str] = []
    mounts = control_plane_mounts(
        c,
        fs,
        extra_args(c, "kube-controller-manager"),
        flexvolume=rel.kcm_flexvolume_mount,
        ca_paths=profile.ca_cert_extra_paths,
    )
    timeout = cfg.timeout("controlPlaneComponentHealthCheck")
    wanted = components or ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    pods: dict[str, Pod] = {}
    for comp in wanted:
        warnings += unknown_arg_warnings(comp, extra_args(c, comp), rel.minor)
        vols, vmounts = split(mounts[comp])
        container: dict[str, Any] = {
            "name": comp,
            "image": kubernetes_image(comp, cfg),
            "imagePullPolicy": "IfNotPresent",
        }
        annotations = None
        if comp == "kube-apiserver":
            container["command"] = apiserver_command(rel, cfg, warnings.append)
            host = probe_address(cfg.advertise_address or None)
            port = cfg.bind_port
            add_probes(container, profile, (host, port, "HTTPS"), APISERVER_PROBE_PATHS, timeout)
            container["resources"] = requests(cpu="250m")
            annotations = {
                "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": join_host_port(
                    cfg.advertise_address, port
                )
            }
        else:
            if comp == "kube-controller-manager":
                container["command"] = controller_manager_command(rel, cfg, fs)
                port, cpu, paths = CONTROLLER_MANAGER_PORT, "200m", CONTROLLER_MANAGER_PROBE_PATHS
            else:
                container["command"] = scheduler_command(rel, cfg)
                port, cpu, paths = SCHEDULER_PORT, "100m", profile.scheduler_probe_paths
            bind = get_arg(extra_args(c, comp), "bind-address")
            host = probe_address(bind) if bind is not None else "127.0.0.1"
            add_probes(container, profile, (host, port, "HTTPS"), paths, timeout)
            container["resources"] = requests(cpu=cpu)
        container["env"] = _env(rel, c, comp, environ)
        container["volumeMounts"] = vmounts
        pods[comp] = component_pod(rel, profile, container, vols, annotations)
    return BuildResult(pods, warnings)
