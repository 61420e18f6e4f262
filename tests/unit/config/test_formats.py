from __future__ import annotations

import pytest

from kubeadm_py.config.formats import (
    check_cidr_list,
    check_endpoint,
    check_kubernetes_version,
    check_token,
)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.96.0.0/12", True),
        ("10.96.0.1/12", True),  # host bits allowed, as Go's ParseCIDR
        ("fd00::/108", True),
        ("10.244.0.0/16,fd00:10:244::/56", True),
        ("fd00:10:244::/56,10.244.0.0/16", True),
        (" 10.244.0.0/16, fd00::/56", True),
        ("", True),
        ("10.96.0.0/33", False),
        ("10.96.0.0", False),
        ("10.244.0.0/16,10.245.0.0/16", False),
        ("a/b", False),
        ("10.0.0.0/8,fd00::/56,10.1.0.0/16", False),
    ],
)
def test_cidr_lists(value: str, ok: bool) -> None:
    assert (check_cidr_list(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("v1.20.2", True),
        ("1.36.1", True),
        ("v1.31.0-rc.1", True),
        ("v1.20", True),
        ("1.20", True),
        ("stable", False),
        ("stable-1", False),
        ("latest-1.30", False),
        ("ci/latest", False),
        ("v1", False),
        ("x", False),
    ],
)
def test_versions(value: str, ok: bool) -> None:
    assert (check_kubernetes_version(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abcdef.0123456789abcdef", True),
        ("ABCDEF.0123456789abcdef", False),
        ("abcdef.0123456789abcde", False),
        ("abcdef0123456789abcdef", False),
    ],
)
def test_tokens(value: str, ok: bool) -> None:
    assert (check_token(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.1", True),
        ("10.0.0.1:6443", True),
        ("lb.example.com", True),
        ("LB.example.com:443", False),  # upstream ParseHostPort: IsDNS1123Subdomain is lower-case
        ("[fd00::1]:6443", True),
        ("fd00::1", True),
        ("https://lb:6443", False),
        ("lb:99999", False),
        ("a b", False),
        ("[fd00::1", False),
    ],
)
def test_endpoints(value: str, ok: bool) -> None:
    assert (check_endpoint(value) is None) is ok


def test_join_endpoint_folds_case() -> None:
    """A join's apiServerEndpoint is only split into host and port upstream (any case)."""
    from kubeadm_py.config.formats import check_join_endpoint

    assert check_join_endpoint("LB.example.com:443") is None
    assert check_join_endpoint("a b:443") is not None
