"""Preflight check model and runner (kubeadm ``preflight/checks.go``: ``Checker``, ``RunChecks``).

A check is a small object with a ``name`` (kubeadm's label, used by ``--ignore-preflight-errors``),
a ``severity`` (what its failure normally is), ``what`` (what it verifies, shown when it passes),
``fix`` (how to fix a failure) and ``run(probe) -> (warnings, errors)``. :func:`run_checks` runs a
list of checks in order; a check that raises is reported as that check's error and the others
still run. Errors of ignored checks (names matched case-insensitively, or ``all``) become
warnings, as in kubeadm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from kubeadm_py.errors import KubeadmError, PreflightError
from kubeadm_py.host.probe import SystemProbe

Severity = Literal["error", "warning"]
Result = Literal["pass", "warning", "error", "ignored"]
Findings = tuple[list[str], list[str]]  # (warnings, errors)

IGNORE_HINT = "use --ignore-preflight-errors=... to ignore"


class Check(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def what(self) -> str: ...
    @property
    def fix(self) -> str: ...

    def run(self, probe: SystemProbe) -> Findings: ...


@dataclass(frozen=True)
class CheckResult:
    name: str
    result: Result
    warnings: tuple[str, ...]
    errors: tuple[str, ...]  # as found, before ignoring
    detail: str
    fix: str
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "result": self.result, "detail": self.detail, "fix": self.fix}


@dataclass
class PreflightReport:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def errors(self) -> list[CheckResult]:
        return [r for r in self.results if r.result == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.result in ("warning", "ignored")]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "checks": [r.to_dict() for r in self.results],
            "errors": len(self.errors),  # checks that failed
            "warnings": len(self.warnings),  # checks with warnings, ignored errors included
        }

    def lines(self) -> list[str]:
        """kubeadm's output lines: warnings as they come, then the fatal errors."""
        out: list[str] = []
        for r in self.results:
            shown = r.warnings + (r.errors if r.result == "ignored" else ())
            out.extend(f"\t[WARNING {r.name}]: {w}" for w in shown)
        if self.errors:
            out.append("[preflight] Some fatal errors occurred:")
            for r in self.errors:
                out.extend(f"\t[ERROR {r.name}]: {e}" for e in r.errors)
            out.append(
                "[preflight] If you know what you are doing, you can make a check non-fatal with "
                "`--ignore-preflight-errors=...`"
            )
        return out

    def error(self) -> PreflightError:
        parts = [f"[ERROR {r.name}]: {e}" for r in self.errors for e in r.errors]
        return PreflightError(f"preflight checks failed: {' ; '.join(parts)} ; {IGNORE_HINT}")

    def raise_for_errors(self) -> None:
        if self.errors:
            raise self.error()


def ignore_set(*sources: Iterable[str] | str | None) -> frozenset[str]:
    """Union of ignore lists (flag values, ``nodeRegistration.ignorePreflightErrors``), lower-cased.
    Accepts comma-separated strings. ``all`` together with check names is rejected, as kubeadm does."""
    names: set[str] = set()
    for src in sources:
        if not src:
            continue
        items = [src] if isinstance(src, str) else list(src)
        for item in items:
            names.update(n.strip().lower() for n in str(item).split(",") if n.strip())
    if "all" in names and len(names) > 1:
        raise KubeadmError(
            "don't specify individual checks if 'all' is used",
            hint=f"--ignore-preflight-errors: {','.join(sorted(names))}",
        )
    return frozenset(names)


def is_ignored(ignore: frozenset[str], name: str) -> bool:
    return "all" in ignore or name.lower() in ignore


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run_check(check: Check, probe: SystemProbe, ignore: frozenset[str]) -> CheckResult:
    name = str(getattr(check, "name", type(check).__name__))
    try:
        warnings, errors = check.run(probe)
    except Exception as e:  # noqa: BLE001 - a crashing check is that check's error
        warnings, errors = [], [f"check crashed: {type(e).__name__}: {_one_line(str(e)) or repr(e)}"]
    warnings = [_one_line(w) for w in warnings]
    errors = [_one_line(e) for e in errors]
    if errors:
        result: Result = "ignored" if is_ignored(ignore, name) else "error"
    elif warnings:
        result = "warning"
    else:
        result = "pass"
    messages = errors + warnings
    detail = "; ".join(messages) if messages else getattr(check, "what", "")
    if result == "ignored":
        detail = f"{detail} (error ignored)"
    fix = "" if result == "pass" else getattr(check, "fix", "")
    return CheckResult(
        name, result, tuple(warnings), tuple(errors), detail, fix, getattr(check, "severity", "error")
    )


def run_checks(
    checks: Sequence[Check],
    probe: SystemProbe,
    ignore: frozenset[str] = frozenset(),
    on_result: Callable[[CheckResult], None] | None = None,
) -> PreflightReport:
    report = PreflightReport()
    for c in checks:
        r = run_check(c, probe, ignore)
        report.results.append(r)
        if on_result is not None:
            on_result(r)
    return report
