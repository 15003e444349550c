"""One hourly run of .github/workflows/data-refresh.yml with FREE keys, against the fake
free-tier vendor: prices (bars + the quote step), news and the calendar back to back draw on
the same Polygon, Finnhub and Alpha Vantage budgets, every step stays green, the vendor never
answers 429, and Alpha Vantage's 25 calls a day are shared by purpose (the quote step cannot
take the feed's or the backfill's reserve). Virtual time: a budget wait moves the clock."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import CommandError, call_command

import markets.budget as budget_module
from markets.budget import budget_for
from markets.models import DailyBar, Quote, Ticker
from qunex.models import JobRun
from tests.insights.free_tier_vendor import HourlyJobVendor
from tests.markets.free_tier_vendor import FakeMarket

pytestmark = pytest.mark.django_db

OPEN_HOUR = datetime(2026, 11, 25, 16, 7, tzinfo=UTC)  # Wednesday 11:07 New York, :07 cron
EARLIER = datetime(2026, 11, 25, 14, 37, tzinfo=UTC)  # 09:37 New York, before the open
TUESDAY = date(2026, 11, 24)


class VirtualTime:
    def __init__(self, traveller) -> None:
        self.traveller = traveller

    def time(self) -> float:
        return time.time()

    monotonic = time

    def sleep(self, seconds: float) -> None:
        self.traveller.shift(seconds)


@pytest.fixture
def hour(settings, monkeypatch):
    with time_machine.travel(EARLIER, tick=False) as traveller:
        monkeypatch.setattr(budget_module, "time", VirtualTime(traveller))
        vendor = HourlyJobVendor(FakeMarket.of(100), clock=time.time)
        vendor.settings(settings)
        settings.MARKET_DATA_PROVIDERS = ["polygon", "finnhub", "alphavantage"]
        settings.REFRESH_TIME_BUDGET_SECONDS = 240
        settings.NEWS_TIME_BUDGET_SECONDS = 120
        settings.CALENDAR_TIME_BUDGET_SECONDS = 60
        settings.NEWS_RSS_FEEDS = []  # keyless feeds are not budgeted (and not faked here)
        settings.CALENDAR_SOURCES = ["finnhub"]
        settings.HTTP_TIMEOUT = 5
        # The budgets in local memory, whose expiry follows the virtual clock (Redis' TTLs
        # run in real time); production shares them through Redis.
        memory = LocMemCache("hourly-job-test", {})
        memory.clear()
        for name in ("polygon", "finnhub", "alphavantage", "newsapi"):
            budget_for(name)._cache = memory
        one = Decimal(50)
        for symbol in vendor.market.symbols:  # history loaded through Monday
            ticker = Ticker.objects.create(symbol=symbol, name=f"{symbol} Corp", is_demo=False)
            DailyBar.objects.create(ticker=ticker, date=date(2026, 11, 23), open=one, high=one,
                                    low=one, close=one, adj_close=one, volume=1, source="polygon")  # fmt: skip
        yield vendor, traveller
        vendor.close()


def _step(command: str, *args: str) -> tuple[bool, JobRun]:
    try:
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())
        green = True
    except CommandError:
        green = False
    return green, JobRun.objects.filter(command=command).latest("started_at")


def test_prices_news_and_calendar_back_to_back_stay_green_within_the_free_tiers(hour):
    vendor, traveller = hour
    # Earlier today the quote step took 5 Alpha Vantage calls of its 7 (2 reserved + 5 nobody
    # reserved out of 25: ALPHA_VANTAGE_DAY_RESERVES=feed:10,bars:8,quotes:2).
    alpha = budget_for("alphavantage")
    assert sum(alpha.acquire(purpose="quotes") for _ in range(5)) == 5
    traveller.move_to(OPEN_HOUR)

    prices_green, prices = _step("refresh_market_data")
    news_green, news = _step("refresh_news")
    calendar_green, calendar = _step("refresh_calendar")

    assert (prices_green, news_green, calendar_green) == (True, True, True)
    # 1. bars: Tuesday's session for all 100 tickers in ONE grouped call
    assert vendor.calls["polygon:grouped"] == 1 and vendor.calls["polygon:aggs"] == 0
    assert DailyBar.objects.filter(date=TUESDAY).count() == 100
    # 2. quotes: the snapshot's 403 remembered, Finnhub's minute (60), then Alpha Vantage
    #    for only what is left of the quote step's share (2 of its 7); the rest deferred
    assert vendor.calls["polygon:snapshot"] == 1
    assert vendor.calls["finnhub:quote"] == 60
    assert vendor.calls["alphavantage:GLOBAL_QUOTE"] == 2
    assert Quote.objects.count() == 62 and prices.counts["quotes_deferred"] == 38
    assert alpha.day_left("feed") == 10 and alpha.day_left("bars") == 8  # kept for them
    # 3. news: Polygon's market-wide call and Finnhub's 30 largest, waiting for the minute
    #    the quote step used instead of failing; NewsAPI's headlines
    assert news.counts["calls_polygon"] == 1 and vendor.calls["polygon:news"] == 1
    assert news.counts["calls_finnhub"] == 30 and "deferred" not in news.counts
    assert news.counts["calls_newsapi"] == 1 and "failed" not in news.counts
    # 4. calendar: Finnhub's economic calendar is not in the free plan: asked once, remembered
    assert calendar.counts["not_entitled"] == 1 and "failed" not in calendar.counts
    # the vendor never had to refuse us
    assert vendor.calls["polygon:429"] == vendor.calls["finnhub:429"] == 0
    assert vendor.calls["alphavantage:day-cap"] == vendor.calls["alphavantage:minute"] == 0

    # The next hour: the calendar's 403 is not asked again.
    traveller.move_to(datetime(2026, 11, 25, 17, 7, tzinfo=UTC))
    _, calendar = _step("refresh_calendar")
    assert vendor.calls["finnhub:403"] == 1 and calendar.counts["not_entitled"] == 1
