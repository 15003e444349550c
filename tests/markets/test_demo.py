"""The demo universe: deterministic synthetic history on NYSE sessions, loaded idempotently."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
import time_machine
from django.db.models import Count, F, Max, Min, Q

from markets import calendar, demo
from markets.models import DailyBar, Quote, Ticker
from markets.selectors import movers
from tests.factories import DailyBarFactory, TickerFactory

NOW = datetime(2026, 11, 26, 15, tzinfo=UTC)  # Thanksgiving: the last session is the 25th
LAST_SESSION = date(2026, 11, 25)
REQUIRED = [
    "AAPL",
    "MSFT",
    "NVDA",
    "AMZN",
    "GOOGL",
    "META",
    "TSLA",
    "BRK.B",
    "JPM",
    "V",
    "JNJ",
    "WMT",
    "PG",
    "XOM",
    "UNH",
    "HD",
    "MA",
    "KO",
    "PEP",
    "COST",
    "AVGO",
    "ORCL",
    "CSCO",
    "ADBE",
    "CRM",
    "NFLX",
    "AMD",
    "INTC",
    "DIS",
    "BA",
    "SPY",
    "QQQ",
    "DIA",
    "IWM",
    "XLK",
    "XLF",
    "XLV",
    "XLE",
    "XLY",
    "XLP",
    "XLI",
    "XLU",
    "XLB",
    "XLRE",
    "XLC",
]


ETFS = {"SPY", "QQQ", "DIA", "IWM", "XLK", "XLF", "XLV", "XLE", "XLY", "XLP", "XLI", "XLU", "XLB", "XLRE", "XLC"}  # fmt: skip


def spec(symbol: str) -> demo.DemoTicker:
    return next(s for s in demo.UNIVERSE if s.symbol == symbol)


def test_universe_has_the_well_known_names_with_sectors():
    symbols = [s.symbol for s in demo.UNIVERSE]
    assert len(symbols) == len(set(symbols))
    assert set(REQUIRED) <= set(symbols)
    assert 45 <= len(symbols) <= 60
    for s in demo.UNIVERSE:
        assert s.name and s.exchange
        if s.asset_type == Ticker.AssetType.STOCK:
            assert s.sector and s.industry, s.symbol
            assert s.shares_m > 0
    assert spec("XLK").sector == "Information Technology"
    etfs = {s.symbol for s in demo.UNIVERSE if s.asset_type == Ticker.AssetType.ETF}
    assert etfs == ETFS
    assert {s.asset_type for s in demo.UNIVERSE if s.symbol not in ETFS} == {"stock"}
    assert spec("BRK.B").sector == "Financials"


def test_bars_are_deterministic_and_a_longer_history_keeps_the_past():
    days = calendar.sessions(demo.DEMO_START, date(2024, 12, 31))
    longer = calendar.sessions(demo.DEMO_START, date(2025, 12, 31))
    first = demo.demo_bars(spec("AAPL"), days)
    assert first == demo.demo_bars(spec("AAPL"), days)
    assert demo.demo_bars(spec("AAPL"), longer)[: len(days)] == first


def test_bars_are_realistic_ohlcv():
    days = calendar.sessions(demo.DEMO_START, date(2025, 12, 31))
    for symbol in ("AAPL", "NVDA", "SPY", "XLE"):
        for bar in demo.demo_bars(spec(symbol), days):
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
            assert bar.low > 0 and bar.volume > 0 and bar.source == "demo"
    closes = np.array([float(b.close) for b in demo.demo_bars(spec("MSFT"), days)])
    daily = np.diff(np.log(closes))
    assert 0.15 < daily.std() * np.sqrt(252) < 0.35  # MSFT is specified at 25 % a year


def test_sector_etf_moves_with_its_sector_more_than_with_another():
    days = calendar.sessions(demo.DEMO_START, date(2025, 12, 31))

    def returns(symbol: str) -> np.ndarray:
        return np.diff(np.log(demo.demo_series(spec(symbol), days).close))

    with_sector = np.corrcoef(returns("XLK"), returns("MSFT"))[0, 1]
    across = np.corrcoef(returns("XLE"), returns("MSFT"))[0, 1]
    market = np.corrcoef(returns("SPY"), returns("JPM"))[0, 1]
    assert with_sector > 0.6
    assert 0.2 < across < with_sector
    assert market > 0.4


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_seed_loads_every_ticker_on_nyse_sessions_only_and_is_idempotent(settings):
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""
    out = io.StringIO()
    demo.seed(user=None, stdout=out)

    sessions = calendar.sessions(demo.DEMO_START, LAST_SESSION)
    tickers = Ticker.objects.filter(is_demo=True)
    assert sorted(tickers.values_list("symbol", flat=True)) == sorted(
        s.symbol for s in demo.UNIVERSE
    )
    spans = tickers.annotate(n=Count("bars"), first=Min("bars__date"), last=Max("bars__date"))
    for t in spans:
        assert (t.n, t.first, t.last) == (len(sessions), demo.DEMO_START, LAST_SESSION), t.symbol
    assert (LAST_SESSION - demo.DEMO_START).days >= 10 * 365
    stored_days = set(DailyBar.objects.values_list("date", flat=True).distinct())
    assert stored_days == set(sessions)  # no weekend, no holiday (e.g. 2026-11-26)
    assert not DailyBar.objects.exclude(source="demo").exists()
    assert not DailyBar.objects.filter(
        Q(high__lt=F("open"))
        | Q(high__lt=F("close"))
        | Q(low__gt=F("open"))
        | Q(low__gt=F("close"))
    ).exists()

    aapl = Ticker.objects.get(symbol="AAPL")
    assert (aapl.name, aapl.sector, aapl.exchange) == (
        "Apple Inc.",
        "Information Technology",
        "NASDAQ",
    )
    last_two = list(aapl.bars.order_by("-date")[:2])
    quote = Quote.objects.get(ticker=aapl)
    assert quote.price == last_two[0].close
    assert quote.change == last_two[0].close - last_two[1].close
    assert quote.source == "demo"
    assert quote.as_of == calendar.session(LAST_SESSION).close
    assert aapl.market_cap == int(Decimal(14_900_000_000) * last_two[0].close)
    assert Quote.objects.count() == len(demo.UNIVERSE)
    assert f"{len(sessions) * len(demo.UNIVERSE)} bars added" in out.getvalue()
    assert set(tickers.filter(asset_type="etf").values_list("symbol", flat=True)) == ETFS
    gainers, losers = movers(limit=len(demo.UNIVERSE))
    shown = {q.ticker.symbol for q in gainers + losers}
    assert shown and not shown & ETFS  # the dashboard's top gainers/losers are stocks

    closes = list(
        DailyBar.objects.order_by("ticker__symbol", "date").values_list("close", flat=True)
    )
    again = io.StringIO()
    demo.seed(user=None, stdout=again)
    assert "0 bars added, 0 updated" in again.getvalue()
    assert (
        list(DailyBar.objects.order_by("ticker__symbol", "date").values_list("close", flat=True))
        == closes
    )


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_seed_leaves_a_ticker_with_real_data_alone(settings, monkeypatch):
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""
    monkeypatch.setattr(demo, "UNIVERSE", (spec("AAPL"), spec("MSFT")))
    real = TickerFactory(symbol="AAPL", name="Apple (real)", is_demo=False)
    DailyBarFactory(ticker=real, date=LAST_SESSION, close=123, source="polygon")
    out = io.StringIO()
    demo.seed(user=None, stdout=out)
    real.refresh_from_db()
    assert (real.name, real.is_demo) == ("Apple (real)", False)
    assert list(real.bars.values_list("source", flat=True)) == ["polygon"]
    assert Ticker.objects.get(symbol="MSFT").is_demo
    assert "1 ticker(s) with real data left alone" in out.getvalue()


@pytest.mark.django_db
def test_seed_with_a_vendor_key_adds_real_tickers_without_prices(settings):
    settings.POLYGON_API_KEY = "key"
    out = io.StringIO()
    demo.seed(user=None, stdout=out)
    assert Ticker.objects.count() == len(demo.UNIVERSE)
    assert not Ticker.objects.filter(is_demo=True).exists()
    assert not DailyBar.objects.exists()
    assert "refresh_market_data" in out.getvalue()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_seeding_again_corrects_an_etf_stored_as_a_stock(settings, monkeypatch):
    """A database seeded before the ETFs were typed holds them as stocks; seeding again
    corrects them, and a further seed changes no ticker."""
    settings.POLYGON_API_KEY = settings.FINNHUB_API_KEY = settings.ALPHA_VANTAGE_API_KEY = ""
    monkeypatch.setattr(demo, "UNIVERSE", (spec("AAPL"), spec("SPY"), spec("XLK")))
    demo.seed(user=None, stdout=io.StringIO())
    Ticker.objects.update(asset_type="stock")

    demo.seed(user=None, stdout=io.StringIO())
    types = dict(Ticker.objects.values_list("symbol", "asset_type"))
    assert types == {"AAPL": "stock", "SPY": "etf", "XLK": "etf"}
    stamps = dict(Ticker.objects.values_list("symbol", "updated_at"))
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        demo.seed(user=None, stdout=io.StringIO())
    assert dict(Ticker.objects.values_list("symbol", "updated_at")) == stamps


@pytest.mark.django_db
def test_seed_with_a_vendor_key_types_the_etfs(settings):
    settings.POLYGON_API_KEY = "key"
    TickerFactory(symbol="XLF", asset_type="stock")  # added earlier by hand, untyped
    demo.seed(user=None, stdout=io.StringIO())
    assert set(Ticker.objects.filter(asset_type="etf").values_list("symbol", flat=True)) == ETFS
