"""The kubeconfig documents discovery reads and writes.

``cluster-info`` holds a kubeconfig with one unnamed cluster (key ``""``) and no users; a discovery
file is any kubeconfig whose current context (or only cluster) names the cluster to join."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubeadm_py.errors import KubeadmError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

Doc = dict[str, Any]
ReadFile = Callable[[str], "bytes | None"]
DEFAULT_CLUSTER_NAME = "kubernetes"
TLS_BOOTSTRAP_USER = "tls-bootstrap-token-user"  # upstream discovery.TokenUser


@dataclass(frozen=True)
class ClusterEntry:
    """The cluster to join: API server URL and CA bundle (PEM, possibly several certificates)."""

    name: str
    server: str
    ca_pem: bytes
    insecure: bool = False  # CA not verified (unsafe skip)
    # Credentials the discovery file carried (user entry as in the file), if any.
    user: Doc = field(default_factory=dict)


def parse(text: str, source: str) -> Doc:
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KubeadmError(f"couldn't parse the kubeconfig in {source}{where}") from None
    if not isinstance(doc, dict):
        raise KubeadmError(f"couldn't parse the kubeconfig in {source}: not a kubeconfig document")
    return doc


def _named(doc: Doc, key: str, inner: str) -> dict[str, Doc]:
    out: dict[str, Doc] = {}
    for item in doc.get(key) or []:
        if isinstance(item, dict):
            out[str(item.get("name") or "")] = item.get(inner) or {}
    return out


def _ca_bytes(cluster: Doc, source: str, read_file: ReadFile | None = None) -> bytes:
    data = cluster.get("certificate-authority-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            raise KubeadmError(f"{source}: certificate-authority-data is not valid base64") from None
    path = cluster.get("certificate-authority")
    if path and read_file is not None:
        content = read_file(str(path))
        if content is None:
            raise KubeadmError(f"{source}: certificate-authority file {path} not found")
        return bytes(content)
    return b""


def cluster_from(doc: Doc, source: str, read_file: ReadFile | None = None) -> ClusterEntry:
    """The current context's cluster (GetClusterFromKubeConfig): the current-context's cluster, else
    the only / unnamed cluster. ``read_file`` resolves a ``certificate-authority`` path."""
    clusters = _named(doc, "clusters", "cluster")
    if not clusters:
        raise KubeadmError(f"{source}: the kubeconfig must have at least one cluster defined")
    contexts = _named(doc, "contexts", "context")
    users = _named(doc, "users", "user")
    current = str(doc.get("current-context") or "")
    user: Doc = {}
    if current in contexts and str(contexts[current].get("cluster") or "") in clusters:
        name = str(contexts[current].get("cluster") or "")
        user = users.get(str(contexts[current].get("user") or ""), {})
    elif "" in clusters:
        name = ""
    elif len(clusters) == 1:
        name = next(iter(clusters))
    else:
        raise KubeadmError(
            f"{source}: malformed kubeconfig: several clusters and no current-context naming one of them"
        )
    cluster = clusters[name]
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        raise KubeadmError(f"{source}: malformed kubeconfig: cluster server {server!r} is not an https URL")
    return ClusterEntry(name, server, _ca_bytes(cluster, source, read_file), user=dict(user))


def parse_certs(pem: bytes, source: str) -> list[Certificate]:
    """Every certificate in a PEM bundle (certutil.ParseCertsPEM)."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        certs = []
    if not certs:
        raise KubeadmError(f"failed to parse the cluster CA from {source}: no PEM certificate found")
    return certs


CREDENTIAL_KEYS = (
    "token",
    "tokenFile",
    "client-certificate",
    "client-certificate-data",
    "client-key",
    "client-key-data",
    "exec",
    "auth-provider",
    "username",
)


def has_credentials(user: Doc) -> bool:
    return any(user.get(k) for k in CREDENTIAL_KEYS)


def token_kubeconfig(entry: ClusterEntry, token: str, cluster_name: str = DEFAULT_CLUSTER_NAME) -> Doc:
    """kubeconfigutil.CreateWithToken: cluster ``kubernetes``, user ``tls-bootstrap-token-user``."""
    from kubeadm_py.kubeconfig.build import document

    return document(
        entry.server, cluster_name, TLS_BOOTSTRAP_USER, entry.ca_pem, {"token": token}, preferences=True
    )


def user_kubeconfig(entry: ClusterEntry, user_name: str = TLS_BOOTSTRAP_USER) -> Doc:
    """A kubeconfig reusing the discovery file's own credentials (embedded)."""
    from kubeadm_py.kubeconfig.build import b64

    ctx = f"{user_name}@{DEFAULT_CLUSTER_NAME}"
    return {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {"certificate-authority-data": b64(entry.ca_pem), "server": entry.server},
                "name": DEFAULT_CLUSTER_NAME,
            }
        ],
        "contexts": [{"context": {"cluster": DEFAULT_CLUSTER_NAME, "user": user_name}, "name": ctx}],
        "current-context": ctx,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user_name, "user": dict(sorted(entry.user.items()))}],
    }
