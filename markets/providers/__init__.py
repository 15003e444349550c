"""Market-data vendors behind one interface, and the failover that tries them in order.

session = make_session()
providers = build_providers(["polygon", "finnhub", "alphavantage"], keys, session)
fetched = FailoverProvider(providers).quotes(["AAPL", "MSFT"])
fetched.results   # {"AAPL": QuoteRecord(..., source="polygon"), ...}
fetched.errors    # {"MSFT": AllProvidersFailed(...)}: count it, go on with the next ticker
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

import requests

from markets.providers.alphavantage import AlphaVantageProvider
from markets.providers.base import (
    BadResponse,
    Bar,
    BudgetSpent,
    Dividend,
    NotEntitled,
    NotFound,
    Provider,
    ProviderError,
    QuoteRecord,
    RateLimited,
    Split,
    TickerInfo,
)
from markets.providers.finnhub import FinnhubProvider
from markets.providers.polygon import PolygonProvider

__all__ = [
    "PROVIDERS",
    "AllProvidersFailed",
    "AlphaVantageProvider",
    "BadResponse",
    "Bar",
    "BudgetSpent",
    "Dividend",
    "FailoverProvider",
    "Fetched",
    "FinnhubProvider",
    "NotEntitled",
    "NotFound",
    "PolygonProvider",
    "Provider",
    "ProviderError",
    "QuoteRecord",
    "RateLimited",
    "Split",
    "TickerInfo",
    "build_providers",
]

PROVIDERS: dict[str, type[Provider]] = {
    PolygonProvider.name: PolygonProvider,
    FinnhubProvider.name: FinnhubProvider,
    AlphaVantageProvider.name: AlphaVantageProvider,
}

T = TypeVar("T")


def build_providers(
    order: Iterable[str],
    keys: Mapping[str, str],
    session: requests.Session,
    base_urls: Mapping[str, str] | None = None,
    *,
    budgets: bool = False,
) -> list[Provider]:
    """Adapters in `order`, skipping vendors without a key, each at its `base_urls` entry
    when one is given (settings: POLYGON_BASE_URL, ...). An unknown name is a typo in
    settings and raises ValueError. `budgets`: every call of each adapter draws on the
    vendor's shared budget (markets.budget.budget_for(vendor, key=...))."""
    from markets.budget import budget_for

    base_urls = base_urls or {}
    providers: list[Provider] = []
    for raw in order:
        name = raw.strip().lower()
        if name not in PROVIDERS:
            raise ValueError(f"unknown market-data provider {raw!r}; known: {sorted(PROVIDERS)}")
        if keys.get(name) and all(p.name != name for p in providers):
            budget = budget_for(name, key=keys[name]) if budgets else None
            providers.append(
                PROVIDERS[name](keys[name], session, base_url=base_urls.get(name), budget=budget)
            )
    return providers


class AllProvidersFailed(ProviderError):
    """No vendor answered for this symbol. Permanent only when every vendor said so
    (e.g. all NotFound); `attempts` holds each vendor's error, in order."""

    def __init__(self, symbol: str, attempts: list[ProviderError], what: str) -> None:
        message = "; ".join(str(a) for a in attempts) or f"no provider offers {what}"
        permanent = all(a.permanent for a in attempts)
        super().__init__(message, permanent=permanent, vendor="failover", symbol=symbol)
        self.attempts = attempts


@dataclass
class Fetched(Generic[T]):
    """Per-symbol outcome: each asked symbol is in exactly one of `results` and `errors`;
    `sources` names the vendor behind each result."""

    results: dict[str, T] = field(default_factory=dict)
    errors: dict[str, ProviderError] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


