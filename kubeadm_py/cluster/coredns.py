"""The CoreDNS addon objects, rendered from upstream's templates (``phases/addons/dns/manifests.go``)
with the per-version differences of :mod:`kubeadm_py.versioned`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.cluster import templating
from kubeadm_py.cluster.netinfo import dns_domain, dns_ip
from kubeadm_py.imagenames import coredns_image
from kubeadm_py.versioned import ObjectsProfile, profile_for

if TYPE_CHECKING:
    from kubeadm_py.config.types import KubeadmConfig

Obj = dict[str, Any]
DEFAULT_REPLICAS = 2

SERVICE = """
apiVersion: v1
kind: Service
metadata:
  labels:
    k8s-app: kube-dns
    kubernetes.io/cluster-service: "true"
    kubernetes.io/name: "{{ .ServiceLabel }}"
  name: kube-dns
  namespace: kube-system
  annotations:
    prometheus.io/port: "9153"
    prometheus.io/scrape: "true"
  # upstream's template sends resourceVersion "0" (without it an update of the Service between
  # versions is refused: "metadata.resourceVersion: Invalid value: "": must be specified for an update")
  resourceVersion: "0"
spec:
  clusterIP: {{ .DNSIP }}
  ports:
  - name: dns
    port: 53
    protocol: UDP
    targetPort: 53
  - name: dns-tcp
    port: 53
    protocol: TCP
    targetPort: 53
  - name: metrics
    port: 9153
    protocol: TCP
    targetPort: 9153
  selector:
    k8s-app: kube-dns
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: {{ .Replicas }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector:
                matchExpressions:
                - key: k8s-app
                  operator: In
                  values: ["kube-dns"]
              topologyKey: kubernetes.io/hostname
      tolerations:
      - key: CriticalAddonsOnly
        operator: Exists
{{ .ControlPlaneTolerations }}
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - name: coredns
        image: {{ .Image }}
        imagePullPolicy: IfNotPresent
        resources:
          limits:
            memory: 170Mi
          requests:
            cpu: 100m
            memory: 70Mi
        args: [ "-conf", "/etc/coredns/Corefile" ]
        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
          readOnly: true
        ports:
        - containerPort: 53
          name: dns
          protocol: UDP
        - containerPort: 53
          name: dns-tcp
          protocol: TCP
        - containerPort: 9153
          name: metrics
          protocol: TCP
{{ .ProbePorts }}
        livenessProbe:
          httpGet:
            path: /health
            port: {{ .LivenessPort }}
            scheme: HTTP
          initialDelaySeconds: 60
          timeoutSeconds: 5
          successThreshold: 1
          failureThreshold: 5
        readinessProbe:
          httpGet:
            path: /ready
            port: {{ .ReadinessPort }}
            scheme: HTTP
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            add:
            - NET_BIND_SERVICE
            drop:
            - {{ .CapDrop }}
          readOnlyRootFilesystem: true
      dnsPolicy: Default
      volumes:
        - name: config-volume
          configMap:
            name: coredns
            items:
            - key: Corefile
              path: Corefile
"""

_PROBE_PORTS = """        - containerPort: 8080
          name: liveness-probe
          protocol: TCP
        - containerPort: 8181
          name: readiness-probe
          protocol: TCP"""

COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes {{ .DNSDomain }} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30{{ .CacheOptions }}
    loop
    reload
    loadbalance
}
"""

_CACHE_DISABLE = """ {
       disable success {{ .DNSDomain }}
       disable denial {{ .DNSDomain }}
    }"""

SERVICE_ACCOUNT = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "coredns", "namespace": "kube-system"},
}


def image(cfg: KubeadmConfig) -> str:
    """The CoreDNS image (:func:`kubeadm_py.imagenames.coredns_image`, the rule static Pods use too)."""
    return coredns_image(cfg)


def corefile(domain: str, profile: ObjectsProfile) -> str:
    cache = (
        templating.render(_CACHE_DISABLE, {"DNSDomain": domain})
        if profile.corefile_cache_disable and domain
        else ""
    )
    return templating.render(COREFILE, {"DNSDomain": domain, "CacheOptions": cache})


def cluster_role(profile: ObjectsProfile) -> Obj:
    rules: list[Obj] = [
        {
            "apiGroups": [""],
            "resources": ["endpoints", "services", "pods", "namespaces"],
            "verbs": ["list", "watch"],
        }
    ]
    if profile.coredns_rbac_nodes_get:
        rules.append({"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]})
    if profile.coredns_rbac_endpointslices:
        rules.append(
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}
        )
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:coredns"},
        "rules": rules,
    }


def cluster_role_binding() -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "system:coredns"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:coredns"},
        "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": "kube-system"}],
    }


def objects(cfg: KubeadmConfig, replicas: int = DEFAULT_REPLICAS) -> dict[str, Obj]:
    """All CoreDNS objects by role: configmap, clusterrole, clusterrolebinding, serviceaccount,
    deployment, service (upstream's apply order)."""
    profile = profile_for(cfg.kubernetes_version)
    domain = dns_domain(cfg)
    tolerations = "\n".join(
        f"      - key: {k}\n        effect: NoSchedule" for k in profile.coredns_toleration_keys
    )
    deployment = templating.load(
        DEPLOYMENT,
        {
            "Replicas": replicas,
            "Image": image(cfg),
            "ControlPlaneTolerations": tolerations,
            "ProbePorts": _PROBE_PORTS if profile.coredns_named_probe_ports else "",
            "LivenessPort": "liveness-probe" if profile.coredns_named_probe_ports else 8080,
            "ReadinessPort": "readiness-probe" if profile.coredns_named_probe_ports else 8181,
            "CapDrop": profile.coredns_cap_drop,
        },
    )
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {"Corefile": corefile(domain, profile)},
    }
    return {
        "configmap": configmap,
        "clusterrole": cluster_role(profile),
        "clusterrolebinding": cluster_role_binding(),
        "serviceaccount": dict(SERVICE_ACCOUNT),
        "deployment": deployment,
        "service": templating.load(
            SERVICE, {"DNSIP": dns_ip(cfg), "ServiceLabel": profile.dns_service_label}
        ),
    }
