"""Detached JWS signatures of ``cluster-info``, byte-identical to the controller-manager's
bootstrap signer (k8s.io/cluster-bootstrap/token/jws): HS256 keyed with the token secret, protected
header ``{"alg":"HS256","kid":"<token-id>"}`` (that key order, no spaces, as go-jose writes it),
compact serialisation with the payload segment removed: ``header..signature``."""

from __future__ import annotations

import base64
import hashlib
import hmac


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compute_detached_signature(content: str, token_id: str, token_secret: str) -> str:
    header = b64url(('{"alg":"HS256","kid":' + '"' + token_id + '"}').encode())
    payload = b64url(content.encode())
    # go-jose pads HS256 keys shorter than 32 bytes with zeros; HMAC zero-pads keys to its block
    # size anyway, so the MAC is the same with the bare secret.
    sig = hmac.new(token_secret.encode(), f"{header}.{payload}".encode("ascii"), hashlib.sha256).digest()
    return f"{header}..{b64url(sig)}"


def verify_detached_signature(content: str, signature: str, token_id: str, token_secret: str) -> bool:
    """True when ``signature`` is exactly the detached JWS of ``content`` for this token."""
    expected = compute_detached_signature(content, token_id, token_secret)
    return hmac.compare_digest(expected.encode(), signature.encode())


def signature_key(token_id: str) -> str:
    """The cluster-info data key the bootstrap signer uses: ``jws-kubeconfig-<id>``."""
    return f"jws-kubeconfig-{token_id}"
