from datetime import timedelta

import pytest

from kubeadm_py.errors import KubeadmError
from kubeadm_py.pki.timeutil import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("8760h0m0s", timedelta(hours=8760)),
        ("87600h", timedelta(hours=87600)),
        ("90m", timedelta(minutes=90)),
        ("1h30m15s", timedelta(hours=1, minutes=30, seconds=15)),
        ("1.5h", timedelta(minutes=90)),
        ("0", timedelta(0)),
        ("500ms", timedelta(milliseconds=500)),
    ],
)
def test_parse_duration(text, want):
    assert parse_duration(text) == want


@pytest.mark.parametrize("bad", ["10d", "h", "1h30", "abc", "1 h"])
def test_parse_duration_rejects(bad):
    with pytest.raises(KubeadmError, match="invalid"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("d", "want"),
    [
        (timedelta(days=364, hours=23), "364d"),
        (timedelta(days=3650), "10y"),
        (timedelta(days=3649), "9y"),
        (timedelta(hours=5), "5h"),
        (timedelta(minutes=7), "7m"),
        (timedelta(seconds=-10), "<invalid>"),
    ],
)
def test_format_duration(d, want):
    assert format_duration(d) == want
