"""The certificate table (upstream ``phases/certs/certlist.go``), in upstream order.

Every consumer — the ``certs`` phase children, join's node-specific subset, ``certs renew``,
``check-expiration``, ``generate-csr`` and docs/pki.md — derives from :data:`CERTS`."""

from __future__ import annotations

from dataclasses import dataclass

from kubeadm_py.constants import CLUSTER_ADMINS_GROUP, SYSTEM_PRIVILEGED_GROUP

SERVER_AUTH = "serverAuth"
CLIENT_AUTH = "clientAuth"

# Flags every certificate phase inherits (upstream getCertPhaseFlags), plus the apiserver extras.
_CERT_FLAGS = ("cert-dir", "config", "dry-run", "kubernetes-version")
_APISERVER_FLAGS = (
    "apiserver-advertise-address",
    "apiserver-cert-extra-sans",
    "cert-dir",
    "config",
    "control-plane-endpoint",
    "dry-run",
    "kubernetes-version",
    "service-cidr",
    "service-dns-domain",
)


@dataclass(frozen=True)
class CertSpec:
    name: str  # phase / renew name
    help: str
    base: str  # file base name under certDir: "<base>.crt" and "<base>.key"
    ca: str | None  # name of the signing CA; None for a self-signed CA
    cn: str | None  # Subject CN; None = the node name
    orgs: tuple[str, ...] = ()
    ekus: tuple[str, ...] = ()
    sans: str | None = None  # SAN rule in kubeadm_py.pki.sans.RULES
    etcd: bool = False  # dropped with external etcd
    node_specific: bool = False  # written by a joining control plane (the rest are shared)
    flags: tuple[str, ...] = _CERT_FLAGS
    # Organizations of older minors: ((major, minor) before which they apply, orgs), ascending.
    orgs_before: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = ()

    def orgs_for(self, version: str | None) -> tuple[str, ...]:
        """Subject O for a cluster of ``version`` (empty: the default version)."""
        if not self.orgs_before:
            return self.orgs
        from kubeadm_py.versions import minor_of

        minor = minor_of(version)
        for before, orgs in self.orgs_before:
            if minor < before:
                return orgs
        return self.orgs

    @property
    def is_ca(self) -> bool:
        return self.ca is None

    @property
    def cert_file(self) -> str:
        return f"{self.base}.crt"

    @property
    def key_file(self) -> str:
        return f"{self.base}.key"


# Before v1.29 (kubeadm:cluster-admins), these client certificates carried O=system:masters
# (phases/certs/certlist.go of v1.20; checked against the reference kubeadm v1.20.2's output).
OrgsBefore = tuple[tuple[tuple[int, int], tuple[str, ...]], ...]
_MASTERS_BEFORE_1_29: OrgsBefore = (((1, 29), (SYSTEM_PRIVILEGED_GROUP,)),)

CERTS: tuple[CertSpec, ...] = (
    CertSpec(
        "ca",
        "Generate the self-signed Kubernetes CA to provision identities for other Kubernetes components",
        "ca",
        None,
        "kubernetes",
        sans="ca",
    ),
    CertSpec(
        "apiserver",
        "Generate the certificate for serving the Kubernetes API",
        "apiserver",
        "ca",
        "kube-apiserver",
        ekus=(SERVER_AUTH,),
        sans="apiserver",
        node_specific=True,
        flags=_APISERVER_FLAGS,
    ),
    CertSpec(
        "apiserver-kubelet-client",
        "Generate the certificate for the API server to connect to kubelet",
        "apiserver-kubelet-client",
        "ca",
        "kube-apiserver-kubelet-client",
        # v1.37 (#138957): no organization; init binds the user to system:kubelet-api-admin instead
        # (ClusterRoleBinding kubeadm:apiserver-kubelet-client, kubeadm_py/versioned.py).
        ekus=(CLIENT_AUTH,),
        node_specific=True,
        orgs_before=(((1, 29), (SYSTEM_PRIVILEGED_GROUP,)), ((1, 37), (CLUSTER_ADMINS_GROUP,))),
    ),
    CertSpec(
        "front-proxy-ca",
        "Generate the self-signed CA to provision identities for front proxy",
        "front-proxy-ca",
        None,
        "front-proxy-ca",
        sans="ca",
    ),
    CertSpec(
        "front-proxy-client",
        "Generate the certificate for the front proxy client",
        "front-proxy-client",
        "front-proxy-ca",
        "front-proxy-client",
        ekus=(CLIENT_AUTH,),
        node_specific=True,
    ),
    CertSpec(
        "etcd-ca",
        "Generate the self-signed CA to provision identities for etcd",
        "etcd/ca",
        None,
        "etcd-ca",
        sans="ca",
        etcd=True,
    ),
    CertSpec(
        "etcd-server",
        "Generate the certificate for serving etcd",
        "etcd/server",
        "etcd-ca",
        None,
        ekus=(SERVER_AUTH, CLIENT_AUTH),
        sans="etcd-server",
        etcd=True,
        node_specific=True,
    ),
    CertSpec(
        "etcd-peer",
        "Generate the certificate for etcd nodes to communicate with each other",
        "etcd/peer",
        "etcd-ca",
        None,
        ekus=(SERVER_AUTH, CLIENT_AUTH),
        sans="etcd-peer",
        etcd=True,
        node_specific=True,
    ),
    CertSpec(
        "etcd-healthcheck-client",
        "Generate the certificate for liveness probes to healthcheck etcd",
        "etcd/healthcheck-client",
        "etcd-ca",
        "kube-etcd-healthcheck-client",
        ekus=(CLIENT_AUTH,),
        etcd=True,
        node_specific=True,
        orgs_before=_MASTERS_BEFORE_1_29,
    ),
    CertSpec(
        "apiserver-etcd-client",
        "Generate the certificate the apiserver uses to access etcd",
        "apiserver-etcd-client",
        "etcd-ca",
        "kube-apiserver-etcd-client",
        ekus=(CLIENT_AUTH,),
        etcd=True,
        node_specific=True,
        orgs_before=_MASTERS_BEFORE_1_29,
    ),
)

BY_NAME: dict[str, CertSpec] = {c.name: c for c in CERTS}

# The service-account signing key pair (not a certificate).
SA_NAME = "sa"
SA_KEY = "sa.key"
SA_PUB = "sa.pub"
SA_HELP = "Generate a private key for signing service account tokens along with its public key"
SA_FLAGS = ("cert-dir", "config", "dry-run")


def get(name: str) -> CertSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        from kubeadm_py.errors import KubeadmError

        raise KubeadmError(f"unknown certificate {name!r}", hint=f"known: {', '.join(BY_NAME)}") from None


def cert_list(local_etcd: bool = True, names: tuple[str, ...] | list[str] | None = None) -> list[CertSpec]:
    """Certificates in upstream order, without the etcd ones for external etcd, optionally
    restricted to ``names``."""
    out = [c for c in CERTS if local_etcd or not c.etcd]
    if names is not None:
        wanted = set(names)
        unknown = wanted - set(BY_NAME) - {SA_NAME}
        if unknown:
            from kubeadm_py.errors import KubeadmError

            raise KubeadmError(f"unknown certificate(s): {', '.join(sorted(unknown))}")
        out = [c for c in out if c.name in wanted]
    return out


def node_specific_names(local_etcd: bool = True) -> tuple[str, ...]:
    """What a joining control plane writes itself (the CAs and sa come from the cluster)."""
    return tuple(c.name for c in cert_list(local_etcd) if c.node_specific)


def leaves_of(ca_name: str) -> list[CertSpec]:
    return [c for c in CERTS if c.ca == ca_name]
