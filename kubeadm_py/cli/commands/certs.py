"""``kubeadm-py certs``: check-expiration, renew, certificate-key, generate-csr.

Thin: options are parsed here and the work is done by :mod:`kubeadm_py.certs.commands`.
Heavy libraries are imported inside the command functions."""

from __future__ import annotations

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

app = typer.Typer(
    help="Commands related to handling Kubernetes certificates",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

_RENEW_NAMES = (
    "admin.conf, super-admin.conf, apiserver, apiserver-etcd-client, apiserver-kubelet-client, "
    "controller-manager.conf, etcd-healthcheck-client, etcd-peer, etcd-server, front-proxy-client, "
    "scheduler.conf, all"
)

ConfigOpt = typer.Option(None, "--config", help="Path to a kubeadm configuration file.")
CertDirOpt = typer.Option(None, "--cert-dir", help="The path where to save the certificates.")
KubeconfigDirOpt = typer.Option(
    "/etc/kubernetes", "--kubeconfig-dir", help="The path where to save the kubeconfig files."
)
RootfsOpt = typer.Option(None, "--rootfs", help="Host paths resolve inside this directory, as in a chroot.")


def _fs(rootfs: str | None, dry_run: bool = False):  # type: ignore[no-untyped-def]
    from kubeadm_py.hostfs import HostFS

    return HostFS(rootfs=rootfs, dry_run=dry_run)  # a dry run's files stay in memory


@app.command("check-expiration")
def check_expiration(
    config: str | None = ConfigOpt,
    cert_dir: str | None = CertDirOpt,
    kubeconfig_dir: str = KubeconfigDirOpt,
    output: str = typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
    rootfs: str | None = RootfsOpt,
) -> None:
    """Check certificates expiration for a Kubernetes cluster."""
    from kubeadm_py.certs.commands import load_config, run_check_expiration
    from kubeadm_py.cli.render import check_output_format, dump

    fmt = check_output_format(output)
    text, doc = run_check_expiration(_fs(rootfs), load_config(config, cert_dir), kubeconfig_dir)
    if fmt == "text":
        typer.echo(text, nl=False)
    else:
        dump(doc, fmt)


@app.command("renew")
def renew(
    name: str = typer.Argument(..., help=f"What to renew: {_RENEW_NAMES}."),
    config: str | None = ConfigOpt,
    cert_dir: str | None = CertDirOpt,
    kubeconfig_dir: str = KubeconfigDirOpt,
    reuse_key: bool = typer.Option(
        False, "--reuse-key", help="Keep the existing private key (upstream always generates a new one)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Do not change any state, just show what would be done."
    ),
    rootfs: str | None = RootfsOpt,
) -> None:
    """Renew certificates for a Kubernetes cluster (leaf certificates and kubeconfig client
    certificates; never CAs; kubelet.conf is rotated by the kubelet). Keeps subject, SANs and
    usages; signs with the local CA."""
    from kubeadm_py.certs.commands import load_config, run_renew

    cfg = load_config(config, cert_dir)
    changes = run_renew(_fs(rootfs, dry_run), cfg, name, kubeconfig_dir, reuse_key, typer.echo, dry_run)
    if dry_run:
        for c in changes:
            typer.echo(f"[dryrun] would {c.action} {c.target} ({c.detail})")


@app.command("certificate-key")
def certificate_key() -> None:
    """Generate a certificate key (64 hex characters) for encrypting the control-plane
    certificates uploaded to the kubeadm-certs Secret."""
    from kubeadm_py.certs.commands import certificate_key as new_key

    typer.echo(new_key())


@app.command("generate-csr")
def generate_csr(
    config: str | None = ConfigOpt,
    cert_dir: str | None = CertDirOpt,
    kubeconfig_dir: str = KubeconfigDirOpt,
    rootfs: str | None = RootfsOpt,
) -> None:
    """Generate keys and certificate signing requests (for an external CA)."""
    from kubeadm_py.certs.commands import load_config, run_generate_csr

    run_generate_csr(_fs(rootfs), load_config(config, cert_dir), kubeconfig_dir, log=typer.echo)


def _bind_workflows(target: typer.Typer) -> None:
    """``certs rotate-sa [phase ...]``: a workflow (phases, --dry-run, -o json, the run journal)."""
    from kubeadm_py.cli.bind import bind_named_workflow

    bind_named_workflow(target, "rotate-sa", "certs-rotate-sa", phase_asked=False)
    bind_named_workflow(target, "rotate-ca", "certs-rotate-ca", phase_asked=False)


_bind_workflows(app)
