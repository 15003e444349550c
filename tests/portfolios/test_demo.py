"""The demo portfolio: priced from the demo closes, accepted by the ledger, idempotent."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal as D

import pytest
import time_machine

from markets.models import DailyBar
from portfolios import demo
from portfolios.models import Portfolio, PriceAlert, Transaction, Watchlist
from portfolios.selectors import portfolio_performance, portfolio_summary
from tests.factories import QuoteFactory, TickerFactory
from tests.portfolios.conftest import bars

pytestmark = pytest.mark.django_db
SYMBOLS = sorted({s for _, s, _ in demo.BUYS} | set(demo.DIVIDENDS) | set(demo.WATCHLIST))


@pytest.fixture
def demo_market(db):
    """Weekday closes from 2019 to 2024-06-14 rising from 50 (a different slope per ticker)."""
    start, days = dt.date(2019, 1, 1), 1445
    for n, symbol in enumerate(SYMBOLS):
        ticker = TickerFactory(symbol=symbol, is_demo=True)
        closes = [round(50 + (n + 1) * 0.02 * i, 2) for i in range(days)]
        bars(ticker, closes, start=start)
        QuoteFactory(ticker=ticker, price=D(str(closes[-1])))


def test_demo_seed_is_consistent_and_idempotent(user, demo_market):
    with time_machine.travel(dt.datetime(2024, 6, 15, 12, tzinfo=dt.UTC), tick=False):
        out = io.StringIO()
        demo.seed(user=user, stdout=out)
        portfolio = Portfolio.objects.get(owner=user, name=demo.PORTFOLIO_NAME)
        rows = list(portfolio.transactions.select_related("ticker"))
        kinds = {t.type for t in rows}
        assert {"deposit", "buy", "sell", "dividend", "fee", "withdrawal"} <= kinds
        for t in rows:
            if t.type in ("buy", "sell"):
                close = DailyBar.objects.get(ticker=t.ticker, date=t.trade_date).close
                assert t.price == close.quantize(D("0.01")), t
        assert rows[0].trade_date.year == 2020 and rows[-1].trade_date <= dt.date(2024, 6, 14)
        summary = portfolio_summary(portfolio=portfolio)
        assert not summary.error and summary.cash >= 0
        assert {h.symbol for h in summary.holdings} == {
            "AAPL",
            "MSFT",
            "JPM",
            "KO",
            "SPY",
            "NVDA",
            "XOM",
            "AMZN",
        }
        assert summary.realized != 0 and summary.dividends > 0
        perf = portfolio_performance(portfolio=portfolio, ledger=summary.ledger)
        assert perf.has_data and perf.benchmark_symbol == "SPY"
        assert Watchlist.objects.get(owner=user).items.count() == 8
        assert PriceAlert.objects.filter(owner=user).count() == 2
        assert "transactions" in out.getvalue()
        count = Transaction.objects.count()
        demo.seed(user=user, stdout=out)
        assert Transaction.objects.count() == count
        assert Watchlist.objects.get(owner=user).items.count() == 8
        assert PriceAlert.objects.count() == 2
        assert "already there" in out.getvalue()


def test_demo_without_prices_says_so(user):
    out = io.StringIO()
    demo.seed(user=user, stdout=out)
    assert "no demo portfolio" in out.getvalue()
    assert not Portfolio.objects.exists()
