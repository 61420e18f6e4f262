"""Phase progress lines: the plain reporter (output that is not a terminal) prints exactly what rich
prints to a non-terminal stream, so choosing it does not change what provisioners parse."""

from __future__ import annotations

import io

import pytest

from kubeadm_py.cli.render import PlainReporter, RichReporter, make_reporter
from kubeadm_py.workflow.report import PhaseOutcome

OUTCOMES = [
    PhaseOutcome(path="certs/ca", status="changed", seconds=0.123),
    PhaseOutcome(path="certs/apiserver", status="unchanged", reason="nothing to do", seconds=0.0),
    PhaseOutcome(path="etcd/local", status="skipped", reason="external etcd", seconds=0.01),
    PhaseOutcome(path="addon/coredns", status="failed", reason="boom", seconds=2.5),
]


def _drive(reporter: PlainReporter | RichReporter) -> None:
    for o in OUTCOMES:
        reporter.phase_started(o.path)
        reporter.message(f'[certs] Generating "{o.path}" certificate and key [x] ')
        reporter.phase_finished(o)


@pytest.mark.parametrize("quiet", [False, True])
def test_plain_output_equals_rich_on_a_non_terminal(quiet: bool) -> None:
    plain, rich = io.StringIO(), io.StringIO()
    _drive(PlainReporter(plain, quiet_phases=quiet))
    _drive(RichReporter(rich, quiet_phases=quiet))
    assert plain.getvalue() == rich.getvalue()
    assert ("[phase] certs/ca: changed 0.12s" in plain.getvalue()) is not quiet
    assert "[phase] etcd/local: skipped (external etcd) 0.01s" in rich.getvalue() or quiet


def test_reporter_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert isinstance(make_reporter(io.StringIO()), PlainReporter)
    assert isinstance(make_reporter(Tty()), RichReporter)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert isinstance(make_reporter(io.StringIO()), RichReporter)
