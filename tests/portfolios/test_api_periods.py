"""Performance for a chosen window, realized gains, and strict parameters in the API.

Market (tests/portfolios/conftest.py): weekday closes from 2024-01-02, AAPL 100 + i,
SPY 400 + 2i, so 2024-01-10 is day 6 (AAPL 106, SPY 412) and 2024-01-19 day 13 (113, 426).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
import time_machine

from portfolios.models import Notification, Transaction
from tests.portfolios.factories import (
    PortfolioFactory,
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


@pytest.fixture
def aapl_only(user, market):
    """10 AAPL bought at the 2024-01-02 close of 100, benchmark SPY."""
    portfolio = PortfolioFactory(owner=user, name="Apple", benchmark=market["SPY"])
    Transaction.objects.create(
        portfolio=portfolio,
        type="buy",
        ticker=market["AAPL"],
        trade_date=dt.date(2024, 1, 2),
        quantity=D(10),
        price=D(100),
    )
    return portfolio


def test_performance_window_reports_exactly_that_window(api, aapl_only):
    url = f"/api/portfolios/{aapl_only.pk}/performance/"
    body = api.get(url, {"start": "2024-01-10", "end": "2024-01-19"}).json()
    assert body["as_of"] == "2024-01-19"
    assert (body["start"], body["end"]) == ("2024-01-10", "2024-01-19")
    window = body["window"]
    assert window["twr"] == pytest.approx(113 / 106 - 1)
    assert window["benchmark_twr"] == pytest.approx(426 / 412 - 1)
    # money-weighted: -1060 on 01-10, +1130 on 01-19 (9 days), no flow in between
    assert window["days"] == 9
    assert window["annualised"] is False
    assert window["mwr"] == pytest.approx(1130 / 1060 - 1)
    assert window["xirr"] == pytest.approx((1130 / 1060) ** (365 / 9) - 1)
    assert body["series"][0]["time"] == "2024-01-10"
    assert body["series"][-1] == {"time": "2024-01-19", "value": 1130.0}
    assert len(body["series"]) == len(body["benchmark_series"]) == 8
    assert body["max_drawdown"]["depth"] == 0
    # the standard periods are measured to the window's end: 1M starts before inception
    one_month = next(r for r in body["returns"] if r["period"] == "1M")
    assert one_month["end"] == "2024-01-19"
    assert one_month["twr"] == pytest.approx(0.13)


def test_performance_window_dates_fall_back_to_the_last_trading_day(api, aapl_only):
    url = f"/api/portfolios/{aapl_only.pk}/performance/"
    body = api.get(url, {"start": "2024-01-13", "end": "2024-01-21"}).json()  # Sat, Sun
    assert body["as_of"] == "2024-01-19"
    assert body["series"][0]["time"] == "2024-01-12"
    assert body["window"]["twr"] == pytest.approx(113 / 108 - 1)


def test_performance_defaults_to_inception_and_the_last_close(api, aapl_only):
    body = api.get(f"/api/portfolios/{aapl_only.pk}/performance/").json()
    assert body["as_of"] == "2024-02-12"
    assert body["start"] is None and body["end"] is None
    assert body["window"]["twr"] == pytest.approx(129 / 100 - 1)
    assert body["series"][0]["time"] == "2024-01-02"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": ""}, "start"),
        ({"end": "2024-01-10\x00"}, "end"),
        ({"end": "2024-02-30"}, "end"),
        ({"start": "2024-01-19", "end": "2024-01-10"}, "start"),
    ],
)
def test_performance_rejects_bad_dates_naming_the_field(api, aapl_only, params, field):
    response = api.get(f"/api/portfolios/{aapl_only.pk}/performance/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_performance_window_before_any_close_says_so(api, aapl_only):
    body = api.get(f"/api/portfolios/{aapl_only.pk}/performance/", {"end": "2023-12-01"}).json()
    assert body["series"] == [] and body["window"] is None
    assert "end date" in body["note"] or "window" in body["note"]


def test_realized_api_totals_per_year_and_term_with_lot_rows(api, portfolio):
    body = api.get(f"/api/portfolios/{portfolio.pk}/realized/").json()
    # lot: 10 AAPL @ 100 + 1 fee = 1001, half is 500.5; sell 5 @ 120 - 1 fee: 599 - 500.5
    assert body["totals"] == {
        "proceeds": "599.0000",
        "cost": "500.5000",
        "gain": "98.5000",
        "short_term": "98.5000",
        "long_term": "0.0000",
    }
    assert "365 days" in body["term_rule"]
    (year,) = body["years"]
    assert year["year"] == 2024 and year["gain"] == "98.5000"
    assert year["rows"] == [
        {
            "symbol": "AAPL",
            "acquired": "2024-01-02",
            "sold": "2024-01-22",
            "holding_days": 20,
            "quantity": "5.00000000",
            "proceeds": "599.0000",
            "cost": "500.5000",
            "gain": "98.5000",
            "term": "short",
        }
    ]


def test_realized_api_is_404_for_another_users_portfolio(api_client, portfolio, other_user):
    api_client.force_authenticate(other_user)
    assert api_client.get(f"/api/portfolios/{portfolio.pk}/realized/").status_code == 404


def test_realized_api_without_sales_is_empty(api, aapl_only):
    body = api.get(f"/api/portfolios/{aapl_only.pk}/realized/").json()
    assert body["years"] == [] and body["totals"]["gain"] == "0.0000"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/alerts/?armed=x", "armed"),
        ("/api/alerts/?armed=-1", "armed"),
        ("/api/alerts/?armed=", "armed"),
        ("/api/notifications/?read=maybe", "read"),
        ("/api/portfolios/?page=", "page"),
        ("/api/transactions/?page=two", "page"),
        ("/api/watchlists/?page=0", "page"),
        ("/api/transactions/?date_from=", "date_from"),
        ("/api/transactions/?date_to=2024-13-01", "date_to"),
        ("/api/portfolios/?search=a%00b", "search"),
        ("/api/watchlist-items/?watchlist=", "watchlist"),
        ("/api/transactions/?portfolio=1.5", "portfolio"),
        ("/api/transactions/?symbol=AA%01PL", "symbol"),
    ],
)
def test_junk_parameters_are_400_naming_the_parameter(api, portfolio, url, field):
    response = api.get(url)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_good_boolean_filters_still_filter(api, user, market):
    PriceAlertFactory(owner=user, ticker=market["AAPL"], armed=True)
    PriceAlertFactory(owner=user, ticker=market["XOM"], armed=False)
    Notification.objects.create(user=user, text="old", read=True)
    assert api.get("/api/alerts/?armed=true").json()["count"] == 1
    assert api.get("/api/alerts/?armed=0").json()["count"] == 1
    assert api.get("/api/alerts/").json()["count"] == 2
    assert api.get("/api/notifications/?read=false").json()["count"] == 0
    assert api.get("/api/portfolios/?page=1").status_code == 200


def test_blank_benchmark_is_400_and_null_means_none(api, market):
    response = api.post("/api/portfolios/", {"name": "A", "benchmark": ""}, format="json")
    assert response.status_code == 400 and "benchmark" in response.json()
    response = api.post("/api/portfolios/", {"name": "A", "benchmark": None}, format="json")
    assert response.status_code == 201 and response.json()["benchmark"] is None


def test_empty_patch_is_400_naming_the_fields(api, portfolio):
    response = api.patch(f"/api/portfolios/{portfolio.pk}/", {}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["non_field_errors"][0]
    row = portfolio.transactions.first()
    assert api.patch(f"/api/transactions/{row.pk}/", {}, format="json").status_code == 400


def test_watchlist_quote_decimals_are_strings(api, user, market):
    watchlist = WatchlistFactory(owner=user)
    WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"])
    (item,) = api.get(f"/api/watchlist-items/?watchlist={watchlist.pk}").json()["results"]
    assert item["quote"]["price"] == "131.000000"
    assert isinstance(item["quote"]["day_change_pct"], str)


def test_alerts_and_notifications_have_no_patch(api, user, market):
    alert = PriceAlertFactory(owner=user, ticker=market["AAPL"])
    note = Notification.objects.create(user=user, text="x")
    assert api.patch(f"/api/alerts/{alert.pk}/", {}, format="json").status_code == 405
    # notifications have no detail route at all (list, read, read-all)
    assert api.patch(f"/api/notifications/{note.pk}/", {}, format="json").status_code == 404


def test_page_past_the_end_is_a_documented_404(api, portfolio):
    assert api.get("/api/portfolios/?page=99").status_code == 404
    schema = api.get("/api/schema/?format=json").json()
    listing = schema["paths"]["/api/portfolios/"]["get"]
    assert {"400", "404"} <= set(listing["responses"])
    page = next(p for p in listing["parameters"] if p["name"] == "page")
    assert page["schema"]["minimum"] == 1
    assert "patch" not in schema["paths"]["/api/alerts/{id}/"]


def test_text_must_be_text_and_a_blank_form_benchmark_is_refused(api, user, market):
    watchlist = WatchlistFactory(owner=user)
    item = WatchlistItemFactory(watchlist=watchlist, ticker=market["AAPL"])
    response = api.patch(f"/api/watchlist-items/{item.pk}/", {"note": 0}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    response = api.post("/api/portfolios/", {"name": 5}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api.post("/api/portfolios/", {"name": "Form", "benchmark": ""}, format="multipart")
    assert response.status_code == 400 and "benchmark" in response.json()


def test_length_is_checked_on_what_was_sent(api, user):
    watchlist = WatchlistFactory(owner=user)
    name = "    " + "x" * 100  # 104 characters: over the 100 the schema allows
    response = api.patch(f"/api/watchlists/{watchlist.pk}/", {"name": name}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api.patch(f"/api/watchlists/{watchlist.pk}/", {"name": "  Tech  "}, format="json")
    assert response.json()["name"] == "Tech"  # the service strips what it stores
