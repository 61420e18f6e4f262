"""Bootstrap token model: generation, upstream validation errors, durations, Secret encoding."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from kubeadm_py.tokens import model
from kubeadm_py.tokens.model import BootstrapToken, TokenError, TokenString


def test_generate_format_and_spread() -> None:
    tokens = {model.generate_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", t) for t in tokens)
    chars = set("".join(t.replace(".", "") for t in tokens))
    assert len(chars) == 36, "every character of [a-z0-9] should appear over 4400 draws"


@pytest.mark.parametrize(
    "token,ok",
    [
        ("abcdef.0123456789abcdef", True),
        ("ABCDEF.0123456789abcdef", False),
        ("abcdef0123456789abcdef", False),
        ("abcde.0123456789abcdef", False),
        ("abcdef.0123456789abcdef0", False),
        ("abcdef.0123456789abcde_", False),
        ("abcdef.0123456789abcdef\n", False),
        ("", False),
    ],
)
def test_parse_token(token: str, ok: bool) -> None:
    if ok:
        t = TokenString.parse(token)
        assert (t.id, t.secret, str(t)) == ("abcdef", "0123456789abcdef", token)
    else:
        with pytest.raises(TokenError) as e:
            TokenString.parse(token)
        # upstream echoes the token (%q); a mistyped token is nearly the token, so it is withheld
        assert str(e.value) == (
            "the bootstrap token was not of the form "
            '"\\\\A([a-z0-9]{6})\\\\.([a-z0-9]{16})\\\\z"'
        )


@pytest.mark.parametrize(
    "group,ok",
    [
        ("system:bootstrappers:kubeadm:default-node-token", True),
        ("system:bootstrappers:a", True),
        ("system:bootstrappers:foo-", False),
        ("system:bootstrappers:", False),
        ("system:nodes", False),
        ("system:bootstrappers:UPPER", False),
        ("system:bootstrappers:" + "a" * 256, True),
        ("system:bootstrappers:" + "a" * 257, False),
    ],
)
def test_group_validation(group: str, ok: bool) -> None:
    if ok:
        model.validate_group(group)
    else:
        with pytest.raises(TokenError, match=r"bootstrap group .* is invalid \(must match"):
            model.validate_group(group)


def test_usage_validation_message_matches_upstream() -> None:
    model.validate_usages(["signing", "authentication"])
    model.validate_usages([])
    with pytest.raises(TokenError) as e:
        model.validate_usages(["signing", "foo", "bar"])
    assert str(e.value) == (
        "invalid bootstrap token usage string: bar,foo, valid usage options: signing,authentication"
    )


def _decoded(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def test_secret_encoding_matches_upstream_fields() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    tok = BootstrapToken.from_config(
        {
            "token": "abcdef.0123456789abcdef",
            "description": "d",
            "ttl": "2h",
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:x", "system:bootstrappers:y"],
        }
    )
    s = tok.to_secret(now)
    assert s["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert s["type"] == "bootstrap.kubernetes.io/token"
    assert _decoded(s) == {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "description": "d",
        "expiration": "2026-01-02T05:04:05Z",
        "usage-bootstrap-signing": "true",
        "usage-bootstrap-authentication": "true",
        "auth-extra-groups": "system:bootstrappers:x,system:bootstrappers:y",
    }
    back = BootstrapToken.from_secret(s)
    assert str(back.token) == "abcdef.0123456789abcdef"
    assert back.usages == ["authentication", "signing"]  # upstream sorts usages on decode
    assert back.groups == ["system:bootstrappers:x", "system:bootstrappers:y"]
    assert back.expires == datetime(2026, 1, 2, 5, 4, 5, tzinfo=UTC)


def test_zero_ttl_never_expires_and_expires_wins() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    forever = BootstrapToken.from_config({"token": "abcdef.0123456789abcdef", "ttl": "0"})
    assert "expiration" not in _decoded(forever.to_secret(now))
    fixed = BootstrapToken.from_config(
        {"token": "abcdef.0123456789abcdef", "ttl": "1h", "expires": "2030-05-06T07:08:09Z"}
    )
    assert _decoded(fixed.to_secret(now))["expiration"] == "2030-05-06T07:08:09Z"


def test_empty_token_is_generated_and_defaults_apply() -> None:
    t = BootstrapToken.from_config({})
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", str(t.token))
    assert t.usages == ["signing", "authentication"]
    assert t.groups == ["system:bootstrappers:kubeadm:default-node-token"]
    assert t.ttl == timedelta(hours=24)


def test_from_secret_rejects_mismatched_name() -> None:
    s = BootstrapToken.from_config({"token": "abcdef.0123456789abcdef"}).to_secret()
    s["metadata"]["name"] = "bootstrap-token-zzzzzz"
    with pytest.raises(TokenError, match="does not match the Secret name"):
        BootstrapToken.from_secret(s)
