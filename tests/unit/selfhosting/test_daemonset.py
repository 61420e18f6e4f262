"""The static Pod -> DaemonSet mutation against upstream kubeadm's own vectors:
kubernetes/kubernetes ``cmd/kubeadm/app/phases/selfhosting/podspec_mutation_test.go`` at commit
2f0690efec211b27824057dc3c73d37d1a7ee0b5 (TestMutatePodSpec, TestAddNodeSelectorToPodSpec,
TestSetMasterTolerationOnPodSpec, TestSetRightDNSPolicyOnPodSpec, TestSetHostIPOnPodSpec,
TestSetSelfHostedVolumesFor{APIServer,ControllerManager,Scheduler}), the mutators in
``podspec_mutation.go`` at 2911fe5bffdbded9954610bea626da6c31ca05e2. Where kubeadm-py's contract
replaces upstream's value (node selector, the NotReady toleration, the priority class) the test
says so."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.controlplane import build_control_plane
from kubeadm_py.selfhosting import contract, daemonset, secrets
from kubeadm_py.selfhosting.daemonset import build_daemonset, mutate_pod_spec, mutators
from kubeadm_py.versions import RELEASES
from tests.unit.manifests.helpers import make_cfg

MASTER_TOLERATION = {
    "key": "node-role.kubernetes.io/master",
    "effect": "NoSchedule",
}  # upstream MasterToleration
CP_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
HOST_IP = {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}
SELECTOR = {contract.NODE_LABEL: "true"}  # upstream: {node-role.kubernetes.io/master: ""}
NOT_READY = daemonset.NOT_READY_TOLERATION
DIR_OR_CREATE = "DirectoryOrCreate"


def test_mutate_pod_spec_vectors_v1_20() -> None:
    """TestMutatePodSpec: the three components' default mutators (v1.20: the master taint)."""
    api = {"containers": [{"name": "kube-apiserver", "command": ["--advertise-address=10.0.0.1"]}]}
    mutate_pod_spec(mutators("v1.20.2"), "kube-apiserver", api)
    assert api["containers"] == [
        {"name": "kube-apiserver", "command": ["--advertise-address=$(HOST_IP)"], "env": [HOST_IP]}
    ]
    assert api["nodeSelector"] == SELECTOR
    assert api["tolerations"] == [MASTER_TOLERATION, CP_TOLERATION, NOT_READY]  # upstream: MasterToleration
    assert api["dnsPolicy"] == "ClusterFirstWithHostNet"
    for component in ("kube-controller-manager", "kube-scheduler"):
        spec: dict[str, Any] = {}
        mutate_pod_spec(mutators("v1.20.2"), component, spec)
        assert spec == {
            "nodeSelector": SELECTOR,
            "tolerations": [MASTER_TOLERATION, CP_TOLERATION, NOT_READY],
            "dnsPolicy": "ClusterFirstWithHostNet",
            "priorityClassName": "system-node-critical",  # kubeadm-py: static Pods carry it too
            # kubeadm-py: nothing that needs the API server to start the Pod
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
        }


@pytest.mark.parametrize(
    ("version", "want"),
    [
        # the taint changes on upgrade (and a node joined later may carry the newer one already)
        ("v1.20.2", [MASTER_TOLERATION, CP_TOLERATION]),
        ("v1.24.0", [MASTER_TOLERATION, CP_TOLERATION]),
        ("v1.30.0", [CP_TOLERATION]),
    ],
)
def test_tolerations_follow_the_versions_control_plane_taints(
    version: str, want: list[dict[str, str]]
) -> None:
    assert daemonset.tolerations_for(version) == [*want, NOT_READY]


def test_add_node_selector_vectors() -> None:
    """TestAddNodeSelectorToPodSpec: added to none, added next to others."""
    empty: dict[str, Any] = {}
    daemonset.add_node_selector(empty)
    assert empty == {"nodeSelector": SELECTOR}
    other = {"nodeSelector": {"foo": "bar"}}
    daemonset.add_node_selector(other)
    assert other == {"nodeSelector": {"foo": "bar", **SELECTOR}}


def test_control_plane_toleration_vectors() -> None:
    """TestSetMasterTolerationOnPodSpec: appended to none and after existing ones; not twice."""
    mutate = daemonset.control_plane_tolerations("v1.20.2")
    empty: dict[str, Any] = {}
    mutate(empty)
    assert empty == {"tolerations": [MASTER_TOLERATION, CP_TOLERATION, NOT_READY]}
    other = {"tolerations": [{"key": "foo", "value": "bar"}]}
    mutate(other)
    assert other == {
        "tolerations": [{"key": "foo", "value": "bar"}, MASTER_TOLERATION, CP_TOLERATION, NOT_READY]
    }
    mutate(other)
    assert len(other["tolerations"]) == 4


