"""Entry point and error boundary of the ``kubeadm-py`` command.

Every :class:`~kubeadm_py.errors.KubeadmError` becomes one line on stderr and its exit code (1 for
what the user can fix); anything else is a bug in kubeadm-py, reported as an internal error with
exit code 70 (a phase's traceback is also kept in the run journal); ``-v`` adds the traceback.
A plain ``version`` call is answered before typer is imported (typer and the pydantic it loads
for option parsing cost more than the rest of start-up), and so are shell completion
(:mod:`kubeadm_py.cli.complete`) and a plainly valid workflow command line
(:mod:`kubeadm_py.cli.fastpath`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = False
    try:
        if args and args[0] in ("__complete", "completion"):
            from kubeadm_py.cli import complete

            if complete.fast(args):  # shell completion: every <Tab> runs this, so before anything else
                return complete.main(args)
        from kubeadm_py.cli.version import fast_version_output, print_version

        fast = fast_version_output(args)
        if fast is not None:
            print_version(fast)
            return 0
        from kubeadm_py.cli.argv import TRACEBACK_LEVEL, split_verbosity

        args, level = split_verbosity(args)  # -v, --verbose, --v=N: kubeadm's global verbosity
        verbose = level >= TRACEBACK_LEVEL
        from kubeadm_py.cli import fastpath

        if fastpath.run(args):  # a plainly valid workflow command line: same invoker, without typer
            return 0
        from kubeadm_py.cli.app import run_typer

        return run_typer(args)
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        return int(e.code or 0)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the error boundary: one line, no traceback unless -v
        from kubeadm_py.errors import KubeadmError

        if verbose:
            import traceback

            traceback.print_exc()
        if isinstance(e, KubeadmError):
            print(f"error: {e}", file=sys.stderr)
            return e.exit_code
        from kubeadm_py.errors import InternalError, one_line

        print(
            f"error: internal error: {type(e).__name__}: {one_line(str(e))} (this is a bug in "
            "kubeadm-py; run with -v for the traceback)",
            file=sys.stderr,
        )
        return InternalError.exit_code
    return 0


def entrypoint() -> None:
    sys.exit(main())
