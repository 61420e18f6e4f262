"""Connection settings from the kubeconfig files kubeadm writes, without the ``kubernetes`` package.

Importing the official client's loader costs about 0.2 s per process, on every cluster-side
command. The files kubeadm-py (and kubeadm) write use a small subset of the format: a current
context naming a cluster with ``server``, ``certificate-authority[-data]``,
``insecure-skip-tls-verify``, ``tls-server-name``, and a user with a client certificate and key
(inline or as files) or a bearer ``token``. :func:`read_simple` reads exactly that subset; for
anything else (exec plugins, auth providers, token files, basic auth, proxies, other keys) it
returns None and :mod:`kubeadm_py.kube.transport` uses the ``kubernetes`` loader as before, which
also words the errors for malformed files.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

CLUSTER_KEYS = frozenset(
    {"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
     "tls-server-name", "extensions"}
)  # fmt: skip
USER_KEYS = frozenset(
    {"client-certificate", "client-key", "client-certificate-data", "client-key-data", "token", "extensions"}
)


@dataclass(frozen=True)
class Settings:
    server: str
    ca_pem: bytes | None = None  # certificate-authority-data, decoded
    ca_file: str | None = None  # certificate-authority, absolute
    insecure: bool = False
    tls_server_name: str | None = None
    cert_pem: bytes | None = None  # client-certificate-data, decoded
    cert_file: str | None = None
    key_pem: bytes | None = None
    key_file: str | None = None
    token: str | None = None


def _named(items: Any, name: Any, field: str) -> dict[str, Any] | None:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("name") == name and isinstance(item.get(field), dict):
            body: dict[str, Any] = item[field]
            return body
    return None


def _data(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _path(value: Any, base: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value if os.path.isabs(value) else os.path.join(base, value)


def read_simple(text: str, path: str) -> Settings | None:
    """Settings of the current context of the kubeconfig ``text`` (read from ``path``), or None
    when it uses anything beyond the subset described in the module docstring."""
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict) or not doc.get("current-context"):
        return None
    context = _named(doc.get("contexts"), doc["current-context"], "context")
    if context is None:
        return None
    cluster = _named(doc.get("clusters"), context.get("cluster"), "cluster")
    user = _named(doc.get("users"), context.get("user"), "user")
    if cluster is None or user is None or set(cluster) - CLUSTER_KEYS or set(user) - USER_KEYS:
        return None
    server = cluster.get("server")
    if not isinstance(server, str) or not server:
        return None
    base = os.path.dirname(os.path.abspath(path))
    s = Settings(
        server=server,
        ca_pem=_data(cluster.get("certificate-authority-data")),
        ca_file=_path(cluster.get("certificate-authority"), base),
        insecure=cluster.get("insecure-skip-tls-verify") is True,
        tls_server_name=cluster.get("tls-server-name") or None,
        cert_pem=_data(user.get("client-certificate-data")),
        cert_file=_path(user.get("client-certificate"), base),
        key_pem=_data(user.get("client-key-data")),
        key_file=_path(user.get("client-key"), base),
        token=user.get("token") if isinstance(user.get("token"), str) else None,
    )
    # Data that did not decode, or a certificate without its key: let the full loader report it.
    for key, decoded in (
        ("certificate-authority-data", s.ca_pem),
        ("client-certificate-data", s.cert_pem),
        ("client-key-data", s.key_pem),
    ):
        owner = cluster if key.startswith("certificate-authority") else user
        if key in owner and decoded is None:
            return None
    has_cert = s.cert_pem is not None or s.cert_file is not None
    has_key = s.key_pem is not None or s.key_file is not None
    if has_cert != has_key:
        return None
    return s
