"""Detached JWS (bootstrap signer) and CA public-key pins against upstream's own test vectors
(cluster-bootstrap/token/jws/jws_test.go, cmd/kubeadm/app/util/pubkeypin/pubkeypin_test.go) and
independent implementations (hand-made HMAC + base64url; the openssl CLI)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess

import pytest
from cryptography import x509

from kubeadm_py.errors import KubeadmError
from kubeadm_py.tokens import jws
from kubeadm_py.tokens.pubkeypin import PinSet, hash_certificate, hash_pem, parse_pin

CONTENT = "Hello from the other side. I must have called a thousand times."
SECRET = "my voice is my passcode"

# (content, secret, expected) from jws_test.go, token id "joshua"
UPSTREAM_VECTORS = [
    (
        CONTENT,
        SECRET,
        "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8",
    ),
    ("", SECRET, "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"),
    (CONTENT, "", "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"),
]


@pytest.mark.parametrize("content,secret,expected", UPSTREAM_VECTORS)
def test_upstream_vectors(content: str, secret: str, expected: str) -> None:
    assert jws.compute_detached_signature(content, "joshua", secret) == expected
    assert jws.verify_detached_signature(content, expected, "joshua", secret)
    assert not jws.verify_detached_signature(content, expected + "foo", "joshua", secret)


def _independent(content: str, tid: str, secret: str) -> str:
    def b64u(b: bytes) -> str:
        return base64.b64encode(b).decode().replace("+", "-").replace("/", "_").rstrip("=")

    header = json.dumps({"alg": "HS256", "kid": tid}, separators=(",", ":"))
    signing_input = b64u(header.encode()) + "." + b64u(content.encode())
    key = secret.encode().ljust(32, b"\0")  # go-jose's padding of short HS256 keys
    return b64u(header.encode()) + ".." + b64u(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


@pytest.mark.parametrize("tid,secret", [("abcdef", "0123456789abcdef"), ("z9z9z9", "a" * 16)])
def test_matches_independent_implementation_on_a_kubeconfig(tid: str, secret: str) -> None:
    content = 'apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: ""\n'
    assert jws.compute_detached_signature(content, tid, secret) == _independent(content, tid, secret)
    assert jws.signature_key(tid) == f"jws-kubeconfig-{tid}"


def test_header_is_go_jose_compact_json() -> None:
    sig = jws.compute_detached_signature("x", "abcdef", "s")
    header = sig.split("..")[0]
    assert base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)) == b'{"alg":"HS256","kid":"abcdef"}'


# pubkeypin_test.go: testCertPEM (CN kubeadm-keypins-test) and its expected pin.
UPSTREAM_CERT = b"""-----BEGIN CERTIFICATE-----
MIIDRDCCAiygAwIBAgIJAJgVaCXvC6HkMA0GCSqGSIb3DQEBBQUAMB8xHTAbBgNV
BAMTFGt1YmVhZG0ta2V5cGlucy10ZXN0MCAXDTE3MDcwNTE3NDMxMFoYDzIxMTcw
NjExMTc0MzEwWjAfMR0wGwYDVQQDExRrdWJlYWRtLWtleXBpbnMtdGVzdDCCASIw
DQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAK0ba8mHU9UtYlzM1Own2Fk/XGjR
J4uJQvSeGLtz1hID1IA0dLwruvgLCPadXEOw/f/IWIWcmT+ZmvIHZKa/woq2iHi5
+HLhXs7aG4tjKGLYhag1hLjBI7icqV7ovkjdGAt9pWkxEzhIYClFMXDjKpMSynu+
YX6nZ9tic1cOkHmx2yiZdMkuriRQnpTOa7bb03OC1VfGl7gHlOAIYaj4539WCOr8
+ACTUMJUFEHcRZ2o8a/v6F9GMK+7SC8SJUI+GuroXqlMAdhEv4lX5Co52enYaClN
+D9FJLRpBv2YfiCQdJRaiTvCBSxEFz6BN+PtP5l2Hs703ZWEkOqCByM6HV8CAwEA
AaOBgDB+MB0GA1UdDgQWBBRQgUX8MhK2rWBWQiPHWcKzoWDH5DBPBgNVHSMESDBG
gBRQgUX8MhK2rWBWQiPHWcKzoWDH5KEjpCEwHzEdMBsGA1UEAxMUa3ViZWFkbS1r
ZXlwaW5zLXRlc3SCCQCYFWgl7wuh5DAMBgNVHRMEBTADAQH/MA0GCSqGSIb3DQEB
BQUAA4IBAQCaAUif7Pfx3X0F08cxhx8/Hdx4jcJw6MCq6iq6rsXM32ge43t8OHKC
pJW08dk58a3O1YQSMMvD6GJDAiAfXzfwcwY6j258b1ZlI9Ag0VokvhMl/XfdCsdh
AWImnL1t4hvU5jLaImUUMlYxMcSfHBGAm7WJIZ2LdEfg6YWfZh+WGbg1W7uxLxk6
y4h5rWdNnzBHWAGf7zJ0oEDV6W6RSwNXtC0JNnLaeIUm/6xdSddJlQPwUv8YH4jX
c1vuFqTnJBPcb7W//R/GI2Paicm1cmns9NLnPR35exHxFTy+D1yxmGokpoPMdife
aH+sfuxT8xeTPb3kjzF9eJTlnEquUDLM
-----END CERTIFICATE-----
"""
UPSTREAM_PIN = "sha256:345959acb2c3b2feb87d281961c893f62a314207ef02599f1cc4a5fb255480b3"


def test_pin_upstream_vector() -> None:
    assert hash_pem(UPSTREAM_CERT) == UPSTREAM_PIN


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_pin_matches_openssl_cli(env) -> None:
    ca = env.files["/etc/kubernetes/pki/ca.crt"]
    pub = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout"], input=ca, capture_output=True, check=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True, check=True
    ).stdout
    assert hash_pem(ca) == "sha256:" + hashlib.sha256(der).hexdigest()


def test_pin_set_like_upstream() -> None:
    cert = x509.load_pem_x509_certificate(UPSTREAM_CERT)
    s = PinSet()
    for junk in ("xyz", "sha256:0011223344", UPSTREAM_PIN + UPSTREAM_PIN):
        with pytest.raises(KubeadmError):
            s.add(junk)
    assert s.empty()
    with pytest.raises(KubeadmError, match="are pinned"):
        s.check([cert])
    s.add(UPSTREAM_PIN.upper().replace("SHA256", "sha256"))
    s.check([cert])
    assert hash_certificate(cert) in s.pins


@pytest.mark.parametrize(
    "pin,msg",
    [
        ("345959", 'invalid hash "345959", expected "format:hex-value". Known format(s) are: sha256'),
        ("md5:00", 'unknown hash format "md5". Known format(s) are: sha256'),
        ("sha256:0011", 'invalid hash "0011", expected a 32 byte SHA-256 hash, found 2 bytes'),
    ],
)
def test_pin_errors_match_upstream(pin: str, msg: str) -> None:
    with pytest.raises(KubeadmError) as e:
        parse_pin(pin)
    assert str(e.value) == msg
