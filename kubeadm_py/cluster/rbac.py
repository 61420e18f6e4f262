"""RBAC object builders (rbac.authorization.k8s.io/v1), shaped as kubeadm's Go structs serialise."""

from __future__ import annotations

from typing import Any

RBAC_API = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = "rbac.authorization.k8s.io"
Obj = dict[str, Any]


def rule(
    verbs: list[str], resources: list[str], *, groups: tuple[str, ...] = ("",), names: list[str] | None = None
) -> Obj:
    r: Obj = {"verbs": verbs, "apiGroups": list(groups), "resources": resources}
    if names:
        r["resourceNames"] = names
    return r


def role(name: str, namespace: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": RBAC_API,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": rules,
    }


def cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}


# Subjects as kubeadm's Go structs send them: no apiGroup (the API server defaults it for User/Group).
def group(name: str) -> Obj:
    return {"kind": "Group", "name": name}


def user(name: str) -> Obj:
    return {"kind": "User", "name": name}


def service_account(name: str, namespace: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def role_binding(name: str, namespace: str, role_name: str, subjects: list[Obj]) -> Obj:
    return {
        "apiVersion": RBAC_API,
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": role_name},
        "subjects": subjects,
    }


def cluster_role_binding(name: str, cluster_role_name: str, subjects: list[Obj]) -> Obj:
    return {
        "apiVersion": RBAC_API,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": cluster_role_name},
        "subjects": subjects,
    }
