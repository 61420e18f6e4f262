"""``certs generate-csr``: keys and CSRs for an external CA (upstream phases/certs CreateCSR and
kubeconfig CreateKubeConfigFileCSR). Certificates: ``<certDir>/<base>.key`` and ``<base>.csr``.
kubeconfig files: a partial kubeconfig with only the client key, plus ``<file>.csr`` next to it.
Existing keys or CSRs are left alone."""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import host_join
from kubeadm_py.hostfs import CONFIG_MODE, KEY_MODE, HostFS
from kubeadm_py.pki import issue, keys, manager, specs
from kubeadm_py.pki.issue import Profile
from kubeadm_py.pki.keys import PrivateKey

Log = Callable[[str], None]
CSR_MODE = 0o600


def _no_log(msg: str) -> None:
    return None


def new_csr(profile: Profile, key: PrivateKey) -> x509.CertificateSigningRequest:
    b = x509.CertificateSigningRequestBuilder().subject_name(issue.subject(profile.cn, profile.orgs))
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in profile.dns]
    names += [x509.IPAddress(i) for i in profile.ips]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(key, keys.signature_hash(key))


def encode_csr(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.PEM)


def generate_csrs(fs: HostFS, cfg: KubeadmConfig, kubeconfig_dir: str, log: Log = _no_log) -> list[Change]:
    from kubeadm_py.kubeconfig import build
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS

    st = manager.settings(cfg)
    out: list[Change] = []
    for spec in specs.cert_list(cfg.local_etcd):
        if spec.is_ca:
            continue
        key_path = host_join(st.cert_dir, spec.key_file)
        csr_path = host_join(st.cert_dir, f"{spec.base}.csr")
        if fs.exists(key_path) or fs.exists(csr_path):
            log(f"[certs] Using the existing CSR or key for {spec.name!r}")
            continue
        key = keys.generate_key(st.algorithm)
        csr = new_csr(manager.expected_profile(cfg, spec), key)
        out.append(
            fs.write(key_path, keys.encode_private_key(key), KEY_MODE, secret=True, detail="private key")
        )
        out.append(fs.write(csr_path, encode_csr(csr), CSR_MODE, detail="certificate signing request"))
        log(f"[certs] Generating CSR for {spec.name} instead of certificate")
    for k in KUBECONFIGS:
        if not k.applies_to(cfg.kubernetes_version):
            continue
        path = host_join(kubeconfig_dir, k.file)
        csr_path = f"{path}.csr"
        if fs.exists(path) or fs.exists(csr_path):
            log(f"[kubeconfig] Using the existing kubeconfig or CSR for {k.file!r}")
            continue
        key = keys.generate_key(st.algorithm)
        cn = k.client_name(cfg.node_name)
        csr = new_csr(Profile(cn=cn, orgs=k.orgs_for(cfg.kubernetes_version)), key)
        server = build.endpoint(cfg, k.endpoint)
        doc = build.config_document(
            cfg, server, cn, b"", {"client-key-data": build.b64(keys.encode_private_key(key))}
        )
        del doc["clusters"][0]["cluster"]["certificate-authority-data"]
        out.append(
            fs.write(
                path,
                build.dump(doc).encode(),
                CONFIG_MODE,
                secret=True,
                detail="partial kubeconfig (client key only)",
            )
        )
        out.append(fs.write(csr_path, encode_csr(csr), CSR_MODE, detail="certificate signing request"))
        log(f"[kubeconfig] Generating CSR for {k.file} instead of kubeconfig")
    return out
