from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from markets.providers import (
    AlphaVantageProvider,
    BadResponse,
    NotFound,
    ProviderError,
    RateLimited,
)
from tests.markets import FakeVendor, Reply, fake_session, fixture

QUERY = "https://www.alphavantage.co/query"


def av(name: str) -> bytes:
    return fixture("alphavantage", name)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def alpha(vendor: FakeVendor) -> AlphaVantageProvider:
    return AlphaVantageProvider("av_test", fake_session(vendor))


@time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False)
def test_daily_bars_compact_filtered_oldest_first(
    vendor: FakeVendor, alpha: AlphaVantageProvider
) -> None:
    vendor.add(
        QUERY, av("time_series_daily_IBM_compact.json"), params={"function": "TIME_SERIES_DAILY"}
    )

    bars = alpha.daily_bars("IBM", date(2026, 11, 23), date(2026, 11, 27))

    assert [b.date for b in bars] == [
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 27),
    ]
    last = bars[-1]
    assert (last.open, last.high, last.low, last.close) == (
        Decimal("305.1000"),
        Decimal("306.4500"),
        Decimal("304.2000"),
        Decimal("305.9800"),
    )
    assert last.adj_close is None  # TIME_SERIES_DAILY is as traded
    assert last.volume == 1873342
    assert last.source == "alphavantage"
    assert vendor.query() == {
        "function": "TIME_SERIES_DAILY",
        "symbol": "IBM",
        "outputsize": "compact",
        "apikey": "av_test",
    }


@time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False)
def test_daily_bars_old_range_asks_for_full(
    vendor: FakeVendor, alpha: AlphaVantageProvider
) -> None:
    vendor.add(QUERY, av("time_series_daily_IBM_compact.json"))

    alpha.daily_bars("IBM", date(2020, 1, 1), date(2026, 11, 27))

    assert vendor.query()["outputsize"] == "full"


@time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=UTC), tick=False)
def test_global_quote_after_the_close(vendor: FakeVendor, alpha: AlphaVantageProvider) -> None:
    vendor.add(QUERY, av("global_quote_IBM.json"), params={"function": "GLOBAL_QUOTE"})

    quote = alpha.quote("IBM")

    assert quote.price == Decimal("305.9800")
    assert quote.change == Decimal("0.9600")
    assert quote.change_pct == Decimal("0.3147")
    assert quote.volume == 1873342
    # only a date is sent: as_of is that day's 16:00 in New York
    assert quote.as_of == datetime(2026, 11, 27, 21, tzinfo=UTC)
    assert quote.source == "alphavantage"


@time_machine.travel(datetime(2026, 11, 27, 15, 30, tzinfo=UTC), tick=False)
def test_global_quote_during_the_session_is_as_of_its_open_not_now(
    vendor: FakeVendor, alpha: AlphaVantageProvider
) -> None:
    """Alpha Vantage sends only the trading day: a quote of a session still going carries
    that session's 09:30 open, so its age never looks smaller than the vendor says."""
    vendor.add(QUERY, av("global_quote_IBM.json"))

    assert alpha.quote("IBM").as_of == datetime(2026, 11, 27, 14, 30, tzinfo=UTC)


def test_unknown_symbol_global_quote_is_not_found(
    vendor: FakeVendor, alpha: AlphaVantageProvider
) -> None:
    vendor.add(QUERY, av("global_quote_unknown.json"))

    with pytest.raises(NotFound):
        alpha.quote("NOPE")


def test_overview(vendor: FakeVendor, alpha: AlphaVantageProvider) -> None:
    vendor.add(QUERY, av("overview_MSFT.json"), params={"function": "OVERVIEW"})

    info = alpha.ticker_details("MSFT")

    assert info.name == "Microsoft Corporation"
    assert info.exchange == "NASDAQ"
    assert info.sector == "Technology"
    assert info.industry == "Services-Prepackaged Software"
    assert info.market_cap == 3745120000000
    assert info.currency == "USD"
    assert info.source == "alphavantage"


def test_unknown_overview_is_not_found(vendor: FakeVendor, alpha: AlphaVantageProvider) -> None:
    vendor.add(QUERY, av("overview_unknown.json"))

    with pytest.raises(NotFound):
        alpha.ticker_details("NOPE")


@pytest.mark.parametrize(
    ("reply", "error", "permanent"),
    [
        (Reply(av("note_throttle.json")), RateLimited, False),
        (Reply(av("information_daily_limit.json")), RateLimited, False),
        (Reply(av("information_premium_endpoint.json")), ProviderError, True),
        (Reply(av("error_invalid_call.json")), NotFound, True),
        (Reply(av("error_apikey.json")), ProviderError, True),
        (Reply(av("html_error_page.html")), BadResponse, False),
        (Reply(av("html_error_page.html"), 503), ProviderError, False),
        (Reply(b'{"Meta Data": {}}'), BadResponse, False),
        (Reply(b'{"Time Series (Daily)": {"2026-11-27": {"1. open": "x"}}}'), BadResponse, False),
    ],
)
def test_errors_are_classified(
    vendor: FakeVendor,
    alpha: AlphaVantageProvider,
    reply: Reply,
    error: type[ProviderError],
    permanent: bool,
) -> None:
    vendor.add(QUERY, reply)

    with pytest.raises(error) as exc:
        alpha.daily_bars("IBM", date(2026, 11, 23), date(2026, 11, 27))

    assert type(exc.value) is error
    assert exc.value.permanent is permanent
    assert exc.value.vendor == "alphavantage"
    assert "av_test" not in str(exc.value)  # the key travels in the URL; errors never quote it


def test_unsupported_methods_raise_not_implemented(alpha: AlphaVantageProvider) -> None:
    with pytest.raises(NotImplementedError):
        alpha.splits("IBM")
    with pytest.raises(NotImplementedError):
        alpha.dividends("IBM")
