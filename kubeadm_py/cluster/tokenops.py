"""The library behind ``kubeadm-py token create|list|delete|generate`` (upstream cmd/token.go)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.durations import duration_timedelta, short_human_duration
from kubeadm_py.effectors.api import Api
from kubeadm_py.errors import KubeadmError
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.tokens import model
from kubeadm_py.tokens.model import BootstrapToken, TokenError, TokenString

DEFAULT_KUBECONFIG = "/etc/kubernetes/admin.conf"
OUTPUT_API = "output.kubeadm.k8s.io/v1alpha3"


def kubeconfig_path(flag: str | None) -> str:
    """GetKubeConfigPath: an explicit --kubeconfig wins; else admin.conf if present, else
    $KUBECONFIG (first entry), else ~/.kube/config."""
    if flag:
        return flag
    if Path(DEFAULT_KUBECONFIG).is_file():
        return DEFAULT_KUBECONFIG
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return env.split(os.pathsep)[0]
    home = Path.home() / ".kube" / "config"
    return str(home) if home.is_file() else DEFAULT_KUBECONFIG


def client_for(path: str, api: Api) -> KubeClient:
    """The API client for the kubeconfig at ``path`` (made absolute), from the API effector the
    command built: the real one, or its dry-run twin that records writes and only reads."""
    return api.from_kubeconfig(os.path.abspath(path))


def build_token(
    token: str | None, ttl: str, usages: list[str], groups: list[str], description: str
) -> BootstrapToken:
    """Validate the flags as upstream does and build the token (generated when not given)."""
    tok = TokenString.parse(token) if token else TokenString.parse(model.generate_token())
    model.validate_usages(usages)
    for g in groups:
        model.validate_group(g)
    if groups and "authentication" not in usages:
        raise TokenError('token groups cannot be specified unless --usages includes "authentication"')
    bt = BootstrapToken(
        tok, description=description, ttl=duration_timedelta(ttl), usages=usages, groups=groups
    )
    bt.validate()
    return bt


def create_token(client: KubeClient, token: BootstrapToken, now: datetime | None = None) -> Change:
    """Create the token Secret; an existing token id is an error (CreateNewTokens)."""
    return client.create_only(
        token.to_secret(now or datetime.now(UTC)),
        exists_message=f'a token with id "{token.token.id}" already exists',
    )


def list_tokens(client: KubeClient, warn: Callable[[str], None] | None = None) -> list[BootstrapToken]:
    out: list[BootstrapToken] = []
    for secret in client.list("Secret", "kube-system"):
        if secret.get("type") != model.SECRET_TYPE:
            continue
        try:
            out.append(BootstrapToken.from_secret(secret))
        except KubeadmError as e:
            if warn:
                warn(f"[token] WARNING: {e}")
    return out


def token_ids(ids_or_tokens: list[str]) -> list[str]:
    """Token ids from ``<id>`` or ``<id>.<secret>`` arguments, validated before anything is sent."""
    out = []
    for item in ids_or_tokens:
        if model.is_valid_token_id(item):
            out.append(item)
            continue
        try:
            out.append(TokenString.parse(item).id)
        except TokenError:
            raise KubeadmError(
                f'given token didn\'t match pattern "{model.TOKEN_ID_PATTERN}" or "{model.TOKEN_PATTERN}"'
            ) from None
    return out


def delete_tokens(client: KubeClient, ids: list[str]) -> list[str]:
    """Delete each token Secret; returns upstream's per-token messages."""
    messages = []
    for tid in ids:
        change = client.delete("Secret", model.secret_name(tid), "kube-system")
        if change.action == "unchanged":
            raise KubeadmError(
                f'failed to delete bootstrap token "{tid}": secrets "{model.secret_name(tid)}" not found'
            )
        messages.append(f'bootstrap token "{tid}" deleted')
    return messages


@dataclass
class Row:
    token: str
    ttl: str
    expires: str
    usages: str
    description: str
    groups: str


def rows(tokens: list[BootstrapToken], now: datetime | None = None) -> list[Row]:
    now = now or datetime.now(UTC)
    out = []
    for t in tokens:
        ttl, expires = "<forever>", "<never>"
        if t.expires is not None:
            ttl = short_human_duration(t.expires - now)
            expires = model.format_time(t.expires)
        out.append(
            Row(
                str(t.token),
                ttl,
                expires,
                ",".join(t.usages) or "<none>",
                t.description or "<none>",
                ",".join(t.groups) or "<none>",
            )
        )
    return out


def format_table(tokens: list[BootstrapToken], now: datetime | None = None) -> str:
    """The text table (tabwriter: columns padded to the widest cell plus 3 spaces)."""
    header = ("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")
    table = [header] + [
        (r.token, r.ttl, r.expires, r.usages, r.description, r.groups) for r in rows(tokens, now)
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    lines = []
    for row in table:
        cells = [row[i].ljust(widths[i] + 3) for i in range(len(header) - 1)]
        lines.append("".join(cells) + row[-1])
    return "\n".join(lines) + "\n"


def output_doc(t: BootstrapToken) -> dict[str, Any]:
    """``-o json|yaml``: one output.kubeadm.k8s.io/v1alpha3 BootstrapToken per token."""
    doc: dict[str, Any] = {"kind": "BootstrapToken", "apiVersion": OUTPUT_API, "token": str(t.token)}
    if t.description:
        doc["description"] = t.description
    if t.expires is not None:
        doc["expires"] = model.format_time(t.expires)
    if t.usages:
        doc["usages"] = list(t.usages)
    if t.groups:
        doc["groups"] = list(t.groups)
    return doc


def join_command(kubeconfig: str, token: str, certificate_key: str = "") -> str:
    """``token create --print-join-command``: endpoint and CA pins from the kubeconfig in use."""
    from kubeadm_py.cluster.joincommand import JoinCommand, from_kubeconfig

    try:
        data = Path(kubeconfig).read_bytes()
    except OSError as e:
        raise KubeadmError(
            f"cannot read the kubeconfig {kubeconfig}: {e.strerror or e}",
            hint="--print-join-command takes the endpoint and CA from it; pass --kubeconfig",
        ) from None
    endpoint, hashes = from_kubeconfig(data, kubeconfig)
    if not hashes:
        raise KubeadmError(f"{kubeconfig} has no certificate-authority-data to compute the CA hash from")
    cmd = JoinCommand(endpoint, token, hashes, certificate_key)
    return cmd.render(control_plane=bool(certificate_key))
