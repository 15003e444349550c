"""Query budgets: the portfolio page, the holdings API and the watchlist page run the same
number of queries whatever the number of transactions, holdings or items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets.models import DailyBar, Quote, Ticker
from portfolios.models import Portfolio, Transaction
from tests.portfolios.factories import WatchlistFactory, WatchlistItemFactory

pytestmark = pytest.mark.django_db

START = dt.date(2023, 1, 2)


def make_tickers(n: int, prefix: str) -> list[Ticker]:
    tickers = Ticker.objects.bulk_create(
        [
            Ticker(symbol=f"{prefix}{i:03d}", name=f"{prefix} {i}", sector=f"S{i % 5}")
            for i in range(n)
        ]
    )
    bars = []
    for t in tickers:
        for d in range(5):
            close = D(100 + d)
            day = START + dt.timedelta(days=d)
            bars.append(
                DailyBar(
                    ticker=t, date=day, open=close, high=close, low=close, close=close, source="t"
                )
            )
    DailyBar.objects.bulk_create(bars)
    Quote.objects.bulk_create(
        [
            Quote(ticker=t, price=D(110), change=D(1), as_of="2023-01-09T15:00:00Z", source="t")
            for t in tickers[::2]
        ]
    )
    return list(Ticker.objects.filter(symbol__startswith=prefix).order_by("symbol"))


def make_portfolio(user, *, holdings: int, transactions: int) -> Portfolio:
    """`holdings` tickers bought, then repeated small buys until `transactions` rows exist."""
    prefix = f"H{holdings}T{transactions}"[:6]
    tickers = make_tickers(holdings, prefix)
    benchmark = Ticker.objects.get_or_create(symbol="SPY")[0]
    portfolio = Portfolio.objects.create(owner=user, name=prefix, benchmark=benchmark)
    rows = [
        Transaction(
            portfolio=portfolio,
            type="buy",
            ticker=tickers[i % holdings],
            trade_date=START + dt.timedelta(days=i % 4),
            quantity=D(1),
            price=D(100),
        )
        for i in range(transactions)
    ]
    Transaction.objects.bulk_create(rows)
    return portfolio


def count(client, url: str) -> int:
    client.get(url)  # warm the session (the time zone is read once per session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_portfolio_page_budget(auth_client, user):
    # 1 session, 2 user, 3 portfolio + benchmark, 4 transactions + tickers,
    # 5 latest prices (tickers + quotes + last/previous bar subqueries), 6 daily closes.
    one = make_portfolio(user, holdings=1, transactions=1)
    many_rows = make_portfolio(user, holdings=1, transactions=200)
    many_holdings = make_portfolio(user, holdings=50, transactions=50)
    counts = [count(auth_client, f"/portfolios/{p.pk}/") for p in (one, many_rows, many_holdings)]
    assert counts == [6, 6, 6]


def test_portfolio_list_budget(auth_client, user):
    # 1 session, 2 user, 3 portfolios, 4 all their transactions, 5 latest prices.
    make_portfolio(user, holdings=1, transactions=1)
    small = count(auth_client, "/portfolios/")
    make_portfolio(user, holdings=50, transactions=200)
    assert small == count(auth_client, "/portfolios/") == 5


def test_holdings_api_budget(auth_client, user):
    # 1 session, 2 user, 3 portfolio (get_object), 4 transactions + tickers, 5 latest prices.
    one = make_portfolio(user, holdings=1, transactions=1)
    many_rows = make_portfolio(user, holdings=1, transactions=200)
    many_holdings = make_portfolio(user, holdings=50, transactions=50)
    counts = [
        count(auth_client, f"/api/portfolios/{p.pk}/holdings/")
        for p in (one, many_rows, many_holdings)
    ]
    assert counts == [5, 5, 5]


def test_watchlist_page_budget(auth_client, user):
    # 1 session, 2 user, 3 the watchlist, 4 the user's lists with item counts,
    # 5 items + tickers + quotes + last/previous bar subqueries, 6 ticker options (datalist),
    # 7 the items' latest AI scores (insights' ai_score_badge tag, one query).
    tickers = make_tickers(50, "W")
    small = WatchlistFactory(owner=user, name="Small")
    WatchlistItemFactory(watchlist=small, ticker=tickers[0])
    large = WatchlistFactory(owner=user, name="Large")
    for t in tickers:
        WatchlistItemFactory(watchlist=large, ticker=t)
    assert (
        count(auth_client, f"/watchlists/{small.pk}/")
        == count(auth_client, f"/watchlists/{large.pk}/")
        == 7
    )


def test_dashboard_panel_budget(rf, user):
    # 1 the first watchlist, 2 its items + tickers + quotes + bar subqueries.
    from portfolios.dashboard import watchlist_panel_context

    tickers = make_tickers(12, "D")
    watchlist = WatchlistFactory(owner=user)
    WatchlistItemFactory(watchlist=watchlist, ticker=tickers[0])
    request = rf.get("/")
    request.user = user
    with CaptureQueriesContext(connection) as one:
        assert len(watchlist_panel_context(request)["rows"]) == 1
    for t in tickers[1:]:
        WatchlistItemFactory(watchlist=watchlist, ticker=t)
    with CaptureQueriesContext(connection) as many:
        assert len(watchlist_panel_context(request)["rows"]) == 12
    assert len(one) == len(many) == 2


def make_traded_portfolio(user, *, transactions: int) -> Portfolio:
    """`transactions` rows over 2 tickers: buys, and every third row a sale of 1 share."""
    tickers = make_tickers(2, f"R{transactions}")
    benchmark = Ticker.objects.get_or_create(symbol="SPY")[0]
    portfolio = Portfolio.objects.create(owner=user, name=f"R{transactions}", benchmark=benchmark)
    Transaction.objects.create(
        portfolio=portfolio,
        type="buy",
        ticker=tickers[1],
        trade_date=START,
        quantity=D(1),
        price=D(100),
    )
    ticker = tickers[1]
    rows = [
        Transaction(
            portfolio=portfolio,
            type="sell" if i % 3 == 2 else "buy",
            ticker=ticker,
            trade_date=START + dt.timedelta(days=1 + i % 3),
            quantity=D(1),
            price=D(101),
        )
        for i in range(transactions - 1)
    ]
    Transaction.objects.bulk_create(rows)
    return portfolio


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # 1 session, 2 user, 3 portfolio + benchmark, 4 transactions + tickers
        ("/portfolios/{pk}/transactions/", 4),
        # 1 session, 2 user, 3 count, 4 the page of transactions + tickers + portfolio
        ("/api/transactions/?portfolio={pk}", 4),
        # 1 session, 2 user, 3 portfolio, 4 transactions + tickers, 5 latest prices,
        # 6 daily closes
        ("/api/portfolios/{pk}/performance/", 6),
        ("/api/portfolios/{pk}/performance/?start=2023-01-03&end=2023-01-05", 6),
        # 1 session, 2 user, 3 portfolio, 4 transactions + tickers, 5 latest prices
        ("/api/portfolios/{pk}/realized/", 5),
        ("/portfolios/{pk}/realized/", 5),
        # 1 session, 2 user, 3 portfolio, 4 transactions + tickers
        ("/portfolios/{pk}/export.csv", 4),
    ],
)
def test_budgets_with_1_and_200_transactions(auth_client, user, url, expected):
    one = make_traded_portfolio(user, transactions=1)
    many = make_traded_portfolio(user, transactions=200)
    assert many.transactions.count() == 200
    counts = [count(auth_client, url.format(pk=p.pk)) for p in (one, many)]
    assert counts == [expected, expected], url
