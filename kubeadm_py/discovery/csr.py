"""The kubelet's side of TLS bootstrap, for tests, benchmarks and nodes without a kubelet yet.

With the bootstrap token's identity (``system:bootstrap:<id>``, group
``system:bootstrappers:kubeadm:default-node-token``), create a CertificateSigningRequest for
``system:node:<name>`` / ``system:nodes`` with signer ``kubernetes.io/kube-apiserver-client-kubelet``
exactly as the kubelet does (ECDSA P-256 key, usages digital signature, key encipherment, client
auth), then wait until the controller-manager's csrapprover approves it (thanks to the
``kubeadm:node-autoapprove-bootstrap`` binding) and csrsigning issues the certificate."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeadm_py.errors import KubeadmError

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient

CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_CLIENT_USAGES = ["digital signature", "key encipherment", "client auth"]


@dataclass(frozen=True)
class IssuedCertificate:
    csr_name: str
    key_pem: bytes
    cert_pem: bytes


def node_csr(node_name: str) -> tuple[bytes, bytes]:
    """(private key PEM, CSR PEM) for the node's client certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def csr_object(node_name: str, csr_pem: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"generateName": "csr-"},
        "spec": {
            "request": base64.b64encode(csr_pem).decode("ascii"),
            "signerName": KUBELET_CLIENT_SIGNER,
            "usages": list(KUBELET_CLIENT_USAGES),
        },
    }


def request_node_certificate(
    client: KubeClient,
    node_name: str,
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> IssuedCertificate:
    """Create the CSR with ``client`` (a KubeClient carrying the bootstrap token) and wait for the
    signed certificate."""
    key_pem, csr_pem = node_csr(node_name)
    created = client.request("POST", CSR_PATH, csr_object(node_name, csr_pem), what="a node client CSR")
    name = str((created.get("metadata") or {}).get("name") or "")
    if not name:
        raise KubeadmError("the API server did not name the CertificateSigningRequest")
    deadline = clock() + timeout
    while True:
        obj = client.request("GET", f"{CSR_PATH}/{name}", what=f"CertificateSigningRequest {name}")
        status = obj.get("status") or {}
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("Denied", "Failed") and cond.get("status", "True") == "True":
                raise KubeadmError(
                    f"CertificateSigningRequest {name} was {cond['type'].lower()}: {cond.get('message', '')}"
                )
        if status.get("certificate"):
            return IssuedCertificate(name, key_pem, base64.b64decode(status["certificate"]))
        if clock() >= deadline:
            approved = any(c.get("type") == "Approved" for c in status.get("conditions") or [])
            raise KubeadmError(
                f"CertificateSigningRequest {name} got no certificate within {timeout:.0f}s "
                f"({'approved but not signed' if approved else 'not approved'})",
                hint="the controller-manager must run the csrapprover and csrsigning controllers with the "
                "cluster CA, and the kubeadm:node-autoapprove-bootstrap binding must exist",
            )
        sleep(interval)
