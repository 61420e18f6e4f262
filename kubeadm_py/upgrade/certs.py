"""Certificates during an upgrade (upstream ``renewCertsByComponent``).

With certificate renewal on (the default), each component's certificates are renewed with the local
CA right before its manifest is swapped, keeping subject and SANs (``certs renew`` semantics), and
``admin.conf``/``super-admin.conf`` at the end. Independently of renewal, a certificate whose
subject or SANs no longer match the configuration (a new ``apiServer.certSANs`` entry, a new
advertise address) is **re-issued** from the configuration, so a configuration change reaches the
serving certificate. Externally managed certificates (no CA key) are left alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubeadm_py.certs import renew
from kubeadm_py.changes import Change
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import ADMIN_KUBECONFIG, SUPER_ADMIN_KUBECONFIG
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import issue, keys, manager, specs, verify
from kubeadm_py.pki.store import PKIStore

Log = Callable[[str], None]

# component -> certificate names (pki specs) and kubeconfig files it uses.
BY_COMPONENT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "etcd": (("etcd-server", "etcd-peer", "etcd-healthcheck-client"), ()),
    "kube-apiserver": (
        ("apiserver", "apiserver-kubelet-client", "front-proxy-client", "apiserver-etcd-client"),
        (),
    ),
    "kube-controller-manager": ((), ("controller-manager.conf",)),
    "kube-scheduler": ((), ("scheduler.conf",)),
    "admin": ((), (ADMIN_KUBECONFIG, SUPER_ADMIN_KUBECONFIG)),
}


@dataclass
class CertPlan:
    """What would happen to one certificate: renew, reissue (config changed) or nothing."""

    name: str
    action: str  # "renew", "reissue", "skip"
    reason: str = ""
    missing_sans: list[str] = field(default_factory=list)


def _names(component: str, local_etcd: bool) -> tuple[list[str], list[str]]:
    certs, kcs = BY_COMPONENT[component]
    names = [n for n in certs if local_etcd or not specs.get(n).etcd]
    return names, list(kcs)


def plan_component(
    fs: HostFS, cfg: KubeadmConfig, component: str, renewal: bool, st: manager.Settings | None = None
) -> list[CertPlan]:
    st = st or manager.settings(cfg)
    store = PKIStore(fs, st.cert_dir)
    names, kcs = _names(component, cfg.local_etcd)
    out: list[CertPlan] = []
    for name in names:
        spec = specs.get(name)
        assert spec.ca is not None
        cert = store.read_cert(spec.base)
        if cert is None:
            out.append(CertPlan(name, "skip", "absent"))
            continue
        if not store.has_key(specs.get(spec.ca).base):
            out.append(CertPlan(name, "skip", f"external CA ({spec.ca} key absent)"))
            continue
        want = manager.expected_profile(cfg, spec)
        have = issue.profile_of(cert)
        missing = [d for d in want.dns if d not in have.dns] + [str(i) for i in want.ips if i not in have.ips]
        if missing or have.cn != want.cn:
            out.append(CertPlan(name, "reissue", "the configuration changed its subject or SANs", missing))
        elif renewal:
            out.append(CertPlan(name, "renew", "certificate renewal"))
        else:
            out.append(CertPlan(name, "skip", "--certificate-renewal=false"))
    for kc in kcs:
        from kubeadm_py.constants import KUBERNETES_DIR

        if not fs.exists(f"{KUBERNETES_DIR}/{kc}"):
            out.append(CertPlan(kc, "skip", "absent"))
        else:
            out.append(
                CertPlan(
                    kc,
                    "renew" if renewal else "skip",
                    "certificate renewal" if renewal else "--certificate-renewal=false",
                )
            )
    return out


def _reissue(fs: HostFS, cfg: KubeadmConfig, name: str, st: manager.Settings) -> list[Change]:
    spec = specs.get(name)
    assert spec.ca is not None
    store = PKIStore(fs, st.cert_dir)
    ca_cert, ca_key = manager.load_ca(store, spec.ca, st.start)
    assert ca_key is not None
    want = manager.expected_profile(cfg, spec)
    old = store.read_cert(spec.base)
    if old is not None:
        have = issue.profile_of(old)
        # Keep extra SANs the old certificate had (kubeadm only ever adds).
        want = issue.Profile(
            cn=want.cn,
            orgs=want.orgs,
            dns=tuple(dict.fromkeys([*want.dns, *have.dns])),
            ips=tuple(dict.fromkeys([*want.ips, *have.ips])),
            ekus=want.ekus,
        )
    key = keys.generate_key(st.algorithm)
    cert = issue.build(want, key.public_key(), ca_key, ca_cert, st.not_before, st.start + st.validity)
    if verify.leaf_problems(cert, key, ca_cert, spec.ca, manager.expected_profile(cfg, spec), st.start):
        raise AssertionError("internal: re-issued certificate does not match its profile")
    return [
        store.write_key(spec.base, key),
        store.write_cert(spec.base, cert, detail=f"re-issued for the new configuration, CN={want.cn}"),
    ]


def apply_component(
    fs: HostFS,
    cfg: KubeadmConfig,
    component: str,
    renewal: bool,
    kubeconfig_dir: str,
    log: Log,
    st: manager.Settings | None = None,
) -> list[Change]:
    st = st or manager.settings(cfg)
    out: list[Change] = []
    for p in plan_component(fs, cfg, component, renewal, st):
        if p.action == "reissue":
            log(
                f"[upgrade/certs] Re-issuing {p.name}: {p.reason}"
                + (f" (adds {', '.join(p.missing_sans)})" if p.missing_sans else "")
            )
            out += _reissue(fs, cfg, p.name, st)
        elif p.action == "renew":
            out += renew.renew_one(
                fs,
                cfg,
                renew.target(p.name, cfg.local_etcd),
                kubeconfig_dir,
                st,
                log=lambda m: log(f"[upgrade/certs] {m}"),
            )
    return out