class FailoverProvider:
    """Asks the providers in order, per symbol:

    1. a vendor that raises NotImplementedError, or NotEntitled (its plan lacks the
       capability), is skipped for the method;
    2. a vendor that raises ProviderError: the next vendor is asked for that symbol;
    3. a vendor that raises RateLimited is not asked again during this call;
    4. daily_bars only: an empty list is a miss too (the caller asks for ranges that hold
       sessions); if every vendor answers empty the result is [];
    5. a symbol nobody could answer gets AllProvidersFailed in `errors`.
    """

    def __init__(self, providers: Sequence[Provider]) -> None:
        self.providers = list(providers)

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> Fetched[list[Bar]]:
        return self._each(
            symbols, "daily_bars", lambda p, s: p.daily_bars(s, start, end), empty_is_miss=True
        )

    def ticker_details(self, symbols: Iterable[str]) -> Fetched[TickerInfo]:
        return self._each(symbols, "ticker_details", lambda p, s: p.ticker_details(s))

    def splits(self, symbols: Iterable[str]) -> Fetched[list[Split]]:
        return self._each(symbols, "splits", lambda p, s: p.splits(s))

    def dividends(self, symbols: Iterable[str]) -> Fetched[list[Dividend]]:
        return self._each(symbols, "dividends", lambda p, s: p.dividends(s))

    def quotes(self, symbols: Iterable[str]) -> Fetched[QuoteRecord]:
        """Batching vendors get every pending symbol in one quotes() call; the others are
        asked one symbol at a time."""
        pending = _unique(symbols)
        attempts: dict[str, list[ProviderError]] = defaultdict(list)
        fetched: Fetched[QuoteRecord] = Fetched()
        for provider in self.providers:
            if not pending:
                break
            try:
                if provider.batch_quotes:
                    self._batch_quotes(provider, pending, fetched, attempts)
                else:
                    self._single_quotes(provider, pending, fetched, attempts)
            except (NotImplementedError, NotEntitled):
                continue
            except ProviderError as exc:
                for symbol in pending:
                    attempts[symbol].append(exc)
            pending = [s for s in pending if s not in fetched.results]
        for symbol in pending:
            fetched.errors[symbol] = AllProvidersFailed(symbol, attempts[symbol], "quotes")
        return fetched

    @staticmethod
    def _batch_quotes(
        provider: Provider,
        pending: list[str],
        fetched: Fetched[QuoteRecord],
        attempts: dict[str, list[ProviderError]],
    ) -> None:
        found = provider.quotes(pending)
        for symbol in pending:
            if symbol in found:
                fetched.results[symbol] = found[symbol]
                fetched.sources[symbol] = provider.name
            else:
                attempts[symbol].append(
                    NotFound("not in the batch answer", vendor=provider.name, symbol=symbol)
                )

    @staticmethod
    def _single_quotes(
        provider: Provider,
        pending: list[str],
        fetched: Fetched[QuoteRecord],
        attempts: dict[str, list[ProviderError]],
    ) -> None:
        for i, symbol in enumerate(pending):
            try:
                fetched.results[symbol] = provider.quote(symbol)
                fetched.sources[symbol] = provider.name
            except RateLimited as exc:
                for rest in pending[i:]:
                    attempts[rest].append(exc)
                return
            except ProviderError as exc:
                attempts[symbol].append(exc)

    def _each(
        self,
        symbols: Iterable[str],
        what: str,
        call: Callable[[Provider, str], T],
        *,
        empty_is_miss: bool = False,
    ) -> Fetched[T]:
        fetched: Fetched[T] = Fetched()
        skip: dict[str, ProviderError | None] = {}  # vendor -> why (None: unsupported)
        for symbol in _unique(symbols):
            attempts: list[ProviderError] = []
            empty: tuple[str, T] | None = None
            for provider in self.providers:
                if provider.name in skip:
                    if (why := skip[provider.name]) is not None:
                        attempts.append(why)
                    continue
                try:
                    value = call(provider, symbol)
                except (NotImplementedError, NotEntitled):
                    skip[provider.name] = None
                    continue
                except RateLimited as exc:
                    skip[provider.name] = exc
                    attempts.append(exc)
                    continue
                except ProviderError as exc:
                    attempts.append(exc)
                    continue
                if empty_is_miss and not value:
                    empty = empty or (provider.name, value)
                    continue
                fetched.results[symbol] = value
                fetched.sources[symbol] = provider.name
                break
            else:
                if empty is not None:
                    fetched.sources[symbol], fetched.results[symbol] = empty
                else:
                    fetched.errors[symbol] = AllProvidersFailed(symbol, attempts, what)
        return fetched


def _unique(symbols: Iterable[str]) -> list[str]:
    if isinstance(symbols, str):
        symbols = [symbols]
    return list(dict.fromkeys(symbols))
