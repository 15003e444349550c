"""Bulk upserts: counts of created / updated / unchanged, a second identical load changes
nothing, bad records write nothing. Runs on SQLite (multi-row upsert) and on PostgreSQL
(COPY into a staging table), whichever DATABASE_URL selects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from markets import services
from markets.models import CorporateAction, DailyBar, Quote, Ticker
from markets.providers import Bar, Dividend, QuoteRecord, Split, TickerInfo
from markets.services import (
    IngestError,
    UpsertResult,
    bars_upsert,
    corporate_actions_upsert,
    quotes_upsert,
    tickers_upsert,
)
from tests.factories import TickerFactory

pytestmark = pytest.mark.django_db
D0 = date(2024, 1, 2)


def make_bars(symbol: str, n: int, *, close: str = "100.5", source: str = "polygon") -> list[Bar]:
    c = Decimal(close)
    return [
        Bar(symbol, D0 + timedelta(days=i), c, c + 1, c - 1, c, None, 1000 + i, source)
        for i in range(n)
    ]


def test_bars_created_then_unchanged_then_updated():
    TickerFactory(symbol="AAPL")
    TickerFactory(symbol="MSFT")
    bars = make_bars("AAPL", 30) + make_bars("MSFT", 20)
    assert bars_upsert(bars=bars) == UpsertResult(created=50)
    assert bars_upsert(bars=bars) == UpsertResult(unchanged=50)

    changed = make_bars("AAPL", 30)
    changed[5] = Bar(**{**_fields(changed[5]), "close": Decimal("101.25")})
    changed[6] = Bar(**{**_fields(changed[6]), "source": "finnhub"})
    more = make_bars("AAPL", 32)[30:]
    assert bars_upsert(bars=changed + more) == UpsertResult(created=2, updated=2, unchanged=28)

    stored = DailyBar.objects.get(ticker__symbol="AAPL", date=D0 + timedelta(days=5))
    assert stored.close == Decimal("101.25")
    assert DailyBar.objects.count() == 52


def test_more_decimals_than_stored_are_rounded_so_a_reload_is_unchanged():
    TickerFactory(symbol="AAPL")
    c = Decimal("187.1234567")
    bar = Bar("AAPL", D0, c, c, c, c, c, 1, "polygon")
    assert bars_upsert(bars=[bar]) == UpsertResult(created=1)
    assert bars_upsert(bars=[bar]) == UpsertResult(unchanged=1)
    assert DailyBar.objects.get().close == Decimal("187.123457")


def test_the_last_bar_for_a_day_wins():
    TickerFactory(symbol="AAPL")
    first, second = make_bars("AAPL", 1, close="10"), make_bars("AAPL", 1, close="11")
    assert bars_upsert(bars=first + second) == UpsertResult(created=1)
    assert DailyBar.objects.get().close == Decimal("11")


def test_a_bad_bar_writes_nothing_and_names_the_record():
    TickerFactory(symbol="AAPL")
    good = make_bars("AAPL", 3)
    bad = Bar(
        "AAPL",
        D0 + timedelta(days=9),
        Decimal(10),
        Decimal(9),
        Decimal(11),
        Decimal(10),
        None,
        5,
        "x",
    )
    with pytest.raises(IngestError) as err:
        bars_upsert(bars=[*good, bad])
    assert "AAPL 2024-01-11: high 9 is below low 11" in str(err.value)
    assert not DailyBar.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("close", Decimal("NaN"), "close NaN is not a positive price"),
        ("open", Decimal("-1"), "open -1 is not a positive price"),
        ("volume", -5, "volume -5 is not a count"),
        ("close", Decimal("1e13"), "not a positive price below 10^12"),
        ("date", "2024-01-02", "date '2024-01-02' is not a date"),
        ("source", "", "source '' must be 1-20 characters"),
    ],
)
def test_impossible_values_are_refused(field, value, message):
    TickerFactory(symbol="AAPL")
    bar = Bar(**{**_fields(make_bars("AAPL", 1)[0]), field: value})
    with pytest.raises(IngestError, match=message.replace("^", r"\^")):
        bars_upsert(bars=[bar])
    assert not DailyBar.objects.exists()


def test_unknown_ticker_writes_nothing():
    TickerFactory(symbol="AAPL")
    with pytest.raises(IngestError, match="unknown ticker"):
        bars_upsert(bars=make_bars("AAPL", 2) + make_bars("NOPE", 1))
    assert not DailyBar.objects.exists()


def test_bars_upsert_query_count_does_not_grow_with_rows():
    TickerFactory(symbol="AAPL")
    # SQLite: ticker ids, savepoint, max id, one multi-row upsert, release.
    # PostgreSQL (new bars): ticker ids, savepoint, stored spans, savepoint, COPY into the
    # table, release, release.
    with CaptureQueriesContext(connection) as one:
        bars_upsert(bars=make_bars("AAPL", 1))
    DailyBar.objects.all().delete()
    with CaptureQueriesContext(connection) as fifty:
        bars_upsert(bars=make_bars("AAPL", 50))
    assert len(one) == len(fifty)


def test_bars_upsert_of_nothing_does_nothing():
    assert bars_upsert(bars=[]) == UpsertResult()


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: set DATABASE_URL=postgres://...")


def _sql(queries: CaptureQueriesContext) -> str:
    return " ".join(q["sql"] for q in queries)


@pytest.mark.postgres
def test_postgres_new_bars_are_copied_straight_in_and_the_rest_staged():
    _postgres_only()
    TickerFactory(symbol="AAPL")
    bars = make_bars("AAPL", 300)
    with CaptureQueriesContext(connection) as queries:
        assert bars_upsert(bars=bars[:200]) == UpsertResult(created=200)
    assert "COPY markets_dailybar (ticker_id, date, open" in _sql(queries)
    assert "markets_bar_stage" not in _sql(queries)

    # the same days again: staged, compared, nothing written
    with CaptureQueriesContext(connection) as queries:
        assert bars_upsert(bars=bars[:200]) == UpsertResult(unchanged=200)
    assert "CREATE TEMP TABLE markets_bar_stage" in _sql(queries)
    assert "ON CONFLICT (ticker_id, date) DO UPDATE" in _sql(queries)

    # stored days and the days after them in one call; one stored day changed
    changed = [*bars[:199], Bar(**{**_fields(bars[199]), "volume": 7}), *bars[200:]]
    assert bars_upsert(bars=changed) == UpsertResult(created=100, updated=1, unchanged=199)
    assert DailyBar.objects.count() == 300
    assert DailyBar.objects.get(date=bars[199].date).volume == 7

    # a gap inside the stored span is filled through the staging table
    DailyBar.objects.filter(date=bars[150].date).delete()
    assert bars_upsert(bars=changed) == UpsertResult(created=1, unchanged=299)

    # twice in one transaction: the staging table of the first call is gone
    with transaction.atomic():
        bars_upsert(bars=bars[:10])
        assert bars_upsert(bars=bars[:10]) == UpsertResult(unchanged=10)


@pytest.mark.postgres
def test_postgres_a_day_stored_meanwhile_falls_back_to_the_upsert(monkeypatch):
    """Another transaction may store some of the days between the span query and the COPY
    (here: the split is told nothing is stored). The unique constraint refuses the COPY, its
    savepoint is rolled back, and every bar goes through the upsert, counted right."""
    _postgres_only()
    TickerFactory(symbol="AAPL")
    bars = make_bars("AAPL", 20)
    bars_upsert(bars=bars[:5])
    monkeypatch.setattr(services, "_split_by_span", lambda rows, spans: (rows, []))
    changed = [Bar(**{**_fields(bars[0]), "close": Decimal("99.5")}), *bars[1:]]
    assert bars_upsert(bars=changed) == UpsertResult(created=15, updated=1, unchanged=4)
    assert DailyBar.objects.count() == 20
    assert DailyBar.objects.get(date=D0).close == Decimal("99.5")


# --- quotes, tickers, corporate actions ----------------------------------------------------

T1 = datetime(2026, 11, 24, 21, tzinfo=UTC)


def q(symbol: str, price: str, as_of: datetime = T1, source: str = "polygon") -> QuoteRecord:
    return QuoteRecord(symbol, Decimal(price), Decimal("1.5"), Decimal("0.75"), 10, as_of, source)


def test_quotes_one_per_ticker_latest_wins():
    TickerFactory(symbol="AAPL")
    TickerFactory(symbol="MSFT")
    assert quotes_upsert(quotes=[q("AAPL", "200"), q("MSFT", "400")]) == UpsertResult(created=2)
    assert quotes_upsert(quotes=[q("AAPL", "200"), q("MSFT", "400")]) == UpsertResult(unchanged=2)
    later = T1 + timedelta(minutes=15)
    assert quotes_upsert(quotes=[q("AAPL", "201", later)]) == UpsertResult(updated=1)
    # an older quote (a stale vendor) never replaces a newer one
    assert quotes_upsert(quotes=[q("AAPL", "150", T1)]) == UpsertResult(unchanged=1)
    stored = Quote.objects.get(ticker__symbol="AAPL")
    assert (stored.price, stored.as_of) == (Decimal("201"), later)
    assert Quote.objects.count() == 2


def test_quote_with_a_bad_price_writes_nothing():
    TickerFactory(symbol="AAPL")
    with pytest.raises(IngestError, match="AAPL: price 0 is not a positive price"):
        quotes_upsert(quotes=[q("AAPL", "0")])
    assert not Quote.objects.exists()


def info(symbol: str, **over) -> TickerInfo:
    values = {
        "symbol": symbol,
        "name": "Apple Inc.",
        "exchange": "NASDAQ",
        "sector": "Information Technology",
        "industry": "Technology Hardware",
        "market_cap": 3_000_000_000_000,
        "currency": "usd",
        "country": "US",
        "source": "polygon",
    }
    return TickerInfo(**{**values, **over})


def test_tickers_upsert_creates_updates_and_keeps_known_values():
    assert tickers_upsert(infos=[info("aapl")]) == UpsertResult(created=1)
    assert tickers_upsert(infos=[info("AAPL")]) == UpsertResult(unchanged=1)
    # a vendor without a sector or a market cap does not blank the stored ones
    assert tickers_upsert(infos=[info("AAPL", sector="", market_cap=None)]) == UpsertResult(
        unchanged=1
    )
    assert tickers_upsert(infos=[info("AAPL", market_cap=3_100_000_000_000)]) == UpsertResult(
        updated=1
    )
    t = Ticker.objects.get()
    assert (t.symbol, t.sector, t.market_cap, t.currency) == (
        "AAPL",
        "Information Technology",
        3_100_000_000_000,
        "USD",
    )
    assert not t.is_demo


def test_tickers_upsert_sets_and_corrects_the_asset_type():
    TickerFactory(symbol="SPY", asset_type="stock")  # stored before it was typed
    infos = [info("SPY", name="SPDR S&P 500 ETF Trust"), info("QQQ"), info("AAPL")]
    types = {"spy": "etf", "QQQ": "etf"}  # AAPL: not given, so the default (stock)
    assert tickers_upsert(infos=infos, asset_types=types) == UpsertResult(created=2, updated=1)
    assert dict(Ticker.objects.values_list("symbol", "asset_type")) == {
        "AAPL": "stock",
        "QQQ": "etf",
        "SPY": "etf",
    }
    assert tickers_upsert(infos=infos, asset_types=types) == UpsertResult(unchanged=3)
    # without asset types (a vendor sync) the stored ones stay
    assert tickers_upsert(infos=infos) == UpsertResult(unchanged=3)
    assert Ticker.objects.get(symbol="SPY").asset_type == "etf"
    with pytest.raises(IngestError, match="SPY: asset type 'fund' is not one of stock, etf"):
        tickers_upsert(infos=infos, asset_types={"SPY": "fund"})
    assert Ticker.objects.get(symbol="SPY").asset_type == "etf"


def test_corporate_actions_upsert():
    TickerFactory(symbol="AAPL")
    split = Split("AAPL", date(2020, 8, 31), Decimal(1), Decimal(4), "polygon")
    div = Dividend(
        "AAPL",
        date(2024, 8, 12),
        date(2024, 8, 15),
        Decimal("0.25"),
        "USD",
        None,
        None,
        4,
        "polygon",
    )
    assert corporate_actions_upsert(splits=[split], dividends=[div]) == UpsertResult(created=2)
    assert corporate_actions_upsert(splits=[split], dividends=[div]) == UpsertResult(unchanged=2)
    raised = Dividend(**{**_fields(div), "amount": Decimal("0.26")})
    assert corporate_actions_upsert(dividends=[raised]) == UpsertResult(updated=1)
    stored = CorporateAction.objects.get(kind="split")
    assert stored.split_ratio == 4
    with pytest.raises(IngestError, match="unknown ticker"):
        corporate_actions_upsert(
            splits=[Split("NOPE", date(2020, 1, 2), Decimal(1), Decimal(2), "x")]
        )


def _fields(record) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


@pytest.mark.django_db
def test_daily_bars_carry_no_index_the_unique_one_already_serves():
    """Every load pays for each index: the bars keep the primary key and (ticker, date)."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "markets_dailybar")
    indexed = sorted(
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    )
    assert indexed == [("ticker_id", "date")]
    fks = [c for c in constraints.values() if c["foreign_key"]]
    assert [c["foreign_key"] for c in fks] == [("markets_ticker", "id")]
