"""Query budgets: the market pages cost the same with 1 ticker and with 50, and the feed's
cached answers cost (almost) nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets.models import Ticker
from qunex import dashboard
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory

pytestmark = pytest.mark.django_db

INDEXES = ["SPY", "QQQ", "DIA", "IWM"]


def _universe(n: int) -> list[str]:
    """n tickers (the index ETFs first), each with a quote and three bars."""
    symbols = (INDEXES + [f"S{i:03d}" for i in range(n)])[:n]
    for i, symbol in enumerate(symbols):
        ticker = TickerFactory(
            symbol=symbol,
            asset_type="etf" if symbol in INDEXES else "stock",
            sector=f"Sector {i % 7}",
        )
        QuoteFactory(ticker=ticker, change_pct=Decimal(i - n // 2) / 3)
        for day in range(3):
            DailyBarFactory(ticker=ticker, date=dt.date(2025, 1, 2) + dt.timedelta(days=day))
    return symbols


def _count(client, path: str, **extra) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **extra)
    assert response.status_code in (200, 304), (path, response.status_code)
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def _same_for_1_and_50(client, path_for) -> int:
    """Render with 1 ticker, then with 50, and return the (equal) query counts. A first,
    uncounted request lets a signed-in session settle (its time zone is read once)."""
    client.get("/health")
    counts = []
    for n in (1, 50):
        Ticker.objects.all().delete()
        symbols = _universe(n)
        counts.append(_count(client, path_for(symbols))[0])
    assert counts[0] == counts[1], counts
    return counts[0]


@pytest.fixture
def no_panels(monkeypatch):
    monkeypatch.setattr(dashboard, "_PANELS", {})


@pytest.fixture
def no_stock_panels(monkeypatch):
    monkeypatch.setattr(dashboard, "_STOCK_PANELS", {})


def test_dashboard_queries_do_not_grow_with_the_universe(client, no_panels):
    # Anonymous dashboard, no registered panels:
    #   1. SELECT COUNT(*) ... tickers, and how many are demo (one aggregate)
    #   2. SELECT ticker LEFT JOIN quote WHERE symbol IN (SPY, QQQ, DIA, IWM)
    #   3. SELECT quote JOIN ticker WHERE change_pct > 0 ORDER BY change_pct DESC LIMIT 5
    #   4. SELECT quote JOIN ticker WHERE change_pct < 0 ORDER BY change_pct LIMIT 5
    assert _same_for_1_and_50(client, lambda s: "/") == 4


def test_dashboard_with_registered_panels_is_constant_too(client, auth_client):
    # Signed in, with whatever panels the installed apps register (each panel promises a
    # constant number of queries): session + user + the four above + the panels' own.
    _same_for_1_and_50(auth_client, lambda s: "/")


def test_stock_list_queries_do_not_grow_with_the_universe(client):
    # Anonymous stocks list, first page of 50:
    #   1. SELECT COUNT(*) of the filtered tickers (paginator)
    #   2. SELECT the page: ticker LEFT JOIN quote ORDER BY ... LIMIT 50
    #   3. SELECT DISTINCT sector (the filter's options)
    #   4. SELECT the page's latest AI scores (insights' ai_score_badge tag, one query)
    assert _same_for_1_and_50(client, lambda s: "/stocks/?sort=-price") == 4


def test_stock_page_queries_do_not_grow_with_the_universe(client, no_stock_panels):
    # Anonymous stock page, no registered stock panels:
    #   1. SELECT ticker LEFT JOIN quote WHERE symbol = ...
    #   2. SELECT the latest year of bars (52-week range, 30-day average volume)
    assert _same_for_1_and_50(client, lambda s: f"/stocks/{s[0]}/") == 2


def test_stock_page_with_registered_panels_is_constant_too(client):
    # With the insights panels registered (and no articles, scores or trades stored), the two
    # queries above plus:
    #   3. SELECT the ticker's AI-score history (ai_score panel)
    #   4. SELECT the ticker's latest insider trades JOIN filing (insiders panel)
    #   5. SELECT the ticker's recent articles (news panel; tests/insights/news checks its
    #      prefetches stay constant for 1 and 50 articles)
    assert _same_for_1_and_50(client, lambda s: f"/stocks/{s[0]}/") == 5


def test_chart_data_is_two_queries(client):
    #   1. SELECT ticker LEFT JOIN quote WHERE symbol = ...   2. SELECT every bar of it
    assert _same_for_1_and_50(client, lambda s: f"/stocks/{s[-1]}/chart.json") == 2


def test_feed_304_and_cached_200_budgets(client):
    symbols = ",".join(_universe(50))
    path = f"/api/market-data?symbols={symbols}"
    # First answer builds the cache entry: 1. SELECT ticker LEFT JOIN quote WHERE symbol IN (...)
    queries, _ = _count(client, path)
    assert queries == 1
    etag = client.get(path)["ETag"]
    # 304: the ETag comes from the cache keyed by the symbol set: no query (budget: 1).
    queries, _ = _count(client, path, HTTP_IF_NONE_MATCH=etag)
    assert queries == 0
    # A cached 200 (no If-None-Match, or an old tag): no query either (budget: 2).
    queries, _ = _count(client, path, HTTP_IF_NONE_MATCH='W/"old"')
    assert queries == 0


def test_feed_304_for_a_signed_in_user(auth_client):
    # Signed in, the auth middleware reads the session and the user (2 queries, the
    # time-zone profile is read once per session); the feed itself adds none.
    symbols = ",".join(_universe(5))
    path = f"/api/market-data?symbols={symbols}"
    etag = auth_client.get(path)["ETag"]
    queries, sql = _count(auth_client, path, HTTP_IF_NONE_MATCH=etag)
    assert queries <= 2, sql
    assert not any("markets_" in q for q in sql), sql
