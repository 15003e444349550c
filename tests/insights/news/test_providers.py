"""Each news adapter against small recorded-style fixtures, through the real session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insights.news.providers.base import SourceError
from insights.news.providers.finnhub import FinnhubNews
from insights.news.providers.newsapi import NewsApiSource
from insights.news.providers.polygon import PolygonNews
from insights.news.providers.rss import Feed, RssSource, parse_feed_setting
from tests.markets import FakeVendor, Reply, fake_session, fixture

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
POLY = "https://api.polygon.io"
NEWSAPI = "https://newsapi.org"
FINN = "https://finnhub.io/api/v1"


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


def test_polygon_parses_follows_cursor_and_counts_malformed(vendor: FakeVendor) -> None:
    vendor.add(
        f"{POLY}/v2/reference/news",
        fixture("polygon", "news_AAPL_page2.json"),
        params={"cursor": "Y3Vyc29yMg"},
    )
    vendor.add(
        f"{POLY}/v2/reference/news", fixture("polygon", "news_AAPL.json"), params={"ticker": "AAPL"}
    )
    source = PolygonNews("pk", session=fake_session(vendor), base_url=POLY)

    result = source.fetch(since=SINCE, symbols=["AAPL"])

    assert [i.published_at for i in result.items] == [
        datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
        datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 16, 0, tzinfo=UTC),
    ]
    first = result.items[0]
    assert first.title == "Apple Shares Climb After Record iPhone Sales In Holiday Quarter"
    assert first.publisher == "Benzinga"
    assert first.symbols == ("AAPL", "ZZZZ")
    assert first.source == "polygon"
    # markup and entity-encoded markup are gone at the edge
    evil = result.items[1]
    assert evil.title == "Apple supplier update"
    assert evil.publisher == "Evil Wire"
    assert evil.description == "Suppliers to $AAPL raise guidance."
    assert result.skipped == 2  # no URL; junk time
    assert vendor.query(0)["published_utc.gte"] == "2026-11-01T00:00:00Z"
    assert "apiKey" not in vendor.query(0)  # the key travels in a header, never the URL
    assert vendor.requests[0].headers["Authorization"] == "Bearer pk"


def test_polygon_errors_carry_permanence(vendor: FakeVendor) -> None:
    vendor.add(
        f"{POLY}/v2/reference/news",
        Reply(fixture("polygon", "news_error_not_authorized.json"), status=403),
    )
    source = PolygonNews("pk", session=fake_session(vendor), base_url=POLY)
    with pytest.raises(SourceError) as info:
        source.fetch(since=SINCE)
    assert info.value.permanent is True
    assert "not entitled" in str(info.value)
    assert "pk" not in str(info.value)
    assert info.value.not_entitled  # remembered for a day: the next fetch makes no call
    with pytest.raises(SourceError):
        source.fetch(since=SINCE)
    assert len(vendor.requests) == 1

    vendor.routes.clear()
    vendor.add(f"{POLY}/v2/reference/news", Reply(b"<html>502</html>", status=502))
    source = PolygonNews("pk2", session=fake_session(vendor), base_url=POLY)  # another key
    with pytest.raises(SourceError) as info:
        source.fetch(since=SINCE)
    assert info.value.permanent is False


def test_polygon_without_key_is_a_permanent_error() -> None:
    with pytest.raises(SourceError) as info:
        PolygonNews("", base_url=POLY).fetch(since=SINCE)
    assert info.value.permanent


def test_newsapi_headlines_and_everything_with_header_key(vendor: FakeVendor) -> None:
    vendor.add(f"{NEWSAPI}/v2/top-headlines", fixture("newsapi", "top_headlines.json"))
    vendor.add(f"{NEWSAPI}/v2/everything", fixture("newsapi", "everything_AAPL.json"))
    source = NewsApiSource("nk", session=fake_session(vendor), base_url=NEWSAPI)

    result = source.fetch(since=SINCE, symbols=["AAPL"], names={"AAPL": "Apple Inc."})

    assert [i.title for i in result.items] == [
        "Stocks rally as Treasury yields fall; Microsoft leads tech higher",
        "ON Semiconductor is ON the move; IT spending is ALL up, says A analyst",
        "Apple unveils a new Mac Pro",
    ]
    assert result.items[0].description == "The S&P 500 rose 1.2% as Microsoft Corp (MSFT) gained."
    assert result.items[2].image_url == ""  # javascript: URL dropped
    assert result.skipped == 1  # the "[Removed]" item without a title
    assert all(r.headers["X-Api-Key"] == "nk" for r in vendor.requests)
    assert "nk" not in "".join(r.url for r in vendor.requests)
    assert vendor.query(1)["q"] == '"AAPL" OR "Apple Inc."'


@pytest.mark.parametrize(
    ("name", "status", "permanent"),
    [("error_api_key_invalid.json", 401, True), ("error_rate_limited.json", 429, False)],
)
def test_newsapi_errors(vendor: FakeVendor, name: str, status: int, permanent: bool) -> None:
    vendor.add(f"{NEWSAPI}/v2/top-headlines", Reply(fixture("newsapi", name), status=status))
    with pytest.raises(SourceError) as info:
        NewsApiSource("nk", session=fake_session(vendor), base_url=NEWSAPI).fetch(since=SINCE)
    assert info.value.permanent is permanent


def test_newsapi_error_status_in_a_200_body(vendor: FakeVendor) -> None:
    vendor.add(f"{NEWSAPI}/v2/top-headlines", fixture("newsapi", "error_api_key_invalid.json"))
    with pytest.raises(SourceError) as info:
        NewsApiSource("nk", session=fake_session(vendor), base_url=NEWSAPI).fetch(since=SINCE)
    assert info.value.permanent and "apiKeyInvalid" in str(info.value)


def test_finnhub_company_news(vendor: FakeVendor) -> None:
    vendor.add(
        f"{FINN}/company-news",
        fixture("finnhub", "company_news_AAPL.json"),
        params={"symbol": "AAPL"},
    )
    source = FinnhubNews("fk", session=fake_session(vendor), base_url=FINN)

    result = source.fetch(since=SINCE, symbols=["AAPL"])

    assert len(result.items) == 1
    item = result.items[0]
    assert item.published_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert item.symbols == ("AAPL",)
    assert item.publisher == "Yahoo"
    assert result.skipped == 2  # junk time; not an object
    assert vendor.requests[0].headers["X-Finnhub-Token"] == "fk"
    assert vendor.query(0)["from"] == "2026-11-01"


def test_rss_feed_parsed_from_bytes_with_dates_and_plain_text(vendor: FakeVendor) -> None:
    url = "https://www.federalreserve.gov/feeds/press_all.xml"
    vendor.add(
        url, Reply(fixture("rss", "fed_press.xml"), headers={"Content-Type": "application/rss+xml"})
    )
    source = RssSource(Feed("fed", url, "Federal Reserve"), session=fake_session(vendor))

    result = source.fetch(since=SINCE)

    assert source.name == "rss:fed"
    assert [i.title for i in result.items] == [
        "Federal Reserve issues FOMC statement",
        "Agencies announce results of stress tests",
    ]
    assert result.items[0].published_at == datetime(2026, 11, 18, 19, 0, tzinfo=UTC)
    assert result.items[0].description == "Federal Reserve issues FOMC statement"
    assert result.items[0].publisher == "Federal Reserve"
    assert result.skipped == 1  # no date
    # `since` filters older entries
    assert (
        source.fetch(since=datetime(2026, 11, 20, tzinfo=UTC)).items[0].title.startswith("Agencies")
    )


def test_rss_sec_gets_the_declared_user_agent(vendor: FakeVendor, settings) -> None:
    url = "https://www.sec.gov/news/pressreleases.rss"
    vendor.add(
        url, Reply(fixture("rss", "sec_press.xml"), headers={"Content-Type": "application/rss+xml"})
    )
    source = RssSource(
        Feed("sec", url, "SEC"),
        session=fake_session(vendor),
        sec_user_agent="Qunex ops@example.com",
    )

    result = source.fetch(since=SINCE)

    assert vendor.requests[0].headers["User-Agent"] == "Qunex ops@example.com"
    assert result.items[0].description == "The SEC today charged a company."
    assert result.items[0].published_at == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def test_atom_feed_and_other_hosts_keep_the_app_user_agent(vendor: FakeVendor) -> None:
    url = "https://home.treasury.gov/feed.xml"
    vendor.add(
        url,
        Reply(
            fixture("rss", "treasury_atom.xml"), headers={"Content-Type": "application/atom+xml"}
        ),
    )
    source = RssSource(
        Feed("treasury", url, "Treasury"),
        session=fake_session(vendor),
        sec_user_agent="Qunex ops@example.com",
    )

    result = source.fetch(since=SINCE)

    assert result.items[0].title == "Treasury announces refunding amounts"
    assert "Qunex ops" not in vendor.requests[0].headers["User-Agent"]


def test_rss_garbage_is_a_transient_error(vendor: FakeVendor) -> None:
    url = "https://www.bls.gov/feed/bls_latest.rss"
    vendor.add(url, fixture("rss", "bad_gateway.html"))
    with pytest.raises(SourceError) as info:
        RssSource(Feed("bls", url, "BLS"), session=fake_session(vendor)).fetch(since=SINCE)
    assert info.value.permanent is False


def test_feed_setting_is_validated() -> None:
    assert parse_feed_setting(["fed|https://x.example/f.xml|Federal Reserve"]) == [
        Feed("fed", "https://x.example/f.xml", "Federal Reserve")
    ]
    with pytest.raises(ValueError, match="NEWS_RSS_FEEDS entry"):
        parse_feed_setting(["fed|file:///etc/passwd|x"])
