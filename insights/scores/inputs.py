"""Everything the AI score reads from the database or from the other insights areas.

Bars come from `markets.DailyBar` (adj_close when present, else close), loaded with
`values_list` in one query per batch of tickers. News sentiment and insider net buying come
from the news and insiders areas when they are installed; when they are not (ImportError),
the feature is missing (None -> NaN), never zero.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from markets.models import DailyBar, Ticker

logger = logging.getLogger(__name__)

MARKET_SYMBOL = "SPY"
BATCH = 100  # tickers per bars query
WINDOW_DAYS = 400  # calendar days that hold the trailing 253 sessions a day's features need

Observation = tuple[str, date, float]


@dataclass(frozen=True)
class Universe:
    ids: list[int]
    symbols: list[str]
    demo_ids: frozenset[int]  # demo tickers (synthetic prices)

    @property
    def demo(self) -> bool:
        return bool(self.demo_ids)

    def __len__(self) -> int:
        return len(self.ids)


def universe(*, symbols: list[str] | None = None) -> Universe:
    """Active stocks (not ETFs or indexes), one query."""
    qs = Ticker.objects.active().filter(asset_type=Ticker.AssetType.STOCK)
    if symbols:
        qs = qs.filter(symbol__in=[s.upper() for s in symbols])
    rows = list(qs.order_by("symbol").values_list("id", "symbol", "is_demo"))
    return Universe(
        ids=[r[0] for r in rows],
        symbols=[r[1] for r in rows],
        demo_ids=frozenset(r[0] for r in rows if r[2]),
    )


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_bars(
    *,
    ticker_ids: list[int],
    symbols: list[str],
    start: date | None,
    end: date,
    progress: Callable[[Iterator[list[int]], int], Iterator[list[int]]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(close, volume) wide frames (sessions x symbols) for the tickers, start..end."""
    parts: list[tuple[np.ndarray, ...]] = []
    batches = _batches(ticker_ids, BATCH)
    if progress is not None:
        batches = progress(batches, (len(ticker_ids) + BATCH - 1) // BATCH)
    for batch in batches:
        qs = DailyBar.objects.filter(ticker_id__in=batch, date__lte=end)
        if start is not None:
            qs = qs.filter(date__gte=start)
        rows = list(qs.values_list("ticker_id", "date", "close", "adj_close", "volume"))
        if not rows:
            continue
        tid, day, close, adj, volume = zip(*rows, strict=True)
        price = np.array([a if a is not None else c for a, c in zip(adj, close, strict=True)])
        parts.append((np.array(tid), np.array(day), price.astype(float), np.array(volume, float)))
    if not parts:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"), columns=symbols, dtype=float)
        return empty, empty.copy()
    tid, day, price, volume = (np.concatenate(p) for p in zip(*parts, strict=True))
    frame = pd.DataFrame(
        {
            "symbol": pd.Categorical.from_codes(
                pd.Index(ticker_ids).get_indexer(tid), categories=symbols
            ),
            "date": pd.to_datetime(day),
            "close": price,
            "volume": volume,
        }
    )
    close = frame.pivot(index="date", columns="symbol", values="close")
    volume_wide = frame.pivot(index="date", columns="symbol", values="volume")
    close = close.reindex(columns=symbols).sort_index()
    volume_wide = volume_wide.reindex(index=close.index, columns=symbols)
    close.columns = pd.Index(symbols, dtype=object)
    volume_wide.columns = pd.Index(symbols, dtype=object)
    return close.astype(float), volume_wide.astype(float)


def market_series(*, start: date | None, end: date) -> pd.Series | None:
    """The market's closes (SPY, adjusted when possible), or None when SPY has no bars."""
    qs = DailyBar.objects.filter(ticker__symbol=MARKET_SYMBOL, date__lte=end)
    if start is not None:
        qs = qs.filter(date__gte=start)
    rows = list(qs.order_by("date").values_list("date", "close", "adj_close"))
    if not rows:
        return None
    return pd.Series(
        [float(a if a is not None else c) for _, c, a in rows],
        index=pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows]), name="date"),
        name=MARKET_SYMBOL,
    )


def sentiment_observations(
    *, start: date, end: date, symbols: list[str] | None = None
) -> list[Observation] | None:
    """News sentiment per article (-1..1) by the day it became public; None when the news
    area is not installed."""
    try:
        from insights.news.sentiment import sentiment_observations as source
    except ImportError:
        return None
    return _safe(source, start=start, end=end, symbols=symbols)


def insider_observations(
    *, start: date, end: date, symbols: list[str] | None = None
) -> list[Observation] | None:
    """Signed dollar value of open-market insider buys - sells by the day it became public;
    None when the insiders area is not installed."""
    try:
        from insights.insiders.selectors import net_buying_observations as source
    except ImportError:
        return None
    return _safe(source, start=start, end=end, symbols=symbols)


def _safe(source, **kwargs) -> list[Observation] | None:
    try:
        return [(str(s), d, float(v)) for s, d, v in source(**kwargs)]
    except Exception:  # a broken optional source must not stop scoring: the feature is missing
        logger.exception("AI score input %s failed; treating it as missing", source.__module__)
        return None


def event_inputs(
    *, start: date, end: date, symbols: list[str]
) -> tuple[list[Observation] | None, list[Observation] | None]:
    """(sentiment, insider) observations from 90 days before `start` (the longest event
    window) to `end`."""
    early = start - timedelta(days=90)
    return (
        sentiment_observations(start=early, end=end, symbols=symbols),
        insider_observations(start=early, end=end, symbols=symbols),
    )
