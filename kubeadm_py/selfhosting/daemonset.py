"""A DaemonSet from a static Pod manifest: upstream kubeadm's removed alpha self-hosting
(``cmd/kubeadm/app/phases/selfhosting/selfhosting.go`` BuildDaemonSet and
``podspec_mutation.go``, kubernetes/kubernetes v1.17), with kubeadm-py's contract
(:mod:`kubeadm_py.selfhosting.contract`) in place of upstream's names.

The Pod spec keeps the manifest's command, volumes, probes, hostNetwork and priority class; the
mutators below, listed per component in :data:`MUTATORS`, make it fit every control-plane node:

- node selector ``kubeadm-py.io/self-hosted: "true"`` (upstream: the master role label), so a node
  runs self-hosted components only once pivot labelled it;
- tolerations of the control-plane taints of the version and the later ones
  (``versioned.default_taints``) and of
  ``node.kubernetes.io/not-ready:NoSchedule`` (a node without a pod network is NotReady; a static
  Pod ignores taints, its DaemonSet Pod must tolerate them);
- ``dnsPolicy: ClusterFirstWithHostNet``;
- no service account token volume and no Service environment variables (kubeadm-py: a Pod with
  either cannot start without an API server, and the self-hosted API server must);
- a readiness probe where the manifest has a startup probe but none (kubeadm-py: the kubelet of
  v1.18-v1.20 marks such a container Ready only at its next periodic pod sync, 60-90 s after the
  startup probe passed, kubernetes/kubernetes#95140);
- kube-apiserver: ``--advertise-address=$(HOST_IP)`` from the downward API, and probes without the
  node's address as ``host`` (the kubelet probes a host-network Pod at the node's IP): one template
  serves every node;
- with ``certs_in_secrets``: :mod:`kubeadm_py.selfhosting.secrets`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.selfhosting import contract

Spec = dict[str, Any]
Mutator = Callable[[Spec], None]

NOT_READY_TOLERATION = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"}
PRIORITY_CLASS = "system-node-critical"
# Per-node pod annotations a static manifest carries and a shared template must not.
PER_NODE_ANNOTATIONS = (
    "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint",
    "kubeadm.kubernetes.io/etcd.advertise-client-urls",
    "kubernetes.io/config.hash",
    "kubernetes.io/config.mirror",
    "kubernetes.io/config.seen",
    "kubernetes.io/config.source",
)


def add_node_selector(spec: Spec) -> None:
    selector = spec.get("nodeSelector") or {}
    selector[contract.NODE_LABEL] = contract.NODE_LABEL_VALUE
    spec["nodeSelector"] = selector


def tolerations_for(version: str) -> list[dict[str, str]]:
    """The control-plane taints of ``version`` and of every later row of the version table (an
    upgrade changes the taint: master up to v1.23, both in v1.24, control-plane from v1.25, and
    the DaemonSet must keep running through it; a node may also carry the newer taint already) as
    tolerations in upstream's MasterToleration shape (key and effect), then the NotReady one."""
    from kubeadm_py.versioned import PROFILES, profile_for

    since = profile_for(version).since
    out: list[dict[str, str]] = []
    for profile in PROFILES:
        for t in profile.default_taints if profile.since >= since else ():
            toleration = {"key": t["key"], "effect": t["effect"]}
            if toleration not in out:
                out.append(toleration)
    return out + [dict(NOT_READY_TOLERATION)]


def control_plane_tolerations(version: str) -> Mutator:
    def mutate(spec: Spec) -> None:
        have = spec.get("tolerations") or []
        spec["tolerations"] = have + [t for t in tolerations_for(version) if t not in have]

    return mutate


def set_dns_policy(spec: Spec) -> None:
    spec["dnsPolicy"] = "ClusterFirstWithHostNet"


def set_priority_class(spec: Spec) -> None:
    spec["priorityClassName"] = PRIORITY_CLASS


def no_api_volumes(spec: Spec) -> None:
    """No service account token and no Service environment variables: a static Pod has neither,
    and a Pod that needs either cannot start while the API server is down (which is exactly when
    the self-hosted API server itself must start: after the pivot moved the static one away, and
    after a restart). The components authenticate with their kubeconfigs and certificates."""
    spec["automountServiceAccountToken"] = False
    spec["enableServiceLinks"] = False


HOST_IP_ENV = {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}


