"""Waiting and the clock: polling until checks pass, with the dry-run twin that only says what it
would wait for. Timeouts come from the defaulted configuration (``timeouts``); a waiter may cap
them (``max_timeout``) and scale poll intervals for embedding programs and tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kubeadm_py.changes import Change
from kubeadm_py.effectors.watch import ComponentsFailed, Watch

# A check answers (healthy, detail); the detail of the last failure is reported on timeout.
Check = Callable[[], "tuple[bool, str]"]
Log = Callable[[str], None]


def _no_log(msg: str) -> None:
    return None


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Target:
    """Something to wait for: ``name`` keys the result and the "is healthy" line, ``what`` says
    what is waited for (``the kubelet to be healthy at http://...``)."""

    name: str
    what: str
    check: Check


def seconds_text(seconds: float) -> str:
    """A wait's length in Go duration style, rounded to seconds (``4m0s``)."""
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


@dataclass(frozen=True)
class WaitEvent:
    """What a wait is doing, for progress displays (the CLI's reporter, :mod:`kubeadm_py.cli.render`).
    ``kind``: ``start``, ``tick`` (after each round of checks), ``change`` (a target's state changed:
    ``target`` and its new ``detail``, empty when it turned healthy) or ``end`` (``pending``: the
    targets still unhealthy, empty when all are)."""

    kind: str
    pending: tuple[str, ...]  # what is still waited for (Target.what)
    elapsed: float
    timeout: float
    target: str = ""
    detail: str = ""


Observer = Callable[[WaitEvent], None]


@dataclass
class Waiter:
    clock: Clock = field(default_factory=SystemClock)
    # Caps every timeout and poll interval (None: as asked); for embedding programs and tests.
    max_timeout: float | None = None
    max_interval: float | None = None
    # A note per wait that ended healthy, so a phase that only waited says so on its phase line.
    records: list[Change] = field(default_factory=list)
    waited: str = field(default="waited for", init=False)
    # Told what every wait does (api.build_context sets the reporter's ``wait_event``).
    observer: Observer | None = None

    def timeout(self, seconds: float) -> float:
        return seconds if self.max_timeout is None else min(seconds, self.max_timeout)

    def interval(self, seconds: float) -> float:
        return seconds if self.max_interval is None else min(seconds, self.max_interval)

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(self.interval(seconds))

    def wait_all(
        self,
        targets: Sequence[Target],
        timeout: float,
        *,
        interval: float = 1.0,
        log: Log = _no_log,
        prefix: str = "",
        watch: Watch | None = None,
    ) -> dict[str, str]:
        """Poll every target until all are healthy or ``timeout`` passes; returns the names still
        unhealthy with their last detail (empty: all healthy). Logs each target as it turns healthy.
        ``watch`` (:class:`~kubeadm_py.effectors.watch.ComponentWatch`) is asked between polls,
        with the names still pending, whether something has failed for good: then the wait ends at
        once with :class:`~kubeadm_py.effectors.watch.ComponentsFailed`."""
        bad = self._poll(targets, self.timeout(timeout), self.interval(interval), log, prefix, watch)
        if not bad:
            names = ", ".join(t.name for t in targets)
            self.records.append(Change("note", "unchanged", "wait", f"{self.waited} {names}"))
        return bad

    def _poll(
        self,
        targets: Sequence[Target],
        timeout: float,
        interval: float,
        log: Log,
        prefix: str,
        watch: Watch | None = None,
    ) -> dict[str, str]:
        start = self.clock.monotonic()
        pending = {t.name: t for t in targets}
        last: dict[str, str] = {t.name: "not checked yet" for t in targets}
        self._tell("start", pending, 0.0, timeout)
        while True:
            for name, t in list(pending.items()):
                ok, detail = t.check()
                if ok:
                    took = seconds_text(self.clock.monotonic() - start)
                    log(f"{prefix} {name} is healthy after {took}".strip())
                    del pending[name]
                    self._tell("change", pending, self.clock.monotonic() - start, timeout, t.what)
                else:
                    if detail != last[name]:
                        self._tell("change", pending, self.clock.monotonic() - start, timeout, t.what, detail)
                    last[name] = detail
            if pending and watch is not None:
                failed = watch(list(pending))
                if failed:
                    took = seconds_text(self.clock.monotonic() - start)
                    why = "; ".join(r.line() for r in failed)
                    log(f"{prefix} stopped waiting after {took}: {why}".strip())
                    self._tell("end", pending, self.clock.monotonic() - start, timeout)
                    raise ComponentsFailed(failed)
            elapsed = self.clock.monotonic() - start
            if not pending or elapsed >= timeout:
                break
            self._tell("tick", pending, elapsed, timeout)
            self.clock.sleep(min(interval, max(0.0, timeout - elapsed)))
        self._tell("end", pending, elapsed, timeout)
        return {n: last[n] for n in pending}

    def _tell(
        self,
        kind: str,
        pending: dict[str, Target],
        elapsed: float,
        timeout: float,
        target: str = "",
        detail: str = "",
    ) -> None:
        if self.observer is not None:
            what = tuple(t.what for t in pending.values())
            self.observer(WaitEvent(kind, what, elapsed, timeout, target, detail))

    def until(self, what: str, check: Check, timeout: float, *, interval: float = 1.0) -> tuple[bool, str]:
        """Poll one check; (healthy, last detail)."""
        bad = self.wait_all([Target(what, what, check)], timeout, interval=interval)
        return (not bad, bad.get(what, ""))


class DryRunWaiter(Waiter):
    """Waits for nothing: says what a real run would wait for, and reports every target healthy."""

    def __init__(self, log: Log) -> None:
        super().__init__()
        self.log = log
        self.waited = "would wait for"

    def sleep(self, seconds: float) -> None:
        return None

    def _poll(
        self,
        targets: Sequence[Target],
        timeout: float,
        interval: float,
        log: Log,
        prefix: str,
        watch: Watch | None = None,
    ) -> dict[str, str]:
        for t in targets:
            self.log(f"[dryrun] Would wait for {t.what} (up to {seconds_text(timeout)})")
        return {}
