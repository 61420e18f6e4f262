"""``certs renew``: re-sign leaf certificates and the client certificates embedded in kubeconfig
files with the local CA, keeping Subject, SANs and extended key usages. As upstream, a new key
is generated unless ``reuse_key`` is set. CAs are never renewed; kubelet.conf is left to the
kubelet's own rotation; with an external CA (no CA key) nothing can be renewed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import host_join
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import issue, keys, manager, specs, verify
from kubeadm_py.pki.store import PKIStore

Log = Callable[[str], None]
RESTART_NOTE = (
    "Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, "
    "kube-scheduler and etcd, so that they can use the new certificates."
)


def _no_log(msg: str) -> None:
    return None


@dataclass(frozen=True)
class Target:
    name: str  # renew subcommand name
    help: str
    ca: str
    cert: specs.CertSpec | None = None  # a certificate file pair, or
    kubeconfig: str | None = None  # a kubeconfig file name


def targets(local_etcd: bool = True) -> list[Target]:
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS

    out = [
        Target(c.name, c.help.replace("Generate the ", "").replace("Generate a ", ""), str(c.ca), cert=c)
        for c in specs.cert_list(local_etcd)
        if not c.is_ca
    ]
    out += [
        Target(k.file, f"certificate embedded in the kubeconfig file {k.file}", "ca", kubeconfig=k.file)
        for k in KUBECONFIGS
        if k.renewable
    ]
    return out


def target(name: str, local_etcd: bool = True) -> Target:
    for t in targets(local_etcd):
        if t.name == name:
            return t
    raise KubeadmError(
        f"unknown certificate {name!r} for renewal",
        hint=f"use one of: {', '.join(t.name for t in targets(local_etcd))}, all "
        "(CAs and kubelet.conf are not renewed)",
    )


def renew_one(
    fs: HostFS,
    cfg: KubeadmConfig,
    t: Target,
    kubeconfig_dir: str,
    st: manager.Settings,
    reuse_key: bool = False,
    log: Log = _no_log,
    done: str = "renewed",
) -> list[Change]:
    """Renew one target; ``done`` is what the log line says happened."""
    store = PKIStore(fs, st.cert_dir)
    ca_base = specs.get(t.ca).base
    if t.kubeconfig is not None:
        from kubeadm_py.kubeconfig.files import renew_kubeconfig

        path = host_join(kubeconfig_dir, t.kubeconfig)
        if not fs.exists(path):
            log(f"MISSING! {t.help}")
            return []
        if not store.has_key(ca_base):
            raise KubeadmError(
                f"external CA detected ({store.key_path(ca_base)} is absent): {t.name} cannot be renewed"
            )
        change = renew_kubeconfig(fs, cfg, path, st, reuse_key)
        log(f"{t.help} {done}")
        return [change]
    assert t.cert is not None
    spec = t.cert
    cert = store.read_cert(spec.base)
    if cert is None:
        log(f"MISSING! {t.help}")
        return []
    ca_cert, ca_key = manager.load_ca(store, t.ca, st.start)
    if ca_key is None:
        raise KubeadmError(
            f"external CA detected ({store.key_path(ca_base)} is absent): {t.name} cannot be renewed"
        )
    if not verify.signed_by(cert, ca_cert):
        raise KubeadmError(
            f"{store.cert_path(spec.base)} is not signed by the current {t.ca}; not renewing",
            hint=f"remove it and run 'kubeadm-py init phase certs {spec.name}'",
        )
    old_key = store.read_key(spec.base) if reuse_key else None
    if old_key is not None and verify.key_problems(cert, old_key):
        raise KubeadmError(f"{store.key_path(spec.base)} does not match {store.cert_path(spec.base)}")
    key = old_key or keys.generate_key(st.algorithm)
    new = issue.build(
        issue.profile_of(cert), key.public_key(), ca_key, ca_cert, st.not_before, st.start + st.validity
    )
    out = [] if old_key is not None else [store.write_key(spec.base, key)]
    out.append(store.write_cert(spec.base, new, detail=f"{done}, CN={issue.profile_of(new).cn}"))
    log(f"{t.help} {done}")
    return out


def _rotation_note(fs: HostFS, cert_dir: str, log: Log) -> None:
    """During ``certs rotate-ca`` (docs/pki.md) renewing is safe: ca.crt is the CA that signs at this
    node's stage (the old one at begin, the new one from switch on), a later ``sync`` re-issues what
    another CA signed, and kubeconfigs keep their trust bundle. Say so rather than refuse."""
    from kubeadm_py.certs.rotateca import BUNDLE

    bundle = fs.read_bytes(host_join(cert_dir, BUNDLE)) or b""
    if bundle.count(b"-----BEGIN CERTIFICATE-----") > 1:
        log(
            f"[renew] A CA rotation is in progress on this node ({BUNDLE} trusts two CAs): signing with "
            "ca.crt, the CA of this node's rotation stage"
        )


def renew(
    fs: HostFS,
    cfg: KubeadmConfig,
    name: str,
    kubeconfig_dir: str,
    reuse_key: bool = False,
    log: Log = _no_log,
    planned: bool = False,
) -> list[Change]:
    """Renew ``name`` (a target name) or ``all``. ``planned``: the writes go to a dry-run overlay,
    so the lines say what would be renewed and ask for no restart."""
    done = "would be renewed" if planned else "renewed"
    st = manager.settings(cfg)
    _rotation_note(fs, st.cert_dir, log)
    chosen = targets(cfg.local_etcd) if name == "all" else [target(name, cfg.local_etcd)]
    out: list[Change] = []
    for t in chosen:
        out += renew_one(fs, cfg, t, kubeconfig_dir, st, reuse_key, log, done)
    if planned:
        log("[dryrun] Nothing was renewed: this was a dry run")
    elif name == "all":
        log("")
        log(RESTART_NOTE)
    else:
        log(
            "You must restart the components that use this certificate (see 'kubeadm-py certs renew --help')."
        )
    return out
