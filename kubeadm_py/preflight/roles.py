"""Which checks run for which role, in kubeadm's order (``InitNodeChecks``, ``JoinNodeChecks``,
``addCommonChecks``, ``RunRootCheckOnly``).

:class:`NodeFacts` holds the few configuration values the checks need, so the tables work with
or without a loaded :class:`~kubeadm_py.config.types.KubeadmConfig`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import (
    CONTROLLER_MANAGER_PORT,
    ETCD_CLIENT_PORT,
    ETCD_DATA_DIR,
    ETCD_PEER_PORT,
    KUBELET_BOOTSTRAP_KUBECONFIG,
    KUBELET_KUBECONFIG,
    KUBELET_PORT,
    KUBERNETES_DIR,
    MANIFESTS_DIR,
    SCHEDULER_PORT,
)
from kubeadm_py.images import pull_settings
from kubeadm_py.preflight.checks import Check
from kubeadm_py.preflight.etcd import ExternalEtcdVersion
from kubeadm_py.preflight.files import DirAvailable, FileAvailable, FileExisting
from kubeadm_py.preflight.images import ImagePull
from kubeadm_py.preflight.system import (
    CRI,
    FileContent,
    Firewalld,
    Hostname,
    HTTPProxy,
    HTTPProxyCIDR,
    IsPrivilegedUser,
    KubeletVersion,
    KubernetesVersion,
    Mem,
    NumCPU,
    Port,
    Service,
    Swap,
    tool_check,
)
from kubeadm_py.preflight.sysverify import SystemVerification
from kubeadm_py.semver import major_minor
from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION

Role = Literal["init", "join", "join-control-plane", "reset"]
ROLES: tuple[str, ...] = ("init", "join", "join-control-plane", "reset")
# The standalone command's names for the same lists.
ROLE_ALIASES = {"control-plane": "init", "worker": "join"}
# Roles that pull the control-plane images after their checks (RunPullImagesCheck).
IMAGE_PULL_ROLES = ("init", "join-control-plane")

IPV4_FORWARD = "/proc/sys/net/ipv4/ip_forward"
IPV6_FORWARD = "/proc/sys/net/ipv6/conf/default/forwarding"
BRIDGE_NF = {
    4: "/proc/sys/net/bridge/bridge-nf-call-iptables",
    6: "/proc/sys/net/bridge/bridge-nf-call-ip6tables",
}

CONTROL_PLANE_MANIFESTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
MANDATORY_TOOLS = ("ip", "iptables", "mount", "nsenter")
OPTIONAL_TOOLS = ("ebtables", "ethtool", "socat", "tc", "touch")
# (tool or check, last Kubernetes minor that needs it): version-gated requirements.
CONNTRACK_UNTIL = (1, 31)  # kube-proxy stopped needing conntrack in PATH in 1.32
BRIDGE_NF_UNTIL = (1, 29)  # kubeadm dropped the bridge-nf-call-iptables checks in 1.30


@dataclass
class NodeFacts:
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    node_name: str = ""
    cri_socket: str = ""
    advertise_address: str = ""
    bind_port: int = 6443
    service_subnet: str = "10.96.0.0/12"
    pod_subnet: str = ""
    local_etcd: bool = True
    etcd_data_dir: str = ETCD_DATA_DIR
    external_etcd: dict[str, Any] = field(default_factory=dict)
    join_endpoint: str = ""  # discovery.bootstrapToken.apiServerEndpoint
    ca_cert_path: str = "/etc/kubernetes/pki/ca.crt"
    download_certs: bool = False  # join --control-plane with --certificate-key
    # ImagePull (init, join --control-plane): the images, kubeadm's pause image, nodeRegistration's
    # imagePullPolicy / imagePullSerial (the preflight phase gives the check its CRI effector).
    images: tuple[str, ...] = ()
    sandbox_image: str = ""
    image_pull_policy: str = "IfNotPresent"
    image_pull_serial: bool = True


def facts_from_config(cfg: KubeadmConfig, role: str) -> NodeFacts:
    cluster = cfg.cluster or {}
    net = cluster.get("networking") or {}
    etcd = cluster.get("etcd") or {}
    join = cfg.join or {}
    nodereg = (join if role.startswith("join") else (cfg.init or {})).get("nodeRegistration") or {}
    images: tuple[str, ...] = ()
    sandbox = ""
    if role in IMAGE_PULL_ROLES:
        from kubeadm_py.images import control_plane_images
        from kubeadm_py.manifests.images import pause_image

        images, sandbox = tuple(control_plane_images(cfg)), pause_image(cfg)
    pull_policy, pull_serial = pull_settings(nodereg)
    if role.startswith("join"):
        cp = join.get("controlPlane") or {}
        advertise = str((cp.get("localAPIEndpoint") or {}).get("advertiseAddress", ""))
        bind_port = int((cp.get("localAPIEndpoint") or {}).get("bindPort", 6443))
    else:
        advertise, bind_port = cfg.advertise_address, cfg.bind_port
    return NodeFacts(
        kubernetes_version=cfg.kubernetes_version or DEFAULT_KUBERNETES_VERSION,
        node_name=str(nodereg.get("name", "")),
        cri_socket=str(nodereg.get("criSocket", "")),
        advertise_address=advertise,
        bind_port=bind_port,
        service_subnet=str(net.get("serviceSubnet", "10.96.0.0/12")),
        pod_subnet=str(net.get("podSubnet", "")),
        local_etcd="external" not in etcd,
        etcd_data_dir=str((etcd.get("local") or {}).get("dataDir", ETCD_DATA_DIR)),
        external_etcd=dict(etcd.get("external") or {}),
        join_endpoint=str(
            ((join.get("discovery") or {}).get("bootstrapToken") or {}).get("apiServerEndpoint", "")
        ),
        ca_cert_path=str(join.get("caCertPath", "/etc/kubernetes/pki/ca.crt")),
        download_certs=bool((join.get("controlPlane") or {}).get("certificateKey")),
        images=images,
        sandbox_image=sandbox,
        image_pull_policy=pull_policy,
        image_pull_serial=pull_serial,
    )


def _ip_family(text: str) -> int | None:
    try:
        return ipaddress.ip_address(text.strip("[]")).version
    except ValueError:
        return None


def _cidr_family(text: str) -> int | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False).version
    except ValueError:
        return None


def _endpoint_host(endpoint: str) -> str | None:
    if endpoint.startswith("[") and "]:" in endpoint:
        return endpoint[1:].split("]:", 1)[0]
    if endpoint.count(":") == 1:
        return endpoint.split(":", 1)[0]
    return None


def _forwarding_checks(families: set[int], kubernetes_version: str) -> list[Check]:
    minor = major_minor(kubernetes_version, None)
    bridge = minor is not None and minor <= BRIDGE_NF_UNTIL
    checks: list[Check] = []
    for fam, forward in ((4, IPV4_FORWARD), (6, IPV6_FORWARD)):
        if fam in families:
            if bridge:
                checks.append(FileContent(BRIDGE_NF[fam]))
            checks.append(FileContent(forward))
    return checks


def common_checks(f: NodeFacts, kubernetes_version: str) -> list[Check]:
    """``addCommonChecks``: run by init and by join (not again by a joining control plane)."""
    checks: list[Check] = [CRI(f.cri_socket), Swap()]
    minor = major_minor(kubernetes_version, None)
    if minor is not None and minor <= CONNTRACK_UNTIL:
        checks.append(tool_check("conntrack", True))
    checks += [tool_check(t, True) for t in MANDATORY_TOOLS]
    checks += [tool_check(t, False) for t in OPTIONAL_TOOLS]
    checks += [
        SystemVerification(kubernetes_version),
        Hostname(f.node_name),
        KubeletVersion(kubernetes_version),
        Service("kubelet"),
        Port(KUBELET_PORT),
    ]
    return checks


def init_checks(f: NodeFacts, secondary: bool = False) -> list[Check]:
    """``InitNodeChecks``; ``secondary`` for ``join --control-plane`` (common checks already ran)."""
    checks: list[Check] = [
        NumCPU(2),
        Mem(1700),
        KubernetesVersion(f.kubernetes_version),
        Firewalld((f.bind_port, KUBELET_PORT)),
        Port(f.bind_port),
        Port(SCHEDULER_PORT),
        Port(CONTROLLER_MANAGER_PORT),
    ]
    checks += [FileAvailable(f"{MANIFESTS_DIR}/{c}.yaml") for c in CONTROL_PLANE_MANIFESTS]
    checks.append(HTTPProxy(f.advertise_address))
    families: set[int] = set()
    for cidr in [c for c in f.service_subnet.split(",") + f.pod_subnet.split(",") if c.strip()]:
        checks.append(HTTPProxyCIDR(cidr.strip()))
        fam = _cidr_family(cidr)
        if fam:
            families.add(fam)
    if not secondary:
        checks += common_checks(f, f.kubernetes_version)
        fam = _ip_family(f.advertise_address) if f.advertise_address else None
        if fam:
            families.add(fam)
        checks += _forwarding_checks(families, f.kubernetes_version)
        if not f.local_etcd and f.external_etcd.get("endpoints"):
            ext = f.external_etcd
            checks.append(
                ExternalEtcdVersion(
                    tuple(ext.get("endpoints") or ()),
                    str(ext.get("caFile", "")),
                    str(ext.get("certFile", "")),
                    str(ext.get("keyFile", "")),
                    f.kubernetes_version,
                )
            )
    if f.local_etcd:
        checks += [Port(ETCD_CLIENT_PORT), Port(ETCD_PEER_PORT), DirAvailable(f.etcd_data_dir)]
    if not f.local_etcd and not (secondary and f.download_certs):
        for key in ("caFile", "certFile", "keyFile"):
            if f.external_etcd.get(key):
                checks.append(FileExisting(str(f.external_etcd[key]), "ExternalEtcdClientCertificates"))
    return checks


def join_checks(f: NodeFacts, control_plane: bool = False) -> list[Check]:
    """``JoinNodeChecks`` (plus ``InitNodeChecks`` in secondary mode for a control-plane join)."""
    checks: list[Check] = [
        FileAvailable(f"{KUBERNETES_DIR}/{KUBELET_KUBECONFIG}"),
        FileAvailable(f"{KUBERNETES_DIR}/{KUBELET_BOOTSTRAP_KUBECONFIG}"),
    ]
    checks += common_checks(f, "")
    if not control_plane:
        checks.append(FileAvailable(f.ca_cert_path))
    host = _endpoint_host(f.join_endpoint)
    if host is not None:  # like Go's net.SplitHostPort: only "host:port" / "[v6]:port" qualify
        checks.append(HTTPProxy(host))
        fam = _ip_family(host)
        if fam:
            checks += _forwarding_checks({fam}, "")
    if control_plane:
        checks += init_checks(f, secondary=True)
    return checks


def checks_for_role(role: str, facts: NodeFacts) -> list[Check]:
    """The full ordered list for a role; IsPrivilegedUser first (kubeadm runs it on its own first),
    ImagePull last for init and join-control-plane when ``facts.images`` is set."""
    role = ROLE_ALIASES.get(role, role)
    if role == "init":
        body = init_checks(facts)
    elif role == "join":
        body = join_checks(facts)
    elif role == "join-control-plane":
        body = join_checks(facts, control_plane=True)
    elif role == "reset":
        body = []
    else:
        raise ValueError(f"unknown preflight role {role!r}; expected one of {', '.join(ROLES)}")
    if role in IMAGE_PULL_ROLES and facts.images:
        body.append(image_pull_check(facts))
    return [IsPrivilegedUser(), *body]


def image_pull_check(f: NodeFacts) -> ImagePull:
    """``RunPullImagesCheck``: last, after the role's checks."""
    return ImagePull(f.images, f.cri_socket, f.image_pull_policy, f.image_pull_serial, f.sandbox_image)
