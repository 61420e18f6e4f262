"""``kubeadm-py config``: print defaults, validate and migrate configuration files.

Thin: the work is done by :mod:`kubeadm_py.config.resolve`. Only typer is imported at module
level; the config library (yaml, jsonschema) is imported inside the commands."""

from __future__ import annotations

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

app = typer.Typer(
    help="Manage configuration for a kubeadm cluster",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
print_app = typer.Typer(
    help="Print configuration: the defaults for init, join, reset and upgrade",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(print_app, name="print")
images_app = typer.Typer(
    help="Interact with container images used by kubeadm-py",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(images_app, name="images")
config_app = app  # the name the lead's registry may use

ComponentConfigsOpt = typer.Option(
    "",
    "--component-configs",
    help="A comma-separated list of component config API objects to print the defaults for: "
    "KubeletConfiguration, KubeProxyConfiguration.",
)


def _print_defaults(kind: str, component_configs: str) -> None:
    from kubeadm_py.config.resolve import print_defaults

    typer.echo(print_defaults(kind, [component_configs] if component_configs else []), nl=False)  # type: ignore[arg-type]


@print_app.command("init-defaults")
def init_defaults(component_configs: str = ComponentConfigsOpt) -> None:
    """Print the default InitConfiguration and ClusterConfiguration used for 'kubeadm-py init'.

    Values that depend on the host are shown as placeholders (token abcdef.0123456789abcdef,
    advertiseAddress 1.2.3.4, node name "node")."""
    _print_defaults("init", component_configs)


@print_app.command("join-defaults")
def join_defaults(component_configs: str = ComponentConfigsOpt) -> None:
    """Print the default JoinConfiguration used for 'kubeadm-py join'."""
    _print_defaults("join", component_configs)


@print_app.command("reset-defaults")
def reset_defaults(component_configs: str = ComponentConfigsOpt) -> None:
    """Print the default ResetConfiguration used for 'kubeadm-py reset'."""
    _print_defaults("reset", component_configs)


@print_app.command("upgrade-defaults")
def upgrade_defaults(component_configs: str = ComponentConfigsOpt) -> None:
    """Print the default UpgradeConfiguration used for 'kubeadm-py upgrade'."""
    _print_defaults("upgrade", component_configs)


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        typer.echo(f"W: {w}", err=True)


@app.command("validate")
def validate_cmd(
    config: str = typer.Option(
        "", "--config", help="Path to a kubeadm configuration file ('-' for standard input)."
    ),
    allow_experimental_api: bool = typer.Option(
        False,
        "--allow-experimental-api",
        help="Accepted for compatibility; kubeadm-py has no experimental APIs.",
    ),
) -> None:
    """Read a kubeadm configuration file and report any problem (unknown fields, bad values,
    deprecated API versions)."""
    from kubeadm_py.config.loader import read_source
    from kubeadm_py.config.resolve import validate
    from kubeadm_py.errors import KubeadmError

    if not config:
        raise KubeadmError("--config is required", hint="kubeadm-py config validate --config kubeadm.yaml")
    source, text = read_source(config)
    warnings = validate(text=text, source=source)
    _warn(warnings)
    typer.echo("ok")


@app.command("migrate")
def migrate_cmd(
    old_config: str = typer.Option(
        "", "--old-config", help="Path to the old configuration file ('-' for standard input)."
    ),
    new_config: str = typer.Option(
        "", "--new-config", help="Where to write the converted configuration (default: standard output)."
    ),
    allow_experimental_api: bool = typer.Option(
        False,
        "--allow-experimental-api",
        help="Accepted for compatibility; kubeadm-py has no experimental APIs.",
    ),
    no_defaults: bool = typer.Option(
        False, "--no-defaults", help="Write only the converted fields, without kubeadm's static defaults."
    ),
) -> None:
    """Convert kubeadm.k8s.io/v1beta2 and v1beta3 documents to kubeadm.k8s.io/v1beta4.

    As upstream, the result is read, converted, defaulted and validated, so it shows what kubeadm-py
    would use (host-dependent values such as the node name are left out). Component configs
    (KubeletConfiguration, KubeProxyConfiguration) are kept as they are."""
    from kubeadm_py.config.loader import read_source
    from kubeadm_py.config.resolve import migrate
    from kubeadm_py.errors import KubeadmError

    if not old_config:
        raise KubeadmError("--old-config is required", hint="kubeadm-py config migrate --old-config old.yaml")
    source, text = read_source(old_config)
    warnings: list[str] = []
    out = migrate(text, source=source, warnings=warnings, defaults=not no_defaults)
    _warn(warnings)
    if not new_config:
        typer.echo(out, nl=False)
        return
    from pathlib import Path

    from kubeadm_py.hostfs import CONFIG_MODE, atomic_write

    try:  # 0600: the documents may hold bootstrap tokens and the certificate key
        atomic_write(Path(new_config), out.encode("utf-8"), CONFIG_MODE)
    except OSError as exc:
        raise KubeadmError(f"{new_config}: cannot write: {exc.strerror or exc}") from None


# --- config images list|pull ------------------------------------------------------------------

ImagesConfigOpt = typer.Option("", "--config", help="Path to a kubeadm configuration file.")
KubernetesVersionOpt = typer.Option(
    "", "--kubernetes-version", help="Choose a specific Kubernetes version for the control plane."
)
ImageRepositoryOpt = typer.Option(
    "", "--image-repository", help="Choose a container registry to pull control plane images from "
    "(default registry.k8s.io)."
)
FeatureGatesOpt = typer.Option("", "--feature-gates", help="Feature gates, key=value pairs, comma-separated.")


@images_app.command("list")
def images_list(
    config: str = ImagesConfigOpt,
    kubernetes_version: str = KubernetesVersionOpt,
    image_repository: str = ImageRepositoryOpt,
    feature_gates: str = FeatureGatesOpt,
    output: str = typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
) -> None:
    """Print a list of images kubeadm-py will use. The configuration file is used in case any
    images or image repositories are customized."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.images import control_plane_images, images_document, load_config

    fmt = check_output_format(output)
    cfg = load_config(config or None, kubernetes_version, image_repository, feature_gates)
    _warn(cfg.warnings)
    images = control_plane_images(cfg)
    if fmt == "text":
        typer.echo("\n".join(images))
    else:
        dump(images_document(images), fmt)


@images_app.command("pull")
def images_pull(
    config: str = ImagesConfigOpt,
    kubernetes_version: str = KubernetesVersionOpt,
    image_repository: str = ImageRepositoryOpt,
    feature_gates: str = FeatureGatesOpt,
    cri_socket: str = typer.Option(
        "", "--cri-socket", help="Path to the CRI socket to connect to (default: nodeRegistration.criSocket, "
        "else detected)."
    ),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds one image pull may take."),
) -> None:
    """Pull images used by kubeadm-py through the container runtime (CRI ImageService), following
    nodeRegistration.imagePullPolicy (IfNotPresent by default: present images are not pulled
    again) and imagePullSerial."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.host.cri import CriClient, CriError
    from kubeadm_py.images import ImageResult, control_plane_images, ensure_images, load_config, pull_settings

    cfg = load_config(
        config or None, kubernetes_version, image_repository, feature_gates, cri_socket, host=True
    )
    _warn(cfg.warnings)
    nodereg = cfg.node_registration
    endpoint = cri_socket or str(nodereg.get("criSocket") or "")
    policy, serial = pull_settings(nodereg)
    if not endpoint:
        raise KubeadmError("no CRI socket", hint="use --cri-socket or nodeRegistration.criSocket")

    def show(r: ImageResult) -> None:
        if r.action == "pulled":
            typer.echo(f"[config/images] Pulled {r.image}")
        elif r.action == "present":
            typer.echo(f"[config/images] Image is present: {r.image}")

    with CriClient(endpoint, pull_timeout=timeout) as runtime:  # the real CRI effector: this command pulls
        try:
            runtime.connect()
        except CriError as e:
            raise KubeadmError(str(e), hint="start the container runtime or use --cri-socket") from None
        results = ensure_images(
            runtime,
            control_plane_images(cfg),
            policy=policy,
            serial=serial,
            on_result=show,
        )
    bad = [r for r in results if not r.ok]
    if bad:
        more = f" ({len(bad)} of {len(results)} images not pulled)" if len(bad) > 1 else ""
        r = bad[0]
        if r.action == "missing":
            raise KubeadmError(f"image {r.image} is not present and imagePullPolicy is Never{more}")
        raise KubeadmError(f"failed to pull image {r.image!r}: {r.detail}{more}")
