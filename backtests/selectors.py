"""Reads that the backtest pages, the API and the processor share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
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


def bars_frame(*, ticker_id: int, start: date, end: date) -> tuple[pd.DataFrame, bool]:
    """Daily OHLCV in [start, end] as floats indexed by date (1 query).

    When every bar has `adj_close`, open/high/low/close are scaled by adj_close / close, so
    splits and dividends do not show up as price jumps; returns (frame, adjusted).
    """
    rows = list(
        DailyBar.objects.filter(ticker_id=ticker_id, date__gte=start, date__lte=end)
        .order_by("date")
        .values_list("date", "open", "high", "low", "close", "adj_close", "volume")
    )
    if not rows:
        return pd.DataFrame(columns=["Open", "High", "Low", "Close", "Volume"]), False
    dates, o, h, lo, c, adj, v = zip(*rows, strict=True)
    ohlc = np.array([o, h, lo, c], dtype=float)
    adjusted = all(a is not None for a in adj)
    if adjusted:
        ohlc = ohlc * (np.array(adj, dtype=float) / ohlc[3])
    frame = pd.DataFrame(
        {
            "Open": ohlc[0],
            "High": ohlc[1],
            "Low": ohlc[2],
            "Close": ohlc[3],
            "Volume": np.array(v, dtype=float),
        },
        index=pd.DatetimeIndex(pd.to_datetime(dates), name="date"),
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
