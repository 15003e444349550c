"""Alpha Vantage: TIME_SERIES_DAILY (as traded, unadjusted), GLOBAL_QUOTE and OVERVIEW.

Alpha Vantage answers most problems with HTTP 200 and a one-key body:
1. `Note` -> RateLimited;
2. `Information` about a premium endpoint or the API key (and not about a rate limit: the
   daily-limit text names "your API key" too) -> ProviderError(permanent), else RateLimited;
3. `Error Message` about the apikey -> ProviderError(permanent), any other (its answer to an
   unknown symbol: "Invalid API call") -> NotFound.
The key must go in the query string, so error messages never quote the URL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from markets.providers.base import (
    NEW_YORK,
    BadResponse,
    Bar,
    NotFound,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    TickerInfo,
    normalize_exchange,
    ny_session_close,
    require_decimal,
    to_decimal,
    to_int,
)

NAME = "alphavantage"
_LIMIT_WORDS = ("rate limit", "call frequency", "requests per", "calls per")
_FATAL_WORDS = ("premium endpoint", "api key", "apikey")


class AlphaVantageProvider(Provider):
    name = NAME
    base_url = "https://www.alphavantage.co/query"
    COMPACT_DAYS: ClassVar[int] = 130  # outputsize=compact is the last 100 sessions

    def daily_bars(self, symbol: str, start: date, end: date) -> list[Bar]:
        today = datetime.now(UTC).date()
        size = "compact" if (today - start) < timedelta(days=self.COMPACT_DAYS) else "full"
        payload = self._query("TIME_SERIES_DAILY", symbol, outputsize=size)
        with self.parsing(symbol):
            bars = parse_daily(payload, symbol)
        return [bar for bar in bars if start <= bar.date <= end]

    def quote(self, symbol: str) -> QuoteRecord:
        payload = self._query("GLOBAL_QUOTE", symbol)
        if not payload.get("Global Quote"):
            raise NotFound("empty global quote", vendor=self.name, symbol=symbol)
        with self.parsing(symbol):
            return parse_global_quote(payload, symbol)

    def ticker_details(self, symbol: str) -> TickerInfo:
        payload = self._query("OVERVIEW", symbol)
        if not payload:
            raise NotFound("empty overview", vendor=self.name, symbol=symbol)
        with self.parsing(symbol):
            return parse_overview(payload, symbol)

    def _query(self, function: str, symbol: str, **params: str) -> dict[str, Any]:
        payload = self.get_json(
            self.base_url,
            params={"function": function, "symbol": symbol, **params, "apikey": self.api_key},
            symbol=symbol,
        )
        if not isinstance(payload, dict):
            raise BadResponse("expected a JSON object", vendor=self.name, symbol=symbol)
        check_body(payload, symbol)
        return payload


def check_body(payload: dict[str, Any], symbol: str | None) -> None:
    """Raise the ProviderError an HTTP-200 Alpha Vantage body stands for, if any."""
    if "Note" in payload:
        raise RateLimited(str(payload["Note"])[:200], vendor=NAME, symbol=symbol)
    if "Information" in payload:
        text = str(payload["Information"])
        lowered = text.lower()
        if not any(w in lowered for w in _LIMIT_WORDS) and any(w in lowered for w in _FATAL_WORDS):
            raise ProviderError(text[:200], permanent=True, vendor=NAME, symbol=symbol)
        raise RateLimited(text[:200], vendor=NAME, symbol=symbol)
    if "Error Message" in payload:
        text = str(payload["Error Message"])
        if "apikey" in text.lower():
            raise ProviderError(text[:200], permanent=True, vendor=NAME, symbol=symbol)
        raise NotFound(text[:200], vendor=NAME, symbol=symbol)


def parse_ohlcv(row: dict[str, str]) -> tuple:
    """("1. open", "2. high", "3. low", "4. close", "5. volume"): daily and intraday share it."""
    return (
        require_decimal(row["1. open"]),
        require_decimal(row["2. high"]),
        require_decimal(row["3. low"]),
        require_decimal(row["4. close"]),
        int(row["5. volume"]),
    )


def parse_daily(payload: dict[str, Any], symbol: str) -> list[Bar]:
    series = payload["Time Series (Daily)"]
    bars = []
    for day, row in series.items():
        open_, high, low, close, volume = parse_ohlcv(row)
        bars.append(
            Bar(
                symbol=symbol,
                date=date.fromisoformat(day),
                open=open_,
                high=high,
                low=low,
                close=close,
                adj_close=None,  # TIME_SERIES_DAILY is as traded
                volume=volume,
                source=NAME,
            )
        )
    return sorted(bars, key=lambda b: b.date)


def parse_global_quote(payload: dict[str, Any], symbol: str) -> QuoteRecord:
    """No timestamp, only "latest trading day": as_of is that day's 16:00 New York close, or
    its 09:30 open while the session is still going (the price is from that session, not
    necessarily from now: a quote never looks fresher than the vendor says it is)."""
    row = payload["Global Quote"]
    day = date.fromisoformat(row["07. latest trading day"])
    return QuoteRecord(
        symbol=row.get("01. symbol") or symbol,
        price=require_decimal(row["05. price"]),
        change=to_decimal(row.get("09. change")),
        change_pct=to_decimal(row.get("10. change percent")),
        volume=to_int(row.get("06. volume")),
        as_of=_quote_time(day),
        source=NAME,
    )


def _quote_time(day: date) -> datetime:
    now = datetime.now(UTC)
    close = ny_session_close(day)
    if close <= now:
        return close
    opened = datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK).astimezone(UTC)
    return min(opened, now)


def parse_overview(payload: dict[str, Any], symbol: str) -> TickerInfo:
    return TickerInfo(
        symbol=payload.get("Symbol") or symbol,
        name=payload.get("Name") or "",
        exchange=normalize_exchange(payload.get("Exchange")),
        sector=_label(payload.get("Sector")),
        industry=_label(payload.get("Industry")),
        market_cap=to_int(payload.get("MarketCapitalization")),
        currency=_text(payload.get("Currency")).upper(),
        country=_text(payload.get("Country")).upper(),
        source=NAME,
    )


def _text(value: Any) -> str:
    return "" if value in (None, "None", "-") else str(value)


def _label(value: Any) -> str:
    """Newer OVERVIEW bodies shout ("TECHNOLOGY"); older ones do not ("Technology")."""
    text = _text(value)
    return text.title() if text.isupper() else text
