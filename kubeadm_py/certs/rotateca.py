"""Rotating the cluster CA (``kubeadm-py certs rotate-ca begin|sync|switch|finish|status``): the
state machine and the cluster objects that carry it (docs/pki.md).

The rotation state lives in ConfigMap ``kube-system/kubeadm-py-ca-rotation`` (stage, generation,
old and new CA certificates); the new CA key in Secret ``kube-system/kubeadm-py-ca-rotation``,
AES-256-GCM encrypted with a certificate key exactly as ``upload-certs`` stores the shared keys.
Every node converges to the stage with ``sync`` and records its progress on its own Node object
(:data:`NODE_STAGE`, :data:`NODE_ISSUER`): NodeRestriction lets a node patch itself, a Role lets
``system:nodes`` read the ConfigMap. ``switch`` is refused until every node synced ``begin``,
``finish`` until every node synced ``switch`` (the refusal names them).

Stages, as a table (:data:`STAGES`): what a node trusts and which CA signs its certificates. The
CAs a rotation covers, as a table too (:data:`CAS`): the cluster CA always, the front-proxy CA with
``begin --front-proxy``, the local etcd's CA with ``begin --etcd``; the ConfigMap's ``cas`` names them,
so every later command follows that set.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from kubeadm_py.certs.rotateca_files import TRUST_FLAGS
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
class CASpec:
    """One CA ``certs rotate-ca`` rotates: its files, the bundle that is its trust while two CAs are,
    and who trusts it (control-plane flags, the key of ConfigMap
    ``kube-system/extension-apiserver-authentication`` the API server publishes it under)."""

    name: str  # as the ConfigMap's "cas", status and begin's option name it
    base: str  # <base>.crt/.key under the PKI directory; also its entry in pki/specs.py
    bundle: str  # the trust file while both CAs are trusted (and after finish: the new CA alone)
    new_base: str  # the new CA on control-plane nodes until switch
    old_base: str  # the old CA from switch until finish
    trust_flags: dict[str, tuple[str, ...]]  # component -> the flags naming this CA as trust
    published: str  # the key of extension-apiserver-authentication holding this trust ("": none)
    prefix: str  # of the rotation ConfigMap's keys for this CA ("" for the cluster CA)
    control_plane_only: bool  # workers hold none of its files
    node_annotation: str  # fingerprint of the CA that issued this node's ``issued`` certificate
    issued: str  # the certificate status names the issuer of, per node
    # components that read this CA's bundle at start only: restarted when its content changes
    restarted: tuple[str, ...] = ()
    spec: str = ""  # its row in pki/specs.py when not named as ``base``

    @property
    def spec_name(self) -> str:
        return self.spec or self.base


CLUSTER = "cluster"
FRONT_PROXY = "front-proxy"
ETCD = "etcd"
CAS = {
    c.name: c
    for c in (
        CASpec(
            name=CLUSTER,
            base="ca",
            bundle=BUNDLE,
            new_base=NEW_BASE,
            old_base=OLD_BASE,
            trust_flags=TRUST_FLAGS,
            published="client-ca-file",
            prefix="",
            control_plane_only=False,
            node_annotation=NODE_ISSUER,
            issued="kubelet client certificate",
        ),
        CASpec(
            name=FRONT_PROXY,
            base="front-proxy-ca",
            bundle="front-proxy-ca-bundle.crt",
            new_base="front-proxy-ca-new",
            old_base="front-proxy-ca-old",
            trust_flags={
                "kube-apiserver": ("--requestheader-client-ca-file",),
                "kube-controller-manager": ("--requestheader-client-ca-file",),
            },
            published="requestheader-client-ca-file",
            prefix="front-proxy-",
            control_plane_only=True,  # workers never get front-proxy files
            node_annotation="kubeadm-py.io/front-proxy-issuer",
            issued="front-proxy-client.crt",
        ),
        CASpec(
            name=ETCD,  # local etcd only (begin refuses --etcd with an external etcd)
            base="etcd/ca",
            bundle="etcd/ca-bundle.crt",
            new_base="etcd/ca-new",
            old_base="etcd/ca-old",
            trust_flags={  # the API server's flag change rides on its restart for the cluster CA
                "etcd": ("--trusted-ca-file", "--peer-trusted-ca-file"),
                "kube-apiserver": ("--etcd-cafile",),
            },
            published="",  # none: aggregated API servers never see etcd
            prefix="etcd-",
            control_plane_only=True,
            node_annotation="kubeadm-py.io/etcd-issuer",
            issued="etcd/server.crt",
            # etcd reads its trusted CA files at start only (it reloads its serving and peer
            # certificates at every handshake): restarted at begin and at finish, not at switch
            restarted=("etcd",),
            spec="etcd-ca",
        ),
    )
}
OPTIONAL = tuple(n for n in CAS if n != CLUSTER)  # rotated when begin is asked to


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


def _der_fingerprint(cert: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()[:16]


def fingerprint(cert_pem: bytes) -> str:
    """sha256 of the certificate's DER, first 16 hex characters (what annotations and status show)."""
    from cryptography import x509

    return _der_fingerprint(x509.load_pem_x509_certificate(cert_pem))


