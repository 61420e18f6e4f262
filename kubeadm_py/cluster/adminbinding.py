"""The ``kubeadm:cluster-admins`` ClusterRoleBinding (kubeadm v1.29+).

Since v1.29 admin.conf authenticates as group ``kubeadm:cluster-admins`` instead of
``system:masters``; init binds that group to ``cluster-admin`` before using admin.conf, falling
back to super-admin.conf (``system:masters``) when admin.conf is not yet allowed to create the
binding (upstream ``phases/kubeconfig.EnsureAdminClusterRoleBinding``)."""

from __future__ import annotations

from collections.abc import Callable

from kubeadm_py.constants import CLUSTER_ADMINS_GROUP
from kubeadm_py.kube.client import ForbiddenError, KubeClient
from kubeadm_py.kubeconfig.specs import SUPER_ADMIN_SINCE
from kubeadm_py.semver import major_minor

BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRoleBinding",
    "metadata": {"name": CLUSTER_ADMINS_GROUP},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": CLUSTER_ADMINS_GROUP}],
}


def needed(version: str) -> bool:
    return major_minor(version) >= SUPER_ADMIN_SINCE


def ensure_admin_binding(
    client: KubeClient, version: str, super_admin: Callable[[], KubeClient], log: Callable[[str], None]
) -> None:
    """Make sure admin.conf's group is bound to cluster-admin; a no-op before v1.29.
    ``super_admin`` builds the super-admin.conf client, used when admin.conf may not do it yet."""
    if not needed(version):
        return
    try:
        client.apply(BINDING)
        return
    except ForbiddenError:
        pass
    log(
        f"[kubeconfig] admin.conf may not create the {CLUSTER_ADMINS_GROUP} binding yet; "
        "using super-admin.conf"
    )
    super_admin().apply(BINDING)
