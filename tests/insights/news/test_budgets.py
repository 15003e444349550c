"""refresh_news draws on the vendors' shared budgets (markets.budget), the same ones the
bars job and the web feed use: it waits only within NEWS_TIME_BUDGET_SECONDS, what the budget
cannot give is deferred (the run stays green), a 429's Retry-After blocks the vendor for
everyone and a 403 is remembered as "not entitled"."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from insights.news.models import Article
from markets.budget import budget_for
from qunex.models import JobRun
from tests.factories import TickerFactory
from tests.insights.news.conftest import FED, POLY
from tests.markets import FakeVendor, Reply, fixture

FINN = "https://finnhub.io/api/v1"


@pytest.fixture
def keys(vendor: FakeVendor, settings) -> FakeVendor:
    settings.NEWS_RSS_FEEDS = [f"fed|{FED}|Federal Reserve"]
    settings.FINNHUB_API_KEY = "fk"
    settings.FINNHUB_BASE_URL = FINN
    settings.NEWS_TIME_BUDGET_SECONDS = 0  # never wait in a test: what does not fit defers
    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL_page2.json"))
    vendor.add(f"{FINN}/company-news", fixture("finnhub", "company_news_AAPL.json"))
    return vendor


def _run() -> JobRun:
    call_command("refresh_news", "--since", "2026-11-01", stdout=StringIO(), stderr=StringIO())
    return JobRun.objects.filter(command="refresh_news").latest("started_at")


def _calls(vendor: FakeVendor, host: str) -> int:
    return sum(host in (r.url or "") for r in vendor.requests)


@pytest.mark.django_db
def test_a_polygon_minute_spent_by_the_bars_job_defers_polygon_news(keys: FakeVendor) -> None:
    TickerFactory(symbol="AAPL", name="Apple Inc.", market_cap=3_000)
    bars_job = budget_for("polygon", key="pk")  # the same budget object markets uses
    assert sum(bars_job.acquire() for _ in range(5)) == 5  # the free 5 a minute are gone

    run = _run()

    assert _calls(keys, "polygon") == 0  # no call past the budget
    assert run.status == JobRun.Status.SUCCEEDED  # deferred is not failed: the run is green
    assert run.counts["deferred"] == 1 and "failed" not in run.counts
    assert run.counts["calls_polygon"] == 0 and run.counts["calls_finnhub"] == 1
    assert Article.objects.exists()  # the feed and Finnhub still stored their news


@pytest.mark.django_db
def test_finnhub_keeps_the_symbols_it_fetched_and_defers_the_rest(keys: FakeVendor, settings):
    settings.NEWS_MAX_SYMBOLS = 5
    for i, symbol in enumerate(["AAPL", "MSFT", "NVDA", "AMZN", "META"]):
        TickerFactory(symbol=symbol, market_cap=5_000 - i)
    quotes = budget_for("finnhub", key="fk")  # the quote step took 57 of the minute's 60
    assert sum(quotes.acquire() for _ in range(57)) == 57

    run = _run()

    asked = [keys.query(i)["symbol"] for i, r in enumerate(keys.requests) if FINN in r.url]
    assert asked == ["AAPL", "MSFT", "NVDA"]  # the largest first, as many as the budget gave
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.counts["calls_finnhub"] == 3
    assert run.counts["deferred"] == 1 and run.counts["deferred_calls"] == 2
    assert Article.objects.filter(source="finnhub").exists()  # kept, not thrown away
    assert budget_for("finnhub", key="fk").remaining()["minute"] == 0


@pytest.mark.django_db
def test_the_news_job_waits_within_its_time_budget(keys: FakeVendor, settings, monkeypatch):
    """With time left, a full minute is waited out rather than deferred."""
    settings.NEWS_TIME_BUDGET_SECONDS = 120
    TickerFactory(symbol="AAPL", name="Apple Inc.", market_cap=3_000)
    budget = budget_for("polygon", key="pk")
    clock = {"now": 1_000.0}
    monkeypatch.setattr(budget, "_clock", lambda: clock["now"])
    monkeypatch.setattr(budget, "_monotonic", lambda: clock["now"])
    monkeypatch.setattr("markets.budget.time.monotonic", lambda: clock["now"])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock["now"] += seconds
        budget._cache_or_default().clear()  # the tokens' minute has passed

    monkeypatch.setattr(budget, "_sleep", sleep)
    assert sum(budget.acquire() for _ in range(5)) == 5

    run = _run()

    assert slept and 0 < sum(slept) <= 60
    assert _calls(keys, "polygon") == 1
    assert "deferred" not in run.counts and run.counts["calls_polygon"] == 1


@pytest.mark.django_db
def test_a_429_blocks_the_vendor_for_everyone_for_its_retry_after(keys: FakeVendor) -> None:
    keys.routes.clear()
    keys.add(FED, fixture("rss", "fed_press.xml"))
    keys.add(
        f"{POLY}/v2/reference/news",
        Reply(
            fixture("polygon", "error_rate_limited.json"), status=429, headers={"Retry-After": "42"}
        ),
    )
    keys.add(f"{FINN}/company-news", fixture("finnhub", "company_news_AAPL.json"))
    TickerFactory(symbol="AAPL", name="Apple Inc.", market_cap=3_000)

    run = _run()

    assert _calls(keys, "polygon") == 1  # one attempt: the budgeted session does not retry
    assert 40 <= budget_for("polygon", key="pk").remaining()["blocked_for"] <= 42
    assert run.counts["failed"] == 1  # the vendor's own 429 cost work: counted
    # the bars job (same key) now waits or defers instead of hitting Polygon again
    assert not budget_for("polygon", key="pk").acquire()


@pytest.mark.django_db
def test_a_403_is_remembered_as_not_entitled_and_never_fails_the_run(keys: FakeVendor) -> None:
    keys.routes.clear()
    keys.add(FED, fixture("rss", "fed_press.xml"))
    keys.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL_page2.json"))
    keys.add(f"{FINN}/company-news", Reply(fixture("finnhub", "error_no_access.json"), status=403))
    TickerFactory(symbol="AAPL", name="Apple Inc.", market_cap=3_000)

    first = _run()
    second = _run()

    assert _calls(keys, "finnhub") == 1  # the second run did not ask again
    for run in (first, second):
        assert run.counts["not_entitled"] == 1 and "failed" not in run.counts
        assert run.status == JobRun.Status.SUCCEEDED
    assert not budget_for("finnhub", key="fk").is_entitled("company_news")
