"""Signals (cluster buys, large buys, the AI-score observations), the pages, the panels and
the API, with query budgets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.insiders import selectors
from insights.insiders.models import InsiderFiling, InsiderTransaction
from insights.insiders.selectors import NEW_YORK
from markets.models import Ticker
from tests.portfolios.factories import WatchlistFactory, WatchlistItemFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)
_n = iter(range(10_000))


def _trade(
    symbol="AAPL",
    insider="Doe Jane",
    code="P",
    day=TODAY,
    shares="100",
    price="10",
    after="1100",
    director=True,
    filed=None,
    **filing,
):
    i = next(_n)
    ticker = Ticker.objects.get_or_create(symbol=symbol, defaults={"name": f"{symbol} Inc."})[0]
    f = InsiderFiling.objects.create(
        accession=f"0000000000-26-{i:06d}",
        form="4",
        filed_on=filed or day,
        period=day,
        issuer_cik="1",
        issuer_name=f"{symbol} Inc.",
        issuer_symbol=symbol,
        ticker=ticker,
        insider_cik=str(abs(hash(insider)) % 10**9),
        insider_name=insider,
        is_director=director,
        **filing,
    )
    shares, price = Decimal(shares), Decimal(price)
    return InsiderTransaction.objects.create(
        filing=f,
        table="nd",
        row=0,
        ticker=ticker,
        security_title="Common Stock",
        trade_date=day,
        code=code,
        acquired=code in ("P", "A", "M"),
        shares=shares,
        price=price,
        value=shares * price,
        shares_after=Decimal(after),
    )


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime(2026, 11, 26, 15, tzinfo=UTC), tick=False):
        yield


def test_cluster_buy_needs_three_insiders_within_ten_days():
    _trade("AAPL", "A One", day=TODAY - timedelta(days=9))
    _trade("AAPL", "B Two", day=TODAY - timedelta(days=4))
    _trade("AAPL", "C Three", day=TODAY)
    _trade("AAPL", "C Three", day=TODAY, shares="50")  # same insider again: still 3 insiders
    _trade("MSFT", "D Four", day=TODAY - timedelta(days=20))  # 3 MSFT buyers but 20 days apart
    _trade("MSFT", "E Five", day=TODAY - timedelta(days=8))
    _trade("MSFT", "F Six", day=TODAY)
    _trade("NVDA", "G Seven", day=TODAY, code="S")  # sales never make a cluster
    clusters = selectors.cluster_buys(since=TODAY - timedelta(days=90))
    assert [c.symbol for c in clusters] == ["AAPL"]
    (c,) = clusters
    assert c.insiders == ["A One", "B Two", "C Three"] and c.trades == 4
    assert c.total_value == Decimal("3500")
    assert (c.first_day, c.last_day) == (TODAY - timedelta(days=9), TODAY)


def test_large_buy_is_relative_to_the_holding_before():
    assert selectors.is_large_buy(_trade(shares="100", after="1100"))  # +10 %
    assert not selectors.is_large_buy(_trade(shares="100", after="1101"))  # +9.99 %
    assert selectors.is_large_buy(_trade(shares="100", after="100"))  # a first position
    assert not selectors.is_large_buy(_trade(code="S", shares="500", after="100"))


def test_net_buying_observations_are_dated_when_public():
    _trade("AAPL", day=date(2026, 11, 2), filed=date(2026, 11, 4), shares="10", price="100")
    _trade("AAPL", code="S", day=date(2026, 11, 3), shares="5", price="100")
    _trade("AAPL", code="A", day=date(2026, 11, 3))  # an award is not a market view
    rows = selectors.net_buying_observations(start=date(2026, 11, 1), end=date(2026, 11, 30))
    # Filings stored with a date only are known at the end of that day in New York.
    assert rows == [
        ("AAPL", datetime(2026, 11, 3, 23, 59, 59, tzinfo=NEW_YORK), -500.0, None),
        ("AAPL", datetime(2026, 11, 4, 23, 59, 59, tzinfo=NEW_YORK), 1000.0, None),
    ]
    assert selectors.net_buying_observations(start=date(2026, 11, 1), end=date(2026, 11, 3)) == [
        ("AAPL", datetime(2026, 11, 3, 23, 59, 59, tzinfo=NEW_YORK), -500.0, None)
    ]


def test_page_filters(client, user):
    _trade("AAPL", "Buyer Director", shares="1000", price="100")
    _trade("MSFT", "Seller Officer", code="S", director=False, is_officer=True, officer_title="CFO")
    body = client.get("/insiders/").content.decode()
    assert "Buyer Director" in body and "Seller Officer" in body and "Large buy" in body
    # trade values are money, compact with their currency: 1000 x 100 and 100 x 10
    assert '<td class="num">$100.0K</td>' in body and '<td class="num">$1.00K</td>' in body
    assert "Buyer Director" not in client.get("/insiders/?code=S").content.decode()
    assert "Seller Officer" not in client.get("/insiders/?buys_only=on").content.decode()
    assert "Buyer Director" not in client.get("/insiders/?role=officer").content.decode()
    assert "Seller Officer" not in client.get("/insiders/?min_value=50000").content.decode()
    assert "Seller Officer" not in client.get("/insiders/?ticker=aapl").content.decode()
    WatchlistItemFactory(
        watchlist=WatchlistFactory(owner=user), ticker=Ticker.objects.get(symbol="MSFT")
    )
    client.force_login(user)
    mine = client.get("/insiders/?watchlists=on").content.decode()
    assert "Seller Officer" in mine and "Buyer Director" not in mine


@pytest.mark.parametrize(
    "query", ["?ticker=%00", "?code=Q", "?min_value=-5", "?min_value=x", "?role=ceo", "?page=%00"]
)
def test_bad_filters_never_500(client, query):
    _trade()
    response = client.get("/insiders/" + query)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert b"Insider trades" in response.content


def test_empty_state_says_when_trades_come_and_only_staff_how(client, staff_user):
    body = client.get("/insiders/").content.decode()
    assert "once a day" in body
    assert "refresh_insider_trades" not in body and "SEC_USER_AGENT" not in body
    client.force_login(staff_user)
    body = client.get("/insiders/").content.decode()
    assert "refresh_insider_trades" in body and "SEC_USER_AGENT" in body


def test_stock_page_section_and_dashboard_panel(client):
    _trade("AAPL", "Jane Buyer", shares="1000", price="100")
    stock = client.get("/stocks/AAPL/").content.decode()
    assert "Insider trades" in stock and "Jane Buyer" in stock
    dash = client.get("/").content.decode()
    assert "Insider buying" in dash and "Jane Buyer" in dash


def _count(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_page_and_api_query_counts_do_not_grow_with_rows(auth_client, api_client, user):
    api_client.force_authenticate(user)
    _trade("AAPL", "Insider 0")
    auth_client.get("/insiders/")
    page1, api1 = _count(auth_client, "/insiders/"), _count(api_client, "/api/insider-trades/")
    for i in range(1, 50):
        _trade(f"T{i % 7}", f"Insider {i}", day=TODAY - timedelta(days=i % 9))
    assert _count(auth_client, "/insiders/") == page1
    assert _count(api_client, "/api/insider-trades/") == api1


def test_api_filters_and_clusters(api_client, user):
    api_client.force_authenticate(user)
    for name in ("A One", "B Two", "C Three"):
        _trade("AAPL", name)
    _trade("MSFT", "Seller", code="S")
    data = api_client.get("/api/insider-trades/?buys_only=true").json()
    assert {t["filing"]["insider_name"] for t in data["results"]} == {"A One", "B Two", "C Three"}
    first = data["results"][0]
    assert (
        first["code_meaning"] == "Open-market or private purchase" and first["value"] == "1000.00"
    )
    assert api_client.get("/api/insider-trades/?code=S").json()["count"] == 1
    clusters = api_client.get("/api/insider-trades/clusters/").json()
    assert [c["symbol"] for c in clusters] == ["AAPL"] and len(clusters[0]["insiders"]) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("code=Q", "code"),
        ("buys_only=x", "buys_only"),
        ("min_value=-1", "min_value"),
        ("ticker=%00", "ticker"),
        ("since=", "since"),
        ("page=0", "page"),
        ("role=", "role"),
    ],
)
def test_api_rejects_bad_filters(api_client, user, query, field):
    api_client.force_authenticate(user)
    response = api_client.get("/api/insider-trades/?" + query)
    assert response.status_code == 400 and field in response.json()


def test_api_needs_login(api_client):
    assert api_client.get("/api/insider-trades/").status_code in (401, 403)
