"""``kubeadm-py kubeconfig user``: print a kubeconfig for another user."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Kubeconfig file utilities", no_args_is_help=True, rich_markup_mode=None, add_completion=False
)


@app.callback()
def _group() -> None:
    """Kubeconfig file utilities."""


@app.command("user")
def user(
    client_name: str = typer.Option(
        ...,
        "--client-name",
        help="The name of user. It will be used as the CN if client certificates are created.",
    ),
    org: list[str] = typer.Option(
        [], "--org", help="The organizations of the client certificate (O); repeatable."
    ),
    validity_period: str | None = typer.Option(
        None, "--validity-period", help="The validity period of the client certificate (default 8760h)."
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        help="The token that should be used as the authentication "
        "mechanism for this kubeconfig, instead of client certificates.",
    ),
    config: str | None = typer.Option(None, "--config", help="Path to a kubeadm configuration file."),
    rootfs: str | None = typer.Option(
        None, "--rootfs", help="Host paths resolve inside this directory, as in a chroot."
    ),
) -> None:
    """Output a kubeconfig file for an additional user."""
    from kubeadm_py.certs.commands import load_config, run_user_kubeconfig
    from kubeadm_py.hostfs import HostFS

    text = run_user_kubeconfig(
        HostFS(rootfs=rootfs), load_config(config), client_name, list(org), validity_period, token
    )
    typer.echo(text, nl=False)
