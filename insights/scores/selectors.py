"""Reads of the AI-score area shared by pages, panels, template tags and the API.

Every function runs a fixed number of queries whatever the number of tickers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, OuterRef, QuerySet, Subquery

from insights.scores.labels import HORIZON
from insights.scores.models import AIScore, ModelVersion
from markets.models import DailyBar

ORDERS = {
    "score": ("score", "predicted_excess_return", "ticker__symbol"),
    "-score": ("-score", "-predicted_excess_return", "ticker__symbol"),
    "symbol": ("ticker__symbol",),
    "-symbol": ("-ticker__symbol",),
    "predicted": ("predicted_excess_return", "ticker__symbol"),
    "-predicted": ("-predicted_excess_return", "ticker__symbol"),
}


def latest_date() -> date | None:
    return AIScore.objects.latest_date()


def _latest_date_subquery():
    return Subquery(AIScore.objects.current().order_by("-date").values("date")[:1])


def latest_scores(
    *, sector: str = "", min_score: int | None = None, order: str = "-score"
) -> QuerySet[AIScore]:
    """The latest session's scores (one query when evaluated), ticker and model joined."""
    qs = (
        AIScore.objects.current()
        .filter(date=_latest_date_subquery())
        .select_related("ticker", "model_version")
    )
    if sector:
        qs = qs.filter(ticker__sector=sector)
    if min_score is not None:
        qs = qs.filter(score__gte=min_score)
    return qs.order_by(*ORDERS.get(order, ORDERS["-score"]))


def score_sectors() -> list[str]:
    return list(
        AIScore.objects.current()
        .filter(date=_latest_date_subquery())
        .exclude(ticker__sector="")
        .values_list("ticker__sector", flat=True)
        .distinct()
        .order_by("ticker__sector")
    )


def scores_by_symbol(symbols: list[str]) -> dict[str, AIScore]:
    """Each symbol's most recent score (one query)."""
    symbols = [str(s).upper() for s in symbols if s]
    if not symbols:
        return {}
    newest = (
        AIScore.objects.current()
        .filter(ticker=OuterRef("ticker"))
        .order_by("-date")
        .values("date")[:1]
    )
    rows = (
        AIScore.objects.current()
        .filter(ticker__symbol__in=symbols, date=Subquery(newest))
        .select_related("ticker")
    )
    return {s.ticker.symbol: s for s in rows}


def ticker_history(*, ticker_id: int, days: int = 400) -> list[AIScore]:
    """The ticker's stored scores, oldest first, over the last `days` calendar days of scores
    (one query; the newest is the last element)."""
    rows = list(
        AIScore.objects.current()
        .filter(ticker_id=ticker_id)
        .select_related("model_version")
        .order_by("-date")[:days]
    )
    rows.reverse()
    return rows


def user_marks(user) -> dict[str, set[str]]:
    """{"watchlist": symbols, "holding": symbols} of the signed-in user (two queries).

    Holdings as `portfolios.selectors.held_symbols_for` counts them.
    """
    if not getattr(user, "is_authenticated", False):
        return {"watchlist": set(), "holding": set()}
    from portfolios.selectors import held_symbols_for, watchlist_symbols_for

    watched = set(watchlist_symbols_for(user=user))
    held = held_symbols_for(user=user)
    return {"watchlist": watched, "holding": held}


def promoted_model() -> ModelVersion | None:
    return ModelVersion.objects.promoted().first()


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.defer("artifact").order_by("-trained_at", "-id")


# -- charts (server-side SVG geometry) ----------------------------------------------------


@dataclass(frozen=True)
class HistoryChart:
    width: int
    height: int
    points: str  # polyline "x,y x,y"
    dots: list[dict[str, Any]]
    first: date
    last: date
    gridlines: list[dict[str, Any]]


def history_chart(
    scores: list[AIScore], width: int = 600, height: int = 140
) -> HistoryChart | None:
    """A score-over-time line (1 at the bottom, 10 at the top), or None without 2 points."""
    if len(scores) < 2:
        return None
    pad = 8
    n = len(scores)

    def y_of(score: float) -> float:
        return pad + (10 - score) / 9 * (height - 2 * pad)

    xs = [pad + i * (width - 2 * pad) / (n - 1) for i in range(n)]
    points = " ".join(f"{x:.1f},{y_of(s.score):.1f}" for x, s in zip(xs, scores, strict=True))
    dots = [{"x": f"{xs[-1]:.1f}", "y": f"{y_of(scores[-1].score):.1f}"}]
    grid = [{"y": f"{y_of(v):.1f}", "label": v} for v in (1, 5, 10)]
    return HistoryChart(width, height, points, dots, scores[0].date, scores[-1].date, grid)


# -- track record -------------------------------------------------------------------------

TRACK_CACHE_SECONDS = 3600