def fingerprints(bundle: bytes | str) -> frozenset[str]:
    """The :func:`fingerprint` of every certificate of a PEM bundle (PEM text may differ byte-wise)."""
    from cryptography import x509

    text = bundle.encode() if isinstance(bundle, str) else bundle
    if b"-----BEGIN CERTIFICATE-----" not in text:
        return frozenset()
    return frozenset(_der_fingerprint(c) for c in x509.load_pem_x509_certificates(text))


@dataclass(frozen=True)
class Rotation:
    generation: int
    stage: str
    old: bytes  # PEM of the cluster CA
    new: bytes  # PEM
    extra: tuple[tuple[str, bytes, bytes], ...] = ()  # (name in CAS, old PEM, new PEM) of optional CAs

    @property
    def spec(self) -> Stage:
        return STAGES[self.stage]

    @property
    def cas(self) -> tuple[CASpec, ...]:
        """The CAs this rotation covers, the cluster CA first."""
        return (CAS[CLUSTER], *(CAS[name] for name, _, _ in self.extra))

    def pair(self, ca: str) -> tuple[bytes, bytes]:
        """(old, new) PEM of CA ``ca``."""
        if ca == CLUSTER:
            return self.old, self.new
        return next((old, new) for name, old, new in self.extra if name == ca)

    def pem(self, which: str, ca: str = CLUSTER) -> bytes:
        old, new = self.pair(ca)
        return old if which == "old" else new

    def trust_of(self, ca: str) -> bytes:
        """CA ``ca``'s bundle: every trusted one of its two, PEM, concatenated."""
        return b"".join(_nl(self.pem(w, ca)) for w in self.spec.trust)

    def signer_of(self, ca: str) -> bytes:
        return self.pem(self.spec.signer, ca)

    @property
    def trust(self) -> bytes:
        """The cluster CA's bundle."""
        return self.trust_of(CLUSTER)

    @property
    def signer(self) -> bytes:
        return self.signer_of(CLUSTER)

    def with_stage(self, stage: str) -> Rotation:
        return Rotation(self.generation, stage, self.old, self.new, self.extra)

    def configmap(self) -> Obj:
        data = {
            "stage": self.stage,
            "generation": str(self.generation),
            "cas": ",".join(c.name for c in self.cas),
        }
        for ca in self.cas:
            old, new = self.pair(ca.name)
            data[f"{ca.prefix}old-ca.crt"] = old.decode()
            data[f"{ca.prefix}new-ca.crt"] = new.decode()
            data[f"{ca.prefix}{BUNDLE}"] = self.trust_of(ca.name).decode()
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": KUBE_SYSTEM},
            "data": data,
        }


def _nl(pem: bytes) -> bytes:
    return pem if pem.endswith(b"\n") else pem + b"\n"


def from_configmap(cm: Obj | None) -> Rotation | None:
    if cm is None:
        return None
    data = cm.get("data") or {}
    names = [n for n in str(data.get("cas") or CLUSTER).split(",") if n != CLUSTER]
    unknown = [n for n in names if n not in CAS]
    if unknown:
        raise KubeadmError(f"ConfigMap {KUBE_SYSTEM}/{NAME}: unknown CA {unknown[0]!r} in cas")
    try:
        rot = Rotation(
            int(data["generation"]),
            str(data["stage"]),
            data["old-ca.crt"].encode(),
            data["new-ca.crt"].encode(),
            tuple(
                (n, data[f"{CAS[n].prefix}old-ca.crt"].encode(), data[f"{CAS[n].prefix}new-ca.crt"].encode())
                for n in names
            ),
        )
    except (KeyError, ValueError, AttributeError):
        raise KubeadmError(
            f"ConfigMap {KUBE_SYSTEM}/{NAME} is malformed (stage, generation, old-ca.crt, new-ca.crt "
            "and those of every CA in cas)"
        ) from None
    if rot.stage not in STAGES:
        raise KubeadmError(f"ConfigMap {KUBE_SYSTEM}/{NAME}: unknown stage {rot.stage!r}")
    return rot


