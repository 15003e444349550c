"""A local fake of the three market-data vendors' FREE tiers, over real HTTP on 127.0.0.1.

It enforces what the free keys allow (all limits are settings of `FreeTierLimits`):
1. Polygon Basic: `polygon_per_minute` calls in any rolling minute, else 429 (no
   Retry-After, as Polygon); snapshots are not entitled (403 NOT_AUTHORIZED); aggregates,
   grouped daily and the reference lists (paged, 1000 a page, `next_url` on Polygon's own
   host) are.
2. Finnhub free: `finnhub_per_minute` calls a minute, else 429; /quote only.
3. Alpha Vantage free: `alphavantage_per_day` calls a day and `alphavantage_per_minute` a
   minute, answered as Alpha Vantage does: HTTP 200 with an "Information"/"Note" text that
   ECHOES THE API KEY. TIME_SERIES_DAILY is as traded (not split-adjusted).

Its market is deterministic: each symbol's split-adjusted close on each NYSE session is a
function of (symbol, date); as-traded prices are that times the splits after the date.
`clock` is injectable so a benchmark can run days of hourly jobs in virtual time.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from markets import calendar

NEW_YORK = ZoneInfo("America/New_York")
POLYGON_HOST = "https://api.polygon.io"  # what next_url names (the real host, not ours)


@dataclass
class FreeTierLimits:
    polygon_per_minute: int = 5
    polygon_snapshots: bool = False
    finnhub_per_minute: int = 60
    alphavantage_per_minute: int = 5
    alphavantage_per_day: int = 25
    page_size: int = 1000


@dataclass
class FakeMarket:
    """Symbols (-> Polygon type), splits (symbol -> [(ex_date, from, to)]), dividends."""

    symbols: dict[str, str] = field(default_factory=dict)
    splits: dict[str, list[tuple[date, int, int]]] = field(default_factory=dict)
    dividends: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)

    @classmethod
    def of(cls, n: int, *, etf_every: int = 10, warrants: int = 0) -> FakeMarket:
        symbols = {}
        for i in range(n):
            symbols[f"S{i:04d}"] = "ETF" if etf_every and i % etf_every == 9 else "CS"
        for i in range(warrants):
            symbols[f"W{i:04d}"] = "WARRANT"
        return cls(symbols=symbols)

    def adjusted_close(self, symbol: str, day: date) -> Decimal:
        base = 10 + sum(map(ord, symbol)) % 90
        return Decimal(base) + Decimal(day.toordinal() % 7) / 4

    def split_factor(self, symbol: str, day: date) -> Decimal:
        """As traded = adjusted x this (splits with an ex-date after `day`)."""
        factor = Decimal(1)
        for ex_date, ratio_from, ratio_to in self.splits.get(symbol, []):
            if ex_date > day:
                factor *= Decimal(ratio_to) / Decimal(ratio_from)
        return factor

    def bar(self, symbol: str, day: date, *, adjusted: bool) -> dict[str, Decimal | int]:
        close = self.adjusted_close(symbol, day)
        factor = Decimal(1) if adjusted else self.split_factor(symbol, day)
        return {
            "o": (close - Decimal("0.1")) * factor,
            "h": (close + Decimal("0.5")) * factor,
            "l": (close - Decimal("0.5")) * factor,
            "c": close * factor,
            "v": int(1000 / factor),
        }


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=NEW_YORK).timestamp() * 1000)


class _Json(json.JSONEncoder):
    def default(self, o):
        return float(o) if isinstance(o, Decimal) else super().default(o)


class FreeTierVendor:
    def __init__(
        self,
        market: FakeMarket,
        *,
        limits: FreeTierLimits | None = None,
        keys: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.market = market
        self.limits = limits or FreeTierLimits()
        self.keys = keys or {"polygon": "pk-free", "finnhub": "fh-free", "alphavantage": "AVKEY123"}
        self.clock = clock
        self.today = today or (lambda: datetime.fromtimestamp(self.clock(), UTC).date())
        self.calls: Counter[str] = Counter()  # "polygon:grouped", "alphavantage:day-cap", ...
        self.bytes_sent = 0
        self._windows: dict[str, deque[float]] = defaultdict(deque)
        self._days: Counter[tuple[str, date]] = Counter()
        self._lock = threading.Lock()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body, headers = vendor.route(self.path, dict(self.headers))
                data = json.dumps(body, cls=_Json).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    vendor.bytes_sent += len(data)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def settings(self, settings) -> None:
        """Point a pytest-django `settings` (or any settings object) at this vendor."""
        settings.POLYGON_API_KEY = self.keys["polygon"]
        settings.FINNHUB_API_KEY = self.keys["finnhub"]
        settings.ALPHA_VANTAGE_API_KEY = self.keys["alphavantage"]
        settings.POLYGON_BASE_URL = f"{self.url}/polygon"
        settings.FINNHUB_BASE_URL = f"{self.url}/finnhub"
        settings.ALPHA_VANTAGE_BASE_URL = f"{self.url}/alphavantage/query"
        settings.POLYGON_CALLS_PER_MINUTE = self.limits.polygon_per_minute
        settings.FINNHUB_CALLS_PER_MINUTE = self.limits.finnhub_per_minute
        settings.ALPHA_VANTAGE_CALLS_PER_MINUTE = self.limits.alphavantage_per_minute
        settings.ALPHA_VANTAGE_CALLS_PER_DAY = self.limits.alphavantage_per_day

    def reset_minute(self) -> None:
        """A minute went by (tests that do not wait for one)."""
        with self._lock:
            self._windows.clear()

    def spend_day(self, vendor: str, n: int) -> None:
        with self._lock:
            self._days[vendor, self.today()] += n

    # -- limits --

    def _over_minute(self, vendor: str, limit: int) -> bool:
        now = self.clock()
        with self._lock:
            window = self._windows[vendor]
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= limit:
                return True
            window.append(now)
            return False

    # -- routing --

    def route(self, path: str, headers: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/polygon/"):
            return self._polygon(parts.path.removeprefix("/polygon"), query, headers)
        if parts.path.startswith("/finnhub/"):
            return self._finnhub(parts.path.removeprefix("/finnhub"), query, headers)
        if parts.path.startswith("/alphavantage/"):
            return self._alphavantage(query)
        return 404, {"error": "no such route"}, {}

    def _polygon(self, path: str, query: dict[str, str], headers: dict[str, str]):
        if "cursor" in query:  # a next page: the first page's filters and offset
            query = {**query, **json.loads(base64.urlsafe_b64decode(query["cursor"]).decode())}
            query = {k: str(v) for k, v in query.items()}
        if headers.get("Authorization") != f"Bearer {self.keys['polygon']}":
            self.calls["polygon:401"] += 1
            return 401, {"status": "ERROR", "error": "Unknown API Key"}, {}
        if self._over_minute("polygon", self.limits.polygon_per_minute):
            self.calls["polygon:429"] += 1
            return 429, {"status": "ERROR", "error": "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue. https://polygon.io/pricing"}, {}  # fmt: skip
        seg = path.strip("/").split("/")
        if path.startswith("/v2/snapshot/"):
            self.calls["polygon:snapshot"] += 1
            if not self.limits.polygon_snapshots:
                return 403, {"status": "NOT_AUTHORIZED", "message": "You are not entitled to this data. Please upgrade your plan at https://polygon.io/pricing"}, {}  # fmt: skip
            return 200, {"status": "OK", "tickers": []}, {}
        if path.startswith("/v2/aggs/grouped/"):
            self.calls["polygon:grouped"] += 1
            day = date.fromisoformat(seg[-1])
            rows = []
            if calendar.is_session(day) and day <= self.today():
                for symbol in self.market.symbols:
                    rows.append({"T": symbol, **self.market.bar(symbol, day, adjusted=True),
                                 "t": _ms(day), "n": 10})  # fmt: skip
            return 200, {"status": "OK", "adjusted": True, "resultsCount": len(rows),
                         "results": rows}, {}  # fmt: skip
        if path.startswith("/v2/aggs/ticker/"):
            self.calls["polygon:aggs"] += 1
            symbol, start, end = seg[3], date.fromisoformat(seg[7]), date.fromisoformat(seg[8])
            adjusted = query.get("adjusted", "true") == "true"
            rows = []
            if symbol in self.market.symbols:
                for day in calendar.sessions(start, min(end, self.today())):
                    rows.append({**self.market.bar(symbol, day, adjusted=adjusted), "t": _ms(day)})
            return 200, {"status": "OK", "ticker": symbol, "adjusted": adjusted,
                         "resultsCount": len(rows), "results": rows}, {}  # fmt: skip
        if path == "/v3/reference/tickers":
            self.calls["polygon:reference_tickers"] += 1
            rows = [
                {"ticker": s, "name": f"{s} Corp", "market": "stocks", "locale": "us",
                 "primary_exchange": "XNAS", "type": kind, "active": True,
                 "currency_name": "usd"}
                for s, kind in sorted(self.market.symbols.items())
            ]  # fmt: skip
            return self._page("/v3/reference/tickers", rows, query)
        if path in ("/v3/reference/splits", "/v3/reference/dividends"):
            what = path.rsplit("/", 1)[-1]
            self.calls[f"polygon:reference_{what}"] += 1
            field_name = "execution_date" if what == "splits" else "ex_dividend_date"
            low = query.get(f"{field_name}.gte", "0000")
            high = query.get(f"{field_name}.lte", "9999")
            rows = []
            for symbol in sorted(self.market.symbols):
                if what == "splits":
                    for ex, f, t in self.market.splits.get(symbol, []):
                        rows.append({"ticker": symbol, "execution_date": str(ex),
                                     "split_from": f, "split_to": t})  # fmt: skip
                else:
                    for ex, amount in self.market.dividends.get(symbol, []):
                        rows.append({"ticker": symbol, "ex_dividend_date": str(ex),
                                     "cash_amount": amount, "frequency": 4,
                                     "pay_date": str(ex + timedelta(days=14))})  # fmt: skip
            rows = [r for r in rows if low <= r[field_name] <= high]
            return self._page(path, rows, query)
        if path.startswith("/v3/reference/tickers/"):
            self.calls["polygon:details"] += 1
            symbol = seg[-1]
            if symbol not in self.market.symbols:
                return 404, {"status": "NOT_FOUND", "message": "Ticker not found."}, {}
            return 200, {"status": "OK", "results": {
                "ticker": symbol, "name": f"{symbol} Corp", "primary_exchange": "XNAS",
                "type": self.market.symbols[symbol], "currency_name": "usd", "locale": "us"}}, {}  # fmt: skip
        return 404, {"status": "NOT_FOUND", "message": "no such endpoint"}, {}

    def _page(self, path: str, rows: list, query: dict[str, str]):
        """Rows from the cursor's offset; next_url carries the filters in its cursor."""
        offset = int(query.get("_offset", 0))
        carry = {k: v for k, v in query.items() if "." in k}
        size = min(int(query.get("limit", self.limits.page_size)), self.limits.page_size)
        page = rows[offset : offset + size]
        body: dict[str, object] = {"status": "OK", "results": page, "count": len(page)}
        if offset + size < len(rows):
            state = {**carry, "_offset": offset + size, "limit": size}
            cursor = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
            body["next_url"] = f"{POLYGON_HOST}{path}?cursor={cursor}"
        return 200, body, {}

    def _finnhub(self, path: str, query: dict[str, str], headers: dict[str, str]):
        if headers.get("X-Finnhub-Token") != self.keys["finnhub"]:
            return 401, {"error": "Invalid API key"}, {}
        if self._over_minute("finnhub", self.limits.finnhub_per_minute):
            self.calls["finnhub:429"] += 1
            return (
                429,
                {"error": "API limit reached. Please try again later. Remaining Limit: 0"},
                {},
            )
        if path != "/quote":
            self.calls["finnhub:403"] += 1
            return 403, {"error": "You don't have access to this resource."}, {}
        self.calls["finnhub:quote"] += 1
        symbol = query.get("symbol", "")
        if symbol not in self.market.symbols:
            return 200, {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}, {}
        day = calendar.last_session(self.today())
        close = self.market.adjusted_close(symbol, day)
        return 200, {"c": close, "d": 1, "dp": 1, "h": close, "l": close, "o": close,
                     "pc": close - 1, "t": int(self.clock()) - 60}, {}  # fmt: skip

    def _alphavantage(self, query: dict[str, str]):
        key = query.get("apikey", "")
        if key != self.keys["alphavantage"]:
            return 200, {"Error Message": "the parameter apikey is invalid or missing."}, {}
        today = self.today()
        with self._lock:
            over_day = self._days["alphavantage", today] >= self.limits.alphavantage_per_day
            if not over_day:
                self._days["alphavantage", today] += 1
        if over_day:
            self.calls["alphavantage:day-cap"] += 1
            return 200, {"Information": f"We have detected your API key as {key} and our standard API rate limit is {self.limits.alphavantage_per_day} requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}, {}  # fmt: skip
        if self._over_minute("alphavantage", self.limits.alphavantage_per_minute):
            self.calls["alphavantage:minute"] += 1
            return 200, {"Note": f"Thank you for using Alpha Vantage! Our standard API call frequency is {self.limits.alphavantage_per_minute} calls per minute for API key {key}."}, {}  # fmt: skip
        function, symbol = query.get("function"), query.get("symbol", "")
        self.calls[f"alphavantage:{function}"] += 1
        if symbol not in self.market.symbols:
            return 200, {"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}, {}  # fmt: skip
        last = calendar.last_session(today)
        if function == "TIME_SERIES_DAILY":
            count = 100 if query.get("outputsize", "compact") == "compact" else 5000
            days = calendar.sessions(last - timedelta(days=count * 2), last)[-count:]
            series = {}
            for day in reversed(days):
                bar = self.market.bar(symbol, day, adjusted=False)
                series[str(day)] = {"1. open": str(bar["o"]), "2. high": str(bar["h"]),
                                    "3. low": str(bar["l"]), "4. close": str(bar["c"]),
                                    "5. volume": str(bar["v"])}  # fmt: skip
            return 200, {"Meta Data": {"2. Symbol": symbol}, "Time Series (Daily)": series}, {}
        if function == "GLOBAL_QUOTE":
            close = self.market.adjusted_close(symbol, last)
            return 200, {"Global Quote": {"01. symbol": symbol, "05. price": str(close),
                         "06. volume": "1000", "07. latest trading day": str(last),
                         "09. change": "1", "10. change percent": "1%"}}, {}  # fmt: skip
        return 200, {"Information": "This is a premium endpoint."}, {}
