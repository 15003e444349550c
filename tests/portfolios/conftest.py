from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from markets.models import DailyBar
from portfolios.models import Transaction
from tests.factories import QuoteFactory, TickerFactory
from tests.portfolios.factories import PortfolioFactory

START = dt.date(2024, 1, 2)


def bars(ticker, closes: list[float], start: dt.date = START) -> None:
    """One bar per weekday from `start` with the given closes."""
    day = start
    rows = []
    for close in closes:
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        price = D(str(close))
        rows.append(
            DailyBar(
                ticker=ticker,
                date=day,
                open=price,
                high=price,
                low=price,
                close=price,
                source="test",
            )
        )
        day += dt.timedelta(days=1)
    DailyBar.objects.bulk_create(rows)


@pytest.fixture
def market(db):
    """AAPL (Technology) and XOM (Energy) with 30 weekday closes from 2024-01-02 and quotes;
    SPY as benchmark."""
    aapl = TickerFactory(symbol="AAPL", name="Apple Inc.", sector="Technology")
    xom = TickerFactory(symbol="XOM", name="Exxon Mobil", sector="Energy")
    spy = TickerFactory(symbol="SPY", name="SPDR S&P 500", sector="", asset_type="etf")
    bars(aapl, [100 + i for i in range(30)])
    bars(xom, [50 - i * 0.5 for i in range(30)])
    bars(spy, [400 + i * 2 for i in range(30)])
    QuoteFactory(ticker=aapl, price=D("131"), change=D("2"), change_pct=D("1.55"))
    QuoteFactory(ticker=xom, price=D("35"), change=D("-0.5"), change_pct=D("-1.41"))
    QuoteFactory(ticker=spy, price=D("460"), change=D("1"), change_pct=D("0.2"))
    return {"AAPL": aapl, "XOM": xom, "SPY": spy}


@pytest.fixture
def portfolio(user, market):
    """Buy 10 AAPL @ 100, buy 20 XOM @ 50, sell 5 AAPL @ 120, a dividend and a fee."""
    portfolio = PortfolioFactory(owner=user, name="Long-term holdings", benchmark=market["SPY"])
    rows = [
        ("buy", "AAPL", dt.date(2024, 1, 2), "10", "100", "1", "0"),
        ("buy", "XOM", dt.date(2024, 1, 3), "20", "50", "0", "0"),
        ("sell", "AAPL", dt.date(2024, 1, 22), "5", "120", "1", "0"),
        ("dividend", "XOM", dt.date(2024, 1, 25), "0", "0", "0", "19"),
        ("fee", None, dt.date(2024, 1, 26), "0", "0", "0", "5"),
    ]
    for kind, symbol, day, qty, price, fees, amount in rows:
        Transaction.objects.create(
            portfolio=portfolio,
            type=kind,
            ticker=market[symbol] if symbol else None,
            trade_date=day,
            quantity=D(qty),
            price=D(price),
            fees=D(fees),
            amount=D(amount),
        )
    return portfolio
