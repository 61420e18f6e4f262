"""Go ``time.Duration`` text, in one place: the parser (``time.ParseDuration``), the formatter
(``Duration.String``) and apimachinery's ``duration.ShortHumanDuration``.

Durations are integers of nanoseconds, as in Go; :func:`duration_seconds` and
:func:`duration_timedelta` convert for timeouts and certificate/token lifetimes. Base layer:
imports only the standard library and :mod:`kubeadm_py.errors`."""

from __future__ import annotations

import re
from datetime import timedelta

from kubeadm_py.errors import KubeadmError

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "µs": MICROSECOND,  # U+00B5 micro sign
    "μs": MICROSECOND,  # U+03BC Greek mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_MAX = 2**63 - 1  # Go's time.Duration is an int64
_HINT = "use a Go duration such as 24h0m0s, 4m or 90s"


class DurationError(KubeadmError):
    """A value that Go's ``time.ParseDuration`` rejects."""


def parse_duration(text: str | int | float, what: str = "duration") -> int:
    """Nanoseconds of a Go duration string (``1h2m3s``, ``24h``, ``1.5s``, ``-5m``, ``0``).

    Anything ``time.ParseDuration`` rejects raises :class:`DurationError`, a one-line
    ``invalid <what> "<text>"``. A YAML number (``timeout: 30``) is taken as seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text * SECOND)
    s = str(text).strip()
    body = s[1:] if s[:1] in ("+", "-") else s
    total = 0 if body == "0" else _parse_unsigned(body)
    if total is None or total > _MAX + (s[:1] == "-"):
        raise DurationError(f'invalid {what} "{text}"', hint=_HINT)
    return -total if s[:1] == "-" else total


def _parse_unsigned(s: str) -> int | None:
    pos, total = 0, 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            return None
        whole, _, frac = m.group(1).partition(".")
        scale = _UNITS[m.group(2)]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // (10 ** len(frac))
        pos = m.end()
    return total if pos else None


def is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except DurationError:
        return False
    return True


def duration_seconds(text: str | int | float, what: str = "duration") -> float:
    """A Go duration as seconds (timeouts, sleeps)."""
    return parse_duration(text, what) / SECOND


def duration_timedelta(text: str | int | float, what: str = "duration") -> timedelta:
    """A Go duration as a :class:`~datetime.timedelta` (certificate validity, token TTL)."""
    return timedelta(microseconds=parse_duration(text, what) / MICROSECOND)


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(rest).rjust(digits, '0').rstrip('0')}"


def format_duration(d: int | timedelta) -> str:
    """Go's ``Duration.String()``: ``24h0m0s``, ``4m0s``, ``1.5s``, ``500ms``, ``1µs``, ``0s``,
    ``-5m0s``. A timedelta counts in whole microseconds."""
    ns = (d // timedelta(microseconds=1)) * MICROSECOND if isinstance(d, timedelta) else d
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < SECOND:
        if u < MICROSECOND:
            return f"{sign}{u}ns"
        if u < MILLISECOND:
            return f"{sign}{_frac(u, MICROSECOND)}µs"
        return f"{sign}{_frac(u, MILLISECOND)}ms"
    hours, rem = divmod(u, HOUR)
    minutes, rem = divmod(rem, MINUTE)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{_frac(rem, SECOND)}s"


def normalize_duration(text: str, what: str = "duration") -> str:
    """``"24h"`` -> ``"24h0m0s"`` (what kubeadm prints after a round trip)."""
    return format_duration(parse_duration(text, what))


def short_human_duration(td: timedelta) -> str:
    """apimachinery's ``duration.ShortHumanDuration``, as kubeadm prints residual times and token
    TTLs: ``45s``, ``3m``, ``23h``, ``364d``, ``9y``."""
    secs = int(td.total_seconds())
    if secs < -1:
        return "<invalid>"
    if secs < 0:
        return "0s"
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m"
    hours = secs // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"
