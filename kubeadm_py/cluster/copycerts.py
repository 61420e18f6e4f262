"""``upload-certs`` and join's ``download-certs`` (upstream ``phases/copycerts`` and
``util/crypto``): the shared CA keys and certificates, each AES-256-GCM encrypted with the
32-byte certificate key (64 hex characters), stored as ``nonce(12) || ciphertext || tag(16)`` in
Secret ``kube-system/kubeadm-certs``, owned by a 2-hour bootstrap token so it expires with it."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kubeadm_py.cluster import rbac
from kubeadm_py.constants import BOOTSTRAPPERS_GROUP, KUBE_SYSTEM, KUBEADM_CERTS_SECRET
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CERT_MODE, KEY_MODE
from kubeadm_py.tokens.model import b64

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient

Obj = dict[str, Any]
CERTS_ROLE = "kubeadm:kubeadm-certs"
NONCE_SIZE = 12


def create_certificate_key() -> str:
    return secrets.token_hex(32)


def decode_key(key: str) -> bytes:
    if any(c not in "0123456789abcdefABCDEF" for c in key):
        raise KubeadmError("error decoding certificate key: not a hex string")
    raw = bytes.fromhex(key)
    if len(raw) != 32:
        raise KubeadmError(
            f"invalid certificate key: expected 32 bytes (64 hex characters), got {len(raw)} bytes",
            hint="generate one with 'kubeadm-py certs certificate-key'",
        )
    return raw


def encrypt_bytes(data: bytes, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, data, None)


def decrypt_bytes(data: bytes, key: bytes) -> bytes:
    if len(data) < NONCE_SIZE:
        raise KubeadmError("size of data is less than the nonce size")
    try:
        return AESGCM(key).decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], None)
    except InvalidTag:
        raise KubeadmError(
            "error decoding secret data with provided key: cipher: message authentication failed",
            hint="is --certificate-key the key printed by 'init phase upload-certs'?",
        ) from None


def secret_key_name(name: str) -> str:
    """certOrKeyNameToSecretName: ``etcd/ca.crt`` -> ``etcd-ca.crt``."""
    return name.replace("/", "-")


def certs_to_transfer(cfg: KubeadmConfig) -> dict[str, str]:
    """Secret entry name -> host path, as upstream's certsToTransfer."""
    d = cfg.cert_dir.rstrip("/")
    names = ["ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.pub", "sa.key"]
    out = {n: f"{d}/{n}" for n in names}
    external = (cfg.cluster.get("etcd") or {}).get("external")
    if external is None:
        out["etcd/ca.crt"] = f"{d}/etcd/ca.crt"
        out["etcd/ca.key"] = f"{d}/etcd/ca.key"
    else:
        out["external-etcd-ca.crt"] = str(external.get("caFile") or "")
        out["external-etcd.crt"] = str(external.get("certFile") or "")
        out["external-etcd.key"] = str(external.get("keyFile") or "")
    return out


def read_plaintexts(fs: HostFS, cfg: KubeadmConfig) -> dict[str, bytes]:
    """Secret key -> file content (empty when the file is missing, as upstream stores it)."""
    out: dict[str, bytes] = {}
    for name, path in certs_to_transfer(cfg).items():
        data = fs.read_bytes(path) if path else None
        out[secret_key_name(name)] = data or b""
    return out


def certs_secret(plain: dict[str, bytes], key: bytes, owner_token_id: str, owner_uid: str) -> Obj:
    data = {k: b64(encrypt_bytes(v, key)) if v else "" for k, v in plain.items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": KUBEADM_CERTS_SECRET,
            "namespace": KUBE_SYSTEM,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "name": f"bootstrap-token-{owner_token_id}",
                    "uid": owner_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "type": "Opaque",
        "data": data,
    }


def certs_rbac() -> list[Obj]:
    return [
        rbac.role(CERTS_ROLE, KUBE_SYSTEM, [rbac.rule(["get"], ["secrets"], names=[KUBEADM_CERTS_SECRET])]),
        rbac.role_binding(CERTS_ROLE, KUBE_SYSTEM, CERTS_ROLE, [rbac.group(BOOTSTRAPPERS_GROUP)]),
    ]


def decrypt_secret(secret: Obj, key: bytes) -> dict[str, bytes]:
    """All entries decrypted; any failure fails the whole download (no partial result)."""
    import base64

    out: dict[str, bytes] = {}
    for name, value in (secret.get("data") or {}).items():
        raw = base64.b64decode(value or "")
        out[name] = decrypt_bytes(raw, key) if raw else b""
    return out


@dataclass(frozen=True)
class DownloadedFile:
    name: str
    path: str
    data: bytes
    mode: int


def classify(data: bytes) -> int:
    """KEY_MODE for a private key, CERT_MODE for a certificate or public key (writeCertOrKey)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_private_key(data, password=None)
        return KEY_MODE
    except (ValueError, TypeError):
        pass
    try:
        x509.load_pem_x509_certificate(data)
        return CERT_MODE
    except ValueError:
        pass
    try:
        serialization.load_pem_public_key(data)
        return CERT_MODE
    except (ValueError, TypeError):
        raise KubeadmError("unknown data found in Secret entry") from None


def download_certs(client: KubeClient, cfg: KubeadmConfig, certificate_key: str) -> list[DownloadedFile]:
    """Fetch and decrypt ``kubeadm-certs``; returns the files to write (empty entries skipped)."""
    key = decode_key(certificate_key)
    secret = client.get("Secret", KUBEADM_CERTS_SECRET, KUBE_SYSTEM)
    if secret is None:
        raise KubeadmError(
            f'Secret "{KUBEADM_CERTS_SECRET}" was not found in the "{KUBE_SYSTEM}" Namespace. This Secret '
            "might have expired. Please, run `kubeadm-py init phase upload-certs --upload-certs` on a "
            "control plane to generate a new one"
        )
    plain = decrypt_secret(secret, key)
    files: list[DownloadedFile] = []
    for name, path in certs_to_transfer(cfg).items():
        entry = secret_key_name(name)
        if entry not in plain:
            raise KubeadmError(
                f"the Secret does not include the required certificate or key - name: {name}, path: {path}"
            )
        if not plain[entry]:
            continue
        files.append(DownloadedFile(name, path, plain[entry], classify(plain[entry])))
    return files


def write_downloaded(fs: HostFS, files: list[DownloadedFile]) -> list[Change]:
    return [fs.write(f.path, f.data, f.mode, secret=f.mode == KEY_MODE) for f in files]
