"""``bootstrap-token``: token Secrets, the RBAC that lets bootstrap tokens join nodes, and the
public ``cluster-info`` ConfigMap (upstream ``phases/bootstraptoken/node`` and ``clusterinfo``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubeadm_py.cluster import rbac
from kubeadm_py.constants import BOOTSTRAPPERS_GROUP, KUBE_PUBLIC, NODES_GROUP
from kubeadm_py.tokens.model import BootstrapToken

Obj = dict[str, Any]
CLUSTER_INFO = "cluster-info"
CLUSTER_INFO_ROLE = "kubeadm:bootstrap-signer-clusterinfo"
GET_NODES = "kubeadm:get-nodes"
KUBELET_BOOTSTRAP = "kubeadm:kubelet-bootstrap"
AUTOAPPROVE_BOOTSTRAP = "kubeadm:node-autoapprove-bootstrap"
AUTOAPPROVE_ROTATION = "kubeadm:node-autoapprove-certificate-rotation"
ANONYMOUS = "system:anonymous"
# kubeadm >= 1.37 (ObjectsProfile.apiserver_kubelet_client_binding; #138957)
APISERVER_KUBELET_CLIENT_BINDING = "kubeadm:apiserver-kubelet-client"
KUBELET_API_ADMIN_ROLE = "system:kubelet-api-admin"
APISERVER_KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"


def token_secrets(tokens: list[BootstrapToken], now: datetime) -> list[Obj]:
    return [t.to_secret(now) for t in tokens]


# (message, objects) in upstream's order; messages are upstream's progress lines ("" prints none).
def node_rbac(version: str = "") -> list[tuple[str, list[Obj]]]:
    """The bootstrap-token RBAC for ``version`` (empty: the newest profile)."""
    from kubeadm_py.versioned import profile_for

    extra: list[tuple[str, list[Obj]]] = []
    if profile_for(version).apiserver_kubelet_client_binding:
        # Upstream's progress line for this step is not in the stored sources: none is printed.
        extra.append(
            (
                "",
                [
                    rbac.cluster_role_binding(
                        APISERVER_KUBELET_CLIENT_BINDING,
                        KUBELET_API_ADMIN_ROLE,
                        [rbac.user(APISERVER_KUBELET_CLIENT_USER)],
                    )
                ],
            )
        )
    return _node_bootstrap_rbac() + extra


def _node_bootstrap_rbac() -> list[tuple[str, list[Obj]]]:
    return [
        (
            "Configured RBAC rules to allow Node Bootstrap tokens to get nodes",
            [
                rbac.cluster_role(GET_NODES, [rbac.rule(["get"], ["nodes"])]),
                rbac.cluster_role_binding(GET_NODES, GET_NODES, [rbac.group(BOOTSTRAPPERS_GROUP)]),
            ],
        ),
        (
            "Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get "
            "long term certificate credentials",
            [
                rbac.cluster_role_binding(
                    KUBELET_BOOTSTRAP, "system:node-bootstrapper", [rbac.group(BOOTSTRAPPERS_GROUP)]
                )
            ],
        ),
        (
            "Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a "
            "Node Bootstrap Token",
            [
                rbac.cluster_role_binding(
                    AUTOAPPROVE_BOOTSTRAP,
                    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                    [rbac.group(BOOTSTRAPPERS_GROUP)],
                )
            ],
        ),
        (
            "Configured RBAC rules to allow certificate rotation for all node client certificates in the "
            "cluster",
            [
                rbac.cluster_role_binding(
                    AUTOAPPROVE_ROTATION,
                    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                    [rbac.group(NODES_GROUP)],
                )
            ],
        ),
    ]


def cluster_info_configmap(kubeconfig: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CLUSTER_INFO, "namespace": KUBE_PUBLIC},
        "data": {"kubeconfig": kubeconfig},
    }


def cluster_info_rbac() -> list[Obj]:
    return [
        rbac.role(CLUSTER_INFO_ROLE, KUBE_PUBLIC, [rbac.rule(["get"], ["configmaps"], names=[CLUSTER_INFO])]),
        rbac.role_binding(CLUSTER_INFO_ROLE, KUBE_PUBLIC, CLUSTER_INFO_ROLE, [rbac.user(ANONYMOUS)]),
    ]
