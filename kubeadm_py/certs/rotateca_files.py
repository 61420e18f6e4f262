"""What ``certs rotate-ca sync`` changes in a node's files, as pure functions of their text.

* Static Pod manifests: the flags that name a rotated CA as a trust store (the cluster CA's:
  :data:`TRUST_FLAGS`; the front-proxy and etcd CAs': their rows of ``rotateca.CAS``) point at its
  bundle (``ca-bundle.crt``, ``front-proxy-ca-bundle.crt``, ``etcd/ca-bundle.crt``) while both CAs
  are trusted, and keep naming it once the rotation is finished (it then holds the new CA alone).
  ``--cluster-signing-cert-file`` keeps ``ca.crt``: the controller-manager signs with the current
  CA, never with a bundle. Annotation :data:`MANIFEST_ANNOTATION` (hash of the signing CA and the
  bundle) makes the kubelet restart a component when either changes.
* kubeconfig files: every cluster's ``certificate-authority-data`` is the trust.
* The kubelet's configuration: ``authentication.x509.clientCAFile``.
* Certificates: re-issued with the same profile by another CA (:func:`reissue`).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import yaml

from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.pod import from_yaml, to_yaml

MANIFEST_ANNOTATION = "kubeadm-py.io/ca-rotation"
# component -> the flags that name the cluster CA as what to trust
TRUST_FLAGS: dict[str, tuple[str, ...]] = {
    "kube-apiserver": ("--client-ca-file",),
    "kube-controller-manager": ("--client-ca-file", "--root-ca-file"),
    "kube-scheduler": (),  # no trust flag: restarted for its re-issued scheduler.conf
}
# Restarted at every stage (annotation :data:`MANIFEST_ANNOTATION`: a hash of the signing CA and the
# bundle): the controller-manager to sign with the new ca.crt/ca.key, publish the bundle
# (--root-ca-file is read at start) and read its re-issued kubeconfig; the scheduler for its
# kubeconfig. The API server is restarted only when its --client-ca-file first names the bundle
# (the first begin): it reloads its serving certificate and the client CA bundle when they change
# (on the test bed an API server swapped after the kubelet had restarted was not started again).
RESTARTED = ("kube-controller-manager", "kube-scheduler")
FIRST = ("etcd",)  # swapped before the other components, as an upgrade does


def manifest(
    text: bytes | str, source: str, component: str, flags: dict[str, str], stamp: str | None
) -> bytes:
    """``component``'s manifest with each trust flag in ``flags`` naming its path there (a CA's
    bundle, or the CA file again) and :data:`MANIFEST_ANNOTATION` set to ``stamp`` (None: removed)."""
    pod = from_yaml(text, source)
    containers = (pod.get("spec") or {}).get("containers") or []
    container = next((c for c in containers if isinstance(c, dict) and c.get("name") == component), None)
    if container is None:
        raise KubeadmError(f"{source}: no {component} container")
    command = [str(w) for w in container.get("command") or []]
    for flag, path in flags.items():
        command = [f"{flag}={path}" if w.startswith(flag + "=") else w for w in command]
    container["command"] = command
    meta = pod.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    if stamp:
        annotations[MANIFEST_ANNOTATION] = stamp
    else:
        annotations.pop(MANIFEST_ANNOTATION, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return to_yaml(pod).encode()


def stamp(signer_pem: bytes, trust_pem: bytes) -> str:
    return "sha256:" + hashlib.sha256(signer_pem + b"|" + trust_pem).hexdigest()[:32]


def kubeconfig_trust(text: bytes, source: str, trust_pem: bytes) -> bytes:
    """The kubeconfig with every cluster's CA data set to ``trust_pem`` (a file reference replaced)."""
    doc = _yaml(text, source)
    for entry in doc.get("clusters") or []:
        cluster = (entry or {}).get("cluster")
        if isinstance(cluster, dict):
            cluster.pop("certificate-authority", None)
            cluster["certificate-authority-data"] = base64.b64encode(trust_pem).decode()
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=True).encode()


def kubeconfig_client(text: bytes, source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the document, the current user's credentials: the user entry's ``user`` map) of a kubeconfig."""
    from kubeadm_py.kubeconfig.build import current

    doc = _yaml(text, source)
    _, user = current(doc, source)
    return doc, user


def kubelet_config(text: bytes, source: str, client_ca: str) -> bytes:
    doc = _yaml(text, source)
    x509 = doc.setdefault("authentication", {}).setdefault("x509", {})
    if x509.get("clientCAFile") == client_ca:
        return text
    x509["clientCAFile"] = client_ca
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=False).encode()


def _yaml(text: bytes | str, source: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise KubeadmError(f"{source}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise KubeadmError(f"{source}: not a YAML mapping")
    return doc


def reissue(cert: Any, ca_cert: Any, ca_key: Any, settings: Any) -> tuple[Any, Any]:
    """(new certificate, new key): ``cert``'s profile, a new key, signed by ``ca_cert``."""
    from kubeadm_py.pki import issue, keys

    key = keys.generate_key(settings.algorithm)
    new = issue.build(
        issue.profile_of(cert),
        key.public_key(),
        ca_key,
        ca_cert,
        settings.not_before,
        settings.start + settings.validity,
    )
    return new, key


def signed_by_pem(cert_pem: bytes, ca_pem: bytes) -> bool:
    from cryptography import x509

    from kubeadm_py.pki.verify import signed_by

    try:
        return signed_by(x509.load_pem_x509_certificate(cert_pem), x509.load_pem_x509_certificate(ca_pem))
    except ValueError:
        return False
