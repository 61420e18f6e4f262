"""kubeadm configuration documents for test-bed nodes."""

from __future__ import annotations

#: kube-proxy in a node's own network namespace cannot set the global conntrack sysctls
#: (nf_conntrack_max: permission denied -> CrashLoopBackOff); leave them alone, as kind does.
KUBE_PROXY_CONFIG = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
"""

KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
"""


def init_config_v1beta2(
    address: str,
    node_name: str,
    kubernetes_version: str = "v1.20.2",
    image_repository: str = "k8s.gcr.io",
    cri_socket: str = "/run/containerd/containerd.sock",
    bind_port: int = 6443,
    service_subnet: str = "10.96.0.0/12",
    pod_subnet: str | None = None,
    control_plane_endpoint: str | None = None,
    extra_cluster_yaml: str = "",
    kube_proxy_config: bool = True,
) -> str:
    """InitConfiguration + ClusterConfiguration (kubeadm.k8s.io/v1beta2, what kubeadm v1.20 reads)
    + a KubeletConfiguration with the settings this machine needs (cgroupfs, failSwapOn false)
    + (``kube_proxy_config``) a KubeProxyConfiguration that leaves the conntrack sysctls alone."""
    net = f"  serviceSubnet: {service_subnet}\n"
    if pod_subnet:
        net += f"  podSubnet: {pod_subnet}\n"
    cpe = f"controlPlaneEndpoint: {control_plane_endpoint}\n" if control_plane_endpoint else ""
    return f"""apiVersion: kubeadm.k8s.io/v1beta2
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {address}
  bindPort: {bind_port}
nodeRegistration:
  name: {node_name}
  criSocket: {cri_socket}
---
apiVersion: kubeadm.k8s.io/v1beta2
kind: ClusterConfiguration
kubernetesVersion: {kubernetes_version}
imageRepository: {image_repository}
{cpe}networking:
{net}{extra_cluster_yaml}---
{KUBELET_CONFIG}""" + ("---\n" + KUBE_PROXY_CONFIG if kube_proxy_config else "")


def init_config_v1beta4(
    address: str,
    node_name: str,
    token: str | None = None,
    description: str | None = None,
    kubernetes_version: str = "v1.20.2",
    control_plane_endpoint: str | None = None,
    pod_subnet: str = "10.244.0.0/16",
    cri_socket: str = "unix:///run/containerd/containerd.sock",
) -> str:
    """The kubeadm-py (kubeadm.k8s.io/v1beta4) init configuration for a test-bed node, plus the
    KubeletConfiguration this machine needs (cgroupfs, failSwapOn false)."""
    tokens = ""
    if token:
        tokens = f"bootstrapTokens:\n- token: {token}\n" + (
            f"  description: {description}\n" if description else ""
        )
    cpe = f"controlPlaneEndpoint: {control_plane_endpoint}\n" if control_plane_endpoint else ""
    return f"""apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
{tokens}localAPIEndpoint:
  advertiseAddress: {address}
  bindPort: 6443
nodeRegistration:
  name: {node_name}
  criSocket: {cri_socket}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {kubernetes_version}
{cpe}networking:
  podSubnet: {pod_subnet}
---
{KUBELET_CONFIG}"""