@pytest.mark.parametrize("spec", [{}, {"dnsPolicy": "ClusterFirst"}])
def test_dns_policy_vectors(spec: dict[str, Any]) -> None:
    """TestSetRightDNSPolicyOnPodSpec."""
    daemonset.set_dns_policy(spec)
    assert spec == {"dnsPolicy": "ClusterFirstWithHostNet"}


def test_host_ip_vector() -> None:
    """TestSetHostIPOnPodSpec (an empty env list); a second run does not add HOST_IP twice."""
    spec = {
        "containers": [{"name": "kube-apiserver", "command": ["--advertise-address=10.0.0.1"], "env": []}]
    }
    daemonset.set_host_ip(spec)
    want = {"name": "kube-apiserver", "command": ["--advertise-address=$(HOST_IP)"], "env": [HOST_IP]}
    assert spec["containers"] == [want]
    daemonset.set_host_ip(spec)
    assert spec["containers"] == [want]


def _host(name: str, path: str, kind: str = DIR_OR_CREATE) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, "type": kind}}


def test_self_hosted_volumes_for_apiserver_vector() -> None:
    """TestSetSelfHostedVolumesForAPIServer: k8s-certs becomes the projected Secrets; ca-certs stays."""
    spec = {
        "containers": [
            {
                "volumeMounts": [
                    {"name": "ca-certs", "mountPath": "/etc/ssl/certs"},
                    {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki"},
                ],
                "command": ["--foo=bar"],
            }
        ],
        "volumes": [_host("ca-certs", "/etc/ssl/certs"), _host("k8s-certs", "/etc/kubernetes/pki")],
    }
    want = copy.deepcopy(spec)
    want["volumes"][1] = {"name": "k8s-certs", **secrets.projected("kube-apiserver")}
    secrets.VOLUME_MUTATORS["kube-apiserver"](spec)
    assert spec == want
    items = [
        (s["secret"]["name"], i["path"])
        for s in want["volumes"][1]["projected"]["sources"]
        for i in s["secret"]["items"]
    ]
    # upstream apiServerCertificatesVolumeSource's files, plus sa.key and the etcd client (see secrets.py)
    for upstream in (
        ("ca", "ca.crt"),
        ("apiserver", "apiserver.crt"),
        ("apiserver", "apiserver.key"),
        ("apiserver-kubelet-client", "apiserver-kubelet-client.crt"),
        ("apiserver-kubelet-client", "apiserver-kubelet-client.key"),
        ("sa", "sa.pub"),
        ("front-proxy-ca", "front-proxy-ca.crt"),
        ("front-proxy-client", "front-proxy-client.crt"),
        ("front-proxy-client", "front-proxy-client.key"),
    ):
        assert upstream in items


def test_self_hosted_volumes_for_controller_manager_vector() -> None:
    """TestSetSelfHostedVolumesForControllerManager."""
    spec = {
        "containers": [
            {
                "volumeMounts": [
                    {"name": "ca-certs", "mountPath": "/etc/ssl/certs"},
                    {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki"},
                    {"name": "kubeconfig", "mountPath": "/etc/kubernetes/controller-manager.conf"},
                ],
                "command": ["--kubeconfig=/etc/kubernetes/controller-manager.conf", "--foo=bar"],
            }
        ],
        "volumes": [
            _host("ca-certs", "/etc/ssl/certs"),
            _host("k8s-certs", "/etc/kubernetes/pki"),
            _host("kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate"),
        ],
    }
    secrets.VOLUME_MUTATORS["kube-controller-manager"](spec)
    container = spec["containers"][0]
    assert container["volumeMounts"][2] == {"name": "kubeconfig", "mountPath": "/etc/kubernetes/kubeconfig"}
    assert sorted(container["command"]) == sorted(
        ["--kubeconfig=/etc/kubernetes/kubeconfig/controller-manager.conf", "--foo=bar"]
    )
    assert spec["volumes"] == [
        _host("ca-certs", "/etc/ssl/certs"),
        {"name": "k8s-certs", **secrets.projected("kube-controller-manager")},
        {"name": "kubeconfig", "secret": {"secretName": "controller-manager.conf"}},
    ]
    sources = spec["volumes"][1]["projected"]["sources"]
    assert sources[0] == {
        "secret": {
            "name": "ca",
            "items": [{"key": "tls.crt", "path": "ca.crt"}, {"key": "tls.key", "path": "ca.key"}],
        }
    }
    assert sources[1] == {"secret": {"name": "sa", "items": [{"key": "tls.key", "path": "sa.key"}]}}


def test_self_hosted_volumes_for_scheduler_vector() -> None:
    """TestSetSelfHostedVolumesForScheduler; the authentication/authorization kubeconfigs follow."""
    spec = {
        "containers": [
            {
                "volumeMounts": [{"name": "kubeconfig", "mountPath": "/etc/kubernetes/scheduler.conf"}],
                "command": [
                    "--kubeconfig=/etc/kubernetes/scheduler.conf",
                    "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
                    "--foo=bar",
                ],
            }
        ],
        "volumes": [_host("kubeconfig", "/etc/kubernetes/scheduler.conf", "FileOrCreate")],
    }
    secrets.VOLUME_MUTATORS["kube-scheduler"](spec)
    container = spec["containers"][0]
    assert container["volumeMounts"] == [{"name": "kubeconfig", "mountPath": "/etc/kubernetes/kubeconfig"}]
    assert container["command"] == [
        "--kubeconfig=/etc/kubernetes/kubeconfig/scheduler.conf",
        "--authentication-kubeconfig=/etc/kubernetes/kubeconfig/scheduler.conf",
        "--foo=bar",
    ]
    assert spec["volumes"] == [{"name": "kubeconfig", "secret": {"secretName": "scheduler.conf"}}]


def _static_apiserver() -> dict[str, Any]:
    probe = {"httpGet": {"host": "10.0.0.1", "path": "/livez", "port": 6443, "scheme": "HTTPS"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "kube-apiserver",
            "namespace": "kube-system",
            "labels": {"component": "kube-apiserver", "tier": "control-plane"},
            "annotations": {
                "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": "10.0.0.1:6443"
            },
        },
        "spec": {
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "containers": [
                {
                    "name": "kube-apiserver",
                    "image": "k8s.gcr.io/kube-apiserver:v1.20.2",
                    "command": ["kube-apiserver", "--advertise-address=10.0.0.1", "--secure-port=6443"],
                    "livenessProbe": copy.deepcopy(probe),
                    "readinessProbe": {"httpGet": {**probe["httpGet"], "path": "/readyz"}},
                    "volumeMounts": [
                        {"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki", "readOnly": True}
                    ],
                }
            ],
            "volumes": [_host("k8s-certs", "/etc/kubernetes/pki")],
        },
        "status": {},
    }


def test_build_daemonset_keeps_the_contract() -> None:
    """Upstream BuildDaemonSet with kubeadm-py's names: what the checkpointer, status and verify read."""
    pod = _static_apiserver()
    ds = build_daemonset("kube-apiserver", pod, daemonset.image_version(pod))
    labels = {"k8s-app": "self-hosted-kube-apiserver", "tier": "control-plane"}
    assert ds["metadata"] == {
        "name": "self-hosted-kube-apiserver",
        "namespace": "kube-system",
        "labels": labels,
    }
    assert ds["spec"]["selector"] == {"matchLabels": labels}
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}
    template = ds["spec"]["template"]
    assert template["metadata"] == {"labels": labels, "annotations": {"kubeadm-py.io/checkpoint": "true"}}
    spec = template["spec"]
    container = spec["containers"][0]
    assert container["command"] == ["kube-apiserver", "--advertise-address=$(HOST_IP)", "--secure-port=6443"]
    # one template for every node: the probes go to the Pod's (the node's) IP, not this node's address
    assert container["livenessProbe"] == {"httpGet": {"path": "/livez", "port": 6443, "scheme": "HTTPS"}}
    assert "host" not in container["readinessProbe"]["httpGet"]
    assert spec["volumes"] == [_host("k8s-certs", "/etc/kubernetes/pki")]  # host paths by default
    assert spec["hostNetwork"] is True and spec["priorityClassName"] == "system-node-critical"
    assert spec["tolerations"] == [MASTER_TOLERATION, CP_TOLERATION, NOT_READY]
    assert pod == _static_apiserver()  # the manifest itself is not touched


def test_build_daemonset_with_certs_in_secrets() -> None:
    ds = build_daemonset("kube-apiserver", _static_apiserver(), "v1.20.2", certs_in_secrets=True)
    assert ds["spec"]["template"]["spec"]["volumes"] == [
        {"name": "k8s-certs", **secrets.projected("kube-apiserver")}
    ]


def test_loopback_probe_hosts_stay() -> None:
    spec = {"containers": [{"livenessProbe": {"httpGet": {"host": "127.0.0.1", "port": 10257}}}]}
    daemonset.probes_on_pod_ip(spec)
    assert spec["containers"][0]["livenessProbe"]["httpGet"]["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("image", "want"),
    [
        ("k8s.gcr.io/kube-apiserver:v1.20.2", "v1.20.2"),
        ("localhost:5000/kube-apiserver", ""),
        ("x:latest", ""),
    ],
)
def test_image_version(image: str, want: str) -> None:
    assert daemonset.image_version({"spec": {"containers": [{"image": image}]}}) == want


def test_secret_objects_from_files() -> None:
    files = {f: f"<{f}>".encode() for s in secrets.SECRETS for _, f in s.files if not s.optional}
    objs = secrets.secret_objects(lambda f, kubeconfig: files.get(f))
    names = [o["metadata"]["name"] for o in objs]
    assert "kube-apiserver-etcd-client" not in names  # optional: no etcd files (external etcd)
    assert names[:2] == ["ca", "apiserver"] and "scheduler.conf" in names
    ca = objs[0]
    assert ca["type"] == "kubernetes.io/tls" and set(ca["data"]) == {"tls.crt", "tls.key"}
    from kubeadm_py.errors import KubeadmError

    with pytest.raises(KubeadmError, match="ca.key not found"):
        secrets.secret_objects(lambda f, kubeconfig: None if f == "ca.key" else b"x")


STARTUP = {
    "httpGet": {"host": "127.0.0.1", "path": "/healthz", "port": 10257, "scheme": "HTTPS"},
    "initialDelaySeconds": 10,
    "periodSeconds": 10,
    "timeoutSeconds": 15,
    "failureThreshold": 24,
}


def test_a_startup_probe_alone_gets_a_readiness_probe_with_its_handler() -> None:
    """kubeadm v1.20's controller-manager and scheduler have a startup probe and no readiness
    probe: their DaemonSet Pod must not wait for the kubelet's periodic sync to turn Ready."""
    spec: dict[str, Any] = {"containers": [{"name": "c", "startupProbe": copy.deepcopy(STARTUP)}]}
    daemonset.ready_when_started(spec)
    assert spec["containers"][0]["readinessProbe"] == {
        "httpGet": STARTUP["httpGet"],
        "timeoutSeconds": 15,
        "periodSeconds": 1,
        "failureThreshold": 3,
    }
    container = spec["containers"][0]
    assert container["startupProbe"] == STARTUP  # the manifest's probes stay as they are
    assert container["readinessProbe"]["httpGet"] is not container["startupProbe"]["httpGet"]  # a copy


@pytest.mark.parametrize(
    "container",
    [
        {"name": "has-one", "startupProbe": STARTUP, "readinessProbe": {"httpGet": {"path": "/readyz"}}},
        {"name": "no-startup-probe", "livenessProbe": STARTUP},
        {"name": "no-handler", "startupProbe": {"periodSeconds": 10}},
    ],
)
def test_readiness_probe_left_alone(container: dict[str, Any]) -> None:
    spec = {"containers": [copy.deepcopy(container)]}
    daemonset.ready_when_started(spec)
    assert spec == {"containers": [container]}


def test_every_component_gets_the_readiness_probe_and_the_api_servers_loses_the_node_address() -> None:
    """v1.19's API server had no readiness probe: the copy drops the node's address as the others."""
    for component in contract.COMPONENTS:
        startup = copy.deepcopy(STARTUP)
        startup["httpGet"]["host"] = "10.0.0.1"
        spec: dict[str, Any] = {"containers": [{"name": component, "startupProbe": startup}]}
        mutate_pod_spec(mutators("v1.20.2"), component, spec)
        got = spec["containers"][0]["readinessProbe"]["httpGet"]
        if component == "kube-apiserver":
            assert "host" not in got
        else:
            assert got["host"] == "10.0.0.1"



@pytest.mark.parametrize("version", [r.default_patch for r in RELEASES])
def test_two_control_plane_nodes_build_the_same_daemonsets(version: str, tmp_path: Path) -> None:
    """HA: the second node's pivot applies the DaemonSets built from its own manifests over the first
    node's. Any difference in the templates would start a rolling update of the first node's Pods,
    the API server's included, in the middle of the second node's pivot."""

    def manifests(address: str, name: str) -> dict[str, Any]:
        init = {"localAPIEndpoint": {"advertiseAddress": address}, "nodeRegistration": {"name": name}}
        cfg = make_cfg(version, cluster={"controlPlaneEndpoint": "10.0.0.5:6443"}, init=init)
        return build_control_plane(cfg, HostFS(rootfs=tmp_path), environ={}).pods

    first, second = manifests("10.0.0.5", "cp-1"), manifests("10.0.0.6", "cp-2")
    assert first["kube-apiserver"] != second["kube-apiserver"]  # the address, in flags, probes, annotation
    for component in contract.COMPONENTS:
        built = [build_daemonset(component, pods[component], version) for pods in (first, second)]
        assert built[0] == built[1], component
