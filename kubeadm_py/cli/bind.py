"""Bind a workflow to typer: the workflow command (all phases) and ``<workflow> phase <path>``
subcommands, each exposing exactly the flags its phases use.

Commands get synthesized signatures (``__signature__`` and ``__annotations__``) built from
:data:`kubeadm_py.options.FLAGS`; every option defaults to ``None`` so that "not given" is
distinguishable and the config file can fill it (flag > config > default)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kubeadm_py.cli.jsonpath import OUTPUT_HELP
from kubeadm_py.options import FLAGS, FlagSpec
from kubeadm_py.workflow.phase import Phase, collect_flags

if TYPE_CHECKING:  # typer is imported where commands are built: kubeadm_py.cli.fastpath reads the flag lists
    import typer

# Options every workflow and phase command takes, besides the phases' own flags.
COMMON = ("rootfs",)

Invoke = Callable[[dict[str, Any], list[str] | None], None]


def _annotation(spec: FlagSpec) -> Any:
    if spec.type is bool:
        return bool | None
    if spec.type is list:
        return list[str] | None
    return spec.type | None


def _option(spec: FlagSpec) -> Any:
    import typer

    names = [f"--{spec.name}"] + ([f"-{spec.short}"] if spec.short else [])
    shown = "true" if spec.default is True else spec.default
    help_text = spec.help + (f" [default: {shown}]" if spec.default not in (None, False) else "")
    return typer.Option(None, *names, help=help_text, show_default=False)


def make_command(
    flag_names: Sequence[str],
    on_call: Callable[[dict[str, Any]], None],
    extra: Sequence[inspect.Parameter] = (),
) -> Callable[..., None]:
    """A callable whose signature has one keyword option per flag (plus ``extra`` parameters)."""
    specs = [FLAGS[n] for n in dict.fromkeys(flag_names)]
    params = list(extra) + [
        inspect.Parameter(
            s.param, inspect.Parameter.KEYWORD_ONLY, default=_option(s), annotation=_annotation(s)
        )
        for s in specs
    ]

    def command(**kwargs: Any) -> None:
        on_call(kwargs)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def output_parameters() -> list[inspect.Parameter]:
    import typer

    return [
        inspect.Parameter(
            "output",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
            annotation=str,
        ),
        inspect.Parameter(
            "verbose",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                False, "--verbose", "-v", help="Show tracebacks (kubeadm's --v=N: the same for N >= 5)."
            ),
            annotation=bool,
        ),
    ]


def bind_workflow(
    app: typer.Typer,
    name: str,
    help_text: str,
    phases: Sequence[Phase[Any]],
    top_flags: Sequence[str],
    invoke: Invoke,
    tree_text: str,
    arguments: Sequence[inspect.Parameter] = (),
    with_phases: bool = True,
) -> None:
    """Register ``name`` (runs every phase) and ``name phase ...`` on ``app``.

    ``arguments`` are extra parameters of the workflow command itself, typically positional
    arguments such as join's ``api-server-endpoint`` (``typer.Argument(None)`` defaults); their
    values reach ``invoke`` in the options dict under the parameter name. Click cannot tell a
    group's positional argument from a subcommand name, so a workflow with ``arguments`` is bound
    either as a plain command (``with_phases=False``) or as the group with its ``phase``
    subcommands and no positional arguments; the caller picks by looking at the command line."""
    import typer

    wf_app = typer.Typer(
        name=name,
        help=f'{help_text}\n\nThe "{name}" command executes the following phases:\n\n{_fence(tree_text)}',
        invoke_without_command=True,
        no_args_is_help=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    all_flags = workflow_flags(top_flags)

    def run_all(kwargs: dict[str, Any]) -> None:
        invoke(kwargs, None)

    if arguments and not with_phases:
        cmd = make_command(all_flags, run_all, [*arguments, *output_parameters()])
        app.command(
            name=name, help=wf_app.info.help, context_settings={"help_option_names": ["-h", "--help"]}
        )(cmd)
        return
    main_cmd = make_command(all_flags, run_all, output_parameters())

    def callback(ctx: typer.Context, **kwargs: Any) -> None:
        if ctx.invoked_subcommand is None:
            main_cmd(**kwargs)

    cb_params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *inspect.signature(main_cmd).parameters.values(),
    ]
    callback.__signature__ = inspect.Signature(cb_params)  # type: ignore[attr-defined]
    callback.__annotations__ = {p.name: p.annotation for p in cb_params}
    wf_app.callback()(callback)

    phase_app = typer.Typer(
        name="phase",
        help=f'Use this command to invoke a single phase of the "{name}" workflow.',
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    for p in phases:
        _bind_phase(phase_app, p, p.name, invoke)
    wf_app.add_typer(phase_app)
    app.add_typer(wf_app)


def workflow_flags(top_flags: Sequence[str]) -> list[str]:
    """The options of a workflow command (``kubeadm-py init``), in order."""
    return list(dict.fromkeys([*top_flags, *COMMON, "skip-phases", "dry-run"]))


def _fence(text: str) -> str:
    # Keep the tree's indentation in help output (click rewraps paragraphs otherwise).
    return "\b\n" + text


def phase_flags(p: Phase[Any]) -> list[str]:
    """The options of a phase command (``init phase certs all``), in order."""
    return _phase_flags(p)


def _phase_flags(p: Phase[Any]) -> list[str]:
    return list(dict.fromkeys([*collect_flags(p), *COMMON]))


def _bind_phase(parent: typer.Typer, p: Phase[Any], path: str, invoke: Invoke) -> None:
    if p.hidden:
        return
    if not p.children:

        def run_leaf(kwargs: dict[str, Any], path: str = path) -> None:
            invoke(kwargs, [path])

        cmd = make_command(_phase_flags(p), run_leaf, output_parameters())
        parent.command(name=p.name, help=p.help)(cmd)
        return
    import typer

    group = typer.Typer(name=p.name, help=p.help, no_args_is_help=True, rich_markup_mode=None)
    if p.all_command:

        def run_subtree(kwargs: dict[str, Any], path: str = path) -> None:
            invoke(kwargs, [path])

        cmd = make_command(_phase_flags(p), run_subtree, output_parameters())
        group.command(name="all", help=f"Run all {p.name} phases.")(cmd)
    for child in p.children:
        _bind_phase(group, child, f"{path}/{child.name}", invoke)
    parent.add_typer(group)


def bind_named_workflow(app: typer.Typer, command: str, workflow: str, *, phase_asked: bool) -> None:
    """Bind the workflow named ``workflow`` as ``command``. A workflow with positional arguments
    (``upgrade apply VERSION``) gets its ``phase`` subcommands only when the command line asks for
    them (click cannot mix a positional argument and subcommands)."""
    from kubeadm_py import workflows
    from kubeadm_py.cli.run import workflow_invoker
    from kubeadm_py.workflow.runner import phase_tree_text

    wf = workflows.get(workflow)
    phases = wf.phases()
    bind_workflow(
        app,
        command,
        wf.help,
        phases,
        wf.flags,
        workflow_invoker(workflow),
        phase_tree_text(phases),
        arguments=wf.arguments,
        with_phases=phase_asked or not wf.arguments,
    )
