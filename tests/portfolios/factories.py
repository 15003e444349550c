"""Factories for portfolios' tests (shared ones live in tests/factories.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from tests.factories import TickerFactory, UserFactory


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolios.Portfolio"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Portfolio {n}")
    benchmark = None
    track_cash = False


class TransactionFactory(factory.django.DjangoModelFactory):
    """A buy of 10 shares at 100 unless told otherwise (rows bypass the services)."""

    class Meta:
        model = "portfolios.Transaction"

    portfolio = factory.SubFactory(PortfolioFactory)
    type = "buy"
    ticker = factory.SubFactory(TickerFactory)
    trade_date = dt.date(2024, 1, 2)
    quantity = Decimal(10)
    price = Decimal(100)
    fees = Decimal(0)
    amount = Decimal(0)


class WatchlistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolios.Watchlist"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Watchlist {n}")


class WatchlistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolios.WatchlistItem"

    watchlist = factory.SubFactory(WatchlistFactory)
    ticker = factory.SubFactory(TickerFactory)


class PriceAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolios.PriceAlert"

    owner = factory.SubFactory(UserFactory)
    ticker = factory.SubFactory(TickerFactory)
    direction = "above"
    threshold = Decimal(150)
    armed = True