def publication_deadlines(days: list[date]) -> dict[date, datetime]:
    """Each session's close (16:00 New York, 13:00 on early closes; 16:00 on a day the NYSE
    calendar does not know) plus AI_SCORE_PUBLISH_GRACE_MINUTES: a score stored after it was
    not published by that day's run."""
    from markets import calendar as nyse

    grace = timedelta(minutes=settings.AI_SCORE_PUBLISH_GRACE_MINUTES)
    out = {}
    for day in days:
        session = nyse.session(day)
        close = (
            session.close
            if session is not None
            else datetime.combine(day, time(16), tzinfo=nyse.NEW_YORK)
        )
        out[day] = close + grace
    return out


def published_scores(*, start: date) -> tuple[list[tuple], int, int]:
    """The scores the track record may use, from `start`: for each (ticker, day), the first
    revision stored by that day's own run (before its publication deadline) by a model whose
    training bars ended before that day. Returns (rows, late, in_sample) where rows are
    (date, ticker_id, score, prediction, is_demo) and the counts say how many (ticker, day)
    pairs were left out and why. One query."""
    rows = list(
        AIScore.objects.filter(date__gte=start)
        .order_by("date", "ticker_id", "revision")
        .values_list(
            "date",
            "ticker_id",
            "score",
            "predicted_excess_return",
            "is_demo",
            "model_version__last_bar",
            "created_at",
        )
    )
    deadlines = publication_deadlines(sorted({r[0] for r in rows}))
    kept: dict[tuple, tuple] = {}
    late: set[tuple] = set()
    in_sample: set[tuple] = set()
    for day, tid, score, pred, demo, last_bar, created in rows:
        key = (day, tid)
        if key in kept:
            continue
        if created > deadlines[day]:
            late.add(key)
        elif last_bar is None or last_bar >= day:
            in_sample.add(key)
        else:
            kept[key] = (day, tid, score, pred, demo)
    late -= kept.keys()
    in_sample -= kept.keys() | late
    return list(kept.values()), len(late), len(in_sample)


def track_record(*, months: int = 36) -> dict[str, Any]:
    """Realised excess return by published score, from scores as stored by each day's run
    and the bars that came after them (cached for an hour, keyed by the newest id, write and
    date of the scores and the newest bar, so any new or replaced score shows at once).

    1. `published_scores`: per (ticker, day) the revision stored by that day's run, before
       the deadline, by a model trained on bars before that day. Backfills, later
       replacements and in-sample scores are left out (and counted).
    2. Load those tickers' opens and closes and the market's from the first score date.
    3. Realised = from the next session's open (when a trader can act on a score published
       after the close) to the close 20 sessions after the score's day:
       close[D+20]/open[D+1] - SPY close[D+20]/SPY open[D+1]. Scores whose 20 sessions
       have not passed yet are left out.
    4. By score (1..10): mean realised, count; per quarter: mean of the top scores (9-10)
       minus the bottom (1-2); calibration: predicted vs realised by predicted-return decile.
    """
    # Scores are insert-only (a replace adds a revision), so the newest id and write change
    # with any stored score; three index lookups, no scan of the table.
    newest = AIScore.objects.aggregate(d=Max("date"), n=Max("id"), w=Max("created_at"))
    if newest["d"] is None:
        return {"empty": True}
    last_bar = DailyBar.objects.aggregate(d=Max("date"))["d"]
    stamp = newest["w"].timestamp() if newest["w"] else 0
    key = f"ai-track:{newest['d']}:{newest['n']}:{stamp}:{last_bar}:{months}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    start = newest["d"] - timedelta(days=int(months * 30.5))
    kept, late, in_sample = published_scores(start=start)
    counts = {"in_sample": in_sample, "late": late}
    if not kept:
        result = {"empty": False, "pending": True, "demo": False, **counts}
    else:
        result = _track_from_rows(kept, start) | counts
    cache.set(key, result, TRACK_CACHE_SECONDS)
    return result


