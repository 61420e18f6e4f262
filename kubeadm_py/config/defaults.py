"""Defaulting of v1beta4 documents (dicts, mutated in place).

Static defaults follow upstream ``apis/kubeadm/v1beta4/defaults.go`` and
``apis/bootstraptoken/v1/defaults.go``; dynamic defaults follow ``util/config``'s
``SetInitDynamicDefaults`` / ``SetJoinDynamicDefaults`` (node name, advertise address, CRI socket,
control-plane taint, random bootstrap token, resolved Kubernetes version)."""

from __future__ import annotations

import secrets
import string
from typing import Any, Protocol

from kubeadm_py.config.hostinfo import DEFAULT_CRI_SOCKET
from kubeadm_py.config.types import V1BETA4, TimeoutKey
from kubeadm_py.config.types import sub_doc as _sub
from kubeadm_py.durations import normalize_duration
from kubeadm_py.errors import ConfigError, KubeadmError
from kubeadm_py.versions import DEFAULT_KUBERNETES_VERSION, normalize_version

Doc = dict[str, Any]

# Static defaults (defaults.go / constants.go).
DEFAULT_SERVICE_SUBNET = "10.96.0.0/12"
DEFAULT_DNS_DOMAIN = "cluster.local"
DEFAULT_CERTIFICATES_DIR = "/etc/kubernetes/pki"
DEFAULT_IMAGE_REPOSITORY = "registry.k8s.io"
DEFAULT_CLUSTER_NAME = "kubernetes"
DEFAULT_ETCD_DATA_DIR = "/var/lib/etcd"
DEFAULT_CA_CERT_PATH = "/etc/kubernetes/pki/ca.crt"
DEFAULT_BIND_PORT = 6443
DEFAULT_IMAGE_PULL_POLICY = "IfNotPresent"
DEFAULT_ENCRYPTION_ALGORITHM = "RSA-2048"
DEFAULT_CERT_VALIDITY = "8760h0m0s"
DEFAULT_CA_CERT_VALIDITY = "87600h0m0s"
DEFAULT_TOKEN_TTL = "24h0m0s"
DEFAULT_TOKEN_USAGES = ("signing", "authentication")
DEFAULT_TOKEN_GROUPS = ("system:bootstrappers:kubeadm:default-node-token",)
DEFAULT_TIMEOUTS: dict[TimeoutKey, str] = {
    "controlPlaneComponentHealthCheck": "4m0s",
    "kubeletHealthCheck": "4m0s",
    "kubernetesAPICall": "1m0s",
    "etcdAPICall": "2m0s",
    "tlsBootstrap": "5m0s",
    "discovery": "5m0s",
    "upgradeManifests": "5m0s",
}
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}

# Placeholders used by `config print init-defaults/join-defaults` (upstream cmd/config.go).
PLACEHOLDER_TOKEN = "abcdef.0123456789abcdef"
PLACEHOLDER_ADVERTISE_ADDRESS = "1.2.3.4"
PLACEHOLDER_NODE_NAME = "node"
PLACEHOLDER_API_SERVER_ENDPOINT = "kube-apiserver:6443"


def static_kubernetes_version() -> str:
    """What upstream prints as the default: the tool's own version, without a leading v."""
    return DEFAULT_KUBERNETES_VERSION.removeprefix("v")


class Probe(Protocol):
    warnings: list[str]

    def hostname(self) -> str: ...
    def advertise_address(self) -> str: ...
    def cri_socket(self) -> str: ...




def _durations(owner: Doc | None, keys: list[str] | tuple[str, ...]) -> None:
    if not isinstance(owner, dict):
        return
    for key in keys:
        if isinstance(owner.get(key), str):
            owner[key] = normalize_duration(owner[key], key)


def default_timeouts(doc: Doc) -> None:
    timeouts = _sub(doc, "timeouts")
    for key, value in DEFAULT_TIMEOUTS.items():
        timeouts.setdefault(key, value)
    _durations(timeouts, list(DEFAULT_TIMEOUTS))


def default_node_registration(doc: Doc) -> None:
    nr = _sub(doc, "nodeRegistration")
    if not nr.get("imagePullPolicy"):  # "" is defaulted too (upstream ValidateImagePullPolicy)
        nr["imagePullPolicy"] = DEFAULT_IMAGE_PULL_POLICY
    nr.setdefault("imagePullSerial", True)
    nr.setdefault("taints", None)  # nil: control-plane nodes get the control-plane taint at run time


