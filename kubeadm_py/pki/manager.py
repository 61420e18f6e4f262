"""Create-or-reuse of the certificates in the table, the sa key pair, and CA loading.

Rules (docs/pki.md):
- absent → generated (key 0600 first, then certificate 0644, each atomic);
- present and acceptable (signed by the current CA, in its validity period, key matching, subject,
  SANs and EKUs as required) → reused, reported as an "unchanged" change;
- present but different → KubeadmError naming the file and every difference; nothing is written;
- CA certificate without its key → external-CA mode: leaves of that CA are verified, never signed,
  and a missing one is an error naming it;
- a key without its certificate (an interrupted run) → a certificate is issued for that key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.durations import duration_timedelta
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import issue, keypool, keys, sans, specs, timeutil, verify
from kubeadm_py.pki.issue import Profile
from kubeadm_py.pki.keys import PrivateKey
from kubeadm_py.pki.specs import CertSpec
from kubeadm_py.pki.store import PKIStore

Log = Callable[[str], None]


def _no_log(msg: str) -> None:
    return None


@dataclass(frozen=True)
class Settings:
    """The PKI-relevant part of the configuration, resolved once per run."""

    cert_dir: str
    algorithm: keys.KeyAlgorithm
    validity: timedelta
    ca_validity: timedelta
    start: datetime  # run start; NotBefore = start - 5 min
    # Where fresh RSA keys come from: the run's pool (generated ahead in threads), else made here.
    keys: keypool.KeyPool | None = field(default=None, compare=False, repr=False)

    @property
    def not_before(self) -> datetime:
        return self.start - timeutil.CERTIFICATE_BACKDATE


def settings(cfg: KubeadmConfig, start: datetime | None = None) -> Settings:
    """The run's PKI settings; a validity period that is not positive is refused here (the
    workflows call this when the run is built, before any phase writes)."""
    c = cfg.cluster
    return Settings(
        cert_dir=cfg.cert_dir,
        algorithm=keys.algorithm(c.get("encryptionAlgorithm")),
        validity=_validity(c, "certificateValidityPeriod", timeutil.DEFAULT_CERT_VALIDITY),
        ca_validity=_validity(c, "caCertificateValidityPeriod", timeutil.DEFAULT_CA_VALIDITY),
        start=start or timeutil.now(),
    )


def _validity(cluster: dict[str, Any], key: str, default: str) -> timedelta:
    from kubeadm_py.durations import format_duration

    value = duration_timedelta(cluster.get(key) or default, key)
    if value <= timedelta(0):
        raise KubeadmError(
            f"ClusterConfiguration.{key}: {format_duration(value)} is not a positive duration",
            hint="certificates need a validity period such as 8760h0m0s",
        )
    return value


def expected_profile(cfg: KubeadmConfig, spec: CertSpec) -> Profile:
    cn = spec.cn or cfg.node_name
    if not cn:
        raise KubeadmError(f"cannot create {spec.name!r}: the node name is empty")
    if spec.is_ca:
        return Profile(cn=cn, orgs=spec.orgs_for(cfg.kubernetes_version), dns=(cn,), is_ca=True)
    alt = sans.RULES[spec.sans](cfg) if spec.sans else sans.AltNames()
    orgs = spec.orgs_for(cfg.kubernetes_version)
    return Profile(cn=cn, orgs=orgs, dns=alt.dns, ips=alt.ips, ekus=spec.ekus)


def _fail(path: str, problems: list[str], hint: str) -> KubeadmError:
    return KubeadmError(f"existing {path} cannot be used: {'; '.join(problems)}", hint=hint)


def load_ca(store: PKIStore, ca_name: str, now: datetime) -> tuple[x509.Certificate, PrivateKey | None]:
    """The CA certificate and, unless in external-CA mode, its key; both checked."""
    spec = specs.get(ca_name)
    cert = store.read_cert(spec.base)
    if cert is None:
        raise KubeadmError(
            f"the {ca_name} certificate {store.cert_path(spec.base)} does not exist",
            hint=f"run 'kubeadm-py init phase certs {ca_name}' first, or provide it",
        )
    key = store.read_key(spec.base)
    _check_ca(store, spec, cert, key, now)
    return cert, key


def _check_ca(
    store: PKIStore, spec: CertSpec, cert: x509.Certificate, key: PrivateKey | None, now: datetime
) -> None:
    """An existing CA is used as it is or not at all (no automated rotation)."""
    problems = verify.ca_problems(cert, key, now)
    if problems:
        raise _fail(
            store.cert_path(spec.base),
            problems,
            "CA rotation is not automated: replace the CA and everything it signed",
        )


def is_external_ca(store: PKIStore, ca_name: str = "ca") -> bool:
    base = specs.get(ca_name).base
    return store.has_cert(base) and not store.has_key(base)


def _unchanged(path: str, detail: str) -> Change:
    return Change("file", "unchanged", path, detail)


def _fmt_sans(p: Profile) -> str:
    return f"DNS names [{' '.join(p.dns)}] and IPs [{' '.join(str(i) for i in p.ips)}]"


def _missing_keys(fs: HostFS, cfg: KubeadmConfig, st: Settings) -> list[str]:
    """Entries of the table (upstream order) and ``sa`` whose key and certificate are both absent."""
    store = PKIStore(fs, st.cert_dir)
    out = [
        c.name
        for c in specs.cert_list(cfg.local_etcd)
        if not store.has_key(c.base) and not store.has_cert(c.base)
    ]
    if not store.has_key("sa") and not fs.exists(store.path(specs.SA_PUB)):
        out.append(specs.SA_NAME)
    return out


def new_key(fs: HostFS, cfg: KubeadmConfig, st: Settings, name: str) -> PrivateKey:
    """A fresh private key for entry ``name``: from the run's key pool (``st.keys``) when it has
    one, else generated here."""
    run = (id(fs), st.cert_dir, st.algorithm.name)
    return keypool.new_key(st.keys, run, st.algorithm, lambda: _missing_keys(fs, cfg, st), name)


def _key_to_certify(
    store: PKIStore, cfg: KubeadmConfig, spec: CertSpec, st: Settings, key: PrivateKey | None, log: Log
) -> tuple[PrivateKey, list[Change]]:
    """The key a new certificate is issued for: the one an interrupted run left, or a new one
    (written first; its change is returned)."""
    if key is not None:
        log(f'[certs] Generating "{spec.name}" certificate for the existing key {store.key_path(spec.base)}')
        return key, []
    log(f'[certs] Generating "{spec.name}" certificate and key')
    key = new_key(store.fs, cfg, st, spec.name)
    return key, [store.write_key(spec.base, key)]


def ensure_ca(
    fs: HostFS, cfg: KubeadmConfig, spec: CertSpec, st: Settings, log: Log = _no_log
) -> list[Change]:
    store = PKIStore(fs, st.cert_dir)
    cert = store.read_cert(spec.base)
    key = store.read_key(spec.base)
    crt_path = store.cert_path(spec.base)
    if cert is not None:
        _check_ca(store, spec, cert, key, st.start)
        if key is None:
            log(f"[certs] Using existing {spec.name} keyless certificate authority (external CA mode)")
            return [_unchanged(crt_path, "external CA: certificate without key")]
        log(f"[certs] Using existing {spec.name} certificate authority")
        return [
            _unchanged(crt_path, "using existing CA"),
            _unchanged(store.key_path(spec.base), "using existing key"),
        ]
    key, out = _key_to_certify(store, cfg, spec, st, key, log)
    prof = expected_profile(cfg, spec)
    cert = issue.self_signed_ca(prof.cn, key, st.not_before, st.start + st.ca_validity, prof.orgs)
    out.append(store.write_cert(spec.base, cert, detail=f"CA certificate, CN={prof.cn}"))
    return out


def ensure_leaf(
    fs: HostFS, cfg: KubeadmConfig, spec: CertSpec, st: Settings, log: Log = _no_log
) -> list[Change]:
    assert spec.ca is not None
    store = PKIStore(fs, st.cert_dir)
    ca_cert, ca_key = load_ca(store, spec.ca, st.start)
    want = expected_profile(cfg, spec)
    crt_path, key_path = store.cert_path(spec.base), store.key_path(spec.base)
    cert = store.read_cert(spec.base)
    key = store.read_key(spec.base)
    if cert is not None:
        problems = [] if key is not None else [f"its key {key_path} is missing"]
        problems += verify.leaf_problems(cert, key, ca_cert, spec.ca, want, st.start)
        if problems:
            raise _fail(
                crt_path,
                problems,
                f"remove {crt_path} and {key_path} to regenerate, or 'kubeadm-py certs renew {spec.name}'",
            )
        log(f"[certs] Using existing {spec.name} certificate and key on disk")
        return [
            _unchanged(crt_path, f"valid, signed by {spec.ca}"),
            _unchanged(key_path, "using existing key"),
        ]
    if ca_key is None:
        raise KubeadmError(
            f"external CA mode: {store.key_path(specs.get(spec.ca).base)} is absent, so the {spec.name} "
            f"certificate {crt_path} and key {key_path} must be provided (signed by {spec.ca})",
            hint=f"sign it with your CA ('kubeadm-py certs generate-csr' writes {spec.base}.csr)",
        )
    key, out = _key_to_certify(store, cfg, spec, st, key, log)
    if want.dns or want.ips:
        log(f"[certs] {spec.name} serving cert is signed for {_fmt_sans(want)}")
    cert = issue.build(want, key.public_key(), ca_key, ca_cert, st.not_before, st.start + st.validity)
    out.append(store.write_cert(spec.base, cert, detail=f"CN={want.cn}, signed by {spec.ca}"))
    return out


def ensure_sa(fs: HostFS, cfg: KubeadmConfig, st: Settings, log: Log = _no_log) -> list[Change]:
    store = PKIStore(fs, st.cert_dir)
    key = store.read_key("sa")
    pub = store.read_public(specs.SA_PUB)
    key_path, pub_path = store.path(specs.SA_KEY), store.path(specs.SA_PUB)
    if key is not None:
        if pub is None:
            log(f'[certs] Using the existing "sa" key; writing its public key {pub_path}')
            return [
                _unchanged(key_path, "using existing key"),
                store.write_public(specs.SA_PUB, key.public_key()),
            ]
        if not keys.same_public_key(pub, key.public_key()):
            raise KubeadmError(
                f"{pub_path} is not the public key of {key_path}",
                hint=f"remove {pub_path} to rewrite it from the private key",
            )
        log('[certs] Using the existing "sa" key')
        return [_unchanged(key_path, "using existing key"), _unchanged(pub_path, "matches sa.key")]
    if pub is not None:
        raise KubeadmError(
            f"{pub_path} exists but {key_path} does not",
            hint="restore sa.key or remove sa.pub (existing service account tokens become invalid)",
        )
    log('[certs] Generating "sa" key and public key')
    key = new_key(fs, cfg, st, specs.SA_NAME)
    return [store.write_key("sa", key), store.write_public(specs.SA_PUB, key.public_key())]


def ensure(
    fs: HostFS, cfg: KubeadmConfig, name: str, st: Settings | None = None, log: Log = _no_log
) -> list[Change]:
    """Create or reuse one entry of the table (or ``sa``)."""
    st = st or settings(cfg)
    if name == specs.SA_NAME:
        return ensure_sa(fs, cfg, st, log)
    spec = specs.get(name)
    if spec.etcd and not cfg.local_etcd:
        log(f"[certs] External etcd mode: Skipping {name} certificate generation")
        return []
    return ensure_ca(fs, cfg, spec, st, log) if spec.is_ca else ensure_leaf(fs, cfg, spec, st, log)


def create_pki(
    fs: HostFS,
    cfg: KubeadmConfig,
    names: list[str] | tuple[str, ...] | None = None,
    log: Log = _no_log,
    start: datetime | None = None,
    keys: keypool.KeyPool | None = None,
) -> list[Change]:
    """All certificates (upstream order) and the sa key pair, or just ``names``; RSA keys from
    ``keys`` when given (generated ahead in its threads)."""
    st = replace(settings(cfg, start), keys=keys)
    wanted = [c.name for c in specs.cert_list(cfg.local_etcd)] + [specs.SA_NAME]
    if names is not None:
        wanted = [n for n in wanted if n in set(names)]
    out: list[Change] = []
    for n in wanted:
        out += ensure(fs, cfg, n, st, log)
    return out
