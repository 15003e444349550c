"""Backtest test data: a ticker with a deterministic price path, and queued backtests."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

import factory
from django.utils import timezone

from markets.models import DailyBar, Ticker
from tests.factories import TickerFactory, UserFactory

START = datetime.date(2023, 1, 2)


def business_days(start: datetime.date, n: int) -> list[datetime.date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def seed_bars(symbol: str = "SPY", n: int = 120, start: datetime.date = START) -> Ticker:
    """A ticker with `n` business-day bars: two slow waves, so moving averages cross a few times."""
    ticker = TickerFactory(symbol=symbol)
    rows = []
    for i, day in enumerate(business_days(start, n)):
        close = 100 + 12 * math.sin(i / 9) + 4 * math.sin(i / 2.3) + i * 0.05
        open_ = close - 0.6 * math.cos(i / 3)
        rows.append(
            DailyBar(
                ticker=ticker,
                date=day,
                open=Decimal(f"{open_:.4f}"),
                high=Decimal(f"{max(open_, close) + 0.8:.4f}"),
                low=Decimal(f"{min(open_, close) - 0.8:.4f}"),
                close=Decimal(f"{close:.4f}"),
                volume=1_000_000 + i,
                source="test",
            )
        )
    DailyBar.objects.bulk_create(rows)
    return ticker


class BacktestFactory(factory.django.DjangoModelFactory):
    """A queued SMA-crossover backtest over the ticker's bars (seed them with seed_bars)."""

    class Meta:
        model = "backtests.Backtest"

    owner = factory.SubFactory(UserFactory)
    ticker = factory.SubFactory(TickerFactory, symbol="SPY")
    start = START
    end = START + datetime.timedelta(days=365)
    strategy = "sma_cross"
    params = factory.LazyFunction(lambda: {"fast": 5, "slow": 20})
    cash = Decimal("10000")
    queued_at = factory.LazyFunction(timezone.now)
    available_at = factory.LazyAttribute(lambda o: o.queued_at)
