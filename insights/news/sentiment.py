"""News sentiment per ticker, for the AI score and the pages (successful analyses only).

Offline (word-list) analyses count as successful: they are real, labelled analyses; failed
ones never count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Avg, Count, Q

from insights.news.models import ArticleAnalysis, TickerSentiment


def ticker_sentiment_summary(*, symbols: list[str], as_of: datetime) -> dict[str, dict]:
    """Mean sentiment and article count over the 7 and 30 days up to `as_of`, per symbol.

    One query. Every requested symbol is in the answer; a mean is None with no articles.
    """
    start_30 = as_of - timedelta(days=30)
    start_7 = as_of - timedelta(days=7)
    recent = Q(analysis__article__published_at__gt=start_7)
    rows = (
        TickerSentiment.objects.filter(
            ticker__symbol__in=symbols,
            analysis__status=ArticleAnalysis.Status.ANALYSED,
            analysis__article__published_at__gt=start_30,
            analysis__article__published_at__lte=as_of,
        )
        .values("ticker__symbol")
        .annotate(
            mean_30d=Avg("sentiment"),
            count_30d=Count("id"),
            mean_7d=Avg("sentiment", filter=recent),
            count_7d=Count("id", filter=recent),
        )
        .order_by()
    )
    out = {s: {"mean_7d": None, "count_7d": 0, "mean_30d": None, "count_30d": 0} for s in symbols}
    for row in rows:
        out[row["ticker__symbol"]] = {
            "mean_7d": row["mean_7d"],
            "count_7d": row["count_7d"],
            "mean_30d": row["mean_30d"],
            "count_30d": row["count_30d"],
        }
    return out


def sentiment_observations(
    *, start: date, end: date, symbols: list[str] | None = None
) -> list[tuple[str, date, float]]:
    """One (symbol, published UTC date, that ticker's sentiment) per ticker and article."""
    qs = TickerSentiment.objects.filter(
        analysis__status=ArticleAnalysis.Status.ANALYSED,
        analysis__article__published_at__gte=datetime.combine(start, time.min, tzinfo=UTC),
        analysis__article__published_at__lt=datetime.combine(
            end + timedelta(days=1), time.min, tzinfo=UTC
        ),
    )
    if symbols is not None:
        qs = qs.filter(ticker__symbol__in=symbols)
    rows = qs.order_by("analysis__article__published_at", "ticker__symbol", "id").values_list(
        "ticker__symbol", "analysis__article__published_at", "sentiment"
    )
    return [(sym, published.astimezone(UTC).date(), value) for sym, published, value in rows]
