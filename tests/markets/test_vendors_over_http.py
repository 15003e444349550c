"""The REAL market adapters against a local fake vendor over HTTP (issue 14 §5).

Nothing is mocked between `refresh_market_data` and the socket: the vendor base URLs are
settings (POLYGON_BASE_URL, ALPHA_VANTAGE_BASE_URL), the session is the process's one
`qunex.http.shared_session()` built with HTTP_TIMEOUT, and a small HTTP server on 127.0.0.1
answers as the vendors do on a bad day: 429 with Retry-After, 500s, malformed JSON, a
response slower than the timeout; the run fails over to the next vendor.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.management import CommandError, call_command

from markets.models import DailyBar, MarketDataState
from qunex import http
from qunex.models import JobRun
from tests.factories import DailyBarFactory, TickerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 22, tzinfo=UTC)  # Tuesday, after the close
FRIDAY, MONDAY, TUESDAY = date(2026, 11, 20), date(2026, 11, 23), date(2026, 11, 24)


class Answer:
    def __init__(self, body: bytes | dict, status: int = 200, headers=None, delay: float = 0):
        self.body = json.dumps(body).encode() if isinstance(body, dict) else body
        self.status, self.headers, self.delay = status, headers or {}, delay


class FakeVendorServer:
    """Scripted answers per (vendor, symbol): a list consumed in order, the last repeating."""

    def __init__(self) -> None:
        self.script: dict[tuple[str, str], list[Answer]] = {}
        self.hits: dict[tuple[str, str], int] = defaultdict(int)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                answer = server.answer(self.path)
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:  # the client gave up (timeout)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path: str) -> Answer:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if parts.path.startswith("/polygon/v2/aggs/ticker/"):
            key = ("polygon", parts.path.split("/")[5])
        elif parts.path.startswith("/polygon/v2/snapshot"):
            key = ("polygon", "snapshot")
        elif parts.path.startswith("/alphavantage"):
            key = ("alphavantage", f"{query['function'][0]}:{query['symbol'][0]}")
        else:
            return Answer({"error": "no such route"}, status=404)
        self.hits[key] += 1
        answers = self.script.get(key) or [Answer({"error": "not scripted"}, status=404)]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def polygon_aggs(close: float) -> dict:
    rows = []
    for day in (MONDAY, TUESDAY):
        ms = int(datetime(day.year, day.month, day.day, 5, tzinfo=UTC).timestamp() * 1000)
        rows.append({"o": close, "h": close + 1, "l": close - 1, "c": close, "v": 100, "t": ms})
    return {"status": "OK", "adjusted": True, "resultsCount": 2, "results": rows}


def alpha_daily(close: float) -> dict:
    row = {"1. open": str(close), "2. high": str(close + 1), "3. low": str(close - 1),
           "4. close": str(close), "5. volume": "100"}  # fmt: skip
    return {
        "Meta Data": {"2. Symbol": "X"},
        "Time Series (Daily)": {d.isoformat(): row for d in (TUESDAY, MONDAY)},
    }


def snapshot(*symbols: str) -> dict:
    updated = int(NOW.timestamp()) * 1_000_000_000
    return {
        "status": "OK",
        "tickers": [
            {"ticker": s, "todaysChange": 1, "todaysChangePerc": 0.5, "updated": updated,
             "day": {"c": 50, "v": 10}, "prevDay": {"c": 49}}
            for s in symbols
        ],
    }  # fmt: skip


@pytest.fixture
def vendor(settings):
    server = FakeVendorServer()
    settings.POLYGON_API_KEY = settings.ALPHA_VANTAGE_API_KEY = "test-key"
    settings.FINNHUB_API_KEY = ""
    settings.MARKET_DATA_PROVIDERS = ["polygon", "alphavantage"]
    settings.POLYGON_BASE_URL = f"{server.url}/polygon"
    settings.ALPHA_VANTAGE_BASE_URL = f"{server.url}/alphavantage/query"
    settings.HTTP_TIMEOUT = 1
    http._shared = None  # the process's session is built from these settings on first use
    with time_machine.travel(NOW, tick=True):
        yield server
    http._shared = None
    server.close()


def refresh(*args: str) -> str:
    out = io.StringIO()
    call_command("refresh_market_data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def tickers(*symbols: str, closes: dict[str, float] | None = None) -> None:
    """Tickers with a bar on Friday (at the close the vendor continues from, if given)."""
    for symbol in symbols:
        extra = {"close": closes[symbol]} if closes else {}
        DailyBarFactory(ticker=TickerFactory(symbol=symbol, is_demo=False), date=FRIDAY, **extra)


def test_the_shared_session_reads_http_timeout(vendor):
    assert http.shared_session().default_timeout == 1


def splits_synced_today() -> None:
    """Alpha Vantage's bars are as traded: converted to the stored basis only with splits
    synced recently (here: none, so the factor is 1)."""
    MarketDataState.objects.create(key="sync:actions_through", value={"date": str(TUESDAY)})


def test_a_bad_day_at_the_vendor_fails_over_ticker_by_ticker(vendor):
    """AAPL: 429 with Retry-After: 1 -> Alpha Vantage (the budget is blocked for 1 s).
    MSFT: Polygon again once the block is over (the run waits, it does not fail). IBM:
    malformed JSON -> Alpha Vantage. NVDA: slower than HTTP_TIMEOUT -> Alpha Vantage.
    No grouped daily route: counted, and the per-ticker calls fill in."""
    tickers("AAPL", "MSFT", "IBM", "NVDA", closes={"AAPL": 10, "MSFT": 20, "IBM": 30, "NVDA": 40})
    splits_synced_today()
    s = vendor.script
    s["polygon", "AAPL"] = [Answer({"status": "ERROR"}, 429, {"Retry-After": "1"}),
                            Answer(polygon_aggs(10))]  # fmt: skip
    s["polygon", "MSFT"] = [Answer(polygon_aggs(20))]
    s["polygon", "IBM"] = [Answer(b'{"status": "OK", "results": [{"o": 1,')]
    s["polygon", "NVDA"] = [Answer(polygon_aggs(99), delay=2.5)]
    for symbol, close in (("AAPL", 10), ("IBM", 30), ("NVDA", 40)):
        s["alphavantage", f"TIME_SERIES_DAILY:{symbol}"] = [Answer(alpha_daily(close))]

    started = time.monotonic()
    out = refresh()
    elapsed = time.monotonic() - started

    closes = dict(DailyBar.objects.filter(date=TUESDAY).values_list("ticker__symbol", "close"))
    assert {k: float(v) for k, v in closes.items()} == {
        "AAPL": 10, "MSFT": 20, "IBM": 30, "NVDA": 40
    }  # fmt: skip
    sources = dict(DailyBar.objects.filter(date=TUESDAY).values_list("ticker__symbol", "source"))
    assert sources == {"AAPL": "alphavantage", "MSFT": "polygon", "IBM": "alphavantage",
                       "NVDA": "alphavantage"}  # fmt: skip
    # one adjustment basis: every stored bar has its split-adjusted close
    assert not DailyBar.objects.filter(date__gt=FRIDAY, adj_close__isnull=True).exists()
    assert vendor.hits["polygon", "AAPL"] == 1  # no blind retry: the budget waits instead
    assert vendor.hits["polygon", "MSFT"] == 1
    assert vendor.hits["polygon", "NVDA"] == 1  # a read timeout is not retried
    assert vendor.hits["polygon", "snapshot"] == 0  # the market is closed: no quote calls
    assert "via_alphavantage 3" in out and "via_polygon 1" in out
    assert 1 <= elapsed < 15  # Retry-After honoured, the slow answer cut at 1 s
    assert JobRun.objects.latest("started_at").status == JobRun.Status.SUCCEEDED


def test_a_vendor_rate_limited_out_of_the_run_turns_it_red(vendor, settings):
    """Polygon answers 429 with a Retry-After longer than the run's time budget: it is left
    out of the run (no further call), Alpha Vantage serves every ticker, and the run exits
    non-zero naming the vendor and the ticker it happened on: the vendor's own limit cost
    the run work our budget allowed."""
    settings.REFRESH_TIME_BUDGET_SECONDS = 5
    tickers("AAPL", "MSFT", closes={"AAPL": 11, "MSFT": 22})
    splits_synced_today()
    vendor.script["polygon", "AAPL"] = [Answer({"status": "ERROR"}, 429, {"Retry-After": "600"})]
    vendor.script["alphavantage", "TIME_SERIES_DAILY:AAPL"] = [Answer(alpha_daily(11))]
    vendor.script["alphavantage", "TIME_SERIES_DAILY:MSFT"] = [Answer(alpha_daily(22))]
    with pytest.raises(
        CommandError, match=r"rate-limited out of the run: polygon \(AAPL\): HTTP 429"
    ):
        refresh()
    assert vendor.hits["polygon", "MSFT"] == 0  # not asked again in this run
    assert set(DailyBar.objects.filter(date=TUESDAY).values_list("source", flat=True)) == {
        "alphavantage"
    }