def default_cluster(doc: Doc) -> None:
    doc.setdefault("apiVersion", V1BETA4)
    doc.setdefault("kind", "ClusterConfiguration")
    if not doc.get("kubernetesVersion"):
        doc["kubernetesVersion"] = static_kubernetes_version()
    net = _sub(doc, "networking")
    net.setdefault("serviceSubnet", DEFAULT_SERVICE_SUBNET)
    net.setdefault("dnsDomain", DEFAULT_DNS_DOMAIN)
    for key, value in (
        ("certificatesDir", DEFAULT_CERTIFICATES_DIR),
        ("imageRepository", DEFAULT_IMAGE_REPOSITORY),
        ("clusterName", DEFAULT_CLUSTER_NAME),
        ("encryptionAlgorithm", DEFAULT_ENCRYPTION_ALGORITHM),
        ("certificateValidityPeriod", DEFAULT_CERT_VALIDITY),
        ("caCertificateValidityPeriod", DEFAULT_CA_CERT_VALIDITY),
    ):
        if not doc.get(key):
            doc[key] = value
    _durations(doc, ["certificateValidityPeriod", "caCertificateValidityPeriod"])
    for key in ("apiServer", "controllerManager", "scheduler", "dns", "proxy"):
        _sub(doc, key)
    # Upstream LowercaseSANs (SetClusterDynamicDefaults): some DNS names (ELBs) have capitals.
    sans = doc["apiServer"].get("certSANs")
    if isinstance(sans, list):
        doc["apiServer"]["certSANs"] = [s.lower() if isinstance(s, str) else s for s in sans]
    etcd = _sub(doc, "etcd")
    if etcd.get("local") is None and etcd.get("external") is None:
        etcd["local"] = {}
    if isinstance(etcd.get("local"), dict) and not etcd["local"].get("dataDir"):
        etcd["local"]["dataDir"] = DEFAULT_ETCD_DATA_DIR
    # The deprecated PublicKeysECDSA gate wins over encryptionAlgorithm, as in upstream's
    # ClusterConfiguration.EncryptionAlgorithmType().
    gate = (doc.get("featureGates") or {}).get("PublicKeysECDSA")
    if gate is not None:
        doc["encryptionAlgorithm"] = "ECDSA-P256" if gate else DEFAULT_ENCRYPTION_ALGORITHM


def default_bootstrap_token(token: Doc) -> None:
    if token.get("ttl") is None and token.get("expires") is None:  # expires and ttl exclude each other
        token["ttl"] = DEFAULT_TOKEN_TTL
    _durations(token, ["ttl"])
    if not token.get("usages"):
        token["usages"] = list(DEFAULT_TOKEN_USAGES)
    if not token.get("groups"):
        token["groups"] = list(DEFAULT_TOKEN_GROUPS)


def default_init(doc: Doc) -> None:
    doc.setdefault("apiVersion", V1BETA4)
    doc.setdefault("kind", "InitConfiguration")
    if not doc.get("bootstrapTokens"):
        doc["bootstrapTokens"] = [{}]
    for token in doc["bootstrapTokens"]:
        default_bootstrap_token(token)
    endpoint = _sub(doc, "localAPIEndpoint")
    if not endpoint.get("bindPort"):
        endpoint["bindPort"] = DEFAULT_BIND_PORT
    default_node_registration(doc)
    default_timeouts(doc)


def default_join(doc: Doc) -> None:
    doc.setdefault("apiVersion", V1BETA4)
    doc.setdefault("kind", "JoinConfiguration")
    if not doc.get("caCertPath"):
        doc["caCertPath"] = DEFAULT_CA_CERT_PATH
    cp = doc.get("controlPlane")
    if isinstance(cp, dict):
        endpoint = _sub(cp, "localAPIEndpoint")
        if not endpoint.get("bindPort"):
            endpoint["bindPort"] = DEFAULT_BIND_PORT
    disc = _sub(doc, "discovery")
    token = disc.get("bootstrapToken")
    if not disc.get("tlsBootstrapToken") and isinstance(token, dict) and token.get("token"):
        disc["tlsBootstrapToken"] = token["token"]
    file = disc.get("file")
    if isinstance(file, dict) and isinstance(file.get("kubeConfigPath"), str):
        path = file["kubeConfigPath"]
        if path.startswith("file://"):
            from urllib.parse import urlparse

            file["kubeConfigPath"] = urlparse(path).path
    default_node_registration(doc)
    default_timeouts(doc)


def default_reset(doc: Doc) -> None:
    doc.setdefault("apiVersion", V1BETA4)
    doc.setdefault("kind", "ResetConfiguration")
    if not doc.get("certificatesDir"):
        doc["certificatesDir"] = DEFAULT_CERTIFICATES_DIR
    default_timeouts(doc)


