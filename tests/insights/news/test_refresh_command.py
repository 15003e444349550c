"""refresh_news end to end: sources through the real session onto a fake wire."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from insights.news.models import Article
from qunex.models import JobRun
from tests.factories import TickerFactory
from tests.insights.news.conftest import FED, POLY, SEC
from tests.markets import FakeVendor, Reply, fixture


def _run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("refresh_news", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refresh_stores_every_source_once_and_counts_failures(vendor: FakeVendor) -> None:
    TickerFactory(symbol="AAPL", name="Apple Inc.")
    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(SEC, Reply(b"<html>503</html>", status=503))  # one source down
    vendor.add(
        f"{POLY}/v2/reference/news",
        fixture("polygon", "news_AAPL_page2.json"),
        params={"cursor": "Y3Vyc29yMg"},
    )
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL.json"))

    out = _run("--since", "2026-11-01", "--tickers", "AAPL")

    assert Article.objects.count() == 5  # 2 Fed + 3 Polygon
    run = JobRun.objects.get(command="refresh_news")
    assert run.status == JobRun.Status.PARTIAL
    assert run.counts["failed"] == 1 and run.counts["stored"] == 5
    assert run.counts["malformed"] == 3  # Fed undated + Polygon no URL + junk time
    assert out.strip().count("\n") == 0 and "refresh_news: partial" in out
    # the SEC request carried the declared User-Agent
    sec = [r for r in vendor.requests if r.url.startswith(SEC)]
    assert sec and sec[0].headers["User-Agent"] == "Qunex admin@qunex.local"

    _run("--since", "2026-11-01", "--tickers", "AAPL")
    assert Article.objects.count() == 5
    assert (
        JobRun.objects.filter(command="refresh_news").latest("started_at").counts["duplicates"] == 5
    )


@pytest.mark.django_db
def test_dry_run_stores_nothing(vendor: FakeVendor) -> None:
    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(SEC, fixture("rss", "sec_press.xml"))
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL_page2.json"))
    out = _run("--since", "2026-11-01", "--dry-run", "--limit", "1")
    assert Article.objects.count() == 0
    assert "would_store" in out


@pytest.mark.django_db
def test_outage_of_every_source_fails_and_keeps_earlier_articles(vendor: FakeVendor) -> None:
    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(SEC, fixture("rss", "sec_press.xml"))
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL_page2.json"))
    _run("--since", "2026-11-01")
    before = Article.objects.count()
    assert before == 4

    vendor.routes.clear()
    vendor.add(FED, Reply(b"<html>down</html>", status=500))
    vendor.add(SEC, Reply(b"garbage", status=200))
    vendor.add(f"{POLY}/v2/reference/news", Reply(b'{"status":"ERROR"}', status=429))
    with pytest.raises(CommandError, match="every source failed"):
        _run("--since", "2026-11-01")
    assert Article.objects.count() == before
    assert (
        JobRun.objects.filter(command="refresh_news").latest("started_at").status
        == JobRun.Status.FAILED
    )


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--since", "junk"], ["--limit", "0"], ["--tickers", ",,"]])
def test_bad_arguments_are_named(vendor: FakeVendor, args: list[str]) -> None:
    with pytest.raises(CommandError, match=args[0].lstrip("-")):
        _run(*args)


@pytest.mark.django_db
def test_without_tickers_polygon_is_one_market_wide_call_and_finnhub_asks_the_largest(
    vendor: FakeVendor, settings
) -> None:
    settings.NEWS_RSS_FEEDS = []
    settings.FINNHUB_API_KEY = "fk"
    settings.FINNHUB_BASE_URL = "https://finnhub.io/api/v1"
    settings.NEWS_MAX_SYMBOLS = 2
    TickerFactory(symbol="SMALL", market_cap=10)
    TickerFactory(symbol="AAPL", name="Apple Inc.", market_cap=3_000)
    TickerFactory(symbol="MSFT", market_cap=2_000)
    TickerFactory(symbol="NOCAP", market_cap=None)
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL_page2.json"))
    vendor.add(
        "https://finnhub.io/api/v1/company-news", fixture("finnhub", "company_news_AAPL.json")
    )

    _run("--since", "2026-11-01")

    polygon = [r for r in vendor.requests if "polygon" in r.url]
    assert len(polygon) == 1 and "ticker=" not in polygon[0].url
    finnhub = [dict(vendor.query(i)) for i, r in enumerate(vendor.requests) if "finnhub" in r.url]
    assert [q["symbol"] for q in finnhub] == ["AAPL", "MSFT"]


@pytest.mark.django_db
def test_company_news_replaces_the_demo_news_and_official_feeds_do_not(
    vendor: FakeVendor, settings
) -> None:
    from datetime import UTC, datetime

    from insights.news import demo

    TickerFactory(symbol="AAPL", name="Apple Inc.")
    settings.POLYGON_API_KEY = ""
    demo.seed(now=datetime(2026, 11, 20, tzinfo=UTC))
    demo_count = Article.objects.filter(source="demo").count()
    assert demo_count == len(demo.ARTICLES)

    vendor.add(FED, fixture("rss", "fed_press.xml"))
    vendor.add(SEC, fixture("rss", "sec_press.xml"))
    _run("--since", "2026-11-01")  # official feeds only: the demo stays beside them
    assert Article.objects.filter(source="demo").count() == demo_count

    settings.POLYGON_API_KEY = "pk"
    vendor.add(
        f"{POLY}/v2/reference/news",
        fixture("polygon", "news_AAPL_page2.json"),
        params={"cursor": "Y3Vyc29yMg"},
    )
    vendor.add(f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL.json"))
    out = _run("--since", "2026-11-01", "--tickers", "AAPL")
    assert not Article.objects.filter(source="demo").exists()
    assert f"demo_articles_removed {demo_count}" in out
