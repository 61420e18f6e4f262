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
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.rotateca.state import RotateCAContext

CSR_TIMEOUT = 120.0
KUBELET_TIMEOUT = 120.0
KUBELET_STEADY = 3
PREFIX = "[rotate-ca]"


def _pki(ctx: RotateCAContext, name: str) -> str:
    return f"{ctx.cert_dir.rstrip('/')}/{name}"


def _kubelet_conf(ctx: RotateCAContext) -> str:
    return f"{ctx.kubeconfig_dir.rstrip('/')}/{KUBELET_KUBECONFIG}"


def _rotation(ctx: RotateCAContext) -> Rotation | None:
    return ctx.state.rotation


def _client(ctx: RotateCAContext) -> KubeClient:
    if ctx.state.client is None:
        if ctx.state.control_plane:
            ctx.state.client = ctx.kube()
        else:
            ctx.state.client = ctx.fx.api.from_kubeconfig(_kubelet_conf(ctx))
    return ctx.state.client


def _write(ctx: RotateCAContext, path: str, data: bytes, mode: int, detail: str) -> list[Change]:
    if ctx.fs.read_bytes(path) == data:
        return []
    return [ctx.fs.write(path, data, mode, secret=mode == KEY_MODE, detail=detail)]


# --- stage --------------------------------------------------------------------------------------
def run_stage(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    command = ctx.state.command
    client = _client(ctx)
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

    if current is not None and current.stage == "begin":
        ctx.log(f"{PREFIX} Rotation {current.generation} already begun: converging this node")
        ctx.state.rotation = current
        return []
    old_pem = ctx.fs.read_bytes(_pki(ctx, "ca.crt"))
    if old_pem is None or ctx.fs.read_bytes(_pki(ctx, "ca.key")) is None:
        raise KubeadmError(
            f"{_pki(ctx, 'ca.crt')} or ca.key not found: certs rotate-ca needs the cluster CA and its key",
            hint="with an external CA, rotate it as docs/pki.md says",
        )
    changes, new_pem, new_key = _new_ca(ctx)
    generation = current.generation + 1 if current is not None else 1
    rot = rc.Rotation(generation, "begin", old_pem, new_pem)
    changes += _key_secret(ctx, client, new_pem, new_key)
    changes += [client.apply(obj) for obj in rc.reader_rbac()]
    # the ConfigMap last: once it exists, the rotation has begun and every node can sync to it
    changes.append(client.apply(rot.configmap(), detail=f"rotation {generation}: stage begin"))
    ctx.log(
        f"{PREFIX} Rotation {generation} begun: new CA {rc.fingerprint(new_pem)}, "
        f"old CA {rc.fingerprint(old_pem)}"
    )
    ctx.state.rotation = rot
    return changes


def _new_ca(ctx: RotateCAContext) -> tuple[list[Change], bytes, bytes]:
    """ca-new.crt/.key: kept when an interrupted begin wrote them, else generated."""
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.pki import issue, keys, manager, specs, verify

    crt, key = _pki(ctx, f"{rc.NEW_BASE}.crt"), _pki(ctx, f"{rc.NEW_BASE}.key")
    have_crt, have_key = ctx.fs.read_bytes(crt), ctx.fs.read_bytes(key)
    if have_crt and have_key:
        cert = issue.load_cert(have_crt, crt)
        if not verify.key_problems(cert, keys.load_private_key(have_key, key)):
            ctx.log(f"{PREFIX} Keeping the new CA an interrupted run wrote ({crt})")
            return [], have_crt, have_key
    st = manager.settings(ctx.cfg)
    new_key = keys.generate_key(st.algorithm)
    prof = manager.expected_profile(ctx.cfg, specs.get("ca"))
    cert = issue.self_signed_ca(prof.cn, new_key, st.not_before, st.start + st.ca_validity, prof.orgs)
    key_pem, crt_pem = keys.encode_private_key(new_key), issue.encode_cert(cert)
    ctx.log(f"{PREFIX} Generating a new cluster CA ({crt})")
    changes = [ctx.fs.write(key, key_pem, KEY_MODE, secret=True, detail="new CA key")]
    changes.append(ctx.fs.write(crt, crt_pem, CERT_MODE, detail="new CA certificate"))
    return changes, crt_pem, key_pem


def _key_secret(ctx: RotateCAContext, client: KubeClient, crt: bytes, key: bytes) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.cluster.copycerts import create_certificate_key, decode_key

    # No rotation has begun (no ConfigMap): a Secret an interrupted begin left is written again,
    # encrypted with the key this run prints.
    cert_key = ctx.options.certificate_key or create_certificate_key()
    ctx.outputs.certificate_key = cert_key
    ctx.log(
        f"{PREFIX} The new CA key is stored encrypted in Secret {KUBE_SYSTEM}/{rc.NAME}; other control-plane "
        f"nodes sync with: kubeadm-py certs rotate-ca sync --certificate-key {cert_key}"
    )
    return [client.apply(rc.key_secret(crt, key, decode_key(cert_key)), detail="new CA, key encrypted")]


# --- the node's CA files ------------------------------------------------------------------------
def run_ca_files(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    rot = _rotation(ctx)
    if rot is None:
        return []
    ca_crt = _pki(ctx, "ca.crt")
    if not ctx.state.control_plane:
        if rot.spec.signer == "new":
            return _write(ctx, ca_crt, rot.new, CERT_MODE, "the new cluster CA")
        return []
    changes: list[Change] = []
    current = ctx.fs.read_bytes(ca_crt)
    if current != rot.new:
        new_crt, new_key = _pki(ctx, f"{rc.NEW_BASE}.crt"), _pki(ctx, f"{rc.NEW_BASE}.key")
        if ctx.fs.read_bytes(new_crt) != rot.new or ctx.fs.read_bytes(new_key) is None:
            changes += _download_new_ca(ctx, new_crt, new_key, rot)
        if rot.spec.signer == "new":
            changes += _switch_ca(ctx, rot, new_crt, new_key)
    return changes


def _download_new_ca(ctx: RotateCAContext, crt: str, key: str, rot: Rotation) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    if not ctx.options.certificate_key:
        raise KubeadmError(
            f"this control-plane node lacks the new CA ({crt}): give the key 'certs rotate-ca begin' printed",
            hint="kubeadm-py certs rotate-ca sync --certificate-key KEY",
        )
    cert_pem, key_pem = rc.read_key_secret(
        _client(ctx).get("Secret", rc.NAME, KUBE_SYSTEM), ctx.options.certificate_key
    )
    if cert_pem != rot.new:
        raise KubeadmError(f"Secret {KUBE_SYSTEM}/{rc.NAME} holds another CA than rotation {rot.generation}")
    ctx.log(f"{PREFIX} Downloaded the new CA from Secret {KUBE_SYSTEM}/{rc.NAME}")
    return [
        ctx.fs.write(key, key_pem, KEY_MODE, secret=True, detail="new CA key"),
        ctx.fs.write(crt, cert_pem, CERT_MODE, detail="new CA certificate"),
    ]


def _switch_ca(ctx: RotateCAContext, rot: Rotation, new_crt: str, new_key: str) -> list[Change]:
    """ca.crt/ca.key become the new CA; the old pair is kept as ca-old.* first (a kill between the
    two writes of the new pair leaves ca-old.* valid, and a rerun writes the new pair again)."""
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.pki import issue, keys, verify

    ca_crt, ca_key = _pki(ctx, "ca.crt"), _pki(ctx, "ca.key")
    old_crt, old_key = _pki(ctx, f"{rc.OLD_BASE}.crt"), _pki(ctx, f"{rc.OLD_BASE}.key")
    changes: list[Change] = []
    kept_crt, kept_key = ctx.fs.read_bytes(old_crt), ctx.fs.read_bytes(old_key)
    kept = (
        kept_crt == rot.old
        and kept_key is not None
        and not verify.key_problems(
            issue.load_cert(rot.old, old_crt), keys.load_private_key(kept_key, old_key)
        )
    )
    if not kept:
        live_crt, live_key = ctx.fs.read_bytes(ca_crt), ctx.fs.read_bytes(ca_key)
        if live_crt != rot.old or live_key is None:
            raise KubeadmError(f"{ca_crt} is neither the old nor the new CA of rotation {rot.generation}")
        ctx.log(f"{PREFIX} Keeping the old CA as {old_crt}")
        changes += [
            ctx.fs.write(old_key, live_key, KEY_MODE, secret=True, detail="old CA key"),
            ctx.fs.write(old_crt, live_crt, CERT_MODE, detail="old CA certificate"),
        ]
    key_pem = ctx.fs.read_bytes(new_key)
    assert key_pem is not None
    ctx.log(f"{PREFIX} ca.crt and ca.key are now the new CA: the controller-manager signs with it")
    changes.append(ctx.fs.write(ca_key, key_pem, KEY_MODE, secret=True, detail="new CA key"))
    changes.append(ctx.fs.write(ca_crt, rot.new, CERT_MODE, detail="new CA certificate"))
    return changes


def run_bundle(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    rot = _rotation(ctx)
    if rot is None or not rot.uses_bundle:
        return []
    return _write(ctx, _pki(ctx, rc.BUNDLE), rot.trust, CERT_MODE, "old and new cluster CA")


# --- certificates and kubeconfigs ----------------------------------------------------------------
def run_certificates(ctx: RotateCAContext) -> list[Change]:
    """Control plane, from switch on: every certificate and kubeconfig client certificate the
    cluster CA signs, re-issued by the new CA when another CA signed it."""
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.kubeconfig.build import b64
    from kubeadm_py.kubeconfig.files import client_credentials
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS
    from kubeadm_py.pki import issue, keys, manager, specs, verify
    from kubeadm_py.pki.store import PKIStore

    rot = _rotation(ctx)
    if rot is None or not ctx.state.control_plane or rot.spec.signer != "new":
        return []
    st = manager.settings(ctx.cfg)
    store = PKIStore(ctx.fs, ctx.cert_dir)
    ca_cert, ca_key = store.read_cert("ca"), store.read_key("ca")
    assert ca_cert is not None and ca_key is not None
    changes: list[Change] = []
    for spec in specs.leaves_of("ca"):
        cert = store.read_cert(spec.base)
        if cert is None or verify.signed_by(cert, ca_cert):
            continue
        new, key = rf.reissue(cert, ca_cert, ca_key, st)
        ctx.log(f"{PREFIX} Re-issuing {spec.cert_file} with the new CA")
        changes += [
            store.write_key(spec.base, key),
            store.write_cert(spec.base, new, detail="issued by the new CA"),
        ]
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

    rot = _rotation(ctx)
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
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.phases.rotatesa.phases import swap_manifests
    from kubeadm_py.upgrade.staticpods import ManifestSwap

    rot = _rotation(ctx)
    if rot is None or not ctx.state.control_plane:
        return []
    ca_path = _pki(ctx, "ca.crt")
    trust_path = _pki(ctx, rc.BUNDLE) if rot.uses_bundle else ca_path
    swaps = []
    for component in rf.TRUST_FLAGS:
        path = f"{ctx.manifests_dir}/{component}.yaml"
        old = ctx.fs.read_bytes(path)
        if old is None:
            raise KubeadmError(f"{path} not found")
        stamp = (
            rf.stamp(rot.signer, rot.trust) if rot.uses_bundle and component in rf.RESTART_ON_SWITCH else None
        )
        new = rf.manifest(old, path, component, ca_path, trust_path, stamp)
        if new != old:
            swaps.append(ManifestSwap(component, path, new, old))
    if not swaps:
        ctx.log(f"{PREFIX} The control-plane components already run with the wanted CA files")
        return []
    swap_manifests(ctx, ctx.state.node_name, ctx.state.timestamp, swaps)
    return []  # files written through ctx.fs are collected by the runner


# --- the kubelet ----------------------------------------------------------------------------------
def run_kubelet(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.constants import KUBELET_CONFIG_FILE
    from kubeadm_py.kubelet.service import restart_kubelet

    rot = _rotation(ctx)
    if rot is None:
        return []
    changes: list[Change] = []
    path = f"{ctx.kubelet_dir.rstrip('/')}/{KUBELET_CONFIG_FILE}"
    text = ctx.fs.read_bytes(path)
    if text is not None:
        client_ca = _pki(ctx, rc.BUNDLE) if rot.uses_bundle else _pki(ctx, "ca.crt")
        new = rf.kubelet_config(text, path, client_ca)
        if new != text:
            changes.append(ctx.fs.write(path, new, 0o644, detail=f"clientCAFile {client_ca}"))
    if rot.spec.signer == "new":
        changes += _kubelet_client_cert(ctx, rot)
    if changes:
        ctx.log(f"{PREFIX} Restarting the kubelet")
        changes.append(restart_kubelet(ctx.fx.services, ctx.fs, ctx.log))
        _wait_for_kubelet(ctx)
    return changes


def _wait_for_kubelet(ctx: RotateCAContext) -> None:
    """The kubelet's /healthz after its restart, so that the next command (a manifest swap right
    after a kubelet restart raced the old and the new static Pod on the test bed) finds it settled."""
    from kubeadm_py.host.health import http_check
    from kubeadm_py.phases.shared.wait_control_plane import kubelet_url

    url = kubelet_url(ctx)
    streak = [0]

    def steady() -> tuple[bool, str]:
        """Healthy at :data:`KUBELET_STEADY` polls in a row: a second restart (a supervisor that
        also restarts on a changed config.yaml) is waited out too."""
        ok, detail = http_check(url, timeout=2.0)
        streak[0] = streak[0] + 1 if ok else 0
        return streak[0] >= KUBELET_STEADY, detail

    ok, detail = ctx.fx.waiter.until(f"the kubelet at {url}", steady, KUBELET_TIMEOUT)
    if not ok:
        raise KubeadmError(f"the kubelet did not become healthy after its restart ({detail})")


def _kubelet_cert_file(ctx: RotateCAContext) -> tuple[str | None, bytes | None]:
    """(the file holding the kubelet's client certificate, or None when kubelet.conf embeds it; its PEM)."""
    from kubeadm_py.certs import rotateca_files as rf

    conf = _kubelet_conf(ctx)
    text = ctx.fs.read_bytes(conf)
    if text is None:
        raise KubeadmError(f"{conf} not found: is this node part of the cluster?")
    _, user = rf.kubeconfig_client(text, conf)
    if user.get("client-certificate"):
        path = str(user["client-certificate"])
        return path, ctx.fs.read_bytes(path)
    data = user.get("client-certificate-data")
    import base64

    return None, base64.b64decode(data) if data else None


def _kubelet_client_cert(ctx: RotateCAContext, rot: Rotation) -> list[Change]:
    """The kubelet's client certificate from the new CA, through a CSR this node files with its
    kubelet.conf credentials (kubeadm's RBAC has the controller-manager approve such renewals)."""
    from kubeadm_py.certs import rotateca_files as rf

    path, pem = _kubelet_cert_file(ctx)
    if pem is not None and rf.signed_by_pem(pem, rot.new):
        return []
    import base64
    import secrets

    from kubeadm_py.discovery.csr import csr_object, node_csr

    client = ctx.fx.api.from_kubeconfig(_kubelet_conf(ctx))
    key_pem, csr_pem = node_csr(ctx.state.node_name)
    name = f"kubeadm-py-ca-rotation-{ctx.state.node_name}-{secrets.token_hex(4)}"
    ctx.log(
        f"{PREFIX} Requesting a kubelet client certificate from the new CA (CSR {name}, filed as the node)"
    )
    changes = [client.apply({**csr_object(ctx.state.node_name, csr_pem), "metadata": {"name": name}})]
    issued: dict[str, bytes] = {}

    def signed() -> tuple[bool, str]:
        obj = client.get("CertificateSigningRequest", name) or {}
        cert = (obj.get("status") or {}).get("certificate")
        if not cert:
            return False, "not signed yet"
        issued["pem"] = base64.b64decode(cert)
        return True, "signed"

    ok, detail = ctx.fx.waiter.until(f"CSR {name} approved and signed", signed, CSR_TIMEOUT, interval=1.0)
    if not ok:
        raise KubeadmError(
            f"CSR {name} was not signed within {CSR_TIMEOUT:.0f}s ({detail})",
            hint="approve it with 'kubectl certificate approve', then rerun 'certs rotate-ca sync'",
        )
    if not issued:  # a waiter that answers at once (a dry run's) did not poll: one read
        signed()
    cert_pem = issued.get("pem", b"")
    if not cert_pem:  # a dry run's waiter answers at once: nothing was signed
        return changes
    if not rf.signed_by_pem(cert_pem, rot.new):
        raise KubeadmError(
            f"CSR {name} was signed by another CA than the new one: has the controller-manager restarted?"
        )
    both = cert_pem + key_pem
    if path is None:
        return changes + _embed_kubelet_cert(ctx, cert_pem, key_pem)
    directory = path.rsplit("/", 1)[0]
    fresh = f"{directory}/kubelet-client-{ctx.state.timestamp}.pem"
    changes.append(
        ctx.fs.write(fresh, both, KEY_MODE, secret=True, detail="kubelet client certificate from the new CA")
    )
    if path != fresh:
        ctx.fx.commands.run(["ln", "-sfn", fresh, ctx.fs.confined_path(path)])
        changes.append(Change("file", "update", path, f"-> {fresh}"))
    return changes


def _embed_kubelet_cert(ctx: RotateCAContext, cert_pem: bytes, key_pem: bytes) -> list[Change]:
    import yaml

    from kubeadm_py.certs import rotateca_files as rf
    from kubeadm_py.kubeconfig.build import b64

    conf = _kubelet_conf(ctx)
    text = ctx.fs.read_bytes(conf)
    assert text is not None
    doc, user = rf.kubeconfig_client(text, conf)
    user["client-certificate-data"] = b64(cert_pem)
    user["client-key-data"] = b64(key_pem)
    out = yaml.safe_dump(doc, default_flow_style=False, sort_keys=True).encode()
    return [
        ctx.fs.write(conf, out, CONFIG_MODE, secret=True, detail="kubelet client certificate from the new CA")
    ]


# --- cluster-info, the node's progress, clean-up --------------------------------------------------
def run_cluster_info(ctx: RotateCAContext) -> list[Change]:
    """kube-public/cluster-info carries the trust (the controller-manager's bootstrap signer signs the
    changed kubeconfig again for every valid token)."""
    from kubeadm_py.certs import rotateca_files as rf

    rot = _rotation(ctx)
    if rot is None or not ctx.state.control_plane:
        return []
    client = _client(ctx)
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

    rot = _rotation(ctx)
    if rot is None:
        return []
    _, pem = _kubelet_cert_file(ctx)
    issuer = ""
    for ca in (rot.new, rot.old):
        if pem is not None and rf.signed_by_pem(pem, ca):
            issuer = rc.fingerprint(ca)
            break
    stage = f"{rot.generation}/{rot.stage}"

    def mark(node: dict[str, object]) -> None:
        ann = node["metadata"]["annotations"]  # type: ignore[index]
        ann[rc.NODE_STAGE] = stage
        ann[rc.NODE_ISSUER] = issuer

    client = ctx.fx.api.from_kubeconfig(_kubelet_conf(ctx)) if not ctx.state.control_plane else _client(ctx)
    change = client.patch_node(ctx.state.node_name, mark, detail=f"synced {stage}")
    ctx.log(f"{PREFIX} Node {ctx.state.node_name} synced stage {rot.stage} of rotation {rot.generation}")
    return [change]


def run_cleanup(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    rot = _rotation(ctx)
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
    names = [rc.BUNDLE] + [f"{b}.{e}" for b in (rc.OLD_BASE, rc.NEW_BASE) for e in ("crt", "key")]
    for name in names:
        if ctx.fs.exists(_pki(ctx, name)):
            changes.append(ctx.fs.remove(_pki(ctx, name)))
    if ctx.state.command == "finish":
        changes.append(_client(ctx).delete("Secret", rc.NAME, KUBE_SYSTEM))
    ctx.log(f"{PREFIX} Rotation {rot.generation} finished on this node: only the new CA is trusted")
    return changes


FLAGS = ("config", "kubeconfig", "cert-dir", "dry-run", "certificate-key")


def phases() -> tuple[Phase[RotateCAContext], ...]:
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
            "Point the API server and controller-manager at the trust bundle; restart them",
            run_control_plane,
        ),
        ("kubeconfigs", "Every kubeconfig's CA data: the trusted CAs", run_kubeconfigs),
        (
            "kubelet",
            "The kubelet's clientCAFile; from switch its client certificate through a CSR; restart it",
            run_kubelet,
        ),
        ("cluster-info", "Control plane: kube-public/cluster-info carries the trusted CAs", run_cluster_info),
        ("node", "Record on this node's Node object the stage it synced", run_node),
        ("cleanup", "After finish: remove the bundle and the old and new CA files", run_cleanup),
    )
    return tuple(Phase(name, help_text, run=run, flags=FLAGS) for name, help_text, run in rows)
