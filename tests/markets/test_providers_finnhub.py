from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from markets.providers import FinnhubProvider, NotFound, ProviderError, RateLimited
from tests.markets import FakeVendor, Reply, fake_session, fixture

QUOTE = "https://finnhub.io/api/v1/quote"
PROFILE = "https://finnhub.io/api/v1/stock/profile2"


def fh(name: str) -> bytes:
    return fixture("finnhub", name)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def finnhub(vendor: FakeVendor) -> FinnhubProvider:
    return FinnhubProvider("fh_test", fake_session(vendor))


def test_quote(vendor: FakeVendor, finnhub: FinnhubProvider) -> None:
    vendor.add(QUOTE, fh("quote_AAPL.json"), params={"symbol": "AAPL"})

    quote = finnhub.quote("AAPL")

    assert quote.symbol == "AAPL"
    assert quote.price == Decimal("280.41")
    assert quote.change == Decimal("0.81")
    assert quote.change_pct == Decimal("0.2897")
    assert quote.volume is None
    assert quote.as_of == datetime(2026, 11, 27, 17, 59, 58, tzinfo=UTC)
    assert quote.source == "finnhub"
    request = vendor.requests[0]
    assert request.headers["X-Finnhub-Token"] == "fh_test"
    assert "fh_test" not in request.url


def test_unknown_symbol_quote_is_not_found(vendor: FakeVendor, finnhub: FinnhubProvider) -> None:
    vendor.add(QUOTE, fh("quote_unknown.json"))

    with pytest.raises(NotFound) as exc:
        finnhub.quote("NOPE")

    assert exc.value.permanent is True


def test_quotes_loop_one_call_per_symbol_and_leave_out_unknown(
    vendor: FakeVendor, finnhub: FinnhubProvider
) -> None:
    vendor.add(QUOTE, fh("quote_AAPL.json"), params={"symbol": "AAPL"})
    vendor.add(QUOTE, fh("quote_unknown.json"), params={"symbol": "NOPE"})

    quotes = finnhub.quotes(["AAPL", "NOPE"])

    assert list(quotes) == ["AAPL"]
    assert len(vendor.requests) == 2


def test_profile(vendor: FakeVendor, finnhub: FinnhubProvider) -> None:
    vendor.add(PROFILE, fh("profile2_AAPL.json"), params={"symbol": "AAPL"})

    info = finnhub.ticker_details("AAPL")

    assert info.name == "Apple Inc"
    assert info.exchange == "NASDAQ"
    assert info.industry == "Technology"
    assert info.market_cap == 4_131_460_500_000  # Finnhub sends millions
    assert info.currency == "USD"
    assert info.country == "US"
    assert info.source == "finnhub"


def test_unknown_profile_is_not_found(vendor: FakeVendor, finnhub: FinnhubProvider) -> None:
    vendor.add(PROFILE, fh("profile2_unknown.json"))

    with pytest.raises(NotFound):
        finnhub.ticker_details("NOPE")


@pytest.mark.parametrize(
    ("reply", "error", "permanent"),
    [
        (Reply(fh("error_api_limit.json"), 429), RateLimited, False),
        (Reply(fh("error_invalid_key.json"), 401), ProviderError, True),
        (Reply(fh("error_no_access.json"), 403), ProviderError, True),
        (Reply(b"<html><body>Bad Gateway</body></html>", 502), ProviderError, False),
        (Reply(b'{"c": "oops", "t": 1795802398}'), ProviderError, False),
    ],
)
def test_errors_are_classified(
    vendor: FakeVendor,
    finnhub: FinnhubProvider,
    reply: Reply,
    error: type[ProviderError],
    permanent: bool,
) -> None:
    vendor.add(QUOTE, reply)

    with pytest.raises(error) as exc:
        finnhub.quote("AAPL")

    assert exc.value.permanent is permanent
    assert exc.value.vendor == "finnhub"


def test_unsupported_methods_raise_not_implemented(finnhub: FinnhubProvider) -> None:
    with pytest.raises(NotImplementedError):
        finnhub.daily_bars("AAPL", date(2026, 11, 23), date(2026, 11, 27))
    with pytest.raises(NotImplementedError):
        finnhub.splits("AAPL")
    with pytest.raises(NotImplementedError):
        finnhub.dividends("AAPL")
