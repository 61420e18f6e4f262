"""Progress of long waits: the waiter's events (effectors/waiting.py) rendered by the CLI's
reporters: one line per state change off a terminal, a spinner text with the elapsed time on one;
nothing for a wait that ends within a few seconds; api.build_context hands the events over."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from kubeadm_py import api
from kubeadm_py.cli.render import LONG_WAIT, PlainReporter, RichReporter
from kubeadm_py.effectors.waiting import Target, Waiter
from tests.unit.join.conftest import FakeClock

WHAT = "kube-apiserver to be healthy at https://10.0.0.1:6443/livez"


def _target(states: list[tuple[bool, str]]) -> Target:
    answers: Iterator[tuple[bool, str]] = iter(states)
    return Target("kube-apiserver", WHAT, lambda: next(answers))


def _wait(
    reporter: PlainReporter | RichReporter, states: list[tuple[bool, str]], timeout: float = 240
) -> None:
    waiter = Waiter(clock=FakeClock(), observer=reporter.wait_event)
    waiter.wait_all([_target(states)], timeout, interval=1.0)


def test_one_line_per_state_change_off_a_terminal() -> None:
    out = io.StringIO()
    refused = (False, "connection refused")
    states = [refused] * 5 + [(False, "HTTP 500: etcd not ready")] * 3 + [(True, "")]
    _wait(PlainReporter(out), states)
    assert out.getvalue().splitlines() == [
        f"[wait] waiting for {WHAT} (up to 4m0s, 3s so far): connection refused",
        f"[wait] {WHAT}: HTTP 500: etcd not ready (5s)",
        f"[wait] {WHAT}: ready (8s)",
        "[wait] done after 8s",
    ]


def test_several_targets_name_each_state() -> None:
    out = io.StringIO()
    other = Target("etcd", "etcd to be healthy", lambda: (False, "timeout"))
    waiter = Waiter(clock=FakeClock(), observer=PlainReporter(out).wait_event)
    waiter.wait_all([_target([(False, "connection refused")] * 3 + [(True, "")]), other], 5, interval=1.0)
    assert out.getvalue().splitlines() == [
        f"[wait] waiting for {WHAT}, etcd to be healthy (up to 5s, 3s so far): {WHAT}: connection refused; "
        "etcd to be healthy: timeout",
        f"[wait] {WHAT}: ready (3s)",
        "[wait] gave up after 5s: still waiting for etcd to be healthy",
    ]


def test_a_timed_out_wait_says_what_it_still_waited_for() -> None:
    out = io.StringIO()
    _wait(PlainReporter(out), [(False, "connection refused")] * 20, timeout=10)
    assert out.getvalue().splitlines()[-1] == f"[wait] gave up after 10s: still waiting for {WHAT}"


def test_short_waits_show_nothing() -> None:
    out = io.StringIO()
    _wait(PlainReporter(out), [(False, "connection refused")] * int(LONG_WAIT - 1) + [(True, "")])
    assert out.getvalue() == ""


def test_rich_reporter_without_a_terminal_prints_the_same_lines() -> None:
    plain, rich = io.StringIO(), io.StringIO()
    states = [(False, "connection refused")] * 6 + [(True, "")]
    _wait(PlainReporter(plain), states)
    _wait(RichReporter(rich), states)
    assert rich.getvalue() == plain.getvalue() != ""


class Spinner:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def update(self, text: object) -> None:
        self.texts.append(str(text))

    def stop(self) -> None:
        return None


def test_on_a_terminal_the_spinner_shows_what_and_how_long() -> None:
    reporter = RichReporter(io.StringIO())
    reporter.phase_started("wait-control-plane")
    spinner = Spinner()
    reporter._status = spinner  # the terminal's status line
    _wait(reporter, [(False, "connection refused")] * 4 + [(True, "")])
    assert spinner.texts[0] == f"phase wait-control-plane [0s of 4m0s waiting for {WHAT}]"
    assert f"phase wait-control-plane [3s of 4m0s waiting for {WHAT} (connection refused)]" in spinner.texts
    assert spinner.texts[-1] == "phase wait-control-plane"  # the wait ended


def test_build_context_hands_the_waits_to_a_reporter_that_shows_them(tmp_path: Path) -> None:
    reporter = PlainReporter(io.StringIO())
    ctx = api.build_context("reset", {"rootfs": str(tmp_path), "force": True}, reporter)
    try:
        assert ctx.fx.waiter.observer == reporter.wait_event
    finally:
        ctx.close()
