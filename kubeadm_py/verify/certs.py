"""Certificate checks of this node: the PKI files and kubeconfig certificates (``certs
check-expiration``'s list), and the kubelet's client certificate and its rotation."""

from __future__ import annotations

from datetime import datetime

import yaml

from kubeadm_py.constants import KUBELET_DIR, KUBELET_KUBECONFIG, KUBERNETES_DIR
from kubeadm_py.verify.env import VerifyEnv
from kubeadm_py.verify.model import Problem

RENEW_FIX = "kubeadm-py certs renew {name}, then restart the components using it"
KUBELET_CONFIG = f"{KUBELET_DIR}/config.yaml"
# The kubelet rotates its client certificate at 70-90 % of its lifetime (certificate manager's jitter).
ROTATION_DUE = 0.9


def expiry_problem(env: VerifyEnv, what: str, not_after: datetime, fix: str) -> Problem | None:
    """A failure when ``not_after`` is past or within the failure threshold, a warning within the
    warning threshold, else None."""
    days = (not_after - env.now()).total_seconds() / 86400
    when = not_after.strftime("%Y-%m-%d %H:%M UTC")
    if days <= 0:
        return Problem(f"{what} expired on {when}", fix)
    if days < env.thresholds.cert_fail_days:
        return Problem(f"{what} expires in {_human(days)} ({when})", fix)
    if days < env.thresholds.cert_warn_days:
        return Problem(f"{what} expires in {_human(days)} ({when})", fix, warning=True)
    return None


def _human(days: float) -> str:
    return f"{days:.0f}d" if days >= 2 else f"{days * 24:.1f}h"


def node_certificates(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """Every certificate ``certs check-expiration`` lists (control-plane nodes), or the cluster CA
    (workers): present and not near expiry."""
    from kubeadm_py.certs.expiration import check_expiration
    from kubeadm_py.pki import issue

    problems = []
    if not env.is_control_plane():
        ca = f"{env.cfg.cert_dir}/ca.crt"
        data = env.fs.read_bytes(ca)
        if data is None:
            return "no cluster CA", [
                Problem(f"{ca} is missing", "join the node again (kubeadm-py reset; kubeadm-py join)")
            ]
        problem = expiry_problem(
            env,
            f"the cluster CA {ca}",
            issue.not_after(issue.load_cert(data, ca)),
            "rotate the CA (see docs/pki.md)",
        )
        return "cluster CA checked", [problem] if problem else []
    cfg = env.cluster_cfg()
    certs, cas = check_expiration(env.fs, cfg, KUBERNETES_DIR, now=env.now())
    from kubeadm_py.cluster.adminbinding import needed as super_admin_expected
    from kubeadm_py.constants import SUPER_ADMIN_KUBECONFIG

    for info in [*certs, *cas]:
        if info.name == SUPER_ADMIN_KUBECONFIG and not super_admin_expected(cfg.kubernetes_version):
            continue  # kubeadm writes super-admin.conf from v1.29
        if info.missing:
            if not info.externally_managed:
                problems.append(
                    Problem(f"certificate {info.name} is missing", f"kubeadm-py init phase certs {info.name}")
                )
            continue
        assert info.expiration is not None
        fix = "rotate the CA (see docs/pki.md)" if not info.ca_name else RENEW_FIX.format(name=info.name)
        problem = expiry_problem(env, f"certificate {info.name}", info.expiration, fix)
        if problem is not None:
            problems.append(problem)
    n = len(certs) + len(cas)
    return f"{n - len(problems)}/{n} certificates valid for {env.thresholds.cert_warn_days:g}+ days", problems


def kubelet_client_certificate(env: VerifyEnv) -> tuple[str, list[Problem]]:
    """kubelet.conf's client certificate: valid, and rotated by the kubelet (a file the kubelet
    renews, ``rotateCertificates`` on, renewed before its rotation deadline)."""
    from kubeadm_py.kube.kubeconfig_read import read_simple
    from kubeadm_py.pki import issue

    path = f"{KUBERNETES_DIR}/{KUBELET_KUBECONFIG}"
    text = env.fs.read_text(path)
    if text is None:
        return "no kubelet.conf", [
            Problem(f"{path} is missing", "kubeadm-py join (or init phase kubeconfig kubelet)")
        ]
    settings = read_simple(text, path)
    problems = []
    pem, source = None, path
    if settings is not None and settings.cert_file:
        source = settings.cert_file
        pem = env.fs.read_bytes(source)
    elif settings is not None and settings.cert_pem is not None:
        pem = settings.cert_pem
        problems.append(
            Problem(
                f"{path} embeds its client certificate: the kubelet cannot rotate it",
                "kubeadm-py init phase kubelet-finalize (points kubelet.conf at kubelet-client-current.pem)",
                warning=True,
            )
        )
    if pem is None:
        return "no client certificate", problems + [
            Problem(
                f"the kubelet's client certificate {source} is missing",
                "restart the kubelet (it bootstraps again)",
            )
        ]
    cert = issue.load_cert(pem, source)
    problem = expiry_problem(
        env,
        f"the kubelet's client certificate {source}",
        issue.not_after(cert),
        "restart the kubelet; check its CSRs (kubectl get csr)",
    )
    if problem is not None:
        problems.append(problem)
    if not _rotation_on(env):
        problems.append(
            Problem(
                f"client certificate rotation is off in {KUBELET_CONFIG}",
                "set rotateCertificates: true in the KubeletConfiguration and restart the kubelet",
                warning=True,
            )
        )
    start, end = cert.not_valid_before_utc, issue.not_after(cert)
    if end > start and (env.now() - start) / (end - start) > ROTATION_DUE and problem is None:
        problems.append(
            Problem(
                f"the kubelet has not rotated its client certificate {source} past 90% of its lifetime",
                "check the kubelet's CSRs (kubectl get csr) and that kube-controller-manager signs them",
            )
        )
    return f"valid until {issue.not_after(cert):%Y-%m-%d}", problems


def _rotation_on(env: VerifyEnv) -> bool:
    text = env.fs.read_text(KUBELET_CONFIG)
    if text is None:
        return True  # unknown: the flag may be on the command line
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return True
    return bool(doc.get("rotateCertificates", False)) if isinstance(doc, dict) else True
