"""Finnhub: quote and company profile (candles, splits and dividends are premium there).
The token goes in the `X-Finnhub-Token` header. No batching: quotes() asks one by one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from markets.providers.base import (
    NotFound,
    Provider,
    ProviderError,
    QuoteRecord,
    TickerInfo,
    from_epoch,
    normalize_exchange,
    require_decimal,
    to_decimal,
)

NAME = "finnhub"


class FinnhubProvider(Provider):
    name = NAME
    base_url = "https://finnhub.io/api/v1"

    def quote(self, symbol: str) -> QuoteRecord:
        payload = self._get("/quote", symbol)
        with self.parsing(symbol):
            return parse_quote(payload, symbol)

    def ticker_details(self, symbol: str) -> TickerInfo:
        payload = self._get("/stock/profile2", symbol)
        if not payload:
            raise NotFound("empty profile", vendor=self.name, symbol=symbol)
        with self.parsing(symbol):
            return parse_profile(payload, symbol)

    def _get(self, path: str, symbol: str) -> dict[str, Any]:
        payload = self.get_json(
            self.base_url + path,
            params={"symbol": symbol},
            headers={"X-Finnhub-Token": self.api_key},
            symbol=symbol,
        )
        if not isinstance(payload, dict):
            raise ProviderError(
                "expected a JSON object", permanent=False, vendor=self.name, symbol=symbol
            )
        if isinstance(payload.get("error"), str):
            raise ProviderError(
                payload["error"][:200], permanent=False, vendor=self.name, symbol=symbol
            )
        return payload


def parse_quote(payload: dict[str, Any], symbol: str) -> QuoteRecord:
    """Fields c (price), d (change), dp (change %), t (epoch s). An unknown symbol comes back
    as HTTP 200 with every number 0 (or null) and t=0."""
    if not payload.get("t") and not to_decimal(payload.get("c")):
        raise NotFound("unknown symbol (empty quote)", vendor=NAME, symbol=symbol)
    return QuoteRecord(
        symbol=symbol,
        price=require_decimal(payload["c"]),
        change=to_decimal(payload.get("d")),
        change_pct=to_decimal(payload.get("dp")),
        volume=None,  # /quote has no volume
        as_of=from_epoch(payload["t"]),
        source=NAME,
    )


def parse_profile(payload: dict[str, Any], symbol: str) -> TickerInfo:
    """`marketCapitalization` is in millions."""
    cap = to_decimal(payload.get("marketCapitalization"))
    return TickerInfo(
        symbol=payload.get("ticker") or symbol,
        name=payload.get("name") or "",
        exchange=normalize_exchange(payload.get("exchange")),
        sector="",
        industry=payload.get("finnhubIndustry") or "",
        market_cap=int(cap * Decimal(1_000_000)) if cap else None,
        currency=(payload.get("currency") or "").upper(),
        country=(payload.get("country") or "").upper(),
        source=NAME,
    )
