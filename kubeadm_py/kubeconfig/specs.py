"""The kubeconfig table (upstream ``phases/kubeconfig/kubeconfig.go`` getKubeConfigSpecsBase)."""

from __future__ import annotations

from dataclasses import dataclass

from kubeadm_py import constants as C

LOCAL = "local"  # https://<advertiseAddress>:<bindPort>
CONTROL_PLANE = "control-plane"  # https://<controlPlaneEndpoint>, else the local endpoint
# kubelet.conf: LOCAL under ControlPlaneKubeletLocalMode (on by default from v1.33), else
# CONTROL_PLANE (kubeadm_py.versioned.ObjectsProfile.kubelet_conf_local; build.endpoint).
KUBELET = "kubelet"

_FLAGS = (
    "apiserver-advertise-address",
    "apiserver-bind-port",
    "cert-dir",
    "config",
    "control-plane-endpoint",
    "dry-run",
    "kubeconfig-dir",
    "kubernetes-version",
)


@dataclass(frozen=True)
class KubeconfigSpec:
    name: str  # phase name
    file: str  # file name under the kubeconfig dir
    help: str
    client: str  # client certificate CN = user name; "{node}" is the node name
    orgs: tuple[str, ...]
    endpoint: str  # LOCAL, CONTROL_PLANE or KUBELET
    renewable: bool  # `certs renew <file>` target (kubelet.conf is rotated by the kubelet)
    join: bool  # written by a joining control plane
    flags: tuple[str, ...] = _FLAGS
    # Versioned facts: the first Kubernetes minor that has this file, and the organisations the
    # client certificate had before a given minor ((minor, orgs) pairs, oldest first).
    since: tuple[int, int] | None = None
    orgs_before: tuple[tuple[tuple[int, int], tuple[str, ...]], ...] = ()

    def client_name(self, node_name: str) -> str:
        return self.client.replace("{node}", node_name)

    def applies_to(self, version: str) -> bool:
        return self.since is None or _minor(version) >= self.since

    def orgs_for(self, version: str) -> tuple[str, ...]:
        minor = _minor(version)
        for before, orgs in self.orgs_before:
            if minor < before:
                return orgs
        return self.orgs


def _minor(version: str) -> tuple[int, int]:
    from kubeadm_py.versions import minor_of

    return minor_of(version)


# kubeadm v1.29 moved admin.conf from system:masters to kubeadm:cluster-admins (bound to
# cluster-admin by a ClusterRoleBinding) and added super-admin.conf for system:masters.
SUPER_ADMIN_SINCE = (1, 29)


KUBECONFIGS: tuple[KubeconfigSpec, ...] = (
    KubeconfigSpec(
        "admin",
        C.ADMIN_KUBECONFIG,
        "Generate a kubeconfig file for the admin to use and for kubeadm itself",
        "kubernetes-admin",
        (C.CLUSTER_ADMINS_GROUP,),
        CONTROL_PLANE,
        True,
        True,
        orgs_before=((SUPER_ADMIN_SINCE, (C.SYSTEM_PRIVILEGED_GROUP,)),),
    ),
    KubeconfigSpec(
        "super-admin",
        C.SUPER_ADMIN_KUBECONFIG,
        "Generate a kubeconfig file for the super-admin (group system:masters)",
        "kubernetes-super-admin",
        (C.SYSTEM_PRIVILEGED_GROUP,),
        CONTROL_PLANE,
        True,
        False,
        since=SUPER_ADMIN_SINCE,
    ),
    KubeconfigSpec(
        "kubelet",
        C.KUBELET_KUBECONFIG,
        "Generate a kubeconfig file for the kubelet to use *only* for cluster bootstrapping purposes",
        "system:node:{node}",
        (C.NODES_GROUP,),
        KUBELET,
        False,
        False,
        flags=(*_FLAGS, "node-name"),
    ),
    KubeconfigSpec(
        "controller-manager",
        C.CONTROLLER_MANAGER_KUBECONFIG,
        "Generate a kubeconfig file for the controller manager to use",
        "system:kube-controller-manager",
        (),
        LOCAL,
        True,
        True,
    ),
    KubeconfigSpec(
        "scheduler",
        C.SCHEDULER_KUBECONFIG,
        "Generate a kubeconfig file for the scheduler to use",
        "system:kube-scheduler",
        (),
        LOCAL,
        True,
        True,
    ),
)

BY_NAME = {k.name: k for k in KUBECONFIGS}
BY_FILE = {k.file: k for k in KUBECONFIGS}


def get(name: str) -> KubeconfigSpec:
    spec = BY_NAME.get(name) or BY_FILE.get(name)
    if spec is None:
        from kubeadm_py.errors import KubeadmError

        raise KubeadmError(f"unknown kubeconfig {name!r}", hint=f"known: {', '.join(BY_NAME)}")
    return spec


def join_names() -> tuple[str, ...]:
    return tuple(k.name for k in KUBECONFIGS if k.join)