def default_upgrade(doc: Doc) -> None:
    doc.setdefault("apiVersion", V1BETA4)
    doc.setdefault("kind", "UpgradeConfiguration")
    for section in ("apply", "node"):
        s = _sub(doc, section)
        s.setdefault("etcdUpgrade", True)
        s.setdefault("certificateRenewal", True)
        if not s.get("imagePullPolicy"):
            s["imagePullPolicy"] = DEFAULT_IMAGE_PULL_POLICY
        s.setdefault("imagePullSerial", True)
    _sub(doc, "diff")
    _sub(doc, "plan").setdefault("etcdUpgrade", True)
    default_timeouts(doc)


STATIC_DEFAULTERS = {
    "ClusterConfiguration": default_cluster,
    "InitConfiguration": default_init,
    "JoinConfiguration": default_join,
    "ResetConfiguration": default_reset,
    "UpgradeConfiguration": default_upgrade,
}


# --- dynamic defaults -------------------------------------------------------------------------


def random_token() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return (
        "".join(secrets.choice(alphabet) for _ in range(6))
        + "."
        + "".join(secrets.choice(alphabet) for _ in range(16))
    )


def resolve_kubernetes_version(version: str) -> str:
    """Offline version resolution: add the leading ``v``; a bare minor (``1.20``) becomes that
    minor's default patch from :mod:`kubeadm_py.versions`."""
    try:
        return normalize_version(version)
    except KubeadmError as e:
        raise ConfigError(e.message, field="kubernetesVersion", hint=e.hint) from None


def fix_cri_socket(owner: Doc, key: str, warnings: list[str], where: str) -> None:
    value = owner.get(key)
    if isinstance(value, str) and value and "://" not in value:
        owner[key] = "unix://" + value
        warnings.append(
            f"{where}: {key} {value!r} has no URL scheme; using {owner[key]!r} "
            "(a scheme-less socket path is deprecated)"
        )


def dynamic_cluster(doc: Doc) -> None:
    doc["kubernetesVersion"] = resolve_kubernetes_version(str(doc.get("kubernetesVersion") or ""))


def _default_taints(version: str) -> list[Doc]:
    """The control-plane taints kubeadm registers by default for ``version`` (``master`` before
    v1.24, both during the rename, ``control-plane`` after)."""
    if not version:
        return [dict(CONTROL_PLANE_TAINT)]
    from kubeadm_py.versioned import profile_for

    return [dict(t) for t in profile_for(version).default_taints]


def default_control_plane_taints(node_registration: Doc, version: str) -> None:
    """A control-plane node's nil ``taints`` become the default taints of ``version``; a list
    (``[]`` included) is the user's and stays. Upstream SetNodeRegistrationDynamicDefaults uses the
    kubeadm binary's constant; kubeadm-py's equivalent is the cluster's kubernetesVersion: init's
    own, and for ``join --control-plane`` the one in kubeadm-config (``phases/join/data.py``
    ``ensure_cluster_config``)."""
    if node_registration.get("taints") is None:
        node_registration["taints"] = _default_taints(version)


def _dynamic_node_registration(doc: Doc, probe: Probe) -> Doc:
    nr = _sub(doc, "nodeRegistration")
    if not nr.get("name"):
        nr["name"] = probe.hostname().lower()
    if not nr.get("criSocket"):
        nr["criSocket"] = probe.cri_socket()
    return nr


def dynamic_init(doc: Doc, probe: Probe, version: str = "") -> None:
    default_control_plane_taints(_dynamic_node_registration(doc, probe), version)
    endpoint = _sub(doc, "localAPIEndpoint")
    if not endpoint.get("advertiseAddress"):
        endpoint["advertiseAddress"] = probe.advertise_address()
    for token in doc.get("bootstrapTokens") or []:
        if not token.get("token"):
            token["token"] = random_token()


def dynamic_join(doc: Doc, probe: Probe) -> None:
    """Name and CRI socket. A control-plane join's default taints wait for the cluster's version
    (:func:`default_control_plane_taints` once kubeadm-config is read): this run's local
    kubernetesVersion is kubeadm-py's default, not the cluster's."""
    cp = doc.get("controlPlane")
    _dynamic_node_registration(doc, probe)
    if isinstance(cp, dict):
        endpoint = _sub(cp, "localAPIEndpoint")
        if not endpoint.get("advertiseAddress"):
            endpoint["advertiseAddress"] = probe.advertise_address()


def dynamic_reset(doc: Doc, probe: Probe) -> None:
    if not doc.get("criSocket"):
        doc["criSocket"] = probe.cri_socket()


def static_cri_socket(doc: Doc, kind: str) -> None:
    """Without dynamic defaults the CRI socket still needs a value phases can use."""
    owner = doc if kind == "ResetConfiguration" else _sub(doc, "nodeRegistration")
    if not owner.get("criSocket"):
        owner["criSocket"] = DEFAULT_CRI_SOCKET
