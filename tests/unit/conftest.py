"""Unit tests are pure: any attempt to open a network connection fails the test. A module whose tests talk to a
server of their own on 127.0.0.1 narrows that to loopback only with ``pytestmark =
pytest.mark.usefixtures("loopback_only")``."""

from __future__ import annotations

import socket
from typing import Any

import pytest

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_CONNECT = socket.socket.connect
_CREATE_CONNECTION = socket.create_connection


class NetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise NetworkBlocked("unit tests must not use the network; move this test to tests/integration")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def loopback_only(_no_network: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the network block with a loopback-only one (for canned or fake servers on 127.0.0.1)."""

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in LOOPBACK:
            raise NetworkBlocked(f"unit tests may only connect to loopback, not {host!r}")
        return _CONNECT(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    monkeypatch.setattr(socket, "create_connection", _CREATE_CONNECTION)
