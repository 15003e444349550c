"""Polygon.io (now also served as Massive): daily aggregates, multi-ticker snapshot,
ticker details, splits, dividends. The key goes in an `Authorization: Bearer` header, so it
never appears in a URL, and `next_url` pages can be followed as they are."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote as urlquote
from urllib.parse import urlsplit

from markets.providers.base import (
    NEW_YORK,
    BadResponse,
    Bar,
    Dividend,
    NotFound,
    Provider,
    ProviderError,
    QuoteRecord,
    Split,
    TickerInfo,
    from_epoch,
    normalize_exchange,
    require_decimal,
    to_date,
    to_decimal,
    to_int,
)

NAME = "polygon"


class PolygonProvider(Provider):
    name = NAME
    base_url = "https://api.polygon.io"
    batch_quotes = True
    SNAPSHOT_CHUNK: ClassVar[int] = 100  # tickers per snapshot call
    MAX_PAGES: ClassVar[int] = 50

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        path = f"/v2/aggs/ticker/{_path(symbol)}/range/1/day/{start:%Y-%m-%d}/{end:%Y-%m-%d}"
        params = {"adjusted": "true", "sort": "asc", "limit": 50000}
        bars: list[Bar] = []
        for page in self._pages(path, params, symbol):
            with self.parsing(symbol):
                bars.extend(parse_aggs(page, symbol))
        return [bar for bar in bars if start <= bar.date <= end]

    def previous_close(self, symbol: str) -> Bar:
        """The last complete session's bar (GET /v2/aggs/ticker/{sym}/prev)."""
        payload = self._get(f"/v2/aggs/ticker/{_path(symbol)}/prev", {"adjusted": "true"}, symbol)
        with self.parsing(symbol):
            bars = parse_aggs(payload, symbol)
        if not bars:
            raise NotFound("no previous close", vendor=self.name, symbol=symbol)
        return bars[-1]

    def quote(self, symbol: str) -> QuoteRecord:
        found = self.quotes([symbol])
        if symbol not in found:
            raise NotFound("not in snapshot", vendor=self.name, symbol=symbol)
        return found[symbol]

    def quotes(self, symbols: Iterable[str]) -> dict[str, QuoteRecord]:
        wanted = {s.upper(): s for s in symbols}
        asked = list(wanted)
        found: dict[str, QuoteRecord] = {}
        for i in range(0, len(asked), self.SNAPSHOT_CHUNK):
            chunk = asked[i : i + self.SNAPSHOT_CHUNK]
            payload = self._get(
                "/v2/snapshot/locale/us/markets/stocks/tickers",
                {"tickers": ",".join(chunk)},
                capability="snapshot",  # not on the free tier: a 403 is remembered for a day
            )
            with self.parsing(None):
                items = list(payload.get("tickers") or [])
            for item in items:
                try:
                    with self.parsing(None):
                        record = parse_snapshot_ticker(item)
                except BadResponse:
                    continue  # left out: the failover asks the next vendor for it
                if record.symbol.upper() in wanted:
                    original = wanted[record.symbol.upper()]
                    found[original] = replace(record, symbol=original)
        return found

    def grouped_daily(self, day: date) -> list[Bar]:
        """Every US stock's bar for one session in one call, split-adjusted like daily_bars
        (adjusted=true), so it continues stored history. Empty on a day without a session."""
        payload = self._get(
            f"/v2/aggs/grouped/locale/us/market/stocks/{day:%Y-%m-%d}", {"adjusted": "true"}
        )
        with self.parsing(None):
            return parse_grouped(payload, day)

    def reference_page(
        self,
        what: str,
        *,
        cursor: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> tuple[list[Any], str | None]:
        """One page (1000 rows) of a market-wide reference list and the cursor of the next
        page (None on the last), so a caller can stop and resume between pages:

        - "tickers": the active US stock listing (ticker, name, type, exchange) as
          TickerInfo; ~12 pages hold every US listing;
        - "splits": Split records executed in [since, until], all tickers;
        - "dividends": Dividend records going ex in [since, until], all tickers.
        """
        path, field_name, parse = REFERENCE[what]
        if cursor:
            params: dict[str, Any] = {"cursor": cursor}
        elif what == "tickers":
            params = {"market": "stocks", "active": "true", "limit": 1000, "sort": "ticker"}
        else:
            params = {"limit": 1000}
            if since:
                params[f"{field_name}.gte"] = f"{since:%Y-%m-%d}"
            if until:
                params[f"{field_name}.lte"] = f"{until:%Y-%m-%d}"
        payload = self._get(path, params)
        with self.parsing(None):
            records = parse(payload)
        return records, next_cursor(payload.get("next_url"))

    def ticker_details(self, symbol: str) -> TickerInfo:
        payload = self._get(f"/v3/reference/tickers/{_path(symbol)}", None, symbol)
        with self.parsing(symbol):
            return parse_ticker_details(payload)

    def splits(self, symbol: str) -> list[Split]:
        found: list[Split] = []
        for page in self._pages("/v3/reference/splits", {"ticker": symbol, "limit": 1000}, symbol):
            with self.parsing(symbol):
                found.extend(parse_splits(page, symbol))
        return sorted(found, key=lambda s: s.ex_date)

    def dividends(self, symbol: str) -> list[Dividend]:
        found: list[Dividend] = []
        params = {"ticker": symbol, "limit": 1000}
        for page in self._pages("/v3/reference/dividends", params, symbol):
            with self.parsing(symbol):
                found.extend(parse_dividends(page, symbol))
        return sorted(found, key=lambda d: d.ex_date)

    # -- transport --

    def _get(
        self,
        path_or_url: str,
        params: dict[str, Any] | None,
        symbol: str | None = None,
        *,
        capability: str | None = None,
    ):
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        payload = self.get_json(
            url,
            params=params,
            headers={"Authorization": f"Bearer {self.api_key}"},
            symbol=symbol,
            capability=capability,
        )
        if not isinstance(payload, dict):
            raise BadResponse("expected a JSON object", vendor=self.name, symbol=symbol)
        status = payload.get("status")
        if status == "NOT_FOUND":
            raise NotFound(payload.get("message", "not found"), vendor=self.name, symbol=symbol)
        if status in ("ERROR", "NOT_AUTHORIZED"):
            message = str(payload.get("error") or payload.get("message") or status)[:200]
            raise ProviderError(
                message, permanent=status == "NOT_AUTHORIZED", vendor=self.name, symbol=symbol
            )
        return payload

    def _pages(
        self, path: str, params: dict[str, Any], symbol: str | None
    ) -> Iterator[dict[str, Any]]:
        """The first page, then every `next_url`. Our key goes only to base_url: a next_url
        on base_url's host or on one of Polygon's own hosts (it now answers as
        api.massive.com) is asked of base_url with the same path and query; any other host
        is refused."""
        payload = self._get(path, params, symbol)
        yield payload
        for _ in range(self.MAX_PAGES - 1):
            next_url = payload.get("next_url")
            if not next_url:
                return
            payload = self._get(self._same_host(next_url, symbol), None, symbol)
            yield payload

    def _same_host(self, next_url: Any, symbol: str | None) -> str:
        parts = urlsplit(str(next_url))
        ours = urlsplit(self.base_url)
        if (parts.scheme != "https" and parts.netloc != ours.netloc) or (
            parts.netloc != ours.netloc and parts.netloc not in VENDOR_HOSTS
        ):
            raise BadResponse("next_url points off-host", vendor=self.name, symbol=symbol)
        base_path = ours.path.rstrip("/")
        path = parts.path if parts.path.startswith(base_path + "/") else base_path + parts.path
        return f"{ours.scheme}://{ours.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


VENDOR_HOSTS = frozenset({"api.polygon.io", "api.massive.com"})


def _path(symbol: str) -> str:
    return urlquote(symbol, safe="")


def next_cursor(next_url: Any) -> str | None:
    """The `cursor` query parameter of a `next_url`, or None."""
    if not isinstance(next_url, str) or not next_url:
        return None
    from urllib.parse import parse_qs

    values = parse_qs(urlsplit(next_url).query).get("cursor")
    return values[0] if values else None


# Polygon's ticker `type` -> Ticker.asset_type; types not listed (warrants, rights, units,
# preferred, bonds, ...) are not tracked.
ASSET_TYPES = {
    "CS": "stock",
    "ADRC": "stock",
    "OS": "stock",
    "GDR": "stock",
    "ETF": "etf",
    "ETN": "etf",
    "ETV": "etf",
    "ETS": "etf",
    "FUND": "etf",
    "INDEX": "index",
}


# --- parsers (pure: payload in, records out) ---------------------------------------------------


def parse_aggs(payload: dict[str, Any], symbol: str) -> list[Bar]:
    """Aggregates (also /prev). `t` is the session's midnight in New York, in epoch ms."""
    bars = []
    for row in payload.get("results") or []:
        close = require_decimal(row["c"])
        bars.append(
            Bar(
                symbol=symbol,
                date=from_epoch(row["t"], unit=1_000).astimezone(NEW_YORK).date(),
                open=require_decimal(row["o"]),
                high=require_decimal(row["h"]),
                low=require_decimal(row["l"]),
                close=close,
                adj_close=close if payload.get("adjusted", True) else None,
                volume=int(row["v"]),
                source=NAME,
            )
        )
    return bars


def _parse_reference_tickers(payload: dict[str, Any]) -> list[TickerInfo]:
    return [parse_reference_ticker(row) for row in payload.get("results") or []]


REFERENCE: dict[str, tuple[str, str, Any]] = {
    "tickers": ("/v3/reference/tickers", "", _parse_reference_tickers),
    "splits": ("/v3/reference/splits", "execution_date", lambda p: parse_splits(p, None)),
    "dividends": (
        "/v3/reference/dividends",
        "ex_dividend_date",
        lambda p: parse_dividends(p, None),
    ),
}


def parse_grouped(payload: dict[str, Any], day: date) -> list[Bar]:
    """Grouped daily: one row per ticker (`T`) for the session asked for. The date is the
    one asked (the endpoint answers for that session only)."""
    adjusted = payload.get("adjusted", True)
    bars = []
    for row in payload.get("results") or []:
        close = require_decimal(row["c"])
        bars.append(
            Bar(
                symbol=str(row["T"]),
                date=day,
                open=require_decimal(row["o"]),
                high=require_decimal(row["h"]),
                low=require_decimal(row["l"]),
                close=close,
                adj_close=close if adjusted else None,
                volume=int(Decimal(str(row.get("v") or 0))),
                source=NAME,
            )
        )
    return bars


def parse_reference_ticker(row: dict[str, Any]) -> TickerInfo:
    return TickerInfo(
        symbol=row["ticker"],
        name=row.get("name") or "",
        exchange=normalize_exchange(row.get("primary_exchange")),
        sector="",
        industry="",
        market_cap=None,
        currency=(row.get("currency_name") or "").upper(),
        country=(row.get("locale") or "").upper(),
        source=NAME,
        asset_type=ASSET_TYPES.get(str(row.get("type") or "").upper(), ""),
    )


def parse_snapshot_ticker(item: dict[str, Any]) -> QuoteRecord:
    """One entry of the snapshot `tickers` list (or the `ticker` object of the single-ticker
    snapshot). Price: last trade, else the last minute bar, the day's close, yesterday's close
    (the day bar is empty before the open, and lastTrade needs a higher plan)."""
    day = item.get("day") or {}
    last_trade = item.get("lastTrade") or {}
    minute = item.get("min") or {}
    prev = item.get("prevDay") or {}
    price = (
        to_decimal(last_trade.get("p"))
        or to_decimal(minute.get("c"))
        or to_decimal(day.get("c"))
        or require_decimal(prev.get("c"))
    )
    updated = item.get("updated") or last_trade.get("t")
    if not updated:
        raise ValueError("snapshot has no timestamp")
    return QuoteRecord(
        symbol=item["ticker"],
        price=price,
        change=to_decimal(item.get("todaysChange")),
        change_pct=to_decimal(item.get("todaysChangePerc")),
        volume=to_int(day.get("v")),
        as_of=from_epoch(updated, unit=1_000_000_000),
        source=NAME,
    )


def parse_ticker_details(payload: dict[str, Any]) -> TickerInfo:
    row = payload["results"]
    return TickerInfo(
        symbol=row["ticker"],
        name=row.get("name") or "",
        exchange=normalize_exchange(row.get("primary_exchange")),
        sector="",  # Polygon has only the SIC description, kept as industry
        industry=row.get("sic_description") or "",
        market_cap=to_int(row.get("market_cap")),
        currency=(row.get("currency_name") or "").upper(),
        country=(row.get("locale") or "").upper(),
        source=NAME,
        asset_type=ASSET_TYPES.get(str(row.get("type") or "").upper(), ""),
    )


def parse_splits(payload: dict[str, Any], symbol: str | None) -> list[Split]:
    """Splits of `symbol`, or of every ticker in the page (symbol None)."""
    return [
        Split(
            symbol=symbol or row["ticker"],
            ex_date=date.fromisoformat(row["execution_date"]),
            ratio_from=require_decimal(row["split_from"]),
            ratio_to=require_decimal(row["split_to"]),
            source=NAME,
        )
        for row in payload.get("results") or []
        if symbol is None or row["ticker"].upper() == symbol.upper()
    ]


def parse_dividends(payload: dict[str, Any], symbol: str | None) -> list[Dividend]:
    return [
        Dividend(
            symbol=symbol or row["ticker"],
            ex_date=date.fromisoformat(row["ex_dividend_date"]),
            pay_date=to_date(row.get("pay_date")),
            amount=require_decimal(row["cash_amount"]),
            currency=(row.get("currency") or "USD").upper(),
            record_date=to_date(row.get("record_date")),
            declaration_date=to_date(row.get("declaration_date")),
            frequency=to_int(row.get("frequency")),
            source=NAME,
        )
        for row in payload.get("results") or []
        if symbol is None or row["ticker"].upper() == symbol.upper()
    ]
