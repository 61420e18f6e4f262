"""Rotating the cluster CA (``kubeadm-py certs rotate-ca begin|sync|switch|finish|status``): the
state machine and the cluster objects that carry it (docs/pki.md).

The rotation state lives in ConfigMap ``kube-system/kubeadm-py-ca-rotation`` (stage, generation,
old and new CA certificates); the new CA key in Secret ``kube-system/kubeadm-py-ca-rotation``,
AES-256-GCM encrypted with a certificate key exactly as ``upload-certs`` stores the shared keys.
Every node converges to the stage with ``sync`` and records its progress on its own Node object
(:data:`NODE_STAGE`, :data:`NODE_ISSUER`): NodeRestriction lets a node patch itself, a Role lets
``system:nodes`` read the ConfigMap. ``switch`` is refused until every node synced ``begin``,
``finish`` until every node synced ``switch`` (the refusal names them).

Stages, as a table (:data:`STAGES`): what a node trusts and which CA signs its certificates.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from kubeadm_py.constants import KUBE_SYSTEM, NODES_GROUP
from kubeadm_py.errors import KubeadmError

Obj = dict[str, Any]
NAME = "kubeadm-py-ca-rotation"  # the ConfigMap, the Secret and the Role
NODE_STAGE = "kubeadm-py.io/ca-rotation"  # "<generation>/<stage>" the node synced
NODE_ISSUER = "kubeadm-py.io/ca-issuer"  # fingerprint of the CA that signed the node's kubelet client cert
BUNDLE = "ca-bundle.crt"  # trust bundle next to ca.crt while both CAs are trusted
NEW_BASE = "ca-new"  # the new CA on control-plane nodes until switch
OLD_BASE = "ca-old"  # the old CA on control-plane nodes from switch until finish


@dataclass(frozen=True)
class Stage:
    name: str
    trust: tuple[str, ...]  # which CAs ("old", "new") every bundle holds
    signer: str  # which CA is ca.crt/ca.key and signs every certificate


STAGES = {
    s.name: s
    for s in (
        Stage("begin", ("old", "new"), "old"),
        Stage("switch", ("old", "new"), "new"),
        Stage("finished", ("new",), "new"),
    )
}
ORDER = ("begin", "switch", "finished")

# command -> (stages it may start from; None: no rotation), the stage it sets, the stage every node
# must have synced first
COMMANDS: dict[str, tuple[tuple[str | None, ...], str, str | None]] = {
    "begin": ((None, "finished", "begin"), "begin", None),
    "switch": (("begin", "switch"), "switch", "begin"),
    "finish": (("switch", "finished"), "finished", "switch"),
}


def fingerprint(cert_pem: bytes) -> str:
    """sha256 of the certificate's DER, first 16 hex characters (what annotations and status show)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


@dataclass(frozen=True)
class Rotation:
    generation: int
    stage: str
    old: bytes  # PEM
    new: bytes  # PEM

    @property
    def spec(self) -> Stage:
        return STAGES[self.stage]

    def pem(self, which: str) -> bytes:
        return self.old if which == "old" else self.new

    @property
    def trust(self) -> bytes:
        """The bundle: every trusted CA, PEM, concatenated."""
        return b"".join(_nl(self.pem(w)) for w in self.spec.trust)

    @property
    def signer(self) -> bytes:
        return self.pem(self.spec.signer)

    def with_stage(self, stage: str) -> Rotation:
        return Rotation(self.generation, stage, self.old, self.new)

    def configmap(self) -> Obj:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": KUBE_SYSTEM},
            "data": {
                "stage": self.stage,
                "generation": str(self.generation),
                "old-ca.crt": self.old.decode(),
                "new-ca.crt": self.new.decode(),
                BUNDLE: self.trust.decode(),
            },
        }


def _nl(pem: bytes) -> bytes:
    return pem if pem.endswith(b"\n") else pem + b"\n"


def from_configmap(cm: Obj | None) -> Rotation | None:
    if cm is None:
        return None
    data = cm.get("data") or {}
    try:
        rot = Rotation(
            int(data["generation"]),
            str(data["stage"]),
            data["old-ca.crt"].encode(),
            data["new-ca.crt"].encode(),
        )
    except (KeyError, ValueError, AttributeError):
        raise KubeadmError(
            f"ConfigMap {KUBE_SYSTEM}/{NAME} is malformed (stage, generation, old-ca.crt, new-ca.crt)"
        ) from None
    if rot.stage not in STAGES:
        raise KubeadmError(f"ConfigMap {KUBE_SYSTEM}/{NAME}: unknown stage {rot.stage!r}")
    return rot


def next_stage(command: str, current: Rotation | None) -> str:
    """The stage ``command`` sets from ``current``, or a one-line refusal."""
    allowed, target, _ = COMMANDS[command]
    now = current.stage if current is not None else None
    if now not in allowed:
        shown = now or "none (no rotation)"
        raise KubeadmError(
            f"certs rotate-ca {command} cannot run at stage {shown}",
            hint=f"it runs after: {', '.join(s or 'no rotation' for s in allowed if s != target) or 'begin'}",
        )
    return target


def synced(annotation: str, generation: int, stage: str) -> bool:
    """Whether a node whose :data:`NODE_STAGE` is ``annotation`` synced ``stage`` of ``generation``
    (or a later stage)."""
    gen, _, done = annotation.partition("/")
    return gen == str(generation) and done in ORDER and ORDER.index(done) >= ORDER.index(stage)


