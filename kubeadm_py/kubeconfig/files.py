"""kubeconfig files on disk: create-or-reuse, renewal of embedded client certificates, and
one-off user kubeconfigs (``kubeadm-py kubeconfig user``).

Reuse rule (upstream validateKubeConfig): an existing file whose current-context cluster has the
same CA is kept ("unchanged"); a different server URL only warns; a different CA is an error;
nothing is overwritten. In external-CA mode (ca.crt without ca.key) files are never written:
they must already exist with the right CA."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import host_join
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import CONFIG_MODE, HostFS
from kubeadm_py.kubeconfig import build
from kubeadm_py.kubeconfig.specs import KubeconfigSpec
from kubeadm_py.pki import issue, keypool, keys, manager, verify
from kubeadm_py.pki.issue import Profile
from kubeadm_py.pki.keys import PrivateKey
from kubeadm_py.pki.specs import CLIENT_AUTH
from kubeadm_py.pki.store import PKIStore

Log = Callable[[str], None]
_DER = Encoding.DER


def _no_log(msg: str) -> None:
    return None


def load(fs: HostFS, path: str) -> dict[str, Any] | None:
    data = fs.read_bytes(path)
    if data is None:
        return None
    import yaml

    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as e:
        raise KubeadmError(
            f"failed to load kubeconfig file {path} that already exists on disk: {str(e).splitlines()[0]}"
        ) from None
    if not isinstance(doc, dict):
        raise KubeadmError(
            f"failed to load kubeconfig file {path} that already exists on disk: not a mapping"
        )
    return doc


def _b64(value: Any, what: str, source: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise KubeadmError(f"{source}: {what} is not valid base64") from None


def _cluster_ca_pem(fs: HostFS, doc: dict[str, Any], source: str) -> bytes:
    cluster, _ = build.current(doc, source)
    data = cluster.get("certificate-authority-data")
    if data:
        return _b64(data, "certificate-authority-data", source).strip()
    if cluster.get("certificate-authority"):
        return (fs.read_bytes(str(cluster["certificate-authority"])) or b"").strip()
    return b""


def cluster_ca(fs: HostFS, doc: dict[str, Any], source: str) -> x509.Certificate | None:
    raw = _cluster_ca_pem(fs, doc, source)
    return issue.load_cert(raw, f"{source} (certificate-authority)") if raw else None


def trusts(fs: HostFS, doc: dict[str, Any], source: str, ca_cert: x509.Certificate) -> bool:
    """Whether the current cluster's CA data holds ``ca_cert``, alone or in a bundle (during
    ``certs rotate-ca`` it is old + new CA until ``finish``)."""
    raw = _cluster_ca_pem(fs, doc, source)
    try:
        held = x509.load_pem_x509_certificates(raw) if raw else []
    except ValueError:
        return False
    return any(c.public_bytes(_DER) == ca_cert.public_bytes(_DER) for c in held)


def client_credentials(doc: dict[str, Any], source: str) -> tuple[x509.Certificate | None, PrivateKey | None]:
    """The embedded client certificate and key of the current context's user (None where absent)."""
    _, user = build.current(doc, source)
    cert = key = None
    if user.get("client-certificate-data"):
        cert = issue.load_cert(
            _b64(user["client-certificate-data"], "client-certificate-data", source), source
        )
    if user.get("client-key-data"):
        key = keys.load_private_key(_b64(user["client-key-data"], "client-key-data", source), source)
    return cert, key


def path_of(kubeconfig_dir: str, spec: KubeconfigSpec) -> str:
    return host_join(kubeconfig_dir, spec.file)


def client_profile(cn: str, orgs: tuple[str, ...]) -> Profile:
    return Profile(cn=cn, orgs=orgs, ekus=(CLIENT_AUTH,))


def new_client_doc(
    cfg: KubeadmConfig,
    server: str,
    profile: Profile,
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    st: manager.Settings,
    not_after: datetime | None = None,
    key: PrivateKey | None = None,
) -> dict[str, Any]:
    key = key or keys.generate_key(st.algorithm)
    cert = issue.build(
        profile, key.public_key(), ca_key, ca_cert, st.not_before, not_after or st.start + st.validity
    )
    auth = {
        "client-certificate-data": build.b64(issue.encode_cert(cert)),
        "client-key-data": build.b64(keys.encode_private_key(key)),
    }
    return build.config_document(cfg, server, profile.cn, issue.encode_cert(ca_cert), auth)


