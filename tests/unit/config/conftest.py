from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

DATA = Path(__file__).with_name("data")


@dataclass
class FakeProbe:
    """Stands in for the host: fixed hostname, address and CRI socket."""

    host: str = "Node-A.Example"
    address: str = "10.0.0.5"
    socket: str = "unix:///run/containerd/containerd.sock"
    warnings: list[str] = field(default_factory=list)
    calls: int = 0

    def hostname(self) -> str:
        self.calls += 1
        return self.host

    def advertise_address(self) -> str:
        self.calls += 1
        return self.address

    def cri_socket(self) -> str:
        self.calls += 1
        return self.socket


@pytest.fixture
def probe() -> FakeProbe:
    return FakeProbe()


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """write(text, name="cfg.yaml") -> path of a config file holding text."""

    def _write(text: str, name: str = "cfg.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return _write
