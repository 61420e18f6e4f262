"""Error types. Every error a user can cause is a :class:`KubeadmError`: the CLI prints
``error: <message>`` on one line and exits with ``exit_code``; ``-v`` adds the traceback."""

from __future__ import annotations

from typing import Any


class KubeadmError(Exception):
    """A user-facing failure with a one-line message."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.message} ({self.hint})" if self.hint else self.message
        return one_line(text)


# Control characters and line separators (all that str.splitlines() breaks at), shown escaped.
_ESCAPES = {c: repr(chr(c))[1:-1] for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)}


def one_line(text: str) -> str:
    """``text`` with control characters escaped (``\\r``, ``\\x00``): user input quoted in an
    error (a flag value, a YAML key) never breaks the one-line error in two."""
    return text.translate(_ESCAPES)


class ConfigError(KubeadmError):
    """Invalid configuration: names the file, the document and the field path."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        document: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = [p for p in (source, document, field) if p]
        full = f"{': '.join(where)}: {message}" if where else message
        super().__init__(full, hint=hint)
        self.source = source
        self.document = document
        self.field = field


class PhaseError(KubeadmError):
    """A phase failed; carries the phase path and, once the runner has it, the partial run
    report (``report``: a :class:`~kubeadm_py.workflow.report.RunReport`)."""

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"phase {path}: {cause}")
        self.path = path
        self.cause = cause
        self.report: Any = None


class InternalError(PhaseError):
    """A bug in kubeadm-py, not something the user did: an unexpected exception in a phase. Its
    own exit code; the traceback is kept (``traceback_text``) for the run journal and ``-v``."""

    exit_code = 70  # EX_SOFTWARE

    def __init__(self, path: str, cause: BaseException, traceback_text: str) -> None:
        super().__init__(path, cause)
        self.message = f"phase {path}: internal error: {type(cause).__name__}: {cause}"
        self.hint = "this is a bug in kubeadm-py; the traceback is in the run journal and shown with -v"
        self.traceback_text = traceback_text


class RequirementError(KubeadmError):
    """A phase needs something that is neither on disk nor produced earlier in this run."""


class PreflightError(KubeadmError):
    """Preflight found errors that were not ignored."""


class WouldStopError(KubeadmError):
    """A dry run went past an error where a real run stops (``RunReport.would_stop``): the command
    line exits with the code of that real failure (1) after showing the plan."""


class ApiError(KubeadmError):
    """The Kubernetes API server could not be reached or refused a request."""