def ensure_kubeconfig(
    fs: HostFS,
    cfg: KubeadmConfig,
    spec: KubeconfigSpec,
    kubeconfig_dir: str,
    st: manager.Settings | None = None,
    log: Log = _no_log,
    batch: Sequence[KubeconfigSpec] = (),
) -> list[Change]:
    """Write the kubeconfig ``spec`` unless a valid one exists. ``batch``: the kubeconfigs this
    run writes (the phase's siblings), whose absent files get their RSA keys generated in parallel
    when the run has a key pool (``st.keys``, :mod:`kubeadm_py.pki.keypool`)."""
    st = st or manager.settings(cfg)
    store = PKIStore(fs, st.cert_dir)
    ca_cert, ca_key = manager.load_ca(store, "ca", st.start)
    path = path_of(kubeconfig_dir, spec)
    server = build.endpoint(cfg, spec.endpoint)
    existing = load(fs, path)
    if existing is not None:
        have = cluster_ca(fs, existing, path)
        if have is None or have.public_bytes(_DER) != ca_cert.public_bytes(_DER):
            raise KubeadmError(
                f"a kubeconfig file {path} exists already but has got the wrong CA cert",
                hint=f"remove {path} to regenerate it with the current CA",
            )
        cluster, _ = build.current(existing, path)
        if cluster.get("server") != server:
            log(
                f"[kubeconfig] WARNING: a kubeconfig file {path} exists already but has an unexpected "
                f"API Server URL: expected: {server}, got: {cluster.get('server')}"
            )
        log(f'[kubeconfig] Using existing kubeconfig file: "{path}"')
        return [Change("file", "unchanged", path, "same CA")]
    if ca_key is None:
        raise KubeadmError(
            f"external CA mode: {store.key_path('ca')} is absent, so {path} must be provided",
            hint="'kubeadm-py certs generate-csr' writes its key and CSR",
        )
    log(f'[kubeconfig] Writing "{spec.file}" kubeconfig file')
    profile = client_profile(spec.client_name(_node(cfg, spec)), spec.orgs_for(cfg.kubernetes_version))
    key = _new_key(fs, cfg, st, kubeconfig_dir, spec, batch)
    doc = new_client_doc(cfg, server, profile, ca_cert, ca_key, st, key=key)
    return [
        fs.write(
            path,
            build.dump(doc).encode(),
            CONFIG_MODE,
            secret=True,
            detail=f"user {profile.cn}, server {server}",
        )
    ]


def _new_key(
    fs: HostFS,
    cfg: KubeadmConfig,
    st: manager.Settings,
    kubeconfig_dir: str,
    spec: KubeconfigSpec,
    batch: Sequence[KubeconfigSpec],
) -> PrivateKey:
    run = ("kubeconfig", id(fs), kubeconfig_dir, st.algorithm.name)

    def missing() -> list[str]:
        return [
            k.name
            for k in batch
            if k.applies_to(cfg.kubernetes_version) and not fs.exists(path_of(kubeconfig_dir, k))
        ]

    return keypool.new_key(st.keys, run, st.algorithm, missing, spec.name)


def _node(cfg: KubeadmConfig, spec: KubeconfigSpec) -> str:
    if "{node}" in spec.client and not cfg.node_name:
        raise KubeadmError(f"cannot write {spec.file}: the node name is empty")
    return cfg.node_name


def renew_kubeconfig(
    fs: HostFS, cfg: KubeadmConfig, path: str, st: manager.Settings, reuse_key: bool = False
) -> Change:
    """Replace the embedded client certificate (same subject and usages) signed by the local CA,
    with a new key unless ``reuse_key``; everything else in the file is kept."""
    import yaml

    doc = load(fs, path)
    if doc is None:
        raise KubeadmError(f"{path} does not exist")
    store = PKIStore(fs, st.cert_dir)
    ca_cert, ca_key = manager.load_ca(store, "ca", st.start)
    if ca_key is None:
        raise KubeadmError(
            f"external CA detected ({store.key_path('ca')} is absent): {path} cannot be renewed"
        )
    if not trusts(fs, doc, path, ca_cert):
        raise KubeadmError(f"{path} does not trust the current CA {store.cert_path('ca')}; not renewing")
    cert, key = client_credentials(doc, path)
    if cert is None:
        raise KubeadmError(f"{path} has no embedded client certificate (client-certificate-data) to renew")
    if not verify.signed_by(cert, ca_cert):
        raise KubeadmError(f"the client certificate in {path} is not signed by the current CA; not renewing")
    prof = issue.profile_of(cert)
    new_key = key if (reuse_key and key is not None) else keys.generate_key(st.algorithm)
    new_cert = issue.build(
        Profile(prof.cn, prof.orgs, prof.dns, prof.ips, prof.ekus or (CLIENT_AUTH,)),
        new_key.public_key(),
        ca_key,
        ca_cert,
        st.not_before,
        st.start + st.validity,
    )
    _, user = build.current(doc, path)
    user["client-certificate-data"] = build.b64(issue.encode_cert(new_cert))
    user["client-key-data"] = build.b64(keys.encode_private_key(new_key))
    user.pop("client-certificate", None)
    user.pop("client-key", None)
    out = yaml.safe_dump(doc, default_flow_style=False, sort_keys=True)
    return fs.write(
        path, out.encode(), CONFIG_MODE, secret=True, detail=f"renewed client certificate {prof.cn}"
    )


def user_kubeconfig(
    fs: HostFS,
    cfg: KubeadmConfig,
    client_name: str,
    orgs: list[str] | tuple[str, ...],
    validity: timedelta | None = None,
    token: str | None = None,
) -> str:
    """A kubeconfig for an arbitrary user against the control-plane endpoint (client cert or token)."""
    if not client_name:
        raise KubeadmError("--client-name is required")
    st = manager.settings(cfg)
    store = PKIStore(fs, st.cert_dir)
    ca_cert, ca_key = manager.load_ca(store, "ca", st.start)
    server = build.control_plane_endpoint(cfg)
    if token:
        doc = build.config_document(cfg, server, client_name, issue.encode_cert(ca_cert), {"token": token})
        return build.dump(doc)
    if ca_key is None:
        raise KubeadmError(
            f"the CA key {store.key_path('ca')} is absent: cannot sign a client certificate",
            hint="use --token, or run where ca.key exists",
        )
    not_after = st.start + (validity if validity is not None else st.validity)
    doc = new_client_doc(
        cfg, server, client_profile(client_name, tuple(orgs)), ca_cert, ca_key, st, not_after
    )
    return build.dump(doc)
