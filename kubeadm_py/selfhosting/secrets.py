"""Certificates and kubeconfigs from Secrets instead of host paths (upstream's
``selfhosting_volumes.go`` and the ``StoreCertsInSecrets`` mutators of ``podspec_mutation.go``,
kubernetes/kubernetes v1.17). Off by default: a Secret volume needs the API server, so a node
restarting without one depends on the checkpointer (docs/selfhosting.md).

:data:`SECRETS` is the table of Secrets (name, type, data key -> file under the certificates or
kubeconfig directory); :data:`PROJECTIONS` what each component mounts from them in place of its
``k8s-certs`` host path (upstream's projected volumes). Beyond upstream: the API server also gets
``sa.key`` (its ``--service-account-signing-key-file`` since v1.20) and, with local etcd, the etcd
CA and its etcd client pair (upstream only under its old HighAvailability gate)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubeadm_py.constants import KUBE_SYSTEM

Spec = dict[str, Any]
CERTS_VOLUME = "k8s-certs"  # upstream KubeCertificatesVolumeName
KUBECONFIG_VOLUME = "kubeconfig"  # upstream KubeConfigVolumeName
# Secret and projected volumes mount whole directories: the kubeconfig moves out of /etc/kubernetes,
# which would hide /etc/kubernetes/pki (upstream selfHostedKubeConfigDir).
SELF_HOSTED_KUBECONFIG_DIR = "/etc/kubernetes/kubeconfig"
TLS = "kubernetes.io/tls"


@dataclass(frozen=True)
class SecretSpec:
    name: str
    type: str
    files: tuple[tuple[str, str], ...]  # (data key, file name under its directory)
    kubeconfig: bool = False  # the file is in the kubeconfig directory, not the certificates one
    optional: bool = False  # skipped when its files are absent (etcd's, with external etcd)


SECRETS = (
    SecretSpec("ca", TLS, (("tls.crt", "ca.crt"), ("tls.key", "ca.key"))),
    SecretSpec("apiserver", TLS, (("tls.crt", "apiserver.crt"), ("tls.key", "apiserver.key"))),
    SecretSpec(
        "apiserver-kubelet-client",
        TLS,
        (("tls.crt", "apiserver-kubelet-client.crt"), ("tls.key", "apiserver-kubelet-client.key")),
    ),
    SecretSpec("sa", TLS, (("tls.crt", "sa.pub"), ("tls.key", "sa.key"))),
    SecretSpec("front-proxy-ca", TLS, (("tls.crt", "front-proxy-ca.crt"), ("tls.key", "front-proxy-ca.key"))),
    SecretSpec(
        "front-proxy-client",
        TLS,
        (("tls.crt", "front-proxy-client.crt"), ("tls.key", "front-proxy-client.key")),
    ),
    SecretSpec(
        "kube-apiserver-etcd-client",
        "Opaque",
        (
            ("etcd-ca.crt", "etcd/ca.crt"),
            ("apiserver-etcd-client.crt", "apiserver-etcd-client.crt"),
            ("apiserver-etcd-client.key", "apiserver-etcd-client.key"),
        ),
        optional=True,
    ),
    SecretSpec(
        "controller-manager.conf", "Opaque", (("controller-manager.conf", "controller-manager.conf"),), True
    ),
    SecretSpec("scheduler.conf", "Opaque", (("scheduler.conf", "scheduler.conf"),), True),
)

# component -> (secret, data key, path in the volume) for its k8s-certs projected volume
PROJECTIONS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "kube-apiserver": (
        ("ca", "tls.crt", "ca.crt"),
        ("apiserver", "tls.crt", "apiserver.crt"),
        ("apiserver", "tls.key", "apiserver.key"),
        ("apiserver-kubelet-client", "tls.crt", "apiserver-kubelet-client.crt"),
        ("apiserver-kubelet-client", "tls.key", "apiserver-kubelet-client.key"),
        ("sa", "tls.crt", "sa.pub"),
        ("sa", "tls.key", "sa.key"),
        ("front-proxy-ca", "tls.crt", "front-proxy-ca.crt"),
        ("front-proxy-client", "tls.crt", "front-proxy-client.crt"),
        ("front-proxy-client", "tls.key", "front-proxy-client.key"),
        ("kube-apiserver-etcd-client", "etcd-ca.crt", "etcd/ca.crt"),
        ("kube-apiserver-etcd-client", "apiserver-etcd-client.crt", "apiserver-etcd-client.crt"),
        ("kube-apiserver-etcd-client", "apiserver-etcd-client.key", "apiserver-etcd-client.key"),
    ),
    "kube-controller-manager": (
        ("ca", "tls.crt", "ca.crt"),
        ("ca", "tls.key", "ca.key"),
        ("sa", "tls.key", "sa.key"),
        ("front-proxy-ca", "tls.crt", "front-proxy-ca.crt"),
    ),
}
KUBECONFIGS = {"kube-controller-manager": "controller-manager.conf", "kube-scheduler": "scheduler.conf"}


def projected(component: str) -> dict[str, Any]:
    """The projected volume source of ``component``'s certificates (upstream
    apiServerCertificatesVolumeSource / controllerManagerCertificatesVolumeSource)."""
    optional = {s.name for s in SECRETS if s.optional}
    sources: list[dict[str, Any]] = []
    for secret, key, path in PROJECTIONS[component]:
        if sources and sources[-1]["secret"]["name"] == secret:
            sources[-1]["secret"]["items"].append({"key": key, "path": path})
            continue
        source: dict[str, Any] = {"name": secret, "items": [{"key": key, "path": path}]}
        if secret in optional:
            source["optional"] = True  # absent with external etcd
        sources.append({"secret": source})
    return {"projected": {"sources": sources}}


def kubeconfig_source(name: str) -> dict[str, Any]:
    """Upstream kubeConfigVolumeSource."""
    return {"secret": {"secretName": name}}


def _replace_source(spec: Spec, name: str, source: dict[str, Any]) -> None:
    for i, volume in enumerate(spec.get("volumes") or []):
        if volume.get("name") == name:
            spec["volumes"][i] = {"name": name, **source}


def _move_kubeconfig(spec: Spec, file_name: str) -> None:
    """Mount the kubeconfig Secret at SELF_HOSTED_KUBECONFIG_DIR and point the flags at it
    (upstream setSelfHostedVolumesFor{ControllerManager,Scheduler})."""
    container = spec["containers"][0]
    for mount in container.get("volumeMounts") or []:
        if mount.get("name") == KUBECONFIG_VOLUME:
            mount["mountPath"] = SELF_HOSTED_KUBECONFIG_DIR
    path = f"{SELF_HOSTED_KUBECONFIG_DIR}/{file_name}"
    flags = ("--kubeconfig=", "--authentication-kubeconfig=", "--authorization-kubeconfig=")
    container["command"] = [
        next((f + path for f in flags if arg.startswith(f)), arg) for arg in container.get("command") or []
    ]


def _mutator(component: str) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        if component in PROJECTIONS:
            _replace_source(spec, CERTS_VOLUME, projected(component))
        kubeconfig = KUBECONFIGS.get(component)
        if kubeconfig:
            _replace_source(spec, KUBECONFIG_VOLUME, kubeconfig_source(kubeconfig))
            _move_kubeconfig(spec, kubeconfig)

    return mutate


VOLUME_MUTATORS = {c: _mutator(c) for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")}


def secret_objects(read: Callable[[str, bool], bytes | None]) -> list[dict[str, Any]]:
    """The Secrets of :data:`SECRETS`, their files read by ``read(file, kubeconfig_dir)`` (None:
    absent). A missing file of a required Secret is an error."""
    from kubeadm_py.errors import KubeadmError

    out = []
    for s in SECRETS:
        data: dict[str, str] = {}
        for key, file in s.files:
            raw = read(file, s.kubeconfig)
            if raw is None:
                if s.optional:
                    break
                raise KubeadmError(f"cannot store certificates in Secrets: {file} not found")
            data[key] = base64.b64encode(raw).decode()
        else:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": s.type,
                    "metadata": {"name": s.name, "namespace": KUBE_SYSTEM},
                    "data": data,
                }
            )
    return out
