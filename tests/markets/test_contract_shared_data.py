"""Contract tests: our parsers against real vendor responses recorded by public projects.

The files live outside the repository in ../shared/data (see its SOURCES.md) and are read
in place, never copied. Without that folder this module is skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
if not SHARED.is_dir():
    pytest.skip(f"recorded vendor responses not found at {SHARED}", allow_module_level=True)

from markets.providers import AlphaVantageProvider, PolygonProvider  # noqa: E402
from markets.providers.alphavantage import check_body, parse_ohlcv  # noqa: E402
from markets.providers.polygon import parse_snapshot_ticker  # noqa: E402
from tests.markets import FakeVendor, fake_session  # noqa: E402

API = "https://api.polygon.io"
AV = "https://www.alphavantage.co/query"


def shared(name: str) -> bytes:
    return (SHARED / name).read_bytes()


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor()


@pytest.fixture
def polygon(vendor: FakeVendor) -> PolygonProvider:
    return PolygonProvider("pk", fake_session(vendor))


@pytest.fixture
def alpha(vendor: FakeVendor) -> AlphaVantageProvider:
    return AlphaVantageProvider("av", fake_session(vendor))


# --- Polygon ----------------------------------------------------------------------------------


def test_polygon_aggs(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(
        f"{API}/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04",
        shared("polygon/aggs_AAPL_1_day_2005-04-01_2005-04-04.json"),
    )

    bars = polygon.daily_bars("AAPL", date(2005, 4, 1), date(2005, 4, 4))

    # 2005-04-03 was the DST switch: both `t` values are midnight in New York
    assert [b.date for b in bars] == [date(2005, 4, 1), date(2005, 4, 4)]
    first = bars[0]
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("1.5032"),
        Decimal("1.5064"),
        Decimal("1.4489"),
        Decimal("1.4604"),
    )
    assert first.adj_close == first.close  # "adjusted": true
    assert first.volume == 642646396
    assert {b.source for b in bars} == {"polygon"}


def test_polygon_prev_close(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v2/aggs/ticker/AAPL/prev", shared("polygon/prev_close_AAPL.json"))

    bar = polygon.previous_close("AAPL")

    assert bar.date == date(2022, 4, 26)
    assert bar.close == Decimal("156.8")
    assert bar.volume == 95595226


def test_polygon_snapshot_all_tickers(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(
        f"{API}/v2/snapshot/locale/us/markets/stocks/tickers",
        shared("polygon/snapshot_us_stocks_all_tickers.json"),
    )

    quotes = polygon.quotes(["BCAT", "AAPL"])

    assert list(quotes) == ["BCAT"]
    bcat = quotes["BCAT"]
    assert bcat.price == Decimal("20.506")
    assert bcat.change == Decimal("-0.124")
    assert bcat.change_pct == Decimal("-0.601")
    assert bcat.volume == 37216
    assert bcat.as_of.tzinfo == UTC
    assert bcat.as_of.date() == date(2020, 11, 12)


def test_polygon_snapshot_single_ticker() -> None:
    payload = json.loads(shared("polygon/snapshot_us_stocks_ticker_AAPL.json"), parse_float=Decimal)

    quote = parse_snapshot_ticker(payload["ticker"])

    assert quote.symbol == "AAPL"
    assert quote.price == Decimal("159.99")
    assert quote.change_pct == Decimal("-2.231")
    assert quote.volume == 68840127
    assert quote.as_of == datetime(2022, 4, 29, 17, 5, 48, 294080, tzinfo=UTC)


def test_polygon_ticker_details(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/tickers/AAPL", shared("polygon/ticker_details_v3_AAPL.json"))

    info = polygon.ticker_details("AAPL")

    assert info.symbol == "AAPL"
    assert info.name == "Apple Inc."
    assert info.exchange == "NASDAQ"
    assert info.industry == "ELECTRONIC COMPUTERS"
    assert info.market_cap == 2488795282370
    assert info.currency == "USD"
    assert info.country == "US"


def test_polygon_splits(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/splits", shared("polygon/reference_splits.json"))

    shop = polygon.splits("SHOP")  # the recording holds many tickers; only SHOP's are kept
    brw = polygon.splits("BRW")

    assert [(s.ex_date, s.ratio_from, s.ratio_to) for s in shop] == [
        (date(2022, 6, 22), 1, 10),
        (date(2022, 6, 29), 1, 10),
    ]
    assert (brw[0].ratio_from, brw[0].ratio_to) == (2, 1)  # a reverse split


def test_polygon_dividends(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/dividends", shared("polygon/reference_dividends.json"))

    airtp = polygon.dividends("AIRTP")

    assert [d.ex_date for d in airtp] == [date(2023, 8, 11), date(2023, 11, 13)]
    assert airtp[-1].amount == Decimal("0.5")
    assert airtp[-1].pay_date == date(2023, 11, 15)
    assert airtp[-1].record_date == date(2023, 11, 14)
    assert airtp[-1].declaration_date == date(2022, 2, 10)
    assert airtp[-1].frequency == 4
    assert airtp[-1].currency == "USD"  # the recording has no currency field
    assert len(polygon.dividends("CSSEN")) == 8


def test_polygon_grouped_daily(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(
        f"{API}/v2/aggs/grouped/locale/us/market/stocks/2005-04-04",
        shared("polygon/grouped_daily_us_stocks_2005-04-04.json"),
        params={"adjusted": "true"},
    )

    (bar,) = polygon.grouped_daily(date(2005, 4, 4))

    assert (bar.symbol, bar.date, bar.close, bar.adj_close) == (
        "GIK", date(2005, 4, 4), Decimal("10.02"), Decimal("10.02")
    )  # fmt: skip
    assert (bar.open, bar.high, bar.low, bar.volume) == (
        Decimal("9.99"), Decimal("10.02"), Decimal("9.9"), 895345
    )  # fmt: skip


def test_polygon_reference_tickers_page(vendor: FakeVendor, polygon: PolygonProvider) -> None:
    vendor.add(f"{API}/v3/reference/tickers", shared("polygon/reference_tickers_list.json"))

    infos, cursor = polygon.reference_page("tickers")

    assert [(i.symbol, i.name, i.exchange, i.asset_type) for i in infos] == [
        ("A", "Agilent Technologies Inc.", "NYSE", "stock"),
        ("AA", "Alcoa Corporation", "NYSE", "stock"),
    ]
    # next_url names api.massive.com: only its cursor is kept, asked of our own base URL
    assert cursor and cursor.startswith("YWN0aXZl")
    assert vendor.query() == {
        "market": "stocks",
        "active": "true",
        "limit": "1000",
        "sort": "ticker",
    }


def test_polygon_market_wide_splits_and_dividends(
    vendor: FakeVendor, polygon: PolygonProvider
) -> None:
    vendor.add(f"{API}/v3/reference/splits", shared("polygon/reference_splits.json"))
    vendor.add(f"{API}/v3/reference/dividends", shared("polygon/reference_dividends.json"))

    splits, more = polygon.reference_page(
        "splits", since=date(2022, 1, 1), until=date(2022, 12, 31)
    )
    dividends, _ = polygon.reference_page("dividends", since=date(2023, 1, 1))

    assert more is None and len(splits) == 10
    assert {s.symbol for s in splits} >= {"GOOGL", "GOOG", "SHOP"}
    assert vendor.query(0) == {
        "limit": "1000", "execution_date.gte": "2022-01-01", "execution_date.lte": "2022-12-31"
    }  # fmt: skip
    assert len(dividends) == 10 and {d.symbol for d in dividends} >= {"CSSEN", "AIRTP"}


# --- Alpha Vantage ----------------------------------------------------------------------------


def test_alphavantage_global_quote(vendor: FakeVendor, alpha: AlphaVantageProvider) -> None:
    vendor.add(AV, shared("alphavantage/global_quote_MSFT.json"))

    quote = alpha.quote("MSFT")

    assert quote.symbol == "MSFT"
    assert quote.price == Decimal("112.1300")
    assert quote.change == Decimal("-0.6600")
    assert quote.change_pct == Decimal("-0.5852")
    assert quote.volume == 29062853
    assert quote.as_of == datetime(2018, 10, 5, 20, tzinfo=UTC)  # 16:00 New York (EDT)


def test_alphavantage_overview(vendor: FakeVendor, alpha: AlphaVantageProvider) -> None:
    vendor.add(AV, shared("alphavantage/overview_IBM.json"))

    info = alpha.ticker_details("IBM")

    assert info.name == "International Business Machines Corporation"
    assert info.exchange == "NYSE"
    assert info.sector == "Technology"
    assert info.industry == "Information Technology Services"
    assert info.market_cap == 114234572800
    assert info.currency == "USD"


def test_alphavantage_intraday_rows_share_the_daily_row_shape() -> None:
    # No recorded TIME_SERIES_DAILY exists; its rows use the same keys as the intraday ones.
    payload = json.loads(shared("alphavantage/time_series_intraday_1min_MSFT.json"))
    check_body(payload, "MSFT")  # a normal body raises nothing
    rows = payload["Time Series (1min)"]

    parsed = [parse_ohlcv(row) for row in rows.values()]

    assert len(parsed) == len(rows) > 0
    assert parsed[0] == (
        Decimal("86.4900"),
        Decimal("86.5000"),
        Decimal("86.4750"),
        Decimal("86.5000"),
        10494,
    )
