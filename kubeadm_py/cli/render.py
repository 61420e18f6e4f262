"""Rendering run results: live progress with rich, summaries, dry-run listings, JSON/YAML."""

from __future__ import annotations

import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from kubeadm_py.workflow.report import PhaseOutcome, RunReport

if TYPE_CHECKING:
    from kubeadm_py.effectors.waiting import WaitEvent

OUTPUT_FORMATS = ("text", "json", "yaml")
# What shell completion offers for -o (cli/completion_gen.py): the formats and the template kinds
# (cli/jsonpath.py), which take their template after the "=".
OUTPUT_CHOICES = (*OUTPUT_FORMATS, "jsonpath=", "jsonpath-as-json=", "jsonpath-file=")


def check_output_format(fmt: str) -> str:
    """``fmt`` when it is a known format or a well-formed template (``jsonpath={.items[*].x}``)."""
    from kubeadm_py.errors import KubeadmError

    if fmt in OUTPUT_FORMATS:
        return fmt
    from kubeadm_py.cli import jsonpath

    template = jsonpath.split_format(fmt)
    if template is not None:
        jsonpath.parse(jsonpath.template_of(*template))
        return fmt
    hint = "use text, json, yaml, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE or jsonpath-file=FILE"
    if fmt.partition("=")[0] in ("go-template", "go-template-file", "template", "templatefile"):
        hint = "Go templates are not supported; use -o jsonpath=TEMPLATE (kubectl's JSONPath, with range/end)"
    raise KubeadmError(f"--output: unknown format {fmt!r}", hint=hint)


def dump(data: Any, fmt: str, stream: IO[str] | None = None) -> None:
    """``data`` as JSON, YAML, or through a JSONPath template (``fmt`` checked by check_output_format)."""
    out = stream or sys.stdout
    if fmt == "json":
        out.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    elif fmt == "yaml":
        import yaml

        out.write(yaml.safe_dump(data, sort_keys=False))
    else:
        from kubeadm_py.cli import jsonpath

        kind, arg = jsonpath.split_format(fmt) or ("jsonpath", "")
        out.write(jsonpath.render(kind, jsonpath.template_of(kind, arg), data))
        out.flush()


_STATUS_STYLE = {"changed": "green", "unchanged": "cyan", "skipped": "yellow", "failed": "red"}


def _wants_rich(stream: IO[str]) -> bool:
    """rich only for a terminal (or FORCE_COLOR): piped output is plain text either way, and not
    importing rich saves 20-50 ms of start-up on every phase command run by a provisioner."""
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _finished_line(outcome: PhaseOutcome) -> str:
    return f"[phase] {outcome.path}: {outcome.summary} {outcome.seconds:.2f}s"


def _finished_markup(outcome: PhaseOutcome) -> str:
    """The phase line in rich markup (rich is loaded only for a terminal)."""
    from rich.markup import escape

    style = _STATUS_STYLE[outcome.status]
    return (
        f"[dim]\\[phase][/dim] {escape(outcome.path)}: [{style}]{escape(outcome.summary)}[/{style}] "
        f"[dim]{outcome.seconds:.2f}s[/dim]"
    )


LONG_WAIT = 3.0  # seconds: a wait that ends sooner shows nothing


class WaitLines:
    """Plain progress lines for the waits of a run (the waiter's events): nothing for a wait that
    ends within LONG_WAIT seconds; then one line saying what is waited for, one per state change
    of a target, and one when the wait ends."""

    def __init__(self) -> None:
        self.shown = False
        self.details: dict[str, str] = {}
        self.targets: tuple[str, ...] = ()

    def lines(self, e: WaitEvent) -> list[str]:
        from kubeadm_py.effectors.waiting import seconds_text

        if e.kind == "start":
            self.shown, self.details, self.targets = False, {}, e.pending
            return []
        out: list[str] = []
        took = seconds_text(e.elapsed)
        if not self.shown and e.kind != "end" and e.elapsed >= LONG_WAIT:
            self.shown = True
            # what was still waited for before this event (a change may be a target turning healthy)
            waited = [w for w in self.targets if w in e.pending or w == e.target]
            states = "; ".join(
                self.details[w] if len(waited) == 1 else f"{w}: {self.details[w]}"
                for w in waited
                if self.details.get(w)
            )
            out.append(
                f"[wait] waiting for {', '.join(waited)} (up to {seconds_text(e.timeout)}, {took} so far)"
                + (f": {states}" if states else "")
            )
        if e.kind == "change":
            self.details[e.target] = e.detail
            if self.shown:
                out.append(f"[wait] {e.target}: {e.detail or 'ready'} ({took})")
        elif e.kind == "end" and self.shown:
            left = f": still waiting for {', '.join(e.pending)}" if e.pending else ""
            out.append(f"[wait] {'gave up' if e.pending else 'done'} after {took}{left}")
        return out


