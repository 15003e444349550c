"""Selectors hand the ledger and performance maths their rows; the figures are worked out by
hand in the comments (fixture in conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from markets.models import Quote
from markets.prices import latest_prices
from portfolios import selectors
from tests.factories import DailyBarFactory, QuoteFactory, TickerFactory
from tests.portfolios.factories import PortfolioFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def test_summary_figures(portfolio):
    summary = selectors.portfolio_summary(portfolio=portfolio)
    holdings = {h.symbol: h for h in summary.holdings}
    # AAPL: buy 10 @ 100 + 1 fee = 1001; sell 5 @ 120 - 1 fee = 599 proceeds, cost 500.5.
    aapl = holdings["AAPL"]
    assert aapl.quantity == 5
    assert aapl.cost_basis == D("500.5")
    assert aapl.average_cost == D("100.1")
    assert aapl.price == 131 and aapl.price_source == "quote"
    assert aapl.market_value == 655
    assert aapl.unrealized == D("154.5")
    assert aapl.previous_close == 129 and aapl.day_change == 10  # 5 * (131 - 129)
    # XOM: 20 @ 50 = 1000, now 35 (previous 35.5).
    xom = holdings["XOM"]
    assert (xom.market_value, xom.unrealized, xom.day_change) == (700, -300, -10)
    assert xom.dividends == 19
    assert summary.market_value == 1355
    assert summary.cost_basis == D("1500.5")
    assert summary.unrealized == D("-145.5")
    assert summary.realized == D("98.5")
    assert summary.day_change == 0
    assert summary.fees == 7  # fee charge 5 + commissions 2
    # total gain = realized + unrealized + dividends - fee charges = 98.5 - 145.5 + 19 - 5
    assert summary.total_gain == -33
    # ... = value - net money put in (buys 2001 in; sale 599, dividend 19 out; fee 5 in)
    assert summary.net_flows == 1388
    assert [h.symbol for h in summary.holdings] == ["XOM", "AAPL"]  # largest first
    assert summary.allocation_by_holding() == pytest.approx({"XOM": 700 / 1355, "AAPL": 655 / 1355})
    assert summary.allocation_by_sector() == pytest.approx(
        {"Energy": 700 / 1355, "Technology": 655 / 1355}
    )


def test_performance_value_series_benchmark_and_drawdown(portfolio):
    summary = selectors.portfolio_summary(portfolio=portfolio)
    perf = selectors.portfolio_performance(portfolio=portfolio, ledger=summary.ledger)
    assert perf.as_of == dt.date(2024, 2, 12)  # the 30th weekday close from 2024-01-02
    # last close: 5 AAPL @ 129 + 20 XOM @ 35.5
    assert perf.series[-1] == {"time": "2024-02-12", "value": 1355.0}
    assert perf.series[0]["time"] == "2024-01-02"
    periods = {r.period: r for r in perf.returns}
    assert list(periods) == ["1M", "3M", "YTD", "1Y", "Max"]
    # The benchmark's TWR is SPY's price return from the first close: 458 / 400 - 1.
    assert periods["Max"].benchmark_twr == pytest.approx(0.145)
    assert periods["Max"].xirr is not None
    assert "Money-weighted" in periods["Max"].explanation
    assert perf.benchmark_series and perf.benchmark_symbol == "SPY"
    assert perf.drawdown is not None and perf.drawdown.depth > 0  # XOM fell every day
    assert perf.period_starts["1M"] == "2024-01-12"


def test_performance_without_bars_says_why(user):
    ticker = TickerFactory(symbol="NEW")
    portfolio = PortfolioFactory(owner=user)
    TransactionFactory(portfolio=portfolio, ticker=ticker)
    summary = selectors.portfolio_summary(portfolio=portfolio)
    perf = selectors.portfolio_performance(portfolio=portfolio, ledger=summary.ledger)
    assert not perf.has_data
    assert "No daily closes yet" in perf.note
    # no quote, no bar: valued at the last trade price and flagged
    (holding,) = summary.holdings
    assert (holding.price, holding.price_source) == (100, "trade")


def test_realized_by_year(portfolio):
    summary = selectors.portfolio_summary(portfolio=portfolio)
    (year,) = selectors.realized_by_year(summary.ledger)
    assert year.year == 2024
    assert (year.proceeds, year.cost, year.gain, year.short_term, year.long_term) == (
        D(599),
        D("500.5"),
        D("98.5"),
        D("98.5"),
        0,
    )


def test_broken_history_is_reported_not_crashed(user, market):
    portfolio = PortfolioFactory(owner=user)
    TransactionFactory(portfolio=portfolio, ticker=market["AAPL"], type="sell", quantity=D(3))
    summary = selectors.portfolio_summary(portfolio=portfolio)
    assert summary.ledger is None
    assert "Sell of 3 AAPL on 2024-01-02 exceeds the 0 held" in summary.error


def test_latest_price_rules(db):
    with_quote = TickerFactory(symbol="AAA")
    DailyBarFactory(ticker=with_quote, date=dt.date(2024, 1, 2), close=10)
    DailyBarFactory(ticker=with_quote, date=dt.date(2024, 1, 3), close=11)
    QuoteFactory(
        ticker=with_quote, price=12, change=None, as_of=dt.datetime(2024, 1, 4, 15, tzinfo=dt.UTC)
    )
    bars_only = TickerFactory(symbol="BBB")
    DailyBarFactory(ticker=bars_only, date=dt.date(2024, 1, 2), close=20)
    DailyBarFactory(ticker=bars_only, date=dt.date(2024, 1, 3), close=21)
    nothing = TickerFactory(symbol="CCC")
    prices = latest_prices(ticker_ids=[with_quote.pk, bars_only.pk, nothing.pk])
    a, b, c = prices[with_quote.pk], prices[bars_only.pk], prices[nothing.pk]
    # a quote from a day after the last bar: the previous close is that bar's close
    assert (a.price, a.previous_close, a.source) == (12, 11, "quote")
    assert (b.price, b.previous_close, b.source) == (21, 20, "close")
    assert b.day_change_pct == 5
    assert (c.price, c.source) == (None, "")
    Quote.objects.filter(ticker=with_quote).update(change=D("0.5"))
    assert latest_prices(ticker_ids=[with_quote.pk])[with_quote.pk].previous_close == D("11.5")


def test_portfolio_summaries_for_the_list_page(user, portfolio, other_user, market):
    PortfolioFactory(owner=user, name="Empty")
    PortfolioFactory(owner=other_user, name="Not mine")
    summaries = selectors.portfolio_summaries(user=user)
    assert [s.portfolio.name for s in summaries] == ["Empty", "Long-term holdings"]
    assert summaries[1].total_value == 1355
    assert summaries[0].holdings == [] and summaries[0].total_value == 0


@pytest.mark.django_db
def test_held_and_watchlist_symbols_are_the_users_own(user, other_user):
    """The "my holdings" / "my watchlists" sets that news, insider trades and AI scores
    filter by: shares replayed in order (a split multiplies, a full sale empties)."""
    from tests.portfolios.factories import WatchlistFactory, WatchlistItemFactory

    mine = PortfolioFactory(owner=user)
    aapl, msft, nvda = (TickerFactory(symbol=s) for s in ("AAPL", "MSFT", "NVDA"))
    TransactionFactory(portfolio=mine, ticker=aapl, quantity=D(10))
    TransactionFactory(
        portfolio=mine, ticker=aapl, type="split", quantity=D(2), trade_date=dt.date(2024, 2, 1)
    )
    TransactionFactory(
        portfolio=mine, ticker=aapl, type="sell", quantity=D(15), trade_date=dt.date(2024, 3, 1)
    )  # 20 after the split: 5 left
    TransactionFactory(portfolio=mine, ticker=msft, quantity=D(10))
    TransactionFactory(
        portfolio=mine, ticker=msft, type="sell", quantity=D(10), trade_date=dt.date(2024, 3, 1)
    )
    TransactionFactory(portfolio=PortfolioFactory(owner=other_user), ticker=nvda)
    assert selectors.held_symbols_for(user=user) == {"AAPL"}

    first, second = WatchlistFactory(owner=user), WatchlistFactory(owner=user)
    WatchlistItemFactory(watchlist=first, ticker=msft)
    WatchlistItemFactory(watchlist=second, ticker=aapl)
    WatchlistItemFactory(watchlist=WatchlistFactory(owner=other_user), ticker=nvda)
    assert selectors.watchlist_symbols_for(user=user) == ["AAPL", "MSFT"]
    assert selectors.watchlist_symbols_for(user=user, watchlist_id=first.pk) == ["MSFT"]
