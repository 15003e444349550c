"""The per-ticker sentiment selectors: hand-computed means, one query, failed excluded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from insights.news.models import ArticleAnalysis, TickerSentiment
from insights.news.sentiment import sentiment_observations, ticker_sentiment_summary
from tests.factories import TickerFactory
from tests.insights.news.analysis.factories import ArticleFactory

pytestmark = pytest.mark.django_db
AS_OF = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def analysed(ticker, sentiment, published_at, status="analysed"):
    article = ArticleFactory(published_at=published_at, tickers=[ticker])
    analysis = ArticleAnalysis.objects.create(
        article=article,
        kind="ai",
        status=status,
        sentiment=None if status == "failed" else sentiment,
        analysed_at=AS_OF,
    )
    if status == "analysed":
        TickerSentiment.objects.create(analysis=analysis, ticker=ticker, sentiment=sentiment)
    return article


def test_summary_means_and_counts(django_assert_num_queries):
    acme, beta = TickerFactory(symbol="ACME"), TickerFactory(symbol="BETA")
    analysed(acme, 0.5, AS_OF - timedelta(days=1))
    analysed(acme, -0.1, AS_OF - timedelta(days=6, hours=23))
    analysed(acme, 0.9, AS_OF - timedelta(days=20))
    analysed(acme, -1.0, AS_OF - timedelta(days=31))  # outside 30 days
    analysed(acme, 1.0, AS_OF + timedelta(hours=1))  # after as_of
    analysed(acme, 0.0, AS_OF - timedelta(days=2), status="failed")
    analysed(beta, -0.4, AS_OF - timedelta(days=10))
    with django_assert_num_queries(1):
        out = ticker_sentiment_summary(symbols=["ACME", "BETA", "NONE"], as_of=AS_OF)
    assert out["ACME"]["count_7d"] == 2
    assert out["ACME"]["mean_7d"] == pytest.approx((0.5 - 0.1) / 2)
    assert out["ACME"]["count_30d"] == 3
    assert out["ACME"]["mean_30d"] == pytest.approx((0.5 - 0.1 + 0.9) / 3)
    assert out["BETA"] == {"mean_7d": None, "count_7d": 0, "mean_30d": -0.4, "count_30d": 1}
    assert out["NONE"] == {"mean_7d": None, "count_7d": 0, "mean_30d": None, "count_30d": 0}


def test_observations_one_row_per_ticker_and_article_by_utc_date():
    acme, beta = TickerFactory(symbol="ACME"), TickerFactory(symbol="BETA")
    analysed(acme, 0.25, datetime(2026, 11, 2, 23, 30, tzinfo=UTC))
    analysed(beta, -0.5, datetime(2026, 11, 3, 0, 15, tzinfo=UTC))
    analysed(beta, 0.7, datetime(2026, 11, 5, tzinfo=UTC))  # after end
    analysed(acme, 0.0, datetime(2026, 11, 3, tzinfo=UTC), status="failed")
    rows = sentiment_observations(start=date(2026, 11, 1), end=date(2026, 11, 4))
    assert rows == [("ACME", date(2026, 11, 2), 0.25), ("BETA", date(2026, 11, 3), -0.5)]
    only = sentiment_observations(start=date(2026, 11, 1), end=date(2026, 11, 30), symbols=["BETA"])
    assert only == [("BETA", date(2026, 11, 3), -0.5), ("BETA", date(2026, 11, 5), 0.7)]
