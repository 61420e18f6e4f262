"""Host paths, file names and well-known values kubeadm uses (cmd/kubeadm/app/constants)."""

from __future__ import annotations

VERSION = "0.1.0"  # kubeadm-py's own version (kubeadm_py.__version__)

KUBERNETES_DIR = "/etc/kubernetes"
CERTIFICATES_DIR = "/etc/kubernetes/pki"
MANIFESTS_DIR = "/etc/kubernetes/manifests"
TMP_DIR = "/etc/kubernetes/tmp"
KUBELET_DIR = "/var/lib/kubelet"
ETCD_DATA_DIR = "/var/lib/etcd"

ADMIN_KUBECONFIG = "admin.conf"
SUPER_ADMIN_KUBECONFIG = "super-admin.conf"
KUBELET_KUBECONFIG = "kubelet.conf"
KUBELET_BOOTSTRAP_KUBECONFIG = "bootstrap-kubelet.conf"
CONTROLLER_MANAGER_KUBECONFIG = "controller-manager.conf"
SCHEDULER_KUBECONFIG = "scheduler.conf"

KUBELET_CONFIG_FILE = "config.yaml"
KUBELET_FLAGS_ENV = "kubeadm-flags.env"
KUBELET_INSTANCE_CONFIG = "instance-config.yaml"

APISERVER_PORT = 6443
KUBELET_PORT = 10250
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
ETCD_METRICS_PORT = 2381

CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")

# Namespaces and object names written in the cluster.
KUBE_SYSTEM = "kube-system"
KUBE_PUBLIC = "kube-public"
KUBEADM_CONFIG_CONFIGMAP = "kubeadm-config"
KUBELET_CONFIG_CONFIGMAP = "kubelet-config"
CLUSTER_INFO_CONFIGMAP = "cluster-info"
KUBEADM_CERTS_SECRET = "kubeadm-certs"
CLUSTER_CONFIGURATION_KEY = "ClusterConfiguration"

LABEL_CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
LABEL_EXCLUDE_LB = "node.kubernetes.io/exclude-from-external-load-balancers"

NODES_GROUP = "system:nodes"
BOOTSTRAPPERS_GROUP = "system:bootstrappers:kubeadm:default-node-token"
CLUSTER_ADMINS_GROUP = "kubeadm:cluster-admins"
SYSTEM_PRIVILEGED_GROUP = "system:masters"


def host_join(*parts: str) -> str:
    """Join host path parts with '/', tolerating absolute later parts as kubeadm's filepath.Join does not."""
    out = parts[0].rstrip("/")
    for p in parts[1:]:
        out = f"{out}/{p.strip('/')}"
    return out


# Where systemd loads units from, in its order (the administrator's first, then runtime, then packages').
SYSTEMD_UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)
