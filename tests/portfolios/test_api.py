"""API: querysets always filtered by the requesting user (404 on others' objects, never in
lists), writes through the services (errors name the field), figures from the ledger."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal as D

import pytest
import time_machine

from portfolios.models import (
    Notification,
    Portfolio,
    PriceAlert,
    Transaction,
    Watchlist,
    WatchlistItem,
)
from tests.portfolios.factories import (
    PriceAlertFactory,
    WatchlistFactory,
    WatchlistItemFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2024, 2, 13, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def api(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_api_requires_authentication(api_client):
    for url in ["/api/portfolios/", "/api/transactions/", "/api/watchlists/", "/api/alerts/"]:
        assert api_client.get(url).status_code == 401


def test_other_users_objects_are_404_and_absent_from_lists(
    api_client, portfolio, other_user, market
):
    owner = portfolio.owner
    row = portfolio.transactions.first()
    watchlist = WatchlistFactory(owner=owner)
    item = WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"])
    alert = PriceAlertFactory(owner=owner, ticker=market["AAPL"])
    Notification.objects.create(user=owner, text="secret")
    api_client.force_authenticate(other_user)
    for url in [
        f"/api/portfolios/{portfolio.pk}/",
        f"/api/portfolios/{portfolio.pk}/holdings/",
        f"/api/portfolios/{portfolio.pk}/performance/",
        f"/api/transactions/{row.pk}/",
        f"/api/watchlists/{watchlist.pk}/",
        f"/api/watchlist-items/{item.pk}/",
        f"/api/alerts/{alert.pk}/",
    ]:
        assert api_client.get(url).status_code == 404, url
        assert api_client.delete(url).status_code in (404, 405), url
    assert api_client.patch(f"/api/transactions/{row.pk}/", {"quantity": "1"}).status_code == 404
    assert api_client.post(f"/api/alerts/{alert.pk}/rearm/").status_code == 404
    for url in [
        "/api/portfolios/",
        "/api/transactions/",
        "/api/watchlists/",
        "/api/watchlist-items/",
        "/api/alerts/",
        "/api/notifications/",
    ]:
        assert api_client.get(url).json()["count"] == 0, url
    assert api_client.get(f"/api/transactions/?portfolio={portfolio.pk}").json()["count"] == 0
    # writing into another user's portfolio or watchlist: the field says it does not exist
    response = api_client.post(
        "/api/transactions/",
        {"portfolio": portfolio.pk, "type": "deposit", "trade_date": "2024-01-02", "amount": "5"},
    )
    assert response.status_code == 400 and "portfolio" in response.json()
    response = api_client.post(
        "/api/watchlist-items/", {"watchlist": watchlist.pk, "symbol": "XOM"}
    )
    assert response.status_code == 400 and "watchlist" in response.json()
    assert Transaction.objects.count() == 5 and WatchlistItem.objects.count() == 1
    assert (
        Portfolio.objects.filter(pk=portfolio.pk).exists()
        and PriceAlert.objects.filter(pk=alert.pk).exists()
    )


def test_portfolio_crud(api, user, market):
    response = api.post("/api/portfolios/", {"name": "API"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["benchmark"] == "SPY" and body["track_cash"] is False
    pk = body["id"]
    response = api.post("/api/portfolios/", {"name": "API"}, format="json")
    assert response.status_code == 409  # a unique conflict, naming the field
    assert response.json() == {"name": ["You already have a portfolio named 'API'."]}
    response = api.patch(
        f"/api/portfolios/{pk}/", {"benchmark": None, "name": "Renamed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["benchmark"] is None
    response = api.post("/api/portfolios/", {"name": "X", "benchmark": "NOPE"}, format="json")
    assert response.status_code == 400 and "benchmark" in response.json()
    assert api.delete(f"/api/portfolios/{pk}/").status_code == 204
    assert not Portfolio.objects.filter(owner=user).exists()


def test_transactions_are_validated_by_the_ledger(api, portfolio):
    url = "/api/transactions/"
    base = {
        "portfolio": portfolio.pk,
        "type": "sell",
        "symbol": "AAPL",
        "trade_date": "2024-02-01",
        "price": "130",
    }
    response = api.post(url, {**base, "quantity": "6"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"quantity": ["Sell of 6 AAPL on 2024-02-01 exceeds the 5 held"]}
    response = api.post(url, {**base, "quantity": "5", "trade_date": "2024-02-14"}, format="json")
    assert response.json() == {"trade_date": ["2024-02-14 is in the future; enter a past trade."]}
    response = api.post(url, {**base, "quantity": "5", "symbol": "ZZZ"}, format="json")
    assert response.json() == {"symbol": ["Unknown ticker 'ZZZ': pick a symbol from the list."]}
    response = api.post(url, {**base, "quantity": "5", "notes": "<b>done</b>"}, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["symbol"] == "AAPL" and created["notes"] == "done"
    assert api.get(f"{url}?portfolio={portfolio.pk}&type=sell").json()["count"] == 2
    buy = portfolio.transactions.get(type="buy", ticker__symbol="AAPL")
    response = api.patch(f"{url}{buy.pk}/", {"quantity": "9"}, format="json")
    assert response.status_code == 400
    assert "would break the history" in response.json()["non_field_errors"][0]
    response = api.patch(f"{url}{buy.pk}/", {"price": "99"}, format="json")
    assert response.status_code == 200 and D(response.json()["price"]) == 99
    assert api.delete(f"{url}{buy.pk}/").status_code == 400
    assert Transaction.objects.filter(pk=buy.pk).exists()


def test_holdings_and_performance(api, portfolio):
    body = api.get(f"/api/portfolios/{portfolio.pk}/holdings/").json()
    assert D(body["totals"]["total_value"]) == 1355
    assert D(body["totals"]["realized"]) == D("98.5")
    aapl = next(h for h in body["holdings"] if h["symbol"] == "AAPL")
    assert D(aapl["average_cost"]) == D("100.1") and aapl["price_source"] == "quote"
    assert body["realized_by_year"] == {"2024": "98.5000"}
    perf = api.get(f"/api/portfolios/{portfolio.pk}/performance/").json()
    assert perf["as_of"] == "2024-02-12" and perf["benchmark"] == "SPY"
    assert [r["period"] for r in perf["returns"]] == ["1M", "3M", "YTD", "1Y", "Max"]
    assert perf["returns"][-1]["benchmark_twr"] == pytest.approx(0.145)
    assert perf["max_drawdown"]["depth"] > 0
    assert perf["allocation_by_sector"] == pytest.approx(
        {"Energy": 700 / 1355, "Technology": 655 / 1355}
    )
    assert perf["series"][-1] == {"time": "2024-02-12", "value": 1355.0}


def test_watchlists_items_and_alerts(api, user, market):
    response = api.post("/api/watchlists/", {"name": "Tech"}, format="json")
    assert response.status_code == 201 and response.json()["item_count"] == 0
    wid = response.json()["id"]
    response = api.post("/api/watchlists/", {"name": "Tech"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"name": ["You already have a watchlist named 'Tech'."]}
    response = api.post(
        "/api/watchlist-items/",
        {"watchlist": wid, "symbol": "aapl", "target_above": "140"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["symbol"] == "AAPL" and D(item["quote"]["price"]) == 131
    response = api.post(
        "/api/watchlist-items/", {"watchlist": wid, "symbol": "AAPL"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"symbol": ["AAPL is already on Tech."]}
    response = api.patch(
        f"/api/watchlist-items/{item['id']}/", {"note": "<i>core</i>"}, format="json"
    )
    assert response.json()["note"] == "core" and D(response.json()["target_above"]) == 140
    assert api.get(f"/api/watchlist-items/?watchlist={wid}").json()["count"] == 1
    response = api.post(
        "/api/alerts/", {"symbol": "AAPL", "direction": "up", "threshold": "1"}, format="json"
    )
    assert response.status_code == 400 and "direction" in response.json()
    response = api.post(
        "/api/alerts/", {"symbol": "AAPL", "direction": "above", "threshold": "130"}, format="json"
    )
    assert response.status_code == 201 and response.json()["armed"] is True
    alert = PriceAlert.objects.get(owner=user)
    PriceAlert.objects.filter(pk=alert.pk).update(armed=False)
    response = api.post(f"/api/alerts/{alert.pk}/rearm/")
    assert response.status_code == 200 and response.json()["armed"] is True
    assert api.delete(f"/api/watchlists/{wid}/").status_code == 204
    assert not Watchlist.objects.exists()


def test_notifications_api(api, user, other_user):
    mine = Notification.objects.create(user=user, text="one")
    Notification.objects.create(user=user, text="two")
    theirs = Notification.objects.create(user=other_user, text="theirs")
    assert api.get("/api/notifications/?read=false").json()["count"] == 2
    assert api.post(f"/api/notifications/{theirs.pk}/read/").status_code == 404
    assert api.post(f"/api/notifications/{mine.pk}/read/").status_code == 204
    assert api.get("/api/notifications/?read=false").json()["count"] == 1
    assert api.post("/api/notifications/read-all/").status_code == 204
    assert not Notification.objects.filter(user=user, read=False).exists()
    assert Notification.objects.filter(pk=theirs.pk, read=False).exists()


def test_openapi_schema_has_no_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--fail-on-warn", "--file", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