def set_host_ip(spec: Spec) -> None:
    """Upstream setHostIPOnPodSpec: HOST_IP from status.hostIP, ``--advertise-address=$(HOST_IP)``."""
    container = spec["containers"][0]
    container["env"] = [e for e in container.get("env") or [] if e.get("name") != "HOST_IP"] + [
        copy.deepcopy(HOST_IP_ENV)
    ]
    container["command"] = [
        "--advertise-address=$(HOST_IP)" if "advertise-address" in arg else arg
        for arg in container.get("command") or []
    ]


def probes_on_pod_ip(spec: Spec) -> None:
    """Drop a probe ``host`` that is not a loopback address: it is this node's address, and the
    kubelet probes a host-network Pod at its node's IP when no host is given."""
    for container in spec.get("containers") or []:
        for key in ("livenessProbe", "readinessProbe", "startupProbe"):
            get = (container.get(key) or {}).get("httpGet")
            if (
                get
                and get.get("host")
                and not str(get["host"]).startswith(("127.", "::1", "[::1]", "localhost"))
            ):
                del get["host"]


# kubeadm's readiness probe of the API server since v1.20 (period 1 s, 3 failures), for a container
# that has only a startup probe; the handler and timeout are the startup probe's.
READINESS = {"periodSeconds": 1, "failureThreshold": 3}
HANDLERS = ("httpGet", "tcpSocket", "exec")


def ready_when_started(spec: Spec) -> None:
    """A container with a startup probe and no readiness probe gets one with the startup probe's
    handler. Its kubelet (up to v1.20) sets the container Ready when a readiness result arrives,
    but after a startup probe passed it only recomputes Ready at the next periodic sync of the Pod
    (``--sync-frequency`` 1m, plus up to 50 % jitter): on the test bed the controller-manager's and
    the scheduler's DaemonSet Pods served at once and turned Ready 73-101 s later. The probe runs
    only once the startup probe passed, as the kubelet holds back other probes until then."""
    for container in spec.get("containers") or []:
        startup = container.get("startupProbe") or {}
        if container.get("readinessProbe") or not any(h in startup for h in HANDLERS):
            continue
        probe = {h: copy.deepcopy(startup[h]) for h in HANDLERS if h in startup}
        if "timeoutSeconds" in startup:
            probe["timeoutSeconds"] = startup["timeoutSeconds"]
        container["readinessProbe"] = {**probe, **READINESS}


def default_mutators(version: str) -> dict[str, list[Mutator]]:
    """Upstream GetDefaultMutators, with kubeadm-py's node selector, tolerations and probe hosts."""
    common: list[Mutator] = [
        add_node_selector,
        control_plane_tolerations(version),
        set_dns_policy,
        set_priority_class,
        no_api_volumes,
        ready_when_started,
    ]
    return {
        "kube-apiserver": [*common, set_host_ip, probes_on_pod_ip],
        "kube-controller-manager": list(common),
        "kube-scheduler": list(common),
    }


def mutators(version: str, certs_in_secrets: bool = False) -> dict[str, list[Mutator]]:
    """Upstream GetMutatorsFromFeatureGates: the defaults, then the Secret volumes when asked."""
    out = default_mutators(version)
    if certs_in_secrets:
        from kubeadm_py.selfhosting.secrets import VOLUME_MUTATORS

        for component, mutate in VOLUME_MUTATORS.items():
            out[component].append(mutate)
    return out


def mutate_pod_spec(table: dict[str, list[Mutator]], component: str, spec: Spec) -> None:
    for mutate in table.get(component, []):
        mutate(spec)


def image_version(pod: dict[str, Any]) -> str:
    """The Kubernetes version of a control-plane Pod: its image tag (``v1.20.2``), or ""."""
    try:
        image = str(pod["spec"]["containers"][0]["image"])
    except (KeyError, IndexError, TypeError):
        return ""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    return tag if tag.startswith("v") else ""


def build_daemonset(
    component: str, pod: dict[str, Any], version: str, *, certs_in_secrets: bool = False
) -> dict[str, Any]:
    """The DaemonSet ``self-hosted-<component>`` for the static Pod ``pod`` (upstream BuildDaemonSet;
    RollingUpdate with maxUnavailable 1: one node at a time)."""
    spec = copy.deepcopy(pod.get("spec") or {})
    mutate_pod_spec(mutators(version or image_version(pod), certs_in_secrets), component, spec)
    annotations = {
        k: v
        for k, v in ((pod.get("metadata") or {}).get("annotations") or {}).items()
        if k not in PER_NODE_ANNOTATIONS
    }
    annotations[contract.CHECKPOINT_ANNOTATION] = "true"
    labels = contract.pod_labels(component)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": contract.ds_name(component), "namespace": KUBE_SYSTEM, "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels), "annotations": annotations}, "spec": spec},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
    }