def lagging_nodes(nodes: list[Obj], rot: Rotation, stage: str) -> list[str]:
    """Names of the nodes that have not synced ``stage`` of ``rot``; from ``switch`` on, also those whose
    kubelet client certificate is not signed by the new CA."""
    new = fingerprint(rot.new)
    out = []
    for n in nodes:
        meta = n.get("metadata") or {}
        ann = meta.get("annotations") or {}
        ok = synced(str(ann.get(NODE_STAGE, "")), rot.generation, stage)
        if ok and stage != "begin":
            ok = ann.get(NODE_ISSUER) == new
        if not ok:
            out.append(str(meta.get("name", "")))
    return sorted(out)


def refuse_lagging(nodes: list[Obj], rot: Rotation, command: str) -> None:
    needed = COMMANDS[command][2]
    if needed is None:
        return
    late = lagging_nodes(nodes, rot, needed)
    if late:
        raise KubeadmError(
            f"certs rotate-ca {command}: {len(late)} node(s) have not synced stage {needed} of rotation "
            f"{rot.generation}: {', '.join(late)}",
            hint="run 'kubeadm-py certs rotate-ca sync' on each of them (see 'certs rotate-ca status')",
        )


def upgrade_refusal(rot: Rotation | None, nodes: list[Obj] | None) -> str | None:
    """Why ``upgrade apply|node`` must not run now (the ``CARotationInProgress`` preflight check), or
    None. Until ``finish`` the nodes trust both CAs through ``ca-bundle.crt``; the upgrade's static Pod
    manifests (``--client-ca-file``, ``--root-ca-file``) and the kubelet configuration from the cluster
    (``clientCAFile``) would name ``ca.crt`` again, which holds one CA only. ``nodes`` (None: not
    readable) names those that have not synced the current stage."""
    if rot is None or rot.stage == "finished":
        return None
    late = lagging_nodes(nodes, rot, rot.stage) if nodes is not None else []
    lag = f"; not synced yet: {', '.join(late)}" if late else ""
    return (
        f"a CA rotation is in progress (ConfigMap {KUBE_SYSTEM}/{NAME}: rotation {rot.generation}, "
        f"stage {rot.stage}{lag}); the upgrade would point the trust it changes back at ca.crt"
    )


def node_rows(nodes: list[Obj], rot: Rotation | None) -> list[Obj]:
    """Per node: the stage it synced and which CA signed its kubelet client certificate."""
    names = {fingerprint(rot.old): "old", fingerprint(rot.new): "new"} if rot else {}
    rows = []
    for n in nodes:
        meta = n.get("metadata") or {}
        ann = meta.get("annotations") or {}
        issuer = str(ann.get(NODE_ISSUER, ""))
        rows.append(
            {
                "node": str(meta.get("name", "")),
                "synced": str(ann.get(NODE_STAGE, "")) or "never",
                "issuer": names.get(issuer, issuer or "unknown"),
            }
        )
    return sorted(rows, key=lambda r: r["node"])


def status_doc(nodes: list[Obj], rot: Rotation | None) -> Obj:
    doc: Obj = {"stage": rot.stage if rot else "none", "nodes": node_rows(nodes, rot)}
    if rot is not None:
        doc["generation"] = rot.generation
        doc["oldCA"] = fingerprint(rot.old)
        doc["newCA"] = fingerprint(rot.new)
        doc["trusted"] = list(rot.spec.trust)
        doc["signer"] = rot.spec.signer
    return doc


def status_lines(doc: Obj) -> list[str]:
    out = [f"stage: {doc['stage']}"]
    if "generation" in doc:
        out.append(
            f"generation: {doc['generation']}  old CA: {doc['oldCA']}  new CA: {doc['newCA']}  "
            f"trusted: {'+'.join(doc['trusted'])}  signing: {doc['signer']}"
        )
    out.append(f"{'NODE':<24} {'SYNCED':<16} KUBELET CLIENT CERT FROM")
    out += [f"{r['node']:<24} {r['synced']:<16} {r['issuer']}" for r in doc["nodes"]]
    return out


def key_secret(cert_pem: bytes, key_pem: bytes, certificate_key: bytes) -> Obj:
    """The new CA for other control-plane nodes: the key encrypted as upload-certs does."""
    from kubeadm_py.cluster.copycerts import encrypt_bytes

    enc = {"ca.crt": cert_pem, "ca.key": key_pem}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": KUBE_SYSTEM},
        "type": "Opaque",
        "data": {k: base64.b64encode(encrypt_bytes(v, certificate_key)).decode() for k, v in enc.items()},
    }


def read_key_secret(secret: Obj | None, certificate_key: str) -> tuple[bytes, bytes]:
    from kubeadm_py.cluster.copycerts import decode_key, decrypt_secret

    if secret is None:
        raise KubeadmError(f"Secret {KUBE_SYSTEM}/{NAME} not found: the new CA key cannot be downloaded")
    plain = decrypt_secret(secret, decode_key(certificate_key))
    if not plain.get("ca.crt") or not plain.get("ca.key"):
        raise KubeadmError(f"Secret {KUBE_SYSTEM}/{NAME} lacks ca.crt or ca.key")
    return plain["ca.crt"], plain["ca.key"]


def reader_rbac() -> list[Obj]:
    """``system:nodes`` may read the rotation ConfigMap (workers sync with kubelet.conf)."""
    from kubeadm_py.cluster import rbac

    return [
        rbac.role(NAME, KUBE_SYSTEM, [rbac.rule(["get"], ["configmaps"], names=[NAME])]),
        rbac.role_binding(NAME, KUBE_SYSTEM, NAME, [rbac.group(NODES_GROUP)]),
    ]