def wait_status(e: WaitEvent, details: dict[str, str]) -> str:
    """The one-line status of a running wait (the spinner's text on a terminal): the time first, as
    a narrow terminal cuts the end of the line."""
    from kubeadm_py.effectors.waiting import seconds_text

    last = "; ".join(details[w] for w in e.pending if details.get(w))
    return (
        f"{seconds_text(e.elapsed)} of {seconds_text(e.timeout)} waiting for {', '.join(e.pending)}"
        + (f" ({last})" if last else "")
    )


class PlainReporter:
    """Phase messages and per-phase results as plain lines (output that is not a terminal)."""

    def __init__(self, stream: IO[str] | None = None, quiet_phases: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet_phases = quiet_phases
        self._waits = WaitLines()

    def phase_started(self, path: str) -> None:
        return None

    def message(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def phase_finished(self, outcome: PhaseOutcome) -> None:
        if not self.quiet_phases:
            self.message(_finished_line(outcome))

    def wait_event(self, e: WaitEvent) -> None:
        for line in self._waits.lines(e):
            self.message(line)


class RichReporter:
    """Prints phase messages as they come, a spinner naming the running phase, and the timing of
    each phase when it ends. Writes to stderr when stdout carries machine-readable output."""

    def __init__(self, stream: IO[str] | None = None, quiet_phases: bool = False) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self._status: Any = None
        self._phase = ""
        self._waits = WaitLines()
        self.quiet_phases = quiet_phases

    def phase_started(self, path: str) -> None:
        self._phase = path
        if self.console.is_terminal:
            self._status = self.console.status(f"phase {path}")
            self._status.start()

    def wait_event(self, e: WaitEvent) -> None:
        """On a terminal the spinner says what is waited for and for how long; else plain lines."""
        lines = self._waits.lines(e)
        if self._status is None:
            for line in lines:
                self.console.print(line, markup=False)
            return
        from rich.text import Text

        text = f"phase {self._phase}"
        if e.kind != "end":
            text += f" [{wait_status(e, self._waits.details)}]"
        self._status.update(Text(text))

    def message(self, text: str) -> None:
        self.console.print(text, markup=False)

    def phase_finished(self, outcome: PhaseOutcome) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self.quiet_phases:
            return
        self.console.print(_finished_markup(outcome))


def make_reporter(stream: IO[str] | None = None, quiet_phases: bool = False) -> PlainReporter | RichReporter:
    out = stream or sys.stdout
    cls = RichReporter if _wants_rich(out) else PlainReporter
    return cls(out, quiet_phases=quiet_phases)


def print_summary(report: RunReport, stream: IO[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout, highlight=False)
    table = Table(title=f"{report.workflow}{' (dry run)' if report.dry_run else ''}", title_justify="left")
    for col in ("PHASE", "RESULT", "CHANGES", "TIME"):
        table.add_column(col)
    for p in report.phases:
        n = sum(1 for c in p.changes if c.changed)
        table.add_row(p.path, p.label, str(n), f"{p.seconds:.2f}s")
    console.print(table)


def print_dry_run(report: RunReport, stream: IO[str] | None = None) -> None:
    """Every file and API object the run would write, under the real paths / names."""
    out = stream or sys.stdout
    for p in report.phases:
        for c in p.changes:
            if not c.changed:
                continue
            verb = {"create": "write", "update": "update", "delete": "delete", "run": "run"}.get(
                c.action, c.action
            )
            what = "file" if c.kind in ("file", "dir") else c.kind
            out.write(f"[dryrun] Would {verb} {what} {c.target!r} ({c.detail})")
            if c.content is not None and c.action != "delete":
                out.write(" with content:\n")
                for line in c.content.rstrip("\n").splitlines():
                    out.write(f"\t{line}\n")
            elif c.kind == "file" and c.action != "delete":
                out.write(" [content not shown: secret or binary]\n")
            else:
                out.write("\n")


def emit_report(report: RunReport, fmt: str) -> None:
    if fmt == "text":
        if report.dry_run:
            print_dry_run(report)
        return
    dump(report.to_dict(with_content=report.dry_run), fmt)