def stale_published(data: dict[str, Any], rot: Rotation) -> list[str]:
    """The keys of ConfigMap ``kube-system/extension-apiserver-authentication`` (its ``data``) that
    hold another set of CAs than the rotation trusts now (a key the ConfigMap lacks is not one)."""
    keys = {ca.published: ca.name for ca in rot.cas if ca.published in data}
    return [k for k, ca in keys.items() if fingerprints(str(data[k])) != fingerprints(rot.trust_of(ca))]


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
    kubelet client certificate (or the certificate an optional CA issues there) is not from the new CA."""
    new = fingerprint(rot.new)
    optional = [(ca.node_annotation, fingerprint(rot.pem("new", ca.name))) for ca in rot.cas[1:]]
    out = []
    for n in nodes:
        meta = n.get("metadata") or {}
        ann = meta.get("annotations") or {}
        ok = synced(str(ann.get(NODE_STAGE, "")), rot.generation, stage)
        if ok and stage != "begin":
            # a node without an optional CA's annotation holds none of its certificates (a worker)
            ok = ann.get(NODE_ISSUER) == new and all(ann.get(a, fp) == fp for a, fp in optional)
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
    """Per node: the stage it synced and which CA signed its kubelet client certificate; per optional
    CA of the rotation, which of its CAs issued the node's certificate (``-``: the node has none)."""
    cas = rot.cas if rot else (CAS[CLUSTER],)
    names = {
        ca.name: {fingerprint(rot.pem("old", ca.name)): "old", fingerprint(rot.pem("new", ca.name)): "new"}
        for ca in cas
        if rot is not None
    }
    rows = []
    for n in nodes:
        meta = n.get("metadata") or {}
        ann = meta.get("annotations") or {}
        row = {"node": str(meta.get("name", "")), "synced": str(ann.get(NODE_STAGE, "")) or "never"}
        for ca in cas:
            issuer = str(ann.get(ca.node_annotation, ""))
            shown = names.get(ca.name, {}).get(issuer, issuer)
            row["issuer" if ca.name == CLUSTER else ca.name] = shown or (
                "unknown" if ca.name == CLUSTER else "-"
            )
        rows.append(row)
    return sorted(rows, key=lambda r: r["node"])


def status_doc(nodes: list[Obj], rot: Rotation | None) -> Obj:
    doc: Obj = {"stage": rot.stage if rot else "none", "nodes": node_rows(nodes, rot)}
    if rot is not None:
        doc["generation"] = rot.generation
        doc["oldCA"] = fingerprint(rot.old)
        doc["newCA"] = fingerprint(rot.new)
        doc["cas"] = {
            ca.name: {
                "old": fingerprint(rot.pem("old", ca.name)),
                "new": fingerprint(rot.pem("new", ca.name)),
            }
            for ca in rot.cas
        }
        doc["trusted"] = list(rot.spec.trust)
        doc["signer"] = rot.spec.signer
    return doc


def status_lines(doc: Obj) -> list[str]:
    out = [f"stage: {doc['stage']}"]
    optional = [c for c in doc.get("cas", {}) if c != CLUSTER]
    if "generation" in doc:
        out.append(
            f"generation: {doc['generation']}  old CA: {doc['oldCA']}  new CA: {doc['newCA']}  "
            f"trusted: {'+'.join(doc['trusted'])}  signing: {doc['signer']}"
        )
        out.append(f"rotating: {', '.join(doc['cas'])}")
        out += [f"{c} CA: old {doc['cas'][c]['old']}  new {doc['cas'][c]['new']}" for c in optional]
    head = f"{'NODE':<24} {'SYNCED':<16} {'KUBELET CLIENT CERT FROM':<26}"
    out.append(" ".join([head, *(f"{CAS[c].issued.upper()} FROM" for c in optional)]).rstrip())
    out += [
        " ".join([f"{r['node']:<24} {r['synced']:<16} {r['issuer']:<26}", *(r[c] for c in optional)]).rstrip()
        for r in doc["nodes"]
    ]
    return out


def key_secret(pairs: dict[str, tuple[bytes, bytes]], certificate_key: bytes) -> Obj:
    """The new CAs for other control-plane nodes (``pairs``: CA base -> (certificate, key) PEM), each
    encrypted as upload-certs does, as ``<base>.crt``/``<base>.key``."""
    from kubeadm_py.cluster.copycerts import encrypt_bytes, secret_key_name

    enc = {
        secret_key_name(f"{base}.{ext}"): pem
        for base, (crt, key) in pairs.items()
        for ext, pem in (("crt", crt), ("key", key))
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": KUBE_SYSTEM},
        "type": "Opaque",
        "data": {k: base64.b64encode(encrypt_bytes(v, certificate_key)).decode() for k, v in enc.items()},
    }


def read_key_secret(secret: Obj | None, certificate_key: str, base: str = "ca") -> tuple[bytes, bytes]:
    from kubeadm_py.cluster.copycerts import decode_key, decrypt_secret, secret_key_name

    if secret is None:
        raise KubeadmError(f"Secret {KUBE_SYSTEM}/{NAME} not found: the new CA key cannot be downloaded")
    plain = decrypt_secret(secret, decode_key(certificate_key))
    crt, key = secret_key_name(f"{base}.crt"), secret_key_name(f"{base}.key")  # as upload-certs names them
    if not plain.get(crt) or not plain.get(key):
        raise KubeadmError(f"Secret {KUBE_SYSTEM}/{NAME} lacks {crt} or {key}")
    return plain[crt], plain[key]


def reader_rbac() -> list[Obj]:
    """``system:nodes`` may read the rotation ConfigMap (workers sync with kubelet.conf)."""
    from kubeadm_py.cluster import rbac

    return [
        rbac.role(NAME, KUBE_SYSTEM, [rbac.rule(["get"], ["configmaps"], names=[NAME])]),
        rbac.role_binding(NAME, KUBE_SYSTEM, NAME, [rbac.group(NODES_GROUP)]),
    ]