def _prices(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(open, close) wide frames, adjusted: open scaled by adj_close / close."""
    b = pd.DataFrame(rows, columns=["key", "date", "open", "close", "adj"])
    close = b["close"].astype(float)
    adj = b["adj"].where(b["adj"].notna(), b["close"]).astype(float)
    with np.errstate(all="ignore"):
        b["o"] = b["open"].astype(float) * (adj / close).where(close > 0)
    b["c"] = adj
    b["date"] = pd.to_datetime(b["date"])
    opens = b.pivot(index="date", columns="key", values="o").sort_index()
    closes = b.pivot(index="date", columns="key", values="c").sort_index()
    return opens, closes


def _track_from_rows(rows: list[tuple], start: date) -> dict[str, Any]:
    from insights.scores.inputs import MARKET_SYMBOL

    scores = pd.DataFrame(rows, columns=["date", "ticker_id", "score", "pred", "is_demo"])
    scores["date"] = pd.to_datetime(scores["date"])
    ids = sorted(scores["ticker_id"].unique().tolist())
    fields = ("date", "open", "close", "adj_close")
    bars = list(
        DailyBar.objects.filter(ticker_id__in=ids, date__gte=start).values_list(
            "ticker_id", *fields
        )
    )
    market_rows = list(
        DailyBar.objects.filter(ticker__symbol=MARKET_SYMBOL, date__gte=start).values_list(
            "ticker_id", *fields
        )
    )
    demo = bool(scores["is_demo"].any())
    if not bars:
        return {"empty": True, "demo": demo}
    opens, close = _prices(bars)
    if market_rows:
        m_open, m_close = _prices(market_rows)
        m_open = m_open.iloc[:, 0].reindex(close.index)
        m_close = m_close.iloc[:, 0].reindex(close.index)
    else:
        daily = (close / close.shift(1) - 1).mean(axis=1).fillna(0.0)
        m_close = (1 + daily).cumprod()
        m_open = m_close.shift(1)
    # Entry at the next session's open, exit at the close HORIZON sessions after the score.
    forward = close.shift(-HORIZON) / opens.shift(-1) - 1.0
    bench = m_close.shift(-HORIZON) / m_open.shift(-1) - 1.0
    realised = forward.sub(bench, axis=0)
    long = realised.stack().rename("realised")
    long.index.names = ["date", "ticker_id"]
    scores = scores.join(long, on=["date", "ticker_id"]).dropna(subset=["realised"])
    if scores.empty:
        return {"empty": False, "pending": True, "demo": demo, "by_score": [], "quarters": []}
    by_score = scores.groupby("score")["realised"].agg(["mean", "count"])
    by_score_rows = [
        {"score": int(s), "mean": float(r["mean"]), "count": int(r["count"])}
        for s, r in by_score.iterrows()
    ]
    scores["quarter"] = scores["date"].dt.to_period("Q").astype(str)
    top = scores[scores["score"] >= 9].groupby("quarter")["realised"].mean()
    bottom = scores[scores["score"] <= 2].groupby("quarter")["realised"].mean()
    allq = scores.groupby("quarter")["realised"].agg(["mean", "count"])
    quarters = [
        {
            "quarter": q,
            "top": _f(top.get(q)),
            "bottom": _f(bottom.get(q)),
            "spread": _f(top.get(q, np.nan) - bottom.get(q, np.nan)),
            "all": float(r["mean"]),
            "count": int(r["count"]),
        }
        for q, r in allq.iterrows()
    ]
    grid = scores.pivot_table(index="quarter", columns="score", values="realised", aggfunc="mean")
    grid = grid.reindex(columns=range(1, 11))
    by_quarter_score = [
        {"quarter": q, "cells": [_f(row.get(s)) for s in range(1, 11)]}
        for q, row in grid.iterrows()
    ]
    n_bins = min(10, max(1, len(scores) // 5))
    scores["bin"] = pd.qcut(scores["pred"].rank(method="first"), n_bins, labels=False)
    calib = scores.groupby("bin")[["pred", "realised"]].mean()
    calibration = [
        {"predicted": float(r["pred"]), "realised": float(r["realised"])}
        for _, r in calib.iterrows()
    ]
    return {
        "empty": False,
        "pending": False,
        "demo": demo,
        "by_score": by_score_rows,
        "quarters": quarters,
        "by_quarter_score": by_quarter_score,
        "calibration": calibration,
        "first": scores["date"].min().date(),
        "last": scores["date"].max().date(),
        "count": len(scores),
    }


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def bar_chart(values: list[dict[str, Any]], key: str, *, width: int = 600, height: int = 200):
    """SVG geometry for signed bars (one per item), zero line in the middle of the range."""
    nums = [v[key] for v in values if v.get(key) is not None]
    if not nums:
        return None
    top = max(max(nums), 0.0)
    bottom = min(min(nums), 0.0)
    span = (top - bottom) or 1.0
    pad = 20
    inner = height - 2 * pad
    zero = pad + top / span * inner
    slot = (width - 2 * pad) / len(values)
    bars = []
    for i, v in enumerate(values):
        val = v.get(key)
        if val is None:
            continue
        h = abs(val) / span * inner
        y = zero - h if val >= 0 else zero
        bars.append(
            {
                "x": f"{pad + i * slot + slot * 0.15:.1f}",
                "y": f"{y:.1f}",
                "w": f"{slot * 0.7:.1f}",
                "h": f"{max(h, 0.5):.1f}",
                "cls": "up" if val >= 0 else "down",
                "value": val,
                "item": v,
            }
        )
    return {"width": width, "height": height, "zero": f"{zero:.1f}", "bars": bars, "pad": pad}


def scatter_chart(points: list[dict[str, Any]], *, size: int = 300):
    """Calibration plot geometry: predicted (x) vs realised (y) on one scale, with the
    diagonal a perfectly calibrated model would follow."""
    if not points:
        return None
    vals = [p["predicted"] for p in points] + [p["realised"] for p in points]
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.01, hi + 0.01
    pad = 24

    def pos(v: float) -> float:
        return pad + (v - lo) / (hi - lo) * (size - 2 * pad)

    dots = [
        {
            "cx": f"{pos(p['predicted']):.1f}",
            "cy": f"{size - pos(p['realised']):.1f}",
            "point": p,
        }
        for p in points
    ]
    return {
        "size": size,
        "dots": dots,
        "diag": (
            f"{pos(lo):.1f}",
            f"{size - pos(lo):.1f}",
            f"{pos(hi):.1f}",
            f"{size - pos(hi):.1f}",
        ),
        "lo": lo,
        "hi": hi,
    }
