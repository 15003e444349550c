"""Everything the AI score reads from the database or from the other insights areas.

Bars come from `markets.DailyBar` (adj_close when present, else close), loaded with
`values_list` in one query per batch of tickers. News sentiment and insider net buying come
from the news and insiders areas when they are installed; when they are not (ImportError),
the feature is missing (None -> NaN), never zero.

Every event input is cut at the session's close in New York (16:00, 13:00 on early closes):
an observation known at time t belongs to the first session whose close is at or after t
(`to_sessions`), so an article at 23:30 UTC on D, or a filing accepted at 17:00 New York
time, belongs to D's next session. A source that only gives a date is taken as known at the
end of that day in New York (so it too belongs to the next session).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from markets import calendar as nyse
from markets.calendar import NEW_YORK
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


def universe(*, symbols: list[str] | None = None, listed: bool = True) -> Universe:
    """Common stocks (never ETFs or indexes), one query. `listed` (the default for training
    and scoring) takes every stock Qunex has bars for, delisted or deactivated ones too, so
    no period is seen through today's survivors: a stock simply stops at its last bar.
    `listed=False` takes today's active stocks only."""
    qs = Ticker.objects.filter(asset_type=Ticker.AssetType.STOCK)
    if not listed:
        qs = qs.active()
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
        del rows  # a batch's Decimals and dates become compact arrays at once
        price = np.array(
            [float(a if a is not None else c) for a, c in zip(adj, close, strict=True)]
        )
        parts.append(
            (
                np.array(tid, dtype=np.int64),
                np.array(day, dtype="datetime64[D]"),
                price,
                np.array(volume, dtype=float),
            )
        )
    if not parts:
        empty = pd.DataFrame(index=pd.DatetimeIndex([], name="date"), columns=symbols, dtype=float)
        return empty, empty.copy()
    tid, day, price, volume = (np.concatenate(p) for p in zip(*parts, strict=True))
    # Straight into the wide arrays (no long frame, no pivot): one slot per (session, symbol).
    sessions = np.unique(day)
    rows = np.searchsorted(sessions, day)
    cols = pd.Index(ticker_ids).get_indexer(tid)
    close_wide = np.full((len(sessions), len(symbols)), np.nan)
    volume_wide = np.full((len(sessions), len(symbols)), np.nan)
    close_wide[rows, cols] = price
    volume_wide[rows, cols] = volume
    index = pd.DatetimeIndex(sessions.astype("datetime64[ns]"), name="date")
    columns = pd.Index(symbols, dtype=object)
    return (
        pd.DataFrame(close_wide, index=index, columns=columns),
        pd.DataFrame(volume_wide, index=index, columns=columns),
    )


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
) -> list[tuple] | None:
    """News sentiment per ticker and article (-1..1) with the moment the article was
    published (vendor timestamp); None when the news area is not installed. Successful
    analyses only, as the news area's own `sentiment_observations` counts them."""
    try:
        from insights.news.models import ArticleAnalysis, TickerSentiment
    except ImportError:
        return None

    def source(*, start: date, end: date, symbols: list[str] | None = None):
        qs = TickerSentiment.objects.filter(
            analysis__status=ArticleAnalysis.Status.ANALYSED,
            analysis__article__published_at__gte=datetime.combine(start, time.min, tzinfo=UTC),
            analysis__article__published_at__lt=datetime.combine(
                end + timedelta(days=2), time.min, tzinfo=UTC
            ),
        )
        if symbols is not None:
            qs = qs.filter(ticker__symbol__in=symbols)
        return qs.order_by("analysis__article__published_at", "id").values_list(
            "ticker__symbol", "analysis__article__published_at", "sentiment"
        )

    return _safe(source, start=start, end=end, symbols=symbols)


def insider_observations(
    *, start: date, end: date, symbols: list[str] | None = None
) -> list[tuple] | None:
    """Signed dollar value of open-market insider buys - sells with the moment the filing
    became public (and, for an amended filing's rows, the moment its amendment did); None
    when the insiders area is not installed."""
    try:
        from insights.insiders.selectors import net_buying_observations as source
    except ImportError:
        return None
    return _safe(source, start=start, end=end, symbols=symbols)


def _safe(source, **kwargs) -> list[tuple] | None:
    """Each observation mapped to its session: (symbol, session, value[, until session])."""
    try:
        rows = list(source(**kwargs))
        known = to_sessions([r[1] for r in rows])
        untils = to_sessions([r[3] for r in rows if len(r) > 3 and r[3] is not None])
    except Exception:  # a broken optional source must not stop scoring: the feature is missing
        logger.exception("AI score input %s failed; treating it as missing", source.__module__)
        return None
    out: list[tuple] = []
    later = iter(untils)
    for row, day in zip(rows, known, strict=True):
        if len(row) > 3 and row[3] is not None:
            out.append((str(row[0]), day, float(row[2]), next(later)))
        else:
            out.append((str(row[0]), day, float(row[2])))
    return out


def known_at(moment: datetime | date) -> datetime:
    """An aware moment; a bare date is the end of that day in New York."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("observation times must be timezone-aware")
        return moment
    return datetime.combine(moment, time(23, 59, 59, 999999), tzinfo=NEW_YORK)


def to_sessions(moments: list[datetime | date]) -> list[date]:
    """The session each moment belongs to: the first NYSE session whose close (16:00 New
    York, 13:00 on early closes) is at or after it. A moment after the last close the
    calendar knows maps to the day after it (outside any stored session)."""
    if not moments:
        return []
    aware = [known_at(m) for m in moments]
    stamps = np.array([a.timestamp() for a in aware])
    first = datetime.fromtimestamp(stamps.min(), UTC).astimezone(NEW_YORK).date()
    last = datetime.fromtimestamp(stamps.max(), UTC).astimezone(NEW_YORK).date()
    days = nyse.sessions(first, last + timedelta(days=10))
    closes = np.array([nyse.session(d).close.timestamp() for d in days])
    pos = np.searchsorted(closes, stamps, side="left")
    return [
        days[p] if p < len(days) else a.astimezone(NEW_YORK).date() + timedelta(days=1)
        for p, a in zip(pos, aware, strict=True)
    ]


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
