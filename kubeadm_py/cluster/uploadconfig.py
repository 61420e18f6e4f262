"""``upload-config``: the ``kubeadm-config`` and ``kubelet-config`` ConfigMaps and their RBAC
(upstream ``phases/uploadconfig/uploadconfig.go`` and ``phases/kubelet/config.go``)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

from kubeadm_py import goyaml
from kubeadm_py.cluster import rbac
from kubeadm_py.config.types import V1BETA4, KubeadmConfig
from kubeadm_py.constants import BOOTSTRAPPERS_GROUP, KUBE_SYSTEM, NODES_GROUP
from kubeadm_py.versioned import kubelet_config_name, kubelet_config_role

Obj = dict[str, Any]
KUBEADM_CONFIG = "kubeadm-config"
NODES_KUBEADM_CONFIG_ROLE = "kubeadm:nodes-kubeadm-config"
HASH_ANNOTATION = "kubeadm.kubernetes.io/component-config.hash"
CRI_SOCKET_ANNOTATION = "kubeadm.alpha.kubernetes.io/cri-socket"


def marshal(doc: Obj) -> str:
    """YAML as sigs.k8s.io/yaml writes it: keys sorted at every level, block style, go-yaml's quoting."""
    return goyaml.dump(doc)


def cluster_configuration_yaml(cluster: Obj) -> str:
    """The ClusterConfiguration as stored in ``kubeadm-config``: v1beta4, no component configs."""
    doc = copy.deepcopy(cluster)
    doc.pop("componentConfigs", None)
    doc["apiVersion"] = V1BETA4
    doc["kind"] = "ClusterConfiguration"
    return marshal(doc)


def kubeadm_config_objects(cluster: Obj) -> list[Obj]:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": KUBEADM_CONFIG, "namespace": KUBE_SYSTEM},
        "data": {"ClusterConfiguration": cluster_configuration_yaml(cluster)},
    }
    role = rbac.role(
        NODES_KUBEADM_CONFIG_ROLE,
        KUBE_SYSTEM,
        [rbac.rule(["get"], ["configmaps"], names=[KUBEADM_CONFIG])],
    )
    binding = rbac.role_binding(
        NODES_KUBEADM_CONFIG_ROLE,
        KUBE_SYSTEM,
        NODES_KUBEADM_CONFIG_ROLE,
        [rbac.group(BOOTSTRAPPERS_GROUP), rbac.group(NODES_GROUP)],
    )
    return [cm, role, binding]


def config_hash(cm: Obj) -> str:
    """componentconfigs.ChecksumForConfigMap: sha256 over data values (sorted keys), then binaryData."""
    h = hashlib.sha256()
    for k in sorted(cm.get("data") or {}):
        h.update(str(cm["data"][k]).encode())
    for k in sorted(cm.get("binaryData") or {}):
        h.update(
            cm["binaryData"][k]
            if isinstance(cm["binaryData"][k], bytes)
            else str(cm["binaryData"][k]).encode()
        )
    return f"sha256:{h.hexdigest()}"


def sign_config_map(cm: Obj) -> Obj:
    cm.setdefault("metadata", {}).setdefault("annotations", {})[HASH_ANNOTATION] = config_hash(cm)
    return cm


def kubelet_config_objects(kubelet: Obj, version: str, *, user_supplied: bool) -> list[Obj]:
    name = kubelet_config_name(version)
    role_name = kubelet_config_role(version)
    cm: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": KUBE_SYSTEM},
        "data": {"kubelet": marshal(kubelet)},
    }
    if not user_supplied:
        sign_config_map(cm)
    role = rbac.role(role_name, KUBE_SYSTEM, [rbac.rule(["get"], ["configmaps"], names=[name])])
    binding = rbac.role_binding(
        role_name, KUBE_SYSTEM, role_name, [rbac.group(NODES_GROUP), rbac.group(BOOTSTRAPPERS_GROUP)]
    )
    return [cm, role, binding]


def kubelet_configuration(
    cfg: KubeadmConfig, *, systemd_resolved: bool = False, warn: Callable[[str], None] | None = None
) -> tuple[Obj, bool]:
    """(the cluster-wide KubeletConfiguration, whether the user supplied it): the same document
    ``kubelet-start`` writes to /var/lib/kubelet/config.yaml (``systemd_resolved``: the node runs
    systemd-resolved)."""
    from kubeadm_py.kubelet.config import cluster_kubelet_config

    return cluster_kubelet_config(cfg, systemd_resolved=systemd_resolved, warn=warn), cfg.kubelet is not None
