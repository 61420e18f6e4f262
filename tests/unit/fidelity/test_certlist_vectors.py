"""Upstream's TestCertListOrder and TestCAPointersValid (upstream.CERTLIST_TEST) on kubeadm-py's
certificate table: for the default list and the list without etcd, every certificate comes after
the CA that signs it (CAs start a group), and every CA a certificate names is in the list."""

from __future__ import annotations

import pytest

from kubeadm_py.pki.specs import CERTS, CertSpec

from .upstream import CERTLIST_TEST

LISTS = {
    "Default Certificate List": list(CERTS),
    "Cert list less etcd": [c for c in CERTS if not c.etcd],
}


@pytest.mark.parametrize("name", list(LISTS))
def test_cert_list_order(name: str) -> None:
    last_ca: CertSpec | None = None
    for i, cert in enumerate(LISTS[name]):
        assert not (i > 0 and last_ca is None), f"CA not present in list before {cert.name} ({CERTLIST_TEST})"
        if cert.ca is None:
            last_ca = cert
        else:
            assert last_ca is not None and cert.ca == last_ca.name, (cert.name, cert.ca, CERTLIST_TEST)


@pytest.mark.parametrize("name", list(LISTS))
def test_ca_pointers_valid(name: str) -> None:
    names = {c.name for c in LISTS[name]}
    for cert in LISTS[name]:
        assert cert.ca is None or cert.ca in names, f"{cert.name} references nonexistent CA {cert.ca}"
