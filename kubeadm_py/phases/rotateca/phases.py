"""The phases of ``certs rotate-ca begin|sync|switch|finish|status`` (kubeadm_py/certs/rotateca.py).

``stage`` changes the cluster's rotation state (begin, switch, finish: control-plane nodes only);
every later phase converges this node to that state, so ``sync`` is those phases alone and each
command ends with this node synced. Every phase compares the node with the wanted state: a rerun
changes nothing, a rerun after a kill continues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_PUBLIC, KUBE_SYSTEM, KUBELET_KUBECONFIG
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CERT_MODE, CONFIG_MODE, KEY_MODE
from kubeadm_py.phases.rotateca.common import (
    PREFIX,
    kubelet_conf,
    mark_kubelet_restart,
    pki_path,
    rotation_of,
    run_client,
    write_if_changed,
)
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import CASpec, Rotation
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.rotateca.state import RotateCAContext


# --- stage --------------------------------------------------------------------------------------
def run_stage(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    command = ctx.state.command
    client = run_client(ctx)
    current = rc.from_configmap(client.get("ConfigMap", rc.NAME, KUBE_SYSTEM))
    if command == "status":
        doc = rc.status_doc(client.list("Node"), current)
        ctx.outputs.ca_rotation = doc
        for line in rc.status_lines(doc):
            ctx.log(line)
        return []
    if command == "sync":
        if current is None:
            raise KubeadmError(
                "no CA rotation in progress", hint="start one with 'kubeadm-py certs rotate-ca begin'"
            )
        ctx.log(f"{PREFIX} Rotation {current.generation} is at stage {current.stage}: syncing this node")
        ctx.state.rotation = current
        return []
    if not ctx.state.control_plane:
        raise KubeadmError(
            f"certs rotate-ca {command} runs on a control-plane node", hint="run 'certs rotate-ca sync' here"
        )
    target = rc.next_stage(command, current)
    if command == "begin":
        return _begin(ctx, client, current)
    assert current is not None
    rc.refuse_lagging(client.list("Node"), current, command)
    ctx.state.rotation = current.with_stage(target)
    ctx.log(f"{PREFIX} Rotation {current.generation}: stage {target}")
    return [client.apply(ctx.state.rotation.configmap(), detail=f"stage {target}")]


def _begin(ctx: RotateCAContext, client: KubeClient, current: Rotation | None) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    wanted = tuple(n for n in rc.OPTIONAL if getattr(ctx.options, n.replace("-", "_"), None))
    if current is not None and current.stage == "begin":
        missing = [n for n in wanted if n not in {c.name for c in current.cas}]
        if missing:
            raise KubeadmError(
                f"rotation {current.generation} has begun without the {missing[0]} CA",
                hint=f"finish it, then run 'certs rotate-ca begin --{missing[0]}' for a new rotation",
            )
        ctx.log(f"{PREFIX} Rotation {current.generation} already begun: converging this node")
        ctx.state.rotation = current
        return []
    if rc.ETCD in wanted:
        _refuse_external_etcd(ctx)
    cas = (rc.CAS[rc.CLUSTER], *(rc.CAS[n] for n in wanted))
    olds = {}
    for ca in cas:  # every CA and its key, before any write
        olds[ca.name] = ctx.fs.read_bytes(pki_path(ctx, f"{ca.base}.crt"))
        if olds[ca.name] is None or ctx.fs.read_bytes(pki_path(ctx, f"{ca.base}.key")) is None:
            raise KubeadmError(
                f"{pki_path(ctx, ca.base + '.crt')} or {ca.base}.key not found: certs rotate-ca needs the "
                f"{ca.name} CA and its key",
                hint="with an external CA, rotate it as docs/pki.md says",
            )
    changes: list[Change] = []
    news: dict[str, tuple[bytes, bytes]] = {}
    for ca in cas:
        made, new_pem, new_key = _new_ca(ctx, ca)
        changes += made
        news[ca.name] = (new_pem, new_key)
    generation = current.generation + 1 if current is not None else 1
    old_pem, new_pem = olds[rc.CLUSTER], news[rc.CLUSTER][0]
    assert old_pem is not None
    extra = tuple((n, olds[n] or b"", news[n][0]) for n in wanted)
    rot = rc.Rotation(generation, "begin", old_pem, new_pem, extra)
    changes += _key_secret(ctx, client, {ca.base: news[ca.name] for ca in cas})
    changes += [client.apply(obj) for obj in rc.reader_rbac()]
    # the ConfigMap last: once it exists, the rotation has begun and every node can sync to it
    changes.append(client.apply(rot.configmap(), detail=f"rotation {generation}: stage begin"))
    ctx.log(
        f"{PREFIX} Rotation {generation} begun ({', '.join(c.name for c in cas)} CA): new CA "
        f"{rc.fingerprint(new_pem)}, old CA {rc.fingerprint(old_pem)}"
    )
    ctx.state.rotation = rot
    return changes


def _refuse_external_etcd(ctx: RotateCAContext) -> None:
    """``--etcd`` rotates the CA of the stacked etcd members kubeadm-py runs as static Pods."""
    if not ctx.cfg.local_etcd or not ctx.fs.exists(f"{ctx.manifests_dir}/etcd.yaml"):
        raise KubeadmError(
            "certs rotate-ca begin --etcd: this cluster's etcd is external (no etcd static Pod on "
            "this node): rotate its CA where that etcd is run",
            hint="without --etcd, begin rotates the cluster CA and leaves etcd's trust alone",
        )


def _new_ca(ctx: RotateCAContext, ca: CASpec) -> tuple[list[Change], bytes, bytes]:
    """<new_base>.crt/.key: kept when an interrupted begin wrote them, else generated."""
    from kubeadm_py.pki import issue, keys, manager, specs, verify

    crt, key = pki_path(ctx, f"{ca.new_base}.crt"), pki_path(ctx, f"{ca.new_base}.key")
    have_crt, have_key = ctx.fs.read_bytes(crt), ctx.fs.read_bytes(key)
    if have_crt and have_key:
        cert = issue.load_cert(have_crt, crt)
        if not verify.key_problems(cert, keys.load_private_key(have_key, key)):
            ctx.log(f"{PREFIX} Keeping the new {ca.name} CA an interrupted run wrote ({crt})")
            return [], have_crt, have_key
    st = manager.settings(ctx.cfg)
    new_key = keys.generate_key(st.algorithm)
    prof = manager.expected_profile(ctx.cfg, specs.get(ca.spec_name))
    cert = issue.self_signed_ca(prof.cn, new_key, st.not_before, st.start + st.ca_validity, prof.orgs)
    key_pem, crt_pem = keys.encode_private_key(new_key), issue.encode_cert(cert)
    ctx.log(f"{PREFIX} Generating a new {ca.name} CA ({crt})")
    changes = [ctx.fs.write(key, key_pem, KEY_MODE, secret=True, detail=f"new {ca.name} CA key")]
    changes.append(ctx.fs.write(crt, crt_pem, CERT_MODE, detail=f"new {ca.name} CA certificate"))
    return changes, crt_pem, key_pem


def _key_secret(
    ctx: RotateCAContext, client: KubeClient, pairs: dict[str, tuple[bytes, bytes]]
) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.cluster.copycerts import create_certificate_key, decode_key

    # No rotation has begun (no ConfigMap): a Secret an interrupted begin left is written again,
    # encrypted with the key this run prints.
    cert_key = ctx.options.certificate_key or create_certificate_key()
    ctx.outputs.certificate_key = cert_key
    ctx.log(
        f"{PREFIX} The new CA keys are stored encrypted in Secret {KUBE_SYSTEM}/{rc.NAME}; other "
        f"control-plane nodes sync with: kubeadm-py certs rotate-ca sync --certificate-key {cert_key}"
    )
    return [client.apply(rc.key_secret(pairs, decode_key(cert_key)), detail="new CAs, keys encrypted")]


# --- the node's CA files ------------------------------------------------------------------------
def run_ca_files(ctx: RotateCAContext) -> list[Change]:
    rot = rotation_of(ctx)
    if rot is None:
        return []
    changes: list[Change] = []
    for ca in rot.cas:
        new = rot.pem("new", ca.name)
        if not ctx.state.control_plane:
            if rot.spec.signer == "new" and not ca.control_plane_only:
                changes += write_if_changed(
                    ctx, pki_path(ctx, f"{ca.base}.crt"), new, CERT_MODE, f"the new {ca.name} CA"
                )
            continue
        if ctx.fs.read_bytes(pki_path(ctx, f"{ca.base}.crt")) == new:
            continue
        new_crt, new_key = pki_path(ctx, f"{ca.new_base}.crt"), pki_path(ctx, f"{ca.new_base}.key")
        if ctx.fs.read_bytes(new_crt) != new or ctx.fs.read_bytes(new_key) is None:
            changes += _download_new_ca(ctx, new_crt, new_key, rot, ca)
        if rot.spec.signer == "new":
            changes += _switch_ca(ctx, rot, ca)
    return changes


def _download_new_ca(ctx: RotateCAContext, crt: str, key: str, rot: Rotation, ca: CASpec) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    if not ctx.options.certificate_key:
        raise KubeadmError(
            f"this control-plane node lacks the new {ca.name} CA ({crt}): give the key "
            "'certs rotate-ca begin' printed",
            hint="kubeadm-py certs rotate-ca sync --certificate-key KEY",
        )
    cert_pem, key_pem = rc.read_key_secret(
        run_client(ctx).get("Secret", rc.NAME, KUBE_SYSTEM), ctx.options.certificate_key, ca.base
    )
    if cert_pem != rot.pem("new", ca.name):
        raise KubeadmError(
            f"Secret {KUBE_SYSTEM}/{rc.NAME} holds another {ca.name} CA than rotation {rot.generation}"
        )
    ctx.log(f"{PREFIX} Downloaded the new {ca.name} CA from Secret {KUBE_SYSTEM}/{rc.NAME}")
    return [
        ctx.fs.write(key, key_pem, KEY_MODE, secret=True, detail=f"new {ca.name} CA key"),
        ctx.fs.write(crt, cert_pem, CERT_MODE, detail=f"new {ca.name} CA certificate"),
    ]


def _switch_ca(ctx: RotateCAContext, rot: Rotation, ca: CASpec) -> list[Change]:
    """<base>.crt/.key become the new CA; the old pair is kept as <old_base>.* first (a kill between
    the two writes of the new pair leaves <old_base>.* valid, and a rerun writes the new pair again)."""
    from kubeadm_py.pki import issue, keys, verify

    ca_crt, ca_key = pki_path(ctx, f"{ca.base}.crt"), pki_path(ctx, f"{ca.base}.key")
    old_crt, old_key = pki_path(ctx, f"{ca.old_base}.crt"), pki_path(ctx, f"{ca.old_base}.key")
    old, new = rot.pair(ca.name)
    changes: list[Change] = []
    kept_crt, kept_key = ctx.fs.read_bytes(old_crt), ctx.fs.read_bytes(old_key)
    kept = (
        kept_crt == old
        and kept_key is not None
        and not verify.key_problems(issue.load_cert(old, old_crt), keys.load_private_key(kept_key, old_key))
    )
    if not kept:
        live_crt, live_key = ctx.fs.read_bytes(ca_crt), ctx.fs.read_bytes(ca_key)
        if live_crt != old or live_key is None:
            raise KubeadmError(
                f"{ca_crt} is neither the old nor the new {ca.name} CA of rotation {rot.generation}"
            )
        ctx.log(f"{PREFIX} Keeping the old {ca.name} CA as {old_crt}")
        changes += [
            ctx.fs.write(old_key, live_key, KEY_MODE, secret=True, detail=f"old {ca.name} CA key"),
            ctx.fs.write(old_crt, live_crt, CERT_MODE, detail=f"old {ca.name} CA certificate"),
        ]
    key_pem = ctx.fs.read_bytes(pki_path(ctx, f"{ca.new_base}.key"))
    assert key_pem is not None
    ctx.log(f"{PREFIX} {ca.base}.crt and {ca.base}.key are now the new {ca.name} CA")
    changes.append(ctx.fs.write(ca_key, key_pem, KEY_MODE, secret=True, detail=f"new {ca.name} CA key"))
    changes.append(ctx.fs.write(ca_crt, new, CERT_MODE, detail=f"new {ca.name} CA certificate"))
    return changes


def run_bundle(ctx: RotateCAContext) -> list[Change]:
    rot = rotation_of(ctx)
    if rot is None:
        return []
    changes: list[Change] = []
    for ca in rot.cas:
        if ca.control_plane_only and not ctx.state.control_plane:
            continue  # a worker holds none of its files
        path, trust = pki_path(ctx, ca.bundle), rot.trust_of(ca.name)
        if ca is rot.cas[0] and ctx.fs.read_bytes(path) != trust:  # the kubelet's clientCAFile
            changes += mark_kubelet_restart(ctx, f"{path} changed")
        changes += write_if_changed(
            ctx, path, trust, CERT_MODE, f"trusted: {'+'.join(rot.spec.trust)} {ca.name} CA"
        )
    return changes


# --- certificates and kubeconfigs ----------------------------------------------------------------
def run_certificates(ctx: RotateCAContext) -> list[Change]:
    """Control plane, from switch on: every certificate a rotated CA signs (and every kubeconfig
    client certificate: the cluster CA's), re-issued by the new CA when another CA signed it."""
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.kubeconfig.build import b64
    from kubeadm_py.kubeconfig.files import client_credentials
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS
    from kubeadm_py.pki import issue, keys, manager, specs, verify
    from kubeadm_py.pki.store import PKIStore

    rot = rotation_of(ctx)
    if rot is None or not ctx.state.control_plane or rot.spec.signer != "new":
        return []
    st = manager.settings(ctx.cfg)
    store = PKIStore(ctx.fs, ctx.cert_dir)
    changes: list[Change] = []
    for ca in rot.cas:
        signer_cert, signer_key = store.read_cert(ca.base), store.read_key(ca.base)
        assert signer_cert is not None and signer_key is not None
        for spec in specs.leaves_of(ca.spec_name):
            cert = store.read_cert(spec.base)
            if cert is None or verify.signed_by(cert, signer_cert):
                continue
            new, key = rf.reissue(cert, signer_cert, signer_key, st)
            ctx.log(f"{PREFIX} Re-issuing {spec.cert_file} with the new {ca.name} CA")
            changes += [
                store.write_key(spec.base, key),
                store.write_cert(spec.base, new, detail=f"issued by the new {ca.name} CA"),
            ]
    ca_cert, ca_key = store.read_cert("ca"), store.read_key("ca")
    assert ca_cert is not None and ca_key is not None
    for k in KUBECONFIGS:
        if not k.renewable:
            continue
        path = f"{ctx.kubeconfig_dir.rstrip('/')}/{k.file}"
        text = ctx.fs.read_bytes(path)
        if text is None:
            continue
        doc, user = rf.kubeconfig_client(text, path)
        cert, _ = client_credentials(doc, path)
        if cert is None or verify.signed_by(cert, ca_cert):
            continue
        new, key = rf.reissue(cert, ca_cert, ca_key, st)
        user["client-certificate-data"] = b64(issue.encode_cert(new))
        user["client-key-data"] = b64(keys.encode_private_key(key))
        ctx.log(f"{PREFIX} Re-issuing the client certificate of {k.file} with the new CA")
        import yaml

        out = yaml.safe_dump(doc, default_flow_style=False, sort_keys=True).encode()
        changes.append(
            ctx.fs.write(path, out, CONFIG_MODE, secret=True, detail="client certificate from the new CA")
        )
    return changes


def run_kubeconfigs(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS

    rot = rotation_of(ctx)
    if rot is None:
        return []
    changes: list[Change] = []
    for name in dict.fromkeys([k.file for k in KUBECONFIGS] + [KUBELET_KUBECONFIG]):
        path = f"{ctx.kubeconfig_dir.rstrip('/')}/{name}"
        text = ctx.fs.read_bytes(path)
        if text is None:
            continue
        new = rf.kubeconfig_trust(text, path, rot.trust)
        if _same_trust(text, new, path):
            continue
        changes.append(
            ctx.fs.write(path, new, CONFIG_MODE, secret=True, detail=f"trusts {'+'.join(rot.spec.trust)} CA")
        )
    return changes


def _same_trust(a: bytes, b: bytes, path: str) -> bool:
    import yaml

    def cas(text: bytes) -> list[object]:
        doc = yaml.safe_load(text) or {}
        return [(c.get("cluster") or {}).get("certificate-authority-data") for c in doc.get("clusters") or []]

    return cas(a) == cas(b)


# --- control-plane components --------------------------------------------------------------------
def run_control_plane(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.phases.rotateca.swaps import swap
    from kubeadm_py.upgrade.staticpods import ManifestSwap

    rot = rotation_of(ctx)
    if rot is None or not ctx.state.control_plane:
        return []
    swaps = []
    # one manifest change per component for every rotated CA: the API server restarts once at most;
    # etcd first, as an upgrade swaps it
    components = dict.fromkeys(c for ca in rot.cas for c in ca.trust_flags)
    for component in sorted(components, key=lambda c: c not in rf.FIRST):
        path = f"{ctx.manifests_dir}/{component}.yaml"
        old = ctx.fs.read_bytes(path)
        if old is None:
            raise KubeadmError(f"{path} not found")
        flags = {f: pki_path(ctx, ca.bundle) for ca in rot.cas for f in ca.trust_flags.get(component, ())}
        stamp = rf.stamp(rot.signer, rot.trust) if component in rf.RESTARTED else _trust_stamp(rot, component)
        swaps.append(ManifestSwap(component, path, rf.manifest(old, path, component, flags, stamp), old))
    if not swap(ctx, swaps):
        ctx.log(f"{PREFIX} The control-plane components already run with the wanted CA files")
    return []  # files written through ctx.fs are collected by the runner


def _trust_stamp(rot: Rotation, component: str) -> str | None:
    """The restart annotation of a component that reads a rotated CA's bundle at start only (etcd's
    trusted CA files): a hash of that bundle, so the kubelet restarts it when its content changes."""
    from kubeadm_py.certs import rotateca_files as rf

    trusts = [rot.trust_of(ca.name) for ca in rot.cas if component in ca.restarted]
    return rf.stamp(b"", b"".join(trusts)) if trusts else None


# --- cluster-info, the node's progress, clean-up --------------------------------------------------
def run_cluster_info(ctx: RotateCAContext) -> list[Change]:
    """kube-public/cluster-info carries the trust (the controller-manager's bootstrap signer signs the
    changed kubeconfig again for every valid token)."""
    from kubeadm_py.certs import rotateca_files as rf

    rot = rotation_of(ctx)
    if rot is None or not ctx.state.control_plane:
        return []
    client = run_client(ctx)
    cm = client.get("ConfigMap", "cluster-info", KUBE_PUBLIC)
    if cm is None or "kubeconfig" not in (cm.get("data") or {}):
        return []
    text = str(cm["data"]["kubeconfig"]).encode()
    new = rf.kubeconfig_trust(text, "cluster-info", rot.trust)
    if _same_trust(text, new, "cluster-info"):
        return []
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-info", "namespace": KUBE_PUBLIC},
        "data": {"kubeconfig": new.decode()},
    }
    return [client.apply(obj, merge=True, detail=f"trusts {'+'.join(rot.spec.trust)} CA")]


def run_node(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.certs import rotateca_files as rf

    rot = rotation_of(ctx)
    if rot is None:
        return []
    from kubeadm_py.phases.rotateca.kubelet import kubelet_cert_file

    _, pem = kubelet_cert_file(ctx)
    issuer = ""
    for ca_pem in (rot.new, rot.old):
        if pem is not None and rf.signed_by_pem(pem, ca_pem):
            issuer = rc.fingerprint(ca_pem)
            break
    stage = f"{rot.generation}/{rot.stage}"
    issuers = {rc.NODE_ISSUER: issuer}
    for ca in rot.cas[1:] if ctx.state.control_plane else ():  # the certificate an optional CA issues here
        have = ctx.fs.read_bytes(pki_path(ctx, ca.issued))
        if have is not None:
            of = [p for p in rot.pair(ca.name)[::-1] if rf.signed_by_pem(have, p)]
            issuers[ca.node_annotation] = rc.fingerprint(of[0]) if of else ""

    def mark(node: dict[str, object]) -> None:
        ann = node["metadata"]["annotations"]  # type: ignore[index]
        ann[rc.NODE_STAGE] = stage
        ann.update(issuers)

    client = ctx.fx.api.from_kubeconfig(kubelet_conf(ctx)) if not ctx.state.control_plane else run_client(ctx)
    change = client.patch_node(ctx.state.node_name, mark, detail=f"synced {stage}")
    ctx.log(f"{PREFIX} Node {ctx.state.node_name} synced stage {rot.stage} of rotation {rot.generation}")
    return [change]


def run_cleanup(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    rot = rotation_of(ctx)
    if rot is None:
        return []
    if rot.stage != "finished":
        nxt = {"begin": "switch", "switch": "finish"}[rot.stage]
        ctx.log(
            f"{PREFIX} Run 'kubeadm-py certs rotate-ca sync' on every other node, then "
            f"'kubeadm-py certs rotate-ca {nxt}' on a control-plane node"
        )
        return []
    changes = []
    names = [f"{b}.{e}" for ca in rot.cas for b in (ca.old_base, ca.new_base) for e in ("crt", "key")]
    for name in names:
        if ctx.fs.exists(pki_path(ctx, name)):
            changes.append(ctx.fs.remove(pki_path(ctx, name)))
    if ctx.state.command == "finish":
        changes.append(run_client(ctx).delete("Secret", rc.NAME, KUBE_SYSTEM))
    ctx.log(f"{PREFIX} Rotation {rot.generation} finished on this node: only the new CA is trusted")
    return changes


FLAGS = ("config", "kubeconfig", "cert-dir", "dry-run", "certificate-key", "front-proxy", "etcd")


def phases() -> tuple[Phase[RotateCAContext], ...]:
    from kubeadm_py.phases.rotateca.kubelet import run_kubelet
    from kubeadm_py.phases.rotateca.published import run_published

    rows = (
        ("stage", "begin, switch, finish: change the cluster's rotation stage; status: show it", run_stage),
        (
            "ca-files",
            "Control plane: the new CA (downloaded with --certificate-key), ca.crt/ca.key swapped at switch",
            run_ca_files,
        ),
        ("bundle", "Write ca-bundle.crt (old and new CA) while both are trusted", run_bundle),
        (
            "certificates",
            "Control plane, from switch: re-issue certificates and kubeconfig clients with the new CA",
            run_certificates,
        ),
        (
            "control-plane",
            "Point the API server, controller-manager (and etcd) at the trust bundles; restart them",
            run_control_plane,
        ),
        ("kubeconfigs", "Every kubeconfig's CA data: the trusted CAs", run_kubeconfigs),
        (
            "kubelet",
            "The kubelet's clientCAFile; from switch its client certificate through a CSR; restart it",
            run_kubelet,
        ),
        ("cluster-info", "Control plane: kube-public/cluster-info carries the trusted CAs", run_cluster_info),
        (
            "published-trust",
            "Control plane: kube-system/extension-apiserver-authentication holds only the trusted CAs; "
            "after finish, deleted until the API servers write it back from new-only files",
            run_published,
        ),
        ("node", "Record on this node's Node object the stage it synced", run_node),
        ("cleanup", "After finish: remove the bundle and the old and new CA files", run_cleanup),
    )
    return tuple(Phase(name, help_text, run=run, flags=FLAGS) for name, help_text, run in rows)
