"""Rotating the service-account signing key (``kubeadm-py certs rotate-sa``): the data side.

The API server signs ServiceAccount tokens with ``--service-account-signing-key-file`` (``sa.key``)
and accepts tokens whose signature verifies with any ``--service-account-key-file`` (a repeatable
flag; kubeadm passes ``sa.pub`` once). kube-controller-manager signs the legacy token Secrets with
``--service-account-private-key-file`` (``sa.key``). A rotation in two steps keeps every existing
token working until the operator finishes it:

* begin: the current ``sa.pub`` is kept as ``sa-previous.pub``, a new ``sa.key``/``sa.pub`` pair is
  written, the API server manifest gets a second ``--service-account-key-file`` for
  ``sa-previous.pub`` (the kubelet restarts it: new tokens signed with the new key, old ones still
  accepted), and kube-controller-manager is restarted (annotation :data:`KEY_ANNOTATION` on its
  manifest, the hash of the public key it must sign with) so it signs with the new key too.
* finish: legacy token Secrets signed with the previous key are deleted (the token controller
  writes them again with the new key), the second flag and the annotation are removed, and
  ``sa-previous.pub`` is deleted. Tokens signed with the previous key stop working: Pods that
  mounted a deleted Secret's token need a restart to read the new one.

The rotation is "in progress" exactly while ``sa-previous.pub`` exists, so every step is a
comparison of the node with the wanted state and a rerun after a failure continues.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.pod import from_yaml, to_yaml
from kubeadm_py.pki.keys import PublicKey, public_der

PREVIOUS_PUB = "sa-previous.pub"
KEY_FLAG = "--service-account-key-file"
KEY_ANNOTATION = "kubeadm-py.io/service-account-key"
TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"


def key_id(pub: PublicKey) -> str:
    """What :data:`KEY_ANNOTATION` holds: sha256 of the public key's DER, hex."""
    return "sha256:" + hashlib.sha256(public_der(pub)).hexdigest()


def _container(pod: Any, name: str, source: str) -> dict[str, Any]:
    for c in (pod.get("spec") or {}).get("containers") or []:
        if isinstance(c, dict) and c.get("name") == name:
            return c
    raise KubeadmError(f"{source}: no {name} container")


def apiserver_manifest(text: bytes | str, source: str, previous_pub_path: str, trust_previous: bool) -> bytes:
    """The kube-apiserver manifest with (or without) ``--service-account-key-file`` for the
    previous public key, placed right after the existing one."""
    pod = from_yaml(text, source)
    container = _container(pod, "kube-apiserver", source)
    command = [str(w) for w in container.get("command") or []]
    extra = f"{KEY_FLAG}={previous_pub_path}"
    command = [w for w in command if w != extra]
    if trust_previous:
        at = max((i for i, w in enumerate(command) if w.startswith(KEY_FLAG + "=")), default=None)
        if at is None:
            raise KubeadmError(f"{source}: the kube-apiserver command has no {KEY_FLAG}")
        command.insert(at + 1, extra)
    container["command"] = command
    return to_yaml(pod).encode()


def controller_manager_manifest(text: bytes | str, source: str, signing_key: str | None) -> bytes:
    """The kube-controller-manager manifest annotated with the key it must sign with (a changed
    annotation makes the kubelet restart it), or without the annotation."""
    pod = from_yaml(text, source)
    _container(pod, "kube-controller-manager", source)
    meta = pod.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    if signing_key:
        annotations[KEY_ANNOTATION] = signing_key
    else:
        annotations.pop(KEY_ANNOTATION, None)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return to_yaml(pod).encode()


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def signed_by(token: str, pub: PublicKey) -> bool:
    """Whether the JWT ``token`` carries a valid RS256/ES256 signature by ``pub``."""
    try:
        header_b64, payload_b64, sig_b64 = token.split(".")
        header = json.loads(_b64(header_b64))
        signature = _b64(sig_b64)
    except ValueError:
        return False
    message = f"{header_b64}.{payload_b64}".encode()
    try:
        if isinstance(pub, rsa.RSAPublicKey) and header.get("alg") == "RS256":
            pub.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(pub, ec.EllipticCurvePublicKey) and header.get("alg") in ("ES256", "ES384"):
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

            half = len(signature) // 2
            r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            algo = hashes.SHA256() if header["alg"] == "ES256" else hashes.SHA384()
            pub.verify(encode_dss_signature(r, s), message, ec.ECDSA(algo))
            return True
    except InvalidSignature:
        return False
    return False


def secrets_signed_by(secrets: list[dict[str, Any]], pub: PublicKey) -> list[tuple[str, str]]:
    """(namespace, name) of the legacy ServiceAccount token Secrets whose token ``pub`` signed."""
    out = []
    for s in secrets:
        if s.get("type") != TOKEN_SECRET_TYPE:
            continue
        raw = (s.get("data") or {}).get("token")
        if not raw:
            continue
        try:
            token = base64.b64decode(raw).decode()
        except ValueError:
            continue
        if signed_by(token, pub):
            meta = s.get("metadata") or {}
            out.append((str(meta.get("namespace") or ""), str(meta.get("name") or "")))
    return out
