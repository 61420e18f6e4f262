"""The kube-proxy addon objects, rendered from upstream's templates
(``phases/addons/proxy/manifests.go`` and ``proxy.go``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.cluster import rbac, templating
from kubeadm_py.cluster.netinfo import control_plane_endpoint
from kubeadm_py.cluster.uploadconfig import marshal, sign_config_map
from kubeadm_py.constants import BOOTSTRAPPERS_GROUP, KUBE_SYSTEM
from kubeadm_py.versioned import profile_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from kubeadm_py.config.types import KubeadmConfig

Obj = dict[str, Any]
NAME = "kube-proxy"
CONFIG_KEY = "config.conf"
NODE_PROXIER_BINDING = "kubeadm:node-proxier"

CONFIGMAP = """
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-proxy
  namespace: kube-system
  labels:
    app: kube-proxy
data:
  kubeconfig.conf: |-
    apiVersion: v1
    kind: Config
    clusters:
    - cluster:
        certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
        server: {{ .ControlPlaneEndpoint }}
      name: default
    contexts:
    - context:
        cluster: default
        namespace: default
        user: default
      name: default
    current-context: default
    users:
    - name: default
      user:
        tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  {{ .ProxyConfigMapKey }}: |-
{{ .ProxyConfig }}
"""

DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    k8s-app: kube-proxy
  name: kube-proxy
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: kube-proxy
  updateStrategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        k8s-app: kube-proxy
    spec:
      priorityClassName: system-node-critical
      containers:
      - name: kube-proxy
        image: {{ .Image }}
        imagePullPolicy: IfNotPresent
        command:
        - /usr/local/bin/kube-proxy
        - --config=/var/lib/kube-proxy/{{ .ProxyConfigMapKey }}
        - --hostname-override=$(NODE_NAME)
        securityContext:
          privileged: true
        volumeMounts:
        - mountPath: /var/lib/kube-proxy
          name: kube-proxy
        - mountPath: /run/xtables.lock
          name: xtables-lock
          readOnly: false
        - mountPath: /lib/modules
          name: lib-modules
          readOnly: true
        env:
          - name: NODE_NAME
            valueFrom:
              fieldRef:
                fieldPath: spec.nodeName
      hostNetwork: true
      serviceAccountName: kube-proxy
      volumes:
      - name: kube-proxy
        configMap:
          name: kube-proxy
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
      - name: lib-modules
        hostPath:
          path: /lib/modules
      tolerations:
{{ .Tolerations }}
      nodeSelector:
        kubernetes.io/os: linux
"""


def proxy_configuration(cfg: KubeadmConfig, warn: Callable[[str], None] | None = None) -> tuple[Obj, bool]:
    """(KubeProxyConfiguration, whether the user supplied it)."""
    from kubeadm_py.config.componentconfigs import default_kubeproxy_config

    return default_kubeproxy_config(cfg, warn=warn), cfg.kubeproxy is not None


def image(cfg: KubeadmConfig) -> str:
    repo = str(cfg.cluster.get("imageRepository") or "registry.k8s.io")
    return f"{repo}/kube-proxy:{cfg.kubernetes_version}"


def objects(cfg: KubeadmConfig, warn: Callable[[str], None] | None = None) -> dict[str, Obj]:
    """serviceaccount, clusterrolebinding, role, rolebinding, configmap, daemonset (upstream's order)."""
    profile = profile_for(cfg.kubernetes_version)
    proxy_cfg, user_supplied = proxy_configuration(cfg, warn)
    configmap = templating.load(
        CONFIGMAP,
        {
            "ControlPlaneEndpoint": control_plane_endpoint(cfg),
            "ProxyConfigMapKey": CONFIG_KEY,
            "ProxyConfig": templating.indent(marshal(proxy_cfg), "    "),
        },
    )
    if not user_supplied:
        sign_config_map(configmap)
    tolerations = ["      - operator: Exists"]
    if profile.kube_proxy_critical_addons_toleration:
        tolerations.insert(0, "      - key: CriticalAddonsOnly\n        operator: Exists")
    daemonset = templating.load(
        DAEMONSET,
        {"Image": image(cfg), "ProxyConfigMapKey": CONFIG_KEY, "Tolerations": "\n".join(tolerations)},
    )
    return {
        "serviceaccount": {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": KUBE_SYSTEM},
        },
        "clusterrolebinding": rbac.cluster_role_binding(
            NODE_PROXIER_BINDING, "system:node-proxier", [rbac.service_account(NAME, KUBE_SYSTEM)]
        ),
        "role": rbac.role(NAME, KUBE_SYSTEM, [rbac.rule(["get"], ["configmaps"], names=[NAME])]),
        "rolebinding": rbac.role_binding(NAME, KUBE_SYSTEM, NAME, [rbac.group(BOOTSTRAPPERS_GROUP)]),
        "configmap": configmap,
        "daemonset": daemonset,
    }


def manifest_stream(objs: list[Obj]) -> str:
    """``--print-manifest`` output: YAML documents separated by ``---``."""
    from kubeadm_py.kube.compare import to_yaml

    return "".join("---\n" + to_yaml(o) for o in objs)
