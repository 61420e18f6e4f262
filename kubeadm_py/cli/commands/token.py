"""``kubeadm-py token``: create, list, delete and generate bootstrap tokens.

Thin: the work is in :mod:`kubeadm_py.cluster.tokenops`; heavy imports stay inside the functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient

app = typer.Typer(
    help="Manage bootstrap tokens",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

KubeconfigOpt = typer.Option(
    None,
    "--kubeconfig",
    help="The kubeconfig file to use when talking to the cluster. If not set, /etc/kubernetes/admin.conf, "
    "$KUBECONFIG or $HOME/.kube/config is used.",
)
DryRunOpt = typer.Option(False, "--dry-run", help="Whether to enable dry-run mode or not.")


def _client(path: str, dry_run: bool) -> KubeClient:
    """The client for ``path`` from the run's API effector: the real one, or its dry-run twin."""
    from kubeadm_py.cluster import tokenops as tc
    from kubeadm_py.effectors.bundle import build
    from kubeadm_py.hostfs import HostFS

    fx = build(
        HostFS(),
        dry_run=dry_run,
        log=lambda m: typer.echo(m, err=True),
        kubeconfig=lambda: path,
        node_name=lambda: "",
    )
    return tc.client_for(path, fx.api)


def _split(values: list[str]) -> list[str]:
    """StringSlice semantics: repeated flags and comma-separated values."""
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@app.command("create")
def create(
    token: str = typer.Argument(
        None, help="The token to create ([a-z0-9]{6}.[a-z0-9]{16}); generated if omitted."
    ),
    ttl: str = typer.Option(
        "24h0m0s",
        "--ttl",
        help="The duration before the token is automatically deleted "
        "(e.g. 1s, 2m, 3h). If set to '0', the token will never expire.",
    ),
    usages: list[str] = typer.Option(
        ["signing,authentication"],
        "--usages",
        help="Describes the ways in which this token can be used: signing, authentication.",
    ),
    groups: list[str] = typer.Option(
        ["system:bootstrappers:kubeadm:default-node-token"],
        "--groups",
        help="Extra groups that this token will authenticate as when used for "
        'authentication. Must match "\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z"',
    ),
    description: str = typer.Option(
        "", "--description", help="A human friendly description of how this token is used."
    ),
    print_join_command: bool = typer.Option(
        False,
        "--print-join-command",
        help="Instead of printing only the token, print the full 'kubeadm-py "
        "join' flag needed to join the cluster using the token.",
    ),
    certificate_key: str = typer.Option(
        "",
        "--certificate-key",
        help="When used together with '--print-join-command', print the full "
        "'kubeadm-py join' flag needed to join the cluster as a control-plane.",
    ),
    kubeconfig: str | None = KubeconfigOpt,
    dry_run: bool = DryRunOpt,
) -> None:
    """Create bootstrap tokens on the server."""
    from kubeadm_py.cluster import tokenops as tc

    tok = tc.build_token(token, ttl, _split(usages), _split(groups), description)
    if certificate_key:
        from kubeadm_py.cluster.copycerts import decode_key

        decode_key(certificate_key)
    path = tc.kubeconfig_path(kubeconfig)
    # before creating the token: an unreadable kubeconfig must not leave a token behind
    join = tc.join_command(path, str(tok.token), certificate_key) if print_join_command else None
    client = _client(path, dry_run)
    change = tc.create_token(client, tok)
    if dry_run:
        typer.echo(f"[dryrun] Would perform action CREATE on resource {change.target}", err=True)
        if change.content:
            typer.echo(change.content, err=True)
    if join is not None:
        typer.echo(join)
    else:
        typer.echo(str(tok.token))


@app.command("list")
def list_(
    output: str = typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
    kubeconfig: str | None = KubeconfigOpt,
    dry_run: bool = DryRunOpt,
) -> None:
    """List bootstrap tokens on the server."""
    import json
    import sys

    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.cluster import tokenops as tc

    fmt = check_output_format(output)
    client = _client(tc.kubeconfig_path(kubeconfig), dry_run)
    tokens = tc.list_tokens(client, warn=lambda m: typer.echo(m, err=True))
    if fmt == "text":
        typer.echo(tc.format_table(tokens), nl=False)
    elif fmt == "json":
        for t in tokens:  # one object per token, as upstream prints them
            sys.stdout.write(json.dumps(tc.output_doc(t), indent=4) + "\n")
    elif fmt == "yaml":
        import yaml

        sys.stdout.write("".join("---\n" + yaml.safe_dump(tc.output_doc(t), sort_keys=False) for t in tokens))
    else:  # a JSONPath template, applied to each token's object as upstream's printer does
        for t in tokens:
            dump(tc.output_doc(t), fmt)


@app.command("delete")
def delete(
    tokens: list[str] = typer.Argument(
        ..., help="Token IDs or full tokens ([a-z0-9]{6} or [a-z0-9]{6}.[a-z0-9]{16})."
    ),
    kubeconfig: str | None = KubeconfigOpt,
    dry_run: bool = DryRunOpt,
) -> None:
    """Delete bootstrap tokens on the server."""
    from kubeadm_py.cluster import tokenops as tc

    ids = tc.token_ids(tokens)
    client = _client(tc.kubeconfig_path(kubeconfig), dry_run)
    for message in tc.delete_tokens(client, ids):
        typer.echo(message)


@app.command("generate")
def generate() -> None:
    """Generate and print a bootstrap token, but do not create it on the server."""
    from kubeadm_py.tokens.model import generate_token

    typer.echo(generate_token())
