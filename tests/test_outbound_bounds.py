"""Every kind of outbound caller is bounded in size and in total time (issue 20 §4).

The real adapters (a market-data vendor, a calendar source, the SEC EDGAR client, the
Finnhub insider client) talk to a hostile server on 127.0.0.1 through the process's shared
session, built from HTTP_TIMEOUT / HTTP_MAX_BYTES / HTTP_DEADLINE: a body larger than the cap
that never ends, and headers trickled a byte at a time. Each fails with its own error type
within the deadline (the news feeds: tests/insights/news/test_hostile_sources.py; Claude's
own httpx client: tests/insights/news/analysis/test_broken_answers.py).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from qunex import http


class HostileServer:
    """/big...: a 200 whose JSON-looking body never ends (no Content-Length);
    /slow...: the status line, then one header byte every 0.2 s for ever."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ", 2)[1] if " " in request else "/"
            if path.startswith("/big"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                conn.sendall(b"Connection: close\r\n\r\n[")
                while not self.stop.is_set():
                    conn.sendall(b"1," * 32768)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not self.stop.wait(0.2):
                    conn.sendall(b"X")

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def hostile(settings) -> Iterator[HostileServer]:
    settings.HTTP_TIMEOUT = 1  # per read: a byte every 0.2 s never trips it
    settings.HTTP_DEADLINE = 1  # per call: this is what must end it
    settings.HTTP_MAX_BYTES = 50_000
    http._shared = None
    with HostileServer() as server:
        yield server
    http._shared = None


def _market(base: str, settings) -> Callable[[], object]:
    from markets.providers import build_providers

    (polygon,) = build_providers(
        ["polygon"], {"polygon": "k"}, http.shared_session(), {"polygon": base}
    )
    return lambda: polygon.daily_bars("AAPL", date(2026, 11, 2), date(2026, 11, 3))


def _calendar(base: str, settings) -> Callable[[], object]:
    from insights.calendar.providers.fomc import FOMCSource

    settings.CALENDAR_FOMC_URL = f"{base}/fomc"
    return lambda: FOMCSource().fetch(date(2026, 1, 1), date(2026, 12, 31))


def _edgar(base: str, settings) -> Callable[[], object]:
    from insights.insiders.providers.sec import SecEdgar

    settings.SEC_TICKER_MAP_URL = f"{base}/company_tickers.json"
    return SecEdgar(user_agent="Qunex tests@example.com").ticker_map


def _finnhub_insiders(base: str, settings) -> Callable[[], object]:
    from insights.insiders.providers.finnhub import FinnhubInsiders

    settings.FINNHUB_BASE_URL = base
    client = FinnhubInsiders(api_key="k")
    return lambda: client.filings(symbol="AAPL", start=date(2026, 1, 1), end=date(2026, 2, 1))


def _errors():
    from insights.calendar.providers.base import CalendarError
    from insights.insiders.providers.sec import SecError
    from markets.providers.base import ProviderError

    return {"market": ProviderError, "calendar": CalendarError, "edgar": SecError,
            "finnhub_insiders": SecError}  # fmt: skip


CALLERS = {
    "market": _market,
    "calendar": _calendar,
    "edgar": _edgar,
    "finnhub_insiders": _finnhub_insiders,
}


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["big", "slow"])
@pytest.mark.parametrize("kind", list(CALLERS))
def test_every_caller_is_bounded_in_size_and_total_time(hostile, settings, kind, mode) -> None:
    call = CALLERS[kind](f"{hostile.url}/{mode}", settings)

    started = time.monotonic()
    with pytest.raises(_errors()[kind]) as info:
        call()
    elapsed = time.monotonic() - started

    # The cap stops the endless body at 50 KB; the 1 s deadline ends the header trickle.
    assert elapsed < 2.0, (kind, mode, elapsed)
    cause = info.value.__cause__ or info.value.__context__
    message = f"{info.value} {cause!r}"
    expected = "ResponseTooLarge" if mode == "big" else ("DeadlineExceeded", "timed out")
    assert any(word in message for word in ([expected] if mode == "big" else expected)), message
