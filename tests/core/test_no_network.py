"""Tests never reach the internet: pytest-socket (configured in pyproject.toml) lets a test
connect to loopback only, so a vendor call that escaped its fake fails loudly."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketBlockedError, SocketConnectBlockedError


def test_a_non_loopback_connection_fails():
    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1, never routed


def test_a_vendor_request_fails_before_it_leaves_the_machine():
    import requests

    with pytest.raises(
        (SocketBlockedError, SocketConnectBlockedError, requests.exceptions.ConnectionError)
    ):
        requests.get("https://api.polygon.io/v1/marketstatus/now", timeout=1)


def test_loopback_stays_open():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=1)
        client.close()
    finally:
        server.close()
