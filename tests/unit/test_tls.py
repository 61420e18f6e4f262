"""Client TLS contexts verify as Go does (no VERIFY_X509_STRICT, which Python 3.13 turns on), and
every client context in the package comes from kubeadm_py.tls."""

from __future__ import annotations

import ssl
from pathlib import Path

from kubeadm_py.tls import client_context

ROOT = Path(__file__).resolve().parents[2] / "kubeadm_py"


def test_strict_x509_is_off_and_verification_is_on() -> None:
    strict = ssl.create_default_context()
    strict.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
    ctx = client_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert not ctx.verify_flags & getattr(ssl, "VERIFY_X509_STRICT", 0)
    first = ssl.VERIFY_X509_TRUSTED_FIRST
    assert ctx.verify_flags & first == strict.verify_flags & first


def test_no_other_client_context_in_the_package() -> None:
    users = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "ssl.create_default_context(" in p.read_text() and p.name != "tls.py"
    ]
    assert users == []
