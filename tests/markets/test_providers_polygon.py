from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests

from markets.providers import (
    BadResponse,
    Bar,
    NotFound,
    PolygonProvider,
    ProviderError,
    RateLimited,
)
from tests.markets import FakeVendor, Reply, fake_session, fixture

API = "https://api.polygon.io"
AGGS = f"{API}/v2/aggs/ticker/AAPL/range/1/day/2026-11-23/2026-11-27"
SNAPSHOT = f"{API}/v2/snapshot/locale/us/markets/stocks/tickers"


def poly(name: str) -> bytes:
    return fixture("polygon", name)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def polygon(vendor: FakeVendor) -> PolygonProvider:
    return PolygonProvider("pk_test", fake_session(vendor))


def test_daily_bars_follow_next_url_and_parse(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(AGGS, poly("aggs_AAPL_page1.json"))
    vendor.add(
        f"{API}/v2/aggs/ticker/AAPL/range/1/day/1795669200000/2026-11-27",
        poly("aggs_AAPL_page2.json"),
        params={"cursor": "bGltaXQ9MyZzb3J0PWFzYw"},
    )

    bars = polygon.daily_bars("AAPL", date(2026, 11, 23), date(2026, 11, 27))

    # Thanksgiving (11-26) has no bar; `t` is midnight New York, not UTC
    assert [b.date for b in bars] == [
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
    ]
    assert bars[0] == Bar(
        symbol="AAPL",
        date=date(2026, 11, 23),
        open=Decimal("274.5"),
        high=Decimal("277.85"),
        low=Decimal("273.9"),
        close=Decimal("276.97"),
        adj_close=Decimal("276.97"),
        volume=41567321,
        source="polygon",
    )
    first = vendor.query(0)
    assert first == {"adjusted": "true", "sort": "asc", "limit": "50000"}
    assert "apiKey" not in vendor.requests[1].url
    assert all(r.headers["Authorization"] == "Bearer pk_test" for r in vendor.requests)
    assert vendor.requests[0].headers["User-Agent"].startswith("Qunex/")


def test_daily_bars_empty_range(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(
        f"{API}/v2/aggs/ticker/ZZZZ/range/1/day/2026-11-23/2026-11-27", poly("aggs_empty.json")
    )

    assert polygon.daily_bars("ZZZZ", date(2026, 11, 23), date(2026, 11, 27)) == []


def test_next_url_off_host_is_refused(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    body = poly("aggs_AAPL_page1.json").replace(
        b"https://api.polygon.io/", b"https://evil.example/"
    )
    vendor.add(AGGS, body)

    with pytest.raises(BadResponse, match="off-host"):
        polygon.daily_bars("AAPL", date(2026, 11, 23), date(2026, 11, 27))
    assert len(vendor.requests) == 1


def test_quotes_one_snapshot_call_for_many_symbols(
    vendor: FakeVendor, polygon: PolygonProvider
) -> None:
    vendor.add(SNAPSHOT, poly("snapshot_tickers_AAPL_MSFT.json"))

    quotes = polygon.quotes(["AAPL", "MSFT", "NOPE"])

    assert len(vendor.requests) == 1
    assert vendor.query() == {"tickers": "AAPL,MSFT,NOPE"}
    assert set(quotes) == {"AAPL", "MSFT"}  # an unknown ticker is simply absent
    aapl = quotes["AAPL"]
    assert aapl.price == Decimal("280.41")
    assert aapl.change == Decimal("0.81")
    assert aapl.change_pct == Decimal("0.2897")
    assert aapl.volume == 15402871
    assert aapl.as_of == datetime(2026, 11, 27, 17, 59, 58, 123456, tzinfo=UTC)
    assert aapl.source == "polygon"
    # no lastTrade (plan without trades): the last minute bar's close
    assert quotes["MSFT"].price == Decimal("503.9")


def test_quotes_are_chunked(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(SNAPSHOT, poly("snapshot_tickers_AAPL_MSFT.json"))
    polygon.SNAPSHOT_CHUNK = 2

    polygon.quotes(["AAPL", "MSFT", "IBM", "KO", "PEP"])

    assert [q["tickers"] for q in map(vendor.query, range(3))] == ["AAPL,MSFT", "IBM,KO", "PEP"]


def test_quote_single_unknown_is_not_found(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(SNAPSHOT, poly("snapshot_tickers_AAPL_MSFT.json"))

    with pytest.raises(NotFound):
        polygon.quote("NOPE")


def test_ticker_details(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/tickers/AAPL", poly("ticker_details_AAPL.json"))

    info = polygon.ticker_details("AAPL")

    assert info.name == "Apple Inc."
    assert info.exchange == "NASDAQ"
    assert info.industry == "ELECTRONIC COMPUTERS"
    assert info.market_cap == 4131460000000
    assert info.currency == "USD"
    assert info.source == "polygon"


def test_ticker_details_404_is_not_found(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/tickers/NOPE", Reply(poly("ticker_not_found.json"), 404))

    with pytest.raises(NotFound) as exc:
        polygon.ticker_details("NOPE")

    assert exc.value.permanent is True
    assert exc.value.symbol == "NOPE"
    assert "Ticker not found" in str(exc.value)


def test_splits(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/splits", poly("splits_AAPL.json"), params={"ticker": "AAPL"})

    splits = polygon.splits("AAPL")

    assert [(s.ex_date, s.ratio_from, s.ratio_to) for s in splits] == [
        (date(2014, 6, 9), 1, 7),
        (date(2020, 8, 31), 1, 4),
    ]


def test_dividends_follow_pages(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(
        f"{API}/v3/reference/dividends", poly("dividends_AAPL.json"), params={"ticker": "AAPL"}
    )
    vendor.add(f"{API}/v3/reference/dividends", poly("dividends_AAPL_page2.json"))

    dividends = polygon.dividends("AAPL")

    assert [d.ex_date for d in dividends] == [
        date(2025, 5, 12),
        date(2025, 8, 11),
        date(2025, 11, 10),
    ]
    last = dividends[-1]
    assert last.amount == Decimal("0.26")
    assert last.pay_date == date(2025, 11, 13)
    assert last.record_date == date(2025, 11, 10)
    assert last.frequency == 4
    assert last.currency == "USD"


@pytest.mark.parametrize(
    ("reply", "error", "permanent"),
    [
        (Reply(poly("error_rate_limited.json"), 429, {"Retry-After": "12"}), RateLimited, False),
        (Reply(poly("error_unknown_api_key.json"), 401), ProviderError, True),
        (Reply(poly("error_not_authorized.json"), 403), ProviderError, True),
        (Reply(poly("bad_gateway.html"), 502), ProviderError, False),
        (Reply(poly("bad_gateway.html"), 200), BadResponse, False),
        (Reply(b'{"status": "OK", "results": {"ticker": "AAPL"}}'), None, None),
        (Reply(b'{"status": "OK"}'), BadResponse, False),
        (Reply(b"[]"), BadResponse, False),
    ],
)
def test_errors_are_classified(
    vendor: FakeVendor,
    polygon: PolygonProvider,
    reply: Reply,
    error: type[ProviderError] | None,
    permanent: bool | None,
) -> None:
    vendor.add(f"{API}/v3/reference/tickers/AAPL", reply)

    if error is None:  # a sparse but valid body parses
        assert polygon.ticker_details("AAPL").name == ""
        return
    with pytest.raises(error) as exc:
        polygon.ticker_details("AAPL")

    assert type(exc.value) is error
    assert exc.value.permanent is permanent
    assert exc.value.vendor == "polygon"
    assert "pk_test" not in str(exc.value)


def test_rate_limited_keeps_retry_after(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(SNAPSHOT, Reply(poly("error_rate_limited.json"), 429, {"Retry-After": "12"}))

    with pytest.raises(RateLimited) as exc:
        polygon.quotes(["AAPL"])

    assert exc.value.retry_after == 12
    assert "maximum requests per minute" in str(exc.value)


def test_errors_are_classified_on_a_plain_session_too(vendor: FakeVendor) -> None:
    session = requests.Session()  # no raise_for_status hook
    session.mount("https://", vendor)
    vendor.add(f"{API}/v3/reference/tickers/NOPE", Reply(poly("ticker_not_found.json"), 404))

    with pytest.raises(NotFound):
        PolygonProvider("pk_test", session).ticker_details("NOPE")


def test_a_malformed_snapshot_item_is_left_out_not_the_batch(
    vendor: FakeVendor, polygon: PolygonProvider
) -> None:
    body = poly("snapshot_tickers_AAPL_MSFT.json").replace(
        b'"updated": 1795802396000000000,', b""
    )  # MSFT loses its timestamp
    vendor.add(SNAPSHOT, body)

    assert set(polygon.quotes(["AAPL", "MSFT"])) == {"AAPL"}


def test_next_url_on_polygons_other_host_is_asked_of_our_base_url(
    vendor: FakeVendor, polygon: PolygonProvider
) -> None:
    """Polygon now answers as api.massive.com: the next page is asked of base_url (our key
    goes nowhere else), with the same path and query."""
    body = poly("aggs_AAPL_page1.json").replace(
        b"https://api.polygon.io/", b"https://api.massive.com/"
    )
    vendor.add(AGGS, body)
    vendor.add(
        f"{API}/v2/aggs/ticker/AAPL/range/1/day/1795669200000/2026-11-27",
        poly("aggs_AAPL_page2.json"),
        params={"cursor": "bGltaXQ9MyZzb3J0PWFzYw"},
    )

    bars = polygon.daily_bars("AAPL", date(2026, 11, 23), date(2026, 11, 27))

    assert len(bars) == 4
    assert all(r.url.startswith(API) for r in vendor.requests)


@pytest.mark.parametrize(
    "body",
    [b'{"status": "OK", "results": [{"T": "X", "o": "x"}]}', b'{"status": "OK", "results": 7}'],
)
def test_a_garbage_grouped_answer_is_a_bad_response(
    vendor: FakeVendor, polygon: PolygonProvider, body: bytes
) -> None:
    vendor.add(f"{API}/v2/aggs/grouped/locale/us/market/stocks/2026-11-24", body)
    with pytest.raises(BadResponse):
        polygon.grouped_daily(date(2026, 11, 24))


def test_a_403_on_snapshots_is_remembered_by_the_budget(vendor: FakeVendor) -> None:
    from markets.budget import VendorBudget
    from markets.providers import NotEntitled

    budget = VendorBudget("polygon", key="pk_test", per_minute=5)
    polygon = PolygonProvider("pk_test", fake_session(vendor), budget=budget)
    vendor.add(SNAPSHOT, Reply(poly("error_not_authorized.json"), 403))

    with pytest.raises(NotEntitled):
        polygon.quotes(["AAPL"])
    with pytest.raises(NotEntitled):
        polygon.quotes(["AAPL"])
    assert len(vendor.requests) == 1  # the second was never sent
    assert budget.calls == 1


def test_a_429_blocks_the_budget_for_its_retry_after(vendor: FakeVendor) -> None:
    from markets.budget import VendorBudget
    from markets.providers import BudgetSpent

    budget = VendorBudget("polygon", key="pk_test2", per_minute=5)
    polygon = PolygonProvider("pk_test2", fake_session(vendor), budget=budget)
    vendor.add(SNAPSHOT, Reply(poly("error_rate_limited.json"), 429, {"Retry-After": "12"}))

    with pytest.raises(RateLimited):
        polygon.quotes(["AAPL"])
    with pytest.raises(BudgetSpent):  # no wait allowed: not sent at all
        polygon.quotes(["AAPL"])
    assert len(vendor.requests) == 1
    assert 11 <= budget.remaining()["blocked_for"] <= 12
