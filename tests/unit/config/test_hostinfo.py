from __future__ import annotations

from pathlib import Path

import pytest

from kubeadm_py.config import hostinfo
from kubeadm_py.config.hostinfo import HostProbe
from kubeadm_py.errors import ConfigError

ROUTE = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010011AC\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000011AC\t00000000\t0001\t0\t0\t100\t0000FFFF\t0\t0\t0
"""
ROUTE6 = (
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth2\n"
)


def _probe(tmp_path: Path, route: str, route6: str, addrs: dict[str, list[tuple[int, str]]]) -> HostProbe:
    (tmp_path / "route").write_text(route)
    (tmp_path / "route6").write_text(route6)
    p = HostProbe(route_file=str(tmp_path / "route"), route6_file=str(tmp_path / "route6"))
    p._addresses = lambda: addrs  # type: ignore[method-assign]
    return p


def test_default_route_lowest_metric_wins(tmp_path: Path) -> None:
    addrs = {
        "eth0": [(4, "172.17.0.5"), (6, "fe80::1")],
        "eth1": [(4, "192.168.2.7")],
        "lo": [(4, "127.0.0.1")],
    }
    assert _probe(tmp_path, ROUTE, "", addrs).advertise_address() == "172.17.0.5"


def test_ipv6_default_route(tmp_path: Path) -> None:
    addrs = {"eth2": [(6, "fe80::2%eth2"), (6, "fd00::7")], "lo": [(4, "127.0.0.1")]}
    assert _probe(tmp_path, ROUTE.splitlines()[0] + "\n", ROUTE6, addrs).advertise_address() == "fd00::7"


def test_fallback_first_non_loopback(tmp_path: Path) -> None:
    addrs = {"lo": [(4, "127.0.0.1")], "wlan0": [(4, "10.1.1.1")]}
    p = _probe(tmp_path, ROUTE.splitlines()[0] + "\n", "", addrs)
    assert p.advertise_address() == "10.1.1.1"
    assert p.warnings == []


def test_fallback_loopback_with_warning(tmp_path: Path) -> None:
    p = _probe(tmp_path, "", "", {"lo": [(4, "127.0.0.1")]})
    assert p.advertise_address() == "127.0.0.1"
    assert p.warnings and "advertising 127.0.0.1" in p.warnings[0]


def test_real_host_probe_returns_an_ip() -> None:
    import ipaddress

    p = HostProbe()
    ipaddress.ip_address(p.advertise_address())
    assert p.hostname() == p.hostname().lower()


def test_cri_socket_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    present: set[str] = set()
    monkeypatch.setattr(hostinfo.os.path, "exists", lambda p: p in present)
    assert HostProbe().cri_socket() == hostinfo.DEFAULT_CRI_SOCKET
    present.add("/var/run/crio/crio.sock")
    assert HostProbe().cri_socket() == "unix:///var/run/crio/crio.sock"
    present.add("/var/run/cri-dockerd.sock")
    with pytest.raises(ConfigError, match="found multiple CRI endpoints"):
        HostProbe().cri_socket()
