"""What the API client and its transports share: the :class:`Transport` protocol and
:class:`TransportError`. Both ``kube/client.py`` and ``kube/transport.py`` import it, so neither
imports the other at module level."""

from __future__ import annotations

from typing import Protocol


class TransportError(Exception):
    """The request never got an HTTP answer (refused, unreachable, TLS failure, timeout)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transport(Protocol):
    """Sends one HTTP request to the API server; raises :class:`TransportError` when no answer came."""

    endpoint: str

    def send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]: ...
