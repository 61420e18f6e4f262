"""Go httpproxy semantics for HTTPProxy / HTTPProxyCIDR."""

from __future__ import annotations

import pytest

from kubeadm_py.preflight.proxy import proxy_for

P = "http://proxy:3128"


@pytest.mark.parametrize(
    ("host", "env", "expected"),
    [
        ("10.0.0.1", {}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P}, P),
        ("10.0.0.1", {"https_proxy": "proxy:3128"}, P),  # scheme added like Go
        ("10.0.0.1", {"HTTPS_PROXY": "", "https_proxy": P}, P),  # empty upper case counts as unset
        ("10.0.0.1", {"HTTP_PROXY": P}, None),  # https uses HTTPS_PROXY only
        ("127.0.0.1", {"HTTPS_PROXY": P}, None),
        ("localhost", {"HTTPS_PROXY": P}, None),
        ("::1", {"HTTPS_PROXY": P}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P, "NO_PROXY": "*"}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P, "no_proxy": "10.0.0.1"}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.2,192.168.0.0/16"}, P),
        ("10.0.0.1", {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.1:443"}, None),
        ("10.0.0.1", {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.1:6443"}, P),
        ("api.example.com", {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, None),
        ("example.com", {"HTTPS_PROXY": P, "NO_PROXY": ".example.com"}, P),
        ("api.example.com", {"HTTPS_PROXY": P, "NO_PROXY": "*.example.com"}, None),
        ("badexample.com", {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, P),
        ("fd00::1", {"HTTPS_PROXY": P, "NO_PROXY": "fd00::/8"}, None),
    ],
)
def test_proxy_for(host: str, env: dict[str, str], expected: str | None) -> None:
    assert proxy_for("https", host, env) == expected


def test_cgi_ignores_http_proxy() -> None:
    assert proxy_for("http", "10.0.0.1", {"HTTP_PROXY": P, "REQUEST_METHOD": "GET"}) is None
    assert proxy_for("http", "10.0.0.1", {"HTTP_PROXY": P}) == P
