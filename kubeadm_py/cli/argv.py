"""kubeadm's command-line conventions (cobra/pflag) that click lacks, shared by the typer app and
:mod:`kubeadm_py.cli.fastpath`, so that kubeadm command lines work unchanged:

- booleans take Go values (``--dry-run=false``, ``--force=1``, ``-f=T``; strconv.ParseBool), a
  bare ``--dry-run`` still means true, and ``--dry-run false`` is not a value (as in pflag);
- ``--v=N`` / ``--v N`` / ``-v N`` (klog's verbosity, a global flag of every kubeadm command) and
  ``-v`` / ``--verbose`` are taken off the command line before parsing; at level
  :data:`TRACEBACK_LEVEL` (kubeadm's "execute with --v=5 or higher") errors keep their traceback;
- an option that takes a value never takes the next flag as its value: ``--config --dry-run`` is
  an error naming ``--config`` (``--config=--dry-run`` still passes such a value on purpose).

This module imports typer (its vendored click, ``typer._click``) only inside :func:`install`: the
fast path never builds click commands."""

from __future__ import annotations

from collections.abc import Sequence

from kubeadm_py.errors import KubeadmError

TYPE_CHECKING = False  # not typing's: importing typing costs more than the rest of this module
if TYPE_CHECKING:
    from typer._click import Command, Context

TRACEBACK_LEVEL = 5  # kubeadm prints a stack trace at --v=5 or higher; -v alone means this level
_VERBOSE = ("-v", "--v", "--verbose")


def _level(flag: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()):  # "²" and "٣" are digits to str, not to int()
        raise KubeadmError(f'invalid argument "{text}" for "{flag}" flag: not a whole number')
    return int(text)


def split_verbosity(args: Sequence[str]) -> tuple[list[str], int]:
    """``args`` without the verbosity flags, and the level they ask for (0 when none)."""
    out: list[str] = []
    level = 0
    rest = list(args)
    while rest:
        tok = rest.pop(0)
        if tok == "--":
            out += [tok, *rest]
            break
        name, eq, value = tok.partition("=")
        if name in _VERBOSE and eq:
            level = _level(name, value)
        elif tok.startswith("-v") and not tok.startswith("--") and tok[2:].isdigit():
            level = _level("-v", tok[2:])  # pflag's -v5
        elif tok in _VERBOSE:
            if rest and rest[0].isdigit():
                level = _level(tok, rest.pop(0))
            elif tok == "--v":
                raise KubeadmError('flag needs an argument: "--v" (a number, e.g. --v=5)')
            else:
                level = max(level, TRACEBACK_LEVEL)
        else:
            out.append(tok)
    return out, level


def go_bool(flag: str, value: str) -> bool:
    """A flag's boolean value as pflag parses it (strconv.ParseBool); a one-line error otherwise."""
    from kubeadm_py.options import GO_BOOLS

    if value not in GO_BOOLS:
        raise KubeadmError(
            f'invalid argument "{value}" for "{flag}" flag: not a boolean (true, false, 1, 0, t, f)'
        )
    return GO_BOOLS[value]


def swallowed(flag: str, value: str) -> KubeadmError | None:
    """The error for ``flag value`` when ``value`` is another flag (``--config --dry-run``)."""
    if value.startswith("--"):
        return KubeadmError(
            f"flag needs an argument: {flag} (the next word {value!r} is a flag; "
            f"write {flag}={value} if that is the value)"
        )
    return None


# --- the typer path: every click command of the tree parses with these rules -----------------------


def install(command: Command) -> Command:
    """Make ``command`` and every command under it parse booleans and values as pflag does."""
    from typer.core import TyperGroup

    original = type(command).parse_args

    def parse_args(ctx: Context, args: list[str]) -> list[str]:
        args, falses = _rewrite(command, ctx, args)
        rest: list[str] = original(command, ctx, args)
        ctx.params.update(falses)
        return rest

    command.parse_args = parse_args  # type: ignore[method-assign]
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            install(sub)
    return command


def _rewrite(command: Command, ctx: Context, args: list[str]) -> tuple[list[str], dict[str, bool]]:
    """``args`` with ``--flag=<Go bool>`` made plain click (true: ``--flag``; false: dropped, its
    value returned to set after parsing), checked for options that would swallow a flag."""
    from typer._click.exceptions import UsageError
    from typer.core import TyperGroup, TyperOption

    flags: dict[str, TyperOption] = {}
    valued: set[str] = set()
    for p in command.params:
        if isinstance(p, TyperOption):
            for opt in p.opts:
                if p.is_flag:
                    flags[opt] = p
                else:
                    valued.add(opt)
    group = isinstance(command, TyperGroup)
    out: list[str] = []
    falses: dict[str, bool] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        i += 1
        if tok == "--":
            out += args[i - 1 :]
            break
        name, eq, value = tok.partition("=")
        if eq and name in flags:
            key = flags[name].name or name
            if go_bool(name, value):
                falses.pop(key, None)
                out.append(name)
            else:
                falses[key] = False
            continue
        if tok in flags:
            falses.pop(flags[tok].name or tok, None)
        elif tok in valued and i < len(args):
            err = swallowed(tok, args[i])
            if err is not None:
                raise UsageError(str(err), ctx=ctx)
            out += [tok, args[i]]
            i += 1
            continue
        elif group and (not tok.startswith("-") or tok == "-"):
            out += args[i - 1 :]  # a subcommand's words: its own parse_args handles them
            break
        out.append(tok)
    return out, falses

