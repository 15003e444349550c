"""Reads that the market pages, the API and the quote feed share.

`select_related` is decided here once: a ticker always comes with its quote (a left join),
a quote always with its ticker. Every function runs a fixed number of queries, whatever the
size of the universe (the query budgets in tests/markets/test_query_budgets.py rely on it).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import OrderBy

from markets.models import DailyBar, Quote, Ticker

INDEX_ETFS: tuple[str, ...] = ("SPY", "QQQ", "DIA", "IWM")

# Stocks page sort keys -> the field they order by (nulls last, then by symbol).
TICKER_SORTS: dict[str, str] = {
    "symbol": "symbol",
    "name": "name",
    "sector": "sector",
    "price": "quote__price",
    "change_pct": "quote__change_pct",
    "market_cap": "market_cap",
}


@dataclass(frozen=True)
class Universe:
    tickers: int
    demo: int

    @property
    def is_empty(self) -> bool:
        return self.tickers == 0

    @property
    def is_demo(self) -> bool:
        return self.demo > 0


@dataclass(frozen=True)
class KeyStats:
    last_close: Decimal | None
    last_date: date | None
    high_52w: Decimal | None
    low_52w: Decimal | None
    avg_volume_30d: int | None
    # the latest stored session: its open, high, low and volume, and the session before's close
    day_open: Decimal | None = None
    day_high: Decimal | None = None
    day_low: Decimal | None = None
    previous_close: Decimal | None = None
    day_volume: int | None = None


def universe_summary() -> Universe:
    """How many tickers there are and how many of them are demo (1 query)."""
    counts = Ticker.objects.aggregate(n=Count("id"), demo=Count("id", filter=Q(is_demo=True)))
    return Universe(tickers=counts["n"], demo=counts["demo"])


def ticker_get(*, symbol: str) -> Ticker | None:
    """The ticker with its quote, or None (1 query)."""
    return Ticker.objects.with_quote().filter(symbol=symbol.strip().upper()).first()


def ticker_list(
    *,
    search: str = "",
    sector: str = "",
    asset_type: str = "",
    sort: str = "symbol",
) -> QuerySet[Ticker]:
    """Active tickers with their quotes, filtered and sorted for the stocks page.

    `sort` is a key of TICKER_SORTS, optionally prefixed with "-" for descending; an unknown
    key sorts by symbol.
    """
    qs = Ticker.objects.active().with_quote()
    if search := search.strip():
        qs = qs.filter(Q(symbol__istartswith=search) | Q(name__icontains=search))
    if sector:
        qs = qs.filter(sector=sector)
    if asset_type:
        qs = qs.filter(asset_type=asset_type)
    return qs.order_by(*ticker_ordering(sort))


def ticker_ordering(sort: str) -> tuple[OrderBy, ...]:
    field = F(TICKER_SORTS.get(sort.removeprefix("-"), "symbol"))
    first = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
    return (first, F("symbol").asc())


def sector_list() -> list[str]:
    """Distinct non-empty sectors of active tickers, alphabetically (1 query)."""
    return list(
        Ticker.objects.active()
        .exclude(sector="")
        .order_by("sector")
        .values_list("sector", flat=True)
        .distinct()
    )


def tickers_by_symbol(symbols: Sequence[str]) -> list[Ticker]:
    """The tickers among `symbols` that exist, with their quotes, in the order asked (1 query)."""
    found = {t.symbol: t for t in Ticker.objects.with_quote().filter(symbol__in=list(symbols))}
    return [found[s] for s in symbols if s in found]


def movers(*, limit: int = 5) -> tuple[list[Quote], list[Quote]]:
    """Top gainers and top losers among active stocks by `Quote.change_pct` (2 queries).

    A gainer has a positive change and a loser a negative one, so a flat day shows fewer.
    """
    base = Quote.objects.latest_per_ticker().filter(
        ticker__active=True, ticker__asset_type=Ticker.AssetType.STOCK, change_pct__isnull=False
    )
    gainers = list(base.filter(change_pct__gt=0).order_by("-change_pct", "ticker__symbol")[:limit])
    losers = list(base.filter(change_pct__lt=0).order_by("change_pct", "ticker__symbol")[:limit])
    return gainers, losers


def quote_list(*, symbols: Sequence[str] | None = None) -> QuerySet[Quote]:
    qs = Quote.objects.latest_per_ticker().order_by("ticker__symbol")
    if symbols:
        qs = qs.filter(ticker__symbol__in=list(symbols))
    return qs


def bar_list(*, ticker: Ticker, start: date | None = None, end: date | None = None):
    qs = DailyBar.objects.filter(ticker=ticker).order_by("date")
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    return qs


def chart_bars(*, ticker: Ticker) -> list[list]:
    """Every stored bar, oldest first, as [date, open, high, low, close, volume] (1 query).

    When the source gave an adjusted close, open/high/low/close are scaled by adj_close/close
    so a split does not show as a crash; SMAs are computed over the same closes.
    """
    rows = (
        DailyBar.objects.filter(ticker=ticker)
        .order_by("date")
        .values_list("date", "open", "high", "low", "close", "adj_close", "volume")
    )
    out: list[list] = []
    for day, o, h, low, c, adj, volume in rows:
        factor = (adj / c) if adj is not None and c else Decimal(1)
        out.append(
            [
                day.isoformat(),
                _round(o * factor),
                _round(h * factor),
                _round(low * factor),
                _round(c * factor),
                volume,
            ]
        )
    return out


def key_stats(*, ticker: Ticker) -> KeyStats:
    """The latest session's open/high/low/volume and the previous close, the 52-week range and
    the 30-session average volume, from the latest year of bars (1 query)."""
    rows = list(
        DailyBar.objects.filter(ticker=ticker)
        .order_by("-date")
        .values_list("date", "high", "low", "close", "volume", "open")[:370]
    )
    if not rows:
        return KeyStats(None, None, None, None, None)
    last_date = rows[0][0]
    year = [r for r in rows if r[0] > last_date - timedelta(days=365)]
    return KeyStats(
        last_close=rows[0][3],
        last_date=last_date,
        high_52w=max(r[1] for r in year),
        low_52w=min(r[2] for r in year),
        avg_volume_30d=round(statistics.fmean(r[4] for r in rows[:30])),
        day_open=rows[0][5],
        day_high=rows[0][1],
        day_low=rows[0][2],
        previous_close=rows[1][3] if len(rows) > 1 else None,
        day_volume=rows[0][4],
    )


def _round(value: Decimal) -> float:
    return float(round(value, 4))
