"""The one Go-duration parser and formatter (kubeadm_py.durations), against Go's time package:
expected strings are Go's own (time_test.go durationTests / parseDurationTests, and what
kubeadm prints)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kubeadm_py.durations import (
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    SECOND,
    DurationError,
    duration_seconds,
    duration_timedelta,
    format_duration,
    is_duration,
    normalize_duration,
    parse_duration,
    short_human_duration,
)
from kubeadm_py.errors import KubeadmError

MAX = 2**63 - 1
MIN = -(2**63)

# Duration.String() for a nanosecond count.
FORMAT = [
    (0, "0s"),
    (1, "1ns"),
    (1_100, "1.1µs"),
    (MICROSECOND, "1µs"),
    (2_200_000, "2.2ms"),
    (500 * MILLISECOND, "500ms"),
    (1_500_000_000, "1.5s"),
    (3_300_000_000, "3.3s"),
    (90 * SECOND, "1m30s"),
    (4 * MINUTE, "4m0s"),
    (4 * MINUTE + 5 * SECOND, "4m5s"),
    (4 * MINUTE + 5_001 * MILLISECOND, "4m5.001s"),
    (5 * HOUR + 6 * MINUTE + 7_001 * MILLISECOND, "5h6m7.001s"),
    (8 * MINUTE + 1, "8m0.000000001s"),
    (90 * MINUTE, "1h30m0s"),
    (24 * HOUR, "24h0m0s"),
    (87600 * HOUR, "87600h0m0s"),
    (-5 * MINUTE, "-5m0s"),
    (-1_500_000_000, "-1.5s"),
    (-1, "-1ns"),
    (MAX, "2562047h47m16.854775807s"),
    (MIN, "-2562047h47m16.854775808s"),
]


@pytest.mark.parametrize(("ns", "text"), FORMAT)
def test_format_matches_go_string(ns: int, text: str) -> None:
    assert format_duration(ns) == text


@pytest.mark.parametrize(("ns", "text"), FORMAT)
def test_round_trip(ns: int, text: str) -> None:
    assert parse_duration(text) == ns
    assert normalize_duration(text) == text


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("-0", 0),
        ("+0", 0),
        ("0s", 0),
        ("5s", 5 * SECOND),
        ("+5s", 5 * SECOND),
        ("-5s", -5 * SECOND),
        ("1.5s", 1_500_000_000),
        (".5s", 500 * MILLISECOND),
        ("5.s", 5 * SECOND),
        ("1.004s", 1_004 * MILLISECOND),
        ("1.0040s", 1_004 * MILLISECOND),
        ("100.00100s", 100_001 * MILLISECOND),
        ("10ns", 10),
        ("11us", 11 * MICROSECOND),
        ("12µs", 12 * MICROSECOND),  # U+00B5
        ("12μs", 12 * MICROSECOND),  # U+03BC
        ("13ms", 13 * MILLISECOND),
        ("15m", 15 * MINUTE),
        ("16h", 16 * HOUR),
        ("1.5h", 90 * MINUTE),
        ("3h30m", 3 * HOUR + 30 * MINUTE),
        ("1h2m3s", 3723 * SECOND),
        ("10.5s4m", 4 * MINUTE + 10_500 * MILLISECOND),
        ("-2m3.4s", -(2 * MINUTE + 3_400 * MILLISECOND)),
        ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
        ("0.100000000000000000000h", 6 * MINUTE),
        ("9223372036854775807ns", MAX),
        ("-9223372036854775808ns", MIN),
    ],
)
def test_parse_like_go(text: str, ns: int) -> None:
    assert parse_duration(text) == ns
    assert is_duration(text)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "3",
        "-",
        "s",
        ".",
        "-.",
        ".s",
        "+.s",
        "1d",
        "10d",
        "h",
        "1h30",
        "1 h",
        "4 minutes",
        "abc",
        "1h-5m",
        "1.2.3s",
        "--1s",
        "s1",
        "forever",
        "9223372036854775808ns",
        "3000000h",
    ],
)
def test_invalid_is_a_one_line_kubeadm_error(bad: str) -> None:
    assert not is_duration(bad)
    with pytest.raises(DurationError) as e:
        parse_duration(bad, "timeouts.kubeletHealthCheck")
    assert isinstance(e.value, KubeadmError)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f'invalid timeouts.kubeletHealthCheck "{bad}"')
    assert "24h0m0s" in msg  # the hint shows the syntax


def test_yaml_numbers_are_seconds() -> None:
    assert parse_duration(30) == 30 * SECOND
    assert duration_seconds(1.5) == 1.5


def test_conversions() -> None:
    assert duration_seconds("4m0s") == 240.0
    assert duration_seconds("500ms") == 0.5
    assert duration_timedelta("8760h0m0s") == timedelta(hours=8760)
    assert duration_timedelta("1h30m15s") == timedelta(hours=1, minutes=30, seconds=15)
    assert duration_timedelta("500ms") == timedelta(milliseconds=500)
    assert duration_timedelta("0") == timedelta(0)


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(hours=24), "24h0m0s"),
        (timedelta(minutes=90), "1h30m0s"),
        (timedelta(seconds=75), "1m15s"),
        (timedelta(0), "0s"),
        (timedelta(microseconds=1), "1µs"),
        (timedelta(seconds=-1.5), "-1.5s"),
    ],
)
def test_format_timedelta(td: timedelta, text: str) -> None:
    assert format_duration(td) == text


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(seconds=-5), "<invalid>"),
        (timedelta(seconds=-10), "<invalid>"),
        (timedelta(seconds=-1), "0s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=7), "7m"),
        (timedelta(minutes=59), "59m"),
        (timedelta(hours=5), "5h"),
        (timedelta(hours=23, minutes=59), "23h"),
        (timedelta(days=3), "3d"),
        (timedelta(days=364, hours=23), "364d"),
        (timedelta(days=800), "2y"),
        (timedelta(days=3649), "9y"),
        (timedelta(days=3650), "10y"),
    ],
)
def test_short_human_duration(td: timedelta, text: str) -> None:
    assert short_human_duration(td) == text
