"""Reads that the backtest pages, the API and the processor share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Exists, FloatField, Max, Min, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from backtests.models import Backtest
from markets.models import DailyBar, Ticker


def _with_headline(queryset: QuerySet[Backtest]) -> QuerySet[Backtest]:
    """Annotate `headline_return` (Return [%] of the run, or of a sweep's best run) in SQL."""
    return queryset.annotate(
        headline_return=Cast(
            Coalesce(KT("result__stats__Return [%]"), KT("result__best_run__stats__Return [%]")),
            FloatField(),
        )
    )


def backtest_list(*, user) -> QuerySet[Backtest]:
    """The user's backtests, newest first, with their ticker (1 query per page).

    The result JSON can be large (equity curves); lists never load it.
    """
    return _with_headline(
        Backtest.objects.for_owner(user).select_related("ticker").defer("result")
    ).order_by("-created_at", "-id")


def backtest_get(*, user, pk: int) -> Backtest:
    """One of the user's backtests with its ticker and result (1 query);
    `Backtest.DoesNotExist` for anyone else's."""
    return _with_headline(Backtest.objects.for_owner(user).select_related("ticker")).get(pk=pk)


def backtest_statuses(*, user, ids: list[int]) -> list[dict]:
    """Status of the user's backtests among `ids` (1 query); others' ids are ignored."""
    rows = (
        Backtest.objects.for_owner(user)
        .filter(pk__in=ids[:100])
        .values("pk", "status", "attempts", "error")
        .order_by("pk")
    )
    labels = dict(Backtest.Status.choices)
    return [
        {
            "id": r["pk"],
            "status": r["status"],
            "status_label": labels[r["status"]],
            "attempts": r["attempts"],
            "finished": r["status"] in Backtest.FINISHED,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class BarCoverage:
    count: int
    first: date | None
    last: date | None


def bar_coverage(*, ticker: Ticker, start: date, end: date) -> BarCoverage:
    """How many bars the ticker has in [start, end] and the dates it has overall (1 query)."""
    agg = DailyBar.objects.filter(ticker=ticker).aggregate(
        first=Min("date"),
        last=Max("date"),
        n=Count("id", filter=Q(date__gte=start, date__lte=end)),
    )
    return BarCoverage(count=agg["n"], first=agg["first"], last=agg["last"])


# Day number of a date (days since 1970-01-01), per database: numbers come back as plain
# ints, read straight into a datetime64[D] array with the prices (no ISO text to parse).
_DAY_NUMBER = {
    "postgresql": "({date} - DATE '1970-01-01')",
    "sqlite": "CAST(julianday({date}) - 2440587.5 AS INTEGER)",
}


@cache
def _bars_sql(vendor: str) -> str:
    """Plain SQL read with the DB-API cursor: the ORM's per-row converters and Decimal
    values cost more than the backtest itself. Other databases send the date as ISO text."""
    meta = DailyBar._meta
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in meta.concrete_fields}
    as_float = ", ".join(
        f"CAST({column[name]} AS DOUBLE PRECISION)"
        for name in ("open", "high", "low", "close", "adj_close", "volume")
    )
    day = _DAY_NUMBER.get(vendor, "CAST({date} AS VARCHAR(10))").format(date=column["date"])
    # Identifiers come from the model (quoted); the values are query parameters.
    return (
        f"SELECT {day} AS day_number, {as_float} "  # noqa: S608
        f"FROM {quote(meta.db_table)} WHERE {column['ticker']} = %s "
        f"AND {column['date']} >= %s AND {column['date']} <= %s ORDER BY {column['date']}"
    )


def bars_arrays(*, ticker_id: int, start: date, end: date) -> tuple[np.ndarray, np.ndarray, bool]:
    """Daily bars in [start, end] as (datetime64[D] dates, an (n, 5) float array of open,
    high, low, close, volume, adjusted) in 1 query.

    The database casts the decimals to floats and the dates to day numbers, so no Decimal
    or date object is built per value (through the ORM that cost ~30x the backtest), and
    the rows become one array in one conversion. When every bar has `adj_close`,
    open/high/low/close are scaled by adj_close / close, so splits and dividends do not show
    up as price jumps.
    """
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(_bars_sql(vendor), [ticker_id, start, end])
        rows = cursor.fetchall()
    if not rows:
        return np.empty(0, dtype="datetime64[D]"), np.empty((0, 5)), False
    if vendor in _DAY_NUMBER:
        table = np.array(rows, dtype=float)  # (n, 7); None (no adj_close) -> NaN
        dates = table[:, 0].astype(np.int64).astype("datetime64[D]")
        values = table[:, 1:].T
    else:
        iso_dates, *columns = zip(*rows, strict=True)
        dates = np.array(iso_dates, dtype="datetime64[D]")
        values = np.array(columns, dtype=float)
    adj = values[4]
    adjusted = not np.isnan(adj).any()
    ohlcv = values[[0, 1, 2, 3, 5]].T.copy()
    if adjusted:
        ohlcv[:, :4] *= (adj / values[3])[:, None]
    return dates, ohlcv, adjusted


def bars_frame(*, ticker_id: int, start: date, end: date) -> tuple[pd.DataFrame, bool]:
    """`bars_arrays` as an Open/High/Low/Close/Volume DataFrame indexed by date."""
    dates, ohlcv, adjusted = bars_arrays(ticker_id=ticker_id, start=start, end=end)
    frame = pd.DataFrame(
        ohlcv,
        columns=["Open", "High", "Low", "Close", "Volume"],
        index=pd.DatetimeIndex(dates.astype("datetime64[ns]"), name="date"),
    )
    return frame, adjusted


def ticker_symbols(limit: int = 2000) -> list[str]:
    """Symbols of the tickers that have daily bars, for the form's autocomplete (1 query: an
    EXISTS probe of the (ticker, date) index per ticker, not a join over every bar)."""
    has_bars = Exists(DailyBar.objects.filter(ticker=OuterRef("pk")))
    return list(
        Ticker.objects.filter(has_bars, active=True)
        .order_by("symbol")
        .values_list("symbol", flat=True)[:limit]
    )


def bar_span(*, symbol: str) -> tuple[date, date] | None:
    """First and last bar date of one ticker (1 query: MIN/MAX on the (ticker, date) unique
    index, two index probes, instead of scanning every daily bar); None without bars."""
    span = DailyBar.objects.filter(ticker__symbol=symbol).aggregate(
        first=Min("date"), last=Max("date")
    )
    return (span["first"], span["last"]) if span["last"] else None
